"""Stage "inventory": the data map a consultant draws in the first week (seed 002, "business research").

For every source of the engagement: file, detected encoding and delimiter, sheet, rows, columns, mapped vs
unmapped columns, empty columns, sha256, the date range of its date-like mapped columns, and what reading it warns
about (formula cells without a stored value, cells right of the header).
"""

from __future__ import annotations

import pandas as pd

from digiops import io
from digiops.dates import parse_dates
from digiops.engagement import Engagement
from digiops.errors import SourceError
from digiops.sources import read_source

#: Dates whose span says what period a source covers (not birth dates: their extremes are one person's birthday).
DATE_FIELDS = ("order_time", "paid_at", "registered_at", "shipped_at", "signed_at", "captured_at", "event_time",
               "date", "created_at", "due")


SOURCE_COLUMNS = ["source", "kind", "path", "format", "bytes", "sha256", "encoding", "delimiter", "sheet", "rows",
                  "columns", "mapped", "unmapped", "empty_columns", "date_from", "date_to", "error", "warnings"]


def _date_range(values: pd.Series) -> tuple[str | None, str | None]:
    parsed = parse_dates(values).dropna()  # offsets (+08:00, Z) converted, not "Mixed timezones"
    if parsed.empty:
        return None, None
    return parsed.min().date().isoformat(), parsed.max().date().isoformat()


def inventory(engagement: Engagement) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One row per source, and one row per source column.

    A source that cannot be read is listed with its error instead of stopping the stage: the inventory is
    where a consultant finds out which exports are broken.
    """
    source_rows, column_rows = [], []
    for name, source in engagement.sources.items():
        path = engagement.source_path(name)
        row = {"source": name, "kind": source.kind, "path": source.path, "format": source.file_format,
               "bytes": path.stat().st_size if path.exists() else None,
               "sha256": io.sha256_file(path) if path.exists() else None,
               "encoding": None, "delimiter": None, "sheet": None, "rows": None, "columns": None, "mapped": None,
               "unmapped": None, "empty_columns": None, "date_from": None, "date_to": None, "error": None,
               "warnings": None}
        try:
            table = read_source(engagement, name)
        except SourceError as exc:
            row["error"] = str(exc)
            source_rows.append(row)
            continue
        frame = table.frame
        mapped = [c for c in table.columns if c in source.columns or c == source.id_column]
        empty = [c for c in table.columns if frame[c].str.strip().eq("").all()]
        date_columns = [raw for raw, canon in source.columns.items() if canon in DATE_FIELDS]
        ranges = [_date_range(frame[c]) for c in date_columns if c in frame]
        starts = [r[0] for r in ranges if r[0]]
        ends = [r[1] for r in ranges if r[1]]
        row.update(encoding=table.encoding, delimiter=table.delimiter, sheet=table.sheet, rows=len(frame),
                   columns=len(table.columns), mapped=len(mapped), unmapped=len(table.columns) - len(mapped),
                   empty_columns=len(empty),
                   date_from=min(starts) if starts else None, date_to=max(ends) if ends else None,
                   warnings="\n".join(table.warnings) or None)
        source_rows.append(row)
        for column in table.columns:
            values = frame[column].str.strip()
            filled = values.ne("")
            column_rows.append({
                "source": name, "column": column,
                "canonical": source.columns.get(column, "record_id" if column == source.id_column else None),
                "filled_share": float(filled.mean()) if len(values) else 0.0,
                "distinct": int(values[filled].nunique()),
            })
    sources = pd.DataFrame(source_rows, columns=SOURCE_COLUMNS)
    columns = pd.DataFrame(column_rows, columns=["source", "column", "canonical", "filled_share", "distinct"])
    return sources, columns


def run(ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage: list every source and column, write both tables, record the counts."""
    sources, columns = inventory(ctx.engagement)
    ctx.write_table("inventory", sources)
    ctx.write_table("columns", columns)
    ctx.record(sources=len(sources), rows=int(sources["rows"].fillna(0).sum()),
               unreadable=int(sources["error"].notna().sum()))
    return sources, columns
