"""Evaluating a catalog: every tag as one SQL expression over the feature view, in one DuckDB query.

* flag tag: ``CASE WHEN rule THEN true END`` (true or empty),
* value tag: the rule's value,
* tag with values: ``CASE WHEN rule₁ THEN 'v₁' WHEN rule₂ THEN 'v₂' … END`` — a customer gets at most one value;
  when a customer meets two value rules the first listed wins and the pair is reported as a conflict
  (:func:`value_conflicts`), so an overlap the catalog validation could not see statically is still visible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from digiops.errors import CatalogError
from digiops.io import arrow_frame
from digiops.labels.behaviour import EventFeatures
from digiops.labels.catalog import Catalog, Tag, tag_rules, validate_catalog
from digiops.labels.features import (FEATURE_VIEW_FIELDS, RFM_COLUMNS, build_features, build_features_spark, connect,
                                     default_as_of, empty_tables, load_segment_map, session_default_as_of)
from digiops.labels.tagtable import TagTable
from digiops.settings.labels import RfmThresholds


@dataclass
class TagRun:
    """The result of one evaluation: the tag table ``tags`` and the feature view ``customer_features`` where the
    engine keeps them (:class:`~digiops.labels.tagtable.TagTable`; :meth:`close` when done), and the conflicts."""

    table: TagTable
    conflicts: pd.DataFrame
    as_of: dt.date
    catalog: Catalog
    seconds: dict[str, float] = field(default_factory=dict)
    #: the Spark session's views of the merge tables (dropped by :meth:`close`)
    session: object | None = None

    @cached_property
    def tags(self) -> pd.DataFrame:
        """The whole tag table as a frame, ordered by customer id: for tests and small clients (the labels stage
        itself never collects it)."""
        return arrow_frame(self.table.con.sql("SELECT * FROM tags ORDER BY customer_id").to_arrow_table())

    def close(self) -> None:
        if self.session is not None:
            self.session.execute("UNCACHE TABLE IF EXISTS customer_features")
            self.session.close()
        self.table.close()


def tag_sql(tag: Tag, dialect: str = "duckdb") -> str:
    """The SQL expression of one tag (without alias)."""
    rules = tag_rules(tag)
    if tag.values:
        branches = " ".join(f"WHEN {rule.sql(dialect)} THEN '{code.replace(chr(39), chr(39) * 2)}'"
                            for code, rule in rules)
        return f"CASE {branches} END"
    rule = rules[0][1]
    return f"CASE WHEN {rule.sql(dialect)} THEN true END" if tag.output == "flag" else rule.sql(dialect)


def catalog_sql(catalog: Catalog, dialect: str = "duckdb", source: str = "customer_features") -> str:
    """One SELECT producing the tag table: customer id, the RFM columns, then every catalog tag."""
    columns = ["customer_id"] + list(RFM_COLUMNS)
    for tag in catalog.tags:
        if tag.id not in RFM_COLUMNS:
            columns.append(f"{tag_sql(tag, dialect)} AS {tag.id}")
    return f"SELECT {', '.join(columns)} FROM {source} ORDER BY customer_id"


def check_catalog(catalog: Catalog) -> None:
    """Validate a catalog against the feature fields, and bind its SQL on empty contract-shaped tables."""
    validate_catalog(catalog, FEATURE_VIEW_FIELDS, reserved={c: "RFM, DOMAIN.md §2" for c in RFM_COLUMNS})
    con = connect(empty_tables())
    build_features(con, dt.date(2000, 1, 1), load_segment_map())
    con.execute(f"DESCRIBE {catalog_sql(catalog)}")


def value_conflicts(con, catalog: Catalog, dialect: str = "duckdb") -> pd.DataFrame:
    """Customers meeting two value rules of one tag, per tag and value pair (rows only where it happens).

    ``con`` is a DuckDB connection, or a Spark :class:`digiops.engines.SqlSession` with ``dialect="spark"``.
    """
    pairs = []
    for tag in catalog.tags:
        rules = tag_rules(tag) if tag.values else []
        for i, (code_a, rule_a) in enumerate(rules):
            for code_b, rule_b in rules[i + 1:]:
                pairs.append((tag.id, code_a, code_b, f"sum(CASE WHEN ({rule_a.sql(dialect)}) AND "
                                                      f"({rule_b.sql(dialect)}) THEN 1 ELSE 0 END)"))
    columns = ["tag_id", "value_a", "value_b", "customers"]
    if not pairs:
        return pd.DataFrame(columns=columns)
    sql = "SELECT " + ", ".join(f"{p[3]} AS c{i}" for i, p in enumerate(pairs)) + " FROM customer_features"
    counts = con.execute(sql).fetchall()[0] if dialect == "duckdb" else tuple(con.arrow(sql).to_pylist()[0].values())
    rows = [(t, a, b, int(n or 0)) for (t, a, b, _), n in zip(pairs, counts) if n]
    return pd.DataFrame(rows, columns=columns)


def reference_date(found, fallback: dt.date | None) -> dt.date:
    """``found()`` (the day after the latest purchase), or ``fallback`` when nobody has bought anything (a
    customers-only engagement: its tags describe people, and no RFM segment is made up)."""
    try:
        return found()
    except CatalogError:
        if fallback is None:
            raise
        return fallback


def evaluate(tables: dict[str, object], catalog: Catalog, *, as_of: dt.date | None = None,
             thresholds: RfmThresholds | None = None, segment_map: str | Path | None = None,
             threads: int | None = None, engine=None, fallback_as_of: dt.date | None = None,
             events: EventFeatures | None = None, work: Path | None = None) -> TagRun:
    """Evaluate a (validated) catalog over the merge stage's four tables.

    Args:
        tables: ``customers``, ``orders``, ``shipments``, ``products`` as DataFrames, Arrow tables or Parquet paths;
            ``events`` (:func:`digiops.labels.behaviour.events_view`) when ``events`` is given.
        catalog: the tag catalog; it is validated first (raises CatalogError).
        as_of: reference date; default the day after the latest purchase, else ``fallback_as_of``.
        thresholds: fixed RFM cut points replacing the fifths.
        segment_map: R × F segment map file; default the shipped map.
        engine: :class:`digiops.engines.EngineSettings`; on Spark the feature view, the tags and the conflicts are
            Spark SQL over the same tables (Parquet paths are read by Spark), and the executors write the tag table
            as Parquet in ``work`` (a folder they reach; default the system's temporary folder).
        events: how the behaviour features read ``tables["events"]``; ``None`` = no event data (empty features).
    """
    import time

    check_catalog(catalog)
    segments = load_segment_map(segment_map)
    if engine is not None and engine.is_spark:
        return _evaluate_spark(tables, catalog, as_of=as_of, thresholds=thresholds, segments=segments,
                               engine=engine, fallback_as_of=fallback_as_of, events=events, work=work)
    con = connect(tables, threads=threads)
    seconds = {}
    start = time.perf_counter()
    as_of = as_of or reference_date(lambda: default_as_of(con), fallback_as_of)
    build_features(con, as_of, segments, thresholds, events=events)
    seconds["features"] = time.perf_counter() - start
    start = time.perf_counter()
    con.execute(f"CREATE TEMP TABLE tags AS {catalog_sql(catalog)}")
    seconds["tags"] = time.perf_counter() - start
    start = time.perf_counter()
    conflicts = value_conflicts(con, catalog)
    seconds["conflicts"] = time.perf_counter() - start
    return TagRun(table=TagTable(con), conflicts=conflicts, as_of=as_of, catalog=catalog, seconds=seconds)


def _spark_session(tables: dict[str, object], engine):
    from digiops.engines import sql_session

    session = sql_session(engine)
    for name in ("customers", "orders", "shipments", "products", "events"):
        if tables.get(name) is not None:
            session.register(name, tables[name])
    return session


def _evaluate_spark(tables: dict[str, object], catalog: Catalog, *, as_of: dt.date | None,
                    thresholds: RfmThresholds | None, segments, engine,
                    fallback_as_of: dt.date | None = None, events: EventFeatures | None = None,
                    work: Path | None = None) -> TagRun:
    """:func:`evaluate` on Spark SQL (rules in their Spark dialect, features transpiled): the executors write the
    tag table, the driver's DuckDB gets a view over the files (:func:`digiops.engines.spark_to_duckdb`)."""
    import time

    import duckdb

    from digiops.engines import spark_to_duckdb
    from digiops.sql import literal

    session = _spark_session(tables, engine)
    seconds = {}
    start = time.perf_counter()
    as_of = as_of or reference_date(lambda: session_default_as_of(session), fallback_as_of)
    build_features_spark(session, as_of, segments, thresholds, events=events)
    seconds["features"] = time.perf_counter() - start
    start = time.perf_counter()
    con = duckdb.connect()
    if work is not None:
        con.execute(f"SET temp_directory = {literal(str(work))}")
    session.spark.sparkContext.setJobDescription("digiops labels: tags")
    spark_to_duckdb(con, session.spark.sql(catalog_sql(catalog, dialect="spark")), "tags")
    seconds["tags"] = time.perf_counter() - start
    start = time.perf_counter()
    conflicts = value_conflicts(session, catalog, dialect="spark")
    seconds["conflicts"] = time.perf_counter() - start
    return TagRun(table=TagTable(con, engine), conflicts=conflicts, as_of=as_of, catalog=catalog, seconds=seconds,
                  session=session)


def features_frame(tables: dict[str, object], *, as_of: dt.date | None = None,
                   thresholds: RfmThresholds | None = None, segment_map: str | Path | None = None,
                   engine=None, events: EventFeatures | None = None) -> pd.DataFrame:
    """The feature view itself as a DataFrame, collected (for checking a rule by hand, and tests)."""
    if engine is not None and engine.is_spark:
        session = _spark_session(tables, engine)
        build_features_spark(session, as_of or session_default_as_of(session), load_segment_map(segment_map),
                             thresholds, events=events)
        frame = arrow_frame(session.arrow("SELECT * FROM customer_features ORDER BY customer_id"))
        session.execute("UNCACHE TABLE IF EXISTS customer_features")
        session.close()
        return frame
    con = connect(tables)
    build_features(con, as_of or default_as_of(con), load_segment_map(segment_map), thresholds, events=events)
    frame = arrow_frame(con.sql("SELECT * FROM customer_features ORDER BY customer_id").to_arrow_table())
    con.close()
    return frame
