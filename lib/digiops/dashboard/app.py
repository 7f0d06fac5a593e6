"""The dashboard's widgets: one run folder's outputs behind selectors, in zh or en.

The run folder comes from the ``DIGIOPS_DASHBOARD_RUN`` environment variable, set by the launcher
(:func:`digiops.dashboard.serve`) for the Voila process only; the app reads fixed output names under that folder, and
of each Parquet output only the columns its views show (the first render is the visitor's wait), and recomputes
nothing.

Tabs: KPI (KPI, unit and month: attainment, the KPI tree, the trend across months, the variance bridge, run-rate
pacing), Funnel (month, channel), Actions, Maturity (department: radar and levels; the roadmap and its budget),
Segments (migration, a masked sample), Data quality (before / after cleaning), Across reviews.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from digiops.dashboard import kpi_views, views
from digiops.errors import ArchiveError
from digiops.runfolder import MANIFEST, RunFolder
from digiops.summary.collect import (NO_SEGMENT, NO_SEGMENT_NAMES, Summary, collect, read_kpi_names, segment_names,
                                     segment_table)
from digiops.summary.render import trends_html
from digiops.text import escape_html, in_language

RUN_ENV = "DIGIOPS_DASHBOARD_RUN"
COMPANY = "__company__"
NONE = "–"  # the only option of a selector with nothing to choose

#: Of each Parquet output, the columns the views read (``None``: every column).
COLUMNS: dict[str, tuple[str, ...] | None] = {
    "attainment.parquet": ("kpi", "level", "unit", "period", "actual", "target", "attainment", "status", "reviewed"),
    "variance.parquet": ("kpi", "period_from", "period_to", "unit", "breakdown", "item", "effect", "value_from",
                         "value_to", "contribution", "change", "method"),
    "runrate.parquet": ("kpi", "unit", "period", "as_of", "days_elapsed", "days_left", "actual_to_date",
                        "average_daily", "projection", "target", "required_daily", "projected_attainment"),
    "tree.parquet": ("kpi", "parent", "position", "combine", "measure"),
    "scores.parquet": ("dimension", "name_zh", "name_en", "level", "target"),
    "department_scores.parquet": ("department", "dimension", "level"),
    "roadmap.parquet": ("phase", "phase_zh", "phase_en", "months", "initiative_id", "dimension", "name_zh", "name_en",
                        "budget_share", "budget"),
    "budget.parquet": ("phase", "phase_zh", "phase_en", "category", "programme_share", "budget"),
    "tags.parquet": ("customer_id", "rfm_segment", "monetary"),
    "customers.parquet": ("customer_id", "full_name", "phone", "email", "city"),
}


@dataclass
class RunData:
    """The outputs the dashboard shows, read once (``None``: the stage did not succeed or did not write it)."""

    run_dir: Path
    summary: Summary
    kpi_names: dict[str, dict[str, str]]
    headline_kpi: str | None
    attainment: pd.DataFrame | None
    variance: pd.DataFrame | None
    funnel: pd.DataFrame | None
    runrate: pd.DataFrame | None
    actions: pd.DataFrame | None
    tree: pd.DataFrame | None
    scores: pd.DataFrame | None
    departments: pd.DataFrame | None
    roadmap: pd.DataFrame | None
    budget: pd.DataFrame | None
    tags: pd.DataFrame | None
    customers: pd.DataFrame | None
    migration: pd.DataFrame | None
    quality: pd.DataFrame | None


def _table(run: RunFolder, stage: str, name: str) -> pd.DataFrame | None:
    path = run.output(stage, name)
    if not path.exists():
        return None
    try:
        if path.suffix != ".parquet":
            return pd.read_csv(path)
        wanted = COLUMNS.get(name)
        present = set(pq.read_schema(path).names)
        return pd.read_parquet(path, columns=None if wanted is None else [c for c in wanted if c in present])
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

    def read(stage: str, *names: str) -> pd.DataFrame | None:
        return _read(run, summary, stage, *names)

    return RunData(
        run_dir=run_dir, summary=summary, kpi_names=read_kpi_names(run_dir),
        headline_kpi=run.metrics("kpi").get("headline_kpi"),
        attainment=read("kpi", "attainment.parquet"), variance=read("kpi", "variance.parquet"),
        funnel=read("kpi", "funnel.parquet"), runrate=read("kpi", "runrate.parquet"),
        actions=read("kpi", "actions.parquet"), tree=read("kpi", "tree.parquet"),
        scores=read("maturity", "scores.parquet", "scores.csv"),
        departments=read("maturity", "department_scores.parquet"),
        roadmap=read("maturity", "roadmap.parquet"), budget=read("maturity", "budget.parquet"),
        tags=read("labels", "tags.parquet"), customers=read("merge", "customers.parquet"),
        migration=read("labels", "migration.parquet"), quality=read("merge", "data_quality.parquet"))


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
    """Header, language toggle and seven tabs; every selector re-renders only the views it filters."""

    def __init__(self, data: RunData, language: str | None = None):
        import ipywidgets as w

        self.w = w
        self.data = data
        self.language = language or data.summary.language
        self.segment_names = segment_names()
        self._quiet = False  # relabelling options on a language switch is no choice of the reader's
        self.header = w.HTML()
        self.language_toggle = w.ToggleButtons(options=[("中文", "zh"), ("English", "en")], value=self.language)
        self.language_toggle.add_class("dg-language")
        self._labels: list[tuple[Any, str, str]] = []

        def label(zh: str, en: str) -> Any:
            widget = w.HTML()
            self._labels.append((widget, zh, en))
            return widget

        def out(css: str) -> Any:
            widget = w.HTML()
            widget.add_class(css)
            return widget

        def choice(css: str, values: list[str], value: str | None) -> Any:
            values = values or [NONE]
            widget = w.Dropdown(options=[(v, v) for v in values], value=value if value in values else values[0])
            widget.add_class(css)
            return widget

        # KPI: attainment and the tree follow unit and month; trend and bridge the KPI and unit; run-rate the unit
        attainment = data.attainment
        kpi_ids = kpi_views.kpis(attainment, data.kpi_names) if attainment is not None else []
        headline = data.headline_kpi if data.headline_kpi in kpi_ids else ("gmv" if "gmv" in kpi_ids else None)
        self.kpi = choice("dg-kpi", kpi_ids, headline)
        unit_ids = [u for u, _ in kpi_views.units(attainment)] if attainment is not None else []
        self.unit = choice("dg-unit", unit_ids, "all")
        months = kpi_views.periods(attainment) if attainment is not None else []
        self.period = choice("dg-period", months, kpi_views.review_period(attainment) if months else None)
        self.kpi_out, self.tree_out, self.trend_out, self.bridge_out, self.runrate_out = (
            out(c) for c in ("dg-kpi-view", "dg-tree-view", "dg-trend-view", "dg-bridge-view", "dg-runrate-view"))
        # funnel
        funnel = data.funnel if data.funnel is not None else pd.DataFrame()
        funnel_months = kpi_views.funnel_periods(funnel)
        self.funnel_period = choice("dg-funnel-period", funnel_months,
                                    self.period.value if self.period.value in funnel_months else
                                    (funnel_months[-1] if funnel_months else None))
        self.channel = choice("dg-channel", kpi_views.funnel_channels(funnel), "all")
        self.funnel_out = out("dg-funnel-view")
        # actions
        self.actions_out = out("dg-actions-view")
        # maturity
        departments = (sorted(data.departments["department"].astype(str).unique())
                       if data.departments is not None else [])
        self.department = choice("dg-department", [COMPANY, *departments], COMPANY)
        self.maturity_out, self.roadmap_out = out("dg-maturity-view"), out("dg-roadmap-view")
        # segments
        self.segments_out = out("dg-segments-view")
        self.segment_rows = segment_table(data.tags, self.segment_names) if data.tags is not None else None
        self.segment = choice("dg-segment", [] if self.segment_rows is None else self.segment_rows["segment"].tolist(),
                              None)
        self._sample = out("dg-sample-view")
        # data quality
        self.quality_out = out("dg-quality-view")
        self.phase = w.ToggleButtons(options=[("after", "after"), ("before", "before")], value="after")
        self.phase.add_class("dg-phase")
        # trends across the client's reviews
        self.trends_out = out("dg-trends-view")

        self.tabs = w.Tab(children=[
            w.VBox([w.HBox([label("指标", "KPI"), self.kpi, label("单元", "Unit"), self.unit, label("月份", "Month"),
                            self.period]),
                    self.kpi_out, self.tree_out, self.trend_out, self.bridge_out, self.runrate_out]),
            w.VBox([w.HBox([label("月份", "Month"), self.funnel_period, label("渠道", "Channel"), self.channel]),
                    self.funnel_out]),
            w.VBox([self.actions_out]),
            w.VBox([w.HBox([label("部门", "Department"), self.department]),
                    w.HBox([self.maturity_out, self.roadmap_out], layout=w.Layout(flex_flow="row wrap"))]),
            w.VBox([self.segments_out, w.HBox([label("分群客户（已脱敏）", "Customers in segment (masked)"), self.segment]),
                    self._sample]),
            w.VBox([w.HBox([label("清洗", "Cleaning"), self.phase]), self.quality_out]),
            w.VBox([self.trends_out])])
        self.root = w.VBox([w.HTML(views.CSS), self.header, self.language_toggle, self.tabs])
        self.root.add_class("dg-dashboard")

        self.language_toggle.observe(lambda change: change["new"] == self.language or self.set_language(change["new"]),
                                     names="value")
        views_of: list[tuple[Any, tuple[Callable[[], None], ...]]] = [
            (self.kpi, (self.render_trend, self.render_bridge, self.render_runrate)),
            (self.unit, (self.render_attainment, self.render_tree, self.render_trend, self.render_bridge,
                         self.render_runrate)),
            (self.period, (self.render_attainment, self.render_tree, self.render_trend)),
            (self.funnel_period, (self.render_funnel,)), (self.channel, (self.render_funnel,)),
            (self.department, (self.render_maturity,)), (self.segment, (self.render_sample,)),
            (self.phase, (self.render_quality,))]
        for control, renders in views_of:
            control.observe(lambda _change, renders=renders: self._changed(renders), names="value")
        self.set_language(self.language)

    # --- language ---------------------------------------------------------------------------------------------
    def t(self, zh: str, en: str) -> str:
        return in_language(self.language, zh, en)

    def _changed(self, renders: tuple[Callable[[], None], ...]) -> None:
        if not self._quiet:
            for render in renders:
                render()

    def _relabel(self, control: Any, label: Callable[[str], str]) -> None:
        """Name a selector's options in the current language, keeping the reader's choice."""
        value = control.value
        self._quiet = True
        try:
            control.options = [(NONE if v == NONE else label(v), v) for _, v in control.options]
            control.value = value
        finally:
            self._quiet = False

    def _unit_name(self, unit: str) -> str:
        return self.t("全公司", "Company") if unit == "all" else unit

    def set_language(self, language: str) -> None:
        self.language = language
        self.language_toggle.value = language  # also when called, not clicked: the toggle shows the language
        summary = self.data.summary
        self.header.value = (f"<div class='dg-header'><h1>{escape_html(summary.name(language))}</h1>"
                             f"<div>{escape_html(self.t('运行', 'Run'))} {escape_html(summary.run_id)}</div></div>")
        for index, (zh, en) in enumerate((("KPI", "KPI"), ("漏斗", "Funnel"), ("行动", "Actions"),
                                          ("成熟度", "Maturity"), ("客户分群", "Segments"), ("数据质量", "Data quality"),
                                          ("历次趋势", "Across reviews"))):
            self.tabs.set_title(index, self.t(zh, en))
        for widget, zh, en in self._labels:
            widget.value = escape_html(self.t(zh, en))
        names = self.data.kpi_names
        segments = {**self.segment_names, NO_SEGMENT: NO_SEGMENT_NAMES}
        self._relabel(self.kpi, lambda k: kpi_views.kpi_name(names, k, language))
        self._relabel(self.unit, self._unit_name)
        self._relabel(self.channel, lambda c: kpi_views.channel_name(c, language))
        self._relabel(self.department, lambda d: self.t("全公司", "Company") if d == COMPANY else d)
        self._relabel(self.segment, lambda s: in_language(language, *segments.get(s, (s, s))))
        self._relabel(self.phase, lambda p: self.t("清洗后", "after") if p == "after" else self.t("清洗前", "before"))
        for render in (self.render_attainment, self.render_tree, self.render_trend, self.render_bridge,
                       self.render_runrate, self.render_funnel, self.render_actions, self.render_maturity,
                       self.render_roadmap, self.render_segments, self.render_quality):
            render()
        self.trends_out.value = trends_html(summary, language)

    # --- sentences instead of a view --------------------------------------------------------------------------
    def _missing(self, stage: str) -> str:
        return views.note(self.data.summary.note(stage, self.language) or "")

    def _unavailable(self, stage: str, output: str) -> str:
        """Why a view is empty: the stage's sentence, or that the stage's run did not write this output."""
        state = self.data.summary.stages.get(stage)
        if state is None or state.status != "succeeded" or self.data.summary.note(stage, self.language):
            return self._missing(stage)
        return views.note(self.t(f"本次运行没有 outputs/{stage}/{output}（该运行早于记录它的版本）：重新运行该阶段即可看到此视图。",
                                 f"This run has no outputs/{stage}/{output} (it was made before the stage recorded "
                                 "it): run the stage again to see this view."))

    # --- KPI --------------------------------------------------------------------------------------------------
    def _heading(self, zh: str, en: str, *scope: str) -> str:
        return views.heading(" · ".join([self.t(zh, en), *scope]))

    def render_attainment(self) -> None:
        if self.data.attainment is None:
            self.kpi_out.value = self._missing("kpi")
            return
        unit, period = str(self.unit.value), str(self.period.value)
        view = kpi_views.kpi_view(self.data.attainment, unit, period, [v for _, v in self.kpi.options])
        self.kpi_out.value = (self._heading("达成情况", "Attainment", self._unit_name(unit), period)
                              + kpi_views.kpi_html(view, self.data.kpi_names, self.language))

    def render_tree(self) -> None:
        if self.data.attainment is None:
            self.tree_out.value = ""
            return
        unit, period = str(self.unit.value), str(self.period.value)
        heading = self._heading("KPI 树", "KPI tree", self._unit_name(unit), period)
        if self.data.tree is None:
            self.tree_out.value = heading + self._unavailable("kpi", "tree.parquet")
            return
        view = kpi_views.tree_view(self.data.tree, self.data.attainment, unit, period)
        self.tree_out.value = heading + kpi_views.tree_html(view, self.data.kpi_names, self.language)

    def render_trend(self) -> None:
        if self.data.attainment is None:
            self.trend_out.value = ""
            return
        kpi, unit = str(self.kpi.value), str(self.unit.value)
        trend = kpi_views.kpi_trend(self.data.attainment, kpi, unit)
        self.trend_out.value = (self._heading("逐月趋势", "Trend across months",
                                              kpi_views.kpi_name(self.data.kpi_names, kpi, self.language),
                                              self._unit_name(unit))
                                + kpi_views.trend_html(trend, kpi, self.data.kpi_names, self.language,
                                                       str(self.period.value)))

    def render_bridge(self) -> None:
        if self.data.attainment is None:
            self.bridge_out.value = ""
            return
        heading = self._heading("变动分解", "Variance bridge", self._unit_name(str(self.unit.value)))
        if self.data.variance is None:
            self.bridge_out.value = heading + self._unavailable("kpi", "variance.parquet")
            return
        found = kpi_views.bridges(self.data.variance, self.data.attainment, str(self.kpi.value), str(self.unit.value))
        self.bridge_out.value = heading + kpi_views.bridges_html(found, self.data.kpi_names, self.language)

    def render_runrate(self) -> None:
        if self.data.attainment is None:
            self.runrate_out.value = ""
            return
        heading = self._heading("跑动率", "Run-rate pacing", self._unit_name(str(self.unit.value)))
        if self.data.runrate is None:
            self.runrate_out.value = heading + self._unavailable("kpi", "runrate.parquet")
            return
        order = [v for _, v in self.kpi.options]
        view = kpi_views.runrate_view(self.data.runrate, str(self.unit.value), order)
        self.runrate_out.value = heading + kpi_views.runrate_html(view, self.data.kpi_names, self.language,
                                                                  str(self.kpi.value))

    # --- funnel and actions -----------------------------------------------------------------------------------
    def render_funnel(self) -> None:
        funnel = self.data.funnel
        if funnel is None:
            self.funnel_out.value = self._unavailable("kpi", "funnel.parquet")
        elif funnel.empty:
            self.funnel_out.value = views.note(self.t("本次复盘没有漏斗数据源（kpi.funnel_source）。",
                                                      "This review has no funnel source (kpi.funnel_source)."))
        else:
            view = kpi_views.funnel_view(funnel, str(self.funnel_period.value), str(self.channel.value))
            self.funnel_out.value = kpi_views.funnel_html(view, self.language)

    def render_actions(self) -> None:
        if self.data.actions is None:
            self.actions_out.value = self._unavailable("kpi", "actions.parquet")
            return
        self.actions_out.value = kpi_views.actions_html(self.data.actions, self.data.kpi_names, self.language)

    # --- maturity, segments, data quality ---------------------------------------------------------------------
    def render_maturity(self) -> None:
        if self.data.scores is None:
            self.maturity_out.value = self._missing("maturity")
            return
        department = None if self.department.value == COMPANY else str(self.department.value)
        levels, targets = views.department_levels(self.data.scores, self.data.departments, department, self.language)
        self.maturity_out.value = (f"<div class='dg-row' style='align-items:center'>{views.radar_svg(levels, targets)}"
                                   f"{views.levels_html(levels, targets, self.language)}</div>")

    def render_roadmap(self) -> None:
        if self.data.roadmap is None:
            missing = self.data.scores is None  # the maturity view already says why
            self.roadmap_out.value = "" if missing else self._unavailable("maturity", "roadmap.parquet")
            return
        self.roadmap_out.value = (self._heading("路线图与预算", "Roadmap and budget")
                                  + views.roadmap_html(self.data.roadmap, self.data.budget, self.language))

    def render_segments(self) -> None:
        if self.data.tags is None:
            self.segments_out.value = self._missing("labels")
            self._sample.value = ""
            return
        self.segments_out.value = (views.segments_html(self.segment_rows, self.language)
                                   + f"<h4>{escape_html(self.t('分群迁移', 'Segment migration'))}</h4>"
                                   + views.migration_html(self.data.migration, self.segment_names, self.language))
        self.render_sample()

    def render_sample(self) -> None:
        if self.data.tags is None:
            return
        sample = views.customer_sample(self.data.tags, self.data.customers, str(self.segment.value))
        self._sample.value = views.sample_html(sample, self.language)

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
