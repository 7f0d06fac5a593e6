"""The whole KPI review in one call: from the tree, the merge stage's outputs and the client's KPI files to every
table the report and ``outputs/kpi/`` need.

:func:`build_review` is pure (frames in, frames out) so tests can feed fixtures; :func:`review_from_context` reads
the inputs of a run through a :class:`~digiops.context.StageContext`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from digiops import io
from digiops.dates import parse_dates
from digiops.kpi.actuals import ADDITIVE, base_metrics, to_cents, file_metric, node_actuals, store_regions, unit_table
from digiops.kpi.attainment import attainment_table, read_targets
from digiops.kpi.cascade import CASCADE_COLUMNS, CHECK_COLUMNS, coherence, derive_targets, monthly_targets, with_checks
from digiops.kpi.funnel import funnel
from digiops.kpi.loop import ACTION_COLUMNS, action_effects, compare_runs, previous_month, restatements
from digiops.kpi.register import NEXT_COLUMNS, action_log, propose, register_workbook, trigger_counts
from digiops.kpi.runrate import runrate_table
from digiops.kpi.smart import smart_checks
from digiops.kpi.spend import (SPEND_COLUMNS, SUMMARY_COLUMNS, SpendAnalysis, acquisitions, read_spend,
                               spend_analysis, spend_metrics)
from digiops.kpi.tree import KpiTree, load_tree
from digiops.kpi.variance import attribute
from digiops.settings.kpi import KpiSettings


@dataclass
class Periods:
    as_of: dt.date
    review: str
    comparison: str
    runrate: str


@dataclass
class KpiReview:
    """Everything the battle-situation view shows."""

    tree: KpiTree
    periods: Periods
    units: pd.DataFrame
    metrics: pd.DataFrame
    actuals: pd.DataFrame
    targets: pd.DataFrame
    attainment: pd.DataFrame
    variance: pd.DataFrame
    funnel: pd.DataFrame
    smart: pd.DataFrame
    runrate: pd.DataFrame
    actions: pd.DataFrame
    daily: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    restated: pd.DataFrame | None = None
    cascade: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CASCADE_COLUMNS))
    cascade_checks: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CHECK_COLUMNS))
    actions_next: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NEXT_COLUMNS))  # the register
    spend: SpendAnalysis | None = None  # spend and return (kpi.spend_source); None without a spend source
    #: the initiative register's progress per initiative, with the KPI each should move and that KPI's status
    #: (digiops.maturity.initiatives.join); None without a register (maturity.initiatives_source)
    initiatives: pd.DataFrame | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)  # (zh, en)

    @property
    def headline_kpi(self) -> str:
        """The KPI the summary leads with: ``gmv`` when the tree has it, else the tree's first KPI."""
        return "gmv" if "gmv" in self.tree.nodes or not self.tree.nodes else next(iter(self.tree.nodes))

    def kpi_names(self) -> dict[str, dict[str, str]]:
        """KPI id → names, measure and definition, as the summary and the dashboard show them."""
        return {kpi: {"zh": node.name_zh, "en": node.name_en, "measure": node.measure,
                      "definition": node.definition or ""} for kpi, node in self.tree.nodes.items()}

    def tables(self) -> dict[str, pd.DataFrame]:
        """The stage's Parquet outputs by file name (the dashboard reads them instead of recomputing)."""
        return {"attainment": self.attainment, "variance": self.variance, "funnel": self.funnel,
                "smart_checks": self.smart, "runrate": self.runrate, "actions": self.actions,
                "tree": tree_table(self.tree), "cascade": self.cascade}

    def headline(self, kpi: str = "gmv") -> dict[str, object]:
        """Figures for the manifest: the KPI's actual vs target, the main variance driver and the run-rate."""
        out: dict[str, object] = {"review_period": self.periods.review,
                                  "comparison_period": self.periods.comparison}
        row = self.attainment[(self.attainment["kpi"] == kpi) & (self.attainment["unit"] == "all")
                              & (self.attainment["period"] == self.periods.review)]
        if len(row):
            r = row.iloc[0]
            exact = r["actual_exact"]
            out.update({f"{kpi}_actual": str(exact) if exact is not None and not pd.isna(exact) else _num(r["actual"]),
                        f"{kpi}_target": _num(r["target"]), f"{kpi}_attainment": _num(r["attainment"]),
                        f"{kpi}_status": r["status"]})
        factors = self.variance[(self.variance["kpi"] == kpi) & (self.variance["unit"] == "all")
                                & (self.variance["breakdown"] == "factor")].dropna(subset=["contribution"])
        if len(factors):
            main = factors.loc[factors["contribution"].abs().idxmax()]
            out.update({f"{kpi}_change": _num(main["change"]), "main_driver": main["item"],
                        "main_driver_contribution": _num(main["contribution"])})
        regions = self.variance[(self.variance["kpi"] == kpi) & (self.variance["breakdown"] == "region")]
        if len(regions):
            out["main_region"] = regions.loc[regions["contribution"].abs().idxmax()]["item"]
        rr = self.runrate[(self.runrate["kpi"] == kpi) & (self.runrate["unit"] == "all")]
        if len(rr):
            r = rr.iloc[0]
            out.update({"runrate_period": r["period"], "runrate_projection": _num(r["projection"]),
                        "runrate_required_daily": _num(r["required_daily"]),
                        "runrate_projected_attainment": _num(r["projected_attainment"])})
        out["smart_failures"] = int((~self.smart["passed"]).sum())
        return out


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


