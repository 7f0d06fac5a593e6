"""The served dashboard under load: first render for one viewer and for N at once, and memory over many visits.

Usage: ``.venv/bin/python bench/bench_dashboard.py [--run RUN_DIR] [--viewers 10] [--visits 50] [--repeat 3]``.
Without ``--run`` it serves the latest successful demo run under reports/demo/, or else a fixture run.

The dashboard runs as a user starts it (``digiops dashboard … --run RUN``: the gateway and Voila in a process tree
of their own); the browser is Debian's Chromium through Playwright, one browser context per viewer (no shared
cache or cookies), each opening the sign-in link with the access code the command printed. "First render" is from
that request to the KPI table drawn by the widgets (the sign-in redirect included).

1. one viewer (``--preheat 1``): ``--repeat`` visits, each to an idle server (the pool refilled, CPU quiet);
2. ``--viewers`` at once, after warm-up (``--preheat`` = viewers): every one must see the dashboard; goal ≤ 3 s each.
   Measured twice: with that many Chromium contexts on this machine (their JavaScript competes with the server for
   the same two cores, which a client's own computer would not), and with the server's share alone — each viewer
   replayed at the protocol level: sign in, the page, every asset the browser fetched on a recorded visit (six at a
   time, as a browser does), the kernel connection and its kernel-info and comm-info replies;
3. memory (``--preheat 1``): the resident memory of the whole process tree after 1 visit and after ``--visits``
   sequential visits (each tab closed without a word to the server), each measured once the tree is quiet;
   goal: ≤ 1.5 × the first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digiops import paths  # noqa: E402
from digiops.dashboard.serve import find_run  # noqa: E402
from digiops.errors import DigiopsError  # noqa: E402
from tests.browser import CHROMIUM, CHROMIUM_ARGS, RENDERED  # noqa: E402


def pick_run(argument: str | None) -> tuple[Path, Path, str]:
    """(run folder, engagement file, what it is)."""
    if argument:
        run = Path(argument).resolve()
    else:
        try:
            run = find_run(paths.reports_dir() / "demo")
        except DigiopsError:
            run = None
    if run is not None:
        from digiops.runfolder import RunFolder

        engagement = RunFolder(run).read_manifest().engagement_file
        return run, Path(engagement), "given run" if argument else "latest demo run"
    import json

    from tests.conftest import write_engagement
    from tests.summary.summary_fixtures import finish, make_run

    folder = Path(tempfile.mkdtemp())
    engagement = write_engagement(folder / "client")
    run = finish(make_run(folder / "reports"))
    manifest = run / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text(encoding="utf-8")),
                                    "engagement_file": str(engagement)}), encoding="utf-8")
    return run, engagement, "fixture run"


class Served:
    """`digiops dashboard` as a child process: its sign-in link and its process tree."""

    def __init__(self, run: Path, engagement: Path, preheat: int, viewers: int):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digiops.cli", "dashboard", str(engagement), "--run", str(run), "--preheat",
             str(preheat), "--viewers", str(viewers)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT / "lib")})
        line = self.process.stdout.readline()
        found = re.search(r"(http://\S+\?code=\S+)", line)
        if not found:
            self.stop()
            raise SystemExit(f"the dashboard did not start: {line}")
        self.link = found.group(1)
        self.preheat = preheat

    def tree(self):
        import psutil

        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for process in self.tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total / 2**20

    def cpu_s(self) -> float:
        import psutil

        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def kernels(self) -> int:
        return sum("ipykernel" in " ".join(p.cmdline()) for p in self.tree()[1:])

    def settle(self, min_s: float = 0.0, quiet_s: float = 2.0, timeout: float = 300) -> None:
        """Wait ``min_s``, then until the pool holds its kernels and the tree used < 0.1 s CPU during ``quiet_s``."""
        time.sleep(min_s)
        deadline = time.monotonic() + timeout
        before = self.cpu_s()
        while time.monotonic() < deadline:
            time.sleep(quiet_s)
            now = self.cpu_s()
            if now - before < 0.1 * quiet_s / 1.5 and self.kernels() >= self.preheat:
                return
            before = now

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def visit(browser, link: str) -> float:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(link, wait_until="commit", timeout=180_000)
        await page.wait_for_selector(RENDERED, timeout=180_000)
        return time.perf_counter() - started
    finally:
        await context.close()


async def record_assets(link: str) -> list[str]:
    """The paths a browser fetches from the server on one visit (the page and sign-in excluded)."""
    from playwright.async_api import async_playwright

    base = link.split("?", 1)[0]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context()
            urls: list[str] = []
            context.on("request", lambda request: urls.append(request.url))
            page = await context.new_page()
            await page.goto(link)
            await page.wait_for_selector(RENDERED, timeout=180_000)
            await page.wait_for_load_state("networkidle")
            await context.close()
        finally:
            await browser.close()
    paths = [url[len(base) - 1:] for url in urls if url.startswith(base)]
    return [path for path in dict.fromkeys(paths) if path.split("?")[0] not in ("/", "/sign-in")
            and "/channels" not in path and "/api/kernels/" not in path]


async def protocol_viewer(link: str, assets: list[str]) -> float:
    """One viewer as the server sees it: sign-in, page, assets, kernel connection with its first replies."""
    import json
    import uuid

    from tornado import httpclient, websocket

    client = httpclient.AsyncHTTPClient(force_instance=True, max_clients=6)
    base = link.split("?", 1)[0]
    started = time.perf_counter()
    try:
        signed = await client.fetch(link, follow_redirects=False, raise_error=False)
        cookie = signed.headers["Set-Cookie"].split(";", 1)[0]
        page = (await client.fetch(base, headers={"Cookie": cookie})).body.decode()
        kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page).group(1)
        await asyncio.gather(*(client.fetch(base + path.lstrip("/"), headers={"Cookie": cookie}) for path in assets))
        socket = await websocket.websocket_connect(httpclient.HTTPRequest(
            base.replace("http", "ws", 1) + f"api/kernels/{kernel}/channels", headers={"Cookie": cookie}))
        wanted = {}
        for msg_type, content in (("kernel_info_request", {}), ("comm_info_request", {"target_name": ""})):
            msg_id = uuid.uuid4().hex
            wanted[msg_id] = msg_type
            await socket.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": msg_type, "username": "bench", "session": "bench",
                           "version": "5.3", "date": ""}, "parent_header": {}, "metadata": {}, "content": content,
                "channel": "shell", "buffers": []}))
        while wanted:
            message = await socket.read_message()
            if message is None:
                raise RuntimeError("the kernel connection closed")
            if isinstance(message, str):
                wanted.pop(json.loads(message).get("parent_header", {}).get("msg_id"), None)
        elapsed = time.perf_counter() - started
        socket.close()
        return elapsed
    finally:
        client.close()


async def protocol_crowd(link: str, assets: list[str], concurrent: int) -> list[float]:
    return list(await asyncio.gather(*(protocol_viewer(link, assets) for _ in range(concurrent))))


async def browse(link: str, concurrent: int) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            return list(await asyncio.gather(*(visit(browser, link) for _ in range(concurrent))))
        finally:
            await browser.close()


async def sequential(served: Served, link: str, visits: int) -> tuple[float, float, list[float]]:
    """RSS after the first visit and after the last, and every render time."""
    from playwright.async_api import async_playwright

    times, first = [], 0.0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for number in range(visits):
                times.append(await visit(browser, link))
                if number == 0:
                    served.settle(min_s=10)
                    first = served.rss_mb()
        finally:
            await browser.close()
    served.settle(min_s=10)
    return first, served.rss_mb(), times


def fmt(times: list[float]) -> str:
    return (f"median {statistics.median(times):5.2f} s, max {max(times):5.2f} s "
            f"({', '.join(f'{t:.2f}' for t in times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run")
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument("--visits", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run, engagement, kind = pick_run(args.run)
    print(f"dashboard of {kind}: {run}")
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")

    served = Served(run, engagement, preheat=1, viewers=args.viewers + 2)
    try:
        singles = []
        for _ in range(args.repeat):
            served.settle(min_s=6)
            singles += asyncio.run(browse(served.link, 1))
        print(f"one viewer, pre-heated:           {fmt(singles)}", flush=True)
    finally:
        served.stop()

    served = Served(run, engagement, preheat=args.viewers, viewers=args.viewers + 2)
    try:
        served.settle(min_s=5)
        assets = asyncio.run(record_assets(served.link))
        print(f"a visit fetches {len(assets)} assets besides the page")
        for label, crowd_of in (("server's share (protocol replay)", lambda: protocol_crowd(served.link, assets,
                                                                                               args.viewers)),
                                ("Chromium on this machine", lambda: browse(served.link, args.viewers))):
            served.settle(min_s=12)
            print(f"{args.viewers} pre-heated kernels: {served.rss_mb():.0f} MB resident (whole tree)")
            before = served.cpu_s()
            crowd = asyncio.run(crowd_of())
            print(f"{args.viewers} viewers at once, {label}: {fmt(crowd)}; "
                  f"{sum(t <= 3.0 for t in crowd)} of {len(crowd)} within 3 s; server CPU "
                  f"{served.cpu_s() - before:.1f} s", flush=True)
    finally:
        served.stop()

    served = Served(run, engagement, preheat=1, viewers=args.viewers)
    try:
        served.settle(min_s=5)
        idle = served.rss_mb()
        first, last, times = asyncio.run(sequential(served, served.link, args.visits))
        print(f"memory: idle {idle:.0f} MB, after 1 visit {first:.0f} MB, after {args.visits} visits {last:.0f} MB "
              f"(ratio {last / first:.2f}); {served.kernels()} kernels left; renders {fmt(times)}", flush=True)
    finally:
        served.stop()
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
