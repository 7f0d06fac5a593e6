"""The Excel workbook of a run's key tables (issue 21): what the client opens in Excel.

Most tests build a small run folder by hand (a few Parquet files under ``outputs/<stage>/``) and open the bytes
with openpyxl as Excel would; one reads a copy of the demo run's outputs and proves that no raw personal value of
its customers reaches any cell.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
import zipfile
from collections import Counter
from io import BytesIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from digiops.deliver.workbook import Sheet, build_workbook, workbook_sheets
from digiops import io
from digiops.errors import ArchiveError
from digiops.manifest import Manifest, StageEntry
from digiops.runfolder import RunFolder

HOSTILE_ACTION = '=HYPERLINK("http://x","y")'
OWNER = "华东大区经理 张伟"
PHONE = "13800138000"
LONG_ACTION = "华东门店晚高峰加开第二收银台并培训店员"  # 19 Chinese characters
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
HANZI = re.compile(r"[\u4e00-\u9fff]")

QUARANTINE = pd.DataFrame({
    "source": ["crm", "crm", "crm", "pos", "pos", "pos", "pos"],
    "row": [4, 9, 12, 3, 5, 6, 8],
    "record_id": ["K4", "K9", "K12", "P3", "P5", "P6", "P8"],
    "field": ["*", "*", "member_id", "amount", "amount", "*", "amount"],
    "reason": ["exact duplicate (of row 3)", "exact duplicate (of row 8)", "missing id",
               "unreadable amount: 张三 13912345678", "unreadable amount: abc", "exact duplicate (of row 2)",
               "unreadable amount: =cmd|' /C calc'!A0"],
})


def _write(run: RunFolder, stage: str, name: str, frame: pd.DataFrame) -> None:
    path = run.output(stage, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)


def _json(run: RunFolder, stage: str, name: str, data: dict) -> None:
    path = run.output(stage, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def make_run(folder: Path, stages: tuple[str, ...] = ("kpi", "maturity", "merge")) -> RunFolder:
    """A run folder with a few tables of the kpi, maturity and merge stages, values chosen by hand."""
    run = RunFolder(folder)
    if "kpi" in stages:
        _json(run, "kpi", "kpi_names.json", {
            "gmv": {"zh": "成交总额", "en": "GMV", "measure": "元", "definition": ""},
            "conversion_rate": {"zh": "转化率", "en": "Conversion rate", "measure": "%", "definition": ""}})
        _write(run, "kpi", "attainment.parquet", pd.DataFrame({
            "kpi": ["gmv", "conversion_rate", "gmv"], "level": ["all", "all", "region"],
            "unit": ["all", "all", "华东"], "period": ["2026-09"] * 3, "actual": [309672.0, 0.05, 1250.5],
            "actual_exact": [None, None, None], "target": [360363.12, 0.06, np.nan],
            "attainment": [309672.0 / 360363.12, 0.05 / 0.06, np.nan], "status": ["red", "amber", "none"],
            "reviewed": [True, True, True]}))
        _write(run, "kpi", "actions.parquet", pd.DataFrame({
            "action_id": ["A01", "A02"], "action": [HOSTILE_ACTION, LONG_ACTION], "owner": [OWNER, "李明"],
            "kpi": ["conversion_rate", "gmv"], "due": ["2026-09-30", "2026-10-31"], "status": ["进行中", "已完成"],
            "created_at": ["2026-09-05", "2026-09-05"], "overdue": [True, False],
            "period_from": ["2026-08", "2026-08"], "period_to": ["2026-09", "2026-09"],
            "value_from": [0.052, 352249.0], "value_to": [0.05, 309672.0], "change": [-0.002, -42577.0],
            "change_pct": [-0.0385, -0.1209], "improved": [False, False],
            "note": [f"回访 {PHONE}", None]}))
    if "maturity" in stages:
        _write(run, "maturity", "scores.parquet", pd.DataFrame({
            "dimension": ["process_digitalization", "data_assetization"], "name_zh": ["流程数字化", "数据资产化"],
            "name_en": ["Process digitalization", "Data assetization"], "weight": [0.5, 0.5],
            "respondents": [5, 5], "questionnaire_score": [51.4, 40.9], "indicator_score": [np.nan, 25.0],
            "indicator_weight": [0.0, 0.3], "score": [51.4, 36.1], "level": [3.1, 2.4],
            "band": pd.array([3, 2], dtype="Int64"), "target": [3.5, 3.5], "gap": [0.4, 1.1],
            "severity": ["minor", "moderate"], "respondent_spread": [1.0, 3.8], "respondent_sd": [0.25, 1.04],
            "disagreement": [False, True]}))
    if "merge" in stages:
        _write(run, "merge", "quarantine.parquet", QUARANTINE)
        _json(run, "merge", "metrics.json", {"rows_in": 120, "records": 100, "customers": 80, "quarantined": 7})
    return run


def book_of(run: RunFolder, language: str, about: dict | None = None):
    data = build_workbook(workbook_sheets(run, language), language=language,
                          about=about if about is not None else {"client": "Acme", "run": "r1"})
    return load_workbook(BytesIO(data)), data


def rows_of(sheet) -> tuple[list[str], list[list[object]]]:
    """The header (row 3) and the rows below it, as values."""
    header = [c.value for c in sheet[3]]
    return header, [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]


def column(sheet, name: str) -> list:
    header = [c.value for c in sheet[3]]
    j = header.index(name) + 1
    return [sheet.cell(r, j) for r in range(4, sheet.max_row + 1)]


def text_cells(book) -> list[str]:
    return [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


# --- the sheets ---------------------------------------------------------------------------------------------------
def test_an_about_sheet_comes_first_then_one_sheet_per_table_in_the_language(tmp_path):
    run = make_run(tmp_path / "run")

    zh, _ = book_of(run, "zh")
    en, _ = book_of(run, "en")

    assert zh.sheetnames == ["说明", "KPI 达成", "行动跟踪", "成熟度得分", "隔离原因", "合并概况"]
    assert en.sheetnames == ["About", "KPI attainment", "Actions", "Maturity scores", "Quarantine reasons",
                             "Merge counts"]


def test_the_about_sheet_names_the_client_and_run_and_lists_what_each_sheet_holds(tmp_path):
    run = make_run(tmp_path / "run")

    book, _ = book_of(run, "en", about={"client": "Acme Foods", "engagement": "Review 2026",
                                        "period": "2026-01-01 – 2026-06-30", "run": "r1",
                                        "generated": "2026-12-02 18:00"})

    cells = text_cells(book)
    about = {row[0]: row[1] for row in book["About"].iter_rows(min_row=3, max_row=7, values_only=True)}
    assert about == {"Client": "Acme Foods", "Engagement": "Review 2026", "Period": "2026-01-01 – 2026-06-30",
                     "Run": "r1", "Generated": "2026-12-02 18:00"}
    for name in book.sheetnames[1:]:
        assert name in cells  # the table of contents names each sheet, with a sentence on it
    assert "Raw rows set aside as unusable, counted by source, field and reason (counts only, never the rows)." \
        in cells


def test_a_run_without_kpi_outputs_has_no_kpi_sheets(tmp_path):
    run = make_run(tmp_path / "run", stages=("maturity", "merge"))

    book, _ = book_of(run, "en")

    assert book.sheetnames == ["About", "Maturity scores", "Quarantine reasons", "Merge counts"]


def test_a_stage_the_manifest_records_as_failed_is_left_out_though_it_wrote_files(tmp_path):
    run = make_run(tmp_path / "run")
    run.write_manifest(Manifest(client="acme", run_id="r1", stages=[
        StageEntry(name="kpi", notebook="04_kpi.ipynb", status="failed"),
        StageEntry(name="maturity", notebook="03_maturity.ipynb", status="succeeded"),
        StageEntry(name="merge", notebook="01_clean_merge.ipynb", status="succeeded")]))

    book, _ = book_of(run, "en")

    assert book.sheetnames == ["About", "Maturity scores", "Quarantine reasons", "Merge counts"]


def test_every_table_sheet_has_its_title_a_bold_filled_frozen_header_and_a_filter(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "zh")

    for sheet in book.worksheets[1:]:
        assert sheet["A1"].value and sheet["A2"].value  # title, then what the table holds
        assert sheet.freeze_panes == "A4"  # title, description and header stay in view
        assert sheet.auto_filter.ref.startswith("A3:")
        header = sheet[3]
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("DDEBF7") for c in header)


# --- typed values -------------------------------------------------------------------------------------------------
def test_numbers_are_numbers_shares_are_percentages_and_a_rate_kpi_reads_as_a_percent(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "en")
    sheet = book["KPI attainment"]

    actual, target, attainment = (column(sheet, name) for name in ("Actual", "Target", "Attainment"))

    assert [c.data_type for c in actual] == ["n", "n", "n"]
    assert actual[0].value == 309672.0 and actual[0].number_format == "#,##0.00"  # money: thousands separator
    assert attainment[0].value == pytest.approx(309672.0 / 360363.12) and attainment[0].number_format == "0.0%"
    assert actual[1].value == 0.05 and actual[1].number_format == "0.0%"  # conversion rate: measure %
    assert target[1].number_format == "0.0%"


def test_a_missing_value_is_an_empty_cell_never_text(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "en")

    target = column(book["KPI attainment"], "Target")

    assert target[2].value is None  # the region has no target
    assert not {"nan", "NaN", "None", "NaT", "<NA>", "–"} & set(text_cells(book))


def test_dates_are_dates_and_counts_are_integers(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "en")

    due = column(book["Actions"], "Due")[0]
    rows = column(book["Quarantine reasons"], "Rows")[0]

    assert due.is_date and due.value.date() == dt.date(2026, 9, 30) and due.number_format == "yyyy-mm-dd"
    assert rows.data_type == "n" and isinstance(rows.value, int) and rows.number_format == "#,##0"


def test_quarantine_counts_per_source_and_reason_equal_a_count_of_the_rows(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "en")

    header, rows = rows_of(book["Quarantine reasons"])

    expected = Counter((source, re.split(r"[:(]", reason)[0].strip())
                       for source, reason in zip(QUARANTINE["source"], QUARANTINE["reason"], strict=True))
    shown = Counter()
    for row in rows:
        record = dict(zip(header, row, strict=True))
        shown[(record["Source"], record["Reason"])] += record["Rows"]
    assert shown == expected
    assert sum(shown.values()) == len(QUARANTINE)


def test_the_quarantine_sheet_holds_counts_never_what_the_rows_held(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "zh")

    cells = text_cells(book)

    assert not [c for c in cells if "13912345678" in c or "张三" in c or "calc" in c or "K12" in c]


# --- safety -------------------------------------------------------------------------------------------------------
def test_no_cell_is_ever_a_formula(tmp_path):
    book, data = book_of(make_run(tmp_path / "run"), "en", about={"client": "=cmd|' /C calc'!A0", "run": "+1"})

    assert all(c.data_type != "f" for ws in book.worksheets for row in ws.iter_rows() for c in row)
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in xml or "<f " in xml for xml in sheets)


def test_hostile_text_is_stored_as_text_that_does_not_run(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "en", about={"client": "=cmd|' /C calc'!A0", "run": "r1"})

    action = column(book["Actions"], "Action")[0]
    client = book["About"]["B3"]

    assert action.data_type == "s" and action.value == "'" + HOSTILE_ACTION
    assert client.data_type == "s" and client.value == "'=cmd|' /C calc'!A0"


def test_control_characters_are_dropped_and_cannot_uncover_a_formula():
    frame = pd.DataFrame({"Text": ["\x01=1+1", "a\x00b", "-3"], "Number": [-3, 0, 1]})

    book = load_workbook(BytesIO(build_workbook([Sheet("T", "t", "d", frame)], language="en", about={})))

    assert [(c.value, c.data_type) for c in column(book["T"], "Text")] == [("'=1+1", "s"), ("ab", "s"), ("'-3", "s")]
    assert [c.value for c in column(book["T"], "Number")] == [-3, 0, 1]  # a negative number stays a number


def test_action_owners_are_masked_and_phone_numbers_in_notes_too(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "zh")

    owners = [c.value for c in column(book["行动跟踪"], "负责人")]
    cells = text_cells(book)

    assert owners == ["华东大区经理 张**", "李**"]
    assert not [c for c in cells if "张伟" in c or "李明" in c or PHONE in c]
    assert "回访 138****8000" in cells


def test_sheet_names_are_made_safe_and_unique():
    frame = pd.DataFrame({"x": [1]})
    sheets = [Sheet("Q1/Q2: [draft]", "t", "d", frame), Sheet("KPI", "t", "d", frame),
              Sheet("kpi", "t", "d", frame), Sheet("x" * 40, "t", "d", frame), Sheet("About", "t", "d", frame)]

    book = load_workbook(BytesIO(build_workbook(sheets, language="en", about={})))

    assert book.sheetnames == ["About", "Q1-Q2- -draft-", "KPI", "kpi (2)", "x" * 31, "About (2)"]


def test_a_sheet_with_an_unknown_number_format_is_refused():
    with pytest.raises(ValueError, match="unknown number format"):
        Sheet("s", "t", "d", pd.DataFrame({"x": [1]}), {"x": "money"})


def test_a_table_without_a_column_it_should_hold_names_the_file_and_the_column(tmp_path):
    run = make_run(tmp_path / "run", stages=("kpi",))
    _write(run, "kpi", "actions.parquet", pd.DataFrame({"action_id": ["A01"], "action": ["x"]}))

    with pytest.raises(ArchiveError, match=r"outputs/kpi/actions.parquet: owner: lacks the columns owner, kpi"):
        workbook_sheets(run, "en")


# --- language -----------------------------------------------------------------------------------------------------
def test_headers_are_in_the_language_without_codes(tmp_path):
    run = make_run(tmp_path / "run")

    zh, _ = book_of(run, "zh")
    en, _ = book_of(run, "en")

    zh_headers = [c.value for ws in zh.worksheets[1:] for c in ws[3]]
    en_headers = [c.value for ws in en.worksheets[1:] for c in ws[3]]
    assert all(HANZI.search(h) for h in zh_headers), zh_headers
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9 ()%–\-→',]*", h) for h in en_headers), en_headers
    assert not [h for h in zh_headers + en_headers if SNAKE.search(h)]


def test_codes_in_cells_read_as_words(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "zh")

    cells = set(text_cells(book))

    assert {"未达成", "预警", "无目标", "全部", "大区", "转化率", "轻微", "中等", "流程数字化", "完全重复的行", "整行",
            "金额无法识别", "是", "否"} <= cells
    assert not {"red", "amber", "none", "all", "region", "conversion_rate", "minor", "process_digitalization",
                "exact duplicate", "*", "True", "False"} & cells


def test_columns_are_wide_enough_for_chinese_text(tmp_path):
    book, _ = book_of(make_run(tmp_path / "run"), "zh")
    sheet = book["行动跟踪"]

    header = [c.value for c in sheet[3]]
    width = sheet.column_dimensions[chr(ord("A") + header.index("行动"))].width

    assert width >= 2 * len(LONG_ACTION)  # each Chinese character takes two widths


# --- the demo run -------------------------------------------------------------------------------------------------
READ = {"kpi": ["attainment.parquet", "variance.parquet", "runrate.parquet", "funnel.parquet", "actions.parquet",
                "tree.parquet", "kpi_names.json"],
        "maturity": ["scores.parquet", "department_scores.parquet", "roadmap.parquet", "budget.parquet"],
        "labels": ["segment_summary.parquet", "migration.parquet", "coverage.parquet"],
        "merge": ["data_quality.parquet", "quarantine.parquet", "metrics.json"]}
PERSONAL = ["full_name", "name_pinyin", "phone", "email", "national_id", "address", "birth_date"]


@pytest.fixture(scope="module")
def demo_copy(demo_run, tmp_path_factory) -> tuple[RunFolder, pd.DataFrame]:
    """The outputs the workbook reads, copied from the session's demo run (tests/conftest.py)."""
    run = RunFolder(tmp_path_factory.mktemp("demo") / demo_run.name)
    for stage, names in READ.items():
        run.stage_dir(stage).mkdir(parents=True)
        for name in names:  # a first run has no segment migration
            if (demo_run / "outputs" / stage / name).exists():
                shutil.copy(demo_run / "outputs" / stage / name, run.output(stage, name))
    shutil.copy(demo_run / "manifest.json", run.manifest_path)  # the catalog's and the tree's names
    customers = pd.read_parquet(demo_run / "outputs" / "merge" / "customers.parquet", columns=PERSONAL)
    return run, customers


