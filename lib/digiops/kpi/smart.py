"""SMART checks per goal (seed 004 §1.2), one function per letter, each returning a :class:`Finding`.

* Specific — the KPI has a business definition (口径) and an owner.
* Measurable — its formula resolves to data: it has actuals (from its source, or from its children).
* Achievable — the target's growth over the last actual lies within the spread (min … max) of the KPI's own
  historical month-over-month growth; with fewer than ``min_history`` growth figures, within ± ``bound``.
* Relevant — it is linked to a parent (a KPI or a strategic goal) and walking up reaches a strategic goal.
* Time-bound — it has a deadline, or targets for given months.

A finding is a reason code and the figures behind it, never a sentence: ``smart_checks.parquet`` reads the same in
every language, and :func:`digiops.kpi.report.smart_finding` words it (:data:`digiops.text.SMART_FINDINGS`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from digiops.kpi.tree import KpiNode, KpiTree

SMART_COLUMNS = ["kpi", "criterion", "passed", "reason", "detail", "goal", "months", "growth", "low", "high",
                 "period_from", "period_to"]
CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``reason`` (a code of :data:`digiops.text.SMART_FINDINGS`) and its figures.

    ``detail`` is the client's own text the finding names (owner, formula, parent KPIs, deadline); ``goal`` the
    strategic goal's id; ``months`` the months with actuals; ``growth`` the target's growth over the last actual,
    judged against ``low`` … ``high`` (the historical range, or ∓ the bound); ``period_from`` / ``period_to`` the
    months it spans (the last actual's and the target's; the first and last month with a target).
    """

    passed: bool
    reason: str
    detail: str | None = None
    goal: str | None = None
    months: int | None = None
    growth: float | None = None
    low: float | None = None
    high: float | None = None
    period_from: str | None = None
    period_to: str | None = None


def check_specific(node: KpiNode) -> Finding:
    """``defined`` (``detail``: the owner), or what is missing: ``no_definition``, ``no_owner`` or both."""
    definition, owner = bool((node.definition or "").strip()), bool((node.owner or "").strip())
    if definition and owner:
        return Finding(True, "defined", detail=node.owner)
    return Finding(False, "no_owner" if definition else "no_definition" if owner else "no_definition_or_owner")


def check_measurable(node: KpiNode, actuals: pd.DataFrame) -> Finding:
    """``actuals`` (``months``), ``no_data`` (``detail``: the formula that resolves to nothing) or ``no_formula``."""
    own = actuals[(actuals["kpi"] == node.id) & (actuals["unit"] == node.unit)].dropna(subset=["actual"])
    if own.empty:
        how = (node.source.metric or f"{node.source.file}.{node.source.column}") if node.source else \
            f"{node.combine}({', '.join(node.children)})" if node.children else None
        if how is None:
            return Finding(False, "no_formula")
        return Finding(False, "no_data", detail=how)
    return Finding(True, "actuals", months=len(own))


def check_achievable(node: KpiNode, actuals: pd.DataFrame, targets: pd.DataFrame, period: str, *,
                     bound: float, min_history: int) -> Finding:
    """``within_history`` / ``outside_history`` (``growth`` against the historical ``low`` … ``high``),
    ``within_bound`` / ``outside_bound`` (against ∓ ``bound``), ``no_target`` or ``no_base``."""
    series = actuals[(actuals["kpi"] == node.id) & (actuals["unit"] == node.unit)].set_index("period")["actual"]
    series = series[~series.index.duplicated()].sort_index()
    own_targets = targets[(targets["kpi"] == node.id) & (targets["unit"] == node.unit)]
    if own_targets.empty:
        return Finding(False, "no_target")
    own_targets = own_targets.assign(period=own_targets["period"].astype("str"))
    target_row = own_targets[own_targets["period"] == period]
    if target_row.empty:
        later = own_targets[own_targets["period"] >= period].sort_values("period")
        target_row = later.head(1) if len(later) else own_targets.sort_values("period").tail(1)
    if target_row.empty:
        return Finding(False, "no_target")
    target, target_period = float(target_row["target"].iloc[0]), target_row["period"].iloc[0]
    before = series[series.index < target_period].dropna()
    if before.empty or before.iloc[-1] <= 0:
        return Finding(False, "no_base", period_to=target_period)
    growth = target / float(before.iloc[-1]) - 1
    history = before.pct_change().replace([np.inf, -np.inf], np.nan).dropna()
    span = {"growth": growth, "period_from": str(before.index[-1]), "period_to": target_period}
    if len(history) >= min_history:
        low, high = float(history.min()), float(history.max())
        passed = low <= growth <= high
        return Finding(passed, "within_history" if passed else "outside_history", low=low, high=high, **span)
    passed = abs(growth) <= bound
    return Finding(passed, "within_bound" if passed else "outside_bound", low=-bound, high=bound, **span)


def check_relevant(node: KpiNode, tree: KpiTree) -> Finding:
    """``goal`` (``goal``: the strategic goal reached; ``detail``: the parent KPIs), ``no_goal`` or ``unlinked``."""
    parents = tree.parents(node.id)
    if not parents and not node.goal:
        return Finding(False, "unlinked")
    goal = tree.root_goal(node.id)
    if goal is None:
        return Finding(False, "no_goal", detail=", ".join(parents))
    return Finding(True, "goal", detail=", ".join(parents), goal=goal)


def check_time_bound(node: KpiNode, targets: pd.DataFrame) -> Finding:
    """``deadline`` (``detail``), ``monthly_targets`` (``period_from`` … ``period_to``) or ``no_deadline``."""
    periods = sorted(targets.loc[targets["kpi"] == node.id, "period"].unique())
    if node.deadline:
        return Finding(True, "deadline", detail=str(node.deadline))
    if periods:
        return Finding(True, "monthly_targets", period_from=str(periods[0]), period_to=str(periods[-1]))
    return Finding(False, "no_deadline")


def smart_checks(tree: KpiTree, actuals: pd.DataFrame, targets: pd.DataFrame, period: str, *, bound: float = 0.3,
                 min_history: int = 3) -> pd.DataFrame:
    """Five rows per KPI (columns :data:`SMART_COLUMNS`): the criterion, whether it passed, the reason code and the
    figures behind it (:class:`Finding`)."""
    rows = []
    for node in tree.nodes.values():
        results = {
            "specific": check_specific(node),
            "measurable": check_measurable(node, actuals),
            "achievable": check_achievable(node, actuals, targets, period, bound=bound, min_history=min_history),
            "relevant": check_relevant(node, tree),
            "time_bound": check_time_bound(node, targets),
        }
        rows.extend({"kpi": node.id, "criterion": criterion, **asdict(finding)}
                    for criterion, finding in results.items())
    frame = pd.DataFrame(rows, columns=SMART_COLUMNS)
    return frame.astype({"passed": "bool", "months": "Int64", "growth": "float64", "low": "float64",
                         "high": "float64"})
