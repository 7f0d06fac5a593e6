"""Launching the dashboard: Voila on one run of one client, localhost and a token by default.

The launcher copies ``notebooks/dashboard.ipynb`` alone into a private temporary folder and serves that folder, so
Voila can serve no other file; the kernel learns the run folder from one environment variable
(``DIGIOPS_DASHBOARD_RUN``) set for the Voila process only. Settings (token included, so it never shows in the
process list) go into a ``voila.json`` beside the served folder: sources stripped, tracebacks hidden, no browser
opened, browser-side code execution left off (Voila's default), and pre-heated kernels so the first page renders
from an already executed notebook. The page uses the project's Voila template ``digiops``
(``templates/voila/templates/digiops``, found through ``JUPYTER_PATH`` set for the Voila process): Voila's ``lab``
template without its CDN stylesheets, so the browser requests nothing from another host.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from digiops import archive, paths
from digiops.dashboard.app import RUN_ENV
from digiops.errors import STOP_SIGNALS, ArchiveError, RunInterrupted
from digiops.runfolder import MANIFEST, RunFolder

NOTEBOOK = "dashboard.ipynb"
#: the project's Voila template (templates/voila/templates/digiops): Voila's lab template without CDN links
TEMPLATE = "digiops"
START_TIMEOUT_S = 90.0
#: seconds Voila waits, after a visitor takes the pre-heated kernel, before starting and executing the next one
#: (Voila's default is 1 s: on a 2-core machine the refill then competes with the visitor's page for the CPU)
REFILL_DELAY_S = 5.0


LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def made_by(run_dir: Path, engagement_file: Path | None) -> bool:
    """Whether a run was made by this engagement file: two client folders may share a ``client.id`` (and so one
    reports folder), and neither client may be shown the other's run."""
    if engagement_file is None:
        return True
    try:
        recorded = RunFolder(run_dir).read_manifest().engagement_file
    except ArchiveError:
        return False
    return recorded is not None and Path(recorded).resolve() == Path(engagement_file).resolve()


def find_run(client_dir: Path, run: str | None = None, engagement_file: Path | None = None) -> Path:
    """The named run of a client, or its latest successful one, made by ``engagement_file`` when given; errors say
    what exists."""
    runs = [r for r in archive.list_runs(client_dir) if made_by(Path(r["path"]), engagement_file)]
    if run:
        # A run id names a run of this client's reports folder; a path names a run folder anywhere (one written
        # with `digiops run --out`). Either way it must be a run this engagement file made.
        chosen = Path(run) if Path(run).name != run or run in (".", "..") else client_dir / run
        if not RunFolder(chosen).is_run:
            raise ArchiveError(str(chosen), "no such run", fix=f"give a run id of `digiops list {client_dir.name}` "
                               "or the path of a run folder")
        if not made_by(chosen, engagement_file):
            raise ArchiveError(str(chosen), f"this run was not made by {engagement_file} (another client folder "
                               f"shares the client id '{client_dir.name}')",
                               fix="give each client folder its own client.id, or pass that client's engagement file")
        return chosen
    for entry in runs:  # newest first
        if entry["status"] == "succeeded":
            return Path(entry["path"])
    if runs:
        raise ArchiveError(str(client_dir), f"none of the {len(runs)} runs succeeded",
                           fix="fix the failing stage and run again, or pass --run RUN to show a failed run")
    raise ArchiveError(str(client_dir), "no runs yet", fix=f"run `digiops run {client_dir.name}` first")


@dataclass
class DashboardServer:
    """A running Voila process: ``url`` carries the token; ``stop()`` ends it and removes its folder."""

    process: subprocess.Popen
    url: str
    base_url: str
    token: str
    run_dir: Path
    folder: Path
    log_file: Path
    stopped: bool = field(default=False)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def log_text(self) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> "DashboardServer":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def voila_config(token: str, host: str, port: int, preheat: bool, pool_size: int,
                 refill_delay: float = REFILL_DELAY_S) -> dict:
    # Voila turns Jupyter Server's Host check off; on a local address it is turned back on (a page on another
    # site cannot reach the dashboard through DNS rebinding), and no page sends its URL (with the token) onward.
    local = host in LOCAL_HOSTS
    tornado = {"allow_remote_access": not local, "local_hostnames": ["localhost"],
               "headers": {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}}
    # The first visit's ?token= is answered with a login cookie (Jupyter Server's), kept to this site; the page
    # then drops the token from its address (templates/voila/templates/digiops).
    cookie = {"cookie_options": {"samesite": "Strict", "httponly": True}}
    return {"Voila": {"token": token, "ip": host, "port": port, "open_browser": False, "tornado_settings": tornado},
            "IdentityProvider": cookie, "PasswordIdentityProvider": cookie,
            "VoilaKernelManager": {"fill_delay": refill_delay},
            "VoilaConfiguration": {"template": TEMPLATE, "strip_sources": True, "show_tracebacks": False,
                                   "preheat_kernel": preheat, "default_pool_size": pool_size if preheat else 0}}


