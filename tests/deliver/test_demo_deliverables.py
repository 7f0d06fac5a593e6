"""Issue 21 on the demo engagement, in both languages: what the deliver stage hands over, opened as a client would
(the PDFs with pypdf, the deck with python-pptx, the workbook with openpyxl, every page in headless Chromium)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from digiops import sections, text
from digiops.stages import BUILTIN
from tests.browser import launch, need_chromium
from tests.test_demo_run import UNREADABLE, readable_text

pytestmark = pytest.mark.slow
REPORTS = ["inventory", "merge", "labels", "maturity", "kpi", "summary"]
HANZI = re.compile(r"[\u4e00-\u9fff]")
RADICAL = re.compile(r"[\u2e80-\u2fdf]")


@pytest.fixture(scope="module", params=["zh", "en"])
def run(request) -> tuple[str, Path]:
    return request.param, request.getfixturevalue("demo_run" if request.param == "zh" else "demo_run_en")


def handover(run_dir: Path) -> Path:
    return run_dir / "outputs" / "deliver"


def test_the_handover_is_written_and_listed_in_the_manifest(run):
    need_chromium()  # Chromium prints the PDFs: without it the stage skips them, and says so
    language, run_dir = run
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    entry = next(s for s in manifest["stages"] if s["name"] == "deliver")
    listed = {Path(f["path"]).name for f in entry["outputs"]}
    expected = {f"{stage}.{ext}" for stage in REPORTS for ext in ("html", "pdf")} | {"index.html", "deck.pptx",
                                                                                      "workbook.xlsx"}

    assert entry["status"] == "succeeded" and entry["metrics"]["skipped"] == []
    assert expected <= listed, expected - listed
    assert (handover(run_dir) / "index.html").read_bytes() == (handover(run_dir) / "summary.html").read_bytes()
    assert entry["metrics"]["pdfs"] == len(REPORTS) and entry["metrics"]["slides"] >= 6


def test_every_pdf_has_its_pages_images_header_and_language(run):
    from pypdf import PdfReader

    need_chromium()
    language, run_dir = run
    client = "示例茶饮" if language == "zh" else "Demo Tea Co."
    for stage in REPORTS:
        page = handover(run_dir) / f"{stage}.html"
        images = len(BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all("img"))
        reader = PdfReader(handover(run_dir) / f"{stage}.pdf")
        words = "\n".join(p.extract_text() for p in reader.pages)

        assert not RADICAL.search(words), stage  # the text layer names 门, not ⻔ (digiops.deliver.pdftext)
        assert len(reader.pages) >= 1
        assert sum(len(p.images) for p in reader.pages) >= images, stage  # every chart and the logo
        assert client in words and run_dir.name in words, stage  # the running header: client and run
        assert f"1 / {len(reader.pages)}" in words, stage  # page numbers
        first_page = " ".join(reader.pages[0].extract_text().split())
        assert BUILTIN[stage].title(language) in first_page, stage  # the report's title, in its language


def test_the_deck_has_a_slide_per_finding_with_its_chart_and_the_commentary(run):
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    language, run_dir = run
    deck = Presentation(handover(run_dir) / "deck.pptx")
    slides = list(deck.slides)
    words = ["\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in slides]
    titles = [s.text_frame.text for slide in slides for s in slide.shapes if s.name == "Title"]
    pictures = [sum(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes) for slide in slides]

    assert len(slides) >= 6
    assert sum(pictures[1:]) >= 5  # the findings carry the reports' charts
    assert len(titles) == len(slides) - 1  # every slide after the title slide has its title
    assert all(HANZI.search(t) for t in titles) == (language == "zh") and (language == "zh" or not any(
        HANZI.search(t) for t in titles))
    commented = "GMV 未达成的主因" if language == "zh" else "GMV missed mainly on online conversion"
    assert sum(commented in w for w in words) == 1
    internal_only = "模型权重稳定" if language == "zh" else "weights are stable"
    assert not any(internal_only in w for w in words)
    assert not any(re.search(r"\bnan\b|\bNone\b|at_risk|process_digitalization", w) for w in words)


def test_the_workbook_holds_typed_frozen_sheets_and_no_formula(run):
    from openpyxl import load_workbook

    _, run_dir = run
    book = load_workbook(handover(run_dir) / "workbook.xlsx")
    tables = book.worksheets[1:]

    assert len(tables) >= 8
    assert all(sheet.freeze_panes for sheet in tables)
    assert any(c.data_type == "n" for sheet in tables for row in sheet.iter_rows(min_row=3) for c in row)
    assert not any(c.data_type == "f" for sheet in book.worksheets for row in sheet.iter_rows() for c in row)


def test_client_pages_leave_out_technical_sections_and_show_the_commentary(run):
    language, run_dir = run
    internal = BeautifulSoup((run_dir / "merge.html").read_text(encoding="utf-8"), "html.parser")
    client = BeautifulSoup((handover(run_dir) / "merge.html").read_text(encoding="utf-8"), "html.parser")
    model = sections.BY_KEY["merge.model"].title(language)

    assert model in internal.get_text() and model not in client.get_text()
    assert [b["data-section"] for b in internal.select(".dg-commentary")] == ["merge.model"]
    assert client.select(".dg-commentary") == []
    summary = BeautifulSoup((handover(run_dir) / "summary.html").read_text(encoding="utf-8"), "html.parser")
    assert [b["data-section"] for b in summary.select(".dg-commentary")] == ["summary.kpi"]
    assert summary.select_one(".dg-logo") is not None


#: codes of the reports' code → word tables (statuses, severities, dimensions …): shown as words, never raw
CODES = sorted({code for table in (text.KPI_STATUS, text.SEVERITY, text.FUNNEL_STAGES, text.SMART_FINDINGS,
                                    text.QUARANTINE_REASONS) for code in table if "_" in code}
               | {"process_digitalization", "data_assetization", "business_online", "decision_intelligence"})


@pytest.mark.browser
def test_every_page_in_both_languages_reads_well_in_chromium(run):
    """Every page (internal and client version) opened in Chromium at 1440 × 900: no script error or blocked
    request, no `nan` / `None` / repr, no code of the other language, no empty table, no clipped text."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    language, run_dir = run
    pages = sorted(run_dir.glob("*.html")) + sorted(handover(run_dir).glob("*.html"))
    problems: dict[str, list[str]] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        view = browser.new_page(viewport={"width": 1440, "height": 900})
        errors: list[str] = []
        view.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        view.on("pageerror", lambda e: errors.append(str(e)))
        for page in pages:
            name = str(page.relative_to(run_dir))
            errors.clear()
            view.goto(page.as_uri(), wait_until="load")
            found = view.evaluate("""() => {
                const out = {empty: 0, clipped: []};
                for (const t of document.querySelectorAll('main table')) {
                    if (!t.querySelector('tbody tr, tr td')) out.empty += 1;
                }
                for (const el of document.querySelectorAll('main th, main td, main h1, main h2, main h3, .dg-nav a')) {
                    const style = getComputedStyle(el);
                    if ((style.overflow === 'hidden' || style.textOverflow === 'ellipsis')
                        && el.scrollWidth > el.clientWidth + 1) out.clipped.push(el.textContent.slice(0, 40));
                }
                return out;
            }""")
            shown, _, _ = readable_text(page)
            headings = [h.get_text(" ", strip=True) for h in  # (table headers may hold the client's unit names)
                        BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").find_all(["h1", "h2", "h3"])]
            issues = [f"console: {e[:120]}" for e in errors]
            issues += [f"{name_}" for name_, pattern in UNREADABLE.items() if re.search(pattern, shown)]
            issues += [f"{found['empty']} empty table(s)"] if found["empty"] else []
            issues += [f"clipped: {found['clipped'][:3]}"] if found["clipped"] else []
            issues += [f"code {c!r}" for c in CODES if re.search(rf"(?<![\w./]){c}(?![\w.])", shown)]
            if language == "en":
                issues += [f"Hanzi heading {h!r}" for h in headings if HANZI.search(h)][:3]
            if issues:
                problems[name] = issues
        browser.close()
    assert problems == {}
