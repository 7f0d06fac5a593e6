"""The target cascade: a target given at the top split to regions, stores and months by a documented rule, and
targets given at every level checked for coherence (seed 000: the total KPI "needs to be further disassembled to
each combat unit"; DOMAIN.md §4, target cascade).

Splitting (only KPIs that add up across units and months: a node whose source is GMV, orders, traffic or a file
column, or whose children combine by ``sum``; a rate or an average does not add up):

* **to units**, top-down along the node's own units (``unit`` and its ``split_by`` levels: all → region → store).
  Where a parent unit has a target in a month and none of its children has one, the children get
  ``T · w_u``; where some children have one, the others share the remainder ``T − Σ given`` by their ``w_u``
  renormalised; where all have one, nothing is derived (the coherence check judges them). The share ``w_u``:

  - ``history`` — the unit's share of the KPI's actuals among its siblings over the last ``history_months``
    months with actuals before the target's month;
  - ``seasonality`` — the unit's share in the same month of last year (falling back to ``history``);
  - ``weights`` — explicit weights per unit (``kpi.cascade.weights``), normalised among siblings.

  A unit with negative actuals counts as zero; siblings without any history share equally (rule ``equal``).
* **to months**: a target given for a year (period ``2026``) is split to the months of that year without a target
  of their own by last year's month shares of the same unit (``last_year``; equally without last year's actuals).
  A rate or an average given for a year holds for each month (``each_month``).

Parts are rounded by largest remainders so that they sum exactly to the parent (to the cent; whole numbers for a
count given as a whole number): :func:`split_exact`.

Coherence (:func:`coherence`): every parent whose children all have a target, ``|Σ children − parent| ≤ tolerance ·
|parent|`` (``sum`` across units, ``months`` across a year's months); every ``product`` node (GMV = traffic ×
conversion × AOV) whose factors all have a target, ``|Π factors − parent| ≤ tolerance · |parent|`` (``ratio``:
numerator ÷ denominator). Each check is one row with the gap (children's or factors' value − the parent's target).

Example:
    >>> split_exact(100.0, {"a": 1, "b": 1, "c": 1})
    {'a': 33.34, 'b': 33.33, 'c': 33.33}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from digiops.errors import KpiTreeError
from digiops.kpi.actuals import ADDITIVE, _scope
from digiops.kpi.tree import KpiNode, KpiTree
from digiops.settings.kpi import CascadeSettings

RULES = ("history", "seasonality", "weights")
#: how a derived target was found: the three rules, their fallback, and the two month splits
RULE_CODES = (*RULES, "equal", "last_year", "each_month")
CASCADE_COLUMNS = ["kpi", "level", "unit", "parent", "month", "target", "source", "rule", "children_sum", "gap", "factors",
                   "factor_gap", "coherent"]
CHECK_COLUMNS = ["kpi", "level", "unit", "month", "check", "target", "expected", "gap", "gap_share", "coherent"]
_LEVEL_RANK = {"all": 0, "region": 1, "store": 2}
_UP = {"store": "region", "region": "all"}
WEIGHTS_FIELD = "kpi.cascade.weights"


def split_exact(total: float, shares: Mapping[str, float], places: int = 2) -> dict[str, float]:
    """``total`` split by ``shares`` (normalised; equal when they sum to nothing), rounded to ``places`` decimals by
    largest remainders so that the parts sum exactly to ``total`` rounded to ``places`` (ties go to the first).

    >>> split_exact(10.0, {"x": 2, "y": 1}, places=0)
    {'x': 7.0, 'y': 3.0}
    >>> sum(Decimal(str(v)) for v in split_exact(1234.56, {"a": 0.2, "b": 0.3, "c": 0.5}).values())
    Decimal('1234.56')
    """
    keys = list(shares)
    if not keys:
        return {}
    weights = np.array([max(float(shares[k]), 0.0) for k in keys])
    weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(keys), 1 / len(keys))
    minor = int(Decimal(str(total)).scaleb(places).to_integral_value(ROUND_HALF_UP))
    raw = minor * weights
    floors = np.floor(raw).astype("int64")
    left = minor - int(floors.sum())
    order = sorted(range(len(keys)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    scale = Decimal(1).scaleb(-places)
    return {k: float(Decimal(int(v)) * scale) for k, v in zip(keys, floors, strict=True)}


def additive_kpis(tree: KpiTree) -> list[str]:
    """KPIs whose targets add up across units and months (so a parent's target can be split among its parts)."""
    return [node.id for node in tree.nodes.values()
            if node.combine == "sum" or (node.source is not None
                                         and (node.source.file or node.source.metric in ADDITIVE))]


def unit_children(node: KpiNode, units: pd.DataFrame) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The node's units as a hierarchy: parent unit → child units (nearest ancestor within the node's scope), and
    unit → level. A unit named like its parent (the online unit is a region and its own only store) is one unit.

    >>> units = pd.DataFrame({"unit": ["all", "华东", "online", "S1", "S2", "online"],
    ...                       "level": ["all", "region", "region", "store", "store", "store"],
    ...                       "parent": [None, "all", "all", "华东", "华东", "online"]})
    >>> node = KpiNode(id="gmv", name_zh="成交额", name_en="GMV", split_by=["region", "store"])
    >>> unit_children(node, units)[0]
    {'all': ['华东', 'online'], '华东': ['S1', 'S2']}
    """
    scope = _scope(node.unit, node.split_by, units)
    in_scope = set(zip(scope["level"], scope["unit"], strict=True))
    scope = scope.assign(rank=scope["level"].map(_LEVEL_RANK)).sort_values("rank", kind="stable")
    level_of: dict[str, str] = {}
    for level, unit in zip(scope["level"], scope["unit"], strict=True):
        level_of.setdefault(unit, level)
    parent_of = {(r.level, r.unit): r.parent for r in units.itertuples(index=False)}
    children: dict[str, list[str]] = {}
    for unit, level in level_of.items():
        if unit == node.unit:
            continue
        parent, at, name = node.unit, level, unit
        while _UP.get(at) is not None and (at, name) in parent_of:
            name, at = parent_of[(at, name)], _UP[at]
            if (at, name) in in_scope:
                parent = name
                break
        children.setdefault(parent, []).append(unit)
    return children, level_of


def check_weights(settings: CascadeSettings, known_units: set[str], label: str) -> list[KpiTreeError]:
    """Problems of ``kpi.cascade.weights``: a unit that is not a region, store or the online unit, a weight that is
    negative or not a number.

    >>> [e.problem for e in check_weights(CascadeSettings(weights={"S9": 1, "S1": -2}), {"all", "S1"}, "e.yaml")]
    ["weight of unit 'S9': not a known unit", "weight of unit 'S1' is -2.0; a weight must be a number ≥ 0"]
    """
    problems = []
    for unit, weight in settings.weights.items():
        if unit not in known_units:
            near = sorted(u for u in known_units if u != "all")
            problems.append(KpiTreeError(label, f"weight of unit '{unit}': not a known unit",
                                         field=f"{WEIGHTS_FIELD}.{unit}",
                                         fix="name a region, a store id of the stores source or the online unit ("
                                             + ", ".join(near[:12]) + (", …" if len(near) > 12 else "") + ")"))
        elif not math.isfinite(weight) or weight < 0:
            problems.append(KpiTreeError(label, f"weight of unit '{unit}' is {weight}; a weight must be a number ≥ 0",
                                         field=f"{WEIGHTS_FIELD}.{unit}",
                                         fix="give a share or any positive number (siblings are normalised); 0 "
                                             "gives the unit no target"))
    return problems


def _months_before(months: list[str], month: str, count: int) -> list[str]:
    return [m for m in months if m < month][-count:]


def _last_year(month: str) -> str:
    return f"{int(month[:4]) - 1:04d}{month[4:]}"


def unit_shares(rule: str, children: list[str], month: str, history: pd.DataFrame, *,
                weights: Mapping[str, float] | None = None, history_months: int = 3,
                label: str = "engagement file") -> tuple[dict[str, float], str]:
    """Each child's share (normalised) of its parent's target in ``month``, and the rule that gave it.

    ``history`` is the KPI's actuals per unit and month (``unit, period, actual``). Under ``weights`` a child
    without a weight is a :class:`~digiops.errors.KpiTreeError`; under ``seasonality`` without last year's month,
    and under ``history`` without any earlier month, the rule falls back (seasonality → history → equal).
    """
    if rule == "weights":
        missing = [c for c in children if c not in (weights or {})]
        if missing:
            raise KpiTreeError(label, f"rule `weights` has no weight for unit(s) {', '.join(missing)}",
                               field=WEIGHTS_FIELD, fix="give a weight to every region, store and online unit "
                               "(siblings are normalised), or use rule `history`")
        return _normalised({c: float(weights[c]) for c in children}), "weights"
    values = history[history["unit"].isin(children)]
    if rule == "seasonality":
        shares = _share_of(values[values["period"] == _last_year(month)], children)
        if shares:
            return shares, "seasonality"
    months = _months_before(sorted(values.dropna(subset=["actual"])["period"].unique()), month, history_months)
    shares = _share_of(values[values["period"].isin(months)], children)
    if shares:
        return shares, "history"
    return {c: 1 / len(children) for c in children}, "equal"


def _share_of(values: pd.DataFrame, children: list[str]) -> dict[str, float]:
    """Children's shares of the sum of ``values.actual`` (negative as zero); empty when that sum is not positive."""
    total = values.groupby("unit")["actual"].sum().clip(lower=0)
    return _normalised({c: float(total.get(c, 0.0)) for c in children})


