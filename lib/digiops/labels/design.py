"""The design aid: candidate tags proposed from the data, so a consultant starts from a table, not a blank page.

For every numeric feature, bands at the configured quantiles; for every categorical feature, its most common
values; for recency, the usual windows. Each candidate comes with its rule (portable SQL, ready to paste into a
catalog ``values:`` entry) and its coverage.
"""

from __future__ import annotations

import pandas as pd

from digiops.labels.features import FEATURE_VIEW_FIELDS
from digiops.sql import literal

RECENCY_WINDOWS = ((0, 30), (30, 90), (90, 180), (180, 365), (365, None))
SKIPPED = {"customer_id", "rfm_segment", "rfm_r", "rfm_f", "rfm_m"}


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def candidate_tags(features: pd.DataFrame, quantiles: list[float] | tuple[float, ...] = (0.2, 0.4, 0.6, 0.8),
                   top: int = 5) -> pd.DataFrame:
    """Candidate tag values with rule and coverage (share of all customers)."""
    total = max(len(features), 1)
    rows = []

    def add(field: str, kind: str, value: str, rule: str, mask: pd.Series) -> None:
        n = int(mask.fillna(False).sum())
        rows.append({"field": field, "kind": kind, "value": value, "rule": rule, "customers": n,
                     "coverage": n / total,
                     "yaml": f'- {{value: {value}, name: {{zh: "", en: ""}}, rule: "{rule}"}}'})

    for field, (kind, _description) in FEATURE_VIEW_FIELDS.items():
        if field in SKIPPED or field not in features.columns:
            continue
        column = features[field]
        if field == "recency_days":
            days = column.astype("Float64")
            for low, high in RECENCY_WINDOWS:
                rule = f"recency_days > {low}" + (f" AND recency_days <= {high}" if high else "")
                mask = (days > low) & (days <= high) if high else days > low
                add(field, "recency window", f"r_{low}_{high or 'plus'}", rule, mask)
        elif kind == "number":
            values = column.astype("Float64").dropna()
            if values.nunique() < 2:
                continue
            cuts = sorted(set(float(values.quantile(q)) for q in quantiles))
            edges = [None] + cuts + [None]
            numeric = column.astype("Float64")
            for band, (low, high) in enumerate(zip(edges, edges[1:]), start=1):
                parts, mask = [], pd.Series(True, index=column.index)
                if low is not None:
                    parts.append(f"{field} >= {_number(low)}")
                    mask &= numeric >= low
                if high is not None:
                    parts.append(f"{field} < {_number(high)}")
                    mask &= numeric < high
                add(field, "quantile band", f"{field}_q{band}", " AND ".join(parts), mask & numeric.notna())
        elif kind == "text":
            counts = column.dropna().astype(str).value_counts().head(top)
            for rank, (value, _n) in enumerate(counts.items(), start=1):
                add(field, "top value", f"{field}_{rank}", f"{field} = {literal(value)}",
                    column.astype("object") == value)
        elif kind == "flag":
            add(field, "flag", field, field, column.astype("boolean").fillna(False))
    return pd.DataFrame(rows)
