"""Tag quality: coverage per tag and value, co-occurrence, rare tags, segment figures and migration between two runs.

Every measure is a query over the tag table ``tags`` (and the feature view ``customer_features``) where the engine
keeps them (:class:`TagTable`): DuckDB computes it on one machine, the executors on Spark, and only the result — a
few rows of counts — reaches the driver. A pandas frame (a test's, a small client's) is measured the same way
through an in-memory DuckDB.

Every table here holds codes (tag ids, value codes, segment ids) and numbers, the same in every language;
:mod:`digiops.labels.charts` names them for the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from digiops import engines
from digiops.labels.behaviour import BEHAVIOUR_FIELDS
from digiops.labels.catalog import Catalog, tag_rules
from digiops.labels.tagtable import TagTable, count_of, held_sql, segment_figures
from digiops.sql import identifier, literal


def tagged_count(tags: TagTable | pd.DataFrame, catalog: Catalog) -> int:
    """Customers holding at least one tag of the catalog (a false flag is no tag)."""
    table = TagTable.of(tags)
    booleans = table.booleans()
    if not catalog.tags:
        return 0
    return table.counts([count_of(" OR ".join(f"({held_sql(t.id, booleans[t.id])})" for t in catalog.tags))])[0]


COVERAGE_COLUMNS = ["tag_id", "category", "value", "customers", "share"]
#: a value tag with at most this many distinct values lists each of them in the coverage
OBSERVED_VALUES = 12


def coverage(tags: TagTable | pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """One row per tag (value ``*``) and per declared value, or per observed value of a value tag with at most
    :data:`OBSERVED_VALUES` of them (the most held first, ties by value): customers and share of all customers
    (columns :data:`COVERAGE_COLUMNS`)."""
    table = TagTable.of(tags)
    booleans = table.booleans()
    declared = {tag.id: [v.value for v in tag.values] for tag in catalog.tags if tag.values}
    open_ended = [tag for tag in catalog.tags if not tag.values and tag.output == "value"]
    counts = iter(table.counts(
        ["count(*)"] + [count_of(held_sql(tag.id, booleans[tag.id])) for tag in catalog.tags]
        + [count_of(f"{identifier(tag_id)} = {literal(value)}") for tag_id, values in declared.items()
           for value in values]
        + [f"count(DISTINCT {identifier(tag.id)})" for tag in open_ended]))
    share = max(next(counts), 1)
    held = {tag.id: next(counts) for tag in catalog.tags}
    values = {tag_id: [(value, next(counts)) for value in found] for tag_id, found in declared.items()}
    distinct = {tag.id: next(counts) for tag in open_ended}
    values |= _observed_values(table, [tag for tag in open_ended if 0 < distinct[tag.id] <= OBSERVED_VALUES])
    rows = []
    for tag in catalog.tags:
        rows += [{"tag_id": tag.id, "category": tag.category, "value": value, "customers": n, "share": n / share}
                 for value, n in [("*", held[tag.id]), *values.get(tag.id, [])]]
    return pd.DataFrame(rows, columns=COVERAGE_COLUMNS)


def _observed_values(table: TagTable, tags: list) -> dict[str, list[tuple[str, int]]]:
    """Each tag's values (as text) and holders, the most held first, ties by value."""
    if not tags:
        return {}
    parts = [f"SELECT {literal(t.id)} AS tag_id, CAST({identifier(t.id)} AS VARCHAR) AS value, count(*) AS n "
             f"FROM tags WHERE {identifier(t.id)} IS NOT NULL GROUP BY CAST({identifier(t.id)} AS VARCHAR)"
             for t in tags]
    found = table.frame(" UNION ALL ".join(parts)).sort_values(["tag_id", "n", "value"], ascending=[True, False, True])
    return {tag_id: list(zip(group["value"], group["n"].astype(int), strict=True))
            for tag_id, group in found.groupby("tag_id", sort=False)}


def low_coverage(cover: pd.DataFrame, min_share: float) -> pd.DataFrame:
    """Tags and values held by fewer than ``min_share`` of the customers (too rare to run a campaign on)."""
    return cover[cover["share"] < min_share].reset_index(drop=True)


def indicators(tags: TagTable | pd.DataFrame, catalog: Catalog, limit: int = 24) -> dict[str, str]:
    """Indicator name → SQL condition: ``tag_id`` (flags) and ``tag_id=value`` (value lists), the ``limit`` most
    held first (ties in catalog order)."""
    table = TagTable.of(tags)
    booleans = table.booleans()
    found = {}
    for tag in catalog.tags:
        if tag.values:
            for value in tag.values:
                found[f"{tag.id}={value.value}"] = f"{identifier(tag.id)} = {literal(value.value)}"
        elif tag.output == "flag":
            found[tag.id] = held_sql(tag.id, booleans[tag.id])
    held = dict(zip(found, table.counts([count_of(c) for c in found.values()]), strict=True))
    order = sorted(found, key=lambda name: -held[name])[:limit]
    return {name: found[name] for name in order}


