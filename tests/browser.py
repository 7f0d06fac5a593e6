"""Headless Chromium for the dashboard tests and benchmark (Debian's /usr/bin/chromium; Playwright cannot download
its own browser here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("DIGIOPS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
RENDERED = ".dg-dashboard .dg-kpi-view table, .dg-dashboard .dg-kpi-view .dg-note"


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)


def block_other_hosts(page, base_url: str) -> None:
    """Voila's template links a CDN stylesheet; on an offline machine waiting for it only slows the page."""
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base_url.rstrip("/"))
               else route.abort())


def need_chromium() -> None:
    """Skip with a how-to outside CI when Chromium is absent; in CI (`CI=true`) its absence is a failure."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it with apt-get install chromium")
    pytest.skip(f"headless browser tests need {CHROMIUM}: enable them with `apt-get install chromium`")
