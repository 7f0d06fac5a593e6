"""The action register: the actions a KPI review proposes for the next cycle, and their read-back by the next review
(seed 000: "a closed loop … a complete review, so as to learn lessons"; seed 004: execution goals with an owner and
a date).

:func:`propose` derives the proposals from what the review found, by four documented triggers:

* ``red_kpi`` — a KPI whose status is red in the review month, at the levels ``kpi.next_actions.red_levels`` names
  (default the whole business and the regions): the whole business before a region before a store, the headline
  KPI first, then the lowest attainment first;
* ``variance`` — a factor (e.g. conversion) or a region that pulled the headline KPI down between the comparison and
  the review month (the factor and region steps of its bridge, :mod:`digiops.kpi.variance`), when it took at least
  ``min_driver_share`` of the comparison month's value: the most negative contribution first (both steps are in the
  KPI's own measure, so they rank together);
* ``funnel_step`` — the funnel step (all channels, the review month's cohort) whose step conversion fell most against
  the previous month's cohort, or against its benchmark in ``funnel_benchmarks``; a step that did not fall proposes
  nothing;
* ``overdue`` — an action of the current action log that is overdue, carried over under its own id: the most days
  overdue first.

Proposals on the same KPI and unit are one action that names every finding (a red region whose GMV also fell is one
action, not two). **Order:** each trigger's most important candidate in turn (red KPI, variance, funnel step,
overdue), then each one's second, and so on; the list stops at ``max_actions``. Each action has a stable id derived
from what triggered it (``N-<review month>-<kpi>-<unit>``, so a rerun gives the same ids; a carried action keeps its
own), a text in Chinese and English, an owner (``unit_owners`` for a region or store, else the KPI's owner in the
tree, else the owner of its strategic goal), a due date (``due_days`` after ``as_of``, default the last day of the
month after the review month), the KPI it should move with its baseline (its value in the review month at the
action's unit) and its target in the next month.

:func:`action_log` is the read-back: the previous run's proposals join the next review's action log beside the
client's action source; an id in both takes the client's row (their updated status), keeping the proposal's unit
and baseline when the KPI is the same, so the effect is still measured from the stored baseline
(:func:`digiops.kpi.loop.action_effects`). :func:`register_workbook` writes the register as the client's XLSX.

Example:
    >>> next_month("2026-12"), month_end("2026-02")
    ('2027-01', datetime.date(2026, 2, 28))
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import numpy as np
import pandas as pd

from digiops import io
from digiops.kpi.loop import actual_by_key, given, next_month
from digiops.kpi.tree import KpiTree
from digiops.settings.kpi import NEXT_ACTION_TRIGGERS, NextActionsSettings
from digiops.text import FUNNEL_STAGES, MISSING, TRIGGER_NAMES, in_language, term

#: The review (:class:`digiops.kpi.review.KpiReview`) the triggers read; the review module builds the register, so
#: this module does not import it.
KpiReview = Any

#: The register's columns (``actions_next.parquet``).
NEXT_COLUMNS = ["action_id", "priority", "trigger", "triggers", "kpi", "unit", "action_zh", "action_en", "owner",
                "owner_source", "due", "period", "baseline", "target_period", "target", "created_at", "status",
                "trigger_value"]
#: The status of a proposal nobody has updated yet.
PROPOSED = "proposed"
#: Where an action of the action log came from (``actions.origin``).
ORIGINS = ("action_log", "register", "register_updated")
#: Default funnel stage → KPI ids (first found in the tree wins) an action on the step into that stage should move.
FUNNEL_KPIS = {"visit": ("traffic",), "add_to_cart": ("conversion_rate", "conversion"),
               "order": ("conversion_rate", "conversion"), "repurchase": ("repurchase_rate",)}
_LEVEL_RANK = {"all": 0, "region": 1, "store": 2}


def month_end(period: str) -> dt.date:
    """The last day of a ``YYYY-MM`` month."""
    year, month = map(int, period.split("-"))
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def due_date(review_period: str, as_of: dt.date, due_days: int | None = None) -> dt.date:
    """When a proposed action is due: ``due_days`` after ``as_of``, or the last day of the month after the review
    month (never before ``as_of``: then the last day of the month holding it).

    >>> due_date("2026-09", dt.date(2026, 10, 16)), due_date("2026-09", dt.date(2026, 10, 16), 14)
    (datetime.date(2026, 10, 31), datetime.date(2026, 10, 30))
    """
    if due_days:
        return as_of + dt.timedelta(days=due_days)
    due = month_end(next_month(review_period))
    return due if due >= as_of else month_end(as_of.strftime("%Y-%m"))


def shown(value: float | None, measure: str) -> str:
    """A KPI value in an action's text: a rate in percent, money in yuan, a count as a number.

    >>> shown(0.04997, "%"), shown(25081.0, "元"), shown(37.4136, "元/单"), shown(165636.0, "人次"), shown(None, "元")
    ('5.00%', '¥25,081', '¥37.41', '165,636', '–')
    """
    if value is None or not np.isfinite(value):
        return MISSING
    if measure == "%":
        return f"{value:.2%}"
    if "元" in measure:
        return f"¥{value:,.0f}" if abs(value) >= 1000 else f"¥{value:,.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def signed(value: float, measure: str) -> str:
    """A change: money with the sign before ¥, a rate in percentage points.

    >>> signed(-1399.0, "元"), signed(-0.0387, "%")
    ('-¥1,399', '-3.87 pp')
    """
    if measure == "%":
        return f"{value * 100:+.2f} pp"
    return ("-" if value < 0 else "+") + shown(abs(value), measure)


@dataclass
class Candidate:
    """One finding that proposes an action: which family found it, its rank within the family, the KPI × unit it
    is about (``key``), its sentence (zh, en) and what to do (zh, en)."""

    family: str
    rank: int
    trigger: str
    key: tuple[str, str]
    kpi: str
    unit: str
    finding: tuple[str, str]
    step: tuple[str, str]
    value: float
    carried: dict[str, Any] = field(default_factory=dict)


def _unit_words(unit: str, online_unit: str) -> tuple[str, str]:
    if unit == "all":
        return "全公司", "Company-wide"
    if unit == online_unit:
        return "线上", "Online"
    return unit, unit


def _kpi_words(tree: KpiTree, kpi: str) -> tuple[str, str]:
    node = tree.nodes.get(kpi)
    return (node.name_zh, node.name_en) if node else (kpi, kpi)


def red_kpis(review: KpiReview, levels: list[str], online_unit: str) -> list[Candidate]:
    """Red KPIs in the review month at ``levels``: the whole business first, then regions, then stores; within a
    level the headline KPI first, then the lowest attainment first."""
    a = review.attainment
    red = a[(a["period"] == review.periods.review) & (a["status"] == "red") & a["level"].isin(levels)
            & a["kpi"].isin(review.tree.nodes)]
    red = red.assign(_level=red["level"].map(_LEVEL_RANK), _other=red["kpi"] != review.headline_kpi)
    red = red.sort_values(["_level", "_other", "attainment", "kpi", "unit"])
    out = []
    for rank, row in enumerate(red.itertuples(index=False), start=1):
        measure = review.tree.nodes[row.kpi].measure
        (unit_zh, unit_en), (kpi_zh, kpi_en) = _unit_words(row.unit, online_unit), _kpi_words(review.tree, row.kpi)
        gap = (row.target - row.actual) if review.tree.nodes[row.kpi].direction == "higher" else row.actual - row.target
        actual, target = shown(row.actual, measure), shown(row.target, measure)
        out.append(Candidate(
            "red_kpi", rank, "red_kpi", (row.kpi, row.unit), row.kpi, row.unit,
            (f"{unit_zh} {kpi_zh} {row.period} 达成 {row.attainment:.1%}（实际 {actual}，目标 {target}）",
             f"{unit_en} {kpi_en} at {row.attainment:.1%} of target in {row.period} (actual {actual}, target "
             f"{target})"),
            (f"定位差距来源并制定追赶计划，补上 {shown(abs(gap), measure)} 的差距",
             f"find where the {shown(abs(gap), measure)} gap comes from and agree a catch-up plan"),
            float(row.attainment)))
    return out


def variance_drivers(review: KpiReview, kpi: str, min_share: float, online_unit: str) -> list[Candidate]:
    """The factors and regions that pulled ``kpi`` down (its bridge at its own unit), the most negative first."""
    node = review.tree.nodes.get(kpi)
    if node is None:
        return []
    v = review.variance
    steps = v[(v["kpi"] == kpi) & (v["unit"] == node.unit) & v["breakdown"].isin(["factor", "region"])]
    steps = steps.dropna(subset=["contribution"])
    value = actual_by_key(review.actuals)
    start = float(value.get((kpi, node.unit, review.periods.comparison), np.nan))
    floor = min_share * abs(start) if np.isfinite(start) else 0.0
    # a lower-is-better KPI is pulled the wrong way by a rise
    worse = steps["contribution"] > 0 if node.direction == "lower" else steps["contribution"] < 0
    steps = steps[worse & (steps["contribution"].abs() >= floor)]
    steps = steps.assign(_size=-steps["contribution"].abs()).sort_values(["_size", "item"])
    kpi_zh, kpi_en = _kpi_words(review.tree, kpi)
    p0, p1 = review.periods.comparison, review.periods.review
    out = []
    for rank, row in enumerate(steps.itertuples(index=False), start=1):
        change = signed(row.contribution, node.measure)
        if row.breakdown == "factor" and row.item in review.tree.nodes:
            factor = review.tree.nodes[row.item]
            f_zh, f_en = _kpi_words(review.tree, row.item)
            moved = f"{shown(row.value_from, factor.measure)} → {shown(row.value_to, factor.measure)}"
            out.append(Candidate(
                "variance", rank, "variance_factor", (row.item, factor.unit), row.item, factor.unit,
                (f"{f_zh}拖累{kpi_zh} {change}（{p0} → {p1}：{moved}）",
                 f"{f_en} cost {kpi_en} {change} ({p0} → {p1}: {moved})"),
                (f"找出{f_zh}下滑的大区、门店与渠道并逐一纠正",
                 f"find the regions, stores and channels where {f_en} fell and correct each"),
                float(row.contribution)))
        elif row.breakdown == "region":
            unit_zh, unit_en = _unit_words(row.item, online_unit)
            moved = f"{shown(row.value_from, node.measure)} → {shown(row.value_to, node.measure)}"
            out.append(Candidate(
                "variance", rank, "variance_region", (kpi, row.item), kpi, row.item,
                (f"{unit_zh} {kpi_zh}较 {p0} 变动 {change}（{moved}）",
                 f"{unit_en} {kpi_en} moved {change} since {p0} ({moved})"),
                (f"复盘{unit_zh}的客流、转化与客单价，明确回升措施",
                 f"review {unit_en}'s traffic, conversion and order value and agree how to recover"),
                float(row.contribution)))
    return out


def funnel_kpi(tree: KpiTree, stage: str, settings: NextActionsSettings, headline: str) -> str:
    """The KPI an action on the funnel step into ``stage`` should move (``funnel_kpis``, else the default map)."""
    if stage in settings.funnel_kpis:
        return settings.funnel_kpis[stage]
    by_metric = {n.source.metric: n.id for n in tree.nodes.values() if n.source and n.source.metric}
    for name in FUNNEL_KPIS.get(stage, ()):
        if name in tree.nodes:
            return name
        if name in by_metric:
            return by_metric[name]
    return headline


def funnel_step(review: KpiReview, settings: NextActionsSettings, headline: str) -> list[Candidate]:
    """The funnel step (all channels, the review month's cohort) that fell most against the previous month's cohort
    or its benchmark, in percentage points; nothing when no step fell."""
    f = review.funnel
    if f is None or f.empty:
        return []
    f = f[f["channel"] == "all"]
    now = f[f["period"] == review.periods.review].set_index("stage")
    before = f[f["period"] == review.periods.comparison].set_index("stage")
    stages = f.sort_values("step").drop_duplicates("stage")
    worst = None
    for row in now[now["step"] > 1].itertuples():
        stage = row.Index
        benchmark = settings.funnel_benchmarks.get(stage)
        reference = benchmark if benchmark is not None else (
            float(before.loc[stage, "step_conversion"]) if stage in before.index else np.nan)
        gap = float(row.step_conversion) - reference
        if np.isfinite(gap) and gap < 0 and (worst is None or gap < worst[1]):
            worst = (stage, gap, reference, float(row.step_conversion), benchmark is not None, int(row.step))
    if worst is None:
        return []
    stage, gap, reference, rate, benchmarked, step = worst
    previous = stages.loc[stages["step"] == step - 1, "stage"].iloc[0]
    names = [(term("zh", FUNNEL_STAGES, s), term("en", FUNNEL_STAGES, s)) for s in (previous, stage)]
    against = ("基准", "the benchmark") if benchmarked else (f" {review.periods.comparison} 的", review.periods.comparison)
    kpi = funnel_kpi(review.tree, stage, settings, headline)
    node = review.tree.nodes.get(kpi)
    unit = node.unit if node else "all"
    pp = abs(gap) * 100
    return [Candidate(
        "funnel_step", 1, "funnel_step", (kpi, unit), kpi, unit,
        (f"漏斗「{names[0][0]} → {names[1][0]}」步骤转化率 {rate:.1%}，低于{against[0]} {reference:.1%}（-{pp:.1f} 个百分点）",
         f"funnel step {names[0][1]} → {names[1][1]} converts {rate:.1%}, {pp:.1f} pp below {against[1]} "
         f"({reference:.1%})"),
        (f"排查「{names[0][0]} → {names[1][0]}」环节的流失原因并改进",
         f"find why visitors drop between {names[0][1]} and {names[1][1]} and fix it"),
        float(gap))]


def overdue_actions(review: KpiReview) -> list[Candidate]:
    """Overdue actions of the current action log, carried over under their own ids: the most days overdue first."""
    a = review.actions
    if a is None or a.empty or "overdue" not in a:
        return []
    late = a[a["overdue"].fillna(False).astype(bool)].copy()
    late["_due"] = pd.to_datetime(late["due"], errors="coerce")
    late = late.sort_values(["_due", "action_id"])
    out = []
    for rank, row in enumerate(late.to_dict("records"), start=1):
        node = review.tree.nodes.get(row["kpi"])
        unit = row.get("unit") if isinstance(row.get("unit"), str) and row.get("unit") else (
            node.unit if node else "all")
        days = (review.periods.as_of - row["_due"].date()).days if pd.notna(row["_due"]) else 0
        text = str(row.get("action") or "").strip() or MISSING
        out.append(Candidate(
            "overdue", rank, "overdue", ("carried", str(row["action_id"])), row["kpi"], unit,
            (f"行动「{text}」逾期 {days} 天（原截止 {row['due']}）",
             f"action \"{text}\" is overdue by {days} days (was due {row['due']})"),
            ("确认新的截止日期与所需支持", "confirm a new due date and the support it needs"),
            float(days), carried={"action_id": row["action_id"], "owner": row.get("owner")}))
    return out


def owner_of(tree: KpiTree, kpi: str, unit: str, unit_owners: dict[str, str]) -> tuple[str | None, str]:
    """Who answers for an action on ``kpi`` at ``unit``, and where that came from: ``unit_owners`` (a region or
    store), a tree node of that KPI scoped to the unit, the KPI's owner, its strategic goal's owner.

    >>> from digiops.kpi.tree import parse_tree
    >>> tree = parse_tree({"strategic_goals": [{"id": "g", "name_zh": "增长", "name_en": "Growth", "owner": "总经理"}],
    ...     "kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "goal": "g"}]}, "t.yaml")
    >>> owner_of(tree, "gmv", "华南", {"华南": "华南大区经理 梁晓东"}), owner_of(tree, "gmv", "all", {})
    (('华南大区经理 梁晓东', 'unit_owners'), ('总经理', 'goal'))
    """
    if unit != "all" and unit_owners.get(unit):
        return unit_owners[unit], "unit_owners"
    node = tree.nodes.get(kpi)
    if node is None:
        return None, "none"
    for child in node.children:
        scoped = tree.nodes[child]
        if scoped.unit == unit and unit != node.unit and scoped.owner:
            return scoped.owner, "kpi_tree"
    if node.owner:
        return node.owner, "kpi_tree"
    goal = tree.goals.get(tree.root_goal(kpi) or "")
    return (goal.owner, "goal") if goal and goal.owner else (None, "none")


def _target(review: KpiReview, kpi: str, unit: str, periods: tuple[str, ...]) -> tuple[float, str | None]:
    t = review.targets
    for period in periods:
        rows = t[(t["kpi"] == kpi) & (t["unit"] == unit) & (t["period"] == period)]["target"].dropna()
        if len(rows):
            return float(rows.iloc[0]), period
    return float("nan"), None


def propose(review: KpiReview, settings: NextActionsSettings | None = None, *, online_unit: str = "online"
            ) -> pd.DataFrame:
    """The register of actions proposed for the next cycle (columns :data:`NEXT_COLUMNS`), most important first
    (the rule is in the module docstring)."""
    settings = settings or NextActionsSettings()
    headline = review.headline_kpi
    found: dict[str, list[Candidate]] = {
        "red_kpi": red_kpis(review, settings.red_levels, online_unit),
        "variance": variance_drivers(review, headline, settings.min_driver_share, online_unit),
        "funnel_step": funnel_step(review, settings, headline),
        "overdue": overdue_actions(review)}
    order = {family: i for i, family in enumerate(NEXT_ACTION_TRIGGERS)}
    merged: dict[tuple[str, str], list[Candidate]] = {}
    for family in NEXT_ACTION_TRIGGERS:
        if family not in settings.triggers:
            continue
        for candidate in found[family]:
            merged.setdefault(candidate.key, []).append(candidate)
    periods = review.periods
    target_period = next_month(periods.review)
    due = due_date(periods.review, periods.as_of, settings.due_days).isoformat()
    value = actual_by_key(review.actuals)
    rows = []
    for key, found_here in merged.items():
        found_here.sort(key=lambda c: (c.rank, order[c.family]))
        first = found_here[0]
        kpi, unit = first.kpi, first.unit
        measure = review.tree.nodes[kpi].measure if kpi in review.tree.nodes else ""
        target, t_period = _target(review, kpi, unit, (target_period, periods.review))
        if first.carried:
            action_id = str(first.carried["action_id"])
            owner = first.carried.get("owner")
            owner, source = (owner, "action_log") if isinstance(owner, str) and owner.strip() else owner_of(
                review.tree, kpi, unit, settings.unit_owners)
        else:
            action_id = f"N-{periods.review}-{kpi}-{'_'.join(str(unit).split())}"
            owner, source = owner_of(review.tree, kpi, unit, settings.unit_owners)
        texts = []
        for lang in (0, 1):
            findings = ("；" if lang == 0 else "; ").join(c.finding[lang] for c in found_here)
            texts.append(findings + ("：" if lang == 0 else ": ") + first.step[lang])
        target_text = "" if not np.isfinite(target) else (f"，{t_period} 目标 {shown(target, measure)}",
                                                         f"; {t_period} target {shown(target, measure)}")
        if target_text:
            texts = [texts[0] + target_text[0], texts[1] + target_text[1]]
        rows.append({
            "action_id": action_id, "_rank": first.rank * len(order) + order[first.family], "trigger": first.trigger,
            "triggers": ",".join(dict.fromkeys(c.trigger for c in found_here)), "kpi": kpi, "unit": unit,
            "action_zh": texts[0] + "。", "action_en": texts[1][:1].upper() + texts[1][1:] + ".",
            "owner": owner, "owner_source": source, "due": due, "period": periods.review,
            "baseline": float(value.get((kpi, unit, periods.review), np.nan)), "target_period": t_period,
            "target": target, "created_at": periods.as_of.isoformat(), "status": PROPOSED,
            "trigger_value": first.value})
    frame = pd.DataFrame(rows, columns=[*NEXT_COLUMNS, "_rank"])
    frame = frame.sort_values(["_rank", "action_id"]).head(settings.max_actions).reset_index(drop=True)
    frame["priority"] = range(1, len(frame) + 1)
    return frame[NEXT_COLUMNS]


def action_log(actions: pd.DataFrame | None, proposals: pd.DataFrame | None, tree: KpiTree, *,
               notes: list[tuple[str, str]] | None = None) -> pd.DataFrame | None:
    """The action log a review measures: the client's action source (canonical ``actions`` frame) and the previous
    run's register (``actions_next.parquet``), with ``origin`` saying where each came from.

    A proposal becomes an action with status ``proposed``, its text (``action`` in Chinese, ``action_en`` in
    English: the report picks its language), ``unit``, ``period_from`` and
    ``baseline`` (the value it was proposed against). An id in both takes the client's row (origin
    ``register_updated``): their action, owner, due date and status win wherever they give one, and the proposal's
    unit and baseline stay while the KPI is the same. A proposal whose KPI the tree no longer has is left out
    (``notes`` says so). ``None`` when there is neither.
    """
    if proposals is None or proposals.empty:
        return None if actions is None else actions.assign(origin="action_log")
    proposals = proposals.copy()
    gone = ~proposals["kpi"].isin(tree.nodes)
    if gone.any() and notes is not None:
        ids = ", ".join(proposals.loc[gone, "action_id"].astype(str))
        notes.append((f"上次复盘提议的行动 {ids} 所关联的指标已不在指标树中，未纳入本次行动闭环。",
                      f"Actions {ids} proposed by the previous review refer to KPIs no longer in the tree; they are "
                      "left out of this action log."))
    proposals = proposals[~gone]
    carried = pd.DataFrame({
        "action_id": proposals["action_id"].astype(str),
        "action": proposals["action_zh"], "action_en": proposals["action_en"],
        "owner": proposals["owner"], "kpi_id": proposals["kpi"], "due": proposals["due"],
        "status": PROPOSED, "created_at": proposals["created_at"], "note": None,
        "unit": proposals["unit"], "period_from": proposals["period"], "baseline": proposals["baseline"],
        "origin": "register"})
    if actions is None or actions.empty:
        return carried.reset_index(drop=True)
    client = actions.assign(origin="action_log")
    ids = client["action_id"].astype(str).str.strip()
    by_id = carried.set_index("action_id")
    updated = []
    for index, record in client.iterrows():
        action_id = ids[index]
        if action_id not in by_id.index:
            continue
        proposal = by_id.loc[action_id]
        for column in ("action", "owner", "due", "status", "created_at"):
            if given(record.get(column)) is None:
                client.at[index, column] = proposal[column]
                if column == "action":  # the proposal's own text: the report can show it in English too
                    client.at[index, "action_en"] = proposal["action_en"]
        if str(record.get("kpi_id") or "").strip() in ("", proposal["kpi_id"]):
            client.at[index, "kpi_id"] = proposal["kpi_id"]
            for column in ("unit", "period_from", "baseline"):
                client.at[index, column] = proposal[column]
        client.at[index, "origin"] = "register_updated"
        updated.append(action_id)
    rest = carried[~carried["action_id"].isin(updated)]
    return pd.concat([client, rest], ignore_index=True)


#: The register's XLSX columns: field → (zh header, en header, kind). The headers of the action source's fields are
#: the demo action log's, so the file can come back as the client's action log with the same column mapping.
WORKBOOK_COLUMNS = {
    "action_id": ("行动编号", "Action id", "text"), "priority": ("优先级", "Priority", "integer"),
    "action": ("行动项", "Action", "text"), "owner": ("负责人", "Owner", "text"),
    "kpi": ("关联指标", "KPI id", "text"), "kpi_name": ("指标名称", "KPI", "text"), "unit": ("单元", "Unit", "text"),
    "period": ("基线月份", "Baseline month", "text"), "baseline": ("基线值", "Baseline", "measure"),
    "target_period": ("目标月份", "Target month", "text"), "target": ("目标值", "Target", "measure"),
    "due": ("截止日期", "Due", "date"), "status": ("状态", "Status", "text"),
    "created_at": ("创建日期", "Created", "date"), "trigger": ("触发原因", "Trigger", "text"),
    "note": ("备注", "Note", "text")}
STATUS_NAMES = {PROPOSED: ("提议", "proposed")}
#: Where an action of the action log came from (``actions.origin``) → words.
ORIGIN_NAMES = {"action_log": ("客户行动记录", "client's action log"),
                "register": ("上次复盘提议", "proposed by the previous review"),
                "register_updated": ("上次提议 · 客户已更新", "proposed, updated by the client")}


def _number_format(measure: str) -> str:
    if measure == "%":
        return "0.00%"
    if "元" in measure:
        return "#,##0.00"
    return "#,##0.##"


def register_workbook(register: pd.DataFrame, tree: KpiTree, *, language: str = "zh") -> bytes:
    """``actions_next.xlsx``: one sheet, a bold header row that stays in view (frozen) with a filter, numbers as
    numbers (baseline and target in their KPI's format), dates as dates, the action in ``language``.

    A text a spreadsheet would run as a formula (:data:`digiops.io.FORMULA_PREFIXES`) is written as text with
    Excel's own quote prefix: shown and read back as it is, never run (as ``review_pairs.xlsx`` does).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = in_language(language, "下一周期行动", "Next actions")
    columns = list(WORKBOOK_COLUMNS)
    for j, column in enumerate(columns, start=1):
        zh, en, _ = WORKBOOK_COLUMNS[column]
        cell = sheet.cell(1, j, in_language(language, zh, en))
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    widths = {j: 2 * len(in_language(language, *WORKBOOK_COLUMNS[c][:2])) + 4 for j, c in enumerate(columns, 1)}
    for i, record in enumerate(register.to_dict("records"), start=2):
        node = tree.nodes.get(record["kpi"])
        values = dict(record, action=record["action_zh" if language == "zh" else "action_en"],
                      kpi_name=node.name(language) if node else record["kpi"],
                      status=term(language, STATUS_NAMES, record["status"]),
                      trigger="、".join(term(language, TRIGGER_NAMES, t) for t in str(record["triggers"]).split(","))
                      if language == "zh" else ", ".join(term(language, TRIGGER_NAMES, t)
                                                         for t in str(record["triggers"]).split(",")),
                      note=None)
        for j, column in enumerate(columns, start=1):
            kind = WORKBOOK_COLUMNS[column][2]
            value = values.get(column)
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                continue
            cell = sheet.cell(i, j)
            if kind == "date":
                cell.value = dt.date.fromisoformat(str(value)[:10])
                cell.number_format = "yyyy-mm-dd"
            elif kind == "integer":
                cell.value = int(value)
            elif kind == "measure":
                cell.value = float(value)
                cell.number_format = _number_format(node.measure if node else "")
            else:
                cell.value = str(value)
                cell.data_type = "s"
                if cell.value.startswith(io.FORMULA_PREFIXES):
                    cell.quotePrefix = True
            widths[j] = max(widths[j], min(len(str(value)) * (2 if column in ("action", "owner") else 1) + 2, 60))
    for j, width in widths.items():
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(len(register), 1) + 1}"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def trigger_counts(register: pd.DataFrame) -> dict[str, int]:
    """How many proposed actions each trigger found (an action found by two triggers counts for both), in the order
    of :data:`TRIGGER_NAMES`."""
    counts = {code: 0 for code in TRIGGER_NAMES}
    for triggers in register["triggers"].dropna():
        for code in str(triggers).split(","):
            counts[code] = counts.get(code, 0) + 1
    return {code: n for code, n in counts.items() if n}


__all__ = ["NEXT_COLUMNS", "ORIGINS", "ORIGIN_NAMES", "PROPOSED", "STATUS_NAMES", "TRIGGER_NAMES", "WORKBOOK_COLUMNS", "action_log",
           "due_date", "month_end", "owner_of", "propose", "register_workbook", "trigger_counts"]
