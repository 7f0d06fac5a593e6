"""SMART checks per goal (seed 004 §1.2), one function per letter, each returning ``(passed, finding)``.

* Specific — the KPI has a business definition (口径) and an owner.
* Measurable — its formula resolves to data: it has actuals (from its source, or from its children).
* Achievable — the target's growth over the last actual lies within the spread (min … max) of the KPI's own
  historical month-over-month growth; with fewer than ``min_history`` growth figures, within ± ``bound``.
* Relevant — it is linked to a parent (a KPI or a strategic goal) and walking up reaches a strategic goal.
* Time-bound — it has a deadline, or targets for given months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.kpi.tree import KpiNode, KpiTree
from digiops.i18n import in_language as _t

SMART_COLUMNS = ["kpi", "name", "criterion", "passed", "finding"]
CRITERIA = ("specific", "measurable", "achievable", "relevant", "time_bound")



def check_specific(node: KpiNode, language: str = "en") -> tuple[bool, str]:
    missing = [name for name, value in ((_t(language, "口径定义", "definition"), node.definition),
                                        (_t(language, "负责人", "owner"), node.owner)) if not (value or "").strip()]
    if missing:
        return False, _t(language, f"缺少{'、'.join(missing)}", f"missing {' and '.join(missing)}")
    return True, _t(language, f"口径已定义，负责人：{node.owner}", f"defined; owner {node.owner}")


def check_measurable(node: KpiNode, actuals: pd.DataFrame, language: str = "en") -> tuple[bool, str]:
    own = actuals[(actuals["kpi"] == node.id) & (actuals["unit"] == node.unit)].dropna(subset=["actual"])
    if own.empty:
        how = (node.source.metric or f"{node.source.file}.{node.source.column}") if node.source else \
            f"{node.combine}({', '.join(node.children)})" if node.children else None
        if how is None:
            return False, _t(language, "既无数据来源也无子指标，无法计算", "no data source and no children: cannot be "
                             "computed")
        return False, _t(language, f"公式 {how} 没有取到数据", f"formula {how} resolves to no data")
    return True, _t(language, f"有 {len(own)} 个月的实际值", f"actuals for {len(own)} months")


def check_achievable(node: KpiNode, actuals: pd.DataFrame, targets: pd.DataFrame, period: str, *,
                     bound: float, min_history: int, language: str = "en") -> tuple[bool, str]:
    series = actuals[(actuals["kpi"] == node.id) & (actuals["unit"] == node.unit)].set_index("period")["actual"]
    series = series[~series.index.duplicated()].sort_index()
    own_targets = targets[(targets["kpi"] == node.id) & (targets["unit"] == node.unit)]
    if own_targets.empty:
        return False, _t(language, "没有目标值，无法判断", "no target to judge")
    own_targets = own_targets.assign(period=own_targets["period"].astype("str"))
    target_row = own_targets[own_targets["period"] == period]
    if target_row.empty:
        later = own_targets[own_targets["period"] >= period].sort_values("period")
        target_row = later.head(1) if len(later) else own_targets.sort_values("period").tail(1)
    if target_row.empty:
        return False, _t(language, "没有目标值，无法判断", "no target to judge")
    target, target_period = float(target_row["target"].iloc[0]), target_row["period"].iloc[0]
    before = series[series.index < target_period].dropna()
    if before.empty or before.iloc[-1] <= 0:
        return False, _t(language, "目标期之前没有可比的实际值", "no earlier positive actual to grow from")
    growth = target / float(before.iloc[-1]) - 1
    history = before.pct_change().replace([np.inf, -np.inf], np.nan).dropna()
    if len(history) >= min_history:
        low, high = float(history.min()), float(history.max())
        passed = low <= growth <= high
        return passed, _t(language,
                          f"{target_period} 目标增长 {growth:+.1%}，历史环比区间 {low:+.1%} ~ {high:+.1%}"
                          + ("" if passed else "，超出历史区间"),
                          f"{target_period} target growth {growth:+.1%}; historical month-over-month range "
                          f"{low:+.1%} to {high:+.1%}" + ("" if passed else ": outside it"))
    passed = abs(growth) <= bound
    return passed, _t(language, f"{target_period} 目标增长 {growth:+.1%}，历史不足，按上限 ±{bound:.0%} 判断",
                      f"{target_period} target growth {growth:+.1%}; too little history, judged against the "
                      f"bound ±{bound:.0%}")


def check_relevant(node: KpiNode, tree: KpiTree, language: str = "en") -> tuple[bool, str]:
    parents = tree.parents(node.id)
    if not parents and not node.goal:
        return False, _t(language, "没有上级指标或战略目标", "linked to no parent KPI or strategic goal")
    goal = tree.root_goal(node.id)
    if goal is None:
        return False, _t(language, f"上级 {', '.join(parents)} 未归属任何战略目标",
                         f"parents {', '.join(parents)} root in no strategic goal")
    name = tree.goals[goal].name_zh if language == "zh" else tree.goals[goal].name_en
    via = f" ← {', '.join(parents)}" if parents else ""
    return True, _t(language, f"服务于战略目标「{name}」{via}", f"serves strategic goal '{name}'{via}")


def check_time_bound(node: KpiNode, targets: pd.DataFrame, language: str = "en") -> tuple[bool, str]:
    periods = sorted(targets.loc[targets["kpi"] == node.id, "period"].unique())
    if node.deadline:
        return True, _t(language, f"截止日期 {node.deadline}", f"deadline {node.deadline}")
    if periods:
        return True, _t(language, f"按月目标 {periods[0]} ~ {periods[-1]}", f"monthly targets {periods[0]} to "
                        f"{periods[-1]}")
    return False, _t(language, "既无截止日期也无按期目标", "neither a deadline nor targets for given periods")


def smart_checks(tree: KpiTree, actuals: pd.DataFrame, targets: pd.DataFrame, period: str, *, bound: float = 0.3,
                 min_history: int = 3, language: str = "en") -> pd.DataFrame:
    """Five rows per KPI: ``kpi, name, criterion, passed, finding``."""
    rows = []
    for node in tree.nodes.values():
        results = {
            "specific": check_specific(node, language),
            "measurable": check_measurable(node, actuals, language),
            "achievable": check_achievable(node, actuals, targets, period, bound=bound, min_history=min_history,
                                           language=language),
            "relevant": check_relevant(node, tree, language),
            "time_bound": check_time_bound(node, targets, language),
        }
        for criterion, (passed, finding) in results.items():
            rows.append({"kpi": node.id, "name": node.name(language), "criterion": criterion, "passed": passed,
                         "finding": finding})
    return pd.DataFrame(rows, columns=SMART_COLUMNS)
