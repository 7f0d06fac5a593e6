"""The report archive: stage notebooks rendered to self-contained HTML, the run page and the client's index.

Rendering uses the project's nbconvert template (``templates/digiops``): code hidden, the papermill
``injected-parameters`` cell removed (it can hold paths), nothing fetched from another host, images embedded, a
table of contents built from the report's headings, a header (client, engagement, period, run, date) and a footer
(git commit, versions, parameter hash, input fingerprints).

Client text never becomes markup in a page: the chrome is escaped by its templates, tables by
:func:`digiops.context.escaped_styler`, narrative by :meth:`digiops.context.StageContext.md`; Markdown is rendered
without raw HTML, remote images or outside links (:class:`InertMarkdown`), and every page carries a
Content-Security-Policy that lets it fetch nothing and run no script.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from bs4 import BeautifulSoup
from filelock import FileLock
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from traitlets.config import Config

from digiops import io, paths, printing, sections
from digiops.context import CONTENT_SECURITY_POLICY
from digiops.text import escape_html
from digiops.errors import ArchiveError
from digiops.runfolder import RunFolder

TEMPLATE = "digiops"
REMOVED_TAGS = ("injected-parameters", "parameters")


def _template_dir() -> Path:
    return paths.templates_dir() / TEMPLATE


def chrome_css() -> str:
    """The pages' stylesheet: the chrome, then the print rules (``print.css``)."""
    return "\n".join((_template_dir() / name).read_text(encoding="utf-8") for name in ("chrome.css", "print.css"))


def table_script() -> str:
    """The one script a report runs (``tables.js``: sorting, searching and downloading its tables)."""
    return (_template_dir() / "tables.js").read_text(encoding="utf-8")


def report_policy(script: str) -> str:
    """The reports' Content-Security-Policy: :data:`~digiops.context.CONTENT_SECURITY_POLICY` and the one inline
    script whose SHA-256 it names, so no other script (a client's value that became markup) can run.

    >>> "script-src 'sha256-" in report_policy("x")
    True
    """
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return f"{CONTENT_SECURITY_POLICY}; script-src 'sha256-{digest}'"


def inside_archive(url: str) -> bool:
    r"""Whether a link stays in the archive: a relative path or an ``#anchor``, no scheme, host or absolute path.

    >>> [inside_archive(u) for u in ("labels.html#rfm", "#top", "javascript:alert(1)", "//evil.example/x",
    ...                               "http://evil.example", "/etc/passwd", "java\tscript:x", "\\\\host\\x")]
    [True, True, False, False, False, False, False, False]
    """
    if not url or url.startswith("/") or any(ch <= " " or ch in "\\\x7f" for ch in url):
        return False
    return ":" not in re.split(r"[/?#]", url, maxsplit=1)[0]


class InertMarkdown(IPythonRenderer):
    """Markdown of a report (narrative cells, ``ctx.md`` output) as HTML that loads nothing, runs nothing and links
    only inside the archive.

    nbconvert's renderer passes raw HTML through and keeps every image and link, ``javascript:`` ones included.
    Here raw HTML is shown as text, an image stays only when it is embedded (``data:``: nbconvert embeds the
    notebook's attachments and local files), and a link only when :func:`inside_archive`; otherwise its text is
    shown.
    """

    def inline_html(self, html: str) -> str:
        return escape_html(html, quote=False)

    def block_html(self, html: str) -> str:
        return f"<p>{escape_html(html.strip(), quote=False)}</p>\n"

    def block_mermaidjs(self, code: str) -> str:
        return super().block_mermaidjs(escape_html(code, quote=False))

    def image(self, text: str, url: str, title: str | None = None) -> str:
        rendered = super().image(text, url, title)
        return rendered if ' src="data:' in rendered else text

    def link(self, text: str, url: str, title: str | None = None) -> str:
        return super().link(text, url, title) if inside_archive(url) else text


class ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter with :class:`InertMarkdown` for every Markdown cell and output."""

    @jinja2.pass_context
    def markdown2html(self, context: dict[str, Any], source: str) -> str:
        cell = context.get("cell", {})
        renderer = InertMarkdown(escape=False, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
                                 path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                                 anchor_link_text=self.anchor_link_text,
                                 exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)
        return MarkdownWithMath(renderer=renderer).render(source)


def _exporter(removed_tags: set[str] = frozenset()) -> HTMLExporter:
    config = Config()
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = set(REMOVED_TAGS) | set(removed_tags)
    return ReportExporter(config=config, template_name=TEMPLATE, extra_template_basedirs=[str(paths.templates_dir())])


def add_table_of_contents(page: str) -> str:
    """Fill the ``#dg-toc`` placeholder with links to the report's h1/h2 headings (ids added where missing)."""
    soup = BeautifulSoup(page, "html.parser")
    toc = soup.find(id="dg-toc")
    main = soup.find("main")
    if toc is None or main is None:
        return page
    items = []
    for number, heading in enumerate(main.find_all(["h1", "h2"])):
        if heading.find_parent(["header", "footer"]):
            continue
        anchor = heading.get("id") or f"section-{number}"
        heading["id"] = anchor
        for link in heading.find_all("a", class_="anchor-link"):
            link.decompose()
        items.append((heading.name, heading.get_text(" ", strip=True), anchor))
    if not items:
        toc.decompose()
        return str(soup)
    label = soup.new_tag("b")
    label.string = toc.get("data-label", "")
    toc.append(label)
    listing = soup.new_tag("ul")
    for level, text, anchor in items:
        entry = soup.new_tag("li", attrs={"class": level})
        link = soup.new_tag("a", href=f"#{anchor}")
        link.string = text
        entry.append(link)
        listing.append(entry)
    toc.append(listing)
    return str(soup)