TREE_COLUMNS = ["kpi", "parent", "position", "combine", "goal", "measure", "direction", "owner", "unit"]


def tree_table(tree: KpiTree) -> pd.DataFrame:
    """The KPI tree as rows (``outputs/kpi/tree.parquet``): one per node and parent, in the tree file's order.

    ``parent`` is ``None`` for a root (a node no KPI lists as a child); a node under several parents has a row
    under each. ``position`` is the node's place among its siblings: in the parent's ``children`` list, or among
    the roots.

    >>> from digiops.kpi.tree import parse_tree
    >>> tree = parse_tree({"kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "combine": "sum",
    ...                              "children": ["online", "store"]},
    ...                             {"id": "store", "name_zh": "门店", "name_en": "Stores"},
    ...                             {"id": "online", "name_zh": "线上", "name_en": "Online"}]}, "t.yaml")
    >>> rows = tree_table(tree)
    >>> list(zip(rows["kpi"], rows["parent"].fillna("(root)"), rows["position"]))
    [('gmv', '(root)', 0), ('store', 'gmv', 1), ('online', 'gmv', 0)]
    """
    rows = []
    roots = [node_id for node_id in tree.nodes if not tree.parents(node_id)]
    for node_id, node in tree.nodes.items():
        placed = [(parent, tree.nodes[parent].children.index(node_id)) for parent in tree.parents(node_id)]
        for parent, position in placed or [(None, roots.index(node_id))]:
            rows.append({"kpi": node_id, "parent": parent, "position": position, "combine": node.combine,
                         "goal": node.goal, "measure": node.measure, "direction": node.direction,
                         "owner": node.owner, "unit": node.unit})
    return pd.DataFrame(rows, columns=TREE_COLUMNS)


def resolve_periods(settings: KpiSettings, orders: pd.DataFrame) -> Periods:
    """as_of (default: the day after the latest order), the review, comparison and run-rate months."""
    as_of = settings.as_of or (pd.to_datetime(orders["order_time"]).max().date() + dt.timedelta(days=1))
    last_day = as_of - dt.timedelta(days=1)
    runrate = settings.runrate_period or last_day.strftime("%Y-%m")
    month_closed = (last_day + dt.timedelta(days=1)).month != last_day.month
    review = settings.review_period or (last_day.strftime("%Y-%m") if month_closed
                                        else previous_month(last_day.strftime("%Y-%m")))
    comparison = settings.comparison_period or previous_month(review)
    return Periods(as_of=as_of, review=review, comparison=comparison, runrate=runrate)


