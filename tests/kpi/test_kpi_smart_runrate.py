"""SMART checks one by one, run-rate, attainment and status bands."""

from __future__ import annotations

import datetime as dt
import inspect
import math

import pandas as pd
import pytest

from digiops.kpi.attainment import attainment_of, status_of
from digiops.kpi.runrate import period_days, runrate
from digiops.settings.kpi import KpiSettings, StatusBands
from digiops.kpi.smart import (SMART_COLUMNS, Finding, check_achievable, check_measurable, check_relevant,
                               check_specific, check_time_bound, smart_checks)
from digiops.kpi.tree import KpiNode, parse_tree
from digiops.text import SMART_FINDINGS

TREE = parse_tree({"strategic_goals": [{"id": "growth", "name_zh": "增长", "name_en": "Growth"}],
                   "kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "goal": "growth",
                             "combine": "product", "children": ["traffic"]},
                            {"id": "traffic", "name_zh": "客流", "name_en": "Traffic"},
                            {"id": "orphan", "name_zh": "孤儿", "name_en": "Orphan"}]}, "t.yaml")


def actuals(values: dict[str, float], kpi: str = "gmv") -> pd.DataFrame:
    return pd.DataFrame({"kpi": kpi, "unit": "all", "period": list(values), "actual": list(values.values())})


def targets(values: dict[str, float], kpi: str = "gmv") -> pd.DataFrame:
    return pd.DataFrame({"kpi": kpi, "unit": "all", "period": list(values), "target": list(values.values())})


# --- Specific -------------------------------------------------------------------------------------------------
def test_specific_needs_definition_and_owner():
    full = KpiNode(id="k", name_zh="k", name_en="k", owner="销售VP", definition="订单金额之和")
    assert check_specific(full) == Finding(True, "defined", detail="销售VP")
    assert check_specific(KpiNode(id="k", name_zh="k", name_en="k", owner="x")) == Finding(False, "no_definition")
    assert check_specific(KpiNode(id="k", name_zh="k", name_en="k", definition="d")) == Finding(False, "no_owner")
    assert check_specific(KpiNode(id="k", name_zh="k", name_en="k")) == Finding(False, "no_definition_or_owner")


# --- Measurable -----------------------------------------------------------------------------------------------
def test_measurable_when_the_formula_resolves_to_data():
    node = KpiNode(id="gmv", name_zh="k", name_en="k", source={"metric": "gmv"})
    assert check_measurable(node, actuals({"2026-01": 1.0, "2026-02": 2.0})) == Finding(True, "actuals", months=2)
    assert check_measurable(node, actuals({})) == Finding(False, "no_data", detail="gmv")
    bare = KpiNode(id="x", name_zh="x", name_en="x")
    assert check_measurable(bare, actuals({})) == Finding(False, "no_formula")


# --- Achievable -----------------------------------------------------------------------------------------------
HISTORY = {"2026-01": 100.0, "2026-02": 110.0, "2026-03": 99.0, "2026-04": 118.8}  # growth +10 %, −10 %, +20 %


def test_achievable_within_historical_spread():
    node = TREE.nodes["gmv"]
    found = check_achievable(node, actuals(HISTORY), targets({"2026-05": 130.0}), "2026-05", bound=0.3, min_history=3)
    assert (found.passed, found.reason) == (True, "within_history")  # 130 / 118.8 − 1 = +9.4 %, within −10 % … +20 %
    assert (round(found.growth, 3), round(found.low, 3), round(found.high, 3)) == (0.094, -0.1, 0.2)
    assert (found.period_from, found.period_to) == ("2026-04", "2026-05")


def test_not_achievable_beyond_historical_spread():
    found = check_achievable(TREE.nodes["gmv"], actuals(HISTORY), targets({"2026-05": 150.0}), "2026-05",
                             bound=0.3, min_history=3)
    # +26.3 % > +20 % (the best month ever seen), although within the ±30 % bound
    assert (found.passed, found.reason) == (False, "outside_history")


def test_achievable_uses_bound_with_short_history():
    short = {"2026-03": 100.0, "2026-04": 110.0}
    within = check_achievable(TREE.nodes["gmv"], actuals(short), targets({"2026-05": 140.0}), "2026-05",
                              bound=0.3, min_history=3)
    beyond = check_achievable(TREE.nodes["gmv"], actuals(short), targets({"2026-05": 150.0}), "2026-05",
                              bound=0.3, min_history=3)
    assert (within.passed, within.reason, within.low, within.high) == (True, "within_bound", -0.3, 0.3)  # +27.3 %
    assert (beyond.passed, beyond.reason) == (False, "outside_bound")  # +36.4 % > 30 %


def test_not_achievable_without_target():
    assert check_achievable(TREE.nodes["gmv"], actuals(HISTORY), targets({}), "2026-05", bound=0.3,
                            min_history=3) == Finding(False, "no_target")


# --- Relevant -------------------------------------------------------------------------------------------------
def test_relevant_through_parent_to_goal():
    assert check_relevant(TREE.nodes["traffic"], TREE) == Finding(True, "goal", detail="gmv", goal="growth")
    assert check_relevant(TREE.nodes["gmv"], TREE) == Finding(True, "goal", detail="", goal="growth")
    assert check_relevant(TREE.nodes["orphan"], TREE) == Finding(False, "unlinked")


