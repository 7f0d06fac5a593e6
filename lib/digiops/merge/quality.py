"""Data quality per source and field, before and after cleaning (DOMAIN §1).

- **completeness**: share of rows with a value (before: non-blank raw text; after: a usable normalized value,
  over the rows kept);
- **validity**: before, share of non-blank raw values already in the standard form (what a downstream system
  accepts as is: E.164 phone, ISO date, lower-case e-mail, plain number …); after, share of non-blank raw values
  that cleaning turned into a usable value;
- **uniqueness**: distinct values / filled values;
- **consistency** (person fields only): share of a source's values that agree with the customer's golden record
  (before: raw text; after: normalized) — low before cleaning when systems write the same fact differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from digiops.io import ROW
from digiops.merge.normalize import arrow_text
from digiops.sql import literal

QUALITY_COLUMNS = ["source", "field", "phase", "completeness", "validity", "uniqueness", "consistency"]
SKIP = ("source", "record_id", ROW)
CONSISTENCY_FIELDS = ("full_name", "gender", "birth_date", "phone", "email", "national_id", "province", "city",
                      "district")


def standard_text(values: pa.Array) -> pa.Array:
    """How each cleaned value is written in standard form (text; null for no value), for comparison with the raw
    text: timestamps ``YYYY-MM-DD HH:MM:SS`` (without a midnight time), dates ``YYYY-MM-DD``, amounts with two
    decimals. Flags (booleans) have no standard text."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return values
    if pa.types.is_timestamp(kind):
        text = values.cast(pa.timestamp("s"), safe=False).cast(pa.string())  # "2025-05-01 10:00:00"
        return pc.replace_substring_regex(text, " 00:00:00$", "")
    if pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return pa.nulls(len(values), pa.string())
    return values.cast(pa.string())


def _share(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else float("nan")


COUNTS = ["field", "rows", "filled", "given", "in_standard", "clean_rows", "after_filled", "usable"]


@dataclass
class Measured:
    """What :func:`measure` found in one slice of a source: counts that add up over slices, the distinct values
    seen as :func:`value_hashes` (to count distinct over the whole source), and the inputs of
    :func:`consistency`."""

    counts: pd.DataFrame
    distinct_before: dict[str, np.ndarray]
    distinct_after: dict[str, np.ndarray]
    consistency: pa.Table


def _trimmed(values: pd.Series) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.fill_null(arrow_text(values), ""))


def measure(raw: pd.DataFrame, clean: pa.Table) -> Measured:
    """Measure one slice: ``raw`` its canonical text rows, ``clean`` the rows cleaning kept, as written."""
    kept = pa.array(raw[ROW].isin(clean.column(ROW).to_numpy()).to_numpy())
    rows, before, after = [], {}, {}
    consistency = {ROW: clean.column(ROW)}
    for field in [c for c in raw.columns if c not in SKIP]:
        text = _trimmed(raw[field])
        filled = pc.not_equal(text, "")
        raw_kept = text.filter(kept)
        given = pc.not_equal(raw_kept, "")
        standard = (standard_text(clean.column(field).combine_chunks()) if field in clean.column_names
                    else pa.nulls(clean.num_rows, pa.string()))
        has = pc.is_valid(standard)
        agree = pc.and_kleene(given, pc.equal(raw_kept, standard))
        rows.append([field, len(text), pc.sum(filled).as_py() or 0, pc.sum(given).as_py() or 0,
                     pc.sum(pc.fill_null(agree, False)).as_py() or 0, clean.num_rows, pc.sum(has).as_py() or 0,
                     pc.sum(pc.and_(given, has)).as_py() or 0])
        before[field] = value_hashes(text.filter(filled))
        after[field] = value_hashes(standard)
        if field in CONSISTENCY_FIELDS:
            consistency[f"{field}_before"] = pc.if_else(given, raw_kept, pa.scalar(None, pa.string()))
            consistency[f"{field}_after"] = standard
    return Measured(pd.DataFrame(rows, columns=COUNTS), before, after, pa.table(consistency))


