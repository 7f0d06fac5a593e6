"""Tables and sentences of the KPI report, bilingual, built from a :class:`~digiops.kpi.review.KpiReview`.

Each function returns one thing a notebook cell displays; nothing here computes a figure that is not already in the
review's tables. The review holds codes (status, criterion, finding, variance method); the words come from
:mod:`digiops.text`, in the ``language`` each function is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.context import md_text
from digiops.kpi.cascade import incoherences
from digiops.kpi.charts import format_value
from digiops.kpi.funnel import worst_drop_off
from digiops.kpi.register import ORIGIN_NAMES, STATUS_NAMES, trigger_counts
from digiops.kpi.review import KpiReview
from digiops.kpi.tree import KpiTree
from digiops.masking import mask_owner, mask_text
from digiops.text import (FUNNEL_STAGES, INITIATIVE_STATUS, KPI_LEVELS, KPI_STATUS, MISSING, SMART_CRITERIA,
                          SMART_FINDINGS, STATUS_COLOURS, STATUS_MARKS, TRIGGER_NAMES, VARIANCE_METHODS, in_language,
                          term)


def status_name(status: str, language: str) -> str:
    """A KPI status with its mark, as the report's tables show it.

    >>> status_name("amber", "zh"), status_name("none", "en")
    ('▲ 预警', '– no target')
    """
    return f"{STATUS_MARKS.get(status, '–')} {term(language, KPI_STATUS, status)}"


def _tint(colour: str, share: float = 0.15) -> str:
    """``colour`` (``#rrggbb``) mixed with white: a background light enough for black text."""
    channels = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(share * c + (1 - share) * 255):02x}" for c in channels)


_MARKED = {mark: status for status, mark in STATUS_MARKS.items() if status != "none"}


def status_style(cell: object) -> str:
    """The CSS of a table cell that shows a KPI status mark (:func:`status_name`, :func:`kpi_matrix`): a light
    background in the status colour (:data:`~digiops.text.STATUS_COLOURS`); nothing for any other cell.

    The cell's text stays plain (tables are escaped, so a badge cannot be markup); this is for ``Styler.map``:
    ``report.kpi_matrix(review, language).style.map(report.status_style)``.

    >>> status_style("■ 未达成"), status_style("31.0万 / 36.0万 ▲"), status_style("– no target"), status_style(3)
    ('background-color: #f6dfdf', 'background-color: #fef2de', '', '')
    """
    text = str(cell).strip()
    marks = (text[:1] if text[1:2] == " " else "", text[-1:] if text[-2:-1] == " " else "")  # "● met", "… / … ●"
    status = next((_MARKED[mark] for mark in marks if mark in _MARKED), None)
    return f"background-color: {_tint(STATUS_COLOURS[status])}" if status else ""


def unit_name(unit: str, language: str) -> str:
    """A unit as a reader sees it: the whole business (``all``) in words, a region or store by its own name.

    >>> unit_name("all", "zh"), unit_name("华东", "en")
    ('全部', '华东')
    """
    return term(language, KPI_LEVELS, unit) if unit == "all" else unit


def money(value: float) -> str:
    """A signed amount in yuan with the sign before the currency: ``-¥42,577.00``, ``+¥1,200.00``."""
    return f"{'-' if value < 0 else '+'}¥{abs(value):,.2f}"


def _name(review: KpiReview, kpi: str, language: str) -> str:
    node = review.tree.nodes.get(kpi)
    return node.name(language) if node else kpi


def headline_markdown(review: KpiReview) -> tuple[str, str]:
    """The three headline sentences: GMV vs target, the main driver, the run-rate (zh, en)."""
    h = review.headline("gmv")
    zh, en = [], []
    if "gmv_actual" in h and h["gmv_actual"] is None:
        zh.append(f"- **GMV {h['review_period']}**：复盘月份没有订单数据")
        en.append(f"- **GMV {h['review_period']}**: no order data in the reviewed month")
    elif "gmv_actual" in h:
        actual = float(h["gmv_actual"])
        target = h.get("gmv_target")
        status = status_name(h["gmv_status"], "zh"), status_name(h["gmv_status"], "en")
        if target:
            zh.append(f"- **GMV {h['review_period']}**：实际 ¥{actual:,.2f}，目标 ¥{target:,.0f}，"
                      f"达成 {h['gmv_attainment']:.1%} {status[0]}")
            en.append(f"- **GMV {h['review_period']}**: actual ¥{actual:,.2f}, target ¥{target:,.0f}, "
                      f"attainment {h['gmv_attainment']:.1%} {status[1]}")
        else:
            zh.append(f"- **GMV {h['review_period']}**：实际 ¥{actual:,.2f}（无目标）")
            en.append(f"- **GMV {h['review_period']}**: actual ¥{actual:,.2f} (no target)")
    if "main_driver" in h:
        region = md_text(h.get("main_region", ""))  # names from the client's tree and data: Markdown-escaped
        zh.append(f"- 较 {h['comparison_period']} 变动 {money(h['gmv_change'])}，主要驱动因素："
                  f"**{md_text(_name(review, h['main_driver'], 'zh'))}**（{h['main_driver_contribution']:+,.0f}）"
                  + (f"，变动最大的大区：**{region}**" if "main_region" in h else ""))
        en.append(f"- Change since {h['comparison_period']}: {money(h['gmv_change'])}; main driver "
                  f"**{md_text(_name(review, h['main_driver'], 'en'))}** ({h['main_driver_contribution']:+,.0f})"
                  + (f"; region that moved most: **{region}**" if "main_region" in h else ""))
    if h.get("runrate_projection") is not None:
        required = h.get("runrate_required_daily")
        zh.append(f"- {h['runrate_period']} 按当前日均推算月末 ¥{h['runrate_projection']:,.0f}"
                  + (f"，达成目标需日均 ¥{required:,.0f}" if required is not None else ""))
        en.append(f"- {h['runrate_period']} projected to month end at ¥{h['runrate_projection']:,.0f}"
                  + (f"; reaching the target needs ¥{required:,.0f} a day" if required is not None else ""))
    zh.append(f"- SMART 检查未通过 {h['smart_failures']} 项")
    en.append(f"- {h['smart_failures']} SMART checks fail")
    return "\n".join(zh), "\n".join(en)


