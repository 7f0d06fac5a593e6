"""All file reading and writing: the edge of the package.

Reading a client's export: the declared or detected encoding (UTF-8 with BOM, UTF-8, GB18030), the header row
below any title rows, the sheet of a workbook. Every cell is read as text, so cleaning decides what a value means,
and every row keeps ``_row``, its row number as the client sees it in Excel or a text editor (1-based, header
included), so errors and quarantine reasons can point at it. Raw files are opened read-only, never written.

Writing: every output is written to a temporary file beside its target and renamed into place, so a killed run
never leaves half a file behind. Exports a person opens in Excel (CSV, XLSX) neutralize cells that start with
``=``, ``+``, ``-`` or ``@`` (formula injection).
"""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from digiops.errors import ArchiveError, SourceError

if TYPE_CHECKING:
    from digiops.engagement import Engagement

AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, or an encrypted (password-protected) .xlsx
PARQUET_MAGIC = b"PAR1"
ROW = "_row"
MAX_FIELD_BYTES = 10 * 1024 * 1024
csv.field_size_limit(MAX_FIELD_BYTES)  # the csv module's own default (128 KiB) is too small for free-text fields


@dataclass
class SourceTable:
    """A raw source as read: text cells with the client's column names, plus ``_row``."""

    name: str
    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW]


# --- reading ------------------------------------------------------------------------------------------------------
def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _label(engagement: Engagement, path: Path) -> str:
    try:
        return str(path.relative_to(engagement.folder))
    except ValueError:
        return str(path)


def detect_encoding(data: bytes, declared: str, label: str) -> str:
    """The encoding that decodes ``data``: the declared one, or the first of UTF-8(-sig) and GB18030 that works."""
    candidates = AUTO_ENCODINGS if declared == "auto" else (declared,)
    failures = []
    for encoding in candidates:
        try:
            data.decode(encoding)
            return encoding
        except UnicodeDecodeError as exc:
            failures.append((encoding, exc))
    encoding, exc = max(failures, key=lambda f: f[1].start)  # the encoding that read furthest is the likely one
    line = data[: exc.start].count(b"\n") + 1
    tried = ", ".join(c for c in candidates)
    raise SourceError(label, f"bytes at offset {exc.start} (line {line}) cannot be decoded as {tried}",
                      field="encoding", row=line,
                      fix="re-export the file as UTF-8 or GB18030, or set the source's encoding to the one it uses")


def _sniff(path: Path, fmt: str, label: str) -> None:
    head = path.read_bytes()[:8] if path.stat().st_size < 8 else open(path, "rb").read(8)
    if fmt == "csv" and head.startswith(ZIP_MAGIC):
        raise SourceError(label, "declared as CSV but the file is a zip/XLSX workbook", field="format",
                          fix="set format: xlsx (and sheet / header_row), or export it again as CSV")
    if fmt == "csv" and head.startswith(OLE2_MAGIC):
        raise SourceError(label, "declared as CSV but the file is a legacy or password-protected Excel workbook",
                          field="format", fix="open it in Excel, remove the password and save as .xlsx or .csv")
    if fmt == "xlsx" and head.startswith(OLE2_MAGIC):
        raise SourceError(label, "the workbook is password-protected (encrypted) or a legacy .xls file",
                          field="format", fix="open it in Excel, remove the password and save as .xlsx")
    if fmt == "xlsx" and not head.startswith(ZIP_MAGIC):
        raise SourceError(label, "declared as XLSX but the file is not an Excel workbook", field="format",
                          fix="set format: csv if it is text, or export it again as .xlsx")
    if fmt == "parquet" and not head.startswith(PARQUET_MAGIC):
        raise SourceError(label, "declared as Parquet but the file is not a Parquet file", field="format",
                          fix="set the right format for this file")


def _dedupe_check(columns: list[str], label: str, header_row: int) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(columns, start=1):
        if name in seen:
            raise SourceError(label, f"column '{name}' appears twice (columns {seen[name]} and {position})",
                              field="header", row=header_row,
                              fix="rename one of them in the export, or point header_row at the real header")
        seen[name] = position


def _read_csv(path: Path, encoding: str, header_row: int, label: str, nrows: int | None,
              data: bytes | None = None) -> pd.DataFrame:
    """A CSV export as text cells with ``_row``: Arrow's C++ parser for ordinary files, else the csv module.

    The columnar path is taken when every record is one line (no quoted line breaks, no blank lines), so a row's
    line number is the header's plus its position. Anything else (blank lines, quoted line breaks, ragged rows,
    a cell over the size limit, an unreadable header) goes through :func:`_read_csv_rows`, which reads row by
    row and names the exact line of every problem.
    """
    if nrows is None:
        frame = _read_csv_columnar(data if data is not None else path.read_bytes(), encoding, header_row)
        if frame is not None:
            return frame
    return _read_csv_rows(path, encoding, header_row, label, nrows)


