"""The stage notebook end to end (demo client when its raw files exist, else the fixture client)."""

from __future__ import annotations

import json

import pandas as pd
import papermill as pm
import pytest

from digiops import paths

from .fixture_client import make_client


@pytest.mark.slow
def test_notebook_runs_and_records_headline_figures(tmp_path):
    # Arrange
    demo = paths.demo_client_dir()
    engagement = "demo" if (demo / "raw" / "maturity_answers.xlsx").is_file() else str(
        make_client(tmp_path / "client"))
    run_dir = tmp_path / "run"
    # Act
    pm.execute_notebook(str(paths.notebooks_dir() / "03_maturity.ipynb"), str(tmp_path / "out.ipynb"),
                        parameters={"engagement_path": engagement, "run_dir": str(run_dir)}, progress_bar=False,
                        kernel_name="python3")
    # Assert
    out = run_dir / "outputs" / "maturity"
    scores = pd.read_csv(out / "scores.csv", encoding="utf-8-sig")
    assert scores["dimension"].tolist() == ["process_digitalization", "data_assetization", "business_online",
                                            "decision_intelligence", "overall"]
    assert {"score", "level", "band", "target", "gap", "severity", "respondent_spread"} <= set(scores.columns)
    assert ((scores["level"] - (1 + 4 * scores["score"] / 100)).abs() <= 0.05 + 1e-9).all()
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overall_level"] == scores.iloc[-1]["level"]
    assert metrics["largest_gap"] == scores.iloc[:4]["gap"].max()
    for name in ("department_scores", "question_stats", "bottlenecks", "roadmap"):
        assert (out / f"{name}.parquet").is_file()
    assert (out / "roadmap.csv").is_file()
    notebook = json.loads((tmp_path / "out.ipynb").read_text(encoding="utf-8"))
    assert sum("parameters" in c["metadata"].get("tags", []) for c in notebook["cells"]) == 1
