"""The merge report's tables as a reader sees them: words for codes and headers in the page's language, "–" for a
missing value, no Python value (``True``, ``None``, ``nan``, a dict) on the page, no internal reference, and a
partial table says what it leaves out."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from digiops.merge import report

CELLS = (Path(__file__).parents[2] / "tools" / "notebooks" / "01_clean_merge.py").read_text(encoding="utf-8")
RAW = re.compile(r"(?<![A-Za-z])(nan|None|NaT|True|False)(?![A-Za-z])|<NA>|\{'")


def accounting() -> pd.DataFrame:
    return pd.DataFrame({"source": ["crm", "mall_orders"], "kind": ["customers", "orders"], "rows_in": [13821, 10],
                         "rows_used": [13677, 10], "rows_quarantined": [144, 0], "balanced": [True, False]})


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_table_shows_no_python_value_or_missing_marker(language):
    frame = accounting().assign(note=[None, float("nan")], share=[float("nan"), 0.25])

    html = report.styled(frame, language).to_html()

    assert not RAW.search(re.sub(r"<[^>]+>", " ", html)) and "–" in html and "13,821" in html


def test_a_chinese_table_has_chinese_headers_and_words_for_codes():
    shown = report.view(accounting(), "zh")

    assert list(shown.columns) == ["来源", "类型", "读入行数", "使用行数", "隔离行数", "行数平衡"]
    assert shown["类型"].tolist() == ["客户", "订单"] and shown["行数平衡"].tolist() == ["是", "否"]
    assert shown["来源"].tolist() == ["crm", "mall_orders"]  # the engagement's own source names stay


def test_an_english_table_has_no_chinese_header():
    shown = report.view(accounting(), "en")

    assert list(shown.columns) == ["source", "kind", "rows read", "rows used", "rows quarantined", "balanced"]
    assert shown["balanced"].tolist() == ["yes", "no"]


def test_quality_headers_name_measure_and_phase_and_unmeasured_fields_are_left_out():
    quality = pd.DataFrame({"source": ["crm"] * 4, "field": ["phone", "phone", "amount", "amount"],
                            "phase": ["before", "after"] * 2, "completeness": [0.5, 0.9, None, None],
                            "validity": [0.4, 1.0, None, None]})

    table = report.quality_summary(quality)
    shown = report.view(table, "zh")

    assert table["field"].tolist() == ["phone"]
    assert list(shown.columns) == ["来源", "字段", "完整性（清洗前）", "完整性（清洗后）", "有效性（清洗前）", "有效性（清洗后）"]
    assert shown["字段"].tolist() == ["手机"]


def test_quarantine_reasons_are_words_with_the_repeated_row_kept():
    quarantine = pd.DataFrame({"source": ["crm", "mall_orders"], "row": [391, 12], "record_id": ["K1", "W1"],
                               "field": ["*", "amount"],
                               "reason": ["exact duplicate (of row 390)", "unreadable amount: 12,3x"]})

    shown = report.view(report.quarantine_detail(quarantine, "zh"), "zh")

    assert shown["原因"].tolist() == ["完全重复的行", "金额无法识别"]
    assert shown["说明"].tolist() == ["第 390 行", "12,3x"] and shown["字段"].tolist() == ["整行", "金额"]


def test_a_partial_table_says_how_much_it_shows_and_where_the_rest_is():
    zh, en = report.shown_note(10, 2986, "outputs/merge/quarantine.parquet")

    assert "2,986" in zh and "outputs/merge/quarantine.parquet" in en
    assert report.shown_note(3, 3, "x") is None


def test_the_headline_is_a_table_of_words_not_a_dict():
    shown = report.headline_view({"records": 239475, "customers": 21564, "quarantined": 12}, "en")

    assert shown.values.tolist() == [["customer-bearing records", "239,475"], ["real customers", "21,564"],
                                     ["rows quarantined", "12"]]
    assert "{k: f'{v:,}'" not in CELLS and ".head(15)" not in CELLS and ".head(20)" not in CELLS


def test_the_journey_names_its_steps_and_masks_the_person():
    journey = pd.DataFrame({"step": ["phone", "is_late", "order_id"], "value": ["13812348000", False, "A1"]})

    shown = report.view(report.masked_journey(journey, "zh"), "zh")

    assert shown.values.tolist() == [["手机", "138****8000"], ["是否延迟", "否"], ["订单号", "A1"]]


def test_the_page_cites_no_internal_reference_and_prints_no_title_of_its_own():
    assert not re.search(r"种子 0|seed 0|DOMAIN\.md|ctx\.md\(f?\"# ", CELLS)