def _read_csv_columnar(data: bytes, encoding: str, header_row: int) -> pd.DataFrame | None:
    """The columnar path of :func:`_read_csv`; ``None`` when the file is not ordinary (the caller falls back)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # Offsets into one buffer rather than slices of it: a slice of a 1 GB export is another 1 GB.
    if encoding.replace("-sig", "").replace("_", "-").lower() in ("utf-8", "utf8"):
        start = 3 if data[:3] == b"\xef\xbb\xbf" else 0
    else:
        data, start = data.decode(encoding).encode("utf-8"), 0
    cut = start - 1
    for _ in range(header_row):  # the title rows and the header, one line each
        cut = data.find(b"\n", cut + 1)
        if cut < 0:
            return None
    header_line = data[max(data.rfind(b"\n", start, cut) + 1, start):cut].decode("utf-8").rstrip("\r")
    if b'"' in data[start:cut]:
        return None  # quoted title or header cells may span lines: let the row reader count them
    header = [h.strip() for h in next(csv.reader([header_line]), [])]
    if not header or len(set(header)) != len(header):
        return None
    start = cut + 1
    lines = data.count(b"\n", start) + (1 if len(data) > start and not data.endswith(b"\n") else 0)
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 26, use_threads=True),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None  # ragged rows and the like: the row reader names the line
    if table.num_rows != lines:
        return None  # blank lines or quoted line breaks: line numbers need the row reader
    for column in table.columns:
        if table.num_rows and pc.max(pc.utf8_length(column)).as_py() > MAX_FIELD_BYTES:
            return None
    rows = pa.array(range(header_row + 1, header_row + 1 + table.num_rows), type=pa.int64())
    if table.num_rows and table.num_columns:
        blank = None
        for column in table.columns:
            empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
            blank = empty if blank is None else pc.and_(blank, empty)
        if pc.any(blank).as_py():  # a row of empty cells (",,,"): nothing to account for, as in the row reader
            keep = pc.invert(blank)
            table, rows = table.filter(keep), rows.filter(keep)
    frame = table.rename_columns(header).to_pandas()
    frame[ROW] = pd.Series(rows.to_numpy(), dtype="int64")
    return frame


def _read_csv_rows(path: Path, encoding: str, header_row: int, label: str, nrows: int | None) -> pd.DataFrame:
    text_rows = []
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        line_no = 0
        try:
            for record in reader:
                line_no = reader.line_num
                if line_no < header_row:
                    continue
                text_rows.append((line_no, record))
                if nrows is not None and len(text_rows) > nrows:
                    break
        except csv.Error as exc:
            too_big = "field larger than field limit" in str(exc)
            raise SourceError(label, f"a cell holds more than {MAX_FIELD_BYTES:,} characters" if too_big
                              else f"is not valid CSV ({exc})", row=reader.line_num,
                              fix="check the export; a field that size is not data" if too_big
                              else "check quoting in that row") from None
    if not text_rows:
        raise SourceError(label, f"has no header at row {header_row} (the file has {line_no} lines)",
                          field="header_row", fix="set header_row to the row number of the column names")
    (h_line, header), body = text_rows[0], text_rows[1:]
    header = [h.strip() for h in header]
    _dedupe_check(header, label, h_line)
    width = len(header)
    records, row_numbers = [], []
    for line, record in body:
        if not any(cell.strip() for cell in record):
            continue  # blank line: nothing to account for
        if len(record) > width and any(c.strip() for c in record[width:]):
            raise SourceError(label, f"has {len(record)} cells but the header has {width}", row=line,
                              fix="check for an unquoted comma in that row, or the header_row setting")
        record = (record + [""] * width)[:width]
        for column, cell in zip(header, record):
            if len(cell) > MAX_FIELD_BYTES:
                raise SourceError(label, f"one cell holds {len(cell):,} characters (limit {MAX_FIELD_BYTES:,})",
                                  field=column, row=line, fix="check the export; a field that size is not data")
        records.append(record)
        row_numbers.append(line)
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in header})
    frame[ROW] = pd.Series(row_numbers, dtype="int64")
    return frame


def _read_xlsx(path: Path, sheet: str | int | None, header_row: int, label: str,
               nrows: int | None) -> tuple[pd.DataFrame, str, list[str]]:
    """A workbook's sheet as text cells with ``_row``: calamine (Rust) when it is installed and the sheet is
    ordinary, else openpyxl, which also names every problem (corrupt file, missing sheet, missing header)."""
    fast = _read_xlsx_calamine(path, sheet, header_row, nrows)
    return fast if fast is not None else _read_xlsx_openpyxl(path, sheet, header_row, label, nrows)


def _read_xlsx_calamine(path: Path, sheet: str | int | None, header_row: int,
                        nrows: int | None) -> tuple[pd.DataFrame, str, list[str]] | None:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        return None
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int):
            chosen = names[sheet] if 0 <= sheet < len(names) else None
        else:
            chosen = sheet if sheet in names else None
        if chosen is None:
            return None
        rows = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 — anything calamine cannot read, openpyxl reads or explains
        return None
    if len(rows) < header_row or not all(isinstance(h, str) for h in rows[header_row - 1]):
        return None
    header = [h.strip() for h in rows[header_row - 1]]
    while header and header[-1] == "":
        header.pop()
    if len(set(header)) != len(header):
        return None
    width = len(header)
    records, row_numbers = [], []
    for number, values in enumerate(rows[header_row:], start=header_row + 1):
        cells = [v if type(v) is str else "" if v is None else _cell_text(v) for v in values[:width]]
        if not any(c.strip() for c in cells):
            continue
        records.append(cells + [""] * (width - len(cells)))
        row_numbers.append(number)
        if nrows is not None and len(records) >= nrows:
            break
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in header})
    frame[ROW] = pd.Series(row_numbers, dtype="int64")
    return frame, chosen, names


def _read_xlsx_openpyxl(path: Path, sheet: str | int | None, header_row: int, label: str,
                        nrows: int | None) -> tuple[pd.DataFrame, str, list[str]]:
    from openpyxl import load_workbook

    handle = open(path, "rb")  # a handle, not a name: openpyxl judges names by suffix, we judge by content
    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        handle.close()
        raise SourceError(label, f"the workbook is corrupt or not an .xlsx file ({type(exc).__name__})",
                          field="format", fix="open it in Excel and save it again as .xlsx") from None
    try:
        names = workbook.sheetnames
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise SourceError(label, f"has no sheet number {sheet} (sheets: {', '.join(names)})", field="sheet",
                                  fix="sheet numbers start at 0; or give the sheet name")
            chosen = names[sheet]
        elif sheet not in names:
            raise SourceError(label, f"has no sheet '{sheet}' (sheets: {', '.join(names)})", field="sheet",
                              fix="set sheet to one of those names")
        else:
            chosen = sheet
        rows = workbook[chosen].iter_rows(min_row=header_row, values_only=True)
        header_cells = next(rows, None)
        if header_cells is None:
            raise SourceError(label, f"sheet '{chosen}' has no row {header_row}", field="header_row",
                              fix="set header_row to the row number of the column names")
        header = [("" if h is None else str(h)).strip() for h in header_cells]
        while header and header[-1] == "":
            header.pop()
        _dedupe_check(header, label, header_row)
        width = len(header)
        records, row_numbers = [], []
        for offset, values in enumerate(rows, start=1):
            cells = ["" if v is None else _cell_text(v) for v in values[:width]]
            if not any(c.strip() for c in cells):
                continue
            records.append(cells + [""] * (width - len(cells)))
            row_numbers.append(header_row + offset)
            if nrows is not None and len(records) >= nrows:
                break
    finally:
        workbook.close()
        handle.close()
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in header})
    frame[ROW] = pd.Series(row_numbers, dtype="int64")
    return frame, chosen, names


def _cell_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        text = value.isoformat(sep=" ") if hasattr(value, "date") else value.isoformat()  # datetime / date, time
        return text.removesuffix(" 00:00:00")
    return str(value)


def read_table(path: Path, *, fmt: str, encoding: str = "auto", sheet: str | int | None = None,
               header_row: int = 1, label: str | None = None, nrows: int | None = None,
               name: str = "") -> SourceTable:
    """Read one export as text cells (see module docstring). Raises :class:`SourceError` with file and row."""
    label = label or str(path)
    if not path.is_file():
        raise SourceError(label, "file not found", fix="check the path in the engagement file, or add the file")
    if path.stat().st_size == 0:
        raise SourceError(label, "the file is empty (0 bytes)", fix="export it again from the client's system")
    _sniff(path, fmt, label)
    if fmt == "csv":
        data = path.read_bytes()
        chosen = detect_encoding(data, encoding, label)
        if encoding != "auto" and encoding.replace("-sig", "") == "utf-8" and data[:3] == b"\xef\xbb\xbf":
            chosen = "utf-8-sig"
        frame = _read_csv(path, chosen, header_row, label, nrows, data)
        return SourceTable(name, path, frame, encoding=chosen)
    if fmt == "xlsx":
        frame, chosen_sheet, names = _read_xlsx(path, sheet, header_row, label, nrows)
        return SourceTable(name, path, frame, sheet=chosen_sheet, sheets=names)
    frame = pd.read_parquet(path).astype("str")
    frame[ROW] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    return SourceTable(name, path, frame)


def read_source(engagement: Engagement, name: str, *, nrows: int | None = None) -> SourceTable:
    """Read the named source of an engagement as text cells with ``_row`` (raw column names)."""
    if name not in engagement.sources:
        raise SourceError(engagement.file.name, f"no source named '{name}'", field="sources",
                          fix=f"use one of: {', '.join(engagement.sources)}")
    source = engagement.sources[name]
    path = engagement.source_path(name)
    return read_table(path, fmt=source.file_format, encoding=source.encoding, sheet=source.sheet,
                      header_row=source.header_row, label=_label(engagement, path), nrows=nrows, name=name)


def check_source(engagement: Engagement, name: str) -> SourceTable:
    """Read a source's header (and a few rows) and check the mapping names existing columns."""
    source = engagement.sources[name]
    table = read_source(engagement, name, nrows=5)
    available = table.columns
    expected = list(source.columns) + ([source.id_column] if source.id_column else [])
    for column in expected:
        if column not in available:
            shown = ", ".join(available[:12]) + (", …" if len(available) > 12 else "")
            raise SourceError(engagement.file.name,
                              f"'{column}' is not a column of {source.path} (columns: {shown})",
                              field=f"sources.{name}.columns",
                              fix="map a column that exists, or correct header_row / sheet")
    return table


