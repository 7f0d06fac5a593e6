"""Charts of the battle-situation view (matplotlib only; call :func:`digiops.charts.setup_charts` first for CJK text)."""

from __future__ import annotations

import re
import unicodedata

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch

from digiops.kpi.tree import KpiTree
from digiops.text import FUNNEL_STAGES, KPI_STATUS, STATUS_COLOURS, in_language, term


def format_value(value: float, measure: str, *, language: str) -> str:
    """A KPI value as a reader expects it: percentages for rates; large amounts in 万 (zh) or k / M (en).

    >>> format_value(309_672, "CNY", language="zh"), format_value(309_672, "CNY", language="en")
    ('31.0万', '309.7k')
    >>> format_value(0.0497, "%", language="en"), format_value(float("nan"), "CNY", language="zh")
    ('5.0%', '–')
    """
    if value is None or pd.isna(value) or not np.isfinite(value):
        return "–"
    if measure == "%":
        return f"{value:.1%}"
    if language == "zh" and abs(value) >= 10_000:
        return f"{value / 10_000:,.1f}万"
    if language != "zh" and abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.2f}M"
    if language != "zh" and abs(value) >= 10_000:
        return f"{value / 1_000:,.1f}k"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _text_width(text: str) -> int:
    """Width of ``text`` in half-width units: a CJK (full-width) character counts two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap_label(text: str, units: int) -> str:
    r"""``text`` broken into lines of at most ``units`` half-width units (:func:`_text_width`): at spaces where
    there are any, anywhere between Chinese characters, inside a word only when the word alone is too long.

    >>> wrap_label("Omni-channel sales growth", 14)
    'Omni-channel\nsales growth'
    >>> wrap_label("全渠道销售增长与会员经营", 10)
    '全渠道销售\n增长与会员\n经营'
    """
    lines: list[str] = []
    line = ""
    for token in re.findall(r"\s+|[\u2E80-\uFFEF]|[^\s\u2E80-\uFFEF]+", text):
        if token.isspace():
            line += " " if line else ""
            continue
        while _text_width(token) > units:  # a word longer than a line: cut it
            head = ""
            for char in token:
                if _text_width(head + char) > units:
                    break
                head += char
            if line.strip():
                lines.append(line.rstrip())
            lines.append(head)
            line, token = "", token[len(head):]
        if _text_width(line + token) > units and line.strip():
            lines.append(line.rstrip())
            line = ""
        line += token
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


#: Text size of the KPI tree's boxes (points): the figure is shown at about its own size, so this is what a
#: reader sees.
TREE_FONT_SIZE = 11


def tree_layout(tree: KpiTree, expand: dict[str, list[str]] | None = None) -> dict[str, tuple[float, int]]:
    """(x, layer) of every goal, KPI and expanded unit node: goals on layer 0, KPIs by depth, units below."""
    layers: dict[int, list[str]] = {0: list(tree.goals)}
    placed: set[str] = set()

    def place(node_id: str, layer: int) -> None:
        if node_id in placed:
            return
        placed.add(node_id)
        layers.setdefault(layer, []).append(node_id)
        for child in tree.nodes[node_id].children:
            place(child, layer + 1)
        for unit in (expand or {}).get(node_id, []):
            layers.setdefault(layer + 1, []).append(f"{node_id}@{unit}")

    for goal in tree.goals:
        for node in tree.nodes.values():
            if node.goal == goal and not tree.parents(node.id):
                place(node.id, 1)
    for node_id in tree.nodes:
        place(node_id, 1 + tree.depth(node_id))
    positions = {}
    for layer, names in layers.items():
        for index, name in enumerate(names):
            positions[name] = ((index + 0.5) / len(names), layer)
    return positions


def draw_tree(tree: KpiTree, attainment: pd.DataFrame, period: str, *, language: str,
              expand: dict[str, list[str]] | None = None) -> plt.Figure:
    """The KPI tree, each node coloured by its status in ``period`` (unit ``all``, or the expanded unit)."""
    positions = tree_layout(tree, expand)
    rows = attainment[attainment["period"] == period].set_index(["kpi", "unit"])
    rows = rows[~rows.index.duplicated()]
    depth = max(layer for _, layer in positions.values()) + 1
    width = max(sum(1 for _, layer in positions.values() if layer == k) for k in range(depth))
    fig, ax = plt.subplots(figsize=(max(10, 1.9 * width), 1.6 * depth + 0.6))
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.02)
    box_w, box_h = 0.86 / max(width, 1), 0.62
    # characters per line: the box's width in inches over a half-width character (0.6 em) at TREE_FONT_SIZE
    units = max(6, int(box_w * 0.96 * fig.get_figwidth() / (0.6 * TREE_FONT_SIZE / 72)) - 1)
    edges = [(g, n.id) for n in tree.nodes.values() if n.goal for g in [n.goal]]
    edges += [(n.id, c) for n in tree.nodes.values() for c in n.children]
    edges += [(k, f"{k}@{u}") for k, units in (expand or {}).items() for u in units]
    for parent, child in edges:
        (x0, y0), (x1, y1) = positions[parent], positions[child]
        ax.plot([x0, x1], [-y0, -y1], color="#bdbdbd", zorder=1, lw=1)
    for name, (x, layer) in positions.items():
        if name in tree.goals:
            goal = tree.goals[name]
            label, colour = wrap_label(in_language(language, goal.name_zh, goal.name_en), units), "#37474f"
        else:
            kpi, _, unit = name.partition("@")
            node = tree.nodes[kpi]
            unit = unit or node.unit
            key = (kpi, unit)
            status = rows["status"].get(key, "none") if key in rows.index else "none"
            actual = rows["actual"].get(key, np.nan) if key in rows.index else np.nan
            attained = rows["attainment"].get(key, np.nan) if key in rows.index else np.nan
            title = f"{node.name(language)} · {unit}" if "@" in name else node.name(language)
            label = f"{wrap_label(title, units)}\n{format_value(actual, node.measure, language=language)}"
            if np.isfinite(attained):
                label += f" · {attained:.0%}"
            colour = STATUS_COLOURS.get(status, STATUS_COLOURS["none"])
        ax.add_patch(FancyBboxPatch((x - box_w / 2, -layer - box_h / 2), box_w, box_h,
                                    boxstyle="round,pad=0.01,rounding_size=0.05", fc=colour, ec="white", zorder=2))
        ax.text(x, -layer, label, ha="center", va="center", color="white", fontsize=TREE_FONT_SIZE, zorder=3,
                linespacing=1.15)
    ax.set_xlim(0, 1)
    ax.set_ylim(-depth + 0.3, 0.6)
    ax.axis("off")
    handles = [plt.Rectangle((0, 0), 1, 1, color=STATUS_COLOURS[s]) for s in KPI_STATUS]
    ax.legend(handles, [term(language, KPI_STATUS, s) for s in KPI_STATUS], loc="lower right", fontsize=TREE_FONT_SIZE,
              ncol=4, frameon=False, bbox_to_anchor=(1, 1))
    ax.set_title(in_language(language, f"KPI 树 · {period}", f"KPI tree · {period}"), loc="left",
                 fontsize=TREE_FONT_SIZE + 2)
    return fig


def attainment_bars(table: pd.DataFrame, *, title: str, language: str) -> plt.Figure:
    """Horizontal bars of attainment per unit, coloured by status, with the 100 % line."""
    data = table.dropna(subset=["attainment"]).sort_values("attainment")
    fig, ax = plt.subplots(figsize=(8, max(2.5, 0.32 * len(data) + 1)))
    ax.barh(data["unit"], data["attainment"], color=[STATUS_COLOURS.get(s, "#9e9e9e") for s in data["status"]])
    ax.axvline(1.0, color="#424242", lw=1, ls="--")
    for y, value in enumerate(data["attainment"]):
        ax.text(value, y, f" {value:.0%}", va="center", fontsize=8)
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.set_xlabel(in_language(language, "达成率", "attainment"))
    ax.set_title(title)
    return fig


def waterfall(start: float, steps: list[tuple[str, float]], end: float, *, labels: tuple[str, str],
              title: str) -> plt.Figure:
    """A waterfall from ``start`` through each contribution to ``end``."""
    names = [labels[0]] + [s[0] for s in steps] + [labels[1]]
    fig, ax = plt.subplots(figsize=(max(7, 1.1 * len(names)), 4))
    running = start
    ax.bar(0, start, color="#607d8b")
    for i, (_, value) in enumerate(steps, start=1):
        ax.bar(i, value, bottom=running, color="#2e7d32" if value >= 0 else "#c62828")
        ax.text(i, running + max(value, 0), f"{value:+,.0f}", ha="center", va="bottom", fontsize=8)
        running += value
    ax.bar(len(names) - 1, end, color="#607d8b")
    ax.text(0, start, f"{start:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.text(len(names) - 1, end, f"{end:,.0f}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(names)), names, rotation=20 if len(names) > 6 else 0)
    levels = [start, end, *(start + np.cumsum([s[1] for s in steps]))]
    low, high = min(levels), max(levels)
    pad = 0.08 * (high - min(low, 0) if low < 0 else high - low * 0.8)
    ax.set_ylim(bottom=(low - pad) if low < 0 else low * 0.8, top=high + pad)
    ax.set_title(title)
    return fig


def funnel_chart(table: pd.DataFrame, *, language: str, title: str) -> plt.Figure:
    """Horizontal funnel: visitors per stage with step and overall conversion (a client's own stage name as it is)."""
    data = table.sort_values("step")
    fig, ax = plt.subplots(figsize=(8, 0.8 * len(data) + 1))
    top = data["visitors"].max() or 1
    for y, row in enumerate(data.itertuples(index=False)):
        w = row.visitors / top
        ax.barh(-y, w, left=(1 - w) / 2, color="#1565c0", height=0.7)
        text = f"{term(language, FUNNEL_STAGES, row.stage)}  {row.visitors:,}"
        if row.step > 1:
            text += f"  (→{row.step_conversion:.0%}, {row.overall_conversion:.0%})"
        inside = w > 0.45
        ax.text(0.5 if inside else (1 + w) / 2 + 0.01, -y, text, ha="center" if inside else "left", va="center",
                color="white" if inside else "black", fontsize=9)
    ax.set_xlim(0, 1)
    ax.axis("off")
    ax.set_title(title)
    return fig


def runrate_chart(daily: pd.DataFrame, row: pd.Series, *, days_in_period: int, language: str,
                  title: str) -> plt.Figure:
    """Cumulative actual by day, the straight-line projection to period end, and the target."""
    fig, ax = plt.subplots(figsize=(8, 4))
    cumulative = daily["value"].cumsum()
    ax.plot(daily["day"], cumulative, marker="o", ms=3, label=in_language(language, "累计实际", "actual to date"))
    elapsed = int(row["days_elapsed"])
    ax.plot([elapsed, days_in_period], [row["actual_to_date"], row["projection"]], ls="--",
            label=in_language(language, "按当前日均推算", "projection at current daily rate"))
    if np.isfinite(row["target"]):
        ax.axhline(row["target"], color="#c62828", lw=1, label=in_language(language, "目标", "target"))
        if np.isfinite(row["required_daily"]):
            ax.plot([elapsed, days_in_period], [row["actual_to_date"], row["target"]], ls=":", color="#c62828",
                    label=in_language(language, "达成所需路径", "path needed to reach target"))
    ax.set_xlim(0, days_in_period + 0.5)
    ax.set_xlabel(in_language(language, "日", "day of month"))
    ax.legend(fontsize=8)
    ax.set_title(title)
    return fig


def spend_return_chart(summary: pd.DataFrame, *, language: str, title: str) -> plt.Figure:
    """Per channel (engagement period, largest spend first): spend beside attributed revenue, ROAS written at the
    end of each pair; and CAC per channel in a second panel. ``summary``: ``spend_summary.parquet``."""
    data = summary[(summary["scope"] == "engagement") & (summary["level"] == "channel")]
    data = data.sort_values("spend", ascending=True, ignore_index=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, max(3, 0.55 * len(data) + 1.5)),
                                      gridspec_kw={"width_ratios": [2, 1]})
    y = np.arange(len(data))
    left.barh(y + 0.2, data["spend"], height=0.38, color="#90a4ae", label=in_language(language, "投放", "spend"))
    left.barh(y - 0.2, data["revenue"], height=0.38, color="#1565c0",
              label=in_language(language, "归因成交额", "attributed revenue"))
    for i, row in data.iterrows():
        roas = "ROAS –" if pd.isna(row["roas"]) else f"ROAS {row['roas']:.2f}"
        colour = "#c62828" if pd.isna(row["roas"]) or row["roas"] < 1 else "#2e7d32"
        left.text(max(row["spend"], row["revenue"]), i, f"  {roas}", va="center", fontsize=8, color=colour)
    left.set_yticks(y, data["channel"])
    left.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: format_value(v, "元", language=language)))
    left.set_xlim(0, max(data["spend"].max(), data["revenue"].max(), 1) * 1.3)
    left.legend(fontsize=8, loc="lower right")
    left.set_title(title, fontsize=10)
    right.barh(y, data["cac"].fillna(0), color="#ef6c00")
    for i, value in enumerate(data["cac"]):
        right.text(0 if pd.isna(value) else value, i, in_language(language, " 无新客", " no new customer")
                   if pd.isna(value) else f" ¥{value:,.0f}", va="center", fontsize=8)
    right.set_yticks(y, [""] * len(data))
    right.set_xlim(0, max(data["cac"].max() if data["cac"].notna().any() else 1, 1) * 1.35)
    right.set_title(in_language(language, "获客成本 CAC（元/人）", "CAC (yuan per new customer)"), fontsize=10)
    fig.tight_layout()
    return fig
