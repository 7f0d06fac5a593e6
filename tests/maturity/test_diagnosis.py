"""Value stream, benchmark, roadmap and settings."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from digiops.engagement import load_engagement
from digiops.errors import QuestionBankError
from digiops.maturity import value_stream as vs
from digiops.maturity.benchmark import compare, default_benchmark
from digiops.maturity.roadmap import build_roadmap, default_initiatives
from digiops.settings.maturity import MaturitySettings
from digiops.maturity.stage import run_maturity

from .fixture_client import make_client


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_maturity(load_engagement(make_client(tmp_path_factory.mktemp("diag") / "client")))


def test_seed_example_is_one_manual_hand_off_chain(result):
    # seed 004: 库存查询 → 订单分配 → 物流对接 by hand across systems, 2 hours, ≈ 15 % errors
    chain = result.chains.iloc[0]
    assert chain["path"] == "库存查询 → 订单分配 → 物流对接"
    assert chain["duration_hours"] == pytest.approx(2.0)
    assert chain["error_rate"] == pytest.approx(1 - 0.95 * 0.94 * 0.95)
    assert len(result.chains) == 1
    flags = result.nodes.set_index("node")
    assert flags.loc[["订单接收", "库存查询", "订单分配", "物流对接", "签收回传", "积分核对"], "handoff"].tolist() == [
        False, True, True, True, False, False]
    assert bool(flags.at["积分核对", "slow"]) and not bool(flags.at["积分核对", "handoff"])  # manual, one system
    assert flags.at["库存查询", "error_rate"] == pytest.approx(0.05) and bool(flags.at["库存查询", "error_prone"])


def test_root_causes_are_grouped_by_category(result):
    summary = result.root_causes.set_index("category")
    assert summary["bottlenecks"].to_dict() == {"technology": 1, "data_standards": 1, "organisation": 2}
    assert summary.at["organisation", "hours"] == pytest.approx(0.7 + 3.0)


def test_bottlenecks_sorted_most_flags_first(result):
    assert result.bottlenecks["node"].tolist()[:3] == ["订单分配", "物流对接", "库存查询"]
    assert result.bottlenecks["flags"].tolist() == [2, 2, 2, 1]


def test_value_stream_errors_name_node_and_row():
    frame = pd.DataFrame({"process": ["p"], "node": ["n1"], "mode": ["人工"], "error_rate": ["150%"],
                          "_row": [4]})
    with pytest.raises(QuestionBankError, match="node 'n1': error_rate '150%'") as info:
        vs.nodes_from_frame(frame, label="raw/value_stream.csv")
    assert info.value.row == 4
    with pytest.raises(QuestionBankError, match="mode 'sometimes'"):
        vs.nodes_from_frame(pd.DataFrame({"process": ["p"], "node": ["n"], "mode": ["sometimes"]}))


def test_benchmark_is_flagged_illustrative_and_positions_the_client(result):
    assert default_benchmark().illustrative
    bench = result.benchmark.set_index("dimension")
    # retail: PD p25 2.2 p50 2.8 p75 3.5, client 3.8; DI p50 2.1, client 2.1 (a boundary counts upward)
    assert bench.at["process_digitalization", "position"] == "above p75"
    assert bench.at["decision_intelligence", "position"] == "p50–p75"
    assert bench.at["decision_intelligence", "vs_median"] == 0.0


def test_unknown_industry_lists_the_known_ones(result):
    with pytest.raises(QuestionBankError, match="no industry 'mining'.*retail"):
        compare(result.scores, default_benchmark(), "mining")


def test_roadmap_picks_initiatives_by_largest_gap(result):
    # gaps: DI 1.5 critical (3 initiatives), DA 0.8 moderate (2), PD 0.2 minor (1), BO met (0);
    # pilot capped at 2: DI-01 and DA-01 stay, PD-01 moves to scale-up
    roadmap = result.roadmap
    assert roadmap["initiative_id"].tolist() == ["DI-01", "DA-01", "DI-02", "DA-02", "PD-01", "DI-03"]
    assert roadmap["phase"].tolist() == ["pilot", "pilot", "scale_up", "scale_up", "scale_up", "deepening"]
    assert roadmap.set_index("initiative_id").at["PD-01", "moved_from_pilot"]
    assert "business_online" not in set(roadmap["dimension"])
    # budget 1 000 000: pilot 20 % split by effort DI-01 1 : DA-01 2
    assert roadmap.set_index("initiative_id").at["DI-01", "budget"] == pytest.approx(200_000 / 3)
    assert roadmap["budget"].sum() == pytest.approx(1_000_000)


def test_budget_split_defaults_follow_the_seed(result):
    budget = result.budget.set_index(["phase", "category"])
    assert budget.at[("pilot", "technology"), "phase_share"] == 0.6
    assert budget.at[("scale_up", "people"), "phase_share"] == 0.3
    assert budget.at[("scale_up", "operations"), "phase_share"] == 0.3
    assert budget["budget"].sum() == pytest.approx(1_000_000)


def test_budget_split_is_configurable_and_checked(result):
    settings = MaturitySettings(budget_split={"pilot": {"technology": 0.5, "people": 0.5}}, total_budget=100)
    _, budget = build_roadmap(result.scores, default_initiatives(), settings)
    split = budget.set_index(["phase", "category"])["phase_share"]
    assert split[("pilot", "technology")] == 0.5 and split[("pilot", "operations")] == 0.0
    with pytest.raises(ValidationError, match="sum to 1"):
        MaturitySettings(budget_split={"pilot": {"technology": 0.7, "people": 0.5}})


def test_settings_reject_unknown_keys_and_bad_targets():
    with pytest.raises(ValidationError):
        MaturitySettings(target_levels={"x": 1})
    with pytest.raises(ValidationError, match="between 1 and 5"):
        MaturitySettings(targets={"data_assetization": 6})
    with pytest.raises(ValidationError):
        MaturitySettings(dimension_weights={"culture": 1})


def test_every_settings_field_is_documented():
    assert all(field.description for field in MaturitySettings.model_fields.values())
