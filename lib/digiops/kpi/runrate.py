"""Run-rate to the end of the period, exactly as DOMAIN.md §4: projection = actual to date + average daily × days
left; required daily rate = remaining gap / days left.

Example:
    >>> r = runrate(actual_to_date=300.0, target=1000.0, days_elapsed=10, days_in_period=30)
    >>> r["average_daily"], r["projection"], r["required_daily"]
    (30.0, 900.0, 35.0)
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pandas as pd

RUNRATE_COLUMNS = ["kpi", "level", "unit", "period", "as_of", "days_elapsed", "days_left", "actual_to_date",
                   "average_daily", "projection", "target", "gap", "required_daily", "projected_attainment"]


def runrate(*, actual_to_date: float, target: float | None, days_elapsed: int, days_in_period: int
            ) -> dict[str, float]:
    """Projection and required daily rate of an additive KPI.

    ``required_daily`` is NaN when no day is left (the period is closed) or there is no target; ``gap`` is what
    remains to reach the target (negative once it is exceeded).
    """
    days_left = days_in_period - days_elapsed
    average = actual_to_date / days_elapsed if days_elapsed > 0 else float("nan")
    projection = actual_to_date + (average * days_left if days_left else 0.0)
    has_target = target is not None and np.isfinite(target)
    gap = float(target) - actual_to_date if has_target else float("nan")
    required = gap / days_left if has_target and days_left > 0 else float("nan")
    attained = projection / float(target) if has_target and target > 0 else float("nan")
    return {"days_elapsed": days_elapsed, "days_left": days_left, "actual_to_date": actual_to_date,
            "average_daily": average, "projection": projection, "target": float(target) if has_target else
            float("nan"), "gap": gap, "required_daily": required, "projected_attainment": attained}


def period_days(period: str, as_of: dt.date) -> tuple[int, int]:
    """(days elapsed before ``as_of`` within the month, days in the month)."""
    year, month = map(int, period.split("-"))
    days = calendar.monthrange(year, month)[1]
    start = dt.date(year, month, 1)
    elapsed = min(max((as_of - start).days, 0), days)
    return elapsed, days


def runrate_table(actuals: pd.DataFrame, targets: pd.DataFrame, kpis: list[str], period: str, as_of: dt.date
                  ) -> pd.DataFrame:
    """Run-rate of each additive KPI of ``kpis`` for every unit that has an actual in ``period``.

    ``actuals`` must hold only data before ``as_of`` (the month to date).
    """
    elapsed, days = period_days(period, as_of)
    now = actuals[(actuals["period"] == period) & actuals["kpi"].isin(kpis)]
    target_of = targets.set_index(["kpi", "unit", "period"])["target"]
    target_of = target_of[~target_of.index.duplicated()]
    rows = []
    for row in now.itertuples(index=False):
        target = target_of.get((row.kpi, row.unit, period))
        rows.append({"kpi": row.kpi, "level": row.level, "unit": row.unit, "period": period,
                     "as_of": as_of.isoformat(), **runrate(actual_to_date=float(row.actual), target=target,
                                                           days_elapsed=elapsed, days_in_period=days)})
    return pd.DataFrame(rows, columns=RUNRATE_COLUMNS)
