"""Running an engagement: validate, plan, execute each stage notebook with papermill, render, archive.

Stages run in dependency order in the notebook's own kernel, executed through papermill's Python API in this
process (its CLI costs seconds per notebook). A failing cell keeps the partially executed notebook, which is
rendered with the error visible; the manifest records the cell and error; a notebook that ran to its end without
writing an output its stage declares (:attr:`~digiops.stages.Stage.outputs`) fails the stage the same way, naming
the file; stages depending on a failed one are skipped with a reason; the run ends ``failed`` and the CLI exits
non-zero. A run never overwrites another: each gets a fresh folder named by a sortable, unique run id.

Signals: while a run is recorded, SIGINT, SIGTERM and SIGHUP raise :class:`~digiops.errors.RunInterrupted` in the
main thread. The stage notebook runs in a worker thread (nbclient, in the main thread, takes SIGINT and SIGTERM for
itself and resets them to their defaults afterwards, so a later signal killed the process with the run left
``running``); on a signal the kernel is stopped, papermill saves the partly executed notebook as it does when a
kernel dies, the running stage is recorded ``failed`` with the reason ("interrupted by SIGTERM"), later stages
``skipped``, the run ``failed`` and the client's index rewritten, and the exception goes on to the CLI, which exits
with 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import active_children, get_context
from pathlib import Path
from typing import Any

import papermill as pm
from papermill.exceptions import PapermillExecutionError

from digiops import archive, branding, commentary, engines, manifest, paths, reuse
from digiops.engagement import Engagement, load_engagement
from digiops.errors import STOP_SIGNALS, ArchiveError, DigiopsError, RunInterrupted, StageError
from digiops.manifest import Manifest, StageEntry, StageFailure
from digiops.runfolder import METRICS, RunFolder, output_name, report_name
from digiops.sources import check_sources
from digiops.stages import DELIVER, ENGINE_STAGES, Stage, plan

Log = Callable[[str], None]
KERNEL = "python3"
# The kernel's own log (a TCP-transport warning, a KeyboardInterrupt note at shutdown) is noise to a consultant;
# errors in cells reach the manifest and the report through papermill instead.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
#: The signals a run records itself on before the process ends (SIGHUP: the terminal or SSH session closed).
#: Seconds a stopped stage's kernel gets to end after SIGTERM, and again after SIGKILL.
KERNEL_GRACE_S = 5.0


@dataclass
class RunResult:
    """The outcome of one engagement: a run (``succeeded`` / ``failed``), or ``refused`` (it could not start: the
    engagement file or a source is wrong, the reports folder cannot be written) or ``error`` (an unexpected failure)
    with the message in ``error``; ``client`` is then the engagement as it was given (name or path)."""

    client: str
    run_id: str | None
    run_dir: Path | None
    status: str
    stages: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def index(self) -> Path | None:
        return RunFolder(self.run_dir).index if self.run_dir else None

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


class _SignalGuard:
    """While active, SIGINT, SIGTERM and SIGHUP raise :class:`RunInterrupted` in the main thread, once: a signal
    arriving while the first is handled is ignored, so that the run's record is finished. Nested guards share the
    outermost one's handlers; outside the main thread (where handlers cannot be set) it does nothing."""

    depth = 0
    received: int | None = None
    previous: dict[int, Any] = {}

    def __enter__(self) -> "_SignalGuard":
        cls = type(self)
        if threading.current_thread() is not threading.main_thread():
            return self
        if cls.depth == 0:
            cls.received, cls.previous = None, {}
            for signum in STOP_SIGNALS:
                cls.previous[signum] = signal.signal(signum, cls._handle)
        cls.depth += 1
        return self

    @classmethod
    def _handle(cls, signum: int, frame: Any) -> None:
        if cls.received is None:
            cls.received = signum
            raise RunInterrupted(signum)

    def __exit__(self, *exc_info: Any) -> None:
        cls = type(self)
        if threading.current_thread() is not threading.main_thread() or cls.depth == 0:
            return
        cls.depth -= 1
        if cls.depth == 0:
            for signum, handler in cls.previous.items():
                signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
            cls.previous = {}