COMMENTARY_LABEL = {"zh": "顾问点评", "en": "Consultant's note"}


def markdown_html(text: str) -> str:
    """Markdown a person wrote (the consultant's commentary) as inert HTML (:class:`InertMarkdown`)."""
    return MarkdownWithMath(renderer=InertMarkdown(escape=False)).render(text)


def add_commentary(page: str, comments: dict[str, str], language: str) -> str:
    """Put each comment after the heading of its section (the first cell tagged with it): a box marked as the
    consultant's note. Sections the page does not show (the client version leaves technical ones out) get none."""
    if not comments:
        return page
    soup = BeautifulSoup(page, "html.parser")
    for key, text in comments.items():
        cell = soup.find(class_=sections.CELL_CLASS_PREFIX + key)
        if cell is None:
            continue
        box = BeautifulSoup(f'<aside class="dg-commentary" data-section="{escape_html(key)}">'
                            f"<b>{escape_html(COMMENTARY_LABEL.get(language, COMMENTARY_LABEL['en']))}</b>"
                            f"{markdown_html(text)}</aside>", "html.parser")
        heading = cell.find(["h2", "h3"])
        if heading is not None:
            heading.insert_after(box)
        else:
            cell.insert(0, box)
    return str(soup)


def render_notebook(notebook_path: Path, html_path: Path, meta: dict[str, Any], *, client_version: bool = False,
                    comments: dict[str, str] | None = None) -> Path:
    """Render an executed notebook into a self-contained HTML report with the run's chrome.

    The internal version shows every section; the client version (``client_version``) leaves out the stage's
    technical sections (:func:`digiops.sections.technical_tags`) and the footer's input files. ``comments`` (section
    key → Markdown, :mod:`digiops.commentary`) are shown at their sections.
    """
    notebook = nbformat.read(notebook_path, as_version=4)
    if meta:  # a page without metadata has no chrome at all
        meta = {**meta, "version": "client" if client_version else "internal"}
    notebook.metadata["digiops"] = meta
    notebook.metadata["title"] = meta.get("title") or notebook.metadata.get("title", "")  # the tab, not "Notebook"
    removed = sections.technical_tags(meta.get("stage", "")) if client_version else set()
    script = table_script()
    exporter = _exporter(removed)
    exporter.language_code = meta.get("language", "en")  # <html lang>: CJK glyph choice, screen readers
    css = chrome_css() + "\n" + printing.print_header_css(meta.get("client", ""), meta.get("run_id", ""))
    body, _ = exporter.from_notebook_node(notebook, resources={"digiops_css": css, "digiops_js": script,
                                                               "digiops_csp": report_policy(script)})
    body = add_commentary(body, comments or {}, meta.get("language", "zh"))
    return io.write_text(html_path, add_table_of_contents(body))


def _jinja() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(_template_dir())),
                              autoescape=jinja2.select_autoescape(default=True, default_for_string=True))


def render_run_page(run_dir: Path, meta: dict[str, Any], run: dict[str, Any]) -> Path:
    """``run.html``: every stage with status, duration, report link and error."""
    page = _jinja().get_template("run.html.j2").render(m=meta, run=run, css=chrome_css(), csp=CONTENT_SECURITY_POLICY)
    return io.write_text(RunFolder(run_dir).run_page, page)


def write_run_index(run_dir: Path, landing: str | None) -> Path:
    """``index.html`` of a run: the executive summary when it was rendered, else the run overview."""
    folder = RunFolder(run_dir)
    source = run_dir / landing if landing and (run_dir / landing).exists() else folder.run_page
    return io.write_bytes(folder.index, source.read_bytes())


def list_runs(client_dir: Path) -> list[dict[str, Any]]:
    """Every run of a client (newest first) with its effective status; unreadable manifests are listed too."""
    runs = []
    if not client_dir.is_dir():
        return runs
    for run_dir in sorted((p for p in client_dir.iterdir() if p.is_dir() and p.name != "lab"), reverse=True):
        folder = RunFolder(run_dir)
        link = f"{run_dir.name}/{folder.index.name}" if folder.index.exists() else None
        try:
            record = folder.read_manifest()
        except ArchiveError:  # killed before its first manifest was written, or an unreadable one
            runs.append({"run_id": run_dir.name, "status": "incomplete", "started_at": "", "stages": [],
                         "link": link, "path": str(run_dir)})
            continue
        runs.append({"run_id": record.run_id, "status": record.effective_status,
                     "started_at": record.started_at or "", "ended_at": record.ended_at or "",
                     "stages": [{"name": s.name, "status": s.status} for s in record.stages],
                     "link": link, "path": str(run_dir)})
    return runs


def write_client_index(client_dir: Path, client_name: str, language: str) -> Path:
    """Rebuild ``reports/<client>/index.html`` under a file lock (concurrent runs of one client)."""
    client_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(client_dir / ".index.lock"), timeout=60):
        page = _jinja().get_template("client.html.j2").render(
            client=client_name, language=language, runs=list_runs(client_dir), css=chrome_css(),
            csp=CONTENT_SECURITY_POLICY)
        return io.write_text(client_dir / "index.html", page)