def unit_attainment(review: KpiReview, kpi: str, level: str) -> pd.DataFrame:
    a = review.attainment
    return a[(a["kpi"] == kpi) & (a["level"] == level) & (a["period"] == review.periods.review)]


def kpi_matrix(review: KpiReview, language: str) -> pd.DataFrame:
    """Every KPI × (all + regions) in the review month: actual, target and status in one cell."""
    a = review.attainment[(review.attainment["period"] == review.periods.review)
                          & review.attainment["level"].isin(["all", "region"])]
    rows = []
    for kpi, group in a.groupby("kpi", sort=False):
        node = review.tree.nodes[kpi]
        row = {in_language(language, "指标", "KPI"): node.name(language)}
        for item in group.itertuples(index=False):
            cell = format_value(item.actual, node.measure, language=language)
            if np.isfinite(item.attainment):
                cell += f" / {format_value(item.target, node.measure, language=language)} {STATUS_MARKS[item.status]}"
            row[unit_name(item.unit, language)] = cell
        rows.append(row)
    order = [n for n in review.tree.nodes]
    frame = pd.DataFrame(rows, columns=[in_language(language, "指标", "KPI")] if not rows else None)
    frame["_o"] = [order.index(next(k for k in order if review.tree.nodes[k].name(language) == r))
                   for r in frame.iloc[:, 0]]
    return frame.sort_values("_o").drop(columns="_o").fillna("–")


def factor_steps(review: KpiReview, kpi: str, breakdown: str, language: str
                 ) -> tuple[float, list[tuple[str, float]], float]:
    """Start value, (label, contribution) steps and end value of a waterfall."""
    v = review.variance
    rows = v[(v["kpi"] == kpi) & (v["unit"] == review.tree.nodes[kpi].unit) & (v["breakdown"] == breakdown)]
    a = review.actuals.set_index(["kpi", "unit", "period"])["actual"]
    unit = review.tree.nodes[kpi].unit
    start = float(a.get((kpi, unit, review.periods.comparison), np.nan))
    end = float(a.get((kpi, unit, review.periods.review), np.nan))
    label = (lambda i: _name(review, i, language)) if breakdown == "factor" else (lambda i: i)
    steps = [(label(r.item), float(r.contribution)) for r in rows.itertuples(index=False)
             if np.isfinite(r.contribution)]
    return start, steps, end


def variance_notes(review: KpiReview, language: str) -> list[str]:
    """How zero / negative / missing values were handled, one sentence per affected KPI and unit."""
    v = review.variance
    special = v[v["method"].isin(["zero_limit", "zero_both", "shapley", "missing"])]
    out = []
    for (kpi, unit, method), _ in special.groupby(["kpi", "unit", "method"]):
        name, unit = md_text(_name(review, kpi, language)), md_text(unit)
        note = term(language, VARIANCE_METHODS, method)
        out.append(in_language(language, f"> **{name} · {unit}**：{note}", f"> **{name} · {unit}**: {note}"))
    if not out:
        out.append(in_language(language, "所有因子两期均为正数，LMDI 分解直接适用，各因子贡献之和精确等于总变化。",
                               "Every factor is positive in both months, so LMDI applies directly; the contributions "
                               "sum exactly to the change."))
    return out


def mix_table(review: KpiReview, language: str) -> pd.DataFrame:
    """Inner and mix effects per region for the ratio KPIs, each in its KPI's measure (a rate's change in
    percentage points, an amount in yuan)."""
    v = review.variance[review.variance["breakdown"] == "region_mix"]
    if v.empty:
        return pd.DataFrame()
    table = v.pivot_table(index=["kpi", "item"], columns="effect", values="contribution", aggfunc="sum").reset_index()
    for effect in ("inner", "mix"):
        if effect not in table.columns:
            table[effect] = np.nan
    table["total"] = table["inner"].fillna(0) + table["mix"].fillna(0)
    measure = {k: n.measure for k, n in review.tree.nodes.items()}

    def shown(kpi: str, value: float) -> str:
        if pd.isna(value):
            return MISSING
        return f"{value:+.2%}" if measure.get(kpi) == "%" else f"{value:+,.2f}"

    for effect in ("inner", "mix", "total"):
        table[effect] = [shown(k, x) for k, x in zip(table["kpi"], table[effect], strict=True)]
    table["kpi"] = [_name(review, k, language) for k in table["kpi"]]
    names = {"kpi": ("指标", "KPI"), "item": ("大区", "Region"), "inner": ("自身变化", "Own change (inner)"),
             "mix": ("结构变化", "Mix effect"), "total": ("合计", "Total")}
    return table[list(names)].rename(columns={column: in_language(language, *name) for column, name in names.items()})


def funnel_for(review: KpiReview, period: str) -> pd.DataFrame:
    """The all-channel funnel of the cohort entering in ``period`` (or the latest cohort before it)."""
    f = review.funnel[review.funnel["channel"] == "all"]
    periods = sorted(f["period"].unique())
    chosen = period if period in periods else max([q for q in periods if q <= period] or periods)
    return f[f["period"] == chosen]


def funnel_table(table: pd.DataFrame, language: str) -> pd.DataFrame:
    """Funnel rows (``review.funnel``, one cohort) as the report shows them: channel and stage in words (a client's
    own stage or channel name as it is), visitors, conversions and drop-off."""
    names = {"channel": ("渠道", "Channel"), "step": ("步骤", "Step"), "stage": ("阶段", "Stage"),
             "visitors": ("访客数", "Visitors"), "step_conversion": ("步骤转化率", "Step conversion"),
             "overall_conversion": ("整体转化率", "Overall conversion"), "drop_off": ("流失人数", "Drop-off"),
             "drop_off_rate": ("流失率", "Drop-off rate")}
    view = table.assign(channel=table["channel"].map(lambda c: unit_name(c, language)),
                        stage=table["stage"].map(lambda s: term(language, FUNNEL_STAGES, s)))
    return view[list(names)].rename(columns={column: in_language(language, *name) for column, name in names.items()})


