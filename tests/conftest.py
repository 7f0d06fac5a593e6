"""Shared fixtures: a throw-away client folder, isolated report folders, the demo runs shared by a session; and
how the suite is split between pytest-xdist workers."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

# `make test` runs the suite on pytest-xdist workers (-n auto --dist loadfile --no-loadscope-reorder): a worker runs a
# test file whole, so a module's fixtures are set up once; session fixtures that take minutes are made once and shared
# (shared_by_workers). xdist hands out the files in this order, longest first, so that no worker is left alone with a
# long one at the end: the demo run's file first (the files reading the demo run then find it made); the labels'
# behaviour file, whose last test starts Spark's JVM, just before the Spark engine tests, which the same worker then
# takes and which reuse that JVM. Serial seconds, set-up included: demo run 111, Spark 250, both languages'
# deliverables 130, injection 98, crashes 95, engagement shapes 70, served dashboard 60, runner 58, reuse 37.
LONGEST_FIRST = ("tests/test_demo_run.py", "tests/labels/test_behaviour.py", "tests/spark/test_spark_engine.py",
                 "tests/deliver/test_demo_deliverables.py", "tests/hardening/test_injection.py",
                 "tests/hardening/test_crash_and_concurrency.py", "tests/test_engagement_shapes.py",
                 "tests/dashboard/test_serve.py", "tests/test_runner.py", "tests/test_reuse.py")


def on_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """On an xdist worker, once every other plugin has ordered the tests: the longest files first (a stable sort:
    the order inside a file, and of the other files, is kept). xdist hands out the files in this order."""
    result = yield
    if hasattr(config, "workerinput"):
        rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
    return result


def shared_by_workers(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Path]) -> Path:
    """``make(folder)`` once per test session: a session fixture's result shared by every pytest-xdist worker.

    Without xdist ``folder`` is a new temporary folder. On a worker, the first one to ask makes it in the folder
    common to the session's workers (their temporary folders' parent) while holding a file lock, and records the
    path it returned; a worker asking later waits for the lock and takes the recorded path (the pattern of
    pytest-xdist's documentation). When ``make`` fails, the next worker to ask tries again.
    """
    if not on_xdist_worker():
        return make(tmp_path_factory.mktemp(name))
    common = tmp_path_factory.getbasetemp().parent
    recorded = common / f"{name}.path"
    with FileLock(str(common / f"{name}.lock")):
        if recorded.is_file():
            return Path(recorded.read_text(encoding="utf-8"))
        folder = common / name
        shutil.rmtree(folder, ignore_errors=True)  # left by a worker whose attempt failed
        folder.mkdir()
        made = make(folder)
        recorded.write_text(str(made), encoding="utf-8")
        return made


@pytest.fixture(autouse=True)
def isolated_reports(tmp_path_factory, monkeypatch):
    """No test writes into the checkout's reports/ folder."""
    monkeypatch.setenv("DIGIOPS_REPORTS", str(tmp_path_factory.mktemp("reports")))


def write_engagement(folder: Path, body: str = "", *, stages: str = "[inventory]", sources: str = "{}") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "raw").mkdir(exist_ok=True)
    text = textwrap.dedent("""\
        client: {id: acme, name_zh: 示例客户, name_en: Acme Foods}
        engagement: 测试项目 / test engagement
        language: zh
        period: {start: 2026-01-01, end: 2026-06-30}
        stages: %s
        sources: %s
        """) % (stages, sources)
    path = folder / "engagement.yaml"
    path.write_text(text + textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def client_dir(tmp_path) -> Path:
    """A client folder with a small GB18030 CRM export (two title rows) and an engagement file mapping it."""
    folder = tmp_path / "acme"
    (folder / "raw").mkdir(parents=True)
    rows = ["客户导出", "导出时间：2026-07-01", "客户编号,姓名,手机号,城市", "A1,张三,13800138001,上海",
            "A2,李四,+86 139-0013-9002,北京"]
    (folder / "raw" / "crm.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("gb18030"))
    write_engagement(folder, sources="""
          crm:
            path: raw/crm.csv
            kind: customers
            header_row: 3
            id_column: 客户编号
            columns: {姓名: full_name, 手机号: phone, 城市: city}""")
    return folder


def add_custom_stage(folder: Path, name: str, notebook: str, depends_on: str = "inventory") -> Path:
    """Add a custom stage running ``tests/fixtures/notebooks/<notebook>`` after ``depends_on`` to the engagement
    written by :func:`write_engagement` in ``folder``; returns the folder."""
    import shutil

    shutil.copy(Path(__file__).parent / "fixtures" / "notebooks" / notebook, folder / f"{name}.ipynb")
    text = (folder / "engagement.yaml").read_text(encoding="utf-8")
    text = text.replace("stages: [inventory]", f"stages: [inventory, {name}]")
    text += f"\ncustom_stages:\n  - {{name: {name}, notebook: {name}.ipynb, depends_on: [{depends_on}]}}\n"
    (folder / "engagement.yaml").write_text(text, encoding="utf-8")
    return folder


def tree_hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def ensure_demo_data() -> None:
    """Generate the demo client's data when it is missing (``make setup`` normally has); one process at a time
    (pytest-xdist workers, two test sessions), under a lock named after the demo client's folder."""
    from digiops import paths
    from digiops.engagement import load_engagement
    from digiops.errors import DigiopsError
    from digiops.sources import check_sources

    folder = paths.demo_client_dir()
    name = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    with FileLock(str(Path(tempfile.gettempdir()) / f"digiops-demo-data-{name}.lock")):
        try:
            check_sources(load_engagement("demo"))
            if not (folder / "truth" / "identity.csv").exists():
                raise FileNotFoundError
        except (DigiopsError, FileNotFoundError):
            from digiops import demo

            demo.generate(folder)


@pytest.fixture(scope="session", autouse=True)
def demo_data_before_any_test():
    """On an xdist worker, the demo client's data is there before the worker's first test: no test reads it while
    another worker is generating it (serially, the tests that need it call :func:`ensure_demo_data`)."""
    if on_xdist_worker():
        ensure_demo_data()


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The whole demo engagement, run once per test session through the engine, as `make demo` does.

    Every stage notebook is executed end to end here; tests/test_demo_run.py and the stages' own tests check
    what it recorded. Generates the demo client's data first when it is missing.
    """
    from digiops.runner import run_engagement

    def run(out: Path) -> Path:
        ensure_demo_data()
        result = run_engagement("demo", out=out, log=lambda _: None)
        failed = {s["name"]: s.get("error") or s.get("reason") for s in result.stages if s["status"] != "succeeded"}
        assert result.status == "succeeded", failed
        return result.run_dir

    return shared_by_workers(tmp_path_factory, "demo-reports", run)


@pytest.fixture(scope="session")
def demo_run_en(tmp_path_factory) -> Path:
    """The demo engagement in English (issue 21: every page is checked in both languages), run once per session:
    the demo client's engagement with ``language: en`` on a smaller generated demo client (2 000 people: every page
    and section, at a third of the time of the full one)."""
    from digiops import demo, paths
    from digiops.runner import run_engagement

    def run(folder: Path) -> Path:
        client = folder / "client" / "demo"
        shutil.copytree(paths.demo_client_dir(), client, ignore=shutil.ignore_patterns("raw", "truth"))
        demo.generate(client, people=2_000)
        engagement = client / "engagement.yaml"
        text = engagement.read_text(encoding="utf-8")
        assert "\nlanguage: zh\n" in text
        engagement.write_text(text.replace("\nlanguage: zh\n", "\nlanguage: en\n"), encoding="utf-8")
        result = run_engagement(engagement, out=folder / "reports", log=lambda _: None)
        failed = {s["name"]: s.get("error") or s.get("reason") for s in result.stages if s["status"] != "succeeded"}
        assert result.status == "succeeded", failed
        return result.run_dir

    return shared_by_workers(tmp_path_factory, "demo-en", run)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for a module's tests (skipped with a how-to outside CI when it is missing)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import launch, need_chromium

    need_chromium()
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