def _normalised(shares: dict[str, float]) -> dict[str, float]:
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()} if total > 0 else {}


def _places(node: KpiNode, total: float) -> int:
    """Cents, except for a count given as a whole number (visitors, orders), which is split into whole numbers."""
    return 0 if "元" not in node.measure and float(total).is_integer() else 2


def cascade(tree: KpiTree, targets: pd.DataFrame, actuals: pd.DataFrame, units: pd.DataFrame,
            settings: CascadeSettings | None = None, *, label: str = "engagement file") -> pd.DataFrame:
    """Every target after the cascade, given and derived, with its coherence: the rows of
    ``outputs/kpi/cascade.parquet`` (:data:`CASCADE_COLUMNS`); :func:`derive_targets`, then :func:`coherence`,
    joined by :func:`with_checks`.
    """
    settings = settings or CascadeSettings()
    filled = derive_targets(tree, targets, actuals, units, settings, label=label)
    return with_checks(filled, coherence(filled, tree, units, settings.tolerance))


def derive_targets(tree: KpiTree, targets: pd.DataFrame, actuals: pd.DataFrame, units: pd.DataFrame,
                   settings: CascadeSettings | None = None, *, label: str = "engagement file") -> pd.DataFrame:
    """The targets given and those the cascade derives: ``kpi, level, unit, parent, month, target, source, rule``.

    ``targets`` is ``kpi, unit, period, target`` (a month ``YYYY-MM`` or a year ``YYYY``); ``actuals`` the review's
    actuals (``kpi, unit, period, actual``). ``parent`` is the unit whose target a unit's target is part of
    (``None`` at the node's own unit). ``source`` is ``given`` or ``derived``; ``rule`` says how a derived target
    was found (:data:`RULE_CODES`). Weights naming an unknown unit, or negative, are a
    :class:`~digiops.errors.KpiTreeError` located at ``kpi.cascade.weights.<unit>`` of ``label``.
    """
    settings = settings or CascadeSettings()
    problems = check_weights(settings, set(units["unit"]), label)
    if problems:
        raise problems[0]
    level_of_unit = units.drop_duplicates("unit").set_index("unit")["level"].to_dict()
    table: dict[tuple[str, str, str], dict] = {}
    for row in targets.itertuples(index=False):
        table[(row.kpi, row.unit, str(row.period))] = {"target": float(row.target), "source": "given", "rule": None}
    history = actuals.drop_duplicates(["kpi", "unit", "period"])[["kpi", "unit", "period", "actual"]]
    additive = set(additive_kpis(tree))
    hierarchy = {kpi: unit_children(tree.nodes[kpi], units)[0] for kpi in tree.nodes}
    for kpi in [k for k in tree.order() if any(key[0] == k for key in table)]:
        node = tree.nodes[kpi]
        own = history[history["kpi"] == kpi]
        _split_years(node, kpi in additive, table, own)
        if kpi not in additive:
            continue
        for month in sorted({m for (k, _, m) in table if k == kpi and len(m) == 7}):
            _split_units(node, month, hierarchy[kpi], table, own, settings, label)
    parents = {(kpi, child): parent for kpi, tree_units in hierarchy.items()
               for parent, below in tree_units.items() for child in below}
    rows = [{"kpi": k, "unit": u, "month": m, "parent": parents.get((k, u)), **v} for (k, u, m), v in table.items()]
    out = pd.DataFrame(rows, columns=["kpi", "unit", "parent", "month", "target", "source", "rule"])
    out["level"] = out["unit"].map(level_of_unit).fillna("all")
    order = {k: i for i, k in enumerate(tree.nodes)}
    out = out.assign(_k=out["kpi"].map(order), _l=out["level"].map(_LEVEL_RANK)).sort_values(
        ["_k", "month", "_l", "unit"], ignore_index=True)
    return out[["kpi", "level", "unit", "parent", "month", "target", "source", "rule"]]


