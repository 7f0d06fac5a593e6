"""Shared fixtures: a throw-away client folder, and isolated report folders."""

from __future__ import annotations

import hashlib
import shutil
import textwrap
from pathlib import Path

import pytest


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
    """Generate the demo client's data when it is missing (``make setup`` normally has)."""
    from digiops import paths
    from digiops.engagement import load_engagement
    from digiops.errors import DigiopsError
    from digiops.sources import check_sources

    try:
        check_sources(load_engagement("demo"))
        if not (paths.demo_client_dir() / "truth" / "identity.csv").exists():
            raise FileNotFoundError
    except (DigiopsError, FileNotFoundError):
        from digiops import demo

        demo.generate(paths.demo_client_dir())


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """The whole demo engagement, run once per test session through the engine, as `make demo` does.

    Every stage notebook is executed end to end here; tests/test_demo_run.py and the stages' own tests check
    what it recorded. Generates the demo client's data first when it is missing.
    """
    from digiops.runner import run_engagement

    ensure_demo_data()
    out = tmp_path_factory.mktemp("demo-reports")
    result = run_engagement("demo", out=out, log=lambda _: None)
    failed = {s["name"]: s.get("error") or s.get("reason") for s in result.stages if s["status"] != "succeeded"}
    assert result.status == "succeeded", failed
    return result.run_dir


@pytest.fixture(scope="session")
def demo_run_en(tmp_path_factory) -> Path:
    """The demo engagement in English (issue 21: every page is checked in both languages), run once per session:
    the demo client's engagement with ``language: en`` on a smaller generated demo client (2 000 people: every page
    and section, at a third of the time of the full one)."""
    from digiops import demo, paths
    from digiops.runner import run_engagement

    client = tmp_path_factory.mktemp("demo-en") / "demo"
    shutil.copytree(paths.demo_client_dir(), client, ignore=shutil.ignore_patterns("raw", "truth"))
    demo.generate(client, people=2_000)
    engagement = client / "engagement.yaml"
    text = engagement.read_text(encoding="utf-8")
    assert "\nlanguage: zh\n" in text
    engagement.write_text(text.replace("\nlanguage: zh\n", "\nlanguage: en\n"), encoding="utf-8")
    result = run_engagement(engagement, out=tmp_path_factory.mktemp("demo-en-reports"), log=lambda _: None)
    failed = {s["name"]: s.get("error") or s.get("reason") for s in result.stages if s["status"] != "succeeded"}
    assert result.status == "succeeded", failed
    return result.run_dir


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
