"""Running an engagement: validate, plan, execute each stage notebook with papermill, render, archive.

Stages run in dependency order in the notebook's own kernel, executed through papermill's Python API in this
process (its CLI costs seconds per notebook). A failing cell keeps the partially executed notebook, which is
rendered with the error visible; the manifest records the cell and error; stages depending on it are skipped with a
reason; the run ends ``failed`` and the CLI exits non-zero. A run never overwrites another: each gets a fresh folder
named by a sortable, unique run id.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import papermill as pm
from papermill.exceptions import PapermillExecutionError

from digiops import archive, manifest, paths
from digiops.context import METRICS_FILE, OUTPUTS
from digiops.engagement import Engagement, load_engagement
from digiops.errors import ArchiveError
from digiops.stages import Stage, plan

Log = Callable[[str], None]
KERNEL = "python3"
# The kernel's own log (a TCP-transport warning, a KeyboardInterrupt note at shutdown) is noise to a consultant;
# errors in cells reach the manifest and the report through papermill instead.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@dataclass
class RunResult:
    client: str
    run_id: str
    run_dir: Path
    status: str
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.run_dir / "index.html"

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def new_run_id() -> str:
    """Sortable by start time (UTC, microseconds) and unique even for runs started in the same instant.

    >>> a, b = new_run_id(), new_run_id()
    >>> a != b and len(a) == len(b) == 29
    True
    """
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S-%f")
    return f"{stamp}-{secrets.token_hex(3)}"


def create_run_dir(client_dir: Path) -> tuple[str, Path]:
    client_dir.mkdir(parents=True, exist_ok=True)
    while True:
        run_id = new_run_id()
        run_dir = client_dir / run_id
        try:
            run_dir.mkdir()
            return run_id, run_dir
        except FileExistsError:
            continue


def previous_successful_run(client_dir: Path, before: str) -> Path | None:
    for run in archive.list_runs(client_dir):
        if run["run_id"] < before and run["status"] == "succeeded":
            return Path(run["path"])
    return None


def input_files(engagement: Engagement) -> list[Path]:
    """Every file that shapes the run: the engagement file, its sources, and the client's configuration files."""
    files = {engagement.file}
    files.update(engagement.source_path(name) for name in engagement.sources)
    files.update(p for p in engagement.folder.glob("*.y*ml") if p.is_file())
    files.update((engagement.folder / c.notebook).resolve() for c in engagement.custom_stages)
    return sorted(f for f in files if f.exists())


def _period(engagement: Engagement) -> str:
    return f"{engagement.period.start.isoformat()} – {engagement.period.end.isoformat()}"


def _error_text(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, PapermillExecutionError):
        return {"cell": exc.exec_count, "cell_index": exc.cell_index, "ename": exc.ename,
                "evalue": exc.evalue[:2000]}
    return {"cell": None, "cell_index": None, "ename": type(exc).__name__, "evalue": str(exc)[:2000]}


