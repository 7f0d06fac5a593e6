"""Clerical review: the review workbook, reading decisions back, and applying them (a not-match as a cannot-link)."""

from __future__ import annotations

import io as _io

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import person_sources, write_engagement

from digiops.context import StageContext
from digiops.errors import SourceError
from digiops.merge.clerical import (applied_summary, decided_table, header, mask_review, read_decisions,
                                    review_pairs, review_table, review_workbook)
from digiops.merge.identity import split_cannot_links
from digiops.merge.pipeline import run_merge, write_outputs
from digiops.settings.merge import MergeSettings

PAIRS = pd.DataFrame({"unique_id_l": ["crm:C1", "crm:C2", "crm:C4"], "unique_id_r": ["mall:O1", "mall:O2", "mall:O4"],
                      "match_probability": [0.93, 0.71, 0.99], "match_weight": [3.8, 1.3, 6.6]})
PROFILES = pd.DataFrame({
    "unique_id": ["crm:C1", "mall:O1", "crm:C2", "mall:O2", "crm:C4", "mall:O4"],
    "name_zh": ["张伟", "张伟", "=HYPERLINK(\"http://x\")", "李娜", "王芳", "王芳"],
    "name_py": ["zhangwei", "zhangwei", None, "lina", "wangfang", "wangfang"],
    "phone": ["+8613812345678", "+8613812345679", "+8613987654321", None, None, None],
    "birth_date": ["1990-01-02", "1990-01-02", None, None, None, None],
    "city": ["北京市", "北京市", "上海市", "上海市", None, None],
    "street_key": ["南京路1号", "南京路1号", None, None, None, None]})


def _review() -> pd.DataFrame:
    return review_pairs(PAIRS, PROFILES, lower=0.5, threshold=0.95, max_pairs=10)


def _workbook(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(_io.BytesIO(data))


def _decide(data: bytes, path, decisions: dict[int, str]) -> None:
    """Fill the decision column of the first sheet (data row number → value), as a reviewer does, and save."""
    book = _workbook(data)
    sheet = book.worksheets[0]
    column = [c.value for c in sheet[1]].index(header("decision", "zh" if sheet.title == "待复核" else "en")) + 1
    for row, value in decisions.items():
        sheet.cell(row=row + 1, column=column, value=value)
    book.save(path)


# --- the workbook -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("language, sheets, choices", [
    ("zh", ["待复核", "已复核", "说明"], '"是,否,不确定"'),
    ("en", ["to review", "decided", "instructions"], '"match,not-match,unsure"')])
def test_the_workbook_has_a_drop_down_a_frozen_header_and_instructions_in_the_report_language(language, sheets,
                                                                                              choices):
    book = _workbook(review_workbook(_review(), None, language=language))

    assert book.sheetnames == sheets
    pairs = book[sheets[0]]
    headers = [c.value for c in pairs[1]]
    assert headers[:3] == [header(c, language) for c in ("unique_id_l", "unique_id_r", "decision")]
    assert header("phone_l", language) in headers and header("phone_agrees", language) in headers
    assert pairs.freeze_panes == "C2"
    [drop_down] = pairs.data_validations.dataValidation
    assert drop_down.type == "list" and drop_down.formula1 == choices
    assert str(drop_down.sqref) == "C2:C3"  # the two undecided pairs in the band
    assert [pairs.cell(row=r, column=1).value for r in (2, 3)] == ["crm:C1", "crm:C2"]  # closest to threshold first
    assert book[sheets[1]].data_validations.dataValidation[0].formula1 == choices
    instructions = " ".join(str(c.value) for c in book[sheets[2]]["A"])
    assert ("merge.review_file" in instructions) and (("复核" in instructions) == (language == "zh"))


def test_names_and_phones_are_masked_unless_the_engagement_allows_full_values():
    review = _review()
    masked, full = (_workbook(review_workbook(review, None, language="en", full_values=f))["to review"]
                    for f in (False, True))

    def value(sheet, column):
        return sheet.cell(row=2, column=[c.value for c in sheet[1]].index(header(column, "en")) + 1).value

    assert (value(masked, "name_zh_l"), value(masked, "phone_l"), value(masked, "birth_date_l")) == \
        ("张**", "138****5678", "1990")
    assert (value(full, "name_zh_l"), value(full, "phone_l"), value(full, "birth_date_l")) == \
        ("张伟", "+8613812345678", "1990-01-02")
    assert value(masked, "city_l") == "北京市" and value(masked, "phone_agrees") == "differs"  # context stays whole
    assert MergeSettings().review_full_values is False
    assert mask_review(review).loc[0, "phone_r"] == "138****5679"
    shown = review_table(review, "zh")  # what a report shows
    assert (shown.loc[0, "手机 B"], shown.loc[0, "手机是否一致"]) == ("138****5679", "不同")


