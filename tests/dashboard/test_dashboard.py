"""The dashboard: views from a run's outputs (pure functions), the launcher's choices, and the real thing served by
Voila and driven in headless Chromium."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from digiops.dashboard import find_run
from digiops.dashboard.serve import voila_config
from digiops.errors import ArchiveError
from tests.browser import RENDERED, launch, need_chromium
from tests.summary.summary_fixtures import finish, make_run


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


def test_voila_settings_keep_the_defaults_that_protect_the_client():
    config = voila_config("secret", "127.0.0.1", 8866, preheat=True, pool_size=1)
    shared = voila_config("secret", "0.0.0.0", 8866, preheat=True, pool_size=1)

    assert config["Voila"]["tornado_settings"]["allow_remote_access"] is False  # Host header checked
    assert shared["Voila"]["tornado_settings"]["allow_remote_access"] is True  # served on purpose to a network

    assert config["VoilaConfiguration"]["template"] == "digiops"
    assert config["VoilaKernelManager"]["fill_delay"] >= 3  # the refill waits until the visitor's page is up
    assert config["VoilaConfiguration"]["strip_sources"] is True
    assert config["VoilaConfiguration"]["show_tracebacks"] is False
    assert config["Voila"]["token"] == "secret" and config["Voila"]["ip"] == "127.0.0.1"
    assert "enable_nbextensions" not in json.dumps(config)  # browser-side code execution stays at Voila's default


@pytest.mark.browser
@pytest.mark.slow
def test_served_dashboard_in_headless_chromium(tmp_path, monkeypatch):
    need_chromium()
    from playwright.sync_api import sync_playwright

    from digiops.dashboard import serve
    from tests.conftest import write_engagement

    reports = tmp_path / "reports"
    monkeypatch.setenv("DIGIOPS_REPORTS", str(reports))
    engagement = write_engagement(tmp_path / "client")
    made = finish(make_run(reports, language="zh")) / "manifest.json"
    made.write_text(json.dumps({**json.loads(made.read_text(encoding="utf-8")), "engagement_file": str(engagement)}),
                    encoding="utf-8")
    other = finish(make_run(reports, client="other"))  # another client's run: must not be reachable
    lines: list[str] = []

    server = serve(engagement, wait=False, log=lines.append)
    try:
        assert server.token in lines[0] and "127.0.0.1" in server.base_url
        with urllib.request.urlopen(server.base_url, timeout=30) as response:  # no token: the login page
            assert "/login" in response.url and "dg-dashboard" not in response.read().decode()
            assert response.headers["Referrer-Policy"] == "no-referrer"  # the token never leaves in a Referer
        forged = urllib.request.Request(server.base_url + "?token=" + server.token,
                                        headers={"Host": "attacker.example"})  # DNS rebinding
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(forged, timeout=30)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            requests = record_requests(context)
            page = context.new_page()
            page.goto(server.base_url + "?token=" + server.token)
            page.wait_for_selector(RENDERED, timeout=60_000)
            assert server.token not in page.url  # the address bar, history and bookmarks keep no token
            cookies = {c["name"]: c for c in context.cookies()}
            login = next(c for name, c in cookies.items() if name.startswith("username-"))
            assert login["sameSite"] == "Strict" and login["httpOnly"]

            assert "示例<script>alert(1)</script>零售" in page.inner_text(".dg-header h1")
            gmv = page.locator(".dg-kpi-view tr[data-kpi='gmv'] .dg-actual")
            assert gmv.inner_text() == "1,100,000"
            page.select_option(".dg-unit select", "华东")
            page.wait_for_function("document.querySelector(\".dg-kpi-view tr[data-kpi='gmv'] .dg-actual\")"
                                   ".innerText === '550,000'", timeout=20_000)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            page.wait_for_load_state("networkidle")
            # offline or private networks: the page asks nothing of another host (Voila's lab template would
            # fetch Font Awesome from cdn.jsdelivr.net; the project's `digiops` template does not)
            assert any("/voila/static/" in url for url in requests), requests[:20]
            assert foreign(requests, server.base_url) == []
            page.goto(server.base_url + "voila/files/" + str(other / "manifest.json") + "?token=" + server.token)
            assert "client_name" not in page.content()
            browser.close()
    finally:
        server.stop()
    assert server.process.poll() is not None


def test_cli_dashboard_without_runs_fails_with_a_fix(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from digiops.cli import app
    from tests.conftest import write_engagement

    monkeypatch.setenv("DIGIOPS_REPORTS", str(tmp_path / "reports"))
    engagement = write_engagement(tmp_path / "client")

    result = CliRunner().invoke(app, ["dashboard", str(engagement)])

    assert result.exit_code == 2
    assert "no runs yet" in result.output and "digiops run acme" in result.output


@pytest.mark.slow
@pytest.mark.hardening
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_stops_the_dashboard_with_every_child_and_its_folder(tmp_path, signum):
    """`digiops dashboard` runs Voila in its own session: a signal to the command must stop it too and remove the
    folder that holds the token (SIGTERM used to leave Voila serving the client's data)."""
    import psutil

    from tests.conftest import write_engagement

    reports = tmp_path / "reports"
    engagement = write_engagement(tmp_path / "client")
    made = finish(make_run(reports)) / "manifest.json"
    made.write_text(json.dumps({**json.loads(made.read_text(encoding="utf-8")), "engagement_file": str(engagement)}),
                    encoding="utf-8")
    before = set(Path(tempfile.gettempdir()).glob("digiops-dashboard-*"))
    process = subprocess.Popen([sys.executable, "-m", "digiops.cli", "dashboard", str(engagement), "--out",
                                str(reports)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        assert "?token=" in line, line + process.stdout.read()
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
