"""What the dashboard shows, as pure functions: frames of one run's outputs in, small frames or HTML out.

Nothing here reads a file or touches a widget (see :mod:`digiops.dashboard.data` and :mod:`digiops.dashboard.app`).
All client text is escaped.

Example:
    >>> svg = radar_svg({"流程<数字化>": 2.0, "数据": 3.0, "业务": 4.0}, {"流程<数字化>": 3.0, "数据": 3.0, "业务": 3.0})
    >>> svg.startswith("<svg") and "流程&lt;数字化&gt;" in svg and "<数字化>" not in svg
    True
"""

from __future__ import annotations

import math

import pandas as pd

from digiops.masking import mask_frame
from digiops.merge.quality import MEASURE_DEFINITIONS, MEASURE_NAMES, QUALITY_MEASURES
from digiops.summary.collect import NO_SEGMENT
from digiops.summary.render import fmt_measured, fmt_number, fmt_percent
from digiops.text import STATUS_COLOURS, escape_html, in_language, term

LEVEL_ORDER = {"all": 0, "region": 1, "store": 2}


# --- KPI ------------------------------------------------------------------------------------------------------
def units(attainment: pd.DataFrame) -> list[tuple[str, str]]:
    """(unit, level) in tree order: the company first, then regions, then stores; each unit once, at its highest
    level (the online channel is a region of the tree and a unit of its own stores' KPIs alike).

    >>> import pandas as pd
    >>> units(pd.DataFrame({"unit": ["S1", "online", "all", "online", "华东"],
    ...                     "level": ["store", "store", "all", "region", "region"]}))
    [('all', 'all'), ('online', 'region'), ('华东', 'region'), ('S1', 'store')]
    """
    pairs = attainment[["unit", "level"]].drop_duplicates().astype(str)
    pairs = pairs.sort_values(["level", "unit"], key=lambda s: s.map(LEVEL_ORDER).fillna(3) if s.name == "level"
                              else s)
    return list(pairs.drop_duplicates("unit").itertuples(index=False, name=None))


def periods(attainment: pd.DataFrame) -> list[str]:
    return sorted(attainment["period"].dropna().astype(str).unique())


def review_period(attainment: pd.DataFrame) -> str | None:
    if "reviewed" in attainment.columns and attainment["reviewed"].fillna(False).astype(bool).any():
        return str(attainment.loc[attainment["reviewed"].fillna(False).astype(bool), "period"].iloc[0])
    found = periods(attainment)
    return found[-1] if found else None


def kpi_view(attainment: pd.DataFrame, unit: str, period: str) -> pd.DataFrame:
    """The KPIs of one unit and month: ``kpi, actual, target, attainment, status`` (file order of the KPIs)."""
    rows = attainment[(attainment["unit"].astype(str) == unit) & (attainment["period"].astype(str) == period)]
    return rows[["kpi", "actual", "target", "attainment", "status"]].reset_index(drop=True)


def _fmt_value(value: object, measure: str = "") -> str:
    if value is None or pd.isna(value):
        return "–"
    return fmt_measured(float(value), measure)


def _note(text: str) -> str:
    return f"<p class='dg-note'>{escape_html(text)}</p>"


def _kpi_name(names: dict[str, dict[str, str]], kpi: str, language: str) -> str:
    known = names.get(kpi, {})
    return in_language(language, known.get("zh", kpi), known.get("en", kpi))


def kpi_html(view: pd.DataFrame, names: dict[str, dict[str, str]], language: str) -> str:
    if view.empty:
        return _note(in_language(language, "该单元在此月份没有数据。", "No figures for this unit and month."))
    rows = []
    for r in view.itertuples(index=False):
        name = _kpi_name(names, r.kpi, language)
        measure = names.get(r.kpi, {}).get("measure", "")
        colour = STATUS_COLOURS.get(str(r.status), STATUS_COLOURS["none"])
        attainment = None if r.attainment is None or pd.isna(r.attainment) else float(r.attainment)
        width = 0 if attainment is None else min(attainment, 1.5) / 1.5 * 100
        rows.append(f"<tr class='dg-kpi' data-kpi='{escape_html(r.kpi)}'>"
                    f"<td><span style='color:{colour}'>●</span> {escape_html(name)}</td>"
                    f"<td class='dg-actual'>{escape_html(_fmt_value(r.actual, measure))}</td>"
                    f"<td>{escape_html(_fmt_value(r.target, measure))}</td>"
                    f"<td class='dg-attainment'>{escape_html(fmt_percent(attainment))}</td>"
                    f"<td><div class='dg-bar'><div style='width:{width:.0f}%;background:{colour}'></div></div></td>"
                    "</tr>")
    head = in_language(language, "<tr><th>KPI</th><th>实际</th><th>目标</th><th>达成率</th><th></th></tr>",
                       "<tr><th>KPI</th><th>Actual</th><th>Target</th><th>Attainment</th><th></th></tr>")
    defined = "; ".join(f"{_kpi_name(names, k, language)}: {names[k]['definition']}"
                        for k in view["kpi"] if names.get(k, {}).get("definition"))
    definition = in_language(language, "达成率 = 实际 ÷ 目标（越低越好的指标为 目标 ÷ 实际）。",
                             "Attainment = actual ÷ target (target ÷ actual where lower is better).")
    definition += " " + defined if defined else ""
    return (f"<table class='dg-table'>{head}{''.join(rows)}</table>"
            f"<p class='dg-definition'>{escape_html(definition)}</p>")


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


# --- segments -------------------------------------------------------------------------------------------------
def segments_html(table: pd.DataFrame, language: str) -> str:
    rows = "".join(f"<tr><td>{escape_html(in_language(language, r.name_zh, r.name_en))}</td>"
                   f"<td>{int(r.customers):,}</td>"
                   f"<td>{escape_html(fmt_percent(r.share))}</td><td>{escape_html(fmt_number(r.value))}</td>"
                   f"<td>{escape_html(fmt_percent(r.value_share))}</td></tr>" for r in table.itertuples(index=False))
    head = in_language(language, "<tr><th>分群</th><th>人数</th><th>占比</th><th>消费金额</th><th>金额占比</th></tr>",
                       "<tr><th>Segment</th><th>Customers</th><th>Share</th><th>Value</th><th>Value share</th></tr>")
    return f"<table class='dg-table'>{head}{rows}</table>"


def migration_html(migration: pd.DataFrame | None, names: dict[str, tuple[str, str]], language: str) -> str:
    """Customers by segment in the previous run (rows) and this run (columns), as ``outputs/labels/migration``."""
    if migration is None or migration.empty:
        return _note(in_language(language, "没有上一次运行的分群可比较。", "No previous run to compare segments with."))
    matrix = migration.set_index("previous")  # the labels stage's table: previous segment × current segment

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


def _cell(value: object) -> object:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else value


def frame_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{escape_html(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape_html(_cell(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
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
</style>"""
