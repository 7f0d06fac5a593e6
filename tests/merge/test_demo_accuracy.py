"""Accuracy on the demo client with the default settings (truth read here, never by the stage)."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops import paths
from digiops.engagement import load_engagement
from digiops.merge.evaluate import evaluate
from digiops.merge.pipeline import run_merge

TRUTH = paths.demo_client_dir() / "truth" / "identity.csv"


@pytest.fixture(scope="module")
def demo_result():
    if not TRUTH.exists():
        pytest.skip("demo client not generated (python -m digiops.demo)")
    engagement = load_engagement("demo", check_sources=False)
    return run_merge(engagement)


@pytest.mark.slow
def test_demo_accuracy_meets_the_bar(demo_result):
    scores = evaluate(demo_result.crosswalk, pd.read_csv(TRUTH, dtype=str))
    assert scores["pairwise_f1"] >= 0.97, scores
    assert scores["b3_f1"] >= 0.97, scores


@pytest.mark.slow
def test_demo_every_row_accounted_and_contract_columns(demo_result):
    assert demo_result.accounting["balanced"].all()
    assert demo_result.orders["order_id"].is_unique
    assert str(demo_result.orders["amount"].dtype) == "decimal128(18, 2)[pyarrow]"
    assert demo_result.customers["customer_id"].is_unique
    assert demo_result.crosswalk["customer_id"].isin(demo_result.customers["customer_id"]).all()
    assert set(demo_result.shipments["order_id"]) <= set(demo_result.orders["order_id"])
