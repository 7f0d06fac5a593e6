"""Variance attribution, exactly as DOMAIN.md §4 fixes it: why a KPI moved between two periods.

* **Product** V = x₁·x₂·…: LMDI-I, ``ΔV_k = L(V₁, V₀) · ln(x_k,1 / x_k,0)`` with the logarithmic mean
  ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a``. The contributions sum to ΔV exactly.
* **Sum** over units: each unit contributes its own change.
* **Ratio across segments** (share s of the denominator, segment ratio r): inner ``Σ s₁(r₁ − r₀)`` and mix
  ``Σ (s₁ − s₀)(r₀ − KPI₀)``; together they are KPI₁ − KPI₀.

Where a logarithm is undefined the decomposition still sums to ΔV and says what it did (``method``, a code
that :data:`digiops.text.VARIANCE_METHODS` words for the report):

* a factor that is **zero** in one period (all others positive): the analytical limit of LMDI-I as the zero
  tends to 0 (Ang & Liu 2007, "small value strategy"): the factors that are zero share the whole change equally,
  the others get 0; when V is zero in both periods every contribution is 0;
* a **negative** factor (e.g. net refunds exceed sales in a unit): LMDI does not apply; the Shapley decomposition
  (the average of every order of switching the factors from period 0 to 1), exact for any sign, is used instead;
* a **missing** factor: contributions are NaN (method ``missing``).

Example (DOMAIN.md's worked check):
    >>> rows = lmdi({"traffic": 100_000, "conversion": 0.020, "aov": 300},
    ...             {"traffic": 110_000, "conversion": 0.018, "aov": 330})
    >>> {r["item"]: round(r["contribution"]) for r in rows}
    {'traffic': 59695, 'conversion': -65989, 'aov': 59695}
    >>> round(sum(r["contribution"] for r in rows), 6)
    53400.0
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd


def log_mean(a: float, b: float) -> float:
    """The logarithmic mean ``L(a, b) = (a − b) / (ln a − ln b)``, ``L(a, a) = a`` (both positive).

    >>> log_mean(2.0, 2.0), round(log_mean(1.0, math.e), 6)
    (2.0, 1.718282)
    """
    if a == b:
        return float(a)
    diff = math.log(a) - math.log(b)
    return float(a) if diff == 0 else (a - b) / diff


def lmdi(before: dict[str, float], after: dict[str, float]) -> list[dict[str, Any]]:
    """Contributions of each factor of a product ``V = Π x_k`` to ``V₁ − V₀``.

    Returns one dict per factor: ``item, value_from, value_to, contribution, method``.
    """
    names = list(before)
    x0 = [float(before[k]) for k in names]
    x1 = [float(after[k]) for k in names]
    rows = [{"item": k, "value_from": a, "value_to": b} for k, a, b in zip(names, x0, x1, strict=True)]
    if any(not np.isfinite(v) for v in x0 + x1):
        return [dict(r, contribution=float("nan"), method="missing") for r in rows]
    v0, v1 = math.prod(x0), math.prod(x1)
    if any(v < 0 for v in x0 + x1):
        return [dict(r, contribution=c, method="shapley") for r, c in zip(rows, shapley(x0, x1), strict=True)]
    if v0 > 0 and v1 > 0:
        weight = log_mean(v1, v0)
        return [dict(r, contribution=weight * math.log(b / a), method="lmdi")
                for r, a, b in zip(rows, x0, x1, strict=True)]
    if v0 == 0 and v1 == 0:
        return [dict(r, contribution=0.0, method="zero_both") for r in rows]
    # one period is zero: the limit of LMDI-I gives the change, shared equally, to the factors that are zero there
    zero_side = x0 if v0 == 0 else x1
    zeros = [v == 0 for v in zero_side]
    share = (v1 - v0) / sum(zeros)
    return [dict(r, contribution=share if z else 0.0, method="zero_limit") for r, z in zip(rows, zeros, strict=True)]


def shapley(x0: list[float], x1: list[float]) -> list[float]:
    """Shapley decomposition of ``Π x₁ − Π x₀``: exact for any signs.

    >>> shapley([2.0, 3.0], [4.0, 1.0])
    [4.0, -6.0]
    """
    n = len(x0)
    out = []
    for k in range(n):
        others = [i for i in range(n) if i != k]
        total = 0.0
        for size in range(n):
            weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            for switched in itertools.combinations(others, size):
                base = [x1[i] if i in switched else x0[i] for i in range(n)]
                with_k = base.copy()
                with_k[k] = x1[k]
                total += weight * (math.prod(with_k) - math.prod(base))
        out.append(total)
    return out


def by_unit(before: dict[str, float], after: dict[str, float]) -> list[dict[str, Any]]:
    """Contributions of each unit to the change of a sum: its own change (a unit missing in a period counts 0)."""
    rows = []
    for unit in sorted(set(before) | set(after)):
        a, b = before.get(unit, 0.0), after.get(unit, 0.0)
        a = 0.0 if a is None or not np.isfinite(a) else float(a)
        b = 0.0 if b is None or not np.isfinite(b) else float(b)
        rows.append({"item": unit, "value_from": a, "value_to": b, "contribution": b - a, "method": "sum"})
    return rows


def ratio_mix(numerator0: dict[str, float], denominator0: dict[str, float], numerator1: dict[str, float],
              denominator1: dict[str, float]) -> list[dict[str, Any]]:
    """Inner and mix effects of a ratio KPI = Σ numerator / Σ denominator across segments.

    inner_i = s₁,i (r₁,i − r₀,i), mix_i = (s₁,i − s₀,i)(r₀,i − KPI₀), s = the segment's share of the denominator,
    r = its own ratio. A segment absent in period 0 (s₀ = 0) has no r₀: r₀ is taken as r₁, so its whole effect
    is mix (a new segment changes the mix); one absent in period 1 has s₁ = 0 and only a mix effect. Segments with
    a zero denominator in both periods are left out.

    >>> rows = ratio_mix({"a": 10, "b": 10}, {"a": 100, "b": 100}, {"a": 30, "b": 5}, {"a": 200, "b": 50})
    >>> [(r["item"], r["effect"], round(r["contribution"], 4)) for r in rows]
    [('a', 'inner', 0.04), ('a', 'mix', 0.0), ('b', 'inner', 0.0), ('b', 'mix', -0.0)]
    """
    segments = sorted(set(denominator0) | set(denominator1))
    d0 = {s: _num(denominator0.get(s)) for s in segments}
    d1 = {s: _num(denominator1.get(s)) for s in segments}
    n0 = {s: _num(numerator0.get(s)) for s in segments}
    n1 = {s: _num(numerator1.get(s)) for s in segments}
    total0, total1 = sum(d0.values()), sum(d1.values())
    if total0 <= 0 or total1 <= 0:
        return []
    kpi0 = sum(n0.values()) / total0
    rows = []
    for s in segments:
        if d0[s] == 0 and d1[s] == 0:
            continue
        s0, s1 = d0[s] / total0, d1[s] / total1
        r1 = n1[s] / d1[s] if d1[s] else 0.0
        r0 = n0[s] / d0[s] if d0[s] else r1
        common = {"item": s, "share_from": s0, "share_to": s1, "ratio_from": r0 if d0[s] else float("nan"),
                  "ratio_to": r1 if d1[s] else float("nan"), "method": "ratio"}
        rows.append(dict(common, effect="inner", contribution=s1 * (r1 - r0)))
        rows.append(dict(common, effect="mix", contribution=(s1 - s0) * (r0 - kpi0)))
    return rows


def _num(value: Any) -> float:
    return 0.0 if value is None or not np.isfinite(float(value)) else float(value)


VARIANCE_COLUMNS = ["kpi", "period_from", "period_to", "unit", "breakdown", "item", "effect", "value_from",
                    "value_to", "contribution", "change", "method"]


#: named ratio metrics → (numerator metric, denominator metric), for the inner / mix decomposition
RATIO_PARTS = {"conversion": ("orders", "traffic"), "aov": ("gmv", "orders")}


def attribute(tree, actuals: pd.DataFrame, metrics: pd.DataFrame, period_from: str, period_to: str,
              *, additive: tuple[str, ...] = ("gmv", "orders", "traffic", "customers")) -> pd.DataFrame:
    """The variance table of every KPI of the tree between two months (columns :data:`VARIANCE_COLUMNS`).

    * product nodes: LMDI over their children, for the node's unit and every unit it is split into;
    * additive nodes (``combine: sum``, an additive metric or a file column) split by region / store: each unit's
      change;
    * ratio nodes (``combine: ratio`` or a ratio metric) split by region / store: inner and mix per unit.
    ``change`` is the KPI's own change at ``unit``; the contributions of one (kpi, unit, breakdown) sum to it.
    ``method`` says how (a code; :data:`digiops.text.VARIANCE_METHODS` words the ones that need a note).
    """
    value = actuals.set_index(["kpi", "level", "unit", "period"])["actual"]
    value = value[~value.index.duplicated()]
    exact = actuals.dropna(subset=["actual_exact"]).set_index(["kpi", "level", "unit", "period"])["actual_exact"]
    metric_value = metrics.set_index(["metric", "level", "unit", "period"])["value"]
    metric_value = metric_value[~metric_value.index.duplicated()]

    def get(series: pd.Series, key: tuple) -> float:
        return float(series.get(key, float("nan")))

    def change_of(kpi: str, level: str, unit: str) -> float:
        k0, k1 = (kpi, level, unit, period_from), (kpi, level, unit, period_to)
        if k0 in exact.index and k1 in exact.index:
            return float(exact[k1] - exact[k0])
        return get(value, k1) - get(value, k0)

    rows: list[dict[str, Any]] = []
    node_units = actuals[["kpi", "level", "unit"]].drop_duplicates()
    for node_id in tree.order():
        node = tree.nodes[node_id]
        own = node_units[node_units["kpi"] == node_id]
        if own.empty:
            continue
        base = {"kpi": node_id, "period_from": period_from, "period_to": period_to}
        if node.combine == "product":
            for unit_row in own.itertuples(index=False):
                if unit_row.level == "store":
                    continue  # stores are too many for a factor split in a review; the region split says where
                factors0 = {c: get(value, (c, unit_row.level, unit_row.unit, period_from)) for c in node.children}
                factors1 = {c: get(value, (c, unit_row.level, unit_row.unit, period_to)) for c in node.children}
                change = change_of(node_id, unit_row.level, unit_row.unit)
                for r in lmdi(factors0, factors1):
                    rows.append(dict(base, unit=unit_row.unit, breakdown="factor", effect=None, change=change, **r))
        metric = node.source.metric if node.source else None
        is_additive = node.combine == "sum" or metric in additive or bool(node.source and node.source.file)
        parent_level = own.iloc[0]["level"]
        for level in node.split_by:
            units = own[own["level"] == level]["unit"].tolist()
            if not units:
                continue
            change = change_of(node_id, parent_level, node.unit)
            if is_additive:
                def pick(period: str) -> dict[str, float]:
                    out = {}
                    for u in units:
                        key = (node_id, level, u, period)
                        out[u] = float(exact[key]) if key in exact.index else get(value, key)
                    return out
                for r in by_unit(pick(period_from), pick(period_to)):
                    rows.append(dict(base, unit=node.unit, breakdown=level, effect=None, change=change, **r))
            parts = None
            if node.combine == "ratio":
                parts = [(value, c) for c in node.children]
            elif metric in RATIO_PARTS:
                parts = [(metric_value, m) for m in RATIO_PARTS[metric]]
            if parts:
                (num_series, num), (den_series, den) = parts
                frames = [{u: get(s, (k, level, u, p)) for u in units}
                          for p in (period_from, period_to) for s, k in ((num_series, num), (den_series, den))]
                for r in ratio_mix(frames[0], frames[1], frames[2], frames[3]):
                    rows.append(dict(base, unit=node.unit, breakdown=f"{level}_mix", change=change,
                                     value_from=r["ratio_from"], value_to=r["ratio_to"],
                                     item=r["item"], effect=r["effect"], contribution=r["contribution"],
                                     method=r["method"]))
    frame = pd.DataFrame(rows)
    for column in VARIANCE_COLUMNS:
        if column not in frame.columns:
            frame[column] = None
    return frame[VARIANCE_COLUMNS]
