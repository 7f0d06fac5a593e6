"""The kpi stage notebook end to end: on a fixture client (twice, the second run comparing with the first), and on
the demo engagement's shared run (tests/conftest.py `demo_run`) with GMV reconciled to the cent against
truth/orders.csv."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from digiops import paths, sources
from digiops.engagement import load_engagement
from digiops.kpi.actuals import base_metrics, store_regions
from tests.kpi import kpi_fixtures as fx

NOTEBOOK = paths.notebooks_dir() / "04_kpi.ipynb"
OUTPUTS = ("attainment", "variance", "funnel", "smart_checks", "runrate")


def run(engagement: Path | str, run_dir: Path, previous: Path | None = None) -> dict:
    pm.execute_notebook(str(NOTEBOOK), str(run_dir / "kpi.ipynb"), progress_bar=False,
                        parameters={"engagement_path": str(engagement), "run_dir": str(run_dir),
                                    "previous_run_dir": str(previous or "")})
    return json.loads((run_dir / "outputs" / "kpi" / "metrics.json").read_text(encoding="utf-8"))


def check_variance_sums(variance: pd.DataFrame) -> None:
    for _, group in variance.dropna(subset=["contribution"]).groupby(["kpi", "unit", "breakdown"]):
        assert group["contribution"].sum() == pytest.approx(group["change"].iloc[0], rel=1e-9, abs=1e-6)


def test_notebook_on_fixture_client_against_previous_run(tmp_path):
    # Arrange: the client's previous review (February) as an earlier run folder
    from digiops.context import StageContext
    from digiops.kpi.review import review_from_context

    run_dir, previous = tmp_path / "run", tmp_path / "previous"
    engagement = fx.write_client(tmp_path / "client", run_dir)
    earlier = StageContext.open("kpi", engagement_path=str(engagement), run_dir=str(run_dir))
    earlier.engagement.kpi.as_of = pd.Timestamp("2026-03-10").date()
    (previous / "outputs" / "kpi").mkdir(parents=True)
    review_from_context(earlier).attainment.to_parquet(previous / "outputs" / "kpi" / "attainment.parquet")
    # Act
    metrics = run(engagement, run_dir, previous=previous)
    # Assert: headline figures, recomputed independently from the fixture orders
    orders = fx.orders_frame()
    march = orders[(orders["order_time"].dt.strftime("%Y-%m") == "2026-03") & ~orders["is_test"]]
    assert Decimal(metrics["gmv_actual"]) == sum(march["amount"], Decimal(0))
    assert metrics["review_period"] == "2026-03" and metrics["runrate_period"] == "2026-04"
    assert metrics["gmv_target"] == 150000.0
    assert metrics["main_driver"] in {"traffic", "conversion_rate", "aov"}
    april = orders[(orders["order_time"].dt.strftime("%Y-%m") == "2026-04") & ~orders["is_test"]]
    to_date = float(sum(april["amount"], Decimal(0)))
    assert metrics["runrate_projection"] == pytest.approx(to_date + to_date / 15 * 15, abs=1e-6)
    assert metrics["runrate_required_daily"] == pytest.approx((170000 - to_date) / 15, abs=1e-6)
    for name in OUTPUTS:
        assert (run_dir / "outputs" / "kpi" / f"{name}.parquet").exists()
    attainment = pd.read_parquet(run_dir / "outputs" / "kpi" / "attainment.parquet")
    assert {"kpi", "unit", "period", "actual", "target", "attainment", "status"} <= set(attainment.columns)
    check_variance_sums(pd.read_parquet(run_dir / "outputs" / "kpi" / "variance.parquet"))
    executed = (run_dir / "kpi.ipynb").read_text(encoding="utf-8")
    assert "上次状态" in executed and "2026-02" in executed  # what changed since the February review


@pytest.mark.slow
def test_demo_run_reconciles_gmv_to_the_cent(demo_run):
    # Arrange: the demo engagement as `make demo` ran it (tests/conftest.py, once per session)
    orders = pd.read_parquet(demo_run / "outputs" / "merge" / "orders.parquet")
    stores = sources.canonical_frame(load_engagement("demo"), "stores")
    truth = pd.read_csv(paths.demo_client_dir() / "truth" / "orders.csv")
    # Act
    gmv = base_metrics(orders, regions=store_regions(stores)).query("metric == 'gmv' and unit == 'all'")
    metrics = json.loads((demo_run / "outputs" / "kpi" / "metrics.json").read_text(encoding="utf-8"))
    # Assert: total GMV over every month = sum of the valid orders' clean amounts in the raw exports
    valid_cents = int(truth.loc[truth["is_valid"].astype(str).str.lower() == "true", "amount_cents"].sum())
    assert sum(gmv["exact"], Decimal(0)) == Decimal(valid_cents) / 100
    assert metrics["review_period"] == "2026-09" and metrics["runrate_period"] == "2026-10"
    check_variance_sums(pd.read_parquet(demo_run / "outputs" / "kpi" / "variance.parquet"))
