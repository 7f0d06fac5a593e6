"""The dashboard's KPI views, as pure functions: the kpi stage's tables in, small frames or HTML / inline SVG out.

Attainment by unit and month, the KPI tree coloured by status, a KPI's trend across months, the variance bridge,
run-rate pacing, the funnel and the action log. Nothing here reads a file, computes a KPI or touches a widget
(:mod:`digiops.dashboard.app` does); charts are inline SVG, so the dashboard's first render needs no plotting
library. All client text is escaped; action owners and free text are masked.

Example:
    >>> names = {"gmv": {"zh": "成交额", "en": "<GMV>", "measure": "元"}}
    >>> attainment = pd.DataFrame({"kpi": "gmv", "unit": "all", "period": ["2026-01", "2026-02"],
    ...                            "actual": [90.0, 120.0], "target": [100.0, None], "attainment": [0.9, None],
    ...                            "status": ["amber", "none"]})
    >>> html = kpi_html(kpi_view(attainment, "all", "2026-02"), names, "en")
    >>> html += trend_html(kpi_trend(attainment, "gmv", "all"), "gmv", names, "en", "2026-02")
    >>> "<svg" in html and "&lt;GMV&gt;" in html and "<GMV>" not in html and "nan" not in html
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from digiops.dashboard.views import cell_text, note
from digiops.masking import mask_owner, mask_text
from digiops.summary.render import fmt_measured, fmt_number, fmt_percent
from digiops.text import FUNNEL_STAGES, KPI_STATUS, STATUS_COLOURS, VARIANCE_METHODS, escape_html, in_language, term

LEVEL_ORDER = {"all": 0, "region": 1, "store": 2}
#: breakdowns of ``variance.parquet`` in the order the bridges are shown
BREAKDOWNS = {"factor": ("按因子", "by factor"), "region": ("按大区", "by region"), "store": ("按门店", "by store"),
              "region_mix": ("按大区：组内与结构", "by region: within and mix"),
              "store_mix": ("按门店：组内与结构", "by store: within and mix")}
EFFECTS = {"inner": ("组内", "within"), "mix": ("结构", "mix")}
COMBINE_SIGNS = {"product": " × ", "sum": " + ", "ratio": " ÷ "}
BLUE, RED, GREY = "#4c72b0", "#c62828", "#607d8b"


def _float(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


def _status(value: object) -> str:
    """A KPI status code (``green``, ``amber``, ``red``); anything else (no target, missing) is ``none``."""
    return value if isinstance(value, str) and value in STATUS_COLOURS else "none"


def kpi_name(names: dict[str, dict[str, str]], kpi: str, language: str) -> str:
    known = names.get(kpi, {})
    return in_language(language, known.get("zh", kpi), known.get("en", kpi))


def _measure(names: dict[str, dict[str, str]], kpi: str) -> str:
    return names.get(kpi, {}).get("measure", "")


def _value(value: object, measure: str = "") -> str:
    return fmt_measured(_float(value), measure)


def _signed(value: object, measure: str, language: str) -> str:
    """A change in the KPI's unit with its sign; rates in percentage points."""
    number = _float(value)
    if number is None:
        return "–"
    sign = "+" if number >= 0 else "−"
    if measure == "%":
        return f"{sign}{abs(number) * 100:.2f}" + in_language(language, " 个百分点", " pp")
    return sign + fmt_measured(abs(number), measure)


