"""The deliver stage on a small run folder: PDFs of the client pages with Chromium, and a clear note, not a failure,
without it."""

from __future__ import annotations

import pytest

from digiops.context import StageContext
from digiops.deliver import run
from digiops.engagement import load_engagement
from tests.browser import need_chromium
from tests.conftest import write_engagement

PAGE = ("<!DOCTYPE html><html lang='zh'><head><meta charset='utf-8'><title>t</title></head><body><main>"
        "<h1>示例 · 报告</h1>" + "<p>一段文字。</p>" * 200 + "</main></body></html>")


@pytest.fixture
def context(client_dir, tmp_path):
    write_engagement(client_dir, "deliver: {deck: false, workbook: false}\n")
    run_dir = tmp_path / "run"
    for stage in ("merge", "summary"):
        target = run_dir / "outputs" / "deliver" / f"{stage}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(PAGE, encoding="utf-8")
    return StageContext(load_engagement(client_dir / "engagement.yaml"), "deliver", run_dir)


@pytest.mark.browser
def test_every_client_page_is_printed_and_the_summary_is_the_index(context):
    need_chromium()
    delivered = run(context)

    pdfs = delivered.of_kind("pdf")
    assert [f.file for f in pdfs] == ["outputs/deliver/merge.pdf", "outputs/deliver/summary.pdf"]
    assert all(f.count >= 2 for f in pdfs)  # 200 paragraphs do not fit one A4 page
    assert (context.run_dir / "outputs/deliver/index.html").read_text(encoding="utf-8") == PAGE
    assert context.folder.metrics("deliver")["pdfs"] == 2


def test_without_chromium_the_pdfs_are_skipped_with_the_install_command(context, monkeypatch):
    monkeypatch.setenv("DIGIOPS_CHROMIUM", "/nonexistent/chromium")
    delivered = run(context)

    assert delivered.of_kind("pdf") == [] and len(delivered.of_kind("page")) == 2
    assert delivered.skipped[0][0] == "pdf" and "apt-get install -y chromium" in delivered.skipped[0][1]
    assert context.folder.metrics("deliver")["skipped"] == ["pdf"]
