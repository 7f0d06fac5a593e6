"""The target cascade (digiops.kpi.cascade): a top target split to regions, stores and months sums back to it to the
cent under every rule, the shares equal an independent computation, and coherence finds planted gaps."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from digiops.errors import KpiTreeError
from digiops.kpi.actuals import unit_table
from digiops.kpi.attainment import read_targets
from digiops.kpi.cascade import cascade, coherence, derive_targets, incoherences, split_exact
from digiops.kpi.tree import parse_tree
from digiops.settings.kpi import CascadeSettings, KpiSettings

REGIONS = {"S1": "East", "S2": "East", "S3": "South", "S4": "South"}
UNITS = unit_table(REGIONS)  # all; East, South, online; S1…S4, online
STORES = ["S1", "S2", "S3", "S4", "online"]
NAMES = {"name_zh": "x", "name_en": "x"}
TREE = parse_tree({"kpis": [
    {"id": "gmv", **NAMES, "measure": "元", "combine": "product", "children": ["traffic", "conversion", "aov"],
     "split_by": ["region", "store"], "source": {"metric": "gmv"}},
    {"id": "traffic", **NAMES, "measure": "人次", "split_by": ["region", "store"],
     "source": {"file": "traffic", "column": "visitors"}},
    {"id": "conversion", **NAMES, "measure": "%"},
    {"id": "aov", **NAMES, "measure": "元/单"}]}, "kpi_tree.yaml")

# GMV actuals per store, 2025-01 … 2026-03: each store a fixed level, East stronger in summer
LEVEL = {"S1": 1000.0, "S2": 3000.0, "S3": 2000.0, "S4": 500.0, "online": 3500.0}


def _months(start: str, count: int) -> list[str]:
    return [p.strftime("%Y-%m") for p in pd.period_range(start, periods=count, freq="M")]


def _actuals() -> pd.DataFrame:
    rows = []
    for month in _months("2025-01", 15):
        summer = 2.0 if month[5:] in ("06", "07", "08") else 1.0
        store = {s: LEVEL[s] * (summer if REGIONS.get(s) == "East" else 1.0) * (1 + int(month[5:]) / 100)
                 for s in STORES}
        region = {"East": store["S1"] + store["S2"], "South": store["S3"] + store["S4"], "online": store["online"]}
        rows += [{"kpi": "gmv", "level": "store", "unit": s, "period": month, "actual": v} for s, v in store.items()]
        rows += [{"kpi": "gmv", "level": "region", "unit": r, "period": month, "actual": v} for r, v in region.items()]
        rows.append({"kpi": "gmv", "level": "all", "unit": "all", "period": month, "actual": sum(store.values())})
    return pd.DataFrame(rows)


ACTUALS = _actuals()
TOP = 123_456.78


def _targets(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kpi", "unit", "period", "target"])


def _cents(values) -> Decimal:
    return sum((Decimal(repr(float(v))) for v in values), Decimal(0))


@pytest.mark.parametrize("settings", [
    CascadeSettings(rule="history"),
    CascadeSettings(rule="seasonality"),
    CascadeSettings(rule="weights", weights={"East": 5, "South": 3, "online": 2, "S1": 1, "S2": 2, "S3": 1, "S4": 1}),
], ids=["history", "seasonality", "weights"])
def test_every_rule_splits_the_top_target_so_the_parts_sum_to_it_to_the_cent(settings):
    table = derive_targets(TREE, _targets([("gmv", "all", "2026-03", TOP)]), ACTUALS, UNITS, settings)

    month = table[table["month"] == "2026-03"]
    regions, stores = month[month["level"] == "region"], month[month["level"] == "store"]
    assert set(regions["unit"]) == {"East", "South", "online"}
    assert set(stores["unit"]) == {"S1", "S2", "S3", "S4"}  # the online unit is one unit, its region
    assert _cents(regions["target"]) == Decimal("123456.78")
    for region, stores_in in (("East", ["S1", "S2"]), ("South", ["S3", "S4"])):
        region_target = Decimal(repr(float(regions.loc[regions["unit"] == region, "target"].iloc[0])))
        assert _cents(stores[stores["unit"].isin(stores_in)]["target"]) == region_target
    assert (month.loc[month["source"] == "derived", "rule"] == settings.rule).all()
    assert all(Decimal(repr(float(v))) == Decimal(repr(float(v))).quantize(Decimal("0.01")) for v in month["target"])


def test_history_shares_equal_an_independent_computation():
    settings = CascadeSettings(rule="history", history_months=3)
    table = derive_targets(TREE, _targets([("gmv", "all", "2026-03", TOP)]), ACTUALS, UNITS, settings)

    # by hand: Σ of each region's actuals over 2025-12, 2026-01, 2026-02 (the three months before March)
    window = ACTUALS[(ACTUALS["level"] == "region") & ACTUALS["period"].isin(["2025-12", "2026-01", "2026-02"])]
    by_region = window.groupby("unit")["actual"].sum()
    expected = by_region / by_region.sum() * TOP
    derived = table[(table["level"] == "region") & (table["month"] == "2026-03")].set_index("unit")["target"]
    for region, value in expected.items():
        assert derived[region] == pytest.approx(value, abs=0.01)
    # East's stores: their share of East over the same window
    east = ACTUALS[ACTUALS["unit"].isin(["S1", "S2"]) & ACTUALS["period"].isin(["2025-12", "2026-01", "2026-02"])]
    s1_share = east.loc[east["unit"] == "S1", "actual"].sum() / east["actual"].sum()
    stores = table[(table["level"] == "store") & (table["month"] == "2026-03")].set_index("unit")["target"]
    assert stores["S1"] == pytest.approx(derived["East"] * s1_share, abs=0.01)


def test_seasonality_takes_last_years_same_month_and_weights_are_normalised():
    july = _targets([("gmv", "all", "2026-07", 10_000.0)])
    seasonal = derive_targets(TREE, july, ACTUALS, UNITS, CascadeSettings(rule="seasonality"))
    last_july = ACTUALS[(ACTUALS["level"] == "region") & (ACTUALS["period"] == "2025-07")].set_index("unit")["actual"]
    regions = seasonal[seasonal["level"] == "region"].set_index("unit")["target"]
    assert regions["East"] == pytest.approx(10_000 * last_july["East"] / last_july.sum(), abs=0.01)
    assert (seasonal.loc[seasonal["source"] == "derived", "rule"] == "seasonality").all()

    weights = {"East": 2, "South": 1, "online": 1, "S1": 3, "S2": 1, "S3": 1, "S4": 1}
    weighted = derive_targets(TREE, july, ACTUALS, UNITS, CascadeSettings(rule="weights", weights=weights))
    targets = weighted.set_index("unit")["target"]
    assert (targets["East"], targets["South"], targets["online"]) == (5000.0, 2500.0, 2500.0)
    assert (targets["S1"], targets["S2"]) == (3750.0, 1250.0)


def test_without_history_the_split_is_equal_and_says_so():
    table = derive_targets(TREE, _targets([("gmv", "all", "2024-01", 300.0)]), ACTUALS, UNITS, CascadeSettings())

    regions = table[table["level"] == "region"]
    assert regions["target"].tolist() == [100.0, 100.0, 100.0]
    assert set(regions["rule"]) == {"equal"}


def test_given_lower_targets_are_kept_and_the_other_units_share_the_remainder():
    given = _targets([("gmv", "all", "2026-03", 10_000.0), ("gmv", "East", "2026-03", 6_000.0)])

    table = derive_targets(TREE, given, ACTUALS, UNITS, CascadeSettings(rule="weights", weights={
        "East": 1, "South": 3, "online": 1, "S1": 1, "S2": 1, "S3": 1, "S4": 1}))

    targets = table.set_index("unit")
    assert targets.loc["East", "target"] == 6000.0 and targets.loc["East", "source"] == "given"
    assert (targets.loc["South", "target"], targets.loc["online", "target"]) == (3000.0, 1000.0)
    assert targets.loc[["S1", "S2"], "target"].tolist() == [3000.0, 3000.0]


def test_a_years_target_is_split_to_months_by_last_years_month_shares():
    table = derive_targets(TREE, _targets([("gmv", "all", "2026", 1_200_000.0)]), ACTUALS, UNITS, CascadeSettings())

    months = table[(table["unit"] == "all") & (table["month"].str.len() == 7)].set_index("month")["target"]
    assert len(months) == 12 and _cents(months) == Decimal("1200000.0")
    last_year = ACTUALS[(ACTUALS["unit"] == "all") & ACTUALS["period"].str.startswith("2025")]
    july = last_year.loc[last_year["period"] == "2025-07", "actual"].iloc[0] / last_year["actual"].sum()
    assert months["2026-07"] == pytest.approx(1_200_000 * july, abs=0.01)
    assert set(table.loc[(table["unit"] == "all") & (table["month"] != "2026"), "rule"]) == {"last_year"}
    # and each month goes on down to the regions
    july_regions = table[(table["month"] == "2026-07") & (table["level"] == "region")]["target"]
    assert _cents(july_regions) == Decimal(repr(float(months["2026-07"])))


def test_coherence_finds_a_planted_gap_with_the_right_amount_per_unit():
    rows = [("gmv", "all", "2026-03", 10_000.0), ("gmv", "East", "2026-03", 4_000.0),
            ("gmv", "South", "2026-03", 3_000.0), ("gmv", "online", "2026-03", 3_000.0),
            ("gmv", "S1", "2026-03", 2_000.0), ("gmv", "S2", "2026-03", 2_000.0),
            ("gmv", "S3", "2026-03", 1_000.0), ("gmv", "S4", "2026-03", 1_700.0)]  # South's stores: 300 short
    checks = coherence(_targets(rows), TREE, UNITS, tolerance=0.005)

    failed = incoherences(checks)
    assert failed[["unit", "check", "target", "expected", "gap"]].values.tolist() == [
        ["South", "sum", 3000.0, 2700.0, -300.0]]
    assert failed["gap_share"].iloc[0] == pytest.approx(-0.1)
    assert checks.set_index("unit").loc[["all", "East"], "coherent"].tolist() == [True, True]


def test_a_gap_within_the_tolerance_is_coherent():
    rows = [("gmv", "all", "2026-03", 10_000.0), ("gmv", "East", "2026-03", 4_020.0),
            ("gmv", "South", "2026-03", 3_000.0), ("gmv", "online", "2026-03", 3_000.0)]  # +0.2 %

    checks = coherence(_targets(rows), TREE, UNITS, tolerance=0.005)

    row = checks[checks["unit"] == "all"].iloc[0]
    assert (row["gap"], bool(row["coherent"])) == (20.0, True)


def test_a_product_kpi_whose_factors_do_not_multiply_to_its_target_is_found():
    rows = [("gmv", "all", "2026-03", 100_000.0), ("traffic", "all", "2026-03", 50_000.0),
            ("conversion", "all", "2026-03", 0.05), ("aov", "all", "2026-03", 38.0),   # 50 000 × 5 % × 38 = 95 000
            ("gmv", "all", "2026-04", 95_000.0), ("traffic", "all", "2026-04", 50_000.0),
            ("conversion", "all", "2026-04", 0.05), ("aov", "all", "2026-04", 38.0)]

    checks = coherence(_targets(rows), TREE, UNITS)

    product = checks[checks["check"] == "product"].set_index("month")
    assert product.loc["2026-03", "expected"] == pytest.approx(95_000.0)
    assert product.loc["2026-03", "gap"] == pytest.approx(-5_000.0)
    assert not product.loc["2026-03", "coherent"] and product.loc["2026-04", "coherent"]


def test_the_cascade_table_carries_source_rule_and_gaps():
    given = _targets([("gmv", "all", "2026-03", 10_000.0), ("traffic", "all", "2026-03", 5_000.0),
                      ("conversion", "all", "2026-03", 0.05), ("aov", "all", "2026-03", 38.0)])

    table = cascade(TREE, given, ACTUALS, UNITS, CascadeSettings())

    top = table[(table["kpi"] == "gmv") & (table["unit"] == "all")].iloc[0]
    assert (top["source"], top["children_sum"], top["gap"]) == ("given", 10_000.0, 0.0)
    assert top["factors"] == pytest.approx(9_500.0) and top["factor_gap"] == pytest.approx(-500.0)
    assert not top["coherent"]
    # traffic has no actuals here: its split is equal, in whole visitors, and says so
    traffic = table[(table["kpi"] == "traffic") & (table["level"] == "region")]
    assert traffic["target"].tolist() == [1667.0, 1667.0, 1666.0] and set(traffic["rule"]) == {"equal"}


def test_split_exact_gives_the_remainder_to_the_largest_fractions():
    parts = split_exact(0.10, {"a": 1, "b": 1, "c": 1})

    assert parts == {"a": 0.04, "b": 0.03, "c": 0.03}


def test_weights_naming_an_unknown_unit_are_a_located_error():
    with pytest.raises(KpiTreeError) as error:
        derive_targets(TREE, _targets([("gmv", "all", "2026-03", TOP)]), ACTUALS, UNITS,
                       CascadeSettings(rule="weights", weights={"East": 1, "Nort": 1}), label="engagement.yaml")

    assert error.value.field == "kpi.cascade.weights.Nort"
    assert error.value.location == "engagement.yaml" and "not a known unit" in error.value.problem
    assert "East" in error.value.fix and "online" in error.value.fix


def test_a_negative_weight_is_a_located_error():
    with pytest.raises(KpiTreeError) as error:
        derive_targets(TREE, _targets([("gmv", "all", "2026-03", TOP)]), ACTUALS, UNITS,
                       CascadeSettings(rule="weights", weights={"East": 1, "South": -1, "online": 1}))

    assert error.value.field == "kpi.cascade.weights.South" and "≥ 0" in error.value.problem
    assert error.value.fix


def test_rule_weights_without_a_weight_for_every_unit_says_which_are_missing():
    with pytest.raises(KpiTreeError) as error:
        derive_targets(TREE, _targets([("gmv", "all", "2026-03", TOP)]), ACTUALS, UNITS,
                       CascadeSettings(rule="weights", weights={"East": 1, "South": 1, "online": 1}))

    assert error.value.field == "kpi.cascade.weights"
    assert "S1" in error.value.problem and "history" in error.value.fix


def test_unknown_cascade_settings_are_refused():
    with pytest.raises(ValueError):
        KpiSettings.model_validate({"cascade": {"rule": "history", "tolerence": 0.01}})
    with pytest.raises(ValueError):
        KpiSettings.model_validate({"cascade": {"rule": "guess"}})


def test_a_years_target_in_the_targets_file_is_read():
    frame = pd.DataFrame({"kpi_id": ["gmv", "gmv"], "unit": ["all", "all"], "period": ["2026", "2026年3月"],
                          "target": ["1,200,000", "90000"], "_row": [2, 3]})

    targets = read_targets(frame, TREE, set(UNITS["unit"]), "kpi_targets.csv")

    assert targets["period"].tolist() == ["2026", "2026-03"]
