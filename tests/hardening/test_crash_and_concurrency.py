"""Crashes and concurrent runs: whatever happens, every run folder is either complete and successful or marked
incomplete/failed in its manifest and the client's index, the index always opens, earlier runs are untouched,
and concurrent runs of one client get distinct folders and a consistent index.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from tests.conftest import add_custom_stage, tree_hashes

pytestmark = [pytest.mark.hardening, pytest.mark.slow]
CLI = [sys.executable, "-m", "digiops.cli"]
TRIALS = 6  # kills, one in each sixth of the run


@pytest.fixture
def slow_client(hardening_client):
    return add_custom_stage(hardening_client, "slow", "slow_stage.ipynb")


def run_cli(client: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(CLI + ["run", str(client), "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def check_archive(client_reports: Path) -> dict[str, str]:
    """Every run folder is complete+succeeded or marked unfinished; the index opens and agrees. Returns statuses."""
    index = client_reports / "index.html"
    soup = BeautifulSoup(index.read_text(encoding="utf-8"), "html.parser")  # the index always opens
    listed = {row.find("td").get_text(strip=True): row.find_all("td")[2].get("class", [""])[0]
              for row in soup.find_all("tr")[1:]}
    statuses = {}
    for run in sorted(p for p in client_reports.iterdir() if p.is_dir()):
        manifest_path = run / "manifest.json"
        if not manifest_path.exists():
            statuses[run.name] = "no manifest"  # killed between creating the folder and the first write
            assert listed.get(run.name) == "dg-status-incomplete"
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))  # atomic writes: never half a file
        status = manifest["status"]
        statuses[run.name] = status
        assert status in ("succeeded", "failed", "incomplete")
        if status == "succeeded":
            assert all(s["status"] == "succeeded" for s in manifest["stages"])
            assert all((run / f"{s['name']}.html").exists() for s in manifest["stages"])
            assert (run / "index.html").exists()
        assert listed[run.name] == f"dg-status-{status}", (run.name, listed)
    return statuses


def test_sigkill_at_random_points_leaves_a_consistent_archive(slow_client, tmp_path):
    out = tmp_path / "reports"
    first = run_cli(slow_client, out)
    started = time.monotonic()
    assert first.wait(timeout=300) == 0
    full_run = time.monotonic() - started
    earlier = next((out / "acme").iterdir())
    earlier_hashes = tree_hashes(earlier)
    rng = random.Random(20261122)
    killed_at = []

    for trial in range(TRIALS):
        process = run_cli(slow_client, out)
        # One random point in each 1/TRIALS of the run (and a little past it): the whole run is covered.
        delay = 0.05 + (trial + rng.random()) / TRIALS * full_run * 1.1
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            killed_at.append(round(delay, 2))
    time.sleep(1.0)  # kernels notice their parent is gone
    final = run_cli(slow_client, out)  # a later run rebuilds the index: killed runs show there as incomplete
    assert final.wait(timeout=300) == 0

    statuses = check_archive(out / "acme")
    runs = sorted(statuses)
    assert statuses[runs[0]] == "succeeded" and statuses[runs[-1]] == "succeeded"  # the earlier and the final run
    assert len(runs) <= TRIALS + 2  # a process killed before creating its run folder leaves nothing behind
    assert tree_hashes(earlier) == earlier_hashes
    assert len(killed_at) >= TRIALS // 2, f"only {len(killed_at)} trials were killed before finishing"
    counts = {s: list(statuses.values()).count(s) for s in sorted(set(statuses.values()))}
    print(f"\ncrash: {TRIALS} trials, {len(killed_at)} killed mid-run, run folders by status {counts}")


def test_four_concurrent_runs_of_one_client(slow_client, tmp_path):
    out = tmp_path / "reports"

    processes = [subprocess.Popen(CLI + ["run", str(slow_client), "--out", str(out)], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for _ in range(4)]
    errors = [p.communicate(timeout=600)[1] for p in processes]
    codes = [p.returncode for p in processes]

    assert codes == [0, 0, 0, 0], errors
    statuses = check_archive(out / "acme")
    assert list(statuses.values()) == ["succeeded"] * 4
    index = BeautifulSoup((out / "acme" / "index.html").read_text(encoding="utf-8"), "html.parser")
    assert len(index.find_all("tr")) == 1 + 4