def _split_years(node: KpiNode, additive: bool, table: dict, history: pd.DataFrame) -> None:
    """Months of a year's target that have no target of their own get one (see the module's docstring)."""
    for (kpi, unit, year), entry in list(table.items()):
        if kpi != node.id or len(year) != 4:
            continue
        months = [f"{year}-{m:02d}" for m in range(1, 13)]
        missing = [m for m in months if (kpi, unit, m) not in table]
        if not missing:
            continue
        if not additive:
            for month in missing:
                table[(kpi, unit, month)] = {"target": entry["target"], "source": "derived", "rule": "each_month"}
            continue
        remainder = entry["target"] - sum(table[(kpi, unit, m)]["target"] for m in months if m not in missing)
        last = history[(history["unit"] == unit)].assign(month=lambda f: f["period"].map(_next_year))
        shares = _share_of(last[last["month"].isin(missing)].assign(unit=lambda f: f["month"]), missing)
        rule = "last_year" if shares else "equal"
        for month, value in split_exact(remainder, shares or dict.fromkeys(missing, 1.0),
                                        _places(node, entry["target"])).items():
            table[(kpi, unit, month)] = {"target": value, "source": "derived", "rule": rule}


def _next_year(period: str) -> str:
    return f"{int(period[:4]) + 1:04d}{period[4:]}"


