"""The executive summary's words: codes a computation returns (KPI ids, field names, quarantine reasons, run ids)
read as words in the page's language, and the page carries one heading of its own level."""

from __future__ import annotations

from pathlib import Path

from digiops.summary import collect, section_html
from digiops.summary.collect import DataFacts, Finding
from digiops.summary.render import data_html
from tests.summary.summary_fixtures import make_run


def test_the_main_driver_is_named_by_its_kpi_name_not_its_id(tmp_path):
    summary = collect(make_run(tmp_path))

    zh = "".join(body for _, body in section_html(summary, "zh"))
    en = "".join(body for _, body in section_html(summary, "en"))

    assert "主要驱动因素：客流" in zh and "traffic（" not in zh
    assert "Main driver of the change in GMV: Traffic" in en


def test_weakest_fields_and_quarantine_reasons_read_in_the_page_language(tmp_path):
    summary = collect(make_run(tmp_path))
    summary.data = DataFacts(records=10, customers=5, quarantined=2,
                             worst=[Finding("crm", "birth_date", "completeness", 0.5)],
                             quarantine_reasons=[("exact duplicate", 2)])

    zh, en = data_html(summary, "zh"), data_html(summary, "en")

    assert "crm · 出生日期：完整性" in zh and "exact duplicate" not in zh and "完全重复的行：2" in zh
    assert "crm · birth date: Completeness" in en and "exact duplicate: 2" in en


def test_the_page_prints_no_heading_of_its_own_above_the_report_title(tmp_path):
    cells = (Path(__file__).parents[2] / "tools" / "notebooks" / "05_summary.py").read_text(encoding="utf-8")
    summary = collect(make_run(tmp_path))

    assert "<h1" not in cells and all("<h1" not in body for _, body in section_html(summary, "zh"))


def test_evidence_plays_and_the_cascade_reach_the_summary_with_their_figures(tmp_path):
    """Issue 23: the maturity stage's evidence beside opinion, the labels stage's largest play and the kpi stage's
    target cascade each read as one sentence, from the stages' own tables."""
    import pandas as pd

    run = make_run(tmp_path)
    pd.DataFrame({"dimension": ["data_assetization", "business_online"], "name_zh": ["数据资产化", "业务在线化"],
                  "name_en": ["Data assetization", "Business online"], "questionnaire_level": [2.6, 3.2],
                  "evidence_level": [3.8, 3.0], "disagreement": [True, False]}).to_parquet(
        run / "outputs" / "maturity" / "evidence.parquet")
    pd.DataFrame({"segment": ["at_risk", "champions"], "play": ["win_back", "retain"], "customers": [181, 900],
                  "expected_value": [411.1, 16431.0], "channel_zh": ["短信", "企业微信"],
                  "channel_en": ["SMS", "WeCom"]}).to_parquet(run / "outputs" / "labels" / "plays.parquet")
    pd.DataFrame({"source": ["given", "derived", "derived", "derived"], "rule": [None, "history", "history", "equal"],
                  "coherent": pd.array([True, pd.NA, False, pd.NA], dtype="boolean")}).to_parquet(
        run / "outputs" / "kpi" / "cascade.parquet")

    summary = collect(run)
    zh = "".join(body for _, body in section_html(summary, "zh"))
    en = "".join(body for _, body in section_html(summary, "en"))

    assert [d.dimension for d in summary.maturity.disagreements] == ["data_assetization"]
    assert "“数据资产化”为 3.8 级，问卷评分为 2.6 级" in zh and "Data assetization at level 3.8" in en
    assert summary.labels.plays[0].segment == "champions"
    assert "WeCom" in en and "16,431" in en and "16,842" in en  # the largest play, then all plays together
    assert "目标拆解：3 个目标" in zh and "1 of 2 coherence checks between levels fail" in en