class Run:
    """One execution of one engagement into one run folder."""

    def __init__(self, engagement: Engagement, stages: list[Stage], reports_root: Path, log: Log,
                 progress: bool = False):
        self.engagement = engagement
        self.stages = stages
        self.log = log
        self.progress = progress
        self.client_dir = reports_root / engagement.client.id
        self.run_id, self.run_dir = create_run_dir(self.client_dir)
        self.previous = previous_successful_run(self.client_dir, self.run_id)
        inputs = input_files(engagement)
        parameters = manifest.strip_secrets(engagement.model_dump(mode="json"))
        self.manifest: dict[str, Any] = {
            "schema_version": manifest.SCHEMA_VERSION, "client": engagement.client.id,
            "client_name": {"zh": engagement.client.name_zh, "en": engagement.client.name_en},
            "engagement": engagement.engagement, "engagement_file": str(engagement.file), "run_id": self.run_id,
            "status": "incomplete", "pid": os.getpid(), "host": socket.gethostname(),
            "started_at": manifest.now(), "ended_at": None,
            "previous_run": self.previous.name if self.previous else None,
            "parameters": parameters, "parameter_hash": manifest.parameter_hash(parameters),
            "inputs": [manifest.file_entry(p, engagement.folder) for p in inputs],
            "versions": manifest.versions(), "git_commit": manifest.git_commit(),
            "stages": [{"name": s.name, "notebook": s.notebook, "status": "pending", "depends_on": list(s.depends_on),
                        "duration_s": None} for s in stages],
        }
        manifest.write(self.run_dir, self.manifest)
        self._refresh_pages()

    # --- pages ------------------------------------------------------------------------------------------------
    def _meta(self, stage: Stage | None) -> dict[str, Any]:
        language = self.engagement.language
        title = self.engagement.client_name()
        if stage is not None:
            title += " · " + stage.title(language)
        nav = [{"name": "run", "title": "≡", "href": "run.html", "status": self.manifest["status"]}]
        for entry, s in zip(self.manifest["stages"], self.stages):
            nav.append({"name": s.name, "title": s.title(language), "href": f"{s.name}.html",
                        "status": entry["status"]})
        return {"language": language, "title": title, "client": self.engagement.client_name(),
                "engagement": self.engagement.engagement, "period": _period(self.engagement),
                "run_id": self.run_id, "generated": manifest.now(), "stage": stage.name if stage else "run",
                "nav": nav, "client_index": "../index.html",
                "footer": {"git_commit": self.manifest["git_commit"], "versions": self.manifest["versions"],
                           "parameter_hash": self.manifest["parameter_hash"], "inputs": self.manifest["inputs"]}}

    def _refresh_pages(self) -> None:
        language = self.engagement.language
        run_view = {"status": manifest.effective_status(self.manifest), "stages": [
            {**entry, "title": s.title(language),
             "report": f"{s.name}.html" if (self.run_dir / f"{s.name}.html").exists() else None,
             "error": (f"{entry['error']['ename']}: {entry['error']['evalue']}" if entry.get("error") else None)}
            for entry, s in zip(self.manifest["stages"], self.stages)]}
        archive.render_run_page(self.run_dir, self._meta(None), run_view)
        landing = "summary.html" if any(e["name"] == "summary" and e["status"] == "succeeded"
                                        for e in self.manifest["stages"]) else None
        archive.write_run_index(self.run_dir, landing)
        archive.write_client_index(self.client_dir, self.engagement.client_name(), language)

    # --- stages -----------------------------------------------------------------------------------------------
    def _blocked_by(self, stage: Stage) -> str | None:
        status = {e["name"]: e["status"] for e in self.manifest["stages"]}
        for dep in stage.depends_on:
            if dep not in status:
                return f"needs stage '{dep}', which is not part of this run"
            if status[dep] != "succeeded":
                return f"needs stage '{dep}', which {status[dep]}"
        return None

    def _execute(self, stage: Stage, entry: dict[str, Any]) -> None:
        notebook_out = self.run_dir / "notebooks" / stage.notebook
        notebook_out.parent.mkdir(parents=True, exist_ok=True)
        parameters = {"engagement_path": str(self.engagement.file), "run_dir": str(self.run_dir),
                      "previous_run_dir": str(self.previous) if self.previous else ""}
        started = time.perf_counter()
        entry.update(status="running", started_at=manifest.now())
        manifest.write(self.run_dir, self.manifest)
        self.log(f"{self.engagement.client.id} {self.run_id}: stage {stage.name} started")
        try:
            pm.execute_notebook(str(stage.path()), str(notebook_out), parameters=parameters, cwd=str(self.run_dir),
                                kernel_name=KERNEL, progress_bar=self.progress, log_output=False,
                                extra_arguments=KERNEL_ARGUMENTS)
            entry["status"] = "succeeded"
        except Exception as exc:  # noqa: BLE001 - any failure of a stage is recorded, the run goes on
            entry["status"] = "failed"
            entry["error"] = _error_text(exc)
        entry["duration_s"] = round(time.perf_counter() - started, 2)
        entry["ended_at"] = manifest.now()
        if notebook_out.exists():
            try:
                archive.render_notebook(notebook_out, self.run_dir / f"{stage.name}.html", self._meta(stage))
                entry["report"] = f"{stage.name}.html"
            except Exception as exc:  # noqa: BLE001
                entry["status"] = "failed"
                entry.setdefault("error", _error_text(exc))
        outputs_dir = self.run_dir / OUTPUTS / stage.name
        if outputs_dir.is_dir():
            entry["outputs"] = [manifest.file_entry(p, self.run_dir) for p in sorted(outputs_dir.rglob("*"))
                                if p.is_file() and not p.name.startswith(".")]
            metrics = outputs_dir / METRICS_FILE
            if metrics.exists():
                entry["metrics"] = archive.io.read_json(metrics)
        message = f"{self.engagement.client.id} {self.run_id}: stage {stage.name} {entry['status']} " \
                  f"in {entry['duration_s']:.1f} s"
        if entry.get("error"):
            message += f" — cell {entry['error']['cell']}: {entry['error']['ename']}: {entry['error']['evalue']}"
        self.log(message)

    def execute(self) -> RunResult:
        try:
            for stage, entry in zip(self.stages, self.manifest["stages"]):
                reason = self._blocked_by(stage)
                if reason:
                    entry.update(status="skipped", reason=reason)
                    self.log(f"{self.engagement.client.id} {self.run_id}: stage {stage.name} skipped: {reason}")
                else:
                    self._execute(stage, entry)
                manifest.write(self.run_dir, self.manifest)
                self._refresh_pages()
            failed = [e for e in self.manifest["stages"] if e["status"] != "succeeded"]
            self.manifest["status"] = "failed" if failed else "succeeded"
        except BaseException:
            self.manifest["status"] = "failed"
            self.manifest["interrupted"] = True
            raise
        finally:
            self.manifest["ended_at"] = manifest.now()
            manifest.write(self.run_dir, self.manifest)
            self._refresh_pages()
        return RunResult(self.engagement.client.id, self.run_id, self.run_dir, self.manifest["status"],
                         self.manifest["stages"])


