"""Serving the dashboard: which run is shown, Voila's settings, and the real service — the gateway and one Voila per
client — reached over HTTP, over the kernel's websocket and in headless Chromium."""

from __future__ import annotations

import asyncio
import datetime as dt
import http.cookiejar
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from digiops.dashboard import access, find_run, start
from digiops.dashboard.serve import voila_config
from digiops.errors import ArchiveError
from tests.browser import RENDERED, launch, need_chromium
from tests.summary.summary_fixtures import finish, make_run

OTHER_NAME = {"zh": "另一家客户", "en": "Other Client Co"}


def test_find_run_picks_the_latest_successful_run_or_the_one_named_by_id_or_path(tmp_path):
    old = finish(make_run(tmp_path, "20260101T000000-000000-aaaaaa"))
    failed = finish(make_run(tmp_path, "20260201T000000-000000-bbbbbb"), status="failed")
    elsewhere = finish(make_run(tmp_path / "out", "20260301T000000-000000-cccccc"))  # written with run --out

    assert find_run(tmp_path / "acme") == old
    assert find_run(tmp_path / "acme", failed.name) == failed
    assert find_run(tmp_path / "acme", str(elsewhere)) == elsewhere
    with pytest.raises(ArchiveError, match="no such run"):
        find_run(tmp_path / "acme", str(tmp_path / "out" / "acme"))  # a folder, not a run
    with pytest.raises(ArchiveError, match="no runs yet"):
        find_run(tmp_path / "nobody")


@pytest.mark.hardening
def test_a_client_is_never_shown_another_client_folders_run(tmp_path):
    """Two client folders with the same client.id share reports/<id>/: each engagement file sees its own runs."""
    mine, theirs = tmp_path / "mine" / "engagement.yaml", tmp_path / "theirs" / "engagement.yaml"
    for run, made_by in (("20260101T000000-000000-aaaaaa", mine), ("20260201T000000-000000-bbbbbb", theirs)):
        path = finish(make_run(tmp_path, run)) / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**manifest, "engagement_file": str(made_by)}), encoding="utf-8")

    assert find_run(tmp_path / "acme", engagement_file=mine).name == "20260101T000000-000000-aaaaaa"
    assert find_run(tmp_path / "acme", engagement_file=theirs).name == "20260201T000000-000000-bbbbbb"
    with pytest.raises(ArchiveError, match="not made by"):
        find_run(tmp_path / "acme", "20260201T000000-000000-bbbbbb", engagement_file=mine)
    with pytest.raises(ArchiveError, match="not made by"):  # a path to another client's run neither
        find_run(tmp_path / "acme", str(tmp_path / "acme" / "20260201T000000-000000-bbbbbb"), engagement_file=mine)


def test_voila_listens_on_loopback_only_with_the_defaults_that_protect_the_client():
    config = voila_config("secret", 8866, pool_size=2, idle_timeout=600, folder=Path("/private/folder"))

    assert config["Voila"]["ip"] == "127.0.0.1" and config["Voila"]["token"] == "secret"
    assert config["Voila"]["tornado_settings"]["allow_remote_access"] is False  # Host header checked
    assert config["VoilaConfiguration"]["template"] == "digiops"
    assert config["VoilaConfiguration"]["preheat_kernel"] is True
    assert config["VoilaConfiguration"]["default_pool_size"] == 2
    assert config["VoilaKernelManager"]["fill_delay"] >= 3  # the refill waits until the visitor's page is up
    assert config["MappingKernelManager"]["cull_idle_timeout"] == 600  # idle kernels do not pile up
    assert config["Voila"]["connection_dir_root"] == "/private/folder"  # removed with the launcher's folder
    assert config["VoilaConfiguration"]["strip_sources"] is True
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    assert "enable_nbextensions" not in json.dumps(config)  # browser-side code execution stays at Voila's default