def test_a_cell_that_starts_like_a_formula_stays_text():
    sheet = _workbook(review_workbook(_review(), None, language="en", full_values=True))["to review"]
    column = [c.value for c in sheet[1]].index(header("name_zh_l", "en")) + 1

    cell = sheet.cell(row=3, column=column)
    assert (cell.value, cell.data_type, cell.quotePrefix) == ('=HYPERLINK("http://x")', "s", True)


# --- reading decisions --------------------------------------------------------------------------------------------
def test_decisions_are_read_in_both_languages_whatever_the_case(tmp_path):
    rows = {1: "是", 2: "不确定"}
    _decide(review_workbook(_review(), None, language="zh"), tmp_path / "zh.xlsx", rows)
    _decide(review_workbook(_review(), None, language="en"), tmp_path / "en.xlsx", {1: " NOT-Match ", 2: "Unsure"})
    pd.DataFrame({"unique_id_l": ["a:1", "a:2", "a:3"], "unique_id_r": ["b:1", "b:2", "b:3"],
                  "decision": ["否", "", "MATCH"]}).to_csv(tmp_path / "plain.csv", index=False)

    assert read_decisions(tmp_path / "zh.xlsx", "zh.xlsx").values.tolist() == [
        ["crm:C1", "mall:O1", "match"], ["crm:C2", "mall:O2", "unsure"]]
    assert read_decisions(tmp_path / "en.xlsx", "en.xlsx")["decision"].tolist() == ["not-match", "unsure"]
    assert read_decisions(tmp_path / "plain.csv", "plain.csv").values.tolist() == [
        ["a:1", "b:1", "not-match"], ["a:3", "b:3", "match"]]  # blank = not decided yet


def test_every_bad_row_is_reported_at_once(tmp_path):
    pd.DataFrame({"unique_id_l": ["a:1", "a:2", "a:3", "a:4", "a:5", "b:5"],
                  "unique_id_r": ["b:1", "b:2", "b:3", "", "b:5", "a:5"],
                  "decision": ["maybe", "是", "ja", "match", "match", "not-match"]}).to_csv(tmp_path / "r.csv",
                                                                                          index=False)
    with pytest.raises(SourceError) as error:
        read_decisions(tmp_path / "r.csv", "r.csv")

    message = str(error.value)
    assert message.startswith("r.csv: decision: 4 problems: ")
    assert "row 2: decision 'maybe'" in message and "row 4: decision 'ja'" in message
    assert "row 5: a decision without both record ids" in message
    assert "row 6 and row 7: the pair a:5 ↔ b:5 is decided differently (match / not-match)" in message
    assert "是 / 否 / 不确定" in error.value.fix


def test_one_bad_row_names_its_sheet_and_row(tmp_path):
    _decide(review_workbook(_review(), None, language="zh"), tmp_path / "r.xlsx", {2: "也许"})
    with pytest.raises(SourceError, match="row 3: decision '也许'"):
        read_decisions(tmp_path / "r.xlsx", "r.xlsx")


# --- applying decisions -------------------------------------------------------------------------------------------
def test_a_cannot_link_cuts_the_weakest_link_on_the_path_between_the_two():
    con = duckdb.connect()
    con.execute("CREATE TABLE clusters AS SELECT * FROM (VALUES (1, 1), (2, 1), (3, 1), (4, 1), (7, 7), (8, 7)) "
                "v(profile, cluster)")
    con.execute("CREATE TABLE edges AS SELECT * FROM (VALUES (1, 2, 0.99, false), (2, 3, 0.97, false), "
                "(3, 4, 0.98, false), (7, 8, 0.99, false)) v(unique_id_l, unique_id_r, p, certain)")

    assert split_cannot_links(con, pd.DataFrame({"unique_id_l": [1, 7], "unique_id_r": [3, 9]})) == 1
    assert dict(con.execute("SELECT profile, cluster FROM clusters").fetchall()) == {
        1: 1, 2: 1, 3: 3, 4: 3, 7: 7, 8: 7}  # 2–3 is the weakest link between 1 and 3; the other cluster is untouched


def _chain(tmp_path, merge: dict | None = None):
    """A–B share a phone, B–C an e-mail, A and C share nothing but the name: one customer by exact rules."""
    crm = pd.DataFrame({"id": ["A"], "name": ["张伟"], "phone": ["13800138001"], "email": [""]})
    shop = pd.DataFrame({"id": ["B"], "name": ["张伟"], "phone": ["13800138001"], "email": ["zw@example.com"]})
    app = pd.DataFrame({"id": ["C"], "name": ["张伟"], "phone": [""], "email": ["zw@example.com"]})
    person = {"name": "full_name", "phone": "phone", "email": "email"}
    return write_engagement(tmp_path, {n: (f, {"kind": "customers", "id_column": "id", "columns": person})
                                       for n, f in (("crm", crm), ("shop", shop), ("app", app))}, merge=merge)


