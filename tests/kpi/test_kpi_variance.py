"""Variance attribution: LMDI-I (DOMAIN.md's worked example), zero / negative handling, sums by unit, ratio mix."""

from __future__ import annotations

import math

import pytest

from digiops.kpi.variance import by_unit, lmdi, log_mean, ratio_mix, shapley

WORKED_BEFORE = {"traffic": 100_000.0, "conversion": 0.020, "aov": 300.0}
WORKED_AFTER = {"traffic": 110_000.0, "conversion": 0.018, "aov": 330.0}


def _contributions(rows):
    return {r["item"]: r["contribution"] for r in rows}


def test_worked_example_matches_domain_figures():
    # Act
    got = _contributions(lmdi(WORKED_BEFORE, WORKED_AFTER))
    # Assert: DOMAIN.md §4, to the unit
    assert {k: round(v) for k, v in got.items()} == {"traffic": 59695, "conversion": -65989, "aov": 59695}
    assert sum(got.values()) == pytest.approx(53_400.0, abs=1e-6)


def test_worked_example_against_independent_formula():
    # Arrange: V0 = 600 000, V1 = 653 400; L = (V1 − V0) / ln(V1 / V0)
    weight = (653_400 - 600_000) / math.log(653_400 / 600_000)
    # Act
    got = _contributions(lmdi(WORKED_BEFORE, WORKED_AFTER))
    # Assert
    assert got["traffic"] == pytest.approx(weight * math.log(1.1), rel=1e-12)
    assert got["conversion"] == pytest.approx(weight * math.log(0.9), rel=1e-12)
    assert got["aov"] == pytest.approx(got["traffic"], rel=1e-12)


@pytest.mark.parametrize("before, after", [
    ({"a": 3.0, "b": 7.0}, {"a": 2.5, "b": 9.0}),
    ({"a": 1e6, "b": 0.01, "c": 55.0}, {"a": 1.2e6, "b": 0.009, "c": 61.0}),
    ({"a": 5.0, "b": 5.0}, {"a": 5.0, "b": 5.0}),
    ({"a": 2.0, "b": 3.0, "c": 4.0, "d": 5.0}, {"a": 1.0, "b": 6.0, "c": 4.0, "d": 0.5}),
])
def test_contributions_sum_to_the_change(before, after):
    # Act
    rows = lmdi(before, after)
    # Assert
    change = math.prod(after.values()) - math.prod(before.values())
    assert sum(r["contribution"] for r in rows) == pytest.approx(change, rel=1e-12, abs=1e-9)
    assert {r["method"] for r in rows} == {"lmdi"}


def test_log_mean_of_equal_values_is_the_value():
    assert log_mean(7.5, 7.5) == 7.5
    assert log_mean(2.0, 1.0) == pytest.approx(1 / math.log(2))


def test_factor_zero_in_base_period_takes_the_whole_change():
    # Arrange: a store with no traffic last month (new store)
    before = {"traffic": 0.0, "conversion": 0.02, "aov": 300.0}
    after = {"traffic": 1000.0, "conversion": 0.02, "aov": 330.0}
    # Act
    rows = lmdi(before, after)
    # Assert: the limit of LMDI-I as traffic₀ → 0
    assert _contributions(rows) == {"traffic": 6600.0, "conversion": 0.0, "aov": 0.0}
    assert {r["method"] for r in rows} == {"zero_limit"}


def test_two_factors_zero_share_the_change_equally():
    rows = lmdi({"a": 0.0, "b": 0.0, "c": 2.0}, {"a": 3.0, "b": 4.0, "c": 2.0})
    assert _contributions(rows) == {"a": 12.0, "b": 12.0, "c": 0.0}


def test_factor_zero_in_current_period_takes_the_whole_fall():
    rows = lmdi({"a": 4.0, "b": 5.0}, {"a": 4.0, "b": 0.0})
    assert _contributions(rows) == {"a": 0.0, "b": -20.0}


def test_zero_in_both_periods_attributes_nothing():
    rows = lmdi({"a": 0.0, "b": 5.0}, {"a": 3.0, "b": 0.0})
    assert _contributions(rows) == {"a": 0.0, "b": 0.0}
    assert {r["method"] for r in rows} == {"zero_both"}


def test_negative_factor_falls_back_to_shapley_and_still_sums():
    # Arrange: net refunds made AOV negative in the base month
    before = {"traffic": 100.0, "conversion": 0.5, "aov": -20.0}
    after = {"traffic": 120.0, "conversion": 0.5, "aov": 30.0}
    # Act
    rows = lmdi(before, after)
    # Assert
    got = _contributions(rows)
    assert {r["method"] for r in rows} == {"shapley"}
    assert sum(got.values()) == pytest.approx(120 * 0.5 * 30 - 100 * 0.5 * -20)
    # two-factor Shapley by hand on (traffic, aov), conversion unchanged: ½[(120−100)(−20) + (120−100)(30)] · 0.5
    assert got["traffic"] == pytest.approx(0.5 * (20 * -20 + 20 * 30) * 0.5)
    assert got["conversion"] == 0.0


def test_shapley_hand_computed():
    assert shapley([2.0, 3.0], [4.0, 1.0]) == [4.0, -6.0]  # ½[(12−6)+(4−2)], ½[(2−6)+(4−12)]


def test_missing_factor_gives_nan_not_a_crash():
    rows = lmdi({"a": float("nan"), "b": 2.0}, {"a": 1.0, "b": 2.0})
    assert all(math.isnan(r["contribution"]) for r in rows)
    assert {r["method"] for r in rows} == {"missing"}


def test_sum_by_unit_includes_units_present_in_one_period_only():
    rows = by_unit({"华东": 100.0, "华南": 50.0}, {"华东": 130.0, "华北": 20.0})
    assert {r["item"]: r["contribution"] for r in rows} == {"华东": 30.0, "华南": -50.0, "华北": 20.0}


def test_ratio_mix_against_hand_computation():
    # Arrange: conversion = orders / traffic across two regions
    orders0, traffic0 = {"E": 20.0, "S": 30.0}, {"E": 1000.0, "S": 1000.0}  # r0 = 2 %, 3 %; KPI0 = 2.5 %
    orders1, traffic1 = {"E": 45.0, "S": 15.0}, {"E": 1500.0, "S": 500.0}   # r1 = 3 %, 3 %; s1 = .75, .25
    # Act
    rows = ratio_mix(orders0, traffic0, orders1, traffic1)
    got = {(r["item"], r["effect"]): r["contribution"] for r in rows}
    # Assert: inner Σ s1 (r1 − r0), mix Σ (s1 − s0)(r0 − KPI0)
    assert got[("E", "inner")] == pytest.approx(0.75 * (0.03 - 0.02))
    assert got[("S", "inner")] == pytest.approx(0.25 * (0.03 - 0.03))
    assert got[("E", "mix")] == pytest.approx((0.75 - 0.5) * (0.02 - 0.025))
    assert got[("S", "mix")] == pytest.approx((0.25 - 0.5) * (0.03 - 0.025))
    assert sum(got.values()) == pytest.approx(60 / 2000 - 50 / 2000)


def test_ratio_mix_new_segment_is_all_mix_and_sums():
    rows = ratio_mix({"A": 10.0}, {"A": 100.0}, {"A": 12.0, "B": 10.0}, {"A": 100.0, "B": 50.0})
    got = {(r["item"], r["effect"]): r["contribution"] for r in rows}
    assert got[("B", "inner")] == 0.0
    assert sum(got.values()) == pytest.approx(22 / 150 - 0.1)