def test_cli_dashboard_without_runs_fails_with_a_fix(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from digiops.cli import app
    from tests.conftest import write_engagement

    monkeypatch.setenv("DIGIOPS_REPORTS", str(tmp_path / "reports"))
    engagement = write_engagement(tmp_path / "client")

    result = CliRunner().invoke(app, ["dashboard", str(engagement)])

    assert result.exit_code == 2
    assert "no runs yet" in result.output and "digiops run acme" in result.output


def test_cli_rotates_a_code_and_refuses_a_duration_it_cannot_read(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from digiops.cli import app
    from tests.conftest import write_engagement

    reports = tmp_path / "reports"
    engagement = write_engagement(tmp_path / "client")
    run = finish(make_run(reports))
    _made_by(run, engagement)
    first = access.issue(run.parent)

    result = CliRunner().invoke(app, ["dashboard-code", str(engagement), "--out", str(reports), "--valid-for",
                                      "12h"])
    bad = CliRunner().invoke(app, ["dashboard-code", str(engagement), "--out", str(reports), "--valid-for", "soon"])

    assert result.exit_code == 0, result.output
    code = re.search(r"new access code: (\S+)", result.output).group(1)
    assert access.check(run.parent, first) is None and access.check(run.parent, code) is not None
    assert access.current(run.parent).expires_at - dt.datetime.now(dt.timezone.utc) < dt.timedelta(hours=12)
    assert bad.exit_code == 2 and "30m, 12h, 7d or 2w" in bad.output


def _made_by(run: Path, engagement: Path, **fields: object) -> None:
    path = run / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "engagement_file": str(engagement), **fields}), encoding="utf-8")


