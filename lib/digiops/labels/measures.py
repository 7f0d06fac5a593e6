"""Tag quality: coverage per tag and value, co-occurrence, rare tags, and segment migration between two runs.

Every table here holds codes (tag ids, value codes, segment ids) and numbers, the same in every language;
:mod:`digiops.labels.charts` names them for the report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.labels.behaviour import BEHAVIOUR_FIELDS
from digiops.labels.catalog import Catalog, tag_rules


def _held(series: pd.Series) -> pd.Series:
    return series.notna() & ~series.astype("object").isin([False])


def tagged(tags: pd.DataFrame, catalog: Catalog) -> pd.Series:
    """Whether each customer holds at least one tag of the catalog (a false flag is no tag)."""
    held = pd.Series(False, index=tags.index)
    for tag in catalog.tags:
        held |= _held(tags[tag.id])
    return held


COVERAGE_COLUMNS = ["tag_id", "category", "value", "customers", "share"]


def coverage(tags: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per tag (value ``*``) and per declared or observed value: customers and share of all customers
    (columns :data:`COVERAGE_COLUMNS`)."""
    total = max(len(tags), 1)
    rows = []
    for tag in catalog.tags:
        column = tags[tag.id]
        held = _held(column)
        rows.append({"tag_id": tag.id, "category": tag.category, "value": "*", "customers": int(held.sum()),
                     "share": held.sum() / total})
        if tag.values:
            counts = column.value_counts()
            for value in tag.values:
                n = int(counts.get(value.value, 0))
                rows.append({"tag_id": tag.id, "category": tag.category, "value": value.value, "customers": n,
                             "share": n / total})
        elif tag.output == "value" and column.nunique() <= 12:
            for value, n in column.value_counts().items():
                rows.append({"tag_id": tag.id, "category": tag.category, "value": str(value), "customers": int(n),
                             "share": n / total})
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def low_coverage(cover: pd.DataFrame, min_share: float) -> pd.DataFrame:
    """Tags and values held by fewer than ``min_share`` of the customers (too rare to run a campaign on)."""
    return cover[cover["share"] < min_share].reset_index(drop=True)


def indicators(tags: pd.DataFrame, catalog: Catalog, limit: int = 24) -> pd.DataFrame:
    """Boolean columns ``tag_id`` (flags) and ``tag_id=value`` (value lists), the most common first."""
    columns = {}
    for tag in catalog.tags:
        if tag.values:
            for value in tag.values:
                columns[f"{tag.id}={value.value}"] = (tags[tag.id] == value.value).fillna(False).to_numpy(bool)
        elif tag.output == "flag":
            columns[tag.id] = _held(tags[tag.id]).to_numpy(bool)
    frame = pd.DataFrame(columns)
    order = frame.sum().sort_values(ascending=False).index[:limit]
    return frame[order]


def cooccurrence(flags: pd.DataFrame) -> pd.DataFrame:
    """Share of the customers holding the row tag who also hold the column tag (diagonal = 1)."""
    matrix = flags.to_numpy(np.float32)
    both = matrix.T @ matrix
    held = np.diag(both).copy()
    held[held == 0] = np.nan
    return pd.DataFrame(both / held[:, None], index=flags.columns, columns=flags.columns)


def migration(previous: pd.DataFrame | None, current: pd.DataFrame, column: str = "rfm_segment") -> pd.DataFrame | None:
    """Customers by segment in the previous run (rows) and this run (columns); ``(none)`` = not scored or absent."""
    if previous is None or column not in previous.columns:
        return None
    merged = current[["customer_id", column]].merge(previous[["customer_id", column]], on="customer_id",
                                                    how="outer", suffixes=("", "_previous"))
    before = merged[f"{column}_previous"].astype("object").where(merged[f"{column}_previous"].notna(), "(none)")
    after = merged[column].astype("object").where(merged[column].notna(), "(none)")
    return pd.crosstab(before.rename("previous"), after.rename("current"))


def segment_summary(tags: pd.DataFrame, segments: list) -> pd.DataFrame:
    """Customers, share, monetary and mean R/F/M per RFM segment (in map order)."""
    scored = tags[tags["rfm_segment"].notna()].copy()
    scored["monetary_yuan"] = scored["monetary"].astype("float64")
    grouped = scored.groupby("rfm_segment").agg(customers=("customer_id", "size"),
                                                monetary=("monetary_yuan", "sum"),
                                                avg_monetary=("monetary_yuan", "mean"),
                                                avg_recency_days=("recency_days", "mean"),
                                                avg_frequency=("frequency", "mean"))
    rows = []
    for segment in segments:
        stats = grouped.loc[segment.id] if segment.id in grouped.index else None
        customers = int(stats["customers"]) if stats is not None else 0
        rows.append({"segment": segment.id, "cells": " ".join(f"R{r}F{f}" for r in segment.r for f in segment.f),
                     "customers": customers, "share": customers / max(len(scored), 1),
                     "monetary": float(stats["monetary"]) if stats is not None else 0.0,
                     "monetary_share": (float(stats["monetary"]) / scored["monetary_yuan"].sum()
                                        if stats is not None and scored["monetary_yuan"].sum() else 0.0),
                     "avg_monetary": float(stats["avg_monetary"]) if stats is not None else None,
                     "avg_recency_days": float(stats["avg_recency_days"]) if stats is not None else None,
                     "avg_frequency": float(stats["avg_frequency"]) if stats is not None else None})
    return pd.DataFrame(rows)


def tag_distribution(tags: pd.DataFrame, catalog, *, with_events: pd.Series | None = None) -> pd.DataFrame:
    """Per behaviour tag of the catalog (a tag whose rules read a :data:`BEHAVIOUR_FIELDS` field) and value:
    ``tag_id``, ``value`` (``true`` for a flag), ``customers`` holding it, ``share`` of the customers with linked
    events (``with_events``: a boolean per row of ``tags``; all customers when ``None``), ``share_all`` of all
    customers. Values held by nobody are listed with 0."""
    base = int(with_events.sum()) if with_events is not None else len(tags)
    rows = []
    for tag in behaviour_tags(catalog):
        column = tags[tag.id] if tag.id in tags else pd.Series(dtype=object)
        if tag.values:
            codes = [code for code, _ in tag_rules(tag)]
        elif tag.output == "flag":
            codes = [True]
        else:
            codes = sorted(column.dropna().astype(str).unique())
        for code in codes:
            held = int((column == code).fillna(False).sum()) if code is True else int(
                (column.astype("object") == code).sum())
            rows.append({"tag_id": tag.id, "value": "true" if code is True else str(code), "customers": held,
                         "share": held / base if base else 0.0, "share_all": held / len(tags) if len(tags) else 0.0})
    return pd.DataFrame(rows, columns=["tag_id", "value", "customers", "share", "share_all"])


def behaviour_tags(catalog) -> list:
    """The catalog's tags whose rules read an event feature."""
    return [tag for tag in catalog.tags
            if any(rule.fields & set(BEHAVIOUR_FIELDS) for _, rule in tag_rules(tag))]