def template_root() -> Path:
    """The Jupyter data folder holding ``voila/templates/digiops``; Voila searches JUPYTER_PATH for templates."""
    return paths.templates_dir()


def _voila_command() -> list[str]:
    script = Path(sys.executable).parent / "voila"
    return [str(script)] if script.exists() else [sys.executable, "-m", "voila"]


def _wait_until_up(server: DashboardServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ArchiveError("voila", f"the dashboard server stopped (exit {server.process.returncode}): "
                               f"{server.log_text()[-800:]}", fix="check the port is free and voila is installed")
        try:
            with urllib.request.urlopen(server.base_url + "api/status?token=" + server.token, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # the server answers
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    server.stop()
    raise ArchiveError("voila", f"the dashboard server did not answer within {timeout:.0f} s",
                       fix="the machine may be busy: try again")


def start(run_dir: Path, host: str = "127.0.0.1", port: int | None = None, *, preheat: bool = True,
          pool_size: int = 1, token: str | None = None, timeout: float = START_TIMEOUT_S,
          refill_delay: float = REFILL_DELAY_S) -> DashboardServer:
    """Start Voila on one run folder and return once it answers (not blocking)."""
    run_dir = Path(run_dir).resolve()
    if not RunFolder(run_dir).is_run:
        raise ArchiveError(str(run_dir), f"not a run folder (no {MANIFEST})", fix="pass a folder under reports/")
    source = paths.notebooks_dir() / NOTEBOOK
    if not source.is_file():
        raise ArchiveError(str(source), "the dashboard notebook is missing", fix="restore notebooks/dashboard.ipynb")
    port = port or free_port(host)
    token = token or secrets.token_urlsafe(24)
    folder = Path(tempfile.mkdtemp(prefix="digiops-dashboard-"))  # mode 0700
    served = folder / "app"
    served.mkdir()
    shutil.copy(source, served / NOTEBOOK)
    (folder / "voila.json").write_text(json.dumps(voila_config(token, host, port, preheat, pool_size, refill_delay)),
                                       encoding="utf-8")
    os.chmod(folder / "voila.json", 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIOPS_DASHBOARD")}
    env[RUN_ENV] = str(run_dir)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template_root()), env.get("JUPYTER_PATH")]))
    log_file = folder / "voila.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen([*_voila_command(), str(served / NOTEBOOK), "--no-browser"], cwd=folder, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    server = DashboardServer(process=process, url=f"http://{shown}:{port}/?token={token}", base_url=base,
                             token=token, run_dir=run_dir, folder=folder, log_file=log_file)
    try:
        _wait_until_up(server, timeout)
    except BaseException:  # a signal or a timeout while it starts: no Voila is left serving the data
        server.stop()
        raise
    return server


def _interrupt(signum: int, _frame: object) -> None:
    """What a stopping signal does to a served dashboard: the waiting process stops Voila (its own session: it
    does not get the signal) and removes its folder with the token."""
    raise RunInterrupted(signum)


def serve(engagement: str | Path, run: str | None = None, host: str = "127.0.0.1", port: int | None = None, *,
          preheat: bool = True, pool_size: int = 1, wait: bool = True, reports_root: Path | None = None,
          log: Callable[[str], None] = print) -> DashboardServer:
    """Serve the dashboard of an engagement's run (the latest successful one by default) and print its URL.

    ``run`` is a run id or a run folder's path; ``reports_root`` the reports folder the runs were written to
    (``digiops run --out``; ``reports/`` by default).

    With ``wait`` (the CLI), blocks until interrupted and stops the server; otherwise returns it running.
    """
    from digiops.engagement import load_engagement

    loaded = load_engagement(engagement)
    run_dir = find_run(Path(reports_root or paths.reports_dir()) / loaded.client.id, run, loaded.file)
    guard = wait and threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS} if guard else {}
    server = None
    try:
        server = start(run_dir, host, port, preheat=preheat, pool_size=pool_size)
        log(f"dashboard of {loaded.client.id} run {run_dir.name}: {server.url}")
        if host not in LOCAL_HOSTS:
            log(f"warning: listening on {host}: anyone who can reach it and has the token can see this client's "
                "data")
        if wait:
            server.process.wait()
    finally:
        if wait and server is not None:
            server.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
    return server
