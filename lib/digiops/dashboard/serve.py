"""Serving the dashboard: one Voila per client on a loopback port, behind the gateway clients sign in to.

For each client the launcher copies ``notebooks/dashboard.ipynb`` alone into a private temporary folder (titled with
the client's name) and starts Voila on it, listening on 127.0.0.1 with a token only the gateway knows; the kernel
learns the run folder from one environment variable (``DIGIOPS_DASHBOARD_RUN``) set for that Voila process only.
Settings (token included, so it never shows in the process list) go into a ``voila.json`` beside the served folder:
sources stripped, tracebacks hidden, browser-side code execution left off (Voila's default), pre-heated kernels so
the first page renders from an already executed notebook, and idle kernels culled. The page uses the project's
Voila template ``digiops`` (``templates/voila/templates/digiops``, found through ``JUPYTER_PATH``): Voila's ``lab``
template without its CDN stylesheets, so the browser requests nothing from another host.

The gateway (:mod:`digiops.dashboard.gateway`) is what listens on the address given: it asks for the client's
access code (:mod:`digiops.dashboard.access`) and passes a signed-in client to its own Voila only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
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
from digiops.dashboard import access
from digiops.dashboard.app import RUN_ENV
from digiops.dashboard.gateway import Gateway, Tenant, Viewers
from digiops.errors import STOP_SIGNALS, ArchiveError, RunInterrupted
from digiops.runfolder import MANIFEST, RunFolder

NOTEBOOK = "dashboard.ipynb"
#: the project's Voila template (templates/voila/templates/digiops): Voila's lab template without CDN links
TEMPLATE = "digiops"
START_TIMEOUT_S = 90.0
#: seconds Voila waits, after a visitor takes the pre-heated kernel, before starting and executing the next one
#: (Voila's default is 1 s: on a 2-core machine the refill then competes with the visitor's page for the CPU)
REFILL_DELAY_S = 5.0
#: pre-heated kernels per client: the first viewers get an executed notebook at once
POOL_SIZE = 1
#: viewers of one client served at once; one more sees "busy, retry"
MAX_VIEWERS = 8
#: a kernel nobody has used for this long is shut down (Jupyter Server's culling; connected ones included)
IDLE_TIMEOUT_S = 30 * 60
CULL_INTERVAL_S = 60
UPSTREAM_HOST = "127.0.0.1"
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
class VoilaProcess:
    """One client's Voila on a loopback port; ``stop()`` ends it and removes its folder (with its token)."""

    process: subprocess.Popen
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


