"""Running engagements: the archive a run leaves, the failure path, custom stages, runs never overwriting."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from digiops.runfolder import RunFolder
from digiops.runner import run_engagement
from tests.conftest import tree_hashes, write_engagement

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import""", re.I)


def external_references(page: str) -> list[str]:
    """Anything a browser would fetch from another host: scripts, styles, images, fonts, imports."""
    soup = BeautifulSoup(page, "html.parser")
    found = [tag.get("src") for tag in soup.find_all(src=True) if not tag["src"].startswith(("data:", "#"))
             and "//" in tag["src"]]
    found += [tag.get("href") for tag in soup.find_all("link", href=True) if "//" in tag["href"]]
    found += [m.group(0) for style in soup.find_all("style") for m in re.finditer(
        r"url\(\s*['\"]?(?:https?:)?//[^)]*\)|@import[^;]*;", style.get_text())]
    return found


@pytest.fixture
def custom_client(client_dir):
    for name in ("custom_ok", "custom_fail"):
        shutil.copy(FIXTURES / f"{name}.ipynb", client_dir / f"{name}.ipynb")
    text = (client_dir / "engagement.yaml").read_text(encoding="utf-8")
    text = text.replace("stages: [inventory]", "stages: [inventory, custom_ok, custom_fail, after_fail]")
    text += """
custom_stages:
  - {name: custom_ok, notebook: custom_ok.ipynb, depends_on: [inventory]}
  - {name: custom_fail, notebook: custom_fail.ipynb}
  - {name: after_fail, notebook: custom_ok.ipynb, depends_on: [custom_fail]}
"""
    (client_dir / "engagement.yaml").write_text(text, encoding="utf-8")
    return client_dir


def test_inventory_run_archives_a_self_contained_report(client_dir, tmp_path):
    raw_before = tree_hashes(client_dir / "raw")

    result = run_engagement(client_dir, out=tmp_path / "reports", log=lambda _: None)

    assert result.status == "succeeded"
    run = result.run_dir
    assert run.parent == tmp_path / "reports" / "acme"
    page = (run / "inventory.html").read_text(encoding="utf-8")
    assert external_references(page) == []
    assert "injected-parameters" not in page and "engagement_path" not in page
    assert "数据盘点" in page and "示例客户" in page and result.run_id in page
    assert 'id="dg-toc"' in page and "来源一览" in BeautifulSoup(page, "html.parser").find(id="dg-toc").get_text()
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)  # the fill-rate chart, embedded
    assert "13800138001" not in page  # the inventory shows no personal values
    manifest = RunFolder(run).read_manifest()
    assert manifest.status == "succeeded" and manifest.schema_version == 1
    assert manifest.stages[0].metrics == {"sources": 1, "rows": 2, "unreadable": 0}
    assert {i.path for i in manifest.inputs} == {"engagement.yaml", "raw/crm.csv"}
    assert all(len(i.sha256) == 64 for i in manifest.inputs + manifest.stages[0].outputs)
    assert {o.path for o in manifest.stages[0].outputs} == {
        "outputs/inventory/inventory.parquet", "outputs/inventory/columns.parquet", "outputs/inventory/metrics.json"}
    assert (run / "outputs" / "inventory" / "inventory.parquet").exists()
    assert (run / "notebooks" / "00_inventory.ipynb").exists()
    assert (run / "index.html").exists() and (tmp_path / "reports" / "acme" / "index.html").exists()
    assert tree_hashes(client_dir / "raw") == raw_before


