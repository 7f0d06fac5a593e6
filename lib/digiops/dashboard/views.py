"""What the dashboard shows beside the KPIs, as pure functions: frames of one run's outputs in, small frames or HTML
out — maturity (radar, levels, roadmap and budget), segments, data quality; the KPI views are in
:mod:`digiops.dashboard.kpi_views`.

Nothing here reads a file or touches a widget (:mod:`digiops.dashboard.app` does). All client text is escaped.

Example:
    >>> svg = radar_svg({"流程<数字化>": 2.0, "数据": 3.0, "业务": 4.0}, {"流程<数字化>": 3.0, "数据": 3.0, "业务": 3.0})
    >>> svg.startswith("<svg") and "流程&lt;数字化&gt;" in svg and "<数字化>" not in svg
    True
"""

from __future__ import annotations

import math

import pandas as pd

from digiops.masking import mask_frame
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.report import BUDGET_CATEGORIES
from digiops.merge.quality import MEASURE_DEFINITIONS, MEASURE_NAMES, QUALITY_MEASURES
from digiops.summary.collect import NO_SEGMENT
from digiops.summary.render import fmt_number, fmt_percent
from digiops.text import escape_html, in_language, term

def note(text: str) -> str:
    """A plain sentence in place of a view (nothing to show, or why not)."""
    return f"<p class='dg-note'>{escape_html(text)}</p>"


def heading(text: str) -> str:
    return f"<h3 class='dg-heading'>{escape_html(text)}</h3>"


# --- maturity -------------------------------------------------------------------------------------------------
def department_levels(scores: pd.DataFrame, departments: pd.DataFrame | None, department: str | None,
                      language: str) -> tuple[dict[str, float], dict[str, float]]:
    """(levels, targets) by dimension name: the company's when ``department`` is None, else that department's."""
    dims = scores[scores["dimension"] != "overall"]
    label = dict(zip(dims["dimension"], dims[in_language(language, "name_zh", "name_en")].astype(str)))
    targets = {label[d]: float(v) for d, v in zip(dims["dimension"], dims["target"]) if pd.notna(v)}
    if department is None or departments is None:
        levels = {label[d]: float(v) for d, v in zip(dims["dimension"], dims["level"]) if pd.notna(v)}
    else:
        rows = departments[departments["department"].astype(str) == department]
        levels = {label.get(d, d): float(v) for d, v in zip(rows["dimension"], rows["level"]) if pd.notna(v)}
    return levels, targets


def radar_svg(levels: dict[str, float], targets: dict[str, float] | None = None, size: int = 320,
              maximum: float = 5.0) -> str:
    """A radar chart (levels in blue, targets dashed) as inline SVG: no plotting library, renders instantly."""
    names = list(levels) or list(targets or {})
    n = max(len(names), 3)
    centre, radius = size / 2, size / 2 - 70

    def point(i: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(min(value, maximum), 0) / maximum
        return centre + r * math.cos(angle), centre + r * math.sin(angle)

    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' viewBox='0 0 {size} {size}'>"]
    for ring in range(1, int(maximum) + 1):
        ring_points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f"<polygon points='{ring_points}' fill='none' stroke='#ddd'/>")
    for i, name in enumerate(names):
        x, y = point(i, maximum + 0.9)
        parts.append(f"<text x='{x:.1f}' y='{y:.1f}' font-size='12' text-anchor='middle'>{escape_html(name)}</text>")
    if targets:
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, targets.get(k, 0)) for i, k in enumerate(names)))
        parts.append(f"<polygon points='{pts}' fill='none' stroke='#c62828' stroke-dasharray='4 3'/>")
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(i, levels.get(k, 0)) for i, k in enumerate(names)))
    parts.append(f"<polygon class='dg-levels' points='{pts}' fill='#4c72b0' fill-opacity='0.35' stroke='#4c72b0'/>")
    parts.append("</svg>")
    return "".join(parts)


