"""Closing the loop (seed 000: "a closed loop with a complete review"): the previous review's action log, what
each action's KPI did since then, and what changed since the client's previous run.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from digiops.errors import KpiTreeError
from digiops.kpi.attainment import parse_period
from digiops.kpi.tree import KpiTree
from digiops.masking import mask_text

DONE_STATUSES = {"done", "completed", "closed", "finished", "已完成", "完成", "关闭", "已关闭"}
ACTION_COLUMNS = ["action_id", "action", "owner", "kpi", "due", "status", "created_at", "overdue", "period_from",
                  "period_to", "value_from", "value_to", "change", "change_pct", "improved", "note", "unit", "origin",
                  "action_en"]
STATUS_RANK = {"red": 0, "amber": 1, "green": 2}


def previous_month(period: str) -> str:
    """The month before a ``YYYY-MM`` month.

    >>> previous_month("2026-01")
    '2025-12'
    """
    year, month = map(int, period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def action_effects(actions: pd.DataFrame, tree: KpiTree, actuals: pd.DataFrame, review_period: str,
                   as_of: dt.date, label: str = "action_log") -> pd.DataFrame:
    """One row per action: its KPI (at the KPI's own unit) in the month the action was agreed on (the month before
    ``created_at``, the one the previous review looked at) and in the review period, the change, whether it moved
    the right way, and whether the action is overdue (due before ``as_of`` and not done).

    An action proposed by the previous review's register (:func:`digiops.kpi.register.action_log`) carries its own
    ``unit``, ``period_from`` and ``baseline``: its KPI is read at that unit and its change measured from the stored
    baseline. ``origin`` says where the action came from (the client's action source by default).
    """
    value = actual_by_key(actuals)
    rows = []
    for record in actions.to_dict("records"):
        number = pd.to_numeric(record.get("_row"), errors="coerce")  # none for an action read back from a register
        row = int(number) if pd.notna(number) and number else None
        kpi = str(record.get("kpi_id", "")).strip()
        if kpi not in tree.nodes:
            raise KpiTreeError(label, f"action '{record.get('action_id')}' refers to unknown KPI '{kpi}'",
                               field="kpi_id", row=row, fix=f"use a KPI id of the tree ({', '.join(tree.nodes)})")
        node = tree.nodes[kpi]
        created = pd.to_datetime(record.get("created_at"), errors="coerce", format="mixed")
        due = pd.to_datetime(record.get("due"), errors="coerce", format="mixed")
        status = str(record.get("status") or "").strip()
        unit = given(record.get("unit")) or node.unit
        start = given(record.get("period_from")) or (previous_month(created.strftime("%Y-%m")) if pd.notna(created)
                                                      else None)
        baseline = pd.to_numeric(pd.Series([record.get("baseline")]), errors="coerce").iloc[0]
        v0 = float(baseline) if pd.notna(baseline) else (float(value.get((kpi, unit, start), np.nan)) if start
                                                         else np.nan)
        v1 = float(value.get((kpi, unit, review_period), np.nan))
        change = v1 - v0
        rows.append({
            # free text a client wrote may name a customer's phone or e-mail: masked for every reader
            "action_id": record.get("action_id"), "action": mask_text(record.get("action")),
            "owner": record.get("owner"),
            "kpi": kpi, "due": due.date().isoformat() if pd.notna(due) else None, "status": status,
            "created_at": created.date().isoformat() if pd.notna(created) else None,
            "overdue": bool(pd.notna(due) and due.date() < as_of and status.lower() not in DONE_STATUSES),
            "period_from": start, "period_to": review_period, "value_from": v0, "value_to": v1, "change": change,
            "change_pct": change / abs(v0) if np.isfinite(v0) and v0 != 0 else np.nan,
            "improved": (bool(change > 0) if node.direction == "higher" else bool(change < 0))
            if np.isfinite(change) else None,
            "note": mask_text(record.get("note")), "unit": unit, "origin": given(record.get("origin")) or "action_log",
            "action_en": mask_text(given(record.get("action_en"))),  # a proposal's English text (client rows: none)
        })
    return pd.DataFrame(rows, columns=ACTION_COLUMNS)


def actual_by_key(actuals: pd.DataFrame) -> pd.Series:
    """The actuals by (KPI, unit, month), one value per key (the first), for lookups with ``.get``."""
    value = actuals.set_index(["kpi", "unit", "period"])["actual"]
    return value[~value.index.duplicated()]


def given(value: object) -> str | None:
    """A text cell as given, or ``None`` when it is empty (missing, NaN, blank)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    return text if text and text.lower() not in ("nan", "none") else None


def next_month(period: str) -> str:
    """The month after a ``YYYY-MM`` month.

    >>> next_month("2026-12")
    '2027-01'
    """
    year, month = map(int, period.split("-"))
    return f"{year + 1}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"


def compare_runs(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame | None:
    """What changed since the previous run: each KPI × unit's reviewed row now against the previous run's.

    Both frames are ``attainment.parquet`` tables with the ``reviewed`` flag. ``None`` when there is no previous run.
    """
    if previous is None or "reviewed" not in previous.columns:
        return None
    keys = ["kpi", "level", "unit"]
    now = current[current["reviewed"]][keys + ["period", "actual", "attainment", "status"]]
    before = previous[previous["reviewed"].astype(bool)][keys + ["period", "actual", "attainment", "status"]]
    merged = now.merge(before, on=keys, how="outer", suffixes=("", "_previous"))
    rank_now = merged["status"].map(STATUS_RANK)
    rank_before = merged["status_previous"].map(STATUS_RANK)
    merged["status_change"] = np.select([rank_now > rank_before, rank_now < rank_before, rank_now == rank_before],
                                        ["better", "worse", "same"], default="n/a")
    merged["actual_change"] = merged["actual"] - merged["actual_previous"]
    return merged


def restatements(current: pd.DataFrame, previous: pd.DataFrame | None, tolerance: float = 1e-9) -> pd.DataFrame:
    """Actuals of the same KPI × unit × month that differ between the two runs (late data, corrected exports)."""
    if previous is None:
        return pd.DataFrame(columns=["kpi", "unit", "period", "actual", "actual_previous"])
    keys = ["kpi", "unit", "period"]
    merged = current[keys + ["actual"]].merge(previous[keys + ["actual"]], on=keys, suffixes=("", "_previous"))
    diff = (merged["actual"] - merged["actual_previous"]).abs()
    return merged[diff > tolerance * merged["actual_previous"].abs().clip(lower=1)].reset_index(drop=True)


__all__ = ["action_effects", "compare_runs", "parse_period", "previous_month", "restatements"]
