"""The deliver stage: what a consultant hands over, written into ``outputs/deliver/`` beside the client pages.

The runner has already rendered the client version of every report there (technical sections left out,
:mod:`digiops.sections`). This stage adds, as the engagement's ``deliver`` settings ask: a PDF of each of those
pages (:mod:`digiops.deliver.pdf`), the steering-committee deck (``deck.pptx``, :mod:`digiops.deliver.deck`) and
the workbook of the key tables (``workbook.xlsx``, :mod:`digiops.deliver.workbook`), and ``index.html`` (the
executive summary). The folder is the handover: everything in it is masked and client-facing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from digiops import commentary, io, sections
from digiops.deliver import pdf
from digiops.runfolder import INDEX, RunFolder, report_name
from digiops.stages import BUILTIN
from digiops.text import in_language


@dataclass
class Deliverable:
    file: str  # relative to the run folder
    kind: str  # page | pdf | deck | workbook
    stage: str | None
    size: int
    count: int | None = None  # PDF pages, slides or sheets


@dataclass
class Delivered:
    files: list[Deliverable] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (deliverable, why)

    def of_kind(self, kind: str) -> list[Deliverable]:
        return [f for f in self.files if f.kind == kind]


def client_pages(run: RunFolder) -> list[tuple[str, Path]]:
    """(stage, page) of every client page of the run, in the order of the run's stages."""
    folder = run.stage_dir("deliver")
    order = {name: number for number, name in enumerate(BUILTIN)}
    pages = [(p.stem, p) for p in folder.glob("*.html") if p.name != INDEX]
    return sorted(pages, key=lambda item: (order.get(item[0], len(order)), item[0]))


def section_charts(run: RunFolder) -> dict[str, list[bytes]]:
    """Every chart of the run's executed notebooks, by report section."""
    charts: dict[str, list[bytes]] = {}
    for notebook in sorted((run.path / "notebooks").glob("*.ipynb")):
        charts.update(sections.images(nbformat.read(notebook, as_version=4)))
    return charts


def client_comments(engagement) -> dict[str, str]:
    """The commentary in the run's language, without the technical sections a client does not see."""
    comments = commentary.in_language(commentary.load(engagement), engagement.language)
    return {key: text for key, text in comments.items() if not sections.BY_KEY[key].technical}


def _entry(run: RunFolder, path: Path, kind: str, stage: str | None, count: int | None = None) -> Deliverable:
    return Deliverable(str(path.relative_to(run.path)), kind, stage, path.stat().st_size, count)


def run(ctx) -> Delivered:
    """The stage (``06_deliver.ipynb`` calls it)."""
    from digiops.deliver import deck, workbook  # each module of the package stands alone
    from digiops.summary import collect

    engagement, settings, language = ctx.engagement, ctx.settings, ctx.language
    run_folder = ctx.folder
    folder = ctx.outputs_dir
    delivered = Delivered()
    pages = client_pages(run_folder)
    for stage, page in pages:
        delivered.files.append(_entry(run_folder, page, "page", stage))
    summary_page = folder / report_name("summary")
    if summary_page.exists():
        io.copy_file(folder / INDEX, summary_page)
    if settings.pdf:
        if pdf.chromium() is None:
            delivered.skipped.append(("pdf", in_language(
                language, f"未安装 Chromium，未生成 PDF（安装：{pdf.INSTALL}）",
                f"Chromium is not installed, so no PDF was printed (install it: {pdf.INSTALL})")))
        else:
            for (stage, _), printed in zip(pages, pdf.print_pages([(p, p.with_suffix(".pdf")) for _, p in pages])):
                delivered.files.append(_entry(run_folder, printed.pdf, "pdf", stage, printed.pages))
    summary = collect(ctx.run_dir) if settings.deck else None
    if settings.deck:
        logo = _logo(engagement)
        brand = settings.branding
        data = deck.build_deck(summary, section_charts(run_folder), language=language,
                               branding=deck.Branding(consultancy=brand.consultancy, primary=brand.primary,
                                                      accent=brand.accent, logo=logo),
                               commentary=client_comments(engagement), engagement=engagement.engagement,
                               period=f"{engagement.period.start} – {engagement.period.end}")
        path = io.write_bytes(folder / "deck.pptx", data)
        delivered.files.append(_entry(run_folder, path, "deck", None, _slides(data)))
    if settings.workbook:
        sheets = workbook.workbook_sheets(run_folder, language)
        about = {"client": engagement.client_name(), "engagement": engagement.engagement,
                 "period": f"{engagement.period.start} – {engagement.period.end}", "run": run_folder.path.name}
        path = io.write_bytes(folder / "workbook.xlsx", workbook.build_workbook(sheets, language=language,
                                                                                 about=about))
        delivered.files.append(_entry(run_folder, path, "workbook", None, len(sheets)))
    ctx.record(client_pages=len(pages), pdfs=len(delivered.of_kind("pdf")),
               pdf_pages=sum(f.count or 0 for f in delivered.of_kind("pdf")),
               slides=sum(f.count or 0 for f in delivered.of_kind("deck")),
               sheets=sum(f.count or 0 for f in delivered.of_kind("workbook")),
               skipped=[what for what, _ in delivered.skipped])
    return delivered


def _logo(engagement) -> bytes | None:
    from digiops.branding import load_logo

    logo = load_logo(engagement)
    return logo[0] if logo else None


def _slides(data: bytes) -> int:
    import io as _io

    from pptx import Presentation

    return len(Presentation(_io.BytesIO(data)).slides)


def hidden_sections(language: str) -> list[tuple[str, str]]:
    """(report, section) of every technical section: in the internal pages, not in the client's."""
    stages = {name: stage.title(language) for name, stage in BUILTIN.items()}
    return [(stages.get(s.stage, s.stage), s.title(language)) for s in sections.SECTIONS if s.technical]
