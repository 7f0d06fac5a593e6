"""Signals during a run (issue 24): SIGINT, SIGTERM and SIGHUP sent to `digiops run` while a stage's cell is
executing. Afterwards every stage and the run are in a final state in the manifest and in the client's index, the
stage's kernel is gone, nothing printed a traceback, and the exit status is 128 + the signal number.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

pytestmark = [pytest.mark.hardening, pytest.mark.slow]
CLI = [sys.executable, "-m", "digiops.cli"]


def sleeping_notebook(path: Path) -> None:
    """A custom stage that writes its kernel's pid where the test says, then sleeps for two minutes."""
    parameters = nbformat.v4.new_code_cell('engagement_path: str = ""  # engagement file\n'
                                           'run_dir: str = ""  # run folder\n'
                                           'previous_run_dir: str = ""  # previous successful run')
    parameters.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell("import os, pathlib, time\n"
                                     'pathlib.Path(os.environ["DIGIOPS_TEST_MARKER"]).write_text(str(os.getpid()))\n'
                                     "time.sleep(120)")
    notebook = nbformat.v4.new_notebook(cells=[parameters, body])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


@pytest.fixture
def sleeping_client(client_dir: Path) -> Path:
    sleeping_notebook(client_dir / "sleeping.ipynb")
    text = (client_dir / "engagement.yaml").read_text(encoding="utf-8")
    text = text.replace("stages: [inventory]", "stages: [sleeping, inventory]")
    text += "custom_stages: [{name: sleeping, notebook: sleeping.ipynb}]\n"
    (client_dir / "engagement.yaml").write_text(text, encoding="utf-8")
    return client_dir


def alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc").is_dir():  # a zombie (exited, not yet reaped) has ended
        return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_signal_mid_stage_leaves_every_stage_and_the_run_final(sleeping_client, tmp_path, signum):
    marker = tmp_path / "kernel.pid"
    out = tmp_path / "reports"
    process = subprocess.Popen(CLI + ["run", str(sleeping_client), "--out", str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "DIGIOPS_TEST_MARKER": str(marker)})
    try:
        wait_for(lambda: marker.exists() and marker.read_text() or process.poll() is not None, 180,
                 "the stage's cell to start")
        assert process.poll() is None, process.communicate()
        kernel_pid = int(marker.read_text())

        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()

    name = signum.name
    assert process.returncode == 128 + signum, (stdout, stderr)
    assert "Traceback" not in stdout + stderr
    assert f"error: interrupted by {name}; the run is recorded as failed in " in " ".join(stderr.split())
    run_dir = next(p for p in (out / "acme").iterdir() if p.is_dir())
    record = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    stages = {s["name"]: s for s in record["stages"]}
    assert record["status"] == "failed" and record["interrupted"] == name and record["ended_at"]
    assert stages["sleeping"]["status"] == "failed"
    assert stages["sleeping"]["reason"] == f"interrupted by {name}"
    assert stages["inventory"]["status"] == "skipped"
    assert stages["inventory"]["reason"] == f"not run: the run was interrupted by {name}"
    index = BeautifulSoup((out / "acme" / "index.html").read_text(encoding="utf-8"), "html.parser")
    row = next(r for r in index.find_all("tr")[1:] if r.find("td").get_text(strip=True) == run_dir.name)
    assert row.find_all("td")[2].get("class") == ["dg-status-failed"]
    assert "dg-status-running" not in str(row) and "dg-status-pending" not in str(row)
    run_page = (run_dir / "run.html").read_text(encoding="utf-8")
    assert f"interrupted by {name}" in run_page
    wait_for(lambda: not alive(kernel_pid), 15, "the stage's kernel to end")
