"""Targets per KPI × unit × month, attainment and the traffic-light status (DOMAIN.md §4).

Attainment = actual / target for a higher-is-better KPI and target / actual for a lower-is-better one; the status
is green at or above the green band (default 100 %), amber at or above the amber band (default 90 %), red below,
and ``none`` when there is no target or the ratio is undefined (a zero or negative denominator).

Example:
    >>> from digiops.settings.kpi import StatusBands
    >>> attainment_of(95.0, 100.0, "higher"), status_of(0.95, StatusBands())
    (0.95, 'amber')
    >>> attainment_of(80.0, 100.0, "lower"), status_of(1.25, StatusBands())
    (1.25, 'green')
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from digiops.errors import KpiTreeError
from digiops.kpi.tree import KpiTree
from digiops.settings.kpi import StatusBands

STATUSES = ("green", "amber", "red", "none")
ATTAINMENT_COLUMNS = ["kpi", "level", "unit", "period", "actual", "actual_exact", "target", "attainment", "status"]
_PERIOD = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")
_YEAR = re.compile(r"^\s*(\d{4})\s*年?\s*$")


def parse_period(text: object) -> str | None:
    """``2026-03``, ``2026/3``, ``2026年3月`` → ``2026-03``; anything else → ``None``.

    >>> parse_period("2026年3月"), parse_period("2026/03"), parse_period("March")
    ('2026-03', '2026-03', None)
    """
    match = _PERIOD.match(str(text))
    if not match or not 1 <= int(match.group(2)) <= 12:
        return None
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


def parse_year(text: object) -> str | None:
    """A year's target period (``2026``, ``2026年``) → ``2026``; anything else → ``None`` (the cascade splits a
    year's target to its months: :mod:`digiops.kpi.cascade`).

    >>> parse_year("2026年"), parse_year(2026.0), parse_year("2026-03")
    ('2026', '2026', None)
    """
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    match = _YEAR.match(str(text))
    return match.group(1) if match else None


def parse_number(text: object) -> float | None:
    """A target as the client wrote it: ``1,250,000``, ``¥3,000``, ``2.5%`` (→ 0.025), ``0.025``.

    >>> parse_number("¥1,250,000"), parse_number("2.5%"), parse_number("n/a")
    (1250000.0, 0.025, None)
    """
    raw = str(text).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    percent = raw.endswith("%")
    try:
        value = float(raw.rstrip("%"))
    except ValueError:
        return None
    return value / 100 if percent else value


def read_targets(frame: pd.DataFrame, tree: KpiTree, known_units: set[str], label: str) -> pd.DataFrame:
    """Validate the canonical targets frame: ``kpi, unit, period, target`` (``period`` a month ``YYYY-MM``, or a
    year ``YYYY`` whose target the cascade splits to months).

    A row naming an unknown KPI or unit, a period that is not a month, or a target that is not a number is a
    :class:`KpiTreeError` naming the file, the row and the value.
    """
    rows = []
    for record in frame.to_dict("records"):
        row = int(record.get("_row", 0)) or None
        kpi = str(record.get("kpi_id", "")).strip()
        unit = str(record.get("unit", "")).strip() or "all"
        if kpi not in tree.nodes:
            raise KpiTreeError(label, f"target for unknown KPI '{kpi}'", field="kpi_id", row=row,
                               fix=f"use a KPI id of the tree ({', '.join(tree.nodes)})")
        if unit not in known_units:
            raise KpiTreeError(label, f"target of KPI '{kpi}' for unknown unit '{unit}'", field="unit", row=row,
                               fix="use `all`, a region or a store id of the stores source")
        period = parse_period(record.get("period")) or parse_year(record.get("period"))
        if period is None:
            raise KpiTreeError(label, f"period '{record.get('period')}' of KPI '{kpi}' is not a month",
                               field="period", row=row, fix="write it as YYYY-MM (or YYYY for a year's target, "
                               "which is split to months)")
        target = parse_number(record.get("target"))
        if target is None:
            raise KpiTreeError(label, f"target '{record.get('target')}' of KPI '{kpi}' is not a number",
                               field="target", row=row, fix="write a plain number (or a percentage like 2.5%)")
        rows.append({"kpi": kpi, "unit": unit, "period": period, "target": target, "_row": row})
    out = pd.DataFrame(rows, columns=["kpi", "unit", "period", "target", "_row"])
    doubled = out[out.duplicated(["kpi", "unit", "period"], keep="first")]
    if len(doubled):
        first = doubled.iloc[0]
        raise KpiTreeError(label, f"KPI '{first.kpi}' has two targets for {first.unit} in {first.period}",
                           field="target", row=first["_row"], fix="keep one target per KPI, unit and month")
    return out.drop(columns="_row")


def attainment_of(actual: float, target: float, direction: str) -> float:
    """actual / target (higher is better) or target / actual (lower is better); NaN when undefined."""
    if actual is None or target is None or not np.isfinite(actual) or not np.isfinite(target):
        return float("nan")
    if direction == "lower":
        return float(target) / float(actual) if actual > 0 else float("nan")
    return float(actual) / float(target) if target > 0 else float("nan")


def status_of(attainment: float, bands: StatusBands) -> str:
    if attainment is None or not np.isfinite(attainment):
        return "none"
    if attainment >= bands.green:
        return "green"
    return "amber" if attainment >= bands.amber else "red"


def attainment_table(tree: KpiTree, actuals: pd.DataFrame, targets: pd.DataFrame, units: pd.DataFrame,
                     bands: StatusBands) -> pd.DataFrame:
    """Every KPI × unit × month with an actual or a target: actual, target, attainment and status."""
    level_of = units.drop_duplicates("unit").set_index("unit")["level"]
    table = actuals.merge(targets, on=["kpi", "unit", "period"], how="outer")
    table["level"] = table["level"].fillna(table["unit"].map(level_of)).fillna("all")
    direction = table["kpi"].map({k: n.direction for k, n in tree.nodes.items()})
    table["attainment"] = [attainment_of(a, t, d) for a, t, d in
                           zip(table["actual"], table["target"], direction, strict=True)]
    table["status"] = [status_of(a, bands) for a in table["attainment"]]
    table = table.sort_values(["kpi", "period", "level", "unit"], key=_level_key, ignore_index=True)
    return table[ATTAINMENT_COLUMNS]


def _level_key(column: pd.Series) -> pd.Series:
    if column.name == "level":
        return column.map({"all": 0, "region": 1, "store": 2}).fillna(3)
    return column
