"""KPI tree validation, targets and action log: every structural error names the node (or row)."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops import paths
from digiops.errors import KpiTreeError
from digiops.kpi.attainment import read_targets
from digiops.kpi.loop import action_effects
from digiops.kpi.tree import load_tree, parse_tree

GOALS = [{"id": "growth", "name_zh": "增长", "name_en": "Growth"}]


def node(node_id: str, **extra) -> dict:
    return {"id": node_id, "name_zh": node_id, "name_en": node_id, **extra}


def test_demo_tree_is_valid_and_rooted():
    # Act
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    # Assert
    assert tree.nodes["gmv"].children == ["traffic", "conversion_rate", "aov"]
    assert {tree.root_goal(k) for k in tree.nodes} == {"growth", "loyalty", "fulfilment"}
    assert tree.order().index("traffic") < tree.order().index("conversion_rate") < tree.order().index("gmv")


def test_cycle_names_the_node():
    data = {"strategic_goals": GOALS, "kpis": [
        node("gmv", goal="growth", combine="sum", children=["a"]),
        node("a", combine="sum", children=["b"]),
        node("b", combine="sum", children=["a"])]}
    with pytest.raises(KpiTreeError, match=r"kpi_tree.yaml: kpis\.a\.children: cycle a → b → a"):
        parse_tree(data, "kpi_tree.yaml")


def test_self_loop_is_a_cycle():
    data = {"strategic_goals": GOALS, "kpis": [node("gmv", goal="growth", combine="sum", children=["gmv"])]}
    with pytest.raises(KpiTreeError, match="cycle gmv → gmv"):
        parse_tree(data, "kpi_tree.yaml")


def test_child_under_two_parents_of_different_units_names_the_child():
    data = {"strategic_goals": GOALS, "kpis": [
        node("gmv_east", unit="华东", goal="growth", combine="sum", children=["gmv_s01"]),
        node("gmv_south", unit="华南", goal="growth", combine="sum", children=["gmv_s01"]),
        node("gmv_s01", unit="S01")]}
    with pytest.raises(KpiTreeError) as caught:
        parse_tree(data, "kpi_tree.yaml")
    assert caught.value.field == "kpis.gmv_s01"
    assert "different units (华东, 华南)" in str(caught.value)


def test_child_shared_by_parents_of_the_same_unit_is_fine():
    data = {"strategic_goals": GOALS, "kpis": [
        node("gmv", goal="growth", combine="product", children=["traffic", "cr"]),
        node("cr", combine="ratio", children=["orders", "traffic"]), node("orders"), node("traffic")]}
    assert parse_tree(data, "t.yaml").parents("traffic") == ["gmv", "cr"]


def test_unknown_unit_names_the_node():
    data = {"strategic_goals": GOALS, "kpis": [node("gmv", unit="火星", goal="growth")]}
    with pytest.raises(KpiTreeError, match=r"kpis\.gmv\.unit: unit '火星' is not a known unit"):
        parse_tree(data, "kpi_tree.yaml", known_units={"all", "华东", "S01"})


def test_unknown_child_and_goal_name_the_node():
    with pytest.raises(KpiTreeError, match=r"kpis\.gmv\.children: child 'nope'"):
        parse_tree({"kpis": [node("gmv", combine="sum", children=["nope"])]}, "t.yaml")
    with pytest.raises(KpiTreeError, match=r"kpis\.gmv\.goal: goal 'nope'"):
        parse_tree({"kpis": [node("gmv", goal="nope")]}, "t.yaml")


def test_bad_node_field_names_the_node():
    with pytest.raises(KpiTreeError, match=r"kpis\[0\] \(gmv\)\.direction"):
        parse_tree({"kpis": [node("gmv", direction="up")]}, "t.yaml")
    with pytest.raises(KpiTreeError, match="ratio needs exactly two children"):
        parse_tree({"kpis": [node("cr", combine="ratio", children=["a"]), node("a")]}, "t.yaml")


def _targets(*rows):
    frame = pd.DataFrame(rows, columns=["kpi_id", "unit", "period", "target"])
    frame["_row"] = range(2, len(frame) + 2)
    return frame


def test_target_for_unknown_unit_names_row_and_kpi():
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    frame = _targets(("gmv", "all", "2026-03", "100"), ("gmv", "S99", "2026-03", "10"))
    with pytest.raises(KpiTreeError) as caught:
        read_targets(frame, tree, {"all", "华东", "S01"}, "raw/kpi_targets.csv")
    assert str(caught.value).startswith("raw/kpi_targets.csv: unit: row 3: target of KPI 'gmv' for unknown unit 'S99'")


def test_target_for_unknown_kpi_names_it():
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    with pytest.raises(KpiTreeError, match="row 2: target for unknown KPI 'nps'"):
        read_targets(_targets(("nps", "all", "2026-03", "1")), tree, {"all"}, "raw/kpi_targets.csv")


def test_targets_are_parsed_as_the_client_writes_them():
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    frame = _targets(("gmv", "all", "2026/3", "¥1,250,000"), ("conversion_rate", "S01", "2026年4月", "2.5%"))
    got = read_targets(frame, tree, {"all", "S01"}, "t.csv")
    assert got.to_dict("records") == [
        {"kpi": "gmv", "unit": "all", "period": "2026-03", "target": 1_250_000.0},
        {"kpi": "conversion_rate", "unit": "S01", "period": "2026-04", "target": 0.025}]


def test_duplicate_target_is_an_error():
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    frame = _targets(("gmv", "all", "2026-03", "1"), ("gmv", "all", "2026-03", "2"))
    with pytest.raises(KpiTreeError, match="row 3: KPI 'gmv' has two targets"):
        read_targets(frame, tree, {"all"}, "t.csv")


def test_action_for_unknown_kpi_names_the_row():
    import datetime as dt

    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml")
    actions = pd.DataFrame([{"action_id": "A9", "kpi_id": "nps", "created_at": "2026-03-01", "_row": 4}])
    empty = pd.DataFrame(columns=["kpi", "unit", "period", "actual"])
    with pytest.raises(KpiTreeError, match="row 4: action 'A9' refers to unknown KPI 'nps'"):
        action_effects(actions, tree, empty, "2026-03", dt.date(2026, 4, 1))
