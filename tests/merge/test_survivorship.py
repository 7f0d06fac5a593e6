"""Golden records: each rule picks the value the rule names."""

import duckdb
import pandas as pd

from digiops.merge.survivorship import golden_records, golden_sql


def _records():
    return pd.DataFrame({
        "customer_id": ["C1", "C1", "C1", "C2"],
        "source": ["pos", "crm", "mini", "pos"],
        "record_id": ["p1", "c1", "m1", "p2"],
        "full_name": ["Zhang Wei", "张伟", None, "Li Na"],
        "phone": ["+8613800138001", "+8613800138002", "+8613800138001", None],
        "email": [None, "zw@example.com", None, None],
        "member_level": ["银卡", "金卡", "钻石", None],
        "_when": pd.to_datetime(["2026-03-01", "2025-01-01", "2025-06-01", "2026-01-01"]),
        "registered_at": pd.to_datetime(["2024-02-01", "2023-01-01", "2024-01-01", None]),
    })


def test_source_priority_and_hanzi_name():
    golden = golden_records(_records(), ["crm", "mini", "pos"], {}).set_index("customer_id")
    assert golden.loc["C1", "full_name"] == "张伟"  # Hanzi wins over a pinyin spelling
    assert golden.loc["C1", "phone"] == "+8613800138002"
    assert golden.loc["C1", "member_level"] == "金卡"
    assert golden.loc["C1", "sources"] == "crm,mini,pos"
    assert golden.loc["C1", "n_records"] == 3
    assert golden.loc["C1", "registered_at"] == pd.Timestamp("2023-01-01")
    assert golden.loc["C2", "full_name"] == "Li Na"


def test_most_recent_most_frequent_most_complete():
    rules = {"phone": "most_frequent", "member_level": "most_recent", "email": "most_complete"}
    golden = golden_records(_records(), ["crm", "mini", "pos"], rules).set_index("customer_id")
    assert golden.loc["C1", "phone"] == "+8613800138001"
    assert golden.loc["C1", "member_level"] == "银卡"
    assert golden.loc["C1", "email"] == "zw@example.com"


def test_hanzi_name_beats_more_trusted_and_more_frequent_pinyin():
    records = pd.DataFrame({"customer_id": ["C1"] * 3, "source": ["crm", "crm", "pos"], "record_id": ["c1", "c2", "p1"],
                            "full_name": ["Zhang Wei", "Zhang Wei", "张伟"],
                            "_when": pd.to_datetime(["2026-01-01", "2026-01-02", "2020-01-01"])})

    for rule in ("source_priority", "most_recent", "most_frequent"):
        golden = golden_records(records, ["crm", "pos"], {"full_name": rule})

        assert golden["full_name"].tolist() == ["张伟"], rule


def test_address_parts_come_from_one_record_and_most_complete_counts_fields():
    records = pd.DataFrame({"customer_id": ["C1"] * 3, "source": ["crm", "pos", "mini"],
                            "record_id": ["c1", "p1", "m1"], "province": ["江苏省", "浙江省", "上海市"],
                            "city": ["南京市", None, "上海市"],
                            "phone": [None, "+8613800138001", "+8613800138002"],
                            "email": ["crm@example.com", "pos@example.com", "mini@example.com"],
                            "_when": pd.to_datetime(["2025-01-01", "2026-01-01", "2024-01-01"])})
    rules = {"address": "most_recent", "email": "most_complete"}

    golden = golden_records(records, ["crm", "pos", "mini"], rules).iloc[0]

    assert golden["province"] == "浙江省"  # the newest record's address ...
    assert pd.isna(golden["city"])  # ... with its empty city, not one filled in from another record
    assert golden["email"] == "mini@example.com"  # the only record with no empty field, though least trusted


def test_ties_fall_back_to_recency_then_record_id_and_unlisted_sources_sort_by_name():
    records = pd.DataFrame({"customer_id": ["C1"] * 4, "source": ["zeta", "alpha", "alpha", "crm"],
                            "record_id": ["z1", "a2", "a1", "c1"], "phone": ["1", "2", "3", None],
                            "_when": pd.to_datetime(["2025-01-01", "2025-06-01", "2025-06-01", None])})

    golden = golden_records(records, ["crm"], {"phone": "source_priority"}).iloc[0]

    assert golden["phone"] == "3"  # unlisted sources rank alike; newest first, then record id a1 before a2
    assert golden["sources"] == "crm,alpha,zeta"
    assert golden["n_records"] == 4


def test_golden_sql_on_a_duckdb_table_matches_golden_records():
    records = _records()
    rules = {"phone": "most_frequent", "member_level": "most_recent"}
    con = duckdb.connect()
    con.register("frame", records)
    con.execute("CREATE TABLE people AS SELECT * FROM frame")

    from_sql = golden_sql(con, "people", ["crm", "mini", "pos"], rules).df()

    pd.testing.assert_frame_equal(from_sql.astype(str), golden_records(records, ["crm", "mini", "pos"], rules)
                                  .sort_values("customer_id").reset_index(drop=True).astype(str))


def test_a_municipality_named_alone_is_its_own_city():
    """A city column holding only 北京市 / 上海 (stores, leads) keeps the city: cpca files these under province and
    leaves the city empty, which once made 40 % of the demo's store cities 'missing'."""
    from digiops.merge.clean import _address_parts

    frame = pd.DataFrame({"city": ["北京市", "上海", "广州市", "天津市和平区", None]})

    parts = _address_parts(frame)

    assert parts["city"].tolist()[:4] == ["北京市", "上海市", "广州市", "天津市"] and pd.isna(parts["city"][4])
    assert parts["province"].tolist()[:3] == ["北京市", "上海市", "广东省"]
