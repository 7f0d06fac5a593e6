"""Accuracy on the demo client with the default settings, from the shared demo run (tests/conftest.py `demo_run`,
the engagement exactly as `make demo` runs it). The truth is read here, never by the stage."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from digiops import paths
from digiops.merge.evaluate import evaluate

pytestmark = pytest.mark.slow
TRUTH = paths.demo_client_dir() / "truth" / "identity.csv"


def merge_output(run_dir, name: str) -> pd.DataFrame:
    return pd.read_parquet(run_dir / "outputs" / "merge" / f"{name}.parquet")


def test_demo_accuracy_meets_the_bar(demo_run):
    scores = evaluate(merge_output(demo_run, "crosswalk"), pd.read_csv(TRUTH, dtype=str))

    assert scores["pairwise_f1"] >= 0.97, scores
    assert scores["b3_f1"] >= 0.97, scores


def test_demo_every_row_accounted_and_contract_columns(demo_run):
    metrics = json.loads((demo_run / "outputs" / "merge" / "metrics.json").read_text(encoding="utf-8"))
    orders, customers = merge_output(demo_run, "orders"), merge_output(demo_run, "customers")
    crosswalk, shipments = merge_output(demo_run, "crosswalk"), merge_output(demo_run, "shipments")
    quarantine = merge_output(demo_run, "quarantine")

    assert metrics["rows_in"] == metrics["rows_used"] + metrics["rows_quarantined"]
    assert metrics["rows_quarantined"] == len(quarantine) > 0
    assert orders["order_id"].is_unique
    schema = pq.read_schema(demo_run / "outputs" / "merge" / "orders.parquet")
    assert schema.field("amount").type == pa.decimal128(18, 2)  # exact amounts, as the contract says
    assert customers["customer_id"].is_unique
    assert crosswalk["customer_id"].isin(customers["customer_id"]).all()
    assert set(shipments["order_id"]) <= set(orders["order_id"])