def test_not_relevant_when_parents_root_nowhere():
    tree = parse_tree({"kpis": [{"id": "a", "name_zh": "a", "name_en": "a", "combine": "sum", "children": ["b"]},
                                {"id": "b", "name_zh": "b", "name_en": "b"}]}, "t.yaml")
    assert check_relevant(tree.nodes["b"], tree) == Finding(False, "no_goal", detail="a")


# --- Time-bound -----------------------------------------------------------------------------------------------
def test_time_bound_by_deadline_or_periods():
    dated = KpiNode(id="gmv", name_zh="k", name_en="k", deadline=dt.date(2026, 12, 31))
    assert check_time_bound(dated, targets({})) == Finding(True, "deadline", detail="2026-12-31")
    undated = KpiNode(id="gmv", name_zh="k", name_en="k")
    assert check_time_bound(undated, targets({"2026-03": 1.0, "2026-05": 2.0})) == Finding(
        True, "monthly_targets", period_from="2026-03", period_to="2026-05")
    assert check_time_bound(undated, targets({})) == Finding(False, "no_deadline")


# --- The table ------------------------------------------------------------------------------------------------
def test_smart_checks_hold_codes_and_figures_and_take_no_language():
    # Arrange: the tree above, its history and one target
    table = smart_checks(TREE, actuals(HISTORY), targets({"2026-05": 130.0}), "2026-05")
    # Assert: five rows per KPI, each a criterion, a reason code and figures — no sentence, no language to choose
    assert "language" not in inspect.signature(smart_checks).parameters
    assert list(table.columns) == SMART_COLUMNS and len(table) == 5 * len(TREE.nodes)
    assert set(table["reason"]) <= set(SMART_FINDINGS)
    gmv = table[table["kpi"] == "gmv"].set_index("criterion")
    assert gmv.loc["achievable", "reason"] == "within_history" and gmv.loc["measurable", "months"] == 4
    assert gmv.loc["relevant", "goal"] == "growth"


# --- Run-rate -------------------------------------------------------------------------------------------------
def test_runrate_projection_and_required_daily_rate():
    # Arrange: 12 of 30 days gone, 480 000 to date, target 1 500 000
    got = runrate(actual_to_date=480_000.0, target=1_500_000.0, days_elapsed=12, days_in_period=30)
    # Assert: projection = 480 000 + 40 000 × 18; required = (1 500 000 − 480 000) / 18
    assert got["average_daily"] == 40_000.0
    assert got["projection"] == 1_200_000.0
    assert got["required_daily"] == pytest.approx(1_020_000 / 18)
    assert got["projected_attainment"] == pytest.approx(0.8)


def test_runrate_closed_period_has_no_required_rate():
    got = runrate(actual_to_date=900.0, target=1000.0, days_elapsed=31, days_in_period=31)
    assert got["projection"] == 900.0 and got["days_left"] == 0 and math.isnan(got["required_daily"])


def test_period_days():
    assert period_days("2026-02", dt.date(2026, 2, 11)) == (10, 28)
    assert period_days("2026-02", dt.date(2026, 3, 1)) == (28, 28)


# --- Attainment and status ------------------------------------------------------------------------------------
def test_attainment_inverted_for_lower_is_better_and_undefined_denominators():
    assert attainment_of(120.0, 100.0, "higher") == 1.2
    assert attainment_of(4.0, 5.0, "lower") == 1.25
    assert math.isnan(attainment_of(5.0, 0.0, "higher"))
    assert math.isnan(attainment_of(0.0, 5.0, "lower"))


@pytest.mark.parametrize("value, expected", [(1.0, "green"), (0.9999, "amber"), (0.9, "amber"), (0.8999, "red"),
                                             (float("nan"), "none")])
def test_default_status_bands(value, expected):
    assert status_of(value, KpiSettings().status_bands) == expected


def test_configured_status_bands():
    assert status_of(0.96, StatusBands(green=0.95, amber=0.8)) == "green"
    with pytest.raises(ValueError):
        StatusBands(green=0.8, amber=0.9)


def test_every_source_is_cut_at_the_review_date():
    """Traffic exported for the whole month beside orders up to mid-month: the run-rate month counts the traffic
    before ``as_of`` only (issue 18: a whole October of visitors projected 366 211 visitors, attainment 2.01)."""
    from digiops import paths
    from digiops.kpi.review import build_review
    from digiops.kpi.tree import load_tree
    from tests.kpi import kpi_fixtures as fx

    traffic = fx.traffic_rows(last_day=dt.date(2026, 4, 30))  # the export runs to the month's end
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml", known_units={"all", "online", "华东", "华南",
                                                                            *fx.STORES})
    review = build_review(tree, fx.orders_frame(), stores=fx.stores_frame(), traffic=traffic,
                          file_sources={"traffic": traffic}, targets=fx.target_rows(),
                          customers=fx.customers_frame())

    assert review.periods.as_of == fx.LAST_DAY + dt.timedelta(days=1)
    april = review.actuals[(review.actuals["kpi"] == "traffic") & (review.actuals["unit"] == "all")
                           & (review.actuals["period"] == "2026-04")]
    known = traffic[pd.to_datetime(traffic["date"]) <= pd.Timestamp(fx.LAST_DAY)]
    assert april["actual"].iloc[0] == known.loc[known["date"] >= "2026-04-01", "visitors"].astype(int).sum()
    assert any("rows on or after 2026-04-16" in en for _, en in review.notes)
