"""Preparing the sources: read, clean and measure each source on its own, then keep it on disk, not in memory.

Each source is read and cleaned (:mod:`digiops.merge.clean`), its before/after data-quality figures are taken
while the raw text is at hand (:mod:`digiops.merge.quality`), and what later steps need is written as Parquet to
the merge's work folder: the cleaned rows, the text the consistency measure compares, and the quarantined rows.
Only a small :class:`PreparedSource` comes back. The steps after this one are DuckDB SQL over those files, so a
client with a million people never has all its sources in memory at once.

Large engagements prepare two sources at a time in worker processes (largest first); small ones run in-process,
where a worker's start-up would cost more than it saves. With ``engine: spark`` each source is a task on the
executors, which write the files where the driver reads them.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing
import os
import socket
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from digiops import engines, sources, tables
from digiops.engagement import Engagement, load_engagement
from digiops.errors import SourceError
from digiops.io import ROW
from digiops.merge.clean import QUARANTINE_COLUMNS, TIME_FIELDS, clean_source, duplicate_rows
from digiops.merge.quality import distinct_count, measure, quality_rows
from digiops.sql import scan
from digiops.merge.wholelink import MONEY, status_state, test_records

WHEN_FIELDS = ("registered_at", "order_time", "captured_at", "shipped_at")
#: Sources larger than this in total go to worker processes.
PARALLEL_BYTES = 64 << 20
#: How much more a byte of a workbook costs to prepare than a byte of CSV (its cells are compressed XML): at
#: 1 000 000 people a 65 MB mini-program workbook takes 18 s, a 108 MB CSV 10 s.
WORKBOOK_COST = 4
#: Rows cleaned at a time.
CHUNK_ROWS = 500_000
#: A source's quarantine file (:func:`quarantine_table`).
QUARANTINE_SCHEMA = tables.SCHEMAS["quarantine"].append(pa.field("_seq", pa.int64()))


@dataclass
class PreparedSource:
    """What is left of one source in memory after preparation: counts, quality rows and its files."""

    name: str
    kind: str
    rows_in: int
    rows_clean: int
    columns: list[str]
    clean_file: Path
    consistency_file: Path
    quarantine_file: Path  # the quarantined rows (:data:`QUARANTINE_COLUMNS` and ``_seq``, their order)
    quality: pd.DataFrame
    seconds: float = 0.0  # wall time of its preparation
    cpu_seconds: float = 0.0  # CPU time of its preparation (in whichever process prepared it)
    grain: str | None = None  # an orders source with an id column: ``order`` or ``line`` (one row per order line)
    grain_setting: str = "auto"  # the source's ``grain`` in the engagement file (``auto``: ``grain`` was detected)
    orders: int | None = None  # an orders source: distinct orders among the rows kept (``rows_clean`` are lines)
    repeated_orders: int = 0  # order numbers on more than one row that is no exact duplicate
    exact_duplicates: int = 0  # rows quarantined as exact duplicates of an earlier row
    zero_amounts: int = 0  # an orders source without an id column: rows kept with amount 0 and no refund marker
    dirt: pd.DataFrame | None = None  # the dirt met in every row read (digiops.merge.quality.dirt_rows)
    worker: str = ""  # ``host:pid`` of the process that prepared it (a worker process, or a Spark executor's)

    @property
    def scan(self) -> str:
        """SQL that reads the cleaned rows."""
        return scan(self.clean_file)

    def clean(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The cleaned rows (all columns, or the ones named that exist) read back from disk."""
        wanted = None if columns is None else [c for c in columns if c in self.columns]
        return pd.read_parquet(self.clean_file, columns=wanted)

    @property
    def quarantine(self) -> pd.DataFrame:
        """The quarantined rows read back from disk, in the order they were found (a check by hand, tests; the
        stage reads the file where its engine runs)."""
        return pd.read_parquet(self.quarantine_file, columns=list(QUARANTINE_COLUMNS))


