"""The stage on small engagements: resolution, bad input, an English person file, key-only orders, reviews."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from conftest import person_sources, write_engagement
from digiops.errors import SourceError
from tests.merge.accuracy import accuracy
from digiops.merge.identity import ADDRESS_COLUMNS, agreement_u
from digiops.merge.pipeline import WORKSPACE_PREFIX, remove_orphaned_workspaces, run_merge


def test_chinese_people_resolve_exactly(people_engagement):
    engagement, truth = people_engagement
    result = run_merge(engagement)
    scores = accuracy(result.crosswalk, truth)
    assert scores["records"] == len(truth)
    assert scores["pairwise_f1"] == 1.0 and scores["b3_f1"] == 1.0
    assert result.accounting["balanced"].all()
    assert set(result.data_quality["phase"]) == {"before", "after"}


def _orders(rows):
    return pd.DataFrame(rows, columns=["order_id", "order_time", "amount", "member"])


def test_bad_rows_are_quarantined_with_source_row_and_field(tmp_path):
    orders = _orders([["O1", "2026-01-02 10:00", "¥1,299.00", "K1"], ["O1", "2026-01-03", "5", "K1"],
                      ["O2", "2031-01-01", "5", "K2"], ["O3", "not a date", "5", "K2"], ["O4", "2026-01-01", "abc", ""],
                      ["", "2026-01-01", "5", "K3"]])
    engagement = write_engagement(tmp_path, {"orders": (orders, {
        "kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time", "amount": "amount", "member": "customer_key"}})})
    result = run_merge(engagement)
    quarantine = result.quarantine.set_index("row")
    assert quarantine.loc[3, "field"] == "record_id" and "duplicate id (first on row 2)" == quarantine.loc[3, "reason"]
    assert quarantine.loc[4, "field"] == "order_time" and "future" in quarantine.loc[4, "reason"]
    assert quarantine.loc[5, "field"] == "order_time" and "unreadable order time" in quarantine.loc[5, "reason"]
    assert quarantine.loc[6, "field"] == "amount"
    assert quarantine.loc[7, "reason"] == "missing id"
    assert set(quarantine["source"]) == {"orders"}
    assert result.accounting.loc[0, ["rows_in", "rows_used", "rows_quarantined"]].tolist() == [6, 1, 5]
    assert str(result.orders.loc[0, "amount"]) == "1299.00"


def test_orders_with_only_a_customer_key_and_no_person_source(tmp_path):
    orders = _orders([["O1", "2026-01-02", "10", "K1"], ["O2", "2026-01-03", "-10", "K1"], ["O3", "2026-01-04", "7", ""]])
    engagement = write_engagement(tmp_path, {"receipts": (orders, {
        "kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time", "amount": "amount", "member": "customer_key"}})})
    result = run_merge(engagement)
    assert result.orders["customer_id"].tolist()[:2] == ["K1", "K1"]
    assert pd.isna(result.orders["customer_id"].iloc[2])
    assert result.orders["is_refund"].tolist() == [False, True, False]
    assert result.orders["channel"].tolist() == ["online"] * 3
    assert result.customers["customer_id"].tolist() == ["K1"]
    assert result.crosswalk["record_id"].tolist() == ["O1", "O2"]


@pytest.mark.parametrize("merge", [None, {"min_profiles_for_model": 2}], ids=["exact rules", "model"])
def test_english_person_file_resolves_with_only_a_column_mapping(tmp_path, merge):
    people = [("Olivia", "Smith", "1990-04-12", "12", "Rose Street", "Fitzroy", "3065", "VIC", "123-45-6789"),
              ("Liam", "Nguyen", "1985-11-02", "7", "King Road", "Newtown", "2042", "NSW", "987-65-4321"),
              ("Ava", "Brown", "1978-01-30", "301", "George St", "Sydney", "2000", "NSW", "555-12-3456"),
              ("Noah", "Wilson", "2001-07-19", "5", "Beach Road", "Bondi", "2026", "NSW", "222-33-4444"),
              ("Mia", "Taylor", "1995-03-08", "88", "High Street", "Kew", "3101", "VIC", "111-22-3333"),
              ("Jack", "Smith", "1962-09-15", "12", "Rose Street", "Fitzroy", "3065", "VIC", "777-88-9999")]
    columns = ["given", "surname", "dob", "street_no", "street", "suburb", "postcode", "state", "ssn"]
    first = pd.DataFrame(people, columns=columns).assign(id=[f"A{i}" for i in range(6)])
    second = first.copy().assign(id=[f"B{i}" for i in range(6)])
    second["given"] = ["olivia", "Liam ", "AVA", "Noah", "Mia", "Jack"]
    second["ssn"] = second["ssn"].str.replace("-", " ")
    second["dob"] = ["12/04/1990", "1985-11-02", "1978-01-30", "2001-07-19", "1995-03-08", "1962-09-15"]
    second = second.iloc[:5]  # Jack Smith (same street as Olivia) is only in the first file
    mapping = {"given": "given_name", "surname": "family_name", "dob": "birth_date", "street_no": "street_number",
               "street": "street", "suburb": "district", "postcode": "postcode", "state": "province",
               "ssn": "national_id"}
    spec = {"kind": "customers", "id_column": "id", "columns": mapping}
    engagement = write_engagement(tmp_path, {"registry": (first, spec), "loyalty": (second, spec)}, merge=merge)
    result = run_merge(engagement)
    assert result.model.method == ("deterministic" if merge is None else "splink")  # 11 profiles
    truth = pd.DataFrame({"source": ["registry"] * 6 + ["loyalty"] * 5,
                          "record_id": [f"A{i}" for i in range(6)] + [f"B{i}" for i in range(5)],
                          "person_id": [f"P{i}" for i in range(6)] + [f"P{i}" for i in range(5)]})
    scores = accuracy(result.crosswalk, truth)
    assert scores["pairwise_f1"] == 1.0 and scores["b3_f1"] == 1.0
    assert len(result.customers) == 6
    assert result.customers["full_name"].str.contains("Smith").sum() == 2


def test_missing_mapped_column_names_source_and_field(tmp_path):
    orders = _orders([["O1", "2026-01-02", "10", "K1"]])
    engagement = write_engagement(tmp_path, {"orders": (orders, {
        "kind": "orders", "id_column": "order_id", "columns": {"下单时间": "order_time", "amount": "amount"}})})
    with pytest.raises(SourceError) as error:
        run_merge(engagement)
    assert "raw/orders.csv" in str(error.value) and "sources.orders.columns.下单时间" in str(error.value)


def test_zero_rows_is_an_error(tmp_path):
    engagement = write_engagement(tmp_path, {"orders": (_orders([]), {
        "kind": "orders", "id_column": "order_id", "columns": {"order_time": "order_time", "amount": "amount"}})})
    with pytest.raises(SourceError, match="no data rows"):
        run_merge(engagement)


def test_unreadable_encoding_names_the_row(tmp_path):
    data = "order_id,order_time,amount\nO1,2026-01-02,10\n".encode() + b"O2,\xff\xfe\xfa,10\n"
    engagement = write_engagement(tmp_path, {"orders": (None, {
        "_bytes": data, "kind": "orders", "id_column": "order_id", "encoding": "utf-8",
        "columns": {"order_time": "order_time", "amount": "amount"}})})
    with pytest.raises(SourceError) as error:
        run_merge(engagement)
    assert error.value.field == "encoding" and error.value.row == 3


def test_wrong_format_is_an_error(tmp_path):
    engagement = write_engagement(tmp_path, {"orders": (None, {
        "_bytes": b"PK\x03\x04 not really a csv", "kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time"}})})
    with pytest.raises(SourceError) as error:
        run_merge(engagement)
    assert error.value.field == "format"


def test_review_decisions_are_honoured(tmp_path):
    sources, truth = person_sources(60, seed=3)
    engagement = write_engagement(tmp_path, sources)
    first = run_merge(engagement)
    ids = first.crosswalk.set_index(first.crosswalk["source"] + ":" + first.crosswalk["record_id"])["customer_id"]
    together = first.crosswalk.groupby("customer_id").filter(lambda g: len(g) == 2).head(2)
    pair = (together["source"] + ":" + together["record_id"]).tolist()
    apart = [ids.index[0], ids.index[-1]]
    assert ids[apart[0]] != ids[apart[1]]
    reviewed = pd.DataFrame({"unique_id_l": [pair[0], apart[0]], "unique_id_r": [pair[1], apart[1]],
                             "decision": ["not-match", "match"]})
    reviewed.to_csv(tmp_path / "reviewed.csv", index=False)
    engagement = write_engagement(tmp_path, sources, merge={"review_file": "reviewed.csv"})
    second = run_merge(engagement)
    after = second.crosswalk.set_index(second.crosswalk["source"] + ":" + second.crosswalk["record_id"])["customer_id"]
    assert after[pair[0]] != after[pair[1]]
    assert after[apart[0]] == after[apart[1]]


def test_staff_test_orders_share_one_test_account_and_join_no_customer(tmp_path):
    crm = pd.DataFrame({"id": ["K1", "K2"], "name": ["张伟", "李娜"], "phone": ["13812345678", "13987654321"],
                        "address": ["北京市东城区南京路1号", "上海市黄浦区中山路2号"]})
    orders = pd.DataFrame({
        "order_id": ["W1", "W2", "W3", "W4", "W5"],
        "order_time": ["2026-01-02 10:00"] * 5, "amount": ["10", "20", "0.01", "1", "0.01"],
        "name": ["张伟", "李娜", "测试", "test", "张伟"], "phone": ["13812345678", "13987654321", "", "", ""],
        "address": ["北京市东城区南京路1号", "上海市黄浦区中山路2号", "北京市东城区南京路1号", "北京市东城区南京路1号",
                    "北京市东城区南京路1号"],
        "note": ["", "", "测试订单 勿发货", "", "测试订单 勿发货"]})
    engagement = write_engagement(tmp_path, {
        "crm": (crm, {"kind": "customers", "id_column": "id",
                      "columns": {"name": "full_name", "phone": "phone", "address": "address"}}),
        "mall": (orders, {"kind": "orders", "id_column": "order_id",
                          "columns": {"order_time": "order_time", "amount": "amount", "name": "full_name",
                                      "phone": "phone", "address": "address", "note": "note"}})})
    result = run_merge(engagement)
    customer = result.crosswalk.set_index(["source", "record_id"])["customer_id"]
    tests = {customer[("mall", o)] for o in ("W3", "W4", "W5")}
    assert len(tests) == 1
    assert tests.isdisjoint({customer[("crm", "K1")], customer[("crm", "K2")]})
    assert result.orders.set_index("order_id").loc[["mall:W3", "mall:W4", "mall:W5"], "is_test"].all()
    assert result.accounting["balanced"].all()


def test_agreement_u_counts_every_pair():
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('1号', 'd1', 'x'), ('1号', 'd1', NULL), "
                "('1号', 'd2', NULL), (NULL, NULL, NULL), (NULL, NULL, 'c')) v(street_key, district, city)")
    # 4 rows have an address feature: 12 ordered pairs, 2 of which (both ways) agree on street and district.
    assert agreement_u(con, "t", ("street_key", "district"), ADDRESS_COLUMNS) == 2 / 12


def test_rare_street_agreement_weighs_what_the_data_says_not_what_a_small_sample_saw(tmp_path):
    sources, truth = person_sources()
    engagement = write_engagement(tmp_path, sources, merge={"u_max_pairs": 300})
    result = run_merge(engagement)
    address = next(c for c in result.model.linker._settings_obj.comparisons if c.output_column_name == "address")
    street = next(lv for lv in address.comparison_levels if lv.label_for_charts.startswith("same street address in"))
    # 300 sampled pairs hardly ever see two records at one street address, and an unseen level gets Splink's
    # default u (9.3e-4): at a million people that cost the level 9 bits of weight and a third of the matches.
    # Counted over all pairs, u is the data's own, whatever the sample saw.
    assert street._fix_u_probability and street.u_probability not in (None, street.default_u_probability)
    assert 0 < street.u_probability < 0.01
    assert accuracy(result.crosswalk, truth)["pairwise_f1"] > 0.97


def test_work_folders_of_killed_runs_are_removed_and_live_ones_kept(tmp_path):
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    killed = tmp_path / f"{WORKSPACE_PREFIX}{finished.pid}-x1"
    live = tmp_path / f"{WORKSPACE_PREFIX}{os.getpid()}-x2"
    unnamed = tmp_path / f"{WORKSPACE_PREFIX}abc_12x3"
    for folder in (killed, live, unnamed):
        (folder / "sources").mkdir(parents=True)
        (folder / "sources" / "crm.clean.parquet").write_bytes(b"PAR1")

    assert remove_orphaned_workspaces(tmp_path) == [killed]
    assert not killed.exists() and live.exists() and unnamed.exists()


# --- a client too small for a model is linked by exact rules, and says so ---------------------------------------
def _three_people(tmp_path, merge: dict | None = None):
    crm = pd.DataFrame({"id": ["C1", "C2", "C3"], "name": ["张伟", "李娜", "王芳"],
                        "phone": ["13800138001", "13900139002", "13700137003"],
                        "birth": ["1990-01-02", "1985-05-06", "1970-07-08"],
                        "email": ["zw@example.com", "", "wf@example.com"]})
    orders = pd.DataFrame({
        "order_id": ["O1", "O2", "O3", "O4", "O5"], "order_time": ["2026-01-02 10:00"] * 5,
        "amount": ["10", "20", "30", "40", "50"],
        "name": ["张伟", "", "Wang Fang", "张丽", "李娜"],
        "phone": ["+86 138-0013-8001", "139 0013 9002", "", "13800138001", "13911112222"],
        "email": ["", "", "WF@example.com", "", ""]})
    members = pd.DataFrame({"card": ["W1"], "name": ["張偉"], "birth": ["1990/1/2"]})
    person = {"name": "full_name", "phone": "phone", "birth": "birth_date", "email": "email"}
    return write_engagement(tmp_path, {
        "crm": (crm, {"kind": "customers", "id_column": "id", "columns": person}),
        "mall": (orders, {"kind": "orders", "id_column": "order_id",
                          "columns": {"order_time": "order_time", "amount": "amount", "name": "full_name",
                                      "phone": "phone", "email": "email"}}),
        "members": (members, {"kind": "customers", "id_column": "card",
                              "columns": {"name": "full_name", "birth": "birth_date"}})}, merge=merge)


def test_a_three_person_client_is_linked_by_exact_rules_and_says_so(tmp_path):
    result = run_merge(_three_people(tmp_path))

    customer = result.crosswalk.set_index(["source", "record_id"])["customer_id"]
    assert customer[("mall", "O1")] == customer[("crm", "C1")]  # same phone, same name
    assert customer[("mall", "O2")] == customer[("crm", "C2")]  # same phone, no name to disagree
    assert customer[("mall", "O3")] == customer[("crm", "C3")]  # same e-mail, the pinyin of the same name
    assert customer[("members", "W1")] == customer[("crm", "C1")]  # same name (Traditional) and birth date
    assert customer[("mall", "O4")] != customer[("crm", "C1")]  # 张伟's phone, but another name: his family
    assert customer[("mall", "O5")] != customer[("crm", "C2")]  # a name alone links nobody
    assert result.crosswalk["customer_id"].nunique() == 5
    assert (result.model.method, result.model.n_profiles, result.model.linker) == ("deterministic", 9, None)
    assert result.counts()["deterministic_linking"] == 1 and result.counts()["profiles"] == 9
    assert result.accounting["balanced"].all() and len(result.quarantine) == 0
    assert result.review_pairs.empty  # exact rules leave nothing borderline


def test_a_one_person_client_runs(tmp_path):
    crm = pd.DataFrame({"id": ["C1"], "name": ["张伟"], "phone": ["13800138001"]})
    orders = _orders([["O1", "2026-01-02 10:00", "10", ""]]).assign(phone=["138 0013 8001"])
    engagement = write_engagement(tmp_path, {
        "crm": (crm, {"kind": "customers", "id_column": "id", "columns": {"name": "full_name", "phone": "phone"}}),
        "mall": (orders, {"kind": "orders", "id_column": "order_id",
                          "columns": {"order_time": "order_time", "amount": "amount", "phone": "phone"}})})
    result = run_merge(engagement)

    assert result.crosswalk["customer_id"].tolist() == ["C0000001", "C0000001"]
    assert result.counts()["deterministic_linking"] == 1 and result.counts()["customers"] == 1
    assert result.orders["customer_id"].tolist() == ["C0000001"]


def test_review_decisions_are_honoured_by_exact_rules_too(tmp_path):
    reviewed = pd.DataFrame({"unique_id_l": ["mall:O1", "mall:O4"], "unique_id_r": ["crm:C1", "crm:C1"],
                             "decision": ["not-match", "match"]})
    reviewed.to_csv(tmp_path / "reviewed.csv", index=False)
    result = run_merge(_three_people(tmp_path, merge={"review_file": "reviewed.csv"}))

    customer = result.crosswalk.set_index(["source", "record_id"])["customer_id"]
    assert customer[("mall", "O4")] == customer[("crm", "C1")]
    # a not-match is a cannot-link: O1 leaves C1 although W1 (same name and birth date as both) connects them
    assert customer[("mall", "O1")] != customer[("crm", "C1")]
    assert customer[("members", "W1")] == customer[("crm", "C1")]
    assert result.model.decisions["applied"].tolist() == ["cannot_link", "linked"]


def test_exact_rules_resolve_the_people_fixture_when_asked_to(tmp_path):
    sources, truth = person_sources(60, seed=3)
    result = run_merge(write_engagement(tmp_path, sources, merge={"min_profiles_for_model": 100000}))

    assert result.model.method == "deterministic" and result.counts()["deterministic_linking"] == 1
    scores = accuracy(result.crosswalk, truth)
    assert scores["pairwise_precision"] == 1.0 and scores["pairwise_recall"] > 0.9


def test_a_client_without_one_duplicate_still_trains(tmp_path):
    # No pair agrees on phone + name (or any other sure rule): Splink estimated its prior as 0 and failed with
    # "math domain error" in prediction; the default prior stands instead. No pair shares a phone and a birth date
    # either: the failed EM session must not leave the model without its phone and birth-date comparisons.
    sources, _ = person_sources(80, seed=11)
    result = run_merge(write_engagement(tmp_path, {"crm": sources["crm"]}))

    assert result.model.method == "splink" and result.counts()["deterministic_linking"] == 0
    settings = result.model.linker._settings_obj
    assert [c.output_column_name for c in settings.comparisons] == result.model.comparisons
    assert 0 < settings._probability_two_random_records_match < 0.01
    assert result.crosswalk["customer_id"].nunique() == len(result.crosswalk)  # nobody is anybody else