@lru_cache(maxsize=1)
def _duckdb():
    import duckdb

    return duckdb.connect()


def value_hashes(values: pa.Array) -> np.ndarray:
    """The distinct 64-bit hashes (DuckDB's ``hash``) of the non-null values: 8 bytes a distinct value whatever
    its length, and a hash set of integers rather than of text when the slices are counted together. Two distinct
    values share a hash with probability ~n²/2⁶⁵ (about 10⁻⁶ for 4 million values): uniqueness is a share, and
    that error is far below its last shown digit."""
    con = _duckdb()
    con.register("_values", pa.table({"v": values}))
    try:
        return con.execute("SELECT DISTINCT hash(v) AS h FROM _values WHERE v IS NOT NULL").fetchnumpy()["h"]
    finally:
        con.unregister("_values")


def distinct_count(parts: list[np.ndarray]) -> int:
    """Distinct values over the slices' :func:`value_hashes` (sorted and counted: several times faster than
    ``np.unique`` or a hash set here)."""
    hashes = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)
    return int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if len(hashes) else 0


def quality_rows(source: str, counts: pd.DataFrame, distinct_before: dict[str, int],
                 distinct_after: dict[str, int]) -> pd.DataFrame:
    """The before/after rows of one source from its summed :func:`measure` counts and distinct counts
    (consistency is left empty: :func:`consistency` fills it once the golden records exist)."""
    rows = []
    for c in counts.groupby("field", sort=False).sum().reset_index().itertuples(index=False):
        rows.append({"source": source, "field": c.field, "phase": "before", "completeness": _share(c.filled, c.rows),
                     "validity": _share(c.in_standard, c.given),
                     "uniqueness": _share(distinct_before.get(c.field, 0), c.filled), "consistency": float("nan")})
        rows.append({"source": source, "field": c.field, "phase": "after",
                     "completeness": _share(c.after_filled, c.clean_rows), "validity": _share(c.usable, c.given),
                     "uniqueness": _share(distinct_after.get(c.field, 0), c.after_filled),
                     "consistency": float("nan")})
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def consistency(con, quality: pd.DataFrame, inputs: dict[str, str], crosswalk: str, customers: str) -> pd.DataFrame:
    """Fill ``consistency``: the share of a source's values agreeing with the customer's golden record.

    Args:
        con: a DuckDB connection.
        quality: rows of :func:`source_quality`.
        inputs: source name → SQL that reads the consistency inputs :func:`measure` made of it.
        crosswalk, customers: tables (or views) in ``con`` with ``source, _row, customer_id`` (``_row``: the
            record's row in its file) and the golden records.
    """
    golden_columns = {row[0] for row in con.sql(f"DESCRIBE {customers}").fetchall()}
    found = []
    for name, scan in inputs.items():
        columns = {row[0] for row in con.sql(f"DESCRIBE SELECT * FROM {scan}").fetchall()}
        fields = [f for f in CONSISTENCY_FIELDS if f"{f}_before" in columns and f in golden_columns]
        if not fields:
            continue
        measures = ", ".join(
            f"avg(CASE WHEN g.\"{f}\" IS NOT NULL AND c.\"{f}_{phase}\" IS NOT NULL "
            f"THEN (CAST(g.\"{f}\" AS VARCHAR) = c.\"{f}_{phase}\")::INT END) AS \"{f}|{phase}\""
            for f in fields for phase in ("before", "after"))
        row = con.sql(f"""
            SELECT {measures} FROM {scan} c
            JOIN {crosswalk} x ON x.source = {literal(name)} AND x._row = c._row
            JOIN {customers} g ON g.customer_id = x.customer_id""").fetchdf()
        for key, value in row.iloc[0].items():
            field, phase = key.split("|")
            found.append({"source": name, "field": field, "phase": phase, "consistency": value})
    if not found:
        return quality
    agreed = pd.DataFrame(found).astype({"consistency": float})
    out = quality.drop(columns="consistency").merge(agreed, on=["source", "field", "phase"], how="left")
    return out[QUALITY_COLUMNS]