def read_canonical(engagement: Engagement, name: str) -> pd.DataFrame:
    """Read one source through ``digiops.sources`` as its canonical frame; check its mapping and that it has rows.
    Raises :class:`SourceError` naming file, field and row."""
    source = engagement.sources[name]
    table = sources.read_source(engagement, name)
    label = source.path
    expected = list(source.columns) + ([source.id_column] if source.id_column else [])
    for column in expected:
        if column not in table.columns:
            shown = ", ".join(table.columns[:12]) + (", …" if len(table.columns) > 12 else "")
            raise SourceError(label, f"mapped column '{column}' is not in the file (columns: {shown})",
                              field=f"sources.{name}.columns.{column}", row=source.header_row,
                              fix=sources.column_fix(table, expected))
    if table.frame.empty:
        raise SourceError(label, f"source '{name}' has no data rows below the header (row {source.header_row})",
                          field=f"sources.{name}", fix="export the data again, or remove the source")
    return sources.canonical_frame(engagement, name, table)


def quarantine_table(frame: pd.DataFrame, first: int = 0) -> pa.Table:
    """Quarantined rows as their file holds them: the documented columns (:data:`digiops.tables.SCHEMAS`) and
    ``_seq``, their position among the source's quarantined rows (counted from ``first``)."""
    table = tables.conform(frame, "quarantine")
    return table.append_column("_seq", pa.array(range(first, first + table.num_rows), pa.int64()))


def when(frame: pd.DataFrame) -> pd.Series:
    """A record's time for recency: registration, order, capture or shipping time, the first one present."""
    out = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us]")
    for column in WHEN_FIELDS:
        if column in frame:
            out = out.fillna(pd.to_datetime(frame[column]).astype("datetime64[us]"))
    return out


