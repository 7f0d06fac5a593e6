"""The KPI review holds codes and numbers; the report words them, in either language, as it did before."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import pandas as pd
import pytest

from digiops import paths
from digiops.kpi.report import smart_failures, smart_finding, smart_matrix, variance_notes
from digiops.kpi.review import build_review
from digiops.kpi.smart import smart_checks
from digiops.kpi.tree import load_tree, parse_tree
from digiops.kpi.variance import VARIANCE_COLUMNS, attribute
from tests.kpi import kpi_fixtures as fx

TREE = parse_tree({"strategic_goals": [{"id": "growth", "name_zh": "增长", "name_en": "Growth"}],
                   "kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "goal": "growth",
                             "combine": "product", "children": ["traffic"], "owner": "销售VP",
                             "definition": "订单金额之和"},
                            {"id": "traffic", "name_zh": "客流", "name_en": "Traffic"},
                            {"id": "orphan", "name_zh": "孤儿", "name_en": "Orphan"}]}, "t.yaml")
HISTORY = {"2026-01": 100.0, "2026-02": 110.0, "2026-03": 99.0, "2026-04": 118.8}  # growth +10 %, −10 %, +20 %


def review() -> SimpleNamespace:
    actuals = pd.DataFrame({"kpi": "gmv", "unit": "all", "period": list(HISTORY), "actual": list(HISTORY.values())})
    targets = pd.DataFrame({"kpi": ["gmv"], "unit": ["all"], "period": ["2026-05"], "target": [150.0]})
    return SimpleNamespace(tree=TREE, smart=smart_checks(TREE, actuals, targets, "2026-05"))


def test_the_review_tables_hold_no_text_and_take_no_language():
    # Arrange: the demo client's tree on the fixture client's frames
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml", known_units={"all", "online", "华东", "华南",
                                                                            *fx.STORES})
    # Act
    built = build_review(tree, fx.orders_frame(), stores=fx.stores_frame(), targets=fx.target_rows())
    # Assert: nothing to translate was computed, so nothing depends on a language
    for function in (build_review, attribute, smart_checks):
        assert "language" not in inspect.signature(function).parameters
    assert list(built.variance.columns) == VARIANCE_COLUMNS and "note" not in built.variance.columns
    assert {"name", "finding"}.isdisjoint(built.smart.columns)
    assert set(built.smart["criterion"]) == {"specific", "measurable", "achievable", "relevant", "time_bound"}


@pytest.mark.parametrize("language, expected", [
    ("en", {("GMV", "Achievable", "2026-05 target growth +26.3%; historical month-over-month range -10.0% to "
                                   "+20.0%: outside it"),
            ("Orphan", "Specific", "missing definition and owner"),
            ("Orphan", "Measurable", "no data source and no children: cannot be computed"),
            ("Orphan", "Relevant", "linked to no parent KPI or strategic goal"),
            ("Traffic", "Time-bound", "neither a deadline nor targets for given periods")}),
    ("zh", {("成交额", "可实现 A", "2026-05 目标增长 +26.3%，历史环比区间 -10.0% ~ +20.0%，超出历史区间"),
            ("孤儿", "具体 S", "缺少口径定义、负责人"),
            ("孤儿", "可衡量 M", "既无数据来源也无子指标，无法计算"),
            ("孤儿", "相关 R", "没有上级指标或战略目标"),
            ("客流", "有时限 T", "既无截止日期也无按期目标")}),
])
def test_smart_failures_read_in_the_report_language(language, expected):
    # Act
    failed = smart_failures(review(), language)
    # Assert: the sentences the report showed when the findings were text
    rows = set(failed.itertuples(index=False, name=None))
    assert expected <= rows
    assert len(failed.columns) == 3 and not failed.isna().any().any()


def test_a_finding_names_the_goal_and_the_parents_in_each_language():
    smart = review().smart
    traffic = smart[(smart["kpi"] == "traffic") & (smart["criterion"] == "relevant")].iloc[0]
    gmv = smart[(smart["kpi"] == "gmv") & (smart["criterion"] == "specific")].iloc[0]

    assert smart_finding(traffic, TREE, "en") == "serves strategic goal 'Growth' ← gmv"
    assert smart_finding(traffic, TREE, "zh") == "服务于战略目标「增长」 ← gmv"
    assert (smart_finding(gmv, TREE, "zh"), smart_finding(gmv, TREE, "en")) == ("口径已定义，负责人：销售VP",
                                                                                "defined; owner 销售VP")


def test_smart_matrix_names_kpis_and_criteria_in_the_report_language():
    zh, en = smart_matrix(review(), "zh"), smart_matrix(review(), "en")

    assert list(zh.columns) == ["指标", "具体 S", "可衡量 M", "可实现 A", "相关 R", "有时限 T"]
    assert list(en.columns) == ["KPI", "Specific", "Measurable", "Achievable", "Relevant", "Time-bound"]
    assert zh["指标"].tolist() == ["成交额", "客流", "孤儿"] and en["KPI"].tolist() == ["GMV", "Traffic", "Orphan"]
    assert zh.iloc[:, 1:].values.tolist() == en.iloc[:, 1:].values.tolist()  # the marks do not depend on language


def test_variance_notes_word_the_method_code():
    variance = pd.DataFrame({"kpi": ["gmv"], "unit": ["华东"], "method": ["shapley"]})
    shown = SimpleNamespace(tree=TREE, variance=variance)

    assert variance_notes(shown, "en") == [
        "> **GMV · 华东**: a factor is negative, where the logarithm is undefined: the Shapley decomposition (average "
        "effect over every order of switching factors) is used instead; it still sums exactly to the change"]
    assert variance_notes(shown, "zh")[0].startswith("> **成交额 · 华东**：有因子为负数，对数无定义")


def test_a_time_bound_finding_keeps_its_months():
    smart = review().smart
    gmv = smart[(smart["kpi"] == "gmv") & (smart["criterion"] == "time_bound")].iloc[0]

    assert smart_finding(gmv, TREE, "en") == "monthly targets 2026-05 to 2026-05"
    assert smart_finding(gmv, TREE, "zh") == "按月目标 2026-05 ~ 2026-05"