def test_a_not_match_keeps_two_records_apart_even_when_other_records_connect_them(tmp_path):
    before = run_merge(_chain(tmp_path)).crosswalk.set_index("source")["customer_id"]
    pd.DataFrame({"unique_id_l": ["crm:A", "crm:A", "crm:X"], "unique_id_r": ["app:C", "shop:B", "app:C"],
                  "decision": ["not-match", "unsure", "match"]}).to_csv(tmp_path / "reviewed.csv", index=False)
    result = run_merge(_chain(tmp_path, merge={"review_file": "reviewed.csv"}))

    after = result.crosswalk.set_index("source")["customer_id"]
    assert before["crm"] == before["shop"] == before["app"]
    assert after["crm"] != after["app"]
    assert after["shop"] in (after["crm"], after["app"])  # B stays with one of them
    assert result.model.decisions.values.tolist() == [["crm:A", "app:C", "not-match", "cannot_link"],
                                                      ["crm:A", "shop:B", "unsure", "unsure"],
                                                      ["crm:X", "app:C", "match", "not_found"]]


def test_the_report_says_how_each_decision_was_applied():
    decisions = pd.DataFrame({"unique_id_l": ["a:1", "a:2", "a:3", "a:4"], "unique_id_r": ["b:1", "b:2", "b:3", "b:4"],
                              "decision": ["match", "not-match", "not-match", "match"],
                              "applied": ["linked", "cannot_link", "agreed", "not_found"]})

    assert applied_summary(decisions, "en").values.tolist() == [
        ["applied as link", 1], ["applied as cannot-link", 1], ["already agreed", 1], ["records not found", 1]]
    assert list(applied_summary(decisions, "zh").columns) == ["采纳方式", "对数"]
    table = decided_table(decisions, "zh")
    assert list(table.columns) == ["记录 A", "记录 B", "判定", "采纳方式"]
    assert table.iloc[1].tolist() == ["a:2", "b:2", "否", "按“否”分开（禁止连接）"]


def test_a_decided_pair_is_not_asked_again_and_every_decision_is_carried_forward(tmp_path):
    sources, _ = person_sources(60, seed=3)
    # a threshold out of reach puts the fixture's pairs in the review band
    band = {"match_threshold": 0.9999999, "review_lower": 0.01}
    engagement = write_engagement(tmp_path, sources, merge=band)
    first = run_merge(engagement)
    write_outputs(StageContext(engagement, "merge", tmp_path / "r1"), first)
    assert len(first.review_pairs) > 3 and engagement.language == "zh"
    written = (tmp_path / "r1" / "outputs" / "merge" / "review_pairs.xlsx").read_bytes()
    _decide(written, tmp_path / "reviewed.xlsx", {1: "是", 2: "否", 3: "不确定"})
    asked = first.review_pairs[["unique_id_l", "unique_id_r"]].head(3).values.tolist()

    engagement = write_engagement(tmp_path, sources, merge={**band, "review_file": "reviewed.xlsx",
                                                            "review_full_values": True})
    second = run_merge(engagement)
    write_outputs(StageContext(engagement, "merge", tmp_path / "r2"), second)

    listed = second.review_pairs[["unique_id_l", "unique_id_r"]].values.tolist()
    assert not any(pair in listed for pair in asked)
    assert len(second.review_pairs) == len(first.review_pairs) - 3
    assert second.model.decisions["decision"].tolist() == ["match", "not-match", "unsure"]
    assert set(second.model.decisions["applied"]) <= {"linked", "agreed", "cannot_link", "unsure"}
    carried = tmp_path / "r2" / "outputs" / "merge" / "review_pairs.xlsx"
    assert read_decisions(carried, "review_pairs.xlsx").values.tolist() == [
        [*asked[0], "match"], [*asked[1], "not-match"], [*asked[2], "unsure"]]
    book = openpyxl.load_workbook(carried)
    phones = [c.value for c in book["待复核"][2]]
    assert any(isinstance(v, str) and v.startswith("+86") for v in phones)  # merge.review_full_values
    assert any(isinstance(v, str) and "****" in v for v in (c.value for c in
                                                             openpyxl.load_workbook(tmp_path / "reviewed.xlsx")
                                                             ["待复核"][2]))  # masked by default