def funnel_markdown(review: KpiReview, table: pd.DataFrame, language: str) -> str:
    worst = worst_drop_off(table)
    names = {stage: term(language, FUNNEL_STAGES, stage) if stage in FUNNEL_STAGES else md_text(stage)
             for stage in table["stage"]}  # an unknown stage is client text
    last = table.sort_values("step").iloc[-1]
    if worst is None:
        return ""
    before = table[table["step"] == worst["step"] - 1]["stage"].iloc[0]
    step = f"{names.get(before, before)} → {names.get(worst['stage'], worst['stage'])}"
    end = names.get(last["stage"], last["stage"])
    return in_language(
        language,
        f"流失最严重的一步：**{step}**，步骤转化率 {worst['step_conversion']:.1%}，流失 {int(worst['drop_off']):,} 人；"
        f"整体转化率（{end}）{last['overall_conversion']:.1%}。",
        f"Worst drop-off: **{step}**, step conversion {worst['step_conversion']:.1%}, {int(worst['drop_off']):,} "
        f"visitors lost; overall conversion to {end} {last['overall_conversion']:.1%}.")


def runrate_row(review: KpiReview, kpi: str) -> pd.Series | None:
    rows = review.runrate[(review.runrate["kpi"] == kpi) & (review.runrate["unit"] == "all")]
    return None if rows.empty else rows.iloc[0]


def runrate_table(review: KpiReview, language: str, levels: tuple[str, ...] = ("all", "region")) -> pd.DataFrame:
    """The run-rate of every KPI at the given unit levels, KPI and unit named, money and counts as they are,
    missing targets as ``–`` (the notebook formats the numbers)."""
    r = review.runrate[review.runrate["level"].isin(levels)]
    names = {"kpi": ("指标", "KPI"), "level": ("层级", "Level"), "unit": ("单元", "Unit"),
             "days_elapsed": ("已过天数", "Days elapsed"), "days_left": ("剩余天数", "Days left"),
             "actual_to_date": ("累计实际", "Actual to date"), "average_daily": ("日均", "Daily average"),
             "projection": ("推算月末", "Projection"), "target": ("目标", "Target"), "gap": ("尚差", "Gap"),
             "required_daily": ("需日均", "Required daily"),
             "projected_attainment": ("推算达成率", "Projected attainment")}
    view = r.assign(kpi=[_name(review, k, language) for k in r["kpi"]],
                    level=r["level"].map(lambda level: term(language, KPI_LEVELS, level)),
                    unit=r["unit"].map(lambda u: unit_name(u, language)))
    return view[list(names)].rename(columns={column: in_language(language, *name) for column, name in names.items()})


def runrate_markdown(row: pd.Series, language: str) -> str:
    text = in_language(
        language,
        f"截至 {row['as_of']}（不含）已过 {int(row['days_elapsed'])} 天，实际 ¥{row['actual_to_date']:,.2f}，"
        f"日均 ¥{row['average_daily']:,.2f}；剩余 {int(row['days_left'])} 天，推算月末 ¥{row['projection']:,.2f}。",
        f"Up to {row['as_of']} (exclusive): {int(row['days_elapsed'])} days, actual ¥{row['actual_to_date']:,.2f}, "
        f"¥{row['average_daily']:,.2f} a day; {int(row['days_left'])} days left, projected month end "
        f"¥{row['projection']:,.2f}.")
    if np.isfinite(row["target"]):
        if np.isfinite(row["required_daily"]):
            text += in_language(
                language,
                f" 目标 ¥{row['target']:,.0f}，尚差 ¥{row['gap']:,.2f}，需日均 ¥{row['required_daily']:,.2f}"
                f"（推算达成 {row['projected_attainment']:.1%}）。",
                f" Target ¥{row['target']:,.0f}: ¥{row['gap']:,.2f} to go, ¥{row['required_daily']:,.2f} a day "
                f"needed (projected attainment {row['projected_attainment']:.1%}).")
        else:
            text += in_language(language, " 本月已结束，无需推算日均。", " The month is closed; no daily rate is required.")
    return text


def smart_matrix(review: KpiReview, language: str) -> pd.DataFrame:
    """One row per KPI, one ✓ / × column per SMART criterion."""
    s = review.smart.assign(mark=review.smart["passed"].map({True: "✓", False: "×"}))
    table = s.pivot_table(index="kpi", columns="criterion", values="mark", aggfunc="first").reset_index()
    table = table.set_index("kpi").loc[[k for k in review.tree.nodes if k in set(table["kpi"])]].reset_index()
    table["name"] = [_name(review, k, language) for k in table["kpi"]]
    columns = [c for c in SMART_CRITERIA if c in table.columns]
    table = table[["name", *columns]].rename(columns={c: term(language, SMART_CRITERIA, c) for c in columns})
    return table.rename(columns={"name": in_language(language, "指标", "KPI")})


def smart_failures(review: KpiReview, language: str) -> pd.DataFrame:
    """The SMART checks that fail, with what was found."""
    failed = review.smart[~review.smart["passed"]]
    return pd.DataFrame({in_language(language, "指标", "KPI"): [_name(review, k, language) for k in failed["kpi"]],
                         in_language(language, "检查", "check"): [term(language, SMART_CRITERIA, c)
                                                                  for c in failed["criterion"]],
                         in_language(language, "发现", "finding"): [smart_finding(row, review.tree, language)
                                                                    for _, row in failed.iterrows()]},
                        index=failed.index)


def smart_finding(row: pd.Series, tree: KpiTree, language: str) -> str:
    """A row of ``smart_checks`` (:func:`digiops.kpi.smart.smart_checks`) as the sentence a reader sees."""
    fields = {k: row.get(k) for k in ("detail", "months", "growth", "low", "high", "period_from", "period_to")}
    goal = tree.goals.get(row.get("goal")) if isinstance(row.get("goal"), str) else None
    fields["goal"] = in_language(language, goal.name_zh, goal.name_en) if goal else row.get("goal")
    fields["via"] = f" ← {row['detail']}" if isinstance(row.get("detail"), str) and row["detail"] else ""
    zh, en = SMART_FINDINGS.get(row["reason"], (row["reason"], row["reason"]))
    return in_language(language, zh, en).format(**fields)


