"""Time from request to rendered dashboard widgets in headless Chromium, cold and with a pre-heated kernel.

Usage: ``.venv/bin/python bench/bench_dashboard.py [RUN_DIR] [--repeat N]``. Without RUN_DIR it serves the latest
successful demo run under reports/demo/, or else a fixture run (tests/summary/summary_fixtures.py). Prints the
median and every measurement; the goal is ≤ 3 s with pre-heating (issue 8).

Pre-heated rows measure a visitor arriving at an idle server: each request waits until the pooled kernel has been
started *and* has executed the notebook (the Voila process tree quiet for 1.5 s). Requests are not intercepted (the
page asks nothing of another host, tests/dashboard checks it), so Playwright's routing adds no time.
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
from digiops.dashboard.serve import REFILL_DELAY_S, find_run, start  # noqa: E402
from digiops.errors import DigiopsError  # noqa: E402
from tests.browser import RENDERED, launch  # noqa: E402


def pick_run(argument: str | None) -> tuple[Path, str]:
    if argument:
        return Path(argument), "given run"
    try:
        return find_run(paths.reports_dir() / "demo"), "latest demo run"
    except DigiopsError:
        from tests.summary.summary_fixtures import finish, make_run

        return finish(make_run(Path(tempfile.mkdtemp()))), "fixture run"


def server_cpu_seconds(server) -> float:
    """CPU seconds used so far by the Voila process and its kernels."""
    import psutil

    try:
        root = psutil.Process(server.process.pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total
    except psutil.NoSuchProcess:
        return 0.0


def pool_ready(server, times: int, quiet_s: float = 1.5) -> None:
    """Wait until the pool has been filled ``times`` times and the server has gone quiet.

    Voila logs "is filled with" once the pooled kernel has *started*; the notebook then still executes in it. A
    visitor arriving at an idle server finds it executed, so wait until the Voila process tree has used less than
    0.1 s of CPU during ``quiet_s`` seconds.
    """
    deadline = time.monotonic() + 180
    while server.log_text().count("is filled with") < times and time.monotonic() < deadline:
        time.sleep(0.2)
    before = server_cpu_seconds(server)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = server_cpu_seconds(server)
        if now - before < 0.1:
            return
        before = now


def measure(run: Path, preheat: bool, repeat: int, warm_cache: bool = False,
            refill_delay: float = REFILL_DELAY_S) -> list[float]:
    from playwright.sync_api import sync_playwright

    server = start(run, preheat=preheat, pool_size=1, refill_delay=refill_delay)
    timings = []
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            context = browser.new_context()
            if warm_cache:  # a returning visitor: Voila's JavaScript bundles already in the browser cache
                page = context.new_page()
                page.goto(server.base_url + "?token=" + server.token)
                page.wait_for_selector(RENDERED, timeout=120_000)
                page.close()
            for attempt in range(repeat):
                if preheat:
                    pool_ready(server, attempt + 1 + int(warm_cache))
                page = (context if warm_cache else browser).new_page()
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
    rows = (("cold (no pre-heating)", False, False, REFILL_DELAY_S),
            ("pre-heated kernel", True, False, REFILL_DELAY_S),
            ("pre-heated, refill after 1 s", True, False, 1.0),  # Voila's default fill_delay
            ("pre-heated, warm cache", True, True, REFILL_DELAY_S))
    for label, preheat, warm, refill_delay in rows:
        timings = measure(run, preheat, args.repeat, warm, refill_delay)
        print(f"{label:30s} median {statistics.median(timings):5.2f} s  "
              f"({', '.join(f'{t:.2f}' for t in timings)})", flush=True)
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

if __name__ == "__main__":
    main()
