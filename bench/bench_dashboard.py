"""Time from request to rendered dashboard widgets in headless Chromium, cold and with a pre-heated kernel.

Usage: ``.venv/bin/python bench/bench_dashboard.py [RUN_DIR] [--repeat N]``. Without RUN_DIR it serves the latest
successful demo run under reports/demo/, or else a fixture run (tests/summary/summary_fixtures.py). Prints the
median and every measurement; the goal is ≤ 3 s with pre-heating (issue 8).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digiops import paths  # noqa: E402
from digiops.dashboard.serve import find_run, start  # noqa: E402
from digiops.errors import DigiopsError  # noqa: E402
from tests.browser import RENDERED, block_other_hosts, launch  # noqa: E402


def pick_run(argument: str | None) -> tuple[Path, str]:
    if argument:
        return Path(argument), "given run"
    try:
        return find_run(paths.reports_dir() / "demo"), "latest demo run"
    except DigiopsError:
        from tests.summary.summary_fixtures import finish, make_run

        return finish(make_run(Path(tempfile.mkdtemp()))), "fixture run"


def pool_filled(server, times: int) -> None:
    deadline = time.monotonic() + 120
    while server.log_text().count("is filled with") < times and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)  # the pre-heated notebook has executed once the pool reports filled


def measure(run: Path, preheat: bool, repeat: int, warm_cache: bool = False) -> list[float]:
    from playwright.sync_api import sync_playwright

    server = start(run, preheat=preheat, pool_size=1)
    timings = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context()
            if warm_cache:  # a returning visitor: Voila's JavaScript bundles already in the browser cache
                page = context.new_page()
                block_other_hosts(page, server.base_url)
                page.goto(server.base_url + "?token=" + server.token)
                page.wait_for_selector(RENDERED, timeout=120_000)
                page.close()
            for attempt in range(repeat):
                if preheat:
                    pool_filled(server, attempt + 1 + int(warm_cache))
                page = (context if warm_cache else browser).new_page()
                block_other_hosts(page, server.base_url)
                started = time.perf_counter()
                page.goto(server.base_url + "?token=" + server.token)
                page.wait_for_selector(RENDERED, timeout=120_000)
                timings.append(time.perf_counter() - started)
                page.close()
            browser.close()
    finally:
        server.stop()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run, kind = pick_run(args.run)
    print(f"dashboard of {kind}: {run}")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    for label, preheat, warm in (("cold (no pre-heating)", False, False), ("pre-heated kernel", True, False),
                                 ("pre-heated, warm cache", True, True)):
        timings = measure(run, preheat, args.repeat, warm)
        print(f"{label:24s} median {statistics.median(timings):5.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in timings)})")


if __name__ == "__main__":
    main()