def _ignore_signals_while_idle() -> None:
    """A worker of the process pool (``--jobs``): the run it executes takes the signals; between runs it ignores
    them, so that Ctrl-C in the terminal, or a signal the parent forwards, does not end an idle worker mid-queue."""
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def new_run_id() -> str:
    """Sortable by start time (UTC, microseconds) and unique even for runs started in the same instant.

    >>> a, b = new_run_id(), new_run_id()
    >>> a != b and len(a) == len(b) == 29
    True
    """
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S-%f")
    return f"{stamp}-{secrets.token_hex(3)}"


def create_run_dir(client_dir: Path) -> tuple[str, Path]:
    try:
        client_dir.mkdir(parents=True, exist_ok=True)
        while True:
            run_id = new_run_id()
            run_dir = client_dir / run_id
            try:
                run_dir.mkdir()
                return run_id, run_dir
            except FileExistsError:
                continue
    except OSError as exc:
        raise ArchiveError(str(client_dir.parent), f"cannot create the run folder {client_dir / '…'} "
                           f"({exc.strerror or exc})",
                           fix="make the reports folder writable, or write the reports elsewhere with --out FOLDER "
                               "(or DIGIOPS_REPORTS)") from None


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


def _error_text(exc: BaseException) -> StageFailure:
    # An error message can quote a setting (a Spark master URL with its password): redacted like the parameters.
    if isinstance(exc, PapermillExecutionError):
        return StageFailure(cell=exc.exec_count, cell_index=exc.cell_index, ename=exc.ename,
                            evalue=manifest.redact(exc.evalue[:2000]))
    return StageFailure(ename=type(exc).__name__, evalue=manifest.redact(str(exc)[:2000]))


def missing_outputs(stage: Stage, run: RunFolder) -> StageError | None:
    """The error of a stage whose notebook finished without writing every output it declares, else ``None``."""
    missing = [output_name(stage.name, name) for name in stage.outputs if not run.has_output(stage.name, name)]
    if not missing:
        return None
    return StageError(f"stage '{stage.name}'", f"finished without writing {', '.join(missing)}, which it declares",
                      fix=f"write {'it' if len(missing) == 1 else 'them'} in the stage's notebook "
                          f"({stage.notebook}), or correct the stage's outputs in digiops.stages")


