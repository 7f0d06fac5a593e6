"""What a stage notebook gets: its engagement, its run folder, its inputs and outputs, its language.

A stage notebook's ``parameters`` cell receives plain strings from the engine (papermill injects them); its next
cell turns them into a :class:`StageContext`, and every later cell works through it::

    ctx = StageContext.open("merge", engagement_path=engagement_path, run_dir=run_dir,
                            previous_run_dir=previous_run_dir)
    customers = ctx.read_table("merge", "customers")
    ctx.write_table("tags", tags)

Opened without a run folder (a consultant exploring in JupyterLab), it writes to a scratch run under
``reports/<client>/lab/`` so the archive of real runs is never touched.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from digiops import io, paths, sources
from digiops.engagement import Engagement, load_engagement
from digiops.errors import StageError
from digiops.runfolder import RunFolder, output_name
from digiops.text import escape_html, in_language


#: The Content-Security-Policy of every page the archive writes: nothing is fetched (images and fonts are embedded
#: as ``data:``), no script runs, styles are inline. A second wall behind escaping: were a value ever to slip
#: through as markup, the browser would still neither run it nor load anything for it.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'; "
                           "base-uri 'none'; form-action 'none'")

# Markdown a client value could use: backslash escapes and code spans, emphasis, strikethrough, math, tables.
# ``[ ] < > &`` are left to :func:`inert_markdown` (entities there), so the two never combine into ``\&#91;``.
_MARKDOWN_INLINE = re.compile(r"([\\`*_~$|])")
# What makes a block when it starts a line: headings, lists (``-``, ``+``, ``1.``, ``1)``), setext rules,
# definition lists. (``>`` is escaped as HTML.)
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([#+=:.)-])")
_URL_SCHEME = re.compile(r"(?<=[A-Za-z0-9])://")
_QUOTE_MARKERS = re.compile(r"^ {0,3}(?:&gt; ?)+", re.M)


def md_text(value: object) -> str:
    r"""A client value (name, file name, tag or KPI name, free text) as literal text inside ``ctx.md`` narrative.

    Every Markdown character that could change the narrative around it is escaped and line breaks become spaces,
    so a value cannot start a heading, a list or a table, open emphasis or a code span. HTML and links are
    neutralized by :meth:`StageContext.md` itself, for the whole text; use this only for text shown through it.

    >>> md_text("**Tea** | _co_ `x` $5\n# not a heading")
    '\\*\\*Tea\\*\\* \\| \\_co\\_ \\`x\\` \\$5 # not a heading'
    >>> md_text("- item"), md_text("1. first")
    ('\\- item', '1\\. first')
    """
    text = _MARKDOWN_INLINE.sub(r"\\\1", " ".join(str(value).splitlines()))
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", text, count=1)


def inert_markdown(text: str) -> str:
    """Narrative Markdown that shows client text and fetches nothing, links nowhere and runs nothing.

    HTML is escaped (so no tag, no ``<http://…>`` autolink); ``[`` and ``]`` become character references, so no
    image, link, reference definition or footnote can form; ``://`` becomes ``&#58;//``, so no bare URL is
    linked. Headings, emphasis, lists, code spans and the ``>`` of a quote at the start of a line keep working (no
    tag can open without ``<``); the text reads the same.

    >>> inert_markdown("# Tea ![x](http://127.0.0.1:9/x.png) <b>")
    '# Tea !&#91;x&#93;(http&#58;//127.0.0.1:9/x.png) &lt;b&gt;'
    >>> inert_markdown("> Note: a > b")
    '> Note: a &gt; b'
    """
    text = escape_html(text, quote=False).replace("[", "&#91;").replace("]", "&#93;")
    text = _QUOTE_MARKERS.sub(lambda marker: marker.group(0).replace("&gt;", ">"), text)
    return _URL_SCHEME.sub("&#58;//", text)


_STYLER_DISPLAY_FUNCS = ("_display_funcs", "_display_funcs_index", "_display_funcs_columns",
                         "_display_funcs_index_names", "_display_funcs_column_names")
_PROBE = "<&>"


def _escaping(func: Callable[[Any], str]) -> Callable[[Any], str]:
    """``func`` when it escapes text already, else ``func`` fed escaped text (what ``format(escape="html")`` does)."""
    try:
        if "&lt;" in str(func(_PROBE)):
            return func
    except Exception:  # noqa: BLE001 - a formatter for numbers only; it is wrapped all the same
        pass

    def escaped(value: Any) -> str:
        return func(escape_html(value, quote=False) if isinstance(value, str) else value)

    return escaped


def escaped_styler(styler: Any) -> Any:
    """The Styler with every cell value, index and column label and axis name escaped, its formats kept.

    pandas escapes only what a ``format`` call with ``escape="html"`` covers: ``format(precision=1)``, or a
    ``{column: format}`` dict, turns escaping off for every column it touches, and labels are never escaped by
    default. Each display function that does not escape is given escaped text instead, the way
    ``format(escape="html")`` does it, so number formats, ``na_rep`` and deliberate markup of a formatter stay.
    Idempotent; the Styler is changed in place and returned.

    >>> import pandas as pd
    >>> frame = pd.DataFrame({"<b>source</b>": ["<script>x</script>"], "rows": [1.25]})
    >>> html = escaped_styler(frame.style.format(precision=1)).to_html()
    >>> "<script>" in html, "&lt;script&gt;" in html, "&lt;b&gt;source" in html, ">1.2<" in html
    (False, True, True, True)
    """
    tables = [getattr(styler, name, None) for name in _STYLER_DISPLAY_FUNCS]
    if not all(isinstance(table, defaultdict) for table in tables):  # pragma: no cover - another pandas
        styler.format(escape="html").format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    else:
        for table in tables:
            wrapped: dict[int, Callable[[Any], str]] = {}  # one function per column: probe each once
            for key, func in table.items():
                if id(func) not in wrapped:
                    wrapped[id(func)] = _escaping(func)
                table[key] = wrapped[id(func)]
            default = _escaping(table.default_factory())
            table.default_factory = lambda default=default: default
    for other in getattr(styler, "concatenated", []):
        escaped_styler(other)
    return styler


def _escaped_styler_html(styler: Any) -> str:
    return escaped_styler(styler).to_html()


def _safe_display_defaults() -> None:
    """pandas' Styler renders cell text, headers and index labels as raw HTML unless told otherwise; client text
    (names, tag values, raw column names) must be escaped in every report, however a notebook formats a table."""
    pd.set_option("styler.format.escape", "html")
    try:
        from IPython import get_ipython
        from pandas.io.formats.style import Styler
    except ImportError:  # pragma: no cover - IPython ships with every kernel
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(Styler, _escaped_styler_html)


class StageContext:
    """One stage of one run: paths, typed settings, reading and writing of tables, bilingual text."""

    def __init__(self, engagement: Engagement, stage: str, run_dir: Path, previous_run_dir: Path | None = None):
        self.engagement = engagement
        self.stage = stage
        self.run_dir = Path(run_dir)
        self.previous_run_dir = Path(previous_run_dir) if previous_run_dir else None

    @classmethod
    def open(cls, stage: str, *, engagement_path: str = "", run_dir: str = "", previous_run_dir: str = "",
             check_sources: bool = False) -> "StageContext":
        _safe_display_defaults()
        engagement = load_engagement(engagement_path or "demo")
        if check_sources:
            sources.check_sources(engagement)
        run = Path(run_dir) if run_dir else paths.reports_dir() / engagement.client.id / "lab"
        return cls(engagement, stage, run, Path(previous_run_dir) if previous_run_dir else None)

    # --- language ---------------------------------------------------------------------------------------------
    @property
    def language(self) -> str:
        return self.engagement.language

    def t(self, zh: str, en: str) -> str:
        """The text in the report language."""
        return in_language(self.language, zh, en)

    def md(self, zh: str, en: str = "") -> None:
        """Display Markdown in the report language (narrative a client reads).

        The narrative's own Markdown (headings, bold, lists, quotes) works; what client text could turn into
        something else does not: HTML is escaped, and no image, link or autolink can form (:func:`inert_markdown`),
        so a page shows client text as text and fetches nothing. Wrap each client value in :meth:`md_text` where
        it is interpolated, so its own ``*``, ``_``, ``#`` or ``|`` stay characters too::

            ctx.md(f"# 数据盘点 · {ctx.md_text(ctx.client_name)}")
        """
        from IPython.display import Markdown, display

        display(Markdown(inert_markdown(self.t(zh, en or zh))))

    md_text = staticmethod(md_text)

    @property
    def client_name(self) -> str:
        return self.engagement.client_name()

    # --- settings ---------------------------------------------------------------------------------------------
    @property
    def settings(self) -> Any:
        """The engagement file's section for this stage (``None`` for custom stages)."""
        return getattr(self.engagement, self.stage, None)

    # --- paths ------------------------------------------------------------------------------------------------
    @property
    def folder(self) -> RunFolder:
        """This run's folder (its layout: :mod:`digiops.runfolder`)."""
        return RunFolder(self.run_dir)

    @property
    def outputs_dir(self) -> Path:
        folder = self.folder.stage_dir(self.stage)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def output(self, name: str) -> Path:
        """Path of one of this stage's outputs (folder created)."""
        return self.outputs_dir / name

    def stage_output(self, stage: str, name: str, *, run_dir: Path | None = None) -> Path:
        """Path of another stage's output in this run; a clear error when that stage has not produced it."""
        path = RunFolder(run_dir or self.run_dir).output(stage, name)
        if not path.exists():
            raise StageError(f"stage {self.stage}", f"needs {output_name(stage, name)}, which stage '{stage}' has "
                             "not written in this run", fix=f"include '{stage}' in the engagement's stages")
        return path

    def has_output(self, stage: str, name: str) -> bool:
        return self.folder.has_output(stage, name)

    # --- tables -----------------------------------------------------------------------------------------------
    def read_table(self, stage: str, name: str) -> pd.DataFrame:
        """A Parquet table written by a stage of this run (``name`` without suffix)."""
        return pd.read_parquet(self.stage_output(stage, f"{name}.parquet"))

    def previous_table(self, stage: str, name: str) -> pd.DataFrame | None:
        """The same table from the client's previous successful run, or ``None`` when there is none."""
        if self.previous_run_dir is None:
            return None
        return RunFolder(self.previous_run_dir).table(stage, f"{name}.parquet")

    def write_table(self, name: str, frame: pd.DataFrame) -> Path:
        """Write a stage output as Parquet, atomically."""
        return io.write_parquet(self.output(f"{name}.parquet"), frame)

    def write_csv(self, name: str, frame: pd.DataFrame) -> Path:
        return io.export_csv(self.output(name), frame)

    def write_xlsx(self, name: str, sheets: dict[str, pd.DataFrame]) -> Path:
        return io.export_xlsx(self.output(name), sheets)

    def write_json(self, name: str, payload: Any) -> Path:
        return io.write_json(self.output(name), payload)

    # --- sources ----------------------------------------------------------------------------------------------
    def read_source(self, name: str) -> io.SourceTable:
        return sources.read_source(self.engagement, name)

    def canonical(self, name: str) -> pd.DataFrame:
        return sources.canonical_frame(self.engagement, name)

    # --- metrics for the manifest -----------------------------------------------------------------------------
    def record(self, **metrics: Any) -> None:
        """Add headline figures (accuracy, counts, …) to this stage's entry in the run manifest."""
        self.folder.record_metrics(self.stage, **metrics)
