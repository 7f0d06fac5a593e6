"""The documented schemas of the tables one stage writes and another reads (``docs/architecture.md``).

A table keeps its documented columns and types whatever the inputs: an engagement without a customers source still
writes ``customers.parquet`` with ``birth_date`` as a date, and one without shipments still writes an empty
``shipments.parquet`` whose ``shipped_at`` is a timestamp. :func:`conform` is the one place that makes a table
agree with its schema; the merge stage applies it to everything it writes and the labels stage builds its empty
tables from the same schemas.

Example:
    >>> frame = pd.DataFrame({"customer_id": ["C0000001"], "birth_date": [float("nan")]})
    >>> table = conform(frame, "customers")
    >>> str(table.schema.field("birth_date").type), table.num_columns == len(SCHEMAS["customers"])
    ('date32[day]', True)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TEXT = pa.string()
MONEY = pa.decimal128(18, 2)
TIME = pa.timestamp("us")

SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([
        ("customer_id", TEXT), ("full_name", TEXT), ("name_pinyin", TEXT), ("gender", TEXT),
        ("birth_date", pa.date32()), ("phone", TEXT), ("email", TEXT), ("national_id", TEXT), ("province", TEXT),
        ("city", TEXT), ("district", TEXT), ("adcode", TEXT), ("address", TEXT), ("member_level", TEXT),
        ("registered_at", TIME), ("first_touch_channel", TEXT), ("first_touch_campaign", TEXT),
        ("first_touch_at", TIME), ("sources", TEXT), ("n_records", pa.int64())]),
    "crosswalk": pa.schema([("source", TEXT), ("record_id", TEXT), ("customer_id", TEXT),
                            ("match_probability", pa.float64())]),
    "orders": pa.schema([
        ("order_id", TEXT), ("source", TEXT), ("channel", TEXT), ("customer_id", TEXT), ("order_time", TIME),
        ("amount", MONEY), ("quantity", pa.int64()), ("sku", TEXT), ("store_id", TEXT), ("region", TEXT),
        ("province", TEXT), ("status", TEXT), ("is_refund", pa.bool_()), ("is_test", pa.bool_()), ("state", TEXT),
        ("in_gmv", pa.bool_()),
        # a line-grain source's line within its order (the lines share order_id); null: one row per order
        ("line", pa.int64())]),
    "shipments": pa.schema([
        ("shipment_id", TEXT), ("order_id", TEXT), ("carrier", TEXT), ("tracking_no", TEXT), ("status", TEXT),
        ("shipped_at", TIME), ("signed_at", TIME), ("promised_at", TIME), ("is_late", pa.bool_()),
        ("is_failed", pa.bool_())]),
    "products": pa.schema([("sku", TEXT), ("product_name", TEXT), ("category", TEXT), ("price", MONEY),
                           ("price_band", TEXT)]),
    "quarantine": pa.schema([("source", TEXT), ("row", pa.int64()), ("record_id", TEXT), ("field", TEXT),
                             ("reason", TEXT)]),
}


def columns(name: str) -> list[str]:
    """The documented columns of table ``name``, in order."""
    return SCHEMAS[name].names


def _array(values: pd.Series | pa.ChunkedArray | None, kind: pa.DataType, length: int) -> pa.ChunkedArray:
    if values is None:
        return pa.chunked_array([pa.nulls(length, kind)])
    if isinstance(values, pd.Series):
        if values.isna().all():  # an all-missing column has no type to keep (pandas makes it float64)
            return pa.chunked_array([pa.nulls(length, kind)])
        if pa.types.is_date32(kind) and not isinstance(values.dtype, pd.ArrowDtype):
            values = pd.to_datetime(values).dt.date.astype(object).where(values.notna(), None)
        values = pa.chunked_array([pa.array(values, from_pandas=True)])
    if values.null_count == len(values):
        return pa.chunked_array([pa.nulls(length, kind)])
    return values.cast(kind)


def conform(data: pd.DataFrame | pa.Table, name: str) -> pa.Table:
    """``data`` with exactly the documented columns of table ``name`` in their documented types: missing columns
    are added empty, extra columns dropped, all-missing columns take their type (the result is an Arrow table)."""
    schema = SCHEMAS[name]
    length = len(data) if isinstance(data, pd.DataFrame) else data.num_rows
    present = data.columns if isinstance(data, pd.DataFrame) else data.column_names
    arrays = [_array(data[f.name] if f.name in present else None, f.type, length) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


#: SQL types of the Arrow types of :data:`SCHEMAS` (:func:`select_sql`).
_SQL_TYPES = {TEXT: "VARCHAR", MONEY: "DECIMAL(18, 2)", TIME: "TIMESTAMP", pa.date32(): "DATE", pa.int64(): "BIGINT",
              pa.float64(): "DOUBLE", pa.bool_(): "BOOLEAN"}


def select_sql(name: str, present: list[str]) -> str:
    """SQL select list giving table ``name``'s documented columns in order and type from a query with the columns
    ``present`` (a missing one null): what a file written by DuckDB or Spark needs to be the documented table
    without :func:`conform_file` reading it again.

    >>> select_sql("crosswalk", ["record_id", "source", "customer_id"]).split(", ")[-2:]
    ['CAST(customer_id AS VARCHAR) AS customer_id', 'CAST(NULL AS DOUBLE) AS match_probability']
    """
    return ", ".join(f"CAST({f.name if f.name in present else 'NULL'} AS {_SQL_TYPES[f.type]}) AS {f.name}"
                     for f in SCHEMAS[name])


def conform_file(path: Path, name: str) -> None:
    """Rewrite a Parquet file in place when its columns or types differ from the documented ones (else leave it
    alone: a million people's orders are not read again for nothing; a column Spark marks as never null is the
    same column)."""
    found = pq.read_schema(path)
    if [(f.name, f.type) for f in found] == [(f.name, f.type) for f in SCHEMAS[name]]:
        return
    table = conform(pq.read_table(path), name)
    partial = path.with_name(path.name + ".part")
    pq.write_table(table, partial)
    partial.replace(path)


def empty(name: str) -> pa.Table:
    """A zero-row table of the documented schema."""
    return SCHEMAS[name].empty_table()