def levels_html(levels: dict[str, float], targets: dict[str, float], language: str) -> str:
    rows = "".join(f"<tr><td>{escape_html(k)}</td><td class='dg-level'>{escape_html(fmt_number(v, 1))}</td>"
                   f"<td>{escape_html(fmt_number(targets.get(k), 1))}</td></tr>" for k, v in levels.items())
    head = in_language(language, "<tr><th>维度</th><th>等级</th><th>目标</th></tr>",
                       "<tr><th>Dimension</th><th>Level</th><th>Target</th></tr>")
    return f"<table class='dg-table'>{head}{rows}</table>"


def roadmap_html(roadmap: pd.DataFrame, budget: pd.DataFrame | None, language: str) -> str:
    """The roadmap by phase (months, initiatives with their dimension and budget, the phase's total), then the
    budget of each phase by category (technology / people / operations). Amounts when the engagement set a total
    budget, else shares of the programme."""
    if roadmap.empty:
        return note(in_language(language, "路线图没有举措。", "The roadmap has no initiatives."))
    amounts = "budget" in roadmap.columns and roadmap["budget"].notna().any()

    def money(value: object, share: object) -> str:
        if amounts:
            return fmt_number(None if value is None or pd.isna(value) else float(value))
        return fmt_percent(None if share is None or pd.isna(share) else float(share))

    rows = []
    for phase, items in roadmap.groupby("phase", sort=False):
        first = items.iloc[0]
        title = cell_text(first[in_language(language, "phase_zh", "phase_en")])
        if cell_text(first["months"]) != "–":
            title += in_language(language, f" · 第{first['months']} 月", f" · months {first['months']}")
        total = money(items["budget"].sum(min_count=1) if amounts else None,
                      items["budget_share"].sum(min_count=1) if "budget_share" in items else None)
        rows.append(f"<tr class='dg-phase'><th colspan='2'>{escape_html(title)}</th>"
                    f"<th>{escape_html(total)}</th></tr>")
        for r in items.itertuples(index=False):
            name = getattr(r, in_language(language, "name_zh", "name_en"))
            rows.append(f"<tr><td>{escape_html(cell_text(r.initiative_id))} {escape_html(cell_text(name))}</td>"
                        f"<td>{escape_html(dimension_name(str(r.dimension), language))}</td>"
                        f"<td>{escape_html(money(r.budget, getattr(r, 'budget_share', None)))}</td></tr>")
    columns = (("举措", "Initiative"), ("维度", "Dimension"),
               ("预算（元）", "Budget (CNY)") if amounts else ("预算占比", "Budget share"))
    head = "<tr>" + "".join(f"<th>{escape_html(in_language(language, *pair))}</th>" for pair in columns) + "</tr>"
    out = f"<table class='dg-table dg-roadmap'>{head}{''.join(rows)}</table>"
    if budget is not None and len(budget):
        value = "budget" if amounts and budget["budget"].notna().any() else "programme_share"
        shown = fmt_number if value == "budget" else fmt_percent
        categories = [c for c in BUDGET_CATEGORIES if c in set(budget["category"])]
        split = budget.pivot_table(index="phase", columns="category", values=value, aggfunc="sum", sort=False)
        names = budget.drop_duplicates("phase").set_index("phase")[in_language(language, "phase_zh", "phase_en")]
        head = "<tr><th>" + escape_html(in_language(language, "阶段", "Phase")) + "</th>" + "".join(
            f"<th>{escape_html(term(language, BUDGET_CATEGORIES, c))}</th>" for c in categories) + "</tr>"
        body = "".join("<tr><td>" + escape_html(cell_text(names.get(phase, phase))) + "</td>" + "".join(
            f"<td>{escape_html(shown(None if pd.isna(split.at[phase, c]) else float(split.at[phase, c])))}</td>"
            for c in categories) + "</tr>" for phase in split.index)
        out += (f"<h4>{escape_html(in_language(language, '预算按类别', 'Budget by category'))}</h4>"
                f"<table class='dg-table dg-budget'>{head}{body}</table>")
    return out


