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

from pathlib import Path
from typing import Any

import pandas as pd

from digiops import io, paths
from digiops.engagement import Engagement, load_engagement
from digiops.errors import StageError
from digiops.i18n import in_language

OUTPUTS = "outputs"


def escape_html(text: str) -> str:
    """Escape the characters that would let text become markup.

    >>> escape_html("<script>alert(1)</script> & co")
    '&lt;script&gt;alert(1)&lt;/script&gt; &amp; co'
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escaped_styler_html(styler: Any) -> str:
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    return styler.to_html()


def _safe_display_defaults() -> None:
    """pandas' Styler renders cell text, headers and index labels as raw HTML unless told otherwise; client text
    (names, tag values, raw column names) must be escaped in every report."""
    pd.set_option("styler.format.escape", "html")
    try:
        from IPython import get_ipython
        from pandas.io.formats.style import Styler
    except ImportError:  # pragma: no cover - IPython ships with every kernel
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/html"].for_type(Styler, _escaped_styler_html)
METRICS_FILE = "metrics.json"


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
        engagement = load_engagement(engagement_path or "demo", check_sources=check_sources)
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

        ``<``, ``>`` and ``&`` are escaped: narrative carries client text (names, tag names, free text) that must
        never become HTML in a report. Markdown links to ``javascript:`` URLs are already refused by the renderer.
        """
        from IPython.display import Markdown, display

        display(Markdown(escape_html(self.t(zh, en or zh))))

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
    def outputs_dir(self) -> Path:
        folder = self.run_dir / OUTPUTS / self.stage
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def output(self, name: str) -> Path:
        """Path of one of this stage's outputs (folder created)."""
        return self.outputs_dir / name

    def stage_output(self, stage: str, name: str, *, run_dir: Path | None = None) -> Path:
        """Path of another stage's output in this run; a clear error when that stage has not produced it."""
        path = (run_dir or self.run_dir) / OUTPUTS / stage / name
        if not path.exists():
            raise StageError(f"stage {self.stage}", f"needs {OUTPUTS}/{stage}/{name}, which stage '{stage}' has "
                             "not written in this run", fix=f"include '{stage}' in the engagement's stages")
        return path

    def has_output(self, stage: str, name: str) -> bool:
        return (self.run_dir / OUTPUTS / stage / name).exists()

    # --- tables -----------------------------------------------------------------------------------------------
    def read_table(self, stage: str, name: str) -> pd.DataFrame:
        """A Parquet table written by a stage of this run (``name`` without suffix)."""
        return pd.read_parquet(self.stage_output(stage, f"{name}.parquet"))

    def previous_table(self, stage: str, name: str) -> pd.DataFrame | None:
        """The same table from the client's previous successful run, or ``None`` when there is none."""
        if self.previous_run_dir is None:
            return None
        path = self.previous_run_dir / OUTPUTS / stage / f"{name}.parquet"
        return pd.read_parquet(path) if path.exists() else None

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
        return io.read_source(self.engagement, name)

    def canonical(self, name: str) -> pd.DataFrame:
        return io.canonical_frame(self.engagement, name)

    # --- metrics for the manifest -----------------------------------------------------------------------------
    def record(self, **metrics: Any) -> None:
        """Add headline figures (accuracy, counts, …) to this stage's entry in the run manifest."""
        path = self.output(METRICS_FILE)
        current = io.read_json(path) if path.exists() else {}
        current.update(metrics)
        io.write_json(path, current)