def action_table(review: KpiReview, language: str) -> pd.DataFrame:
    """The action log with owners masked and the KPI's move since the action was agreed."""
    a = review.actions.copy()
    measure = {k: n.measure for k, n in review.tree.nodes.items()}
    a["owner"] = a["owner"].map(mask_owner)
    a["kpi"] = [_name(review, k, language) for k in a["kpi"]]
    a["effect"] = [f"{format_value(v0, measure.get(k, ''), language=language)} → "
                   f"{format_value(v1, measure.get(k, ''), language=language)}"
                   + ("" if i is None else (" ✓" if i else " ×"))
                   for k, v0, v1, i in zip(review.actions["kpi"], a["value_from"], a["value_to"], a["improved"],
                                           strict=True)]
    a["overdue"] = a["overdue"].map({True: in_language(language, "逾期", "overdue"), False: ""})
    if language != "zh" and "action_en" in a:  # a proposal read back from the register has its English text
        a["action"] = a["action_en"].where(a["action_en"].notna(), a["action"])
    # where each action came from: the client's action file, or the previous review's proposals (read back)

    origin = a["origin"] if "origin" in a else pd.Series("action_log", index=a.index)
    a["origin"] = origin.fillna("action_log").map(lambda o: term(language, ORIGIN_NAMES, o))
    a["status"] = a["status"].map(lambda s: term(language, STATUS_NAMES, s) if s in STATUS_NAMES else s)
    if "unit" in review.actions:  # an action on a region or store names it beside its KPI
        a["kpi"] = [k if not isinstance(u, str) or u == review.tree.nodes[c].unit else f"{k} · {unit_name(u, language)}"
                    for k, u, c in zip(a["kpi"], review.actions["unit"], review.actions["kpi"], strict=True)]
    names = {"action_id": ("ID", "ID"), "action": ("行动", "action"), "owner": ("负责人", "owner"), "kpi": ("KPI", "KPI"),
             "due": ("截止", "due"), "status": ("状态", "status"), "overdue": ("逾期", "overdue"), "period_from": ("起", "from"),
             "period_to": ("至", "to"), "effect": ("KPI 变化", "KPI move"), "origin": ("来源", "source")}
    columns = {column: in_language(language, *name) for column, name in names.items()}
    return a[list(columns)].fillna(MISSING).rename(columns=columns)


def next_owner(owner: object, source: str) -> str | None:
    """A proposed action's owner as a report shows it: a person's name masked as the action log masks it
    (:func:`~digiops.masking.mask_owner`); a role from the KPI tree (``销售副总裁``) shown as it is, a person after a
    role masked (as the workbook shows the tree's owners).

    >>> next_owner("销售副总裁", "kpi_tree"), next_owner("华南大区经理 梁晓东", "unit_owners"), next_owner("李明", "action_log")
    ('销售副总裁', '华南大区经理 梁**', '李**')
    """

    if not isinstance(owner, str) or not owner.strip():
        return None
    if source in ("kpi_tree", "goal") and " " not in owner.strip():
        return mask_text(owner)
    return mask_owner(owner)


def next_actions_table(review: KpiReview, language: str) -> pd.DataFrame:
    """The register of actions proposed for the next cycle (``review.actions_next``), most important first:
    priority, id, action, owner (masked), KPI and unit, baseline → target, due date and what triggered it."""

    r = review.actions_next
    measure = {k: n.measure for k, n in review.tree.nodes.items()}
    sep = in_language(language, "、", ", ")
    table = pd.DataFrame({
        in_language(language, "优先级", "Priority"): r["priority"].astype(int).tolist(),
        "ID": r["action_id"].tolist(),
        in_language(language, "行动", "Action"): r[in_language(language, "action_zh", "action_en")].map(mask_text).tolist(),
        in_language(language, "负责人", "Owner"): [next_owner(o, s) or MISSING
                                                for o, s in zip(r["owner"], r["owner_source"], strict=True)],
        in_language(language, "指标 · 单元", "KPI · unit"): [f"{_name(review, k, language)} · {unit_name(u, language)}"
                                                         for k, u in zip(r["kpi"], r["unit"], strict=True)],
        in_language(language, "基线 → 目标", "Baseline → target"): [
            f"{_target_text(b, measure.get(k, ''))} → {_target_text(t, measure.get(k, ''))}"
            for k, b, t in zip(r["kpi"], r["baseline"], r["target"], strict=True)],
        in_language(language, "截止", "Due"): r["due"].tolist(),
        in_language(language, "触发", "Trigger"): [sep.join(term(language, TRIGGER_NAMES, t) for t in str(ts).split(","))
                                                 for ts in r["triggers"]]})
    return table


def initiative_progress_table(review: KpiReview, language: str) -> pd.DataFrame:
    """The register's initiatives that name a KPI of this tree, by KPI: the KPI's status in the review month,
    the initiative, its owner (masked), milestones done / total, the overdue ones and its progress."""
    t = review.initiatives
    if t is None:
        return pd.DataFrame()
    t = t[t["kpi_id"].isin(list(review.tree.nodes))]
    order = {kpi: i for i, kpi in enumerate(review.tree.nodes)}
    t = t.assign(_order=t["kpi_id"].map(order)).sort_values(["_order", "initiative_id"], kind="stable")

    def kpi_text(kpi, attainment, status) -> str:
        shown = f"{attainment:.1%}" if attainment == attainment else MISSING
        return f"{_name(review, kpi, language)} · {shown}" + (f" {status_name(status, language)}"
                                                              if isinstance(status, str) else "")

    return pd.DataFrame({
        in_language(language, "指标 · 复盘月达成", "KPI · review month"): [
            kpi_text(k, a, s) for k, a, s in zip(t["kpi_id"], t["kpi_attainment"], t["kpi_status"], strict=True)],
        in_language(language, "举措", "Initiative"): [
            f"{i} {n}" if isinstance(n, str) else str(i)
            for i, n in zip(t["initiative_id"], t[in_language(language, "name_zh", "name_en")], strict=True)],
        in_language(language, "负责人", "Owner"): [mask_owner(o) if isinstance(o, str) else MISSING for o in t["owner"]],
        in_language(language, "里程碑（完成 / 全部）", "Milestones (done / all)"): [
            f"{d} / {n}" for d, n in zip(t["milestones_done"], t["milestones"], strict=True)],
        in_language(language, "逾期", "Overdue"): [m if isinstance(m, str) else MISSING
                                                 for m in t["overdue_milestones"]],
        in_language(language, "进展", "Progress"): [term(language, INITIATIVE_STATUS, s) for s in t["status"]],
    })