def _split_units(node: KpiNode, month: str, children: dict[str, list[str]], table: dict, history: pd.DataFrame,
                 settings: CascadeSettings, label: str) -> None:
    """Top-down from the node's unit: the children of a unit with a target in ``month`` that have none get one."""
    queue = [node.unit]
    while queue:
        parent = queue.pop(0)
        below = children.get(parent, [])
        queue += below
        entry = table.get((node.id, parent, month))
        if entry is None or not below:
            continue
        missing = [c for c in below if (node.id, c, month) not in table]
        if not missing:
            continue
        remainder = entry["target"] - sum(table[(node.id, c, month)]["target"] for c in below if c not in missing)
        shares, rule = unit_shares(settings.rule, missing, month, history, weights=settings.weights,
                                   history_months=settings.history_months, label=label)
        for unit, value in split_exact(remainder, shares, _places(node, entry["target"])).items():
            table[(node.id, unit, month)] = {"target": value, "source": "derived", "rule": rule}


def coherence(targets: pd.DataFrame, tree: KpiTree, units: pd.DataFrame, tolerance: float = 0.005) -> pd.DataFrame:
    """Every check of targets against each other (:data:`CHECK_COLUMNS`), one row per parent, month and check.

    ``targets`` holds ``kpi, unit, month, target`` (``month`` a ``YYYY-MM`` month or a ``YYYY`` year; ``period``
    is accepted for ``month``). ``check`` is ``sum`` (Σ child units), ``months`` (Σ a year's months), ``product``
    or ``ratio`` (the factors' targets combined); ``expected`` the children's or factors' value, ``gap`` =
    expected − target, ``gap_share`` = gap / |target|; ``coherent`` when ``|gap| ≤ tolerance · |target|``. A
    parent is checked only where every child (factor, month) has a target.
    """
    if "month" not in targets.columns:
        targets = targets.rename(columns={"period": "month"})
    value = {(r.kpi, r.unit, str(r.month)): float(r.target) for r in targets.itertuples(index=False)}
    level_of = units.drop_duplicates("unit").set_index("unit")["level"].to_dict()
    additive = set(additive_kpis(tree))
    hierarchy = {kpi: unit_children(node, units)[0] for kpi, node in tree.nodes.items()}
    rows = []

    def add(kpi: str, unit: str, month: str, check: str, expected: float) -> None:
        target = value[(kpi, unit, month)]
        gap = round(expected - target, 6)
        share = gap / abs(target) if target else (0.0 if gap == 0 else math.copysign(math.inf, gap))
        rows.append({"kpi": kpi, "level": level_of.get(unit, "all"), "unit": unit, "month": month, "check": check,
                     "target": target, "expected": round(expected, 6), "gap": gap, "gap_share": share,
                     "coherent": abs(gap) <= tolerance * abs(target) + 1e-9})

    for (kpi, unit, month) in sorted(value):
        node = tree.nodes.get(kpi)
        if node is None:
            continue
        if kpi in additive and len(month) == 7:
            below = hierarchy[kpi].get(unit, [])
            if below and all((kpi, c, month) in value for c in below):
                add(kpi, unit, month, "sum", _exact_sum(value[(kpi, c, month)] for c in below))
        if kpi in additive and len(month) == 4:
            months = [f"{month}-{m:02d}" for m in range(1, 13)]
            if all((kpi, unit, m) in value for m in months):
                add(kpi, unit, month, "months", _exact_sum(value[(kpi, unit, m)] for m in months))
        if node.combine in ("product", "ratio") and all((c, unit, month) in value for c in node.children):
            factors = [value[(c, unit, month)] for c in node.children]
            if node.combine == "product":
                add(kpi, unit, month, "product", math.prod(factors))
            elif factors[1]:
                add(kpi, unit, month, "ratio", factors[0] / factors[1])
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def _exact_sum(values) -> float:
    """A sum of targets without float drift (parts split to the cent sum back to the cent)."""
    return float(sum(Decimal(repr(v)) for v in values))


