"""The funnel-shaped monitoring model (seed 000): ordered stages, step and overall conversion, drop-off.

A visitor enters the funnel at their first event of the first stage (the cohort month is that event's month) and
reaches a later stage when they have an event of it at or after the time they reached the stage before, and within
``window_days`` of entering. Step conversion = reached this stage / reached the previous one; overall = reached /
entered; drop-off = the visitors lost since the previous stage.

Example:
    >>> events = pd.DataFrame({"visitor_id": ["a", "a", "b", "b", "c"],
    ...     "stage": ["visit", "order", "visit", "order", "visit"],
    ...     "event_time": ["2026-03-01", "2026-03-02", "2026-03-01", "2026-05-01", "2026-03-05"]})
    >>> f = funnel(events, ["visit", "order"], window_days=30)
    >>> f[["stage", "visitors", "step_conversion"]].values.tolist()
    [['visit', 3, 1.0], ['order', 1, 0.3333333333333333]]
"""

from __future__ import annotations

import pandas as pd

from digiops.dates import parse_dates

FUNNEL_COLUMNS = ["period", "channel", "step", "stage", "visitors", "step_conversion", "overall_conversion",
                  "drop_off", "drop_off_rate"]


def funnel(events: pd.DataFrame, stages: list[str], *, window_days: int = 30, by_channel: bool = False
           ) -> pd.DataFrame:
    """Visitors reaching each stage per cohort month (and channel of entry), with conversions and drop-off."""
    work = events.assign(event_time=parse_dates(events["event_time"]),
                         stage=events["stage"].astype("str").str.strip())
    work = work.dropna(subset=["event_time", "visitor_id"])
    first = work[work["stage"] == stages[0]].sort_values("event_time").drop_duplicates("visitor_id")
    entry = first[["visitor_id", "event_time"]].rename(columns={"event_time": "entered"})
    entry["period"] = entry["entered"].dt.strftime("%Y-%m")
    entry["channel"] = (first["channel"].fillna("unknown").astype("str") if by_channel and "channel" in first
                        else "all")
    reached = {stages[0]: entry.assign(at=entry["entered"])}
    window = pd.Timedelta(days=window_days)
    previous = reached[stages[0]]
    for stage in stages[1:]:
        candidates = work.loc[work["stage"] == stage, ["visitor_id", "event_time"]].merge(
            previous[["visitor_id", "entered", "at", "period", "channel"]], on="visitor_id")
        candidates = candidates[(candidates["event_time"] >= candidates["at"])
                                & (candidates["event_time"] <= candidates["entered"] + window)]
        nxt = candidates.sort_values("event_time").drop_duplicates("visitor_id")
        previous = nxt.drop(columns="at").rename(columns={"event_time": "at"})
        reached[stage] = previous
    rows = []
    cohorts = entry.groupby(["period", "channel"]).size()
    for (period, channel), entered in cohorts.items():
        before = entered
        for step, stage in enumerate(stages, start=1):
            frame = reached[stage]
            count = int(((frame["period"] == period) & (frame["channel"] == channel)).sum())
            rows.append({"period": period, "channel": channel, "step": step, "stage": stage, "visitors": count,
                         "step_conversion": count / before if before else float("nan"),
                         "overall_conversion": count / entered if entered else float("nan"),
                         "drop_off": before - count if step > 1 else 0,
                         "drop_off_rate": 1 - count / before if step > 1 and before else 0.0})
            before = count
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def worst_drop_off(table: pd.DataFrame) -> pd.Series | None:
    """The step (after the first) with the lowest step conversion."""
    steps = table[table["step"] > 1].dropna(subset=["step_conversion"])
    return None if steps.empty else steps.loc[steps["step_conversion"].idxmin()]