def build_review(tree: KpiTree, orders: pd.DataFrame, *, settings: KpiSettings | None = None,
                 stores: pd.DataFrame | None = None, traffic: pd.DataFrame | None = None,
                 shipments: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                 targets: pd.DataFrame | None = None, funnel_events: pd.DataFrame | None = None,
                 actions: pd.DataFrame | None = None, file_sources: dict[str, pd.DataFrame] | None = None,
                 previous_attainment: pd.DataFrame | None = None, previous_actions: pd.DataFrame | None = None,
                 labels: dict[str, str] | None = None, spend: pd.DataFrame | None = None) -> KpiReview:
    """Compute the review from frames (canonical source frames, merge-stage tables).

    ``previous_actions`` is the previous run's register (``actions_next.parquet``): its proposals join the action
    log (:func:`digiops.kpi.register.action_log`, their text in both languages); the review proposes the next cycle's
    actions into ``actions_next``.
    """
    settings = settings or KpiSettings()
    labels = labels or {}
    notes: list[tuple[str, str]] = []
    periods = resolve_periods(settings, orders)
    # One data cut for every source: what happened on or after as_of is not known at the review (traffic of the
    # whole month beside half a month of orders once projected twice the visitors).
    cut = pd.Timestamp(periods.as_of)
    orders = orders[pd.to_datetime(orders["order_time"]) < cut]
    traffic, funnel_events = (before(frame, cut, notes, name) for frame, name in
                              ((traffic, settings.traffic_source), (funnel_events, settings.funnel_source)))
    file_sources = {name: before(frame, cut, notes, name) for name, frame in (file_sources or {}).items()}
    if shipments is not None:  # signed after the cut: still under way at the review
        shipments = shipments.assign(signed_at=shipments["signed_at"].where(shipments["signed_at"] < cut))
    regions = store_regions(stores)
    units = unit_table(regions, settings.online_unit)
    metrics = base_metrics(orders, regions=regions, traffic=traffic, shipments=shipments, customers=customers,
                           online_unit=settings.online_unit)
    spend_result = None
    if spend is not None:  # every row counts, whatever its month: total spent in = total shown
        acquired = acquisitions(orders, customers, window_days=settings.attribution_window_days, cut=cut)
        spend_result = spend_analysis(read_spend(spend, labels.get("spend", settings.spend_source or "spend"),
                                                 online_unit=settings.online_unit), acquired,
                                      review=periods.review, comparison=periods.comparison,
                                      gross_margin=settings.gross_margin, window_days=settings.attribution_window_days)
        metrics = pd.concat([metrics, spend_metrics(spend_result, acquired)], ignore_index=True)
    file_values = {}
    for node in tree.nodes.values():
        if node.source and node.source.file:
            frame = file_sources.get(node.source.file)
            if frame is None:
                notes.append((f"{node.id}：数据源「{node.source.file}」不在本次项目中，该指标没有实际值。",
                              f"{node.id}: source '{node.source.file}' is not in this engagement; the KPI has no "
                              "actuals."))
                continue
            file_values[f"{node.source.file}.{node.source.column}"] = file_metric(
                frame, node.source.column, regions=regions, online_unit=settings.online_unit,
                label=labels.get(node.source.file, node.source.file))
    actuals = node_actuals(tree, metrics, units, file_values)
    known_units = set(units["unit"])
    cascade_table, checks = pd.DataFrame(columns=CASCADE_COLUMNS), pd.DataFrame(columns=CHECK_COLUMNS)
    if targets is not None:
        given = read_targets(targets, tree, known_units, labels.get("targets", settings.targets_source))
        # targets given at the top reach every unit and month (seed 000: "disassembled to each combat unit")
        filled = derive_targets(tree, given, actuals, units, settings.cascade,
                                label=labels.get("engagement", "engagement file"))
        checks = coherence(filled, tree, units, settings.cascade.tolerance)
        cascade_table = with_checks(filled, checks)
        target_table = monthly_targets(cascade_table, derived=settings.cascade.apply)
    else:
        target_table = pd.DataFrame(columns=["kpi", "unit", "period", "target"])
        notes.append(("没有目标数据源：达成率与跑动率没有目标。",
                      "No targets source: attainment and run-rate have no targets."))
    attainment = attainment_table(tree, actuals, target_table, units, settings.status_bands)
    attainment["reviewed"] = attainment["period"] == periods.review
    variance = attribute(tree, actuals, metrics, periods.comparison, periods.review)
    funnel_table = (funnel(funnel_events, settings.funnel_stages, window_days=settings.conversion_window_days,
                           by_channel=True) if funnel_events is not None else pd.DataFrame())
    if funnel_events is not None and len(funnel_table):
        overall = funnel(funnel_events, settings.funnel_stages, window_days=settings.conversion_window_days)
        funnel_table = pd.concat([overall, funnel_table], ignore_index=True)
    additive = [n.id for n in tree.nodes.values()
                if n.combine == "sum" or (n.source and (n.source.file or n.source.metric in ADDITIVE))]
    runrate = runrate_table(actuals, target_table, additive, periods.runrate, periods.as_of)
    smart = smart_checks(tree, actuals, target_table, periods.review, bound=settings.achievable_bound,
                         min_history=settings.achievable_min_history)
    actions = action_log(actions, previous_actions if settings.next_actions.carry else None, tree, notes=notes)
    action_table = (action_effects(actions, tree, actuals, periods.review, periods.as_of,
                                   labels.get("actions", settings.actions_source))
                    if actions is not None else pd.DataFrame(columns=ACTION_COLUMNS))
    daily = daily_gmv(orders, periods.runrate)
    review = KpiReview(tree=tree, periods=periods, units=units, metrics=metrics, actuals=actuals, daily=daily,
                     targets=target_table, attainment=attainment, variance=variance, funnel=funnel_table,
                     smart=smart, runrate=runrate, actions=action_table,
                     changes=compare_runs(attainment, previous_attainment),
                     restated=restatements(attainment, previous_attainment) if previous_attainment is not None
                     else None, cascade=cascade_table, cascade_checks=checks, notes=list(dict.fromkeys(notes)),
                     spend=spend_result)
    # the register reads the finished review (red KPIs, the bridge, the funnel, overdue actions)
    review.actions_next = propose(review, settings.next_actions, online_unit=settings.online_unit)
    return review


