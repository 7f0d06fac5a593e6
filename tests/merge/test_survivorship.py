"""Golden records: each rule picks the value the rule names."""

import pandas as pd

from digiops.merge.survivorship import golden_records


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