# --- the real service: two clients behind one gateway -------------------------------------------------------------
class Browser:
    """A cookie-keeping HTTP client that does not follow redirects (a client's browser, seen from the server)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args, **_kwargs):
            return None

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect)

    def get(self, path: str, method: str = "GET", data: bytes | None = None,
            headers: dict | None = None) -> tuple[int, dict, str]:
        request = urllib.request.Request(self.base_url + path.lstrip("/"), data=data, method=method,
                                         headers=headers or {})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode("utf-8", "replace")

    def sign_in(self, code: str) -> tuple[int, dict, str]:
        return self.get("/?code=" + urllib.parse.quote(code))

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@pytest.fixture(scope="module")
def two_clients(tmp_path_factory):
    """Clients `acme` and `other`, each with a run, served at once by one gateway (one pre-heated kernel each)."""
    root = tmp_path_factory.mktemp("reports")
    acme = finish(make_run(root, client="acme"))
    other = finish(make_run(root, client="other"))
    path = other / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "client_name": OTHER_NAME}),
                    encoding="utf-8")
    service = start([acme, other], pool_size=1, max_viewers=6)
    yield service, acme, other
    service.stop()


def kernel_id(page: str) -> str:
    found = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page)
    assert found, page[:500]
    return found.group(1)


NOT_HERE = ["/api/contents", "/api/contents/dashboard.ipynb", "/api/kernels", "/api/sessions", "/api/terminals",
            "/api/status", "/api/kernelspecs", "/files/dashboard.ipynb", "/voila/files/dashboard.ipynb",
            "/voila/render/dashboard.ipynb", "/voila/tree", "/voila/api/contents", "/login", "/logout", "/tree",
            "/lab", "/static/base/images/favicon.ico", "/dashboard.ipynb", "/voila.json", "/voila.log"]
ASSET = "/voila/static/voila.js"
THE_DASHBOARDS_OWN = ["/voila/static/voila.js", "/voila/templates/digiops/static/index.css",
                      "/api/kernels/" + str(uuid.uuid4())]


@pytest.mark.slow
@pytest.mark.hardening
def test_without_an_access_code_nothing_but_the_sign_in_page_is_served(two_clients):
    service, acme, _other = two_clients
    stranger = Browser(service.url)

    status, headers, _ = stranger.get("/")
    assert status == 302 and headers["Location"] == "/sign-in"
    status, headers, page = stranger.get("/sign-in")
    assert status == 200 and "访问码" in page and "Access code" in page
    assert "password" not in page.lower() and "jupyter" not in page.lower()  # no developer login, no set-password
    assert "另一家" not in page and "示例" not in page  # a gateway of two clients names neither before sign-in
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    for path in THE_DASHBOARDS_OWN:
        assert stranger.get(path)[0] == 403, path
    for path in NOT_HERE + ["/voila/files/" + str(acme / "manifest.json")]:
        status, _, body = stranger.get(path)
        assert status == 404 and "client_name" not in body, path
    status, _, page = stranger.get("/sign-in", "POST", b"code=AAAA-AAAA-AAAA")
    assert status == 403 and "访问码不正确" in page
    status, _, page = stranger.get("/?code=AAAA-AAAA-AAAA")
    assert status == 403 and stranger.cookie_header() == ""


@pytest.mark.slow
@pytest.mark.hardening
def test_a_clients_code_opens_its_own_dashboard_and_nothing_else(two_clients):
    service, acme, other = two_clients
    client = Browser(service.url)

    status, headers, _ = client.sign_in(service.codes["acme"])
    assert status == 302 and headers["Location"] == "/"  # the code leaves the address bar
    cookie = next(iter(client.jar))
    assert cookie.has_nonstandard_attr("HttpOnly") and "samesite=strict" in str(headers).lower()
    status, _, page = client.get("/")
    assert status == 200 and "示例&lt;script&gt;alert(1)&lt;/script&gt;零售" in page
    assert "另一家" not in page and "Other Client" not in page
    own_kernel = kernel_id(page)
    for path in THE_DASHBOARDS_OWN[:2] + ["/api/kernels/" + own_kernel]:
        assert client.get(path)[0] == 200, path
    assert "javascript" in client.get("/voila/static/voila.js")[1]["Content-Type"]  # passed on as Voila sent it
    for path in NOT_HERE + ["/voila/files/" + str(other / "manifest.json"), "/voila/files/" + str(acme / "run.html")]:
        status, _, body = client.get(path)
        assert status == 404 and "client_name" not in body, path
    assert client.get("/api/kernels/" + own_kernel, "DELETE")[0] == 404  # viewers cannot stop kernels

    neighbour = Browser(service.url)
    neighbour.sign_in(service.codes["other"])
    status, _, their_page = neighbour.get("/")
    assert status == 200 and "另一家客户" in their_page and "示例" not in their_page
    their_kernel = kernel_id(their_page)
    assert client.get("/api/kernels/" + their_kernel)[0] == 404  # acme's code reaches only acme's kernels
    assert neighbour.get("/api/kernels/" + own_kernel)[0] == 404

    forged = client.get("/", headers={"Host": "attacker.example"})  # DNS rebinding
    assert forged[0] == 403


def _message(msg_type: str, content: dict) -> str:
    return json.dumps({"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "client",
                                  "session": uuid.uuid4().hex, "date": dt.datetime.now(dt.timezone.utc).isoformat(),
                                  "version": "5.3"},
                       "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": []})


async def _kernel_session(ws_url: str, cookie: str, sends: list[str], listen_s: float,
                          origin: str | None = None) -> list[dict]:
    from tornado import httpclient, websocket

    headers = {"Cookie": cookie, **({"Origin": origin} if origin else {})}
    connection = await websocket.websocket_connect(httpclient.HTTPRequest(ws_url, headers=headers))
    for message in sends:
        await connection.write_message(message)
    received = []
    deadline = time.monotonic() + listen_s
    while time.monotonic() < deadline:
        try:
            message = await asyncio.wait_for(connection.read_message(), deadline - time.monotonic())
        except asyncio.TimeoutError:
            break
        if message is None:
            break
        if isinstance(message, str):
            received.append(json.loads(message))
            if received[-1]["header"]["msg_type"] == "kernel_info_reply":
                break  # the kernel answers in order: a reply to an earlier request would have come first
    connection.close()
    return received


@pytest.mark.slow
@pytest.mark.hardening
def test_the_kernel_connection_carries_widget_messages_never_code(two_clients, tmp_path):
    service, _acme, _other = two_clients
    client = Browser(service.url)
    client.sign_in(service.codes["acme"])
    own_kernel = kernel_id(client.get("/")[2])
    ws_url = service.url.replace("http", "ws", 1) + f"api/kernels/{own_kernel}/channels"
    witness = tmp_path / "executed"
    code = f"open({str(witness)!r}, 'w').write('x')"

    replies = asyncio.run(_kernel_session(ws_url, client.cookie_header(), [
        _message("execute_request", {"code": code, "silent": False, "store_history": False,
                                     "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}),
        _message("kernel_info_request", {})], listen_s=8))

    types = [reply["header"]["msg_type"] for reply in replies]
    assert "kernel_info_reply" in types  # the connection works: the refusal below is not a broken socket
    assert "execute_reply" not in types and "execute_input" not in types
    assert not witness.exists()

    stranger_cookie = "digiops_session=forged"
    with pytest.raises(Exception, match="403"):
        asyncio.run(_kernel_session(ws_url, stranger_cookie, [], listen_s=1))
    with pytest.raises(Exception, match="403"):  # another site's page cannot use a signed-in browser's cookie
        asyncio.run(_kernel_session(ws_url, client.cookie_header(), [], listen_s=1, origin="http://evil.example"))


@pytest.mark.slow
@pytest.mark.hardening
def test_a_rotated_or_expired_code_ends_the_sessions_signed_in_with_it(two_clients):
    service, _acme, other = two_clients
    client = Browser(service.url)
    client.sign_in(service.codes["other"])
    assert client.get(ASSET)[0] == 200  # signed in (an asset takes no kernel, the page would)

    new_code = access.issue(other.parent)  # what `digiops dashboard-code other` does while it is served
    try:
        status, headers, _ = client.get("/")
        assert status == 302 and headers["Location"] == "/sign-in?problem=ended"
        assert client.get("/sign-in?problem=ended")[2].count("已过期或已更换") == 1
        assert Browser(service.url).sign_in(service.codes["other"])[0] == 403  # the old code opens nothing
        assert client.sign_in(new_code)[0] == 302 and client.get(ASSET)[0] == 200

        short = access.issue(other.parent, dt.timedelta(seconds=3))  # a code that expires at once
        assert client.sign_in(short)[0] == 302 and client.get(ASSET)[0] == 200
        time.sleep(3.5)
        assert client.get(ASSET)[0] == 403 and client.get("/")[0] == 302
        assert Browser(service.url).sign_in(short)[0] == 403
    finally:
        service.codes["other"] = access.issue(other.parent)


@pytest.mark.slow
def test_beyond_the_viewer_cap_a_client_is_asked_to_retry(two_clients):
    service, _acme, _other = two_clients
    viewers = service.gateway.tenants["acme"].viewers
    cap, viewers.cap = viewers.cap, viewers.count() + 1
    try:
        client = Browser(service.url)
        client.sign_in(service.codes["acme"])
        assert client.get("/")[0] == 200
        status, headers, page = client.get("/")
        assert status == 503 and headers["Retry-After"] == "10"
        assert "看板当前访问人数已满" in page and "http-equiv='refresh'" in page
    finally:
        viewers.cap = cap


# --- in a browser ---------------------------------------------------------------------------------------------------
def record_requests(context) -> list[str]:
    """Every URL the browser context requests (pages, frames, workers), in order; nothing is blocked."""
    urls: list[str] = []
    context.on("request", lambda request: urls.append(request.url))
    return urls


def foreign(urls: list[str], base_url: str) -> list[str]:
    """The requested URLs whose scheme, host or port differ from the server's (data: and blob: URLs stay local)."""
    own = urllib.parse.urlsplit(base_url)
    return [url for url in urls if urllib.parse.urlsplit(url).scheme not in ("data", "blob", "about")
            and urllib.parse.urlsplit(url)[:2] != own[:2]]