def test_failing_cell_is_recorded_rendered_and_blocks_dependents(custom_client, tmp_path):
    result = run_engagement(custom_client, out=tmp_path / "reports", log=lambda _: None)

    assert result.status == "failed"
    status = {s["name"]: s for s in result.stages}
    assert status["inventory"]["status"] == "succeeded"
    assert status["custom_ok"]["status"] == "succeeded"
    failed = status["custom_fail"]
    assert failed["status"] == "failed"
    assert failed["error"]["ename"] == "ValueError" and failed["error"]["evalue"] == "deliberate failure in cell 3"
    assert failed["error"]["cell"] == 5  # parameters, injected parameters, opener, narrative, then the raise
    assert status["after_fail"]["status"] == "skipped"
    assert status["after_fail"]["reason"] == "needs stage 'custom_fail', which failed"
    kept = nbformat.read(result.run_dir / "notebooks" / "custom_fail.ipynb", as_version=4)
    printed = [o.get("text", "") for c in kept.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any("before the failure" in t for t in printed)
    report = (result.run_dir / "custom_fail.html").read_text(encoding="utf-8")
    assert "deliberate failure in cell 3" in report
    client_index = (tmp_path / "reports" / "acme" / "index.html").read_text(encoding="utf-8")
    assert "dg-status-failed" in client_index and result.run_id in client_index
    assert (result.run_dir / "outputs" / "custom_ok" / "result.parquet").exists()


def test_two_runs_never_share_a_folder(client_dir, tmp_path):
    first = run_engagement(client_dir, out=tmp_path / "r", log=lambda _: None)
    second = run_engagement(client_dir, out=tmp_path / "r", log=lambda _: None)

    assert first.run_dir != second.run_dir and first.run_id < second.run_id
    assert RunFolder(second.run_dir).read_manifest().previous_run == first.run_id
    assert (first.run_dir / "inventory.html").exists()


def test_cli_exit_codes_and_list(custom_client, tmp_path):
    cli = shutil.which("digiops") or str(Path(__file__).parents[1] / ".venv" / "bin" / "digiops")
    out = tmp_path / "reports"

    failed = subprocess.run([cli, "run", str(custom_client), "--out", str(out)], capture_output=True, text=True)
    ok = subprocess.run([cli, "run", str(custom_client), "--stages", "inventory,custom_ok", "--out", str(out)],
                        capture_output=True, text=True)
    listing = subprocess.run([cli, "list", "acme", "--out", str(out)], capture_output=True, text=True)

    assert failed.returncode == 1, failed.stderr
    assert "stage custom_fail failed" in failed.stdout and "deliberate failure" in failed.stdout
    assert ok.returncode == 0, ok.stderr
    assert re.search(r"acme: succeeded — .*/index.html", ok.stdout)
    assert listing.stdout.count("succeeded") >= 1 and listing.stdout.count("failed") >= 1


def test_several_engagements_run_in_parallel_processes(client_dir, tmp_path):
    other = tmp_path / "beta"
    shutil.copytree(client_dir, other)
    text = (other / "engagement.yaml").read_text(encoding="utf-8").replace("id: acme", "id: beta")
    (other / "engagement.yaml").write_text(text, encoding="utf-8")
    from digiops.runner import run_many

    results = run_many([str(client_dir), str(other)], out=tmp_path / "reports", jobs=2, log=lambda _: None)

    assert [r.client for r in results] == ["acme", "beta"]
    assert all(r.status == "succeeded" for r in results)
    assert {r.run_dir.parent.name for r in results} == {"acme", "beta"}
    assert all(RunFolder(r.run_dir).read_manifest().pid != os.getpid() for r in results)


def test_batch_reports_every_engagement_that_cannot_run_by_name(tmp_path):
    from digiops.runner import run_many

    bad = write_engagement(tmp_path / "bad", body="kpi: {tree: 42, trees: x}\n")
    seen = []

    results = run_many([str(bad), str(tmp_path / "missing")], out=tmp_path / "reports", log=lambda _: None,
                       done=seen.append)

    assert [(r.client, r.status) for r in results] == [(str(bad), "refused"), (str(tmp_path / "missing"), "refused")]
    assert results[0].error.startswith("engagement.yaml: kpi.tree: Input should be a valid string (line 7)\n"
                                       "  engagement.yaml: kpi.trees: unknown key")
    assert "no engagement file found" in results[1].error
    assert seen == results and results[0].index is None


def test_a_stopped_run_records_every_stage_and_itself_as_final(client_dir, tmp_path):
    import signal

    from digiops.engagement import load_engagement
    from digiops.errors import RunInterrupted
    from digiops.runner import Run
    from digiops.stages import plan

    engagement = load_engagement(client_dir)
    run = Run(engagement, plan(engagement), tmp_path / "reports", log=lambda _: None)
    run.manifest.stages[0].status = "running"
    stop = RunInterrupted(signal.SIGTERM)

    run._record_stop(stop)

    recorded = json.loads((run.run_dir / "manifest.json").read_text(encoding="utf-8"))  # the file as written
    assert recorded["status"] == "failed" and recorded["interrupted"] == "SIGTERM"
    assert recorded["stages"][0]["status"] == "failed" and recorded["stages"][0]["reason"] == "interrupted by SIGTERM"
    assert stop.run_dir == str(run.run_dir)
    client_index = (tmp_path / "reports" / "acme" / "index.html").read_text(encoding="utf-8")
    assert "dg-status-failed" in client_index and "dg-status-running" not in client_index.split("</tr>", 2)[1]


def test_a_stage_that_finishes_without_a_declared_output_fails_with_its_name(client_dir, tmp_path, monkeypatch):
    from dataclasses import replace

    from digiops.stages import BUILTIN

    declared = replace(BUILTIN["inventory"], outputs=BUILTIN["inventory"].outputs + ("sources.csv",))
    monkeypatch.setitem(BUILTIN, "inventory", declared)
    lines = []

    result = run_engagement(client_dir, out=tmp_path / "reports", log=lines.append)

    assert result.status == "failed"
    [entry] = result.stages
    assert entry["status"] == "failed" and entry["error"]["cell"] is None and entry["error"]["ename"] == "StageError"
    assert entry["error"]["evalue"].startswith(
        "stage 'inventory': finished without writing outputs/inventory/sources.csv, which it declares (fix: write "
        "it in the stage's notebook (00_inventory.ipynb), or correct the stage's outputs in digiops.stages)")
    assert entry["report"] == "inventory.html" and len(entry["outputs"]) == 3  # what it wrote is still recorded
    assert any(" s — StageError: stage 'inventory': finished without writing" in line for line in lines), lines
    run_page = (result.run_dir / "run.html").read_text(encoding="utf-8")
    assert "outputs/inventory/sources.csv" in run_page


def test_missing_outputs_names_every_one_and_nothing_when_all_are_written(tmp_path):
    from digiops.runner import missing_outputs
    from digiops.stages import Stage

    stage = Stage("maturity", "03_maturity.ipynb", outputs=("scores.csv", "roadmap.csv", "metrics.json"))
    run = RunFolder(tmp_path)
    run.record_metrics("maturity", overall_level=2.5)

    error = missing_outputs(stage, run)

    assert error is not None and str(error).startswith(
        "stage 'maturity': finished without writing outputs/maturity/scores.csv, outputs/maturity/roadmap.csv, "
        "which it declares (fix: write them in the stage's notebook (03_maturity.ipynb)")
    for name in ("scores.csv", "roadmap.csv"):
        run.output("maturity", name).write_text("dimension\n", encoding="utf-8")
    assert missing_outputs(stage, run) is None
    assert missing_outputs(Stage("custom", "custom.ipynb"), run) is None  # a custom stage declares nothing