def with_checks(targets: pd.DataFrame, checks: pd.DataFrame) -> pd.DataFrame:
    """The derived targets (:func:`derive_targets`) with their checks (:func:`coherence`) as columns:
    ``children_sum`` / ``gap`` (Σ units or months − target), ``factors`` / ``factor_gap`` (product or ratio of the
    factors' targets − target), ``coherent`` (every check of the row holds; ``<NA>``: nothing to check)."""
    keys = ["kpi", "unit", "month"]
    sums = checks[checks["check"].isin(["sum", "months"])][[*keys, "expected", "gap", "coherent"]].rename(
        columns={"expected": "children_sum", "coherent": "_sum_ok"})
    factors = checks[checks["check"].isin(["product", "ratio"])][[*keys, "expected", "gap", "coherent"]].rename(
        columns={"expected": "factors", "gap": "factor_gap", "coherent": "_factor_ok"})
    out = targets.merge(sums, on=keys, how="left").merge(factors, on=keys, how="left")
    verdicts = ([bool(v) for v in pair if v is not None and not pd.isna(v)]
                for pair in zip(out["_sum_ok"], out["_factor_ok"], strict=True))
    out["coherent"] = pd.array([all(v) if v else None for v in verdicts], dtype="boolean")
    return out[CASCADE_COLUMNS]


def incoherences(checks: pd.DataFrame) -> pd.DataFrame:
    """The checks that fail, largest relative gap first."""
    failed = checks[~checks["coherent"].astype(bool)]
    return failed.assign(_abs=failed["gap_share"].abs()).sort_values("_abs", ascending=False).drop(columns="_abs")


def monthly_targets(table: pd.DataFrame, *, derived: bool = True) -> pd.DataFrame:
    """The month targets of a cascade table as the review reads targets: ``kpi, unit, period, target`` (the
    derived ones too unless ``derived=False``)."""
    rows = table[(table["month"].str.len() == 7) & (derived | (table["source"] == "given"))]
    return rows.rename(columns={"month": "period"})[["kpi", "unit", "period", "target"]].reset_index(drop=True)