# --- segments -------------------------------------------------------------------------------------------------
def segments_html(table: pd.DataFrame, language: str) -> str:
    rows = "".join(f"<tr><td>{escape_html(in_language(language, r.name_zh, r.name_en))}</td>"
                   f"<td>{int(r.customers):,}</td>"
                   f"<td>{escape_html(fmt_percent(r.share))}</td><td>{escape_html(fmt_number(r.value))}</td>"
                   f"<td>{escape_html(fmt_percent(r.value_share))}</td></tr>" for r in table.itertuples(index=False))
    head = in_language(language, "<tr><th>分群</th><th>人数</th><th>占比</th><th>消费金额</th><th>金额占比</th></tr>",
                       "<tr><th>Segment</th><th>Customers</th><th>Share</th><th>Value</th><th>Value share</th></tr>")
    return f"<table class='dg-table'>{head}{rows}</table>"


#: The labels stage's row and column of customers without a segment in one of the runs (``labels.measures.migration``).
MIGRATION_NONE = "(none)"
MIGRATION_NONE_NAMES = ("无分群或不在该次运行", "no segment, or not in that run")


def migration_html(migration: pd.DataFrame | None, names: dict[str, tuple[str, str]], language: str) -> str:
    """Customers by segment in the previous run (rows) and this run (columns), as ``outputs/labels/migration``."""
    if migration is None or migration.empty:
        return note(in_language(language, "没有上一次运行的分群可比较。", "No previous run to compare segments with."))
    matrix = migration.set_index("previous")  # the labels stage's table: previous segment × current segment
    names = {**names, MIGRATION_NONE: MIGRATION_NONE_NAMES}

    def name(s: str) -> str:
        return in_language(language, *names[s]) if s in names else s

    head = "<tr><th>" + escape_html(in_language(language, "上次 → 本次", "previous → now")) + "</th>" + "".join(
        f"<th>{escape_html(name(c))}</th>" for c in matrix.columns) + "</tr>"
    rows = "".join("<tr><th>" + escape_html(name(i)) + "</th>" + "".join(f"<td>{int(v):,}</td>" for v in row) + "</tr>"
                   for i, row in zip(matrix.index, matrix.to_numpy()))
    return f"<table class='dg-table'>{head}{rows}</table>"


def customer_sample(tags: pd.DataFrame, customers: pd.DataFrame | None, segment: str, n: int = 5) -> pd.DataFrame:
    """The segment's top customers by value, personal fields masked (``digiops.masking``)."""
    rows = tags[tags["rfm_segment"].fillna(NO_SEGMENT).astype(str) == segment].copy()
    rows["monetary"] = pd.to_numeric(rows.get("monetary"), errors="coerce")
    rows = rows.sort_values(["monetary", "customer_id"], ascending=[False, True]).head(n)[["customer_id", "monetary"]]
    if customers is not None:
        keep = [c for c in ("customer_id", "full_name", "phone", "email", "city") if c in customers.columns]
        rows = rows.merge(customers[keep], on="customer_id", how="left")
    return mask_frame(rows).reset_index(drop=True)


#: The sample's columns → words (``customer_sample``).
SAMPLE_COLUMNS = {"customer_id": ("客户编号", "Customer"), "monetary": ("消费金额", "Value"),
                  "full_name": ("姓名", "Name"), "phone": ("手机", "Phone"), "email": ("邮箱", "E-mail"),
                  "city": ("城市", "City")}


