"""The run folder: one layout, one reader of outputs and metrics, one reader and writer of the manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from digiops.errors import ArchiveError
from digiops.manifest import Manifest, StageEntry
from digiops.runfolder import RunFolder, output_name, report_name

# Manifests written by the runner before the manifest was typed: a run with a succeeded, a failed (cell error) and
# a skipped stage, and a demo run stopped by SIGTERM mid-stage.
MANIFESTS = Path(__file__).parent / "fixtures" / "manifests"


@pytest.fixture
def run(tmp_path) -> RunFolder:
    return RunFolder(tmp_path / "acme" / "20260416T120000-000000-aaaaaa")


def test_layout_names_every_file_of_a_run(run):
    assert run.manifest_path == run.path / "manifest.json"
    assert (run.index, run.run_page) == (run.path / "index.html", run.path / "run.html")
    assert run.report("merge") == run.path / "merge.html" and report_name("merge") == "merge.html"
    assert run.notebook("01_clean_merge.ipynb") == run.path / "notebooks" / "01_clean_merge.ipynb"
    assert run.output("merge", "customers.parquet") == run.path / "outputs" / "merge" / "customers.parquet"
    assert output_name("merge", "customers.parquet") == "outputs/merge/customers.parquet"


def test_tables_are_read_by_suffix_and_absent_ones_are_none(run):
    scores = pd.DataFrame({"dimension": ["overall"], "level": [2.5]})
    run.stage_dir("maturity").mkdir(parents=True)
    scores.to_csv(run.output("maturity", "scores.csv"), index=False)
    scores.to_parquet(run.output("maturity", "roadmap.parquet"))

    assert run.has_output("maturity", "scores.csv") and not run.has_output("maturity", "scores.parquet")
    pd.testing.assert_frame_equal(run.table("maturity", "scores.csv"), scores)
    pd.testing.assert_frame_equal(run.table("maturity", "roadmap.parquet"), scores)
    assert run.table("maturity", "scores.parquet") is None and run.table("kpi", "attainment.parquet") is None
    pd.testing.assert_frame_equal(run.first_table("maturity", "scores.parquet", "scores.csv"), scores)
    assert run.first_table("kpi", "attainment.parquet", "attainment.csv") is None


def test_metrics_are_recorded_together_and_empty_when_none(run):
    assert run.metrics("labels") == {}

    run.record_metrics("labels", tags=12)
    recorded = run.record_metrics("labels", customers=40, tags=13)

    assert recorded == {"tags": 13, "customers": 40} == run.metrics("labels")
    assert json.loads(run.output("labels", "metrics.json").read_text(encoding="utf-8")) == recorded
    assert run.stage_files("labels") == [run.output("labels", "metrics.json")] and run.stage_files("kpi") == []


@pytest.mark.parametrize("name, status", [("failed_stage", "failed"), ("interrupted", "failed"),
                                          ("reused_stage", "succeeded")])
def test_a_manifest_written_by_the_runner_reads_and_writes_back_the_same(run, name, status):
    written = json.loads((MANIFESTS / f"{name}.json").read_text(encoding="utf-8"))
    run.path.mkdir(parents=True)
    shutil.copy(MANIFESTS / f"{name}.json", run.manifest_path)

    manifest = run.read_manifest()
    assert run.is_run and manifest.schema_version == 1 and manifest.status == status
    assert manifest.to_json() == written

    run.write_manifest(manifest)
    assert json.loads(run.manifest_path.read_text(encoding="utf-8")) == written


def test_the_fixture_manifests_hold_every_optional_key():
    """The round trip above proves something only while the fixtures carry the keys written when set."""
    stage_keys = set().union(*(entry.keys() for name in ("failed_stage", "interrupted", "reused_stage")
                               for entry in json.loads((MANIFESTS / f"{name}.json").read_text())["stages"]))
    assert StageEntry.WRITTEN_WHEN_SET <= stage_keys
    assert "interrupted" in json.loads((MANIFESTS / "interrupted.json").read_text())


def test_the_typed_manifest_gives_the_stages_their_types(run):
    run.path.mkdir(parents=True)
    shutil.copy(MANIFESTS / "failed_stage.json", run.manifest_path)

    manifest = run.read_manifest()

    failed = manifest.stage("custom_fail")
    assert failed.error.cell == 5 and failed.error.ename == "ValueError" and failed.report == "custom_fail.html"
    assert manifest.stage("after_fail").reason == "needs stage 'custom_fail', which failed"
    inventory = manifest.stage("inventory")
    assert inventory.metrics == {"sources": 1, "rows": 2, "unreadable": 0}
    assert [o.path for o in inventory.outputs][-1] == "outputs/inventory/metrics.json"
    assert manifest.stage("nonexistent") is None


def test_a_folder_without_a_manifest_is_not_a_run(run):
    run.path.mkdir(parents=True)

    assert not run.is_run
    with pytest.raises(ArchiveError, match=r"no manifest.json: this is not a run folder \(fix: pass a folder"):
        run.read_manifest()


@pytest.mark.parametrize("text, message", [
    ('{"client": "acme", "run_id": "r", "stages": [', r"unreadable manifest \(cannot be read as JSON"),
    ('{"client": "acme", "run_id": "r", "status": "done", "stages": []}', r"status: not a run manifest"),
    ('{"client": "acme", "run_id": "r", "stages": [{"name": "kpi"}]}', r"stages\.0\.notebook: not a run manifest"),
    ('{"schema_version": 2, "client": "acme", "run_id": "r", "stages": []}', r"schema_version: not a run manifest"),
])
def test_an_unreadable_manifest_is_a_located_error(run, text, message):
    run.path.mkdir(parents=True)
    run.manifest_path.write_text(text, encoding="utf-8")

    with pytest.raises(ArchiveError, match=message) as caught:
        run.read_manifest()
    assert str(run.manifest_path) in str(caught.value) and "fix: run the engagement again" in str(caught.value)


def test_a_written_manifest_is_read_back_equal(run):
    manifest = Manifest(client="acme", run_id=run.path.name, pid=1, host="h",
                        stages=[StageEntry(name="inventory", notebook="00_inventory.ipynb")])
    manifest.stages[0].status, manifest.interrupted = "failed", "SIGTERM"

    run.write_manifest(manifest)

    assert run.read_manifest() == manifest
    assert not list(run.path.glob(".manifest.json.*"))  # written through a temporary file, renamed