#: The time column of each kind of dated KPI source, first found wins.
TIME_COLUMNS = ("date", "event_time", "created_at")


def before(frame: pd.DataFrame | None, cut: pd.Timestamp, notes: list[tuple[str, str]] | None = None,
           label: str = "") -> pd.DataFrame | None:
    """The rows of a dated source before the review's data cut (a row without a readable time is kept: it is
    counted nowhere by month anyway); how many were left out goes to ``notes``.

    >>> frame = pd.DataFrame({"date": ["2026-10-15", "2026-10-16", "2026-10-31"], "visitors": [1, 2, 3]})
    >>> before(frame, pd.Timestamp("2026-10-16"))["visitors"].tolist()
    [1]
    """
    column = next((c for c in TIME_COLUMNS if frame is not None and c in frame.columns), None)
    if column is None:
        return frame
    time = parse_dates(frame[column])
    late = time >= cut
    if late.any() and notes is not None:
        day = cut.date().isoformat()
        notes.append((f"{label}：{int(late.sum()):,} 行发生在 {day} 及以后，按统一数据截止日不计入本次复盘。",
                      f"{label}: {int(late.sum()):,} rows on or after {day} are left out (the review's one data "
                      "cut)."))
    return frame[~late]


def daily_gmv(orders: pd.DataFrame, period: str) -> pd.DataFrame:
    """GMV per day of ``period`` (unit ``all``): ``day`` (1…), ``value`` — for the run-rate chart (orders with
    ``in_gmv``, as :func:`~digiops.kpi.actuals.base_metrics` counts GMV)."""
    from digiops.kpi.actuals import order_states

    orders = order_states(orders)
    valid = orders[orders["in_gmv"].fillna(False).astype(bool)]
    time = pd.to_datetime(valid["order_time"])
    valid = valid[time.dt.strftime("%Y-%m") == period]
    cents = to_cents(valid["amount"]).groupby(pd.to_datetime(valid["order_time"]).dt.day).sum()
    return pd.DataFrame({"day": cents.index.astype(int), "value": cents.to_numpy() / 100})