def _kernel_manager_class(started: list[Any]) -> type:
    """jupyter_client's kernel manager, remembering each instance, so that a signal can stop the kernel."""
    from jupyter_client.manager import AsyncKernelManager

    class StageKernelManager(AsyncKernelManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    return StageKernelManager


def _signal_kernels(kernels: list[Any], signum: int) -> None:
    own_group = os.getpgrp() if hasattr(os, "getpgrp") else None
    for kernel in list(kernels):
        provisioner = getattr(kernel, "provisioner", None)
        pid, group = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
        with contextlib.suppress(OSError):
            # The kernel leads its own process group (jupyter_client starts it in a new session): the group also
            # holds what the kernel started (a Spark driver's JVM). Never our own group.
            if group and group != own_group and hasattr(os, "killpg"):
                os.killpg(group, signum)
            elif pid:
                os.kill(pid, signum)


def _stop_kernels(kernels: list[Any], worker: threading.Thread) -> None:
    """End the stage's kernel (SIGTERM, then SIGKILL) until the worker running the notebook has finished."""
    for signum in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        deadline = time.monotonic() + KERNEL_GRACE_S
        while worker.is_alive() and time.monotonic() < deadline:
            _signal_kernels(kernels, signum)
            worker.join(0.2)
        if not worker.is_alive():
            return


def _close_thread_loop() -> None:
    from jupyter_core.utils import ensure_event_loop

    with contextlib.suppress(Exception):
        loop = ensure_event_loop()
        if not loop.is_running():
            loop.close()


#: Seconds a kernel may take to start (papermill's default is 60): four runs starting kernels at once on a busy
#: 2-core machine took longer, and the stage failed with "Kernel didn't respond in 60 seconds".
KERNEL_START_TIMEOUT = 300
#: Kernel starts tried per stage. Kernels started at the same moment by several runs can pick the same free port
#: (jupyter_client chooses the ports, then the kernel binds them): the loser dies before it answers, and a second
#: start, on new ports, succeeds. No cell has run by then, so starting again repeats nothing.
KERNEL_START_ATTEMPTS = 3


def _kernel_failed_to_start(error: BaseException) -> bool:
    """Whether papermill failed before the first cell: the kernel died or stayed silent while starting."""
    text = str(error)
    return "before replying to kernel_info" in text or "Kernel didn't respond" in text


def execute_notebook(source: Path, target: Path, parameters: dict[str, Any], cwd: Path,
                     progress: bool = False) -> BaseException | None:
    """Execute a stage notebook with papermill in a worker thread; return the exception it ended with, if any.

    The main thread only waits, so the signals stay with it (see the module docstring); on a signal the kernel is
    stopped, the worker ends like a run whose kernel died, and :class:`RunInterrupted` is raised here.
    """
    kernels: list[Any] = []
    outcome: dict[str, BaseException] = {}
    stop = threading.Event()  # a signal arrived: never start another kernel

    def work() -> None:
        for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
            try:
                pm.execute_notebook(str(source), str(target), parameters=parameters, cwd=str(cwd),
                                    kernel_name=KERNEL, progress_bar=progress, log_output=False,
                                    extra_arguments=KERNEL_ARGUMENTS, start_timeout=KERNEL_START_TIMEOUT,
                                    kernel_manager_class=_kernel_manager_class(kernels))
                outcome.pop("error", None)
                return
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which records it
                outcome["error"] = exc
                if attempt == KERNEL_START_ATTEMPTS or not _kernel_failed_to_start(exc) or stop.is_set():
                    return
            finally:
                _close_thread_loop()

    worker = threading.Thread(target=work, name=f"digiops-{Path(target).stem}", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.25)
    except BaseException:
        stop.set()
        _stop_kernels(kernels, worker)
        raise
    return outcome.get("error")


class Run:
    """One execution of one engagement into one run folder."""

    def __init__(self, engagement: Engagement, stages: list[Stage], reports_root: Path, log: Log,
                 progress: bool = False, reuse: dict[str, RunFolder] | None = None):
        self.engagement = engagement
        self.stages = stages
        self.reuse = reuse or {}  # stage name → the earlier run whose outputs it takes (digiops.reuse)
        self.log = log
        self.progress = progress
        # Absolute: papermill changes the process's working folder while a stage runs.
        self.client_dir = Path(os.path.abspath(reports_root)) / engagement.client.id
        self._stage_started: float | None = None
        # The slow part (hashing every input, asking git) comes before the run folder exists: a signal there
        # leaves nothing behind.
        inputs = [manifest.file_entry(p, engagement.folder) for p in input_files(engagement)]
        parameters = manifest.strip_secrets(engagement.model_dump(mode="json"))
        versions, commit = manifest.versions(), manifest.git_commit()
        # A commentary file or logo that is wrong refuses the run here, before its folder exists.
        self.comments = commentary.in_language(commentary.load(engagement), engagement.language)
        self.branding = branding.page_branding(engagement)
        #: The client version of every report goes to the deliver stage's folder when the run delivers.
        self.delivering = any(s.name == DELIVER for s in stages)
        self.run_id, self.run_dir = create_run_dir(self.client_dir)
        self.folder = RunFolder(self.run_dir)
        self.previous: Path | None = None
        self.manifest = Manifest(
            client=engagement.client.id,
            client_name={"zh": engagement.client.name_zh, "en": engagement.client.name_en},
            engagement=engagement.engagement, engagement_file=str(engagement.file), run_id=self.run_id,
            status="incomplete", pid=os.getpid(), host=socket.gethostname(), started_at=manifest.now(),
            parameters=parameters, parameter_hash=manifest.parameter_hash(parameters), inputs=inputs,
            versions=versions, git_commit=commit,
            stages=[StageEntry(name=s.name, notebook=s.notebook, depends_on=list(s.depends_on)) for s in stages])
        try:
            self.previous = previous_successful_run(self.client_dir, self.run_id)
            self.manifest.previous_run = self.previous.name if self.previous else None
            self.folder.write_manifest(self.manifest)
            self._refresh_pages()
        except RunInterrupted as exc:
            self._record_stop(exc)
            raise

    # --- pages ------------------------------------------------------------------------------------------------
    def _meta(self, stage: Stage | None, client_version: bool = False) -> dict[str, Any]:
        """The chrome of a page; the client version's navigation links the other client pages only."""
        language = self.engagement.language
        title = self.engagement.client_name()
        if stage is not None:
            title += " · " + stage.title(language)
        nav = [] if client_version else [{"name": "run", "title": "≡", "href": self.folder.run_page.name,
                                          "status": self.manifest.status}]
        for entry, s in zip(self.manifest.stages, self.stages):
            if client_version and s.name == DELIVER:
                continue
            nav.append({"name": s.name, "title": s.title(language), "href": report_name(s.name),
                        "status": entry.status})
        return {"language": language, "title": title, "client": self.engagement.client_name(),
                "engagement": self.engagement.engagement, "period": _period(self.engagement),
                "run_id": self.run_id, "generated": manifest.now(), "stage": stage.name if stage else "run",
                "nav": nav, "client_index": None if client_version else "../index.html", "branding": self.branding,
                "footer": {"git_commit": self.manifest.git_commit, "versions": self.manifest.versions,
                           "parameter_hash": self.manifest.parameter_hash,
                           "inputs": [i.to_json() for i in self.manifest.inputs]}}

    def _refresh_pages(self) -> None:
        language = self.engagement.language
        run_view = {"status": self.manifest.effective_status, "stages": [
            {**entry.to_json(), "title": s.title(language),
             "report": report_name(s.name) if self.folder.report(s.name).exists() else None,
             "error": f"{entry.error.ename}: {entry.error.evalue}" if entry.error else None}
            for entry, s in zip(self.manifest.stages, self.stages)]}
        archive.render_run_page(self.run_dir, self._meta(None), run_view)
        summary = self.manifest.stage("summary")
        landing = report_name("summary") if summary is not None and summary.status == "succeeded" else None
        archive.write_run_index(self.run_dir, landing)
        archive.write_client_index(self.client_dir, self.engagement.client_name(), language)

    # --- stages -----------------------------------------------------------------------------------------------
    def _blocked_by(self, stage: Stage) -> str | None:
        status = {e.name: e.status for e in self.manifest.stages}
        for dep in stage.depends_on:
            if dep not in status:
                return f"needs stage '{dep}', which is not part of this run"
            if status[dep] != "succeeded":
                return f"needs stage '{dep}', which {status[dep]}"
        return None

    def _execute(self, stage: Stage, entry: StageEntry) -> None:
        notebook_out = self.folder.notebook(stage.notebook)
        notebook_out.parent.mkdir(parents=True, exist_ok=True)
        parameters = {"engagement_path": str(self.engagement.file), "run_dir": str(self.run_dir),
                      "previous_run_dir": str(self.previous) if self.previous else ""}
        started = self._stage_started = time.perf_counter()
        entry.status, entry.started_at = "running", manifest.now()
        self.folder.write_manifest(self.manifest)
        self.log(f"{self.engagement.client.id} {self.run_id}: stage {stage.name} started")
        error = execute_notebook(stage.path(), notebook_out, parameters, self.run_dir, self.progress)
        # A notebook that ran to its end without writing a declared output fails like a failing cell.
        error = error or missing_outputs(stage, self.folder)
        if error is None:
            entry.status = "succeeded"
        else:  # any failure of a stage is recorded, the run goes on
            entry.status = "failed"
            entry.error = _error_text(error)
        entry.duration_s = round(time.perf_counter() - started, 2)
        entry.ended_at = manifest.now()
        if notebook_out.exists():
            try:
                self._render(stage, notebook_out)
                entry.report = report_name(stage.name)
            except Exception as exc:  # noqa: BLE001
                entry.status = "failed"
                entry.error = entry.error or _error_text(exc)
        if self.folder.stage_dir(stage.name).is_dir():
            entry.outputs = [manifest.file_entry(p, self.run_dir) for p in self.folder.stage_files(stage.name)]
            if self.folder.has_output(stage.name, METRICS):
                entry.metrics = self.folder.metrics(stage.name)
        message = f"{self.engagement.client.id} {self.run_id}: stage {stage.name} {entry.status} " \
                  f"in {entry.duration_s:.1f} s"
        if entry.metrics and entry.metrics.get("skipped"):  # e.g. the deliver stage's PDFs without Chromium
            message += f" (not written: {', '.join(map(str, entry.metrics['skipped']))}; see {entry.report})"
        if entry.error:
            cell = f"cell {entry.error.cell}: " if entry.error.cell is not None else ""
            message += f" — {cell}{entry.error.ename}: {entry.error.evalue}"
        self.log(message)

    def _render(self, stage: Stage, notebook: Path) -> None:
        """The stage's report, and its client version when the run delivers (the deliver stage's own page has
        none: it is the consultant's checklist of what was handed over)."""
        archive.render_notebook(notebook, self.folder.report(stage.name), self._meta(stage), comments=self.comments)
        if self.delivering and stage.name != DELIVER:
            archive.render_notebook(notebook, self.folder.output(DELIVER, report_name(stage.name)),
                                    self._meta(stage, client_version=True), client_version=True,
                                    comments=self.comments)

    def _reuse(self, stage: Stage, entry: StageEntry) -> None:
        earlier = self.reuse[stage.name]
        before = reuse.bring(earlier, self.folder, stage)
        notebook = self.folder.notebook(stage.notebook)
        if self.delivering and notebook.exists():  # this run's commentary and branding, on the earlier results
            self._render(stage, notebook)
        entry.status, entry.reused_from, entry.duration_s = "succeeded", earlier.path.name, 0.0
        entry.started_at = entry.ended_at = manifest.now()
        entry.report = before.get("report")
        entry.outputs = [manifest.file_entry(p, self.run_dir) for p in self.folder.stage_files(stage.name)]
        entry.metrics = before.get("metrics")
        self.log(f"{self.engagement.client.id} {self.run_id}: stage {stage.name} reused from run {earlier.path.name}"
                 " (its inputs and settings are unchanged)")

    def _record_stop(self, cause: BaseException) -> None:
        """The run ends before its stages did: record every stage and the run in a final state, and the pages.

        The running stage ``failed`` with the reason, stages not reached ``skipped``, the run ``failed`` (unless
        every stage had finished), ``interrupted`` naming the signal; the client's index is rewritten.
        """
        if isinstance(cause, RunInterrupted):
            reason = str(cause)
            self.manifest.interrupted = cause.signal_name
            cause.run_dir = str(self.run_dir)
        else:
            reason = f"stopped by {type(cause).__name__}: {manifest.redact(str(cause))[:500]}"
        unfinished = False
        for entry in self.manifest.stages:
            if entry.status == "running":
                entry.status, entry.reason, entry.ended_at = "failed", reason, manifest.now()
                if self._stage_started is not None:
                    entry.duration_s = round(time.perf_counter() - self._stage_started, 2)
                self.log(f"{self.engagement.client.id} {self.run_id}: stage {entry.name} failed: {reason}")
                unfinished = True
            elif entry.status == "pending":
                entry.status, entry.reason = "skipped", f"not run: the run was {reason}"
                unfinished = True
        if unfinished or self.manifest.status == "incomplete":
            self.manifest.status = "failed"
        self.manifest.ended_at = manifest.now()
        try:
            self.folder.write_manifest(self.manifest)
            self._refresh_pages()
        except Exception as exc:  # noqa: BLE001 - the stop goes on to the caller; say what could not be written
            self.log(f"{self.engagement.client.id} {self.run_id}: could not record the stop: {exc}")

    def execute(self) -> RunResult:
        try:
            for stage, entry in zip(self.stages, self.manifest.stages):
                reason = self._blocked_by(stage)
                if stage.name in self.reuse:
                    self._reuse(stage, entry)
                elif reason:
                    entry.status, entry.reason = "skipped", reason
                    self.log(f"{self.engagement.client.id} {self.run_id}: stage {stage.name} skipped: {reason}")
                else:
                    self._execute(stage, entry)
                self.folder.write_manifest(self.manifest)
                self._refresh_pages()
            failed = [e for e in self.manifest.stages if e.status != "succeeded"]
            self.manifest.status = "failed" if failed else "succeeded"
            self.manifest.ended_at = manifest.now()
            self.folder.write_manifest(self.manifest)
            self._refresh_pages()
        except BaseException as exc:
            self._record_stop(exc)
            raise
        return RunResult(self.engagement.client.id, self.run_id, self.run_dir, self.manifest.status,
                         [entry.to_json() for entry in self.manifest.stages])


def reused_stages(engagement: Engagement, planned: list[Stage], reports_root: Path,
                  from_run: str | None = None) -> dict[str, RunFolder]:
    """The stages a run of some stages takes from an earlier run: each dependency of a planned stage that the
    run leaves out, from ``from_run`` or the latest successful run that ran it, checked unchanged
    (:func:`digiops.reuse.check`: refused, naming what changed, otherwise). A dependency no earlier run has is not
    reused: the stage that needs it is skipped with the reason, as before."""
    names = [s.name for s in planned]
    catalog = {s.name: s for s in plan(engagement)}
    needed = [catalog[d] for s in planned for d in s.depends_on if d not in names and d in catalog]
    if from_run is not None and not needed:
        raise StageError(f"--from-run {from_run}", "nothing to take from it: every stage this run needs runs "
                         "again", fix="name the stages to run with --stages (e.g. --stages labels), or leave "
                         "out --from-run")
    client_dir = Path(os.path.abspath(reports_root)) / engagement.client.id
    found: dict[str, RunFolder] = {}
    for stage in dict.fromkeys(needed):
        earlier = reuse.source_run(client_dir, stage.name, new_run_id(), from_run)
        if earlier is not None:
            reuse.check(engagement, earlier, stage, names)
            found[stage.name] = earlier
    return found


def run_engagement(spec: str | Path, *, stages: list[str] | None = None, out: Path | None = None,
                   log: Log = print, progress: bool = False, from_run: str | None = None) -> RunResult:
    """Validate and run one engagement (client name or engagement file) into a new run folder.

    With ``stages``, a stage left out that a chosen one reads is taken from an earlier run (``from_run``, or the
    latest successful one) when its inputs are unchanged (:mod:`digiops.reuse`).

    Raises :class:`~digiops.errors.DigiopsError` when it cannot start, :class:`~digiops.errors.RunInterrupted`
    when a signal stopped it (after the run recorded itself).
    """
    with _SignalGuard():
        engagement = load_engagement(spec)
        planned = plan(engagement, stages)
        if engagement.engine.is_spark and any(s.name in ENGINE_STAGES for s in planned):
            # before the inventory stage reads every source: a cluster the run cannot use refuses it at once
            engines.check_spark(engagement.engine, Path(out or paths.reports_dir()) / engagement.client.id,
                                location=engagement.file.name, client_folder=engagement.folder)
        check_sources(engagement)
        missing = [s.name for s in planned if not s.path().is_file()]
        if missing:
            raise ArchiveError(engagement.file.name, f"notebook missing for stage(s) {', '.join(missing)}",
                               fix="check the notebooks/ folder, or the custom stage's notebook path")
        root = Path(out) if out else paths.reports_dir()
        taken = reused_stages(engagement, planned, root, from_run) if stages else {}
        if from_run is not None and not stages:
            raise StageError(f"--from-run {from_run}", "takes stages from an earlier run only for the stages a "
                             "run leaves out", fix="name the stages to run with --stages (e.g. --stages labels)")
        ordered = [s for s in plan(engagement) if s.name in taken or s in planned]
        run = Run(engagement, ordered, root, log, progress, reuse=taken)
        return run.execute()


def _run_in_child(spec: str, stages: list[str] | None, out: str | None, from_run: str | None = None) -> RunResult:
    def log(line: str) -> None:
        print(line, flush=True)
    return run_engagement(spec, stages=stages, out=Path(out) if out else None, log=log, from_run=from_run)


def _outcome(spec: str, call: Callable[[], RunResult]) -> RunResult:
    """The result of one engagement of a batch; an engagement that cannot run becomes a ``refused`` result."""
    try:
        return call()
    except RunInterrupted as exc:
        if _SignalGuard.received is not None:
            raise  # this process was signalled: the batch stops
        # A worker process was signalled on its own: its run recorded itself; the others go on.
        run_dir = Path(exc.run_dir) if exc.run_dir else None
        return RunResult(str(spec), run_dir.name if run_dir else None, run_dir, "failed", error=str(exc),
                         exception=exc)
    except DigiopsError as exc:
        return RunResult(str(spec), None, None, "refused", error=str(exc), exception=exc)
    except Exception as exc:  # noqa: BLE001 - one engagement's failure must not hide the others' outcomes
        return RunResult(str(spec), None, None, "error", error=f"{type(exc).__name__}: {exc}", exception=exc)


def run_many(specs: list[str], *, stages: list[str] | None = None, out: Path | None = None, jobs: int = 1,
             log: Log = print, progress: bool = False, done: Callable[[RunResult], None] | None = None,
             from_run: str | None = None) -> list[RunResult]:
    """Run several engagements, ``jobs`` at a time in separate processes (each with its own run folder).

    Every engagement is run: one that cannot start (an invalid engagement file, a reports folder that cannot be
    written) is a ``refused`` :class:`RunResult` naming it as given, with the error, and the others go on. ``done``
    is called with each outcome, in the order given, as soon as it is known. A signal stops the batch: the runs
    under way record themselves (forwarded to the worker processes with ``jobs`` > 1), the ones not started are
    cancelled, and :class:`~digiops.errors.RunInterrupted` is raised.
    """
    report = done or (lambda result: None)
    results: list[RunResult] = []
    with _SignalGuard():
        if jobs <= 1 or len(specs) == 1:
            for spec in specs:
                results.append(_outcome(spec, lambda: run_engagement(spec, stages=stages, out=out, log=log,
                                                                     progress=progress, from_run=from_run)))
                report(results[-1])
            return results
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                                 initializer=_ignore_signals_while_idle) as pool:
            futures = [pool.submit(_run_in_child, s, stages, str(out) if out else None, from_run) for s in specs]
            try:
                for spec, future in zip(specs, futures):
                    results.append(_outcome(spec, future.result))
                    report(results[-1])
            except RunInterrupted as exc:
                for future in futures:
                    future.cancel()
                for child in active_children():
                    with contextlib.suppress(OSError):
                        os.kill(child.pid, exc.signum)
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return results


__all__ = ["RunResult", "run_engagement", "run_many", "new_run_id"]