def test_foreign_requests_are_those_to_another_host_or_port():
    base = "http://127.0.0.1:8866/"
    urls = [base + "voila/static/voila.js", "data:;base64,=", "https://cdn.jsdelivr.net/npm/x.css",
            "http://127.0.0.1:9999/", "http://localhost:8866/"]

    assert foreign(urls, base) == urls[2:]


@pytest.mark.browser
@pytest.mark.slow
def test_served_dashboard_in_headless_chromium(two_clients, tmp_path):
    need_chromium()
    from playwright.sync_api import sync_playwright

    service, _acme, _other = two_clients
    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        requests = record_requests(context)
        page = context.new_page()
        page.goto(service.url)
        assert page.url.endswith("/sign-in")
        page.fill("#code", service.codes["acme"].lower())  # as a client might type it
        page.click("button[type=submit]")
        page.wait_for_selector(RENDERED, timeout=60_000)
        assert page.url == service.url and "code" not in page.url
        assert page.title() == "示例<script>alert(1)</script>零售 · 数字化运营看板"
        cookie = next(c for c in context.cookies() if c["name"] == "digiops_session")
        assert cookie["sameSite"] == "Strict" and cookie["httpOnly"]

        assert "示例<script>alert(1)</script>零售" in page.inner_text(".dg-header h1")
        gmv = page.locator(".dg-kpi-view tr[data-kpi='gmv'] .dg-actual")
        assert gmv.inner_text() == "1,100,000"
        page.select_option(".dg-unit select", "华东")  # a widget message through the gateway and back
        page.wait_for_function("document.querySelector(\".dg-kpi-view tr[data-kpi='gmv'] .dg-actual\")"
                               ".innerText === '550,000'", timeout=20_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        # offline or private networks: the page asks nothing of another host (Voila's lab template would
        # fetch Font Awesome from cdn.jsdelivr.net; the project's `digiops` template does not)
        assert any("/voila/static/" in url for url in requests), requests[:20]
        assert foreign(requests, service.url) == []
        viewer_kernel = kernel_id(page.content())
        watcher = Browser(service.url)
        watcher.sign_in(service.codes["acme"])
        assert watcher.get("/api/kernels/" + viewer_kernel)[0] == 200
        context.close()  # the tab closes without a word to the server
        deadline = time.monotonic() + 30
        while watcher.get("/api/kernels/" + viewer_kernel)[0] == 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert watcher.get("/api/kernels/" + viewer_kernel)[0] == 404  # shut down, not left for the culler
        browser.close()


@pytest.mark.slow
@pytest.mark.hardening
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_dashboard_with_every_child_and_its_folder(tmp_path, signum):
    """`digiops dashboard` runs each Voila in its own session: a signal to the command must stop them too and remove
    the folders that hold their tokens (SIGTERM used to leave Voila serving the client's data)."""
    import psutil

    from tests.conftest import write_engagement

    reports = tmp_path / "reports"
    engagement = write_engagement(tmp_path / "client")
    _made_by(finish(make_run(reports)), engagement)
    before = set(Path(tempfile.gettempdir()).glob("digiops-dashboard-*"))
    voila_before = set(Path(tempfile.gettempdir()).glob("voila_*"))  # Voila's own connection folders
    process = subprocess.Popen([sys.executable, "-m", "digiops.cli", "dashboard", str(engagement), "--out",
                                str(reports)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert "?code=" in line and "access code" in line, line + process.stdout.read()
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("voila" in " ".join(child.cmdline()) for child in children)
        folders = set(Path(tempfile.gettempdir()).glob("digiops-dashboard-*")) - before
        assert len(folders) == 1

        process.send_signal(signum)
        assert process.wait(timeout=60) == 128 + signum
    finally:
        if process.poll() is None:
            process.kill()
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, [p.cmdline() for p in alive]
    assert not any(folder.exists() for folder in folders)
    assert set(Path(tempfile.gettempdir()).glob("voila_*")) <= voila_before