def _personal_values(customers: pd.DataFrame) -> tuple[set[str], set[str]]:
    """(names and short values, matched as a whole cell or a run of words of one; long values — phones,
    e-mails, ids, addresses, birth dates — matched anywhere in any cell), lower case."""
    short, long = set(), set()
    for field in PERSONAL:
        for value in customers[field].dropna().astype(str):
            value = value.strip()
            if "*" in value or not re.search(r"[\w\u4e00-\u9fff]{2}", value):
                continue  # names some platforms export masked (丁**), placeholders (无, -): nothing to leak
            if field == "phone":
                long.add(re.sub(r"\D", "", value)[-11:])
            names = field in ("full_name", "name_pinyin")
            (short if names or len(value) < 6 else long).add(value.lower())
    return short, long


@pytest.fixture(scope="module")
def demo_books(demo_copy) -> dict[str, tuple[object, float]]:
    """The demo run's workbook in each language, and how long reading and writing it took."""
    run, _ = demo_copy
    books = {}
    for language in ("zh", "en"):
        started = time.perf_counter()
        book, _ = book_of(run, language)
        books[language] = book, time.perf_counter() - started
    return books


@pytest.mark.slow
@pytest.mark.parametrize("language", ["zh", "en"])
def test_no_raw_personal_value_of_the_demo_customers_appears_in_any_cell(demo_copy, demo_books, language):
    _, customers = demo_copy
    book, took = demo_books[language]

    cells = [str(c.value.date() if isinstance(c.value, dt.datetime) else c.value)
             for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    short, long = _personal_values(customers)
    words = {c.lower() for c in cells}
    for cell in cells:
        split = [w for w in re.split(r"[\s,，;；:：()（）/|·]+", cell.lower()) if w]
        words |= {" ".join(split[i:i + n]) for n in (1, 2, 3) for i in range(len(split) - n + 1)}
    blob = "\n".join(set(cells)).lower()
    assert not short & words, sorted(short & words)[:20]
    assert not [value for value in long if value in blob]
    assert len(cells) > 10_000 and took < 10


@pytest.mark.slow
def test_the_demo_workbook_has_every_key_table_in_words(demo_copy, demo_books):
    book, _ = demo_books["zh"]
    run, _ = demo_copy
    migration = ["分群迁移"] if run.has_output("labels", "migration.parquet") else []  # a first run has none

    assert book.sheetnames == ["说明", "KPI 达成", "变动归因", "月度推算", "转化漏斗", "行动跟踪", "KPI 树", "成熟度得分",
                               "部门得分", "转型路线图", "预算", "客户分群", *migration, "标签覆盖", "数据质量", "隔离原因",
                               "合并概况"]
    cells = set(text_cells(book))
    codes = {"at_risk", "process_digitalization", "add_to_cart", "data_assetization", "cant_lose", "red", "green",
             "exact duplicate", "higher", "product", "lmdi"}
    assert not codes & cells
    assert not [c for c in cells if SNAKE.fullmatch(c) and c not in {"mall_orders", "online_orders", "pos_members",
                                                                     "pos_receipts", "social_leads"}]


def test_goal_names_come_from_the_tree_the_run_read_and_codes_when_it_has_changed(tmp_path):
    client = tmp_path / "acme"
    client.mkdir()
    (client / "engagement.yaml").write_text("# stands in for the engagement file\n", encoding="utf-8")
    tree = client / "kpi_tree.yaml"
    tree.write_text("strategic_goals:\n  - {id: growth, name_zh: 全渠道销售增长, name_en: Omni-channel growth}\n"
                    "kpis:\n  - {id: gmv, name_zh: 成交总额, name_en: GMV, goal: growth, definition: 金额之和, "
                    "owner: 销售副总裁}\n", encoding="utf-8")
    run = make_run(tmp_path / "run", stages=("kpi",))
    _write(run, "kpi", "tree.parquet", pd.DataFrame({"kpi": ["gmv"], "parent": [None], "position": [0],
                                                     "combine": [None], "goal": ["growth"], "measure": ["元"],
                                                     "direction": ["higher"], "owner": ["销售副总裁 王强"],
                                                     "unit": ["all"]}))
    run.write_manifest(Manifest(
        client="acme", run_id="r1", engagement_file=str(client / "engagement.yaml"),
        parameters={"kpi": {"tree": "kpi_tree.yaml"}},
        inputs=[{"path": "kpi_tree.yaml", "bytes": tree.stat().st_size, "sha256": io.sha256_file(tree)}],
        stages=[StageEntry(name="kpi", notebook="04_kpi.ipynb", status="succeeded")]))

    before, _ = book_of(run, "en")
    tree.write_text(tree.read_text(encoding="utf-8").replace("Omni-channel growth", "Growth"), encoding="utf-8")
    after, _ = book_of(run, "en")

    assert [c.value for c in column(before["KPI tree"], "Strategic goal")] == ["Omni-channel growth"]
    assert [c.value for c in column(after["KPI tree"], "Strategic goal")] == ["growth"]  # not what the run read
    assert [c.value for c in column(before["KPI tree"], "Owner")] == ["销售副总裁 王**"]
    assert [c.value for c in column(before["KPI tree"], "Direction")] == ["higher is better"]