def next_actions_counts(review: KpiReview, language: str) -> pd.DataFrame:
    """How many proposed actions each trigger found (an action two triggers found counts for both)."""

    counts = trigger_counts(review.actions_next)
    return pd.DataFrame({in_language(language, "触发", "Trigger"): [term(language, TRIGGER_NAMES, t) for t in counts],
                         in_language(language, "行动数", "Actions"): list(counts.values())})


def next_actions_markdown(review: KpiReview, settings, language: str) -> str:
    """What the register holds and how it was made, in sentences (``settings``:
    :class:`~digiops.settings.kpi.NextActionsSettings`)."""

    r = review.actions_next
    rule = in_language(
        language,
        "提议规则：复盘月份状态为红灯的指标（全公司先于大区、大区先于门店，核心指标优先，其次达成率低者优先）、拉低"
        f"{md_text(_name(review, review.headline_kpi, 'zh'))}的因素与大区（金额大者优先，至少占对比月的 "
        f"{settings.min_driver_share:.0%}）、较上月或基准下降最多的漏斗环节、逾期的行动（沿用原编号，逾期久者优先）；"
        "同一指标与单元的发现合并为一项。各触发原因轮流取其最重要的一项，"
        f"最多 {settings.max_actions} 项。负责人取项目配置（kpi.next_actions.unit_owners）中的单元负责人，否则为指标树中该指标的负责人；"
        "基线为复盘月份的实际值，目标为下月目标。",
        "Rule: KPIs red in the review month (the whole business before a region before a store, the headline KPI "
        f"first, then the lowest attainment), the factors and regions that pulled {md_text(_name(review, review.headline_kpi, 'en'))} down (largest "
        f"first, at least {settings.min_driver_share:.0%} of the comparison month), the funnel step that fell most "
        "against the previous month or its benchmark, and overdue actions (under their own ids, longest overdue first); "
        "findings on the same KPI and unit make one action. The triggers take turns, each giving its most important "
        f"next, up to {settings.max_actions} actions. The owner is the unit's owner from the engagement settings, "
        "else the KPI's owner in the tree; the baseline is the review month's actual, the target next month's.")
    if r.empty:
        return rule + in_language(language, "\n\n本次复盘没有触发任何行动。",
                                  "\n\nNothing in this review proposes an action.")
    counts = trigger_counts(r)
    parts = in_language(language, "、", ", ").join(f"{term(language, TRIGGER_NAMES, t)} {n}" for t, n in counts.items())
    due = sorted(set(r["due"]))
    return rule + "\n\n" + in_language(
        language,
        f"本次提出 **{len(r)}** 项下一周期行动（{parts}），截止 {'、'.join(due)}。"
        "完整清单（含负责人全名）见 outputs/kpi/actions_next.xlsx，可直接作为下一次复盘的行动记录；"
        "下一次复盘会读回这些行动，并从这里的基线衡量其效果。",
        f"This review proposes **{len(r)}** actions for the next cycle ({parts}), due {', '.join(due)}. The full "
        "list (with owners' full names) is in outputs/kpi/actions_next.xlsx, ready to serve as the next review's "
        "action log; the next review reads these actions back and measures their effect from the baselines here.")


def changes_table(review: KpiReview, language: str) -> pd.DataFrame | None:
    """Status and actual of each KPI (all + regions) now against the previous run's review."""
    if review.changes is None:
        return None
    c = review.changes[review.changes["level"].isin(["all", "region"])].copy()
    c["kpi"] = [_name(review, k, language) for k in c["kpi"]]
    names = {status: status_name(status, language) for status in KPI_STATUS}
    c["status_previous"] = c["status_previous"].map(names)
    c["status"] = c["status"].map(names)
    change_names = {"better": in_language(language, "↑ 好转", "↑ better"),
                    "worse": in_language(language, "↓ 变差", "↓ worse"), "same": in_language(language, "持平", "same"),
                    "n/a": "–"}
    c["status_change"] = c["status_change"].map(change_names).fillna(MISSING)
    measure = {k: n.measure for k, n in review.tree.nodes.items()}
    for column in ("actual_previous", "actual", "actual_change"):
        c[column] = [format_value(v, measure.get(k, ""), language=language) if pd.notna(v) else MISSING
                     for k, v in zip(review.changes.loc[c.index, "kpi"], c[column], strict=True)]
    c["unit"] = c["unit"].map(lambda u: unit_name(u, language))
    names = {"kpi": ("指标", "KPI"), "unit": ("单元", "unit"), "period_previous": ("上次复盘月", "previous month"),
             "status_previous": ("上次状态", "previous status"), "period": ("本次复盘月", "month"),
             "status": ("本次状态", "status"), "status_change": ("变化", "change"),
             "actual_previous": ("上次实际", "previous actual"), "actual": ("本次实际", "actual"),
             "actual_change": ("实际变化", "actual change")}
    columns = {column: in_language(language, *name) for column, name in names.items()}
    return c[list(columns)].fillna(MISSING).rename(columns=columns)


#: how a derived target was found (``cascade.rule``) → words
CASCADE_RULES = {"history": ("历史占比", "history share"),
                 "seasonality": ("去年同月占比", "last year's same-month share"),
                 "weights": ("指定权重", "explicit weights"),
                 "equal": ("平均分配（无历史数据）", "equal split (no history)"),
                 "last_year": ("按去年各月占比拆到月", "split to months by last year's month shares"),
                 "each_month": ("年度目标沿用到每月", "the year's target in each month")}