def arrow_type(column: str) -> pa.DataType:
    """The Parquet type of a cleaned column (what :func:`digiops.merge.clean.clean_source` makes of it)."""
    if column in ("amount", "price"):
        return MONEY
    if column in ("quantity", "line", ROW):
        return pa.int64()
    if column in ("is_test", "_test"):
        return pa.bool_()
    if column == "birth_date":
        return pa.date32()
    if column in TIME_FIELDS or column == "_when":
        return pa.timestamp("us")
    return pa.string()


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A cleaned frame as Arrow with the types of :func:`arrow_type` (money exact, empty columns still typed)."""
    columns = {}
    for name in frame.columns:
        values, kind = frame[name], arrow_type(name)
        if values.dtype == object:
            columns[name] = pa.array(values.where(values.notna(), None).tolist(), type=kind)
        else:
            # times are kept to the microsecond: nanoseconds an export carries (``…:04.123456789``) are cut
            columns[name] = pa.Array.from_pandas(values).cast(kind, safe=not pa.types.is_timestamp(kind))
    return pa.table(columns)


def refunded_statuses(order_states: dict[str, list[str]]) -> Callable[[object], bool]:
    """Whether a status says the money went back (state ``refunded`` of ``merge.order_states``), memoized: a source
    has a few dozen statuses."""
    return functools.cache(lambda status: status_state(status, order_states) == "refunded")


def zero_amount(clean: pd.DataFrame, refunded: Callable[[object], bool]) -> pd.Series:
    """Cleaned order rows whose amount is exactly 0 with no refund marker (no ``refund_of``, no refunded status).

    They stay in the orders and in GMV (they add nothing to it); in a source without an id column they are counted
    and reported, since such a row is often a gift or a line an export wrote without its price."""
    if "amount" not in clean:
        return pd.Series(False, index=clean.index)
    zero = clean["amount"].map(lambda v: v is not None and not pd.isna(v) and v == 0).astype(bool)
    if "refund_of" in clean:
        zero &= clean["refund_of"].isna()
    if "status" in clean:
        zero &= ~clean["status"].map(lambda v: refunded(None if pd.isna(v) else v)).astype(bool)
    return zero


def prepare_source(engagement: Engagement, name: str, folder: Path, *, as_of: dt.date, earliest: dt.date,
                   test_markers: list[str], chunk_rows: int = CHUNK_ROWS,
                   timezone: str | None = None) -> PreparedSource:
    """Read, clean and measure one source; write its files under ``folder`` (see the module docstring).

    The source is read whole (as compact Arrow-backed text) but cleaned ``chunk_rows`` rows at a time, so the
    Python objects of cleaning never exist for more than one slice; an exact duplicate, a duplicate id and the lines
    of an order are still found across slices (:func:`digiops.merge.clean.duplicate_rows` of the whole source, with
    the source's ``grain``: what was decided is in :attr:`PreparedSource.grain`).
    Numbers are read in the source's ``decimal_separator`` and ``thousands_separator``; times with a UTC offset
    are converted to ``timezone`` (default the engagement's ``merge.timezone``).
    """
    wall, cpu = time.perf_counter(), time.process_time()
    source = engagement.sources[name]
    kind = source.kind
    reading = {"timezone": timezone or engagement.merge.timezone, "decimal_separator": source.decimal_separator,
              "thousands_separator": source.thousands_separator}
    raw = read_canonical(engagement, name)
    has_id = engagement.sources[name].id_column is not None
    duplicates = duplicate_rows(raw, kind=kind, has_id_column=has_id, grain=source.grain)
    refunded = refunded_statuses(engagement.merge.order_states)
    order_numbers, zero_amounts = [], 0
    folder.mkdir(parents=True, exist_ok=True)
    clean_file, consistency_file = folder / f"{name}.clean.parquet", folder / f"{name}.consistency.parquet"
    quarantine_file = folder / f"{name}.quarantine.parquet"
    counts, quarantined, columns, rows_clean, dirt = [], 0, [], 0, []
    before, after = defaultdict(list), defaultdict(list)
    clean_writer = consistency_writer = None
    quarantine_writer = pq.ParquetWriter(quarantine_file, QUARANTINE_SCHEMA)
    try:
        for start in range(0, len(raw), chunk_rows):
            part = raw.iloc[start:start + chunk_rows]
            cleaned = clean_source(part, name=name, kind=kind, as_of=as_of, earliest=earliest,
                                   has_id_column=has_id, duplicates=duplicates, **reading)
            quarantine_writer.write_table(quarantine_table(cleaned.quarantine, quarantined))
            quarantined += len(cleaned.quarantine)
            clean = cleaned.clean
            if "_order" in clean:
                order_numbers.append(clean["_order"].dropna().unique())
            if kind == "orders" and not has_id:
                zero_amounts += int(zero_amount(clean, refunded).sum())
            clean["_when"] = when(clean)
            # the buyer name as written: cleaning makes a placeholder name such as "test" no name at all
            named = (clean.assign(full_name=part.set_index(ROW)["full_name"].reindex(clean[ROW]).to_numpy())
                     if "full_name" in part else clean)
            clean["_test"] = test_records(named, test_markers) if kind == "orders" else False
            table = arrow_table(clean)
            del cleaned, clean
            measured = measure(part, table, kind=kind, as_of=as_of, earliest=earliest,
                               order_states=engagement.merge.order_states)
            counts.append(measured.counts)
            dirt.append(measured.dirt)
            for field, values in measured.distinct_before.items():
                before[field].append(values)
            for field, values in measured.distinct_after.items():
                after[field].append(values)
            if clean_writer is None:
                columns = table.column_names
                # without dictionaries: a third faster to write, a quarter larger, read as fast (work files)
                clean_writer = pq.ParquetWriter(clean_file, table.schema, use_dictionary=False)
                consistency_writer = pq.ParquetWriter(consistency_file, measured.consistency.schema,
                                                      use_dictionary=False)
            clean_writer.write_table(table)
            consistency_writer.write_table(measured.consistency)
            rows_clean += table.num_rows
    finally:
        for writer in (clean_writer, consistency_writer, quarantine_writer):
            if writer is not None:
                writer.close()
    quality = quality_rows(name, pd.concat(counts), {f: distinct_count(v) for f, v in before.items()},
                           {f: distinct_count(v) for f, v in after.items()})
    orders = None
    if kind == "orders":
        orders = (int(pd.concat([pd.Series(n) for n in order_numbers]).nunique())
                  if duplicates.grain == "line" and order_numbers else rows_clean)
    return PreparedSource(name=name, kind=kind, rows_in=len(raw), rows_clean=rows_clean, columns=columns,
                          clean_file=clean_file, consistency_file=consistency_file,
                          quarantine_file=quarantine_file, quality=quality,
                          seconds=time.perf_counter() - wall, cpu_seconds=time.process_time() - cpu,
                          grain=duplicates.grain, grain_setting=source.grain, orders=orders,
                          repeated_orders=duplicates.repeated, exact_duplicates=len(duplicates.exact),
                          zero_amounts=zero_amounts,
                          dirt=pd.concat(dirt, ignore_index=True) if dirt else None,
                          worker=f"{socket.gethostname()}:{os.getpid()}")


def _prepare_in_worker(engagement_file: Path, name: str, folder: Path, as_of: dt.date, earliest: dt.date,
                       test_markers: list[str], timezone: str | None = None) -> PreparedSource:
    engagement = load_engagement(engagement_file)
    return prepare_source(engagement, name, folder, as_of=as_of, earliest=earliest, test_markers=test_markers,
                          timezone=timezone)


def prepare_all(engagement: Engagement, names: list[str], folder: Path, *, as_of: dt.date, earliest: dt.date,
                test_markers: list[str], jobs: int = 2, timezone: str | None = None) -> dict[str, PreparedSource]:
    """:func:`prepare_source` for every named source, in the engagement's order.

    Two worker processes take the sources costliest first (their size, a workbook's times :data:`WORKBOOK_COST`)
    when they add up to more than :data:`PARALLEL_BYTES`, so that the last sources to finish are small ones.
    The first source that fails raises its :class:`SourceError` (the other workers are cancelled).
    With ``engine: spark`` every source is a Spark task instead (:func:`_prepare_on_spark`).
    """
    sizes = {n: engagement.source_path(n).stat().st_size
                * (WORKBOOK_COST if engagement.sources[n].file_format == "xlsx" else 1) for n in names}
    if engagement.engine.is_spark and names:
        return _prepare_on_spark(engagement, names, folder, sorted(names, key=sizes.get, reverse=True), as_of=as_of,
                                 earliest=earliest, test_markers=test_markers, timezone=timezone)
    if jobs < 2 or len(names) < 2 or sum(sizes.values()) < PARALLEL_BYTES:
        return {n: prepare_source(engagement, n, folder, as_of=as_of, earliest=earliest, test_markers=test_markers,
                                  timezone=timezone) for n in names}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(names)), mp_context=context) as pool:
        futures = {n: pool.submit(_prepare_in_worker, engagement.file, n, folder, as_of, earliest, test_markers,
                                  timezone) for n in sorted(names, key=sizes.get, reverse=True)}
        try:
            done = {n: futures[n].result() for n in names}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
    return done


def _prepare_on_spark(engagement: Engagement, names: list[str], folder: Path, order: list[str],
                      **settings) -> dict[str, PreparedSource]:
    """:func:`prepare_source` of every source as one task of a Spark job, costliest first
    (:func:`digiops.engines.run_tasks`): the executors read the exports, clean and measure them and write the files
    to ``folder`` (a path they reach: the run folder's), and the driver gets back only the small
    :class:`PreparedSource` of each. A source that fails raises its :class:`SourceError` here."""
    done = engines.run_tasks(engagement.engine, order,
                             lambda name: prepare_source(engagement, name, folder, **settings),
                             location=engagement.file.name, description="digiops merge: prepare the sources")
    prepared = dict(zip(order, done, strict=True))
    return {n: prepared[n] for n in names}
