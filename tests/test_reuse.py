"""Rerunning some stages of a client takes the stages they read from an earlier run, unchanged (digiops.reuse)."""

from __future__ import annotations

import pytest

from digiops.errors import StageError
from digiops.runfolder import RunFolder
from digiops.runner import run_engagement
from tests.conftest import add_custom_stage


@pytest.fixture
def two_stage_client(client_dir):
    """inventory, and a custom stage that depends on it."""
    return add_custom_stage(client_dir, "custom_ok", "custom_ok.ipynb")


def test_a_rerun_of_one_stage_takes_what_it_reads_from_the_latest_run_and_records_it(two_stage_client, tmp_path):
    engagement = two_stage_client / "engagement.yaml"
    first = run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None)
    again = run_engagement(engagement, stages=["custom_ok"], out=tmp_path / "reports", log=lambda line: None)

    manifest = RunFolder(again.run_dir).read_manifest()
    inventory = manifest.stage("inventory")
    assert again.status == "succeeded" and [s.name for s in manifest.stages] == ["inventory", "custom_ok"]
    assert inventory.reused_from == first.run_id and inventory.status == "succeeded"
    assert (again.run_dir / "outputs" / "inventory" / "inventory.parquet").read_bytes() == (
        first.run_dir / "outputs" / "inventory" / "inventory.parquet").read_bytes()
    assert (again.run_dir / "inventory.html").exists()  # the run folder is complete on its own
    assert manifest.stage("custom_ok").reused_from is None


def test_a_changed_input_refuses_the_rerun_naming_the_file_and_the_command(two_stage_client, tmp_path):
    engagement = two_stage_client / "engagement.yaml"
    first = run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None)
    crm = two_stage_client / "raw" / "crm.csv"
    crm.write_bytes(crm.read_bytes() + "A3,王五,13700137003,广州\r\n".encode("gb18030"))

    with pytest.raises(StageError, match=rf"cannot be reused from run {first.run_id}: raw/crm.csv \(its content\)"
                                         r".*digiops run acme --stages inventory,custom_ok"):
        run_engagement(engagement, stages=["custom_ok"], out=tmp_path / "reports", log=lambda line: None)
    assert len([p for p in (tmp_path / "reports" / "acme").iterdir() if p.is_dir()]) == 1  # refused before a folder exists


def test_from_run_names_the_run_and_an_unknown_one_is_a_clear_error(two_stage_client, tmp_path):
    engagement = two_stage_client / "engagement.yaml"
    first = run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None)
    run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None)

    chosen = run_engagement(engagement, stages=["custom_ok"], out=tmp_path / "reports", log=lambda line: None,
                            from_run=first.run_id)

    assert RunFolder(chosen.run_dir).read_manifest().stage("inventory").reused_from == first.run_id
    with pytest.raises(StageError, match="no run of this client is called 2020"):
        run_engagement(engagement, stages=["custom_ok"], out=tmp_path / "reports", log=lambda line: None, from_run="2020")
    with pytest.raises(StageError, match="--stages"):
        run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None, from_run=first.run_id)


def test_without_an_earlier_run_the_stage_that_needs_it_is_skipped_as_before(two_stage_client, tmp_path):
    result = run_engagement(two_stage_client / "engagement.yaml", stages=["custom_ok"], out=tmp_path / "reports",
                            log=lambda line: None)

    entry = RunFolder(result.run_dir).read_manifest().stage("custom_ok")
    assert entry.status == "skipped" and "not part of this run" in entry.reason


def test_a_run_made_before_a_stage_wrote_a_new_output_is_not_reused(two_stage_client, tmp_path):
    """A stage that now declares an output its earlier run lacks (the kpi stage's tree.parquet, say) is run again
    rather than carried into a run folder that misses it."""
    engagement = two_stage_client / "engagement.yaml"
    first = run_engagement(engagement, out=tmp_path / "reports", log=lambda line: None)
    (first.run_dir / "outputs" / "inventory" / "columns.parquet").unlink()  # as an older version left it

    with pytest.raises(StageError, match=r"its output columns.parquet \(the earlier run has none"
                                         r".*--stages inventory,custom_ok"):
        run_engagement(engagement, stages=["custom_ok"], out=tmp_path / "reports", log=lambda line: None)
