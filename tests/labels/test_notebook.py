"""The labels notebook end to end on a synthetic run folder, twice (the second run shows a migration matrix)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from tests.labels.synthetic import contract_tables, write_merge_outputs
from digiops.paths import notebooks_dir


@pytest.mark.slow
def test_labels_notebook_runs_and_records_results(tmp_path):
    import papermill as pm

    # Arrange
    first, second = tmp_path / "run1", tmp_path / "run2"
    write_merge_outputs(first, contract_tables(800, 6.0, seed=5, end=dt.date(2026, 8, 31)))
    write_merge_outputs(second, contract_tables(800, 6.0, seed=5))
    notebook = str(notebooks_dir() / "02_labels.ipynb")
    # Act
    pm.execute_notebook(notebook, str(tmp_path / "a.ipynb"), parameters={"run_dir": str(first)}, progress_bar=False)
    pm.execute_notebook(notebook, str(tmp_path / "b.ipynb"), progress_bar=False,
                        parameters={"run_dir": str(second), "previous_run_dir": str(first)})
    # Assert
    out = second / "outputs" / "labels"
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    tags = pd.read_parquet(out / "tags.parquet")
    assert metrics["customers"] == 800 == len(tags) and metrics["tags"] == 38 and metrics["conflicts"] == 0
    assert metrics["as_of"] == "2026-11-01"
    assert {"rfm_r", "rfm_f", "rfm_m", "recency_days", "frequency", "monetary", "rfm_segment"} <= set(tags.columns)
    matrix = pd.read_csv(out / "tag_matrix.csv", encoding="utf-8-sig")
    assert "phone" not in matrix.columns and len(matrix) == 800
    migration = pd.read_parquet(out / "migration.parquet")
    assert int(migration.drop(columns=["previous"]).to_numpy().sum()) == 800
    assert "<script" not in (out / "catalog.html").read_text(encoding="utf-8")
