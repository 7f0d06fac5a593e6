"""What the kpi stage writes for the dashboard besides the review's figures: the action log with what each action's
KPI did, and the KPI tree as rows (the dashboard reads them from the run folder and recomputes nothing)."""

from __future__ import annotations

import pandas as pd

from digiops import io, paths
from digiops.context import StageContext
from digiops.kpi import review as kpi_review
from digiops.kpi.loop import ACTION_COLUMNS
from digiops.kpi.tree import load_tree
from digiops.runner import missing_outputs
from digiops.runfolder import RunFolder
from digiops.stages import BUILTIN
from tests.kpi import kpi_fixtures as fx


def test_the_stage_writes_the_action_log_and_the_tree_it_declares(tmp_path):
    # Arrange: the fixture client (demo tree, two logged actions) and a run folder with the merge outputs
    run_dir = tmp_path / "run"
    ctx = StageContext.open("kpi", engagement_path=str(fx.write_client(tmp_path / "client", run_dir)),
                            run_dir=str(run_dir))
    # Act
    kpi_review.run(ctx)
    # Assert: every declared output is there, the two new ones included
    folder = RunFolder(run_dir)
    assert {"actions.parquet", "tree.parquet"} <= set(BUILTIN["kpi"].outputs)
    assert missing_outputs(BUILTIN["kpi"], folder) is None
    actions = pd.read_parquet(run_dir / "outputs" / "kpi" / "actions.parquet")
    assert list(actions.columns) == ACTION_COLUMNS
    assert actions[["action_id", "kpi", "overdue"]].values.tolist() == [["A1", "gmv", False],
                                                                        ["A2", "on_time_rate", True]]
    gmv = actions.iloc[0]  # agreed 2026-03-02: GMV of February against March, the review month
    assert (gmv["period_from"], gmv["period_to"]) == ("2026-02", "2026-03")
    assert gmv["change"] == gmv["value_to"] - gmv["value_from"] and gmv["improved"] == (gmv["change"] > 0)
    tree = pd.read_parquet(run_dir / "outputs" / "kpi" / "tree.parquet")
    placed = {(k, p if isinstance(p, str) else None): n for k, p, n in tree[["kpi", "parent", "position"]].values}
    assert placed[("gmv", None)] == 0
    assert [placed[(k, "gmv")] for k in ("traffic", "conversion_rate", "aov")] == [0, 1, 2]
    assert (placed[("orders", "conversion_rate")], placed[("traffic", "conversion_rate")]) == (0, 1)  # two parents
    assert tree.set_index("kpi").loc["gmv", "combine"] == "product"
    assert tree.set_index("kpi").loc["repurchase_rate", "goal"] == "loyalty"


def test_without_an_action_log_the_stage_still_writes_one_with_its_columns(tmp_path):
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml", known_units={"all", "online", "华东", "华南",
                                                                            *fx.STORES})
    review = kpi_review.build_review(tree, fx.orders_frame(), stores=fx.stores_frame(), targets=fx.target_rows())

    written = io.write_parquet(tmp_path / "actions.parquet", review.tables()["actions"])

    assert list(pd.read_parquet(written).columns) == ACTION_COLUMNS and len(pd.read_parquet(written)) == 0
    assert len(review.tables()["tree"]) == sum(max(len(tree.parents(k)), 1) for k in tree.nodes)  # a row per parent
