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
from digiops.text import FIELD_NAMES, MISSING, SOURCE_KINDS, term

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


#: Column → header (zh, en) of the inventory's tables.
HEADERS = {"source": ("来源", "source"), "kind": ("类型", "kind"), "path": ("文件", "file"), "format": ("格式", "format"),
           "bytes": ("字节数", "bytes"), "encoding": ("编码", "encoding"), "delimiter": ("分隔符", "delimiter"),
           "sheet": ("工作表", "sheet"), "rows": ("行数", "rows"), "columns": ("列数", "columns"),
           "mapped": ("已映射列", "mapped"), "unmapped": ("未映射列", "unmapped"), "empty_columns": ("空列", "empty columns"),
           "date_from": ("最早日期", "first date"), "date_to": ("最晚日期", "last date"), "error": ("读取错误", "error"),
           "warnings": ("读取提示", "warnings"), "column": ("原始列名", "column"), "canonical": ("对应字段", "field"),
           "filled_share": ("填充率", "share filled"), "distinct": ("不同值个数", "distinct values")}
#: Delimiter (``digiops.io.DELIMITER_CHARS``, ``ALIGNED``) → words.
DELIMITERS = {"comma": ("逗号", "comma"), "semicolon": ("分号", "semicolon"), "tab": ("制表符", "tab"),
              "pipe": ("竖线", "pipe"), "whitespace": ("空白", "whitespace"), "fixed": ("固定宽度", "fixed width")}


def _view(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    words = {"kind": SOURCE_KINDS, "delimiter": DELIMITERS, "canonical": FIELD_NAMES}
    out = frame.copy()
    for column, table in words.items():
        if column in out:
            out[column] = out[column].map(lambda v, t=table: term(language, t, v) if isinstance(v, str) else v)
    return out.rename(columns=lambda c: term(language, HEADERS, c))


def sources_view(sources: pd.DataFrame, language: str):
    """The source table as shown: codes in words, headers in the report language, a missing value "–" (the
    checksum is in ``inventory.parquet``).

    >>> frame = pd.DataFrame({"source": ["crm"], "kind": ["customers"], "delimiter": ["comma"], "sheet": [None],
    ...                       "rows": [13821], "sha256": ["ab"]})
    >>> html = sources_view(frame, "zh").to_html()
    >>> "客户" in html and "逗号" in html and "13,821" in html and "None" not in html and "sha256" not in html
    True
    """
    return (_view(sources.drop(columns=["sha256"], errors="ignore"), language).style.hide(axis="index")
            .format(precision=0, thousands=",", na_rep=MISSING, escape="html"))


def unmapped_view(columns: pd.DataFrame, language: str):
    """The columns no canonical field takes, with their fill rate as a percentage."""
    unmapped = columns[columns["canonical"].isna()][["source", "column", "filled_share", "distinct"]]
    shown = _view(unmapped.assign(filled_share=unmapped["filled_share"].map(lambda v: f"{v:.1%}")), language)
    return shown.style.hide(axis="index").format(thousands=",", na_rep=MISSING, escape="html")


def run(ctx) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stage: list every source and column, write both tables, record the counts."""
    sources, columns = inventory(ctx.engagement)
    ctx.write_table("inventory", sources)
    ctx.write_table("columns", columns)
    ctx.record(sources=len(sources), rows=int(sources["rows"].fillna(0).sum()),
               unreadable=int(sources["error"].notna().sum()))
    return sources, columns