def _svg(width: float, height: float, body: list[str], css_class: str) -> str:
    return (f"<svg xmlns='http://www.w3.org/2000/svg' class='{css_class}' width='{width:.0f}' height='{height:.0f}' "
            f"viewBox='0 0 {width:.0f} {height:.0f}' font-size='11'>{''.join(body)}</svg>")


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` half-width places (a Chinese character takes two), the cut marked "…".

    >>> _cut("Average order value", 12), _cut("客流（访客数）", 12), _cut("S001", 12)
    ('Average ord…', '客流（访客…', 'S001')
    """
    def width(ch: str) -> int:
        return 2 if ord(ch) >= 0x2E80 else 1

    if sum(map(width, text)) <= limit:
        return text
    used, kept = 1, ""  # the mark takes one place
    for ch in text:
        if used + width(ch) > limit:
            break
        kept, used = kept + ch, used + width(ch)
    return kept + "…"


def _label(text: str, x: float, y: float, anchor: str = "middle", limit: int = 0, **attrs: str) -> str:
    """SVG text, cut to ``limit`` half-width places (:func:`_cut`) with the whole text as its tooltip."""
    shown = _cut(text, limit) if limit else text
    extra = "".join(f" {k.replace('_', '-')}='{v}'" for k, v in attrs.items())
    tip = f"<title>{escape_html(text)}</title>" if shown != text else ""
    return f"<text x='{x:.1f}' y='{y:.1f}' text-anchor='{anchor}'{extra}>{tip}{escape_html(shown)}</text>"


def _table(head: list[str], rows: list[list[str]], row_classes: list[str] | None = None) -> str:
    """An HTML table of already escaped cells."""
    top = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(f"<tr{f' class={c!r}' if c else ''}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>"
                   for row, c in zip(rows, row_classes or [""] * len(rows), strict=True))
    return f"<table class='dg-table'><tr>{top}</tr>{body}</table>"


# --- units and months -----------------------------------------------------------------------------------------
def units(attainment: pd.DataFrame) -> list[tuple[str, str]]:
    """(unit, level) in tree order: the company first, then regions, then stores; each unit once, at its highest
    level (the online channel is a region of the tree and a unit of its own stores' KPIs alike).

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


def kpis(attainment: pd.DataFrame, names: dict[str, dict[str, str]]) -> list[str]:
    """The KPIs with figures, in the tree file's order (``kpi_names.json``), then any others as they come."""
    present = list(dict.fromkeys(attainment["kpi"].dropna().astype(str)))
    return [k for k in names if k in present] + [k for k in present if k not in names]


# --- attainment -----------------------------------------------------------------------------------------------
def kpi_view(attainment: pd.DataFrame, unit: str, period: str, order: list[str] | None = None) -> pd.DataFrame:
    """The KPIs of one unit and month: ``kpi, actual, target, attainment, status``, in ``order`` (the tree's,
    :func:`kpis`) or else as the file has them."""
    rows = attainment[(attainment["unit"].astype(str) == unit) & (attainment["period"].astype(str) == period)]
    rows = rows[["kpi", "actual", "target", "attainment", "status"]]
    if order:
        rank = {k: i for i, k in enumerate(order)}
        rows = rows.sort_values("kpi", key=lambda s: s.map(rank).fillna(len(rank)), kind="stable")
    return rows.reset_index(drop=True)


def kpi_html(view: pd.DataFrame, names: dict[str, dict[str, str]], language: str) -> str:
    if view.empty:
        return note(in_language(language, "该单元在此月份没有数据。", "No figures for this unit and month."))
    rows = []
    for r in view.itertuples(index=False):
        measure = _measure(names, r.kpi)
        colour = STATUS_COLOURS[_status(r.status)]
        attainment = _float(r.attainment)
        width = 0 if attainment is None else max(min(attainment, 1.5), 0) / 1.5 * 100
        rows.append(f"<tr class='dg-kpi' data-kpi='{escape_html(r.kpi)}'>"
                    f"<td><span style='color:{colour}'>●</span> {escape_html(kpi_name(names, r.kpi, language))}</td>"
                    f"<td class='dg-actual'>{escape_html(_value(r.actual, measure))}</td>"
                    f"<td>{escape_html(_value(r.target, measure))}</td>"
                    f"<td class='dg-attainment'>{escape_html(fmt_percent(attainment))}</td>"
                    f"<td><div class='dg-bar'><div style='width:{width:.0f}%;background:{colour}'></div></div></td>"
                    "</tr>")
    head = in_language(language, "<tr><th>KPI</th><th>实际</th><th>目标</th><th>达成率</th><th></th></tr>",
                       "<tr><th>KPI</th><th>Actual</th><th>Target</th><th>Attainment</th><th></th></tr>")
    defined = "; ".join(f"{kpi_name(names, k, language)}: {names[k]['definition']}"
                        for k in view["kpi"] if names.get(k, {}).get("definition"))
    definition = in_language(language, "达成率 = 实际 ÷ 目标（越低越好的指标为 目标 ÷ 实际）。",
                             "Attainment = actual ÷ target (target ÷ actual where lower is better).")
    definition += " " + defined if defined else ""
    return (f"<table class='dg-table'>{head}{''.join(rows)}</table>"
            f"<p class='dg-definition'>{escape_html(definition)}</p>")


# --- the KPI tree ---------------------------------------------------------------------------------------------
def tree_view(tree: pd.DataFrame, attainment: pd.DataFrame, unit: str, period: str) -> pd.DataFrame:
    """The tree's rows (``tree.parquet``: kpi, parent, position, combine, …) with the node's ``actual, target,
    attainment, status`` at ``unit`` in ``period`` (missing figures NaN, status ``none``)."""
    figures = kpi_view(attainment, unit, period).drop_duplicates("kpi")
    view = tree.merge(figures, on="kpi", how="left")
    view["status"] = view["status"].map(_status)
    return view.sort_values(["position"], kind="stable").reset_index(drop=True)


def tree_html(view: pd.DataFrame, names: dict[str, dict[str, str]], language: str) -> str:
    """The tree nested by parent → children, each node coloured by its status (a node under two parents is
    shown under each); under a node with children, how they make it (``= a × b``)."""
    if view.empty:
        return note(in_language(language, "KPI 树没有节点。", "The KPI tree has no nodes."))
    children: dict[str | None, list[str]] = {}
    for r in view.itertuples(index=False):
        parent = r.parent if isinstance(r.parent, str) else None
        children.setdefault(parent, []).append(r.kpi)
    node = view.drop_duplicates("kpi").set_index("kpi")

    def item(kpi: str, path: tuple[str, ...]) -> str:
        r = node.loc[kpi]
        measure = str(r["measure"]) if isinstance(r["measure"], str) else _measure(names, kpi)
        colour = STATUS_COLOURS[r["status"]]
        figures = (f"{_value(r['actual'], measure)} / {_value(r['target'], measure)} · "
                   f"{fmt_percent(_float(r['attainment']))} · {term(language, KPI_STATUS, r['status'])}")
        if _float(r["actual"]) is None and _float(r["target"]) is None:
            figures = in_language(language, "此单元此月无数据", "no figures for this unit and month")
        own = [c for c in children.get(kpi, []) if c not in path]  # a cycle cannot loop the page
        how = ""
        if own:
            sign = COMBINE_SIGNS.get(str(r["combine"]), ", ")
            how = ("<div class='dg-combine'>= " + escape_html(sign.join(kpi_name(names, c, language) for c in own))
                   + "</div>")
        nested = "<ul>" + "".join(item(c, (*path, kpi)) for c in own) + "</ul>" if own else ""
        return (f"<li><div class='dg-node' data-node='{escape_html(kpi)}' data-status='{escape_html(r['status'])}' "
                f"style='border-left:6px solid {colour}'><b>{escape_html(kpi_name(names, kpi, language))}</b> "
                f"<span>{escape_html(figures)}</span>{how}</div>{nested}</li>")

    legend = " ".join(f"<span style='color:{STATUS_COLOURS[s]}'>■</span> {escape_html(term(language, KPI_STATUS, s))}"
                      for s in KPI_STATUS)
    key = in_language(language, "实际 / 目标 · 达成率 · 状态：", "actual / target · attainment · status: ")
    return (f"<ul class='dg-tree'>{''.join(item(k, ()) for k in children.get(None, []))}</ul>"
            f"<p class='dg-definition'>{escape_html(key)}{legend}</p>")


# --- trend across months --------------------------------------------------------------------------------------
def kpi_trend(attainment: pd.DataFrame, kpi: str, unit: str) -> pd.DataFrame:
    """One KPI at one unit, every month: ``period, actual, target, attainment, status``, oldest first."""
    rows = attainment[(attainment["kpi"].astype(str) == kpi) & (attainment["unit"].astype(str) == unit)]
    rows = rows.drop_duplicates("period").sort_values("period")
    return rows[["period", "actual", "target", "attainment", "status"]].reset_index(drop=True)


def trend_svg(trend: pd.DataFrame, measure: str, language: str, period: str | None = None, width: int = 640,
              height: int = 240) -> str:
    """Actual (points coloured by status) and target (dashed) across months; ``period`` marked."""
    left, right, top, bottom = 78, 16, 26, 34
    values = [v for v in (_float(x) for x in [*trend["actual"], *trend["target"]]) if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    n = len(trend)

    def x(i: int) -> float:
        return left + (width - left - right) * (i + 0.5) / max(n, 1)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (high - v) / (high - low)

    body = []
    for k in range(5):
        v = low + (high - low) * k / 4
        body.append(f"<line x1='{left}' x2='{width - right}' y1='{y(v):.1f}' y2='{y(v):.1f}' stroke='#eee'/>")
        body.append(_label(fmt_measured(v, measure), left - 6, y(v) + 4, "end", fill="#555"))
    if period in set(trend["period"]):
        i = int(trend.index[trend["period"] == period][0])
        body.append(f"<line class='dg-current' x1='{x(i):.1f}' x2='{x(i):.1f}' y1='{top}' y2='{height - bottom}' "
                    "stroke='#999' stroke-dasharray='2 3'/>")
        body.append(_label(str(period), x(i) + (4 if i < n / 2 else -4), top + 10, "start" if i < n / 2 else "end",
                           fill="#333", font_weight="bold"))
    for column, colour, dash in (("target", RED, " stroke-dasharray='5 4'"), ("actual", BLUE, "")):
        segment: list[str] = []
        for i, value in enumerate([*trend[column], None]):
            v = _float(value)
            if v is not None:
                segment.append(f"{x(i):.1f},{y(v):.1f}")
            elif segment:  # a month without a figure breaks the line
                body.append(f"<polyline class='dg-{column}' points='{' '.join(segment)}' fill='none' "
                            f"stroke='{colour}' stroke-width='2'{dash}/>")
                segment = []
    for i, value in enumerate(trend["target"]):  # each month's target as a tick: a lone month shows too
        v = _float(value)
        if v is not None:
            body.append(f"<line x1='{x(i) - 6:.1f}' x2='{x(i) + 6:.1f}' y1='{y(v):.1f}' y2='{y(v):.1f}' "
                        f"stroke='{RED}' stroke-width='2'/>")
    for i, r in enumerate(trend.itertuples(index=False)):
        v = _float(r.actual)
        if v is not None:
            colour = STATUS_COLOURS[_status(r.status)]
            body.append(f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='{5 if r.period == period else 3.5}' "
                        f"fill='{colour}'><title>{escape_html(f'{r.period}: {_value(v, measure)}')}</title></circle>")
    step = max(1, math.ceil(n / 9))
    for i, p in enumerate(trend["period"]):
        if i % step == 0:
            body.append(_label(str(p), x(i), height - bottom + 16, fill="#777"))
    body.append(f"<line x1='{left}' x2='{left + 18}' y1='12' y2='12' stroke='{BLUE}' stroke-width='2'/>")
    body.append(_label(in_language(language, "实际", "actual"), left + 22, 16, "start"))
    body.append(f"<line x1='{left + 90}' x2='{left + 108}' y1='12' y2='12' stroke='{RED}' stroke-width='2' "
                "stroke-dasharray='5 4'/>")
    body.append(_label(in_language(language, "目标", "target"), left + 112, 16, "start"))
    return _svg(width, height, body, "dg-trend-chart")


def trend_html(trend: pd.DataFrame, kpi: str, names: dict[str, dict[str, str]], language: str,
               period: str | None = None) -> str:
    """The trend chart and its numbers, one row per month (``period`` in bold)."""
    if trend.empty:
        return note(in_language(language, "该指标在此单元没有数据。", "No figures for this KPI at this unit."))
    measure = _measure(names, kpi)
    rows = [[escape_html(r.period), escape_html(_value(r.actual, measure)), escape_html(_value(r.target, measure)),
             escape_html(fmt_percent(_float(r.attainment))),
             f"<span style='color:{STATUS_COLOURS[_status(r.status)]}'>●</span> "
             + escape_html(term(language, KPI_STATUS, _status(r.status)))] for r in trend.itertuples(index=False)]
    head = [escape_html(in_language(language, *pair)) for pair in
            (("月份", "Month"), ("实际", "Actual"), ("目标", "Target"), ("达成率", "Attainment"), ("状态", "Status"))]
    table = _table(head, rows, ["dg-current" if p == period else "" for p in trend["period"]])
    return (f"<div class='dg-row'>{trend_svg(trend, measure, language, period)}"
            f"<div class='dg-scroll'>{table}</div></div>")


# --- the variance bridge --------------------------------------------------------------------------------------
@dataclass
class Bridge:
    """A KPI from one month to the next at one unit, through the contributions of one breakdown."""

    kpi: str
    unit: str
    breakdown: str
    period_from: str
    period_to: str
    start: float | None
    end: float | None
    change: float | None
    steps: pd.DataFrame  # item, effect, value_from, value_to, contribution, method (``others`` sums the rest)


def bridges(variance: pd.DataFrame, attainment: pd.DataFrame, kpi: str, unit: str, top: int = 8) -> list[Bridge]:
    """Every breakdown of ``variance.parquet`` for ``kpi`` at ``unit``: the largest ``top`` contributions by size
    and the rest summed as ``item = None`` (``others`` in ``effect`` counts them). The ends are the KPI's actuals
    in the two months (``attainment.parquet``); contributions sum to the change between them."""
    rows = variance[(variance["kpi"].astype(str) == kpi) & (variance["unit"].astype(str) == unit)]
    found = []
    actual = attainment[(attainment["kpi"].astype(str) == kpi) & (attainment["unit"].astype(str) == unit)]
    actual = actual.drop_duplicates("period").set_index("period")["actual"]
    for breakdown in [b for b in BREAKDOWNS if b in set(rows["breakdown"])]:
        part = rows[rows["breakdown"] == breakdown].copy()
        part["size"] = part["contribution"].abs()
        part = part.sort_values("size", ascending=False, kind="stable")
        shown = part.head(top)[["item", "effect", "value_from", "value_to", "contribution", "method"]]
        rest = part.iloc[top:]
        if len(rest):
            shown = pd.concat([shown, pd.DataFrame([{"item": None, "effect": f"others:{len(rest)}",
                                                     "contribution": rest["contribution"].sum(min_count=1)}])],
                              ignore_index=True)
        first = part.iloc[0]
        start, end = _float(actual.get(first["period_from"])), _float(actual.get(first["period_to"]))
        change = _float(first["change"])
        if start is None and end is not None and change is not None:
            start = end - change
        if end is None and start is not None and change is not None:
            end = start + change
        found.append(Bridge(kpi, unit, breakdown, str(first["period_from"]), str(first["period_to"]), start, end,
                            change, shown.reset_index(drop=True)))
    return found


def _step_name(item: object, effect: object, names: dict[str, dict[str, str]], language: str) -> str:
    if not isinstance(item, str):
        count = str(effect).partition(":")[2]
        return in_language(language, f"其他 {count} 项", f"{count} others")
    name = kpi_name(names, item, language)
    return f"{name} · {term(language, EFFECTS, effect)}" if isinstance(effect, str) and effect in EFFECTS else name


def bridge_svg(bridge: Bridge, names: dict[str, dict[str, str]], language: str, height: int = 260) -> str:
    """A waterfall: the KPI last month, each contribution (green up, red down), the KPI this month."""
    measure = _measure(names, bridge.kpi)
    steps = [(_step_name(r.item, r.effect, names, language), _float(r.contribution) or 0.0)
             for r in bridge.steps.itertuples(index=False)]
    start = bridge.start or 0.0
    end = bridge.end if bridge.end is not None else start + sum(v for _, v in steps)
    levels = [start, end]
    running = start
    for _, v in steps:
        running += v
        levels.append(running)
    low, high = min(levels), max(levels)
    span = high - low
    if low > 0:  # the ends need not start at zero: the changes between them stay visible, the ends are labelled
        floor = max(0.0, low - 2 * span) if span else low * 0.8
    else:
        floor = low - 0.1 * span
    top_value = high + (high - floor) * 0.08
    left, bottom, top, slot = 20, 46, 18, 74
    width = left * 2 + slot * (len(steps) + 2)

    def y(v: float) -> float:
        return top + (height - top - bottom) * (top_value - v) / ((top_value - floor) or 1.0)

    body = [f"<line x1='{left}' x2='{width - left}' y1='{y(floor):.1f}' y2='{y(floor):.1f}' stroke='#bbb'/>"]
    bars = [(bridge.period_from, floor, start, GREY, _value(bridge.start, measure))]
    running = start
    for name, v in steps:
        bars.append((name, running, running + v, BLUE if v == 0 else ("#2e7d32" if v > 0 else RED),
                     _signed(v, measure, language)))
        running += v
    bars.append((bridge.period_to, floor, end, GREY, _value(bridge.end, measure)))
    for i, (name, a, b, colour, shown) in enumerate(bars):
        x = left + slot * i + 10
        y0, y1 = sorted((y(a), y(b)))
        body.append(f"<rect x='{x}' y='{y0:.1f}' width='{slot - 20}' height='{max(y1 - y0, 1):.1f}' fill='{colour}'>"
                    f"<title>{escape_html(f'{name}: {shown}')}</title></rect>")
        body.append(_label(shown, x + (slot - 20) / 2, y0 - 4, fill="#333"))
        body.append(_label(name, x + (slot - 20) / 2, height - bottom + 16 + 13 * (i % 2 and len(bars) > 8),
                           limit=12, fill="#555"))
        if i < len(bars) - 1:  # where the next bar starts
            body.append(f"<line x1='{x + slot - 20}' x2='{x + slot + 10}' y1='{y(b):.1f}' y2='{y(b):.1f}' "
                        "stroke='#999' stroke-dasharray='2 2'/>")
    return _svg(width, height, body, "dg-bridge-chart")


def bridge_html(bridge: Bridge, names: dict[str, dict[str, str]], language: str) -> str:
    """The waterfall, then each step's values and contribution, and how a change was attributed where LMDI's
    logarithm is undefined."""
    title = (f"{kpi_name(names, bridge.kpi, language)} · {bridge.period_from} → {bridge.period_to} · "
             f"{term(language, BREAKDOWNS, bridge.breakdown)}")
    if bridge.steps["contribution"].isna().all():
        return f"<h4>{escape_html(title)}</h4>" + note(in_language(language, "缺少因子数据，无法分解这次变动。",
                                                  "A factor has no data, so this change cannot be attributed."))
    measure = _measure(names, bridge.kpi)
    rows = []
    for r in bridge.steps.itertuples(index=False):
        # a factor is a KPI in its own unit; a region or store holds the KPI itself
        unit_measure = _measure(names, r.item) if bridge.breakdown == "factor" and isinstance(r.item, str) else measure
        moved = (f"{_value(r.value_from, unit_measure)} → {_value(r.value_to, unit_measure)}"
                 if isinstance(r.item, str) else "–")
        share = _float(r.contribution) / bridge.change if bridge.change and _float(r.contribution) is not None \
            else None
        rows.append([escape_html(_step_name(r.item, r.effect, names, language)), escape_html(moved),
                     escape_html(_signed(r.contribution, measure, language)), escape_html(fmt_percent(share))])
    head = [escape_html(in_language(language, *pair)) for pair in
            (("项", "Item"), ("上月 → 本月", "Before → after"), ("贡献", "Contribution"), ("占变动", "Share of change"))]
    methods = sorted({m for m in bridge.steps["method"].dropna().astype(str) if m in VARIANCE_METHODS})
    notes = "".join(f"<p class='dg-definition'>{escape_html(term(language, VARIANCE_METHODS, m))}</p>"
                    for m in methods)
    total = in_language(language, f"变动合计 {_signed(bridge.change, measure, language)}",
                        f"Change in total {_signed(bridge.change, measure, language)}")
    return (f"<h4>{escape_html(title)}</h4>" + f"<div class='dg-scroll'>{bridge_svg(bridge, names, language)}</div>"
            + _table(head, rows) + f"<p class='dg-definition'>{escape_html(total)}</p>" + notes)


def bridges_html(found: list[Bridge], names: dict[str, dict[str, str]], language: str) -> str:
    if not found:
        return note(in_language(language, "该指标在此单元没有变动分解（只分解复盘月与对比月）。",
                                "No variance breakdown for this KPI at this unit (only the review month against "
                                "the month before is broken down)."))
    return "".join(bridge_html(b, names, language) for b in found)


# --- run-rate pacing ------------------------------------------------------------------------------------------
def runrate_view(runrate: pd.DataFrame, unit: str, order: list[str]) -> pd.DataFrame:
    """The run-rate rows of one unit, KPIs in ``order``."""
    rows = runrate[runrate["unit"].astype(str) == unit].drop_duplicates("kpi")
    rank = {k: i for i, k in enumerate(order)}
    return rows.sort_values("kpi", key=lambda s: s.map(rank).fillna(len(rank)), kind="stable").reset_index(drop=True)


def _pace_svg(actual: float | None, projection: float | None, target: float | None, width: int = 160) -> str:
    """Actual to date (dark), projection to month end (light) and the target (red tick) on one scale."""
    scale = max([v for v in (actual, projection, target) if v is not None and v > 0] or [1.0]) * 1.05

    def w(v: float | None) -> float:
        return 0.0 if v is None or v <= 0 else width * v / scale

    body = [f"<rect width='{width}' height='14' fill='#f1f1f1'/>",
            f"<rect class='dg-projection' width='{w(projection):.1f}' height='14' fill='#a9bfe0'/>",
            f"<rect class='dg-to-date' width='{w(actual):.1f}' height='14' fill='{BLUE}'/>"]
    if target is not None and target > 0:
        body.append(f"<line x1='{w(target):.1f}' x2='{w(target):.1f}' y1='0' y2='14' stroke='{RED}' stroke-width='2'/>")
    return _svg(width, 14, body, "dg-pace")


def runrate_html(view: pd.DataFrame, names: dict[str, dict[str, str]], language: str, kpi: str | None = None
                 ) -> str:
    """Projection to month end against the target, and the daily rate needed against the daily rate so far."""
    if view.empty:
        return note(in_language(language, "该单元没有跑动率数据（只测算可加总的指标）。",
                                "No run-rate for this unit (only additive KPIs are projected)."))
    first = view.iloc[0]
    elapsed, left = int(first["days_elapsed"]), int(first["days_left"])
    intro = in_language(language, f"{first['period']}：截至 {first['as_of']}（不含）已过 {elapsed} 天，剩 {left} 天。"
                                  "预测 = 至今实际 + 日均 × 剩余天数；所需日均 = 距目标差额 ÷ 剩余天数。",
                        f"{first['period']}: {elapsed} days before {first['as_of']}, {left} days left. Projection = "
                        "actual to date + average daily × days left; daily rate needed = gap to target ÷ days left.")
    rows, classes = [], []
    for r in view.itertuples(index=False):
        measure = _measure(names, r.kpi)
        required, average = _float(r.required_daily), _float(r.average_daily)
        behind = required is not None and average is not None and required > average
        needed = escape_html(_value(required, measure))
        rows.append([escape_html(kpi_name(names, r.kpi, language)), escape_html(_value(r.actual_to_date, measure)),
                     escape_html(_value(r.projection, measure)), escape_html(_value(r.target, measure)),
                     escape_html(fmt_percent(_float(r.projected_attainment))),
                     escape_html(_value(average, measure)),
                     f"<span class='dg-behind'>{needed}</span>" if behind else needed,
                     _pace_svg(_float(r.actual_to_date), _float(r.projection), _float(r.target))])
        classes.append("dg-current" if r.kpi == kpi else "")
    head = [escape_html(in_language(language, *pair)) for pair in
            (("KPI", "KPI"), ("至今实际", "Actual to date"), ("月末预测", "Projection"), ("目标", "Target"),
             ("预计达成率", "Projected attainment"), ("当前日均", "Average daily"), ("所需日均", "Daily needed"),
             ("", ""))]
    return f"<p class='dg-definition'>{escape_html(intro)}</p>" + _table(head, rows, classes)


# --- the funnel -----------------------------------------------------------------------------------------------
def funnel_periods(funnel: pd.DataFrame) -> list[str]:
    return sorted(funnel["period"].dropna().astype(str).unique()) if len(funnel) else []


def funnel_channels(funnel: pd.DataFrame) -> list[str]:
    """``all`` first, then each channel of entry."""
    found = sorted(funnel["channel"].dropna().astype(str).unique()) if len(funnel) else []
    return sorted(found, key=lambda c: c != "all")


def channel_name(channel: str, language: str) -> str:
    return term(language, {"all": ("全部渠道", "all channels"), "unknown": ("未知渠道", "unknown channel")}, channel)


def funnel_view(funnel: pd.DataFrame, period: str, channel: str) -> pd.DataFrame:
    rows = funnel[(funnel["period"].astype(str) == period) & (funnel["channel"].astype(str) == channel)]
    return rows.sort_values("step").reset_index(drop=True)


def funnel_svg(view: pd.DataFrame, language: str, width: int = 560) -> str:
    """Centred bars, one per stage, as wide as the visitors who reached it: the stage and its visitors on the left,
    step and overall conversion on the right."""
    row_height, left, right = 34, 130, 170
    top = max([_float(v) or 0.0 for v in view["visitors"]] or [1.0]) or 1.0
    span = width - left - right
    body = []
    for i, r in enumerate(view.itertuples(index=False)):
        middle = i * row_height + row_height / 2 + 4
        bar = max((_float(r.visitors) or 0.0) / top * span, 2)
        body.append(f"<rect x='{left + (span - bar) / 2:.1f}' y='{i * row_height + 4}' width='{bar:.1f}' "
                    f"height='{row_height - 8}' fill='#1565c0'/>")
        body.append(_label(f"{term(language, FUNNEL_STAGES, str(r.stage))} {fmt_number(_float(r.visitors))}",
                           left - 8, middle, "end", limit=16, fill="#222"))
        if r.step > 1:
            body.append(_label(f"→ {fmt_percent(_float(r.step_conversion))} · "
                               f"{in_language(language, '累计', 'overall')} {fmt_percent(_float(r.overall_conversion))}",
                               width - right + 8, middle, "start", fill="#333"))
    return _svg(width, row_height * len(view) + 4, body, "dg-funnel-chart")


def funnel_html(view: pd.DataFrame, language: str) -> str:
    if view.empty:
        return note(in_language(language, "该月份与渠道没有漏斗数据。", "No funnel for this month and channel."))
    rows = [[str(int(r.step)), escape_html(term(language, FUNNEL_STAGES, str(r.stage))),
             escape_html(fmt_number(_float(r.visitors))), escape_html(fmt_percent(_float(r.step_conversion))),
             escape_html(fmt_percent(_float(r.overall_conversion))),
             escape_html(fmt_number(_float(r.drop_off)) if r.step > 1 else "–"),
             escape_html(fmt_percent(_float(r.drop_off_rate)) if r.step > 1 else "–")]
            for r in view.itertuples(index=False)]
    head = [escape_html(in_language(language, *pair)) for pair in
            (("步骤", "Step"), ("阶段", "Stage"), ("人数", "Visitors"), ("步骤转化率", "Step conversion"),
             ("累计转化率", "Overall conversion"), ("流失人数", "Drop-off"), ("流失率", "Drop-off rate"))]
    definition = in_language(language, "按首次进入漏斗的月份（同期群）统计；步骤转化率 = 本阶段 ÷ 上一阶段，"
                                       "累计转化率 = 本阶段 ÷ 第一阶段。",
                             "Counted by the month a visitor entered the funnel (cohort); step conversion = this "
                             "stage ÷ the stage before, overall = this stage ÷ the first stage.")
    return (f"<div class='dg-row'>{funnel_svg(view, language)}{_table(head, rows)}</div>"
            f"<p class='dg-definition'>{escape_html(definition)}</p>")


# --- the action log -------------------------------------------------------------------------------------------
def actions_html(actions: pd.DataFrame, names: dict[str, dict[str, str]], language: str) -> str:
    """The action log: owner (masked), due date (overdue flagged), status, and what the action's KPI did from the
    month it was agreed to the review month (✓ the right way, × not)."""
    if actions.empty:
        return note(in_language(language, "本次复盘没有行动记录。", "No actions were logged for this review."))
    overdue = actions["overdue"].fillna(False).astype(bool)
    intro = in_language(language, f"共 {len(actions)} 项行动，{int(overdue.sum())} 项逾期（截止日已过且未完成）。",
                        f"{len(actions)} actions, {int(overdue.sum())} overdue (past due and not done).")
    rows, classes = [], []
    for r, late in zip(actions.itertuples(index=False), overdue, strict=True):
        measure = _measure(names, r.kpi)
        improved = "" if r.improved is None or pd.isna(r.improved) else (" ✓" if r.improved else " ×")
        moved = (f"{cell_text(r.period_from)} → {cell_text(r.period_to)}: {_value(r.value_from, measure)} → "
                 f"{_value(r.value_to, measure)}")
        flag = f" <span class='dg-overdue'>{escape_html(in_language(language, '逾期', 'overdue'))}</span>" if late else ""
        rows.append([escape_html(cell_text(r.action_id)), escape_html(cell_text(mask_text(r.action))),
                     escape_html(cell_text(mask_owner(r.owner))), escape_html(kpi_name(names, str(r.kpi), language)),
                     escape_html(cell_text(r.due)) + flag, escape_html(cell_text(r.status)),
                     escape_html(moved) + (f" <b>{escape_html(improved.strip())}</b>" if improved else ""),
                     escape_html(cell_text(mask_text(r.note)))])
        classes.append("dg-late" if late else "")
    head = [escape_html(in_language(language, *pair)) for pair in
            (("编号", "ID"), ("行动", "Action"), ("负责人", "Owner"), ("KPI", "KPI"), ("截止", "Due"),
             ("状态", "Status"), ("KPI 变化", "KPI move"), ("备注", "Note"))]
    return f"<p>{escape_html(intro)}</p>" + _table(head, rows, classes)