def review_from_context(ctx) -> KpiReview:
    """Read a run's inputs (merge outputs, KPI sources, the tree) and build the review."""
    settings: KpiSettings = ctx.settings
    engagement = ctx.engagement
    tree_path = (engagement.folder / settings.tree).resolve()
    stores = _source(ctx, settings.stores_source)
    regions = store_regions(stores)
    known = {"all", settings.online_unit, *regions.keys(), *regions.values()}
    tree = load_tree(Path(tree_path), known_units=known)
    optional = {name: ctx.read_table("merge", name) if ctx.has_output("merge", f"{name}.parquet") else None
                for name in ("shipments", "customers")}
    file_sources = {n.source.file: _source(ctx, n.source.file) for n in tree.nodes.values()
                    if n.source and n.source.file}
    labels = {"targets": _label(ctx, settings.targets_source), "actions": _label(ctx, settings.actions_source),
              "engagement": engagement.file.name}
    labels.update({name: _label(ctx, name) for name in file_sources})
    if settings.spend_source:
        labels["spend"] = _label(ctx, settings.spend_source)
    orders = ctx.read_table("merge", "orders")
    # the engagement period bounds the review: orders outside it are not the client's review scope
    time = pd.to_datetime(orders["order_time"])
    period = engagement.period
    orders = orders[(time >= pd.Timestamp(period.start)) & (time < pd.Timestamp(period.end) + pd.Timedelta(days=1))]
    return build_review(
        tree, orders, settings=settings, stores=stores,
        traffic=_source(ctx, settings.traffic_source), shipments=optional["shipments"],
        customers=optional["customers"], targets=_source(ctx, settings.targets_source),
        funnel_events=_source(ctx, settings.funnel_source), actions=_source(ctx, settings.actions_source),
        file_sources={k: v for k, v in file_sources.items() if v is not None},
        previous_attainment=ctx.previous_table("kpi", "attainment"), labels=labels,
        previous_actions=ctx.previous_table("kpi", "actions_next") if settings.next_actions.carry else None,
        spend=_source(ctx, settings.spend_source) if settings.spend_source else None)


def initiative_progress(engagement, attainment: pd.DataFrame, notes: list[tuple[str, str]]) -> pd.DataFrame | None:
    """The initiatives of the engagement's register (``maturity.initiatives_source``) with their progress, each
    beside the KPI it should move and that KPI's status in this review; ``None`` without a register."""
    # the register is the maturity stage's source; imported here because maturity reads this stage's outputs
    # (its evidence), so neither package imports the other when it loads
    from digiops.maturity import initiatives, roadmap
    from digiops.maturity.stage import read_register

    said: list[str] = []
    register = read_register(engagement, said) if engagement.maturity.initiatives_source else None
    notes.extend((text, text) for text in said)
    if register is None:
        return None
    library = {i.id: {"name_zh": i.name_zh, "name_en": i.name_en, "dimension": i.dimension}
               for i in roadmap.initiatives_for(engagement.maturity, engagement.folder)}
    return initiatives.join(pd.DataFrame(columns=["initiative_id"]), register,
                            initiatives.as_of_date(engagement.maturity, engagement), library, attainment)


def run(ctx) -> KpiReview:
    """The stage: build the review, write its tables and the KPI names, record the headline figures of the
    headline KPI (which the summary and the dashboard read instead of recomputing them)."""
    review = review_from_context(ctx)
    review.initiatives = initiative_progress(ctx.engagement, review.attainment, review.notes)
    for name, table in review.tables().items():
        ctx.write_table(name, table)
    ctx.write_json("kpi_names.json", review.kpi_names())
    ctx.write_table("actions_next", review.actions_next)
    io.write_bytes(ctx.output("actions_next.xlsx"), register_workbook(review.actions_next, review.tree,
                                                                      language=ctx.language))
    ctx.record(next_actions=len(review.actions_next), next_actions_by_trigger=trigger_counts(review.actions_next))
    ctx.record(headline_kpi=review.headline_kpi, **review.headline(review.headline_kpi))
    # written without a spend source too (empty), so the stage's outputs are the same for every client
    ctx.write_table("spend", review.spend.table if review.spend else pd.DataFrame(columns=SPEND_COLUMNS))
    ctx.write_table("spend_summary", review.spend.summary if review.spend else pd.DataFrame(columns=SUMMARY_COLUMNS))
    if review.spend is not None:
        ctx.record(**review.spend.figures())
    return review


def _source(ctx, name: str) -> pd.DataFrame | None:
    return ctx.canonical(name) if name in ctx.engagement.sources else None


def _label(ctx, name: str) -> str:
    source = ctx.engagement.sources.get(name)
    return source.path if source else name
