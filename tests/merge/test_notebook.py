"""The stage notebook runs end to end (on a small fixture engagement) and writes the contract's outputs."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import person_sources, write_engagement
from digiops import paths

OUTPUTS = ("crosswalk.parquet", "customers.parquet", "orders.parquet", "shipments.parquet", "products.parquet",
           "quarantine.parquet", "data_quality.parquet", "review_pairs.xlsx")


@pytest.mark.slow
def test_notebook_writes_outputs_and_records_counts(tmp_path):
    import papermill as pm

    sources, _ = person_sources(80, seed=5)
    engagement = write_engagement(tmp_path / "client", sources)
    run_dir = tmp_path / "run"
    pm.execute_notebook(str(paths.notebooks_dir() / "01_clean_merge.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"engagement_path": str(engagement.file), "run_dir": str(run_dir)},
                        progress_bar=False)
    outputs = run_dir / "outputs" / "merge"
    assert all((outputs / name).exists() for name in OUTPUTS)
    metrics = json.loads((outputs / "metrics.json").read_text(encoding="utf-8"))
    crosswalk = pd.read_parquet(outputs / "crosswalk.parquet")
    assert metrics["records"] == len(crosswalk) == metrics["rows_used"]
    assert metrics["customers"] == crosswalk["customer_id"].nunique()