#: a coherence check (``coherence.check``) → words
CASCADE_CHECKS = {"sum": ("下级单元之和 ≠ 上级", "Σ units ≠ parent"),
                  "months": ("各月之和 ≠ 年度目标", "Σ months ≠ the year"),
                  "product": ("因子目标之积 ≠ 目标", "factors' targets multiplied ≠ target"),
                  "ratio": ("分子目标 ÷ 分母目标 ≠ 目标", "numerator ÷ denominator targets ≠ target")}


#: a coherence check (``coherence.check``) as what it checks
CASCADE_CHECKS_HOLD = {"sum": ("下级之和 = 上级", "Σ units = parent"), "months": ("各月之和 = 年度", "Σ months = year"),
                       "product": ("因子目标之积 = 目标", "factors' targets multiplied = target"),
                       "ratio": ("分子 ÷ 分母目标 = 目标", "numerator ÷ denominator targets = target")}


def cascade_checks_named(review: KpiReview, language: str) -> str:
    """The kinds of coherence check made in this review, in words (``下级之和 = 上级、因子目标之积 = 目标``)."""
    made = [c for c in CASCADE_CHECKS_HOLD if c in set(review.cascade_checks["check"])]
    return in_language(language, "、", ", ").join(term(language, CASCADE_CHECKS_HOLD, c) for c in made)


def cascade_rule_markdown(settings, language: str) -> str:
    """The configured cascade rule in one sentence (``settings``: :class:`~digiops.settings.kpi.CascadeSettings`).

    >>> from digiops.settings.kpi import CascadeSettings
    >>> cascade_rule_markdown(CascadeSettings(rule="seasonality"), "en")[:74]
    "Rule: a parent's target is split to its units by each unit's share in the "
    """
    tolerance = f"{settings.tolerance:.1%}"
    rule = {"history": (f"各单元在目标月份之前最近 {settings.history_months} 个有实际值的月份中所占的比重",
                        f"each unit's share of the KPI's actuals over the last {settings.history_months} months "
                        "with actuals before the target's month"),
            "seasonality": ("各单元在去年同月所占的比重（去年同月无数据时改用历史占比）",
                            "each unit's share in the same month last year (the history share where last year has "
                            "no data)"),
            "weights": ("引擎设置 kpi.cascade.weights 中各单元的权重（同级归一）",
                        "each unit's weight in kpi.cascade.weights, normalised among siblings")}[settings.rule]
    return in_language(
        language,
        f"拆解规则：上级目标按{rule[0]}分给下级单元；只给了部分下级目标时，其余单元分摊剩余部分；年度目标按去年各月占比拆到月。"
        f"按最大余数法取整（金额到分），各部分之和恰好等于上级目标。已给出的各级目标在 {tolerance} 的容差内检查一致性。",
        f"Rule: a parent's target is split to its units by {rule[1]}; where only some units have a target, the "
        "others share the remainder; a year's target is split to months by last year's month shares. Parts are "
        "rounded by largest remainders (money to the cent) so they sum exactly to the parent. Targets given at "
        f"several levels are checked for coherence within {tolerance}.")


def _target_text(value: float, measure: str) -> str:
    """A target shown exactly: money to the cent, a rate in percent, a count as a whole number where it is one."""
    if value is None or pd.isna(value):
        return MISSING
    if measure == "%":
        return f"{value:.2%}"
    if "元" in measure:
        return f"¥{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _gap_text(value: float, measure: str, language: str) -> str:
    """A signed gap: money with the sign before ¥, a rate in percentage points, a count as a number.

    >>> _gap_text(-5.0, "元", "en"), _gap_text(0.0012, "%", "en"), _gap_text(300.0, "人次", "zh")
    ('-¥5.00', '+0.12 pp', '+300')
    """
    if "元" in measure:
        return money(value)
    if measure == "%":
        return f"{value * 100:+.2f} " + in_language(language, "个百分点", "pp")
    return f"{value:+,.0f}" if float(value).is_integer() else f"{value:+,.2f}"


def cascade_summary(review: KpiReview, language: str) -> str:
    """Which KPIs got derived targets at which levels (and how many by each rule), or that none did."""
    c = review.cascade
    derived = c[c["source"] == "derived"]
    if derived.empty:
        return in_language(language, "各级目标均已给出，本次未推导目标，只检查一致性。",
                           "Every level's targets are given; nothing was derived, only coherence is checked.")
    parts_zh, parts_en = [], []
    for kpi, rows in derived.groupby("kpi", sort=False):
        levels = [lvl for lvl in ("all", "region", "store") if lvl in set(rows["level"])]
        rules = rows["rule"].value_counts()
        name = md_text(_name(review, kpi, language))
        by_rule = [(in_language("zh", *CASCADE_RULES.get(r, (r, r))), in_language("en", *CASCADE_RULES.get(r, (r, r))),
                    n) for r, n in rules.items()]
        parts_zh.append(f"**{name}** → {'、'.join(term('zh', KPI_LEVELS, lvl) for lvl in levels)}：{len(rows):,} 个目标（"
                        + "，".join(f"{zh} {n:,}" for zh, _, n in by_rule) + "）")
        parts_en.append(f"**{name}** → {', '.join(term('en', KPI_LEVELS, lvl) for lvl in levels)}: {len(rows):,} "
                        "targets (" + ", ".join(f"{en} {n:,}" for _, en, n in by_rule) + ")")
    return in_language(language, "本次推导的目标：" + "；".join(parts_zh) + "。",
                       "Targets derived in this run: " + "; ".join(parts_en) + ".")


