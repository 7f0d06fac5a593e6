"""The design aid: candidate tags proposed from the data, so a consultant starts from a table, not a blank page.

For every numeric feature, bands at the configured quantiles; for every categorical feature, its most common
values (ties by value); for recency, the usual windows. Each candidate comes with its rule (portable SQL, ready to
paste into a catalog ``values:`` entry) and its coverage. Four aggregate queries over the feature view
(:class:`digiops.labels.tagtable.TagTable`), whichever the engine: the feature view is never collected.
"""

from __future__ import annotations

import pandas as pd

from digiops.labels.features import FEATURE_VIEW_FIELDS
from digiops.labels.tagtable import TagTable, count_of
from digiops.sql import identifier, literal

RECENCY_WINDOWS = ((0, 30), (30, 90), (90, 180), (180, 365), (365, None))
SKIPPED = {"customer_id", "rfm_segment", "rfm_r", "rfm_f", "rfm_m"}
FEATURES = "customer_features"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _double(value: float) -> str:
    """A float as an exact SQL double (a plain ``0.1`` is a decimal in Spark SQL)."""
    return f"CAST({float(value)!r} AS DOUBLE)"


def _band(field: str, low: float | None, high: float | None) -> tuple[str, str]:
    """The rule (as a catalog reads it) and the counted condition of one quantile band."""
    number = f"CAST({identifier(field)} AS DOUBLE)"
    rule = [f"{field} >= {_number(low)}"] if low is not None else []
    condition = [f"{number} >= {_double(low)}"] if low is not None else []
    if high is not None:
        rule.append(f"{field} < {_number(high)}")
        condition.append(f"{number} < {_double(high)}")
    return " AND ".join(rule), " AND ".join(condition + [f"{number} IS NOT NULL"])


def _top_values(table: TagTable, fields: list[str], top: int) -> pd.DataFrame:
    """Each text field's ``top`` most common values (``field``, ``value``, ``n``), ties by value."""
    if not fields:
        return pd.DataFrame(columns=["field", "value", "n"])
    parts = [f"SELECT {literal(f)} AS field, CAST({identifier(f)} AS VARCHAR) AS value, count(*) AS n "
             f"FROM {FEATURES} WHERE {identifier(f)} IS NOT NULL GROUP BY CAST({identifier(f)} AS VARCHAR)"
             for f in fields]
    ranked = (f"SELECT field, value, n, row_number() OVER (PARTITION BY field ORDER BY n DESC, value) AS rank "
              f"FROM ({' UNION ALL '.join(parts)})")
    return table.frame(f"SELECT field, value, n FROM ({ranked}) WHERE rank <= {int(top)} ORDER BY field, rank")


def candidate_tags(features: TagTable | pd.DataFrame,
                   quantiles: list[float] | tuple[float, ...] = (0.2, 0.4, 0.6, 0.8), top: int = 5) -> pd.DataFrame:
    """Candidate tag values with rule and coverage (share of all customers), over the feature view (a
    :class:`~digiops.labels.tagtable.TagTable`'s ``customer_features``, or a frame of it)."""
    table = TagTable.of(features, FEATURES)
    present = table.booleans(FEATURES)
    fields = [(f, kind) for f, (kind, _) in FEATURE_VIEW_FIELDS.items() if f not in SKIPPED and f in present]
    numbers = [f for f, kind in fields if kind == "number" and f != "recency_days"]

    # 1: customers, recency windows, flags, distinct values of each number
    first = {"total": "count(*)"}
    for field, kind in fields:
        if field == "recency_days":
            for low, high in RECENCY_WINDOWS:
                first[f"r_{low}"] = count_of(f"recency_days > {low}" + (f" AND recency_days <= {high}" if high else ""))
        elif kind == "flag":
            first[field] = count_of(f"CAST({identifier(field)} AS BOOLEAN)")
        elif kind == "number":
            first[field] = f"count(DISTINCT CAST({identifier(field)} AS DOUBLE))"
    counts = dict(zip(first, table.counts(list(first.values()), FEATURES), strict=True))
    total = max(counts["total"], 1)

    # 2: the quantiles of every number with two values or more, 3: the customers in each band
    banded = [f for f in numbers if counts[f] >= 2]
    cuts: dict[str, list[float]] = {}
    if banded:
        expressions = [f"quantile_cont(CAST({identifier(f)} AS DOUBLE), {float(q)!r})" for f in banded
                       for q in quantiles]
        found = iter(table.row(f"SELECT {', '.join(expressions)} FROM {FEATURES}"))
        cuts = {f: sorted({float(next(found)) for _ in quantiles}) for f in banded}
    bands = {f: [_band(f, low, high) for low, high in zip([None] + cuts[f], cuts[f] + [None])] for f in banded}
    conditions = [condition for f in banded for _, condition in bands[f]]
    band_counts = iter(table.counts([count_of(c) for c in conditions], FEATURES))
    tops = _top_values(table, [f for f, kind in fields if kind == "text"], top)

    rows = []

    def add(field: str, kind: str, value: str, rule: str, n: int) -> None:
        rows.append({"field": field, "kind": kind, "value": value, "rule": rule, "customers": n,
                     "coverage": n / total,
                     "yaml": f'- {{value: {value}, name: {{zh: "", en: ""}}, rule: "{rule}"}}'})

    for field, kind in fields:
        if field == "recency_days":
            for low, high in RECENCY_WINDOWS:
                rule = f"recency_days > {low}" + (f" AND recency_days <= {high}" if high else "")
                add(field, "recency window", f"r_{low}_{high or 'plus'}", rule, counts[f"r_{low}"])
        elif kind == "number" and field in bands:
            for band, (rule, _) in enumerate(bands[field], start=1):
                add(field, "quantile band", f"{field}_q{band}", rule, next(band_counts))
        elif kind == "text":
            for rank, (value, n) in enumerate(tops.loc[tops["field"] == field, ["value", "n"]].itertuples(
                    index=False, name=None), start=1):
                add(field, "top value", f"{field}_{rank}", f"{field} = {literal(value)}", n)
        elif kind == "flag":
            add(field, "flag", field, field, counts[field])
    return pd.DataFrame(rows)