def canonical_frame(engagement: Engagement, name: str, table: SourceTable | None = None) -> pd.DataFrame:
    """A source with its mapped columns renamed to canonical names, plus ``record_id``, ``source`` and ``_row``.

    Unmapped columns are dropped. ``record_id`` is the source's id column as text (or its row number when the
    source has none).
    """
    source = engagement.sources[name]
    table = table or read_source(engagement, name)
    frame = table.frame
    out = frame[list(source.columns)].rename(columns=source.columns)
    out.insert(0, "record_id", frame[source.id_column].astype("str") if source.id_column
               else frame[ROW].astype("str"))
    out.insert(0, "source", name)
    out[ROW] = frame[ROW]
    return out.reset_index(drop=True)


# --- writing ------------------------------------------------------------------------------------------------------
_UMASK = os.umask(0)
os.umask(_UMASK)


def _atomic(target: Path, write: Callable[[Path], None]) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp creates 0600; outputs are for the review team to read
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def copy_file(target: Path, source: Path) -> Path:
    """Copy a file into place atomically."""
    return _atomic(target, lambda p: shutil.copyfile(source, p))


def write_bytes(target: Path, data: bytes) -> Path:
    return _atomic(target, lambda p: p.write_bytes(data))


def write_text(target: Path, text: str) -> Path:
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: Path, payload: Any) -> Path:
    return write_text(target, json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArchiveError(str(path), f"cannot be read as JSON ({exc})") from None


def write_parquet(target: Path, frame: pd.DataFrame) -> Path:
    """Parquet with microsecond timestamps: nanoseconds are pandas' default, and Spark cannot read them."""
    return _atomic(target, lambda p: frame.to_parquet(p, index=False, coerce_timestamps="us",
                                                      allow_truncated_timestamps=True))


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a quote (OWASP CSV injection).

    >>> neutralize_formulas(pd.DataFrame({"x": ["=1+1", "ok", "-2"]}))["x"].tolist()
    ["'=1+1", 'ok', "'-2"]
    """
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_string_dtype(out[column]) or out[column].dtype == object:
            out[column] = out[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_PREFIXES) else v)
    return out


def export_csv(target: Path, frame: pd.DataFrame) -> Path:
    """CSV for people and other tools: UTF-8 with BOM (Excel opens Chinese correctly), formulas neutralized."""
    buffer = _io.StringIO()
    neutralize_formulas(frame).to_csv(buffer, index=False)
    return write_bytes(target, buffer.getvalue().encode("utf-8-sig"))


def export_xlsx(target: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An Excel workbook of one or more sheets, formulas neutralized."""
    def write(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for sheet, frame in sheets.items():
                neutralize_formulas(frame).to_excel(writer, sheet_name=sheet[:31], index=False)
    return _atomic(target, write)
