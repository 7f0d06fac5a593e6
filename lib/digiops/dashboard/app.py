"""The dashboard's widgets: one run folder's outputs behind selectors, in zh or en.

The run folder comes from the ``DIGIOPS_DASHBOARD_RUN`` environment variable, set by the launcher
(:func:`digiops.dashboard.serve`) for the Voila process only; the app reads fixed output names under that folder and
nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from digiops.dashboard import views
from digiops.errors import ArchiveError
from digiops.runfolder import MANIFEST, RunFolder
from digiops.summary.collect import Summary, collect, read_kpi_names, segment_names, segment_table
from digiops.summary.render import trends_html
from digiops.text import escape_html, in_language

RUN_ENV = "DIGIOPS_DASHBOARD_RUN"
COMPANY = "__company__"


@dataclass
class RunData:
    """The outputs the dashboard shows, read once."""

    run_dir: Path
    summary: Summary
    kpi_names: dict[str, dict[str, str]]
    attainment: pd.DataFrame | None
    scores: pd.DataFrame | None
    departments: pd.DataFrame | None
    tags: pd.DataFrame | None
    customers: pd.DataFrame | None
    migration: pd.DataFrame | None
    quality: pd.DataFrame | None


def _table(run: RunFolder, stage: str, name: str) -> pd.DataFrame | None:
    try:
        return run.table(stage, name)
    except Exception:  # noqa: BLE001 - an unreadable output shows as missing, with the stage's sentence
        return None


def _read(run: RunFolder, summary: Summary, stage: str, *names: str) -> pd.DataFrame | None:
    """The first of ``names`` a succeeded stage wrote and that can be read, else ``None``."""
    state = summary.stages.get(stage)
    if state is None or state.status != "succeeded":
        return None
    return next((t for t in (_table(run, stage, name) for name in names) if t is not None), None)


def load_run(run_dir: str | Path) -> RunData:
    run_dir = Path(run_dir).resolve()
    run = RunFolder(run_dir)
    summary = collect(run_dir)
    return RunData(
        run_dir=run_dir, summary=summary, kpi_names=read_kpi_names(run_dir),
        attainment=_read(run, summary, "kpi", "attainment.parquet"),
        scores=_read(run, summary, "maturity", "scores.parquet", "scores.csv"),
        departments=_read(run, summary, "maturity", "department_scores.parquet"),
        tags=_read(run, summary, "labels", "tags.parquet"),
        customers=_read(run, summary, "merge", "customers.parquet"),
        migration=_read(run, summary, "labels", "migration.parquet"),
        quality=_read(run, summary, "merge", "data_quality.parquet"))


def run_dir_from_environment() -> Path:
    value = os.environ.get(RUN_ENV, "")
    if not value:
        raise ArchiveError(RUN_ENV, "no run folder given to the dashboard",
                           fix="start it with `digiops dashboard CLIENT`, which sets it")
    path = Path(value)
    if not RunFolder(path).is_run:
        raise ArchiveError(str(path), f"not a run folder (no {MANIFEST})", fix="pass a folder under reports/<client>/")
    return path


class Dashboard:
    """Header, language toggle and four tabs; every selector re-renders only its own view."""

    def __init__(self, data: RunData, language: str | None = None):
        import ipywidgets as w

        self.w = w
        self.data = data
        self.language = language or data.summary.language
        self.segment_names = segment_names()
        self.header = w.HTML()
        self.language_toggle = w.ToggleButtons(options=[("中文", "zh"), ("English", "en")], value=self.language)
        self.language_toggle.add_class("dg-language")
        # KPI
        self.kpi_out = w.HTML()
        self.kpi_out.add_class("dg-kpi-view")
        attainment = data.attainment
        unit_options = views.units(attainment) if attainment is not None else []
        self.unit = w.Dropdown(options=[(u, u) for u, _ in unit_options] or [("all", "all")], value="all"
                               if any(u == "all" for u, _ in unit_options) or not unit_options else unit_options[0][0])
        self.unit.add_class("dg-unit")
        period_options = views.periods(attainment) if attainment is not None else []
        self.period = w.Dropdown(options=period_options or ["–"],
                                 value=(views.review_period(attainment) if period_options else "–"))
        self.period.add_class("dg-period")
        # maturity
        self.maturity_out = w.HTML()
        self.maturity_out.add_class("dg-maturity-view")
        departments = (sorted(data.departments["department"].astype(str).unique())
                       if data.departments is not None else [])
        self.department = w.Dropdown(options=[("全公司 / company", COMPANY)] + [(d, d) for d in departments],
                                     value=COMPANY)
        self.department.add_class("dg-department")
        # segments
        self.segments_out = w.HTML()
        self.segments_out.add_class("dg-segments-view")
        segment_ids = (segment_table(data.tags, self.segment_names)["segment"].tolist()
                       if data.tags is not None else [])
        self.segment = w.Dropdown(options=segment_ids or ["–"], value=segment_ids[0] if segment_ids else "–")
        self.segment.add_class("dg-segment")
        # data quality
        self.quality_out = w.HTML()
        self.quality_out.add_class("dg-quality-view")
        self.phase = w.ToggleButtons(options=["after", "before"], value="after")
        self.phase.add_class("dg-phase")
        # trends across the client's reviews
        self.trends_out = w.HTML()
        self.trends_out.add_class("dg-trends-view")

        self.unit_label, self.period_label, self.department_label, self.segment_label, self.phase_label = (
            w.HTML() for _ in range(5))
        self.tabs = w.Tab(children=[
            w.VBox([w.HBox([self.unit_label, self.unit, self.period_label, self.period]), self.kpi_out]),
            w.VBox([w.HBox([self.department_label, self.department]), self.maturity_out]),
            w.VBox([self.segments_out, w.HBox([self.segment_label, self.segment]), self.sample_out()]),
            w.VBox([w.HBox([self.phase_label, self.phase]), self.quality_out]),
            w.VBox([self.trends_out])])
        self.root = w.VBox([w.HTML(views.CSS), self.header, self.language_toggle, self.tabs])
        self.root.add_class("dg-dashboard")

        self.language_toggle.observe(lambda change: self.set_language(change["new"]), names="value")
        for control, render in ((self.unit, self.render_kpi), (self.period, self.render_kpi),
                                (self.department, self.render_maturity), (self.segment, self.render_sample),
                                (self.phase, self.render_quality)):
            control.observe(lambda _change, render=render: render(), names="value")
        self.set_language(self.language)

    def sample_out(self) -> Any:
        self._sample = self.w.HTML()
        self._sample.add_class("dg-sample-view")
        return self._sample

    def t(self, zh: str, en: str) -> str:
        return in_language(self.language, zh, en)

    def set_language(self, language: str) -> None:
        self.language = language
        summary = self.data.summary
        self.header.value = (f"<div class='dg-header'><h1>{escape_html(summary.name(language))}</h1>"
                             f"<div>{escape_html(self.t('运行', 'Run'))} {escape_html(summary.run_id)}</div></div>")
        for index, (zh, en) in enumerate((("KPI 达成", "KPI attainment"), ("成熟度", "Maturity"),
                                          ("客户分群", "Segments"), ("数据质量", "Data quality"),
                                          ("历次趋势", "Across reviews"))):
            self.tabs.set_title(index, self.t(zh, en))
        self.unit_label.value = self.t("单元", "Unit")
        self.period_label.value = self.t("月份", "Month")
        self.department_label.value = self.t("部门", "Department")
        self.segment_label.value = self.t("分群客户（已脱敏）", "Customers in segment (masked)")
        self.phase_label.value = self.t("清洗", "Cleaning")
        self.phase.options = [(self.t("清洗后", "after"), "after"), (self.t("清洗前", "before"), "before")]
        self.render_kpi()
        self.render_maturity()
        self.render_segments()
        self.render_quality()
        self.trends_out.value = trends_html(summary, language)

    def _missing(self, stage: str) -> str:
        return f"<p class='dg-note'>{escape_html(self.data.summary.note(stage, self.language) or '')}</p>"

    def render_kpi(self) -> None:
        if self.data.attainment is None:
            self.kpi_out.value = self._missing("kpi")
            return
        view = views.kpi_view(self.data.attainment, str(self.unit.value), str(self.period.value))
        self.kpi_out.value = views.kpi_html(view, self.data.kpi_names, self.language)

    def render_maturity(self) -> None:
        if self.data.scores is None:
            self.maturity_out.value = self._missing("maturity")
            return
        department = None if self.department.value == COMPANY else str(self.department.value)
        levels, targets = views.department_levels(self.data.scores, self.data.departments, department, self.language)
        self.maturity_out.value = (f"<div style='display:flex;gap:24px;align-items:center'>"
                                   f"{views.radar_svg(levels, targets)}{views.levels_html(levels, targets, self.language)}</div>")

    def render_segments(self) -> None:
        if self.data.tags is None:
            self.segments_out.value = self._missing("labels")
            self._sample.value = ""
            return
        table = segment_table(self.data.tags, self.segment_names)
        self.segments_out.value = (views.segments_html(table, self.language)
                                   + f"<h4>{escape_html(self.t('分群迁移', 'Segment migration'))}</h4>"
                                   + views.migration_html(self.data.migration, self.segment_names, self.language))
        self.render_sample()

    def render_sample(self) -> None:
        if self.data.tags is None:
            return
        sample = views.customer_sample(self.data.tags, self.data.customers, str(self.segment.value))
        self._sample.value = views.frame_html(sample)

    def render_quality(self) -> None:
        if self.data.quality is None:
            self.quality_out.value = self._missing("merge")
            return
        table = views.quality_by_source(self.data.quality, str(self.phase.value))
        self.quality_out.value = views.quality_html(table, self.language)


def build_app(run_dir: str | Path, language: str | None = None) -> Any:
    """The dashboard's root widget for one run folder."""
    return Dashboard(load_run(run_dir), language).root


def app_from_environment() -> Any:
    """What ``notebooks/dashboard.ipynb`` displays: the app for the run the launcher named."""
    return build_app(run_dir_from_environment())