def cascade_table(review: KpiReview, period: str, language: str, limit: int = 12) -> tuple[pd.DataFrame, int]:
    """The derived targets of ``period`` (regions before stores), at most ``limit`` rows, and how many there are:
    KPI, level, unit, parent unit and its target, the unit's target and share of it, and the rule."""
    c = review.cascade
    rows = c[(c["source"] == "derived") & (c["month"] == period)]
    total = len(rows)
    rows = rows.head(limit)
    target = c.set_index(["kpi", "unit", "month"])["target"]
    target = target[~target.index.duplicated()]
    parent_target = [target.get((k, p, m), np.nan) if isinstance(p, str) else np.nan
                     for k, p, m in zip(rows["kpi"], rows["parent"], rows["month"], strict=True)]
    measure = {k: n.measure for k, n in review.tree.nodes.items()}
    share = [t / pt if pt and np.isfinite(pt) else np.nan for t, pt in zip(rows["target"], parent_target, strict=True)]
    table = pd.DataFrame({
        in_language(language, "指标", "KPI"): [_name(review, k, language) for k in rows["kpi"]],
        in_language(language, "层级", "Level"): [term(language, KPI_LEVELS, lvl) for lvl in rows["level"]],
        in_language(language, "单元", "Unit"): [unit_name(u, language) for u in rows["unit"]],
        in_language(language, "上级", "Parent"): [unit_name(p, language) if isinstance(p, str) else MISSING
                                                 for p in rows["parent"]],
        in_language(language, "上级目标", "Parent's target"): [_target_text(v, measure.get(k, "")) for k, v in
                                                          zip(rows["kpi"], parent_target, strict=True)],
        in_language(language, "目标", "Target"): [_target_text(v, measure.get(k, "")) for k, v in
                                                zip(rows["kpi"], rows["target"], strict=True)],
        in_language(language, "占上级", "Share of parent"): [MISSING if pd.isna(s) else f"{s:.1%}" for s in share],
        in_language(language, "规则", "Rule"): [term(language, CASCADE_RULES, r) for r in rows["rule"]],
    })
    return table, total


def cascade_findings(review: KpiReview, language: str, limit: int = 20) -> tuple[pd.DataFrame, int, int]:
    """The coherence checks that fail (largest relative gap first, at most ``limit`` rows), how many fail and how
    many were made: KPI, unit, month, the check, the target, what the units or factors give, and the gap."""
    checks = review.cascade_checks
    failed = incoherences(checks).head(limit)
    measure = {k: n.measure for k, n in review.tree.nodes.items()}
    m = [measure.get(k, "") for k in failed["kpi"]]
    table = pd.DataFrame({
        in_language(language, "指标", "KPI"): [_name(review, k, language) for k in failed["kpi"]],
        in_language(language, "单元", "Unit"): [unit_name(u, language) for u in failed["unit"]],
        in_language(language, "月份", "Month"): failed["month"].tolist(),
        in_language(language, "检查", "Check"): [term(language, CASCADE_CHECKS, c) for c in failed["check"]],
        in_language(language, "目标", "Target"): [_target_text(v, x) for v, x in zip(failed["target"], m, strict=True)],
        in_language(language, "下级/因子得出", "Units / factors give"): [
            _target_text(v, x) for v, x in zip(failed["expected"], m, strict=True)],
        in_language(language, "差额", "Gap"): [_gap_text(v, x, language) for v, x in zip(failed["gap"], m, strict=True)],
        in_language(language, "差额占比", "Gap share"): [f"{v:+.2%}" if np.isfinite(v) else MISSING
                                                       for v in failed["gap_share"]]})
    return table, int((~checks["coherent"].astype(bool)).sum()), len(checks)


#: a campaign's effect (``spend_summary.effect``) → words
SPEND_EFFECTS = {"effective": ("有效（ROAS ≥ 1）", "effective (ROAS ≥ 1)"),
                 "below_break_even": ("低于盈亏平衡（ROAS < 1）", "below break-even (ROAS < 1)"),
                 "no_return": ("无回报（归因成交额为 0）", "no return (no attributed revenue)"),
                 "no_spend": ("无投放（自然首触）", "no spend (organic first touch)")}


def _yuan(value: float) -> str:
    return MISSING if value is None or pd.isna(value) else f"¥{value:,.0f}"


def _times(value: float) -> str:
    return MISSING if value is None or pd.isna(value) or not np.isfinite(value) else f"{value + 0.0:,.2f}"  # no -0.00


def _campaign_name(campaign: object, language: str) -> str:
    return campaign if isinstance(campaign, str) and campaign else in_language(language, "（渠道整体）",
                                                                                  "(whole channel)")


def spend_method_markdown(review: KpiReview, language: str) -> str:
    """How the spend figures are defined: first-touch attribution, the revenue window, the margin of ROI, and what
    counts as spend with no measurable effect."""
    s = review.spend
    margin = f"{s.gross_margin:.0%}"
    return in_language(
        language,
        f"口径（首触归因）：新客 = 当月首次下单的客户，按其首次接触渠道与活动归因；归因成交额 = 新客首单起 {s.window_days} 天内的成交额；"
        f"CAC = 投放 ÷ 新客数；ROAS = 归因成交额 ÷ 投放；ROI = (归因成交额 × 毛利率 {margin} − 投放) ÷ 投放"
        f"{'（毛利率 100 % 即按收入计的 ROI）' if s.gross_margin == 1 else ''}；边际回报 = 相邻两月归因成交额之差 ÷ 投放之差。"
        "**无可测量效果的投放** = 全期归因成交额为 0 或 ROAS < 1 的活动的投放。",
        f"Definitions (first-touch attribution): a new customer is one whose first order falls in the month, credited "
        f"to the channel and campaign of their first touch; attributed revenue = their GMV within {s.window_days} "
        "days of the first order; CAC = spend ÷ new customers; ROAS = attributed revenue ÷ spend; ROI = (attributed "
        f"revenue × gross margin {margin} − spend) ÷ spend{' (a 100 % margin is revenue ROI)' if s.gross_margin == 1 else ''}"
        "; marginal return = change of attributed revenue ÷ change of spend between consecutive months. **Spend with "
        "no measurable effect** = the spend of campaigns whose attributed revenue over the period is 0 or whose "
        "ROAS is below 1.")