def voila_config(token: str, port: int, pool_size: int, refill_delay: float = REFILL_DELAY_S,
                 idle_timeout: float = IDLE_TIMEOUT_S, folder: Path | None = None) -> dict:
    """Voila's settings: loopback only with its Host check on (Voila turns Jupyter Server's off), pre-heated
    kernels, idle ones culled (pre-heated ones are kept by Voila), no page sends its URL onward, and the kernels'
    connection files inside ``folder`` (removed with it, even when Voila has to be killed)."""
    tornado = {"allow_remote_access": False, "local_hostnames": ["localhost"],
               "headers": {"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}}
    return {"Voila": {"token": token, "ip": UPSTREAM_HOST, "port": port, "open_browser": False,
                      "tornado_settings": tornado,
                      **({"connection_dir_root": str(folder)} if folder is not None else {})},
            "MappingKernelManager": {"cull_idle_timeout": int(idle_timeout), "cull_interval": CULL_INTERVAL_S,
                                     "cull_connected": True, "cull_busy": False},
            "VoilaKernelManager": {"fill_delay": refill_delay},
            "VoilaConfiguration": {"template": TEMPLATE, "strip_sources": True, "show_tracebacks": False,
                                   "preheat_kernel": pool_size > 0, "default_pool_size": pool_size}}


def template_root() -> Path:
    """The Jupyter data folder holding ``voila/templates/digiops``; Voila searches JUPYTER_PATH for templates."""
    return paths.templates_dir()


def _voila_command() -> list[str]:
    script = Path(sys.executable).parent / "voila"
    return [str(script)] if script.exists() else [sys.executable, "-m", "voila"]


def _wait_until_up(server: VoilaProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ArchiveError("voila", f"the dashboard server stopped (exit {server.process.returncode}): "
                               f"{server.log_text()[-800:]}", fix="check that voila is installed (make setup)")
        try:
            request = urllib.request.Request(server.base_url + "api/status",
                                             headers={"Authorization": f"token {server.token}"})
            with urllib.request.urlopen(request, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # the server answers
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise ArchiveError("voila", f"the dashboard server did not answer within {timeout:.0f} s",
                       fix="the machine may be busy: try again")


def page_title(run_dir: Path) -> str:
    """The browser tab's title: the client's name in the run's language and the dashboard's."""
    manifest = RunFolder(run_dir).read_manifest()
    language = str(manifest.parameters.get("language") or "zh")
    name = manifest.client_name.get(language) or manifest.client_name.get("zh") or manifest.client
    return f"{name} · {'数字化运营看板' if language == 'zh' else 'Digital operations dashboard'}"


def start_voila(run_dir: Path, *, pool_size: int = POOL_SIZE, idle_timeout: float = IDLE_TIMEOUT_S,
                timeout: float = START_TIMEOUT_S, refill_delay: float = REFILL_DELAY_S) -> VoilaProcess:
    """Start Voila on one run folder, on a free loopback port, and return once it answers."""
    run_dir = Path(run_dir).resolve()
    if not RunFolder(run_dir).is_run:
        raise ArchiveError(str(run_dir), f"not a run folder (no {MANIFEST})", fix="pass a folder under reports/")
    source = paths.notebooks_dir() / NOTEBOOK
    if not source.is_file():
        raise ArchiveError(str(source), "the dashboard notebook is missing", fix="restore notebooks/dashboard.ipynb")
    port = free_port(UPSTREAM_HOST)
    token = secrets.token_urlsafe(24)
    folder = Path(tempfile.mkdtemp(prefix="digiops-dashboard-"))  # mode 0700
    served = folder / "app"
    served.mkdir()
    notebook = json.loads(source.read_text(encoding="utf-8"))
    notebook.setdefault("metadata", {})["title"] = page_title(run_dir)
    (served / NOTEBOOK).write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
    (folder / "voila.json").write_text(json.dumps(voila_config(token, port, pool_size, refill_delay,
                                                               idle_timeout, folder)), encoding="utf-8")
    os.chmod(folder / "voila.json", 0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGIOPS_DASHBOARD")}
    env[RUN_ENV] = str(run_dir)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(template_root()), env.get("JUPYTER_PATH")]))
    log_file = folder / "voila.log"
    with open(log_file, "wb") as log:
        process = subprocess.Popen([*_voila_command(), str(served / NOTEBOOK), "--no-browser"], cwd=folder, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = VoilaProcess(process=process, base_url=f"http://{UPSTREAM_HOST}:{port}/", token=token, run_dir=run_dir,
                          folder=folder, log_file=log_file)
    try:
        _wait_until_up(server, timeout)
    except BaseException:  # a signal or a timeout while it starts: no Voila is left serving the data
        server.stop()
        raise
    return server


@dataclass
class DashboardService:
    """The gateway (``url``) and each client's Voila; ``codes`` holds the access code issued to each client at
    start. ``stop()`` ends every child and removes every temporary folder."""

    url: str
    codes: dict[str, str]
    voilas: dict[str, VoilaProcess]
    gateway: Gateway
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    stopped: bool = field(default=False)

    def sign_in_url(self, client_id: str) -> str:
        return f"{self.url}?code={self.codes[client_id]}"

    def failed_child(self) -> str | None:
        """The client whose Voila stopped by itself, if any."""
        return next((client for client, voila in self.voilas.items() if voila.process.poll() is not None), None)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=15)
        for voila in self.voilas.values():
            voila.stop()


def _gateway_thread(gateway: Gateway, host: str, port: int, ready: threading.Event, loop: asyncio.AbstractEventLoop,
                    failure: list[BaseException]) -> None:
    from tornado.httpserver import HTTPServer
    from tornado.ioloop import PeriodicCallback

    asyncio.set_event_loop(loop)
    try:
        server = HTTPServer(gateway.application(), xheaders=False)
        server.listen(port, host)
        sweeper = PeriodicCallback(gateway.sweep, 5_000)
        sweeper.start()
    except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
        failure.append(exc)
        ready.set()
        return
    ready.set()
    try:
        loop.run_forever()
    finally:
        sweeper.stop()
        server.stop()
        gateway.close()
        pending = asyncio.all_tasks(loop)  # kernels to shut later: Voila is stopped next, with all of them
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


def start(run_dirs: list[Path], host: str = "127.0.0.1", port: int | None = None, *, pool_size: int = POOL_SIZE,
          max_viewers: int = MAX_VIEWERS, valid_for: dt.timedelta = access.DEFAULT_VALID_FOR,
          idle_timeout: float = IDLE_TIMEOUT_S, refill_delay: float = REFILL_DELAY_S) -> DashboardService:
    """Serve the dashboards of some runs (one per client) behind one gateway on ``host:port``; not blocking.

    Each client gets a new access code (the previous one stops working), kept beside its runs (the run folder's
    parent). Returns once every Voila answers and the gateway listens.
    """
    runs = [Path(r).resolve() for r in run_dirs]
    manifests = [RunFolder(r).read_manifest() for r in runs]
    clients = [m.client for m in manifests]
    if len(set(clients)) != len(clients):
        raise ArchiveError("dashboard", "two runs of one client given", fix="serve one run per client")
    port = port or free_port(host)
    voilas: dict[str, VoilaProcess] = {}
    try:
        for run, manifest in zip(runs, manifests):
            voilas[manifest.client] = start_voila(run, pool_size=pool_size, idle_timeout=idle_timeout,
                                                  refill_delay=refill_delay)
        codes = {m.client: access.issue(r.parent, valid_for) for r, m in zip(runs, manifests)}
        tenants = [Tenant(client_id=m.client, names=(m.client_name.get("zh", m.client), m.client_name.get("en", "")),
                          access_folder=r.parent, upstream_url=voilas[m.client].base_url,
                          upstream_token=voilas[m.client].token, viewers=Viewers(max_viewers))
                   for r, m in zip(runs, manifests)]
        gateway = Gateway(tenants, local=host in LOCAL_HOSTS, cookie_secret=secrets.token_urlsafe(32))
        loop = asyncio.new_event_loop()
        ready, failure = threading.Event(), []
        thread = threading.Thread(target=_gateway_thread, args=(gateway, host, port, ready, loop, failure),
                                  name="dashboard-gateway", daemon=True)
        thread.start()
        ready.wait(timeout=30)
        if failure or not ready.is_set():
            problem = failure[0] if failure else "it did not start within 30 s"
            raise ArchiveError(f"{host}:{port}", f"the dashboard cannot listen there: {problem}",
                               fix="choose another --port, or leave it out for a free one")
    except BaseException:
        for voila in voilas.values():
            voila.stop()
        raise
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"
    return DashboardService(url=url, codes=codes, voilas=voilas, gateway=gateway, loop=loop, thread=thread)


def _interrupt(signum: int, _frame: object) -> None:
    """What a stopping signal does to a served dashboard: the waiting thread stops the gateway and every Voila (each
    in its own session: they do not get the signal) and removes their folders."""
    raise RunInterrupted(signum)


def resolve_runs(engagements: list[str | Path], run: str | None = None,
                 reports_root: Path | None = None) -> list[Path]:
    """The run folder to serve for each engagement: ``run`` (one engagement only) or its latest successful run."""
    from digiops.engagement import load_engagement

    if run and len(engagements) != 1:
        raise ArchiveError("--run", "a run can be named for one client only", fix="serve one client with --run")
    found = []
    for engagement in engagements:
        loaded = load_engagement(engagement)
        found.append(find_run(Path(reports_root or paths.reports_dir()) / loaded.client.id, run, loaded.file))
    return found


def serve(engagements: list[str | Path], run: str | None = None, host: str = "127.0.0.1", port: int | None = None,
          *, pool_size: int = POOL_SIZE, max_viewers: int = MAX_VIEWERS,
          valid_for: dt.timedelta = access.DEFAULT_VALID_FOR, idle_timeout: float = IDLE_TIMEOUT_S,
          wait: bool = True, reports_root: Path | None = None,
          log: Callable[[str], None] = print) -> DashboardService:
    """Serve the dashboards of some engagements (each its latest successful run, or ``run`` for a single one) and
    print for each client the address with its new access code.

    With ``wait`` (the CLI), blocks until a signal and stops everything; otherwise returns the service running.
    """
    run_dirs = resolve_runs(engagements, run, reports_root)
    guard = wait and threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS} if guard else {}
    service = None
    try:
        service = start(run_dirs, host, port, pool_size=pool_size, max_viewers=max_viewers, valid_for=valid_for,
                        idle_timeout=idle_timeout)
        expires = (dt.datetime.now().astimezone() + valid_for).strftime("%Y-%m-%d %H:%M %Z")
        for client, code in service.codes.items():
            log(f"dashboard of {client} run {service.voilas[client].run_dir.name}: {service.sign_in_url(client)} "
                f"(access code {code}, valid until {expires})")
        if host not in LOCAL_HOSTS:
            log(f"warning: listening on {host}: anyone who can reach it and has a client's access code can see that "
                "client's data; put it behind HTTPS")
        while wait:
            failed = service.failed_child()
            if failed:
                raise ArchiveError("voila", f"the dashboard of {failed} stopped: "
                                   f"{service.voilas[failed].log_text()[-800:]}", fix="start it again")
            time.sleep(0.5)
    finally:
        if wait and service is not None:
            service.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
    return service


def rotate_code(engagement: str | Path, run: str | None = None, reports_root: Path | None = None,
                valid_for: dt.timedelta = access.DEFAULT_VALID_FOR) -> tuple[str, Path]:
    """A new access code for a client's dashboard, served or not: sessions signed in with the old code end at their
    next request. Returns the code and the folder keeping its hash."""
    run_dir = resolve_runs([engagement], run, reports_root)[0]
    return access.issue(run_dir.parent, valid_for), run_dir.parent