def run_engagement(spec: str | Path, *, stages: list[str] | None = None, out: Path | None = None,
                   log: Log = print, progress: bool = False) -> RunResult:
    """Validate and run one engagement (client name or engagement file) into a new run folder."""
    engagement = load_engagement(spec)
    planned = plan(engagement, stages)
    missing = [s.name for s in planned if not s.path().is_file()]
    if missing:
        raise ArchiveError(engagement.file.name, f"notebook missing for stage(s) {', '.join(missing)}",
                           fix="check the notebooks/ folder, or the custom stage's notebook path")
    run = Run(engagement, planned, Path(out) if out else paths.reports_dir(), log, progress)
    return run.execute()


def _run_in_child(spec: str, stages: list[str] | None, out: str | None) -> RunResult:
    def log(line: str) -> None:
        print(line, flush=True)
    return run_engagement(spec, stages=stages, out=Path(out) if out else None, log=log)


def run_many(specs: list[str], *, stages: list[str] | None = None, out: Path | None = None, jobs: int = 1,
             log: Log = print, progress: bool = False) -> list[RunResult]:
    """Run several engagements, ``jobs`` at a time in separate processes (each with its own run folder)."""
    if jobs <= 1 or len(specs) == 1:
        return [run_engagement(s, stages=stages, out=out, log=log, progress=progress) for s in specs]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_run_in_child, s, stages, str(out) if out else None) for s in specs]
        return [f.result() for f in futures]


__all__ = ["RunResult", "run_engagement", "run_many", "new_run_id"]