def cell_text(value: object) -> str:
    """A cell as text: a missing value (None, NaN, pd.NA, blank) reads "–", never ``nan`` or ``None``.

    >>> cell_text(None), cell_text(float("nan")), cell_text(pd.NA), cell_text(" "), cell_text("上海")
    ('–', '–', '–', '–', '上海')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    return str(value).strip() or "–"


def sample_html(sample: pd.DataFrame, language: str) -> str:
    """The masked sample with its columns named in ``language`` and the value as money."""
    head = "".join(f"<th>{escape_html(term(language, SAMPLE_COLUMNS, c))}</th>" for c in sample.columns)
    body = "".join("<tr>" + "".join(
        f"<td>{escape_html(fmt_number(float(v)) if c == 'monetary' and cell_text(v) != '–' else cell_text(v))}</td>"
        for c, v in zip(sample.columns, row, strict=True)) + "</tr>" for row in sample.itertuples(index=False))
    return f"<table class='dg-table'><tr>{head}</tr>{body}</table>"


# --- data quality ---------------------------------------------------------------------------------------------
def quality_by_source(quality: pd.DataFrame, phase: str) -> pd.DataFrame:
    """Mean of each quality measure per source for one phase (``before`` / ``after`` cleaning)."""
    rows = quality[quality["phase"] == phase] if "phase" in quality.columns else quality
    measures = [m for m in QUALITY_MEASURES if m in rows.columns]
    return rows.groupby("source", sort=True)[measures].mean().reset_index()


def quality_html(table: pd.DataFrame, language: str) -> str:
    measures = [m for m in QUALITY_MEASURES if m in table.columns]
    head = "<tr><th>" + escape_html(in_language(language, "来源", "Source")) + "</th>" + "".join(
        f"<th>{escape_html(term(language, MEASURE_NAMES, m))}</th>" for m in measures) + "</tr>"
    rows = []
    for r in table.itertuples(index=False):
        cells = []
        for m in measures:
            value = getattr(r, m)
            if value is None or pd.isna(value):  # not measured for this source (e.g. uniqueness of non-ids)
                cells.append(f"<td class='dg-na'>{escape_html(in_language(language, '不适用', 'n/a'))}</td>")
                continue
            colour = "#2e7d32" if value >= 0.95 else ("#f9a825" if value >= 0.8 else "#c62828")
            cells.append(f"<td><div class='dg-bar'><div style='width:{value * 100:.0f}%;background:{colour}'></div>"
                         f"</div>{escape_html(fmt_percent(value))}</td>")
        rows.append(f"<tr><td>{escape_html(r.source)}</td>{''.join(cells)}</tr>")
    return (f"<table class='dg-table'>{head}{''.join(rows)}</table>"
            f"<p class='dg-definition'>{escape_html(in_language(language, *MEASURE_DEFINITIONS))}</p>")


CSS = """<style>
.dg-table{border-collapse:collapse;margin:6px 0 12px;font-size:14px}
.dg-table th,.dg-table td{border-bottom:1px solid #e0e0e0;padding:4px 10px;text-align:left}
.dg-bar{display:inline-block;width:90px;height:8px;background:#eee;margin-right:6px;vertical-align:middle}
.dg-bar div{height:8px}
.dg-note{color:#555;font-style:italic}
.dg-definition{color:#555;font-size:12px;max-width:900px}
.dg-header h1{margin:4px 0;font-size:22px}
.dg-heading{margin:14px 0 4px;font-size:16px}
.dg-row{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
.dg-scroll{overflow-x:auto;max-width:100%}
.dg-table tr.dg-current td{font-weight:bold;background:#f5f8ff}
.dg-table tr.dg-late td{background:#fff4f4}
.dg-overdue{white-space:nowrap;color:#fff;background:#c62828;border-radius:3px;padding:0 4px;font-size:12px}
.dg-behind{color:#c62828;font-weight:bold}
.dg-table tr.dg-phase th{background:#f3f3f3}
.dg-tree,.dg-tree ul{list-style:none;padding-left:22px;margin:2px 0}
.dg-tree{padding-left:0}
.dg-node{margin:3px 0;padding:3px 8px;background:#fafafa;display:inline-block}
.dg-combine{color:#777;font-size:12px}
</style>"""
