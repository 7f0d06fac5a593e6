"""The maturity report as a reader sees it: weights at their real precision, codes in words, no English codes on
a Chinese page."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from digiops.maturity import charts  # noqa: E402
from digiops.maturity.report import (benchmark_note, bottlenecks_view, root_causes_view, scores_view,  # noqa: E402
                                     sensitivity_view, weight_text)

SCORES = pd.DataFrame({
    "dimension": ["process_digitalization", "data_assetization", "business_online", "decision_intelligence"],
    "name_zh": ["流程数字化", "数据资产化", "业务在线化", "决策智能化"],
    "name_en": ["Process digitalization", "Data assetization", "Business online-ization", "Decision intelligence"],
    "weight": [0.25, 0.25, 0.125, 0.375], "questionnaire_score": [50.0, 40.0, 60.0, 20.0],
    "indicator_score": [float("nan"), 25.0, 50.0, 25.0], "score": [50.0, 36.0, 57.0, 21.0],
    "level": [3.0, 2.4, 3.3, 1.8], "band": [3, 2, 3, 1], "target": [3.5, 3.5, 3.5, 3.0], "gap": [0.5, 1.1, 0.2, 1.6],
    "severity": ["minor", "moderate", "minor", "critical"], "respondent_spread": [1.0, 3.8, 0.5, 1.4],
    "disagreement": [False, True, False, True]})


def test_weights_keep_their_real_precision():
    view = scores_view(SCORES, "zh")

    assert view["权重"].tolist() == ["0.25", "0.25", "0.125", "0.375"]
    assert weight_text(float("nan")) == "–"


@pytest.mark.parametrize("language, severities", [("zh", ["轻微", "中等", "轻微", "严重"]),
                                                  ("en", ["minor", "moderate", "minor", "critical"])])
def test_severity_is_worded_in_the_table_and_the_gap_chart(language, severities):
    view = scores_view(SCORES, language)
    figure = charts.gap_bars(SCORES, language)

    labels = [t.get_text() for t in figure.axes[0].texts]
    assert view.iloc[:, 9].tolist() == severities
    assert [label.split(" · ")[1] for label in labels] == severities


@pytest.mark.parametrize("language, word", [("zh", "分歧"), ("en", "differ")])
def test_disagreement_is_a_word_not_a_symbol_a_font_may_lack(language, word):
    view = scores_view(SCORES, language)

    assert view.iloc[:, 11].tolist() == ["", word, "", word]


def test_sensitivity_names_dimensions_and_keeps_weights_precise():
    sensitivity = pd.DataFrame({"dimension": ["process_digitalization"] * 2, "change": [-0.2, 0.2],
                                "weight_before": [0.25, 0.25], "weight_after": [0.2105263, 0.2857143],
                                "overall_score": [40.4, 41.4], "overall_level": [2.6, 2.7],
                                "level_change": [-0.022, 0.020]})

    zh = sensitivity_view(sensitivity, "zh")

    assert zh["维度"].tolist() == ["流程数字化"] * 2
    assert zh["原权重"].tolist() == ["0.25", "0.25"] and zh["新权重"].tolist() == ["0.2105", "0.2857"]
    assert all(not c.isascii() for c in zh.columns)


def test_root_causes_and_bottlenecks_show_no_codes_on_a_chinese_page():
    causes = pd.DataFrame({"category": ["technology"], "name_zh": ["技术架构"], "name_en": ["Technology"],
                           "bottlenecks": [2], "handoffs": [2], "hours": [3.5], "mean_error_rate": [0.06],
                           "nodes": ["库存查询、销量统计"]})
    bottlenecks = pd.DataFrame({"process": ["订单履约"] * 2, "node": ["库存查询", "审批"], "owner": ["供应链部", "运营部"],
                                "duration_hours": [0.5, 24.0], "error_rate": [0.05, 0.02], "systems": ["ERP;WMS", "OA"],
                                "reasons": ["manual cross-system hand-off; error-prone", "slow"],
                                "root_cause_category": ["technology", "organisation"],
                                "root_cause": ["technology", "审批层级过多"]})

    causes_zh, nodes_zh = root_causes_view(causes, "zh"), bottlenecks_view(bottlenecks, "zh")

    assert causes_zh.columns.tolist()[0] == "根因类别" and causes_zh.iloc[0, 0] == "技术架构"
    assert all(not c.isascii() for c in causes_zh.columns)
    # a root cause given as the category code says nothing more than the category: shown as "–"
    assert nodes_zh["根因描述"].tolist() == ["–", "审批层级过多"]
    assert nodes_zh["问题"].tolist() == ["人工跨系统交接；差错率高", "耗时长"]


def test_the_default_benchmark_is_named_in_the_page_language():
    source = "digiops default table, illustrative calibration (not a survey)"

    assert benchmark_note(source, False, "zh") == "digiops 内置的示意校准表"
    assert benchmark_note(source, False, "en") == "digiops' built-in illustrative calibration"
    assert benchmark_note("行业协会 2025 调研", True, "en") == "行业协会 2025 调研"  # the client's own source, as given