def cooccurrence(tags: TagTable | pd.DataFrame, catalog: Catalog, limit: int = 24) -> pd.DataFrame:
    """Share of the customers holding the row tag who also hold the column tag (diagonal = 1), over the
    :func:`indicators` (one aggregate query over every pair)."""
    table = TagTable.of(tags)
    conditions = indicators(table, catalog, limit)
    names = list(conditions)
    pairs = [(i, j) for i in range(len(names)) for j in range(i, len(names))]
    counts = table.counts([count_of(f"({conditions[names[i]]}) AND ({conditions[names[j]]})") for i, j in pairs])
    both = np.zeros((len(names), len(names)))
    for (i, j), n in zip(pairs, counts, strict=True):
        both[i, j] = both[j, i] = n
    held = np.diag(both).copy()
    held[held == 0] = np.nan
    return pd.DataFrame(both / held[:, None], index=names, columns=names)


def migration(previous: str | Path | None, current: TagTable | pd.DataFrame,
              column: str = "rfm_segment") -> pd.DataFrame | None:
    """Customers by segment in the previous run (rows) and this run (columns); ``(none)`` = not scored or absent.
    ``previous`` is the previous run's tag table (its Parquet file), ``None`` when there is none."""
    table = TagTable.of(current)
    if previous is None or column not in pq.read_schema(previous).names:
        return None
    engines.read_view(table.con, "previous_tags", previous, table.engine)
    c = identifier(column)
    before, after = f"coalesce(p.{c}, '(none)')", f"coalesce(t.{c}, '(none)')"
    counts = table.frame(f"""
        SELECT {before} AS previous, {after} AS current, count(*) AS n
        FROM (SELECT customer_id, {c} FROM tags) t
        FULL OUTER JOIN (SELECT customer_id, {c} FROM previous_tags) p ON p.customer_id = t.customer_id
        GROUP BY {before}, {after}""")
    matrix = counts.pivot_table(index="previous", columns="current", values="n", aggfunc="sum", fill_value=0)
    return matrix.astype("int64")


def segment_summary(tags: TagTable | pd.DataFrame, segments: list) -> pd.DataFrame:
    """Customers, share, monetary and mean R/F/M per RFM segment (in map order)."""
    grouped = segment_figures(tags)
    scored = int(grouped["customers"].sum())
    total_value = float(grouped["value"].sum())
    rows = []
    for segment in segments:
        stats = grouped.loc[segment.id] if segment.id in grouped.index else None
        customers = int(stats["customers"]) if stats is not None else 0
        value = float(stats["value"]) if stats is not None else 0.0
        rows.append({"segment": segment.id, "cells": " ".join(f"R{r}F{f}" for r in segment.r for f in segment.f),
                     "customers": customers, "share": customers / max(scored, 1), "monetary": value,
                     "monetary_share": value / total_value if stats is not None and total_value else 0.0,
                     "avg_monetary": value / customers if stats is not None else None,
                     "avg_recency_days": float(stats["avg_recency_days"]) if stats is not None else None,
                     "avg_frequency": float(stats["avg_frequency"]) if stats is not None else None})
    return pd.DataFrame(rows)


def tag_distribution(tags: TagTable | pd.DataFrame, catalog, *, with_events: int | None = None) -> pd.DataFrame:
    """Per behaviour tag of the catalog (a tag whose rules read a :data:`BEHAVIOUR_FIELDS` field) and value:
    ``tag_id``, ``value`` (``true`` for a flag), ``customers`` holding it, ``share`` of the customers with linked
    events (``with_events``: how many there are; all customers when ``None``), ``share_all`` of all customers.
    Values held by nobody are listed with 0."""
    table = TagTable.of(tags)
    booleans = table.booleans()
    total = table.counts(["count(*)"])[0]
    base = with_events if with_events is not None else total
    wanted = [tag for tag in behaviour_tags(catalog) if tag.id in booleans]
    observed = _observed_values(table, [t for t in wanted if not t.values and t.output != "flag"])
    codes, expressions = [], []
    for tag in wanted:
        if tag.values:
            found = [(code, f"{identifier(tag.id)} = {literal(code)}") for code, _ in tag_rules(tag)]
        elif tag.output == "flag":
            found = [("true", held_sql(tag.id, booleans[tag.id]))]
        else:
            found = [(value, f"CAST({identifier(tag.id)} AS VARCHAR) = {literal(value)}")
                     for value in sorted(v for v, _ in observed.get(tag.id, []))]
        codes += [(tag.id, code) for code, _ in found]
        expressions += [count_of(condition) for _, condition in found]
    rows = [{"tag_id": tag_id, "value": code, "customers": n, "share": n / base if base else 0.0,
             "share_all": n / total if total else 0.0}
            for (tag_id, code), n in zip(codes, table.counts(expressions), strict=True)]
    return pd.DataFrame(rows, columns=["tag_id", "value", "customers", "share", "share_all"])


def behaviour_tags(catalog) -> list:
    """The catalog's tags whose rules read an event feature."""
    return [tag for tag in catalog.tags
            if any(rule.fields & set(BEHAVIOUR_FIELDS) for _, rule in tag_rules(tag))]
