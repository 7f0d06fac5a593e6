"""PDFs of the client reports, printed by headless Chromium from the self-contained HTML.

Debian's Chromium (``/usr/bin/chromium``, or ``DIGIOPS_CHROMIUM``) prints each page through Playwright, with the
page's own print stylesheet (``templates/digiops/print.css``: A4, a header with client and run, page numbers). The
pages load nothing from anywhere (their Content-Security-Policy forbids it); any request other than the file itself
is refused and counted, so a page that tried one is known.

Playwright's synchronous API refuses to run where an asyncio loop is running (a notebook kernel): it runs in a
worker thread of its own. Each PDF's text layer is made searchable (:mod:`digiops.deliver.pdftext`: Chromium names
some Hanzi by the radical drawn with the same glyph).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from digiops import io
from digiops.deliver.pdftext import searchable
from digiops.errors import StageError

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
INSTALL = "apt-get install -y chromium fonts-noto-cjk"
#: Any address but the page's own file (Playwright cannot pass a file:// request on; it never has to).
ELSEWHERE = re.compile(r"^(?!file:)")


def chromium() -> Path | None:
    """Chromium's path, when it is installed."""
    path = Path(os.environ.get("DIGIOPS_CHROMIUM", "/usr/bin/chromium"))
    return path if path.exists() else None


@dataclass
class Printed:
    pdf: Path
    pages: int
    refused: list[str] = field(default_factory=list)  # requests the page made and that were refused


def _count_pages(data: bytes) -> int:
    from pypdf import PdfReader
    import io as _io

    return len(PdfReader(_io.BytesIO(data)).pages)


def _print_all(pages: list[tuple[Path, Path]], browser_path: Path) -> list[Printed]:
    from playwright.sync_api import sync_playwright

    printed = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(browser_path), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            for html, pdf in pages:
                refused: list[str] = []
                page = context.new_page()

                def refuse(request_route, refused=refused):
                    refused.append(request_route.request.url[:200])
                    request_route.abort()

                page.route(ELSEWHERE, refuse)
                page.goto(html.resolve().as_uri(), wait_until="load")
                data = searchable(page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
                page.close()
                io.write_bytes(pdf, data)
                printed.append(Printed(pdf, _count_pages(data), refused))
        finally:
            browser.close()
    return printed


def print_pages(pages: list[tuple[Path, Path]]) -> list[Printed]:
    """Print each (HTML, PDF) pair; one browser for all. Raises :class:`StageError` when Chromium is missing or
    fails."""
    browser = chromium()
    if browser is None:
        raise StageError("deliver.pdf", "Chromium is not installed, so no PDF can be printed",
                         fix=f"install it ({INSTALL}) or set deliver.pdf: false in the engagement file")
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["printed"] = _print_all(pages, browser)
        except Exception as exc:  # noqa: BLE001 - reported below, in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="digiops-pdf")
    worker.start()
    worker.join()
    if "error" in outcome:
        error = outcome["error"]
        raise StageError("deliver.pdf", f"Chromium could not print the reports: {type(error).__name__}: {error}",
                         fix=f"check that {browser} starts (`{browser} --headless --version`)") from error
    return outcome["printed"]  # type: ignore[return-value]