def spend_channel_table(review: KpiReview, scope: str, language: str) -> pd.DataFrame:
    """Spend and return per channel over ``scope`` (``review``: the review month; ``engagement``: every month),
    with a total row: spend and its share, new customers, CAC, attributed revenue, ROAS, ROI (and, for the review
    month, the marginal return against the comparison month)."""
    s = review.spend.summary
    rows = s[(s["scope"] == scope) & s["level"].isin(("channel", "total"))]
    rows = pd.concat([rows[rows["level"] == "channel"].sort_values("spend", ascending=False),
                      rows[rows["level"] == "total"]])
    table = pd.DataFrame({
        in_language(language, "渠道", "Channel"): [in_language(language, "合计", "Total") if lvl == "total" else c
                                                 for lvl, c in zip(rows["level"], rows["channel"], strict=True)],
        in_language(language, "投放金额", "Spend"): [_yuan(v) for v in rows["spend"]],
        in_language(language, "投放占比", "Share"): [MISSING if pd.isna(v) else f"{v:.1%}" for v in rows["spend_share"]],
        in_language(language, "新客数", "New customers"): [f"{int(v):,}" for v in rows["new_customers"]],
        "CAC": [_yuan(v) for v in rows["cac"]],
        in_language(language, "归因成交额", "Attributed revenue"): [_yuan(v) for v in rows["revenue"]],
        "ROAS": [_times(v) for v in rows["roas"]],
        "ROI": [MISSING if pd.isna(v) else f"{v:+.0%}" for v in rows["roi"]],
    })
    if scope == "review":
        table[in_language(language, "边际回报", "Marginal return")] = [_times(v) for v in rows["marginal_return"]]
    return table


def spend_no_effect_table(review: KpiReview, language: str) -> pd.DataFrame:
    """The campaigns with no measurable effect over the engagement period, largest spend first."""
    rows = review.spend.no_effect_campaigns()
    return pd.DataFrame({
        in_language(language, "渠道", "Channel"): rows["channel"].tolist(),
        in_language(language, "活动", "Campaign"): [_campaign_name(c, language) for c in rows["campaign"]],
        in_language(language, "投放金额", "Spend"): [_yuan(v) for v in rows["spend"]],
        in_language(language, "新客数", "New customers"): [f"{int(v):,}" for v in rows["new_customers"]],
        in_language(language, "归因成交额", "Attributed revenue"): [_yuan(v) for v in rows["revenue"]],
        "ROAS": [_times(v) for v in rows["roas"]],
        in_language(language, "判定", "Finding"): [term(language, SPEND_EFFECTS, e) for e in rows["effect"]]})


def spend_markdown(review: KpiReview, language: str) -> str:
    """What the spend figures mean, in two sentences: the period's spend and return, the share without effect
    and where it went, and that every yuan of the source is accounted for."""
    s = review.spend
    f = s.figures()
    shown = s.table["spend"].sum()
    reconciled = abs(shown - float(s.total_spend)) < 0.005
    share, none_share = f.get("spend_no_effect_share"), f.get("spend_no_return_share")
    campaigns = s.no_effect_campaigns()
    named = "、".join(f"{c}·{_campaign_name(k, 'zh')}" for c, k in zip(campaigns["channel"].head(3),
                                                                       campaigns["campaign"].head(3), strict=True))
    named_en = ", ".join(f"{c} · {_campaign_name(k, 'en')}" for c, k in zip(campaigns["channel"].head(3),
                                                                            campaigns["campaign"].head(3), strict=True))
    best = f.get("spend_best_channel")
    zh = (f"全期投放 **¥{float(s.total_spend):,.0f}**，首触归因新客 {int(f.get('spend_engagement_new_customers') or 0):,} 人，"
          f"CAC {_yuan(f.get('spend_engagement_cac'))}，ROAS {_times(f.get('spend_engagement_roas'))}，"
          f"ROI {MISSING if f.get('spend_engagement_roi') is None else format(f['spend_engagement_roi'], '+.0%')}。")
    en = (f"Over the period **¥{float(s.total_spend):,.0f}** was spent; {int(f.get('spend_engagement_new_customers') or 0):,} "
          f"new customers came by first touch; CAC {_yuan(f.get('spend_engagement_cac'))}, ROAS "
          f"{_times(f.get('spend_engagement_roas'))}, ROI "
          f"{MISSING if f.get('spend_engagement_roi') is None else format(f['spend_engagement_roi'], '+.0%')}.")
    if best:
        zh += f"回报最高的渠道是 {best}（ROAS {_times(f.get('spend_best_channel_roas'))}）。"
        en += f" The best-returning channel is {best} (ROAS {_times(f.get('spend_best_channel_roas'))})."
    if share:
        zh += (f"**{share:.1%} 的投放没有可测量的效果**（其中 {none_share:.1%} 完全没有带来成交），主要是 {named}："
               "建议暂停或改版这些活动，把预算转向 ROAS 高的渠道，并在下次复盘看效果。")
        en += (f" **{share:.1%} of the spend had no measurable effect** ({none_share:.1%} brought no sale at all), "
               f"mainly {named_en}: pause or rework these campaigns, move the budget to the channels with the "
               "highest ROAS, and check the effect at the next review.")
    elif share is not None:
        zh += "每个活动的 ROAS 都不低于 1。"
        en += " Every campaign returned at least its spend (ROAS ≥ 1)."
    zh += (f"投放数据源合计 ¥{float(s.total_spend):,.2f}，表中合计 ¥{shown:,.2f}"
           f"{'，一分不差' if reconciled else '，不一致'}。")
    en += (f" The spend source totals ¥{float(s.total_spend):,.2f}; the tables show ¥{shown:,.2f}"
           f"{', to the cent' if reconciled else ' — they differ'}.")
    if s.summary.loc[s.summary["scope"] == "review", "window_open"].any():
        zh += f"复盘月份 {s.review} 的新客尚未满 {s.window_days} 天，其归因成交额还会增长。"
        en += (f" New customers of the review month {s.review} have not all had {s.window_days} days yet: their "
               "attributed revenue will still grow.")
    return in_language(language, zh, en)
