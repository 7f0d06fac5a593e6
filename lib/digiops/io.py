"""All file reading and writing: the edge of the package.

Reading a client's export: the declared or detected encoding (UTF-8 with BOM, UTF-8, GB18030), the declared or
detected delimiter of a text file (``,`` ``;`` tab ``|``, or columns aligned with spaces), the header row below any
title rows, the sheet of a workbook. Every cell is read as text, so cleaning decides what a value means,
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
import itertools
import json
import os
import re
import shutil
import tempfile
import unicodedata
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
#: Delimiters as the engagement file names them → the character; ``auto`` chooses among these, in this order.
DELIMITER_CHARS = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
#: Delimiters that are not one character: runs of spaces or tabs, and columns at fixed positions.
ALIGNED = ("whitespace", "fixed")
SNIFF_RECORDS = 50  # lines below the header that decide the delimiter
SNIFF_BYTES = 1 << 20


@dataclass
class SourceTable:
    """A raw source as read: text cells with the client's column names, plus ``_row``."""

    name: str
    path: Path
    frame: pd.DataFrame
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    delimiter: str | None = None  # as the engagement file names it (``tab``, ``fixed``…); text sources only
    header_row: int = 1

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


def _sample(data: bytes, encoding: str, header_row: int) -> tuple[str, bool] | None:
    """The text from the header's line on (at most :data:`SNIFF_BYTES`, whole lines), and whether that is the rest
    of the file; ``None`` when the file has no line ``header_row``. A line break is byte 0x0A in UTF-8 and GB18030
    alike, so the header is found before anything is decoded."""
    start = 0
    for _ in range(header_row - 1):
        start = data.find(b"\n", start) + 1
        if start == 0:
            return None
    window = data[start:start + SNIFF_BYTES]
    whole = start + SNIFF_BYTES >= len(data)
    if not whole and b"\n" in window:
        window = window[:window.rfind(b"\n") + 1]
    return window.decode(encoding, errors="replace"), whole


def _split_alike(text: str, whole: bool, char: str) -> tuple[float, int] | None:
    """How well ``char`` splits a sample: the share of records below the header with the header's number of cells
    (empty cells beyond it allowed), and that number; ``None`` when the header does not split into two or more."""
    try:
        records = list(itertools.islice(csv.reader(_io.StringIO(text), delimiter=char), SNIFF_RECORDS + 1))
    except csv.Error:
        return None
    if not whole and len(records) <= SNIFF_RECORDS:
        records = records[:-1]  # the sample ends inside a quoted cell: its last record is cut
    if not records or len(records[0]) < 2:
        return None
    width = len(records[0])
    body = [r for r in records[1:] if any(c.strip() for c in r)]
    alike = sum(len(r) == width or (len(r) > width and not any(c.strip() for c in r[width:])) for r in body)
    share = alike / len(body) if body else 1.0
    return (share, width) if share >= 0.5 else None


def detect_delimiter(data: bytes, encoding: str, header_row: int = 1) -> str:
    """The delimiter among comma, semicolon, tab and pipe that splits the header and the lines below it alike.

    A candidate must split the header's line into two cells or more, and at least half of the non-blank records
    below it (up to :data:`SNIFF_RECORDS`, quoted cells respected) into as many cells. The candidate splitting the
    most records alike wins, then the one giving more columns, then the first in the order above. A file that no
    candidate splits is one column, read as comma-separated. Runs of spaces and fixed positions are never detected: an
    aligned printout says so in the engagement file.

    >>> detect_delimiter("编号\\t金额\\n1\\t1,299.00\\n".encode("gb18030"), "gb18030")
    'tab'
    >>> detect_delimiter(b'Export 2026-01-01, page 1\\nid;note\\n1;"a;b"\\n', "utf-8", header_row=2)
    'semicolon'
    >>> detect_delimiter(b"address\\n1 Main St\\n", "utf-8")
    'comma'
    """
    sample = _sample(data, encoding, header_row)
    return (_detect(*sample) if sample else None) or "comma"  # no header line: reading the file says so


def _detect(text: str, whole: bool) -> str | None:
    """:func:`detect_delimiter` of a sample; ``None`` when no candidate splits it."""
    chosen, best = None, None
    for spelling, char in DELIMITER_CHARS.items():
        fit = _split_alike(text, whole, char)
        if fit is not None and (best is None or fit > best):
            chosen, best = spelling, fit
    return chosen


def _delimiter_fix(data: bytes, encoding: str, header_row: int, used: str,
                   wanted: list[str] | None = None) -> str | None:
    """The fix naming the delimiter that reads the file, when it is not the one ``used`` (else ``None``).

    The delimiter :func:`detect_delimiter` picks, or runs of spaces when the header line is one cell with the
    delimiter used but several words (an aligned printout). With ``wanted``, only a delimiter whose header holds
    every one of those columns is named.
    """
    sample = _sample(data, encoding, header_row)
    if sample is None:
        return None
    detected = _detect(*sample)
    if detected is not None and detected != used:
        header = next(csv.reader(_io.StringIO(sample[0]), delimiter=DELIMITER_CHARS[detected]), [])
        if wanted is None or set(wanted) <= {h.strip() for h in header}:
            return f"the file is {detected}-separated: set delimiter: {detected} (or auto)"
    line = sample[0].split("\n", 1)[0].rstrip("\r")
    words = _words(line)
    one_cell = used in DELIMITER_CHARS and len(next(csv.reader([line], delimiter=DELIMITER_CHARS[used]), [])) < 2
    if one_cell and len(words) > 1 and (wanted is None or set(wanted) <= set(words)):
        return ("the columns are aligned with spaces: set delimiter: fixed (or whitespace when no cell is empty or "
                "holds a space)")
    return None


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
              data: bytes | None = None, delimiter: str = ",") -> pd.DataFrame:
    """A CSV export as text cells with ``_row``: Arrow's C++ parser for ordinary files, else the csv module.

    The columnar path is taken when every record is one line (no quoted line breaks, no blank lines), so a row's
    line number is the header's plus its position. Anything else (blank lines, quoted line breaks, ragged rows,
    a cell over the size limit, an unreadable header) goes through :func:`_read_csv_rows`, which reads row by
    row and names the exact line of every problem.
    """
    if nrows is None:
        frame = _read_csv_columnar(data if data is not None else path.read_bytes(), encoding, header_row, delimiter)
        if frame is not None:
            return frame
    return _read_csv_rows(path, encoding, header_row, label, nrows, delimiter)


def _read_csv_columnar(data: bytes, encoding: str, header_row: int, delimiter: str = ",") -> pd.DataFrame | None:
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
    header = [h.strip() for h in next(csv.reader([header_line], delimiter=delimiter), [])]
    if not header or len(set(header)) != len(header):
        return None
    start = cut + 1
    lines = data.count(b"\n", start) + (1 if len(data) > start and not data.endswith(b"\n") else 0)
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data).slice(start)),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 26, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=True),
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


def _read_csv_rows(path: Path, encoding: str, header_row: int, label: str, nrows: int | None,
                   delimiter: str = ",") -> pd.DataFrame:
    text_rows = []
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
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
                              fix=f"check for an unquoted {_spelling(delimiter)} in that row, or the header_row "
                                  "setting")
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


WIDE = "\uffff"  # a Unicode noncharacter: fills the second display column of a wide character, never in the data
BLANK = " \t\u3000"  # what pads an aligned column, the ideographic space included
_FILLED = re.compile(f"(?:[^{BLANK}{WIDE}]{WIDE}?)+")
_WORD = re.compile(r'"((?:[^"]|"")*)"(?=[ \t]|$)|[^ \t]+')
_LEGACY_CHINESE = ("gb18030", "gbk", "gb2312")


def _display(line: str, wide: str) -> str:
    """``line`` with a filler after every wide character, so that a position is a display column (a Chinese
    character takes two, as on screen and in a GBK export); tabs are expanded to stops of eight."""
    if not line.isascii():
        line = "".join(c + WIDE if unicodedata.east_asian_width(c) in wide else c for c in line)
    return line.expandtabs(8) if "\t" in line else line


def _fixed_starts(lines: list[str]) -> list[int]:
    """Where each column of an aligned printout starts: runs of display columns that are filled on some line and
    bounded by columns blank on every line (the header's included). A run with nothing above it in the header (the
    second word of "Li Lei") belongs to the column on its left."""
    filled = bytearray(max(len(line) for line in lines))
    for line in lines:
        for run in _FILLED.finditer(line):
            filled[run.start():run.end()] = b"\x01" * (run.end() - run.start())
    starts = [run.start() for run in re.finditer(rb"\x01+", bytes(filled))
              if lines[0][run.start():run.end()].replace(WIDE, "").strip(BLANK)]
    return [0, *starts[1:]]  # the first column takes anything left of its header too


def _read_aligned(data: bytes, encoding: str, header_row: int, label: str, nrows: int | None, delimiter: str,
                  widths: list[int] | None = None) -> pd.DataFrame:
    """A text export whose cells are separated by runs of spaces or tabs (``whitespace``, a double-quoted cell may
    hold spaces) or sit at fixed positions (``fixed``: the ``widths`` given, in display columns, or the columns
    inferred by :func:`_fixed_starts`), as text cells with ``_row``. Cells of a fixed-width file lose their padding.

    Every record is one line. Under ``whitespace`` a row with more or fewer cells than the header is an error: an
    empty cell cannot be placed, and a guess would shift the cells after it into the wrong columns.
    """
    lines = [line.removesuffix("\r") for line in data.decode(encoding).split("\n")]
    if lines[-1] == "":
        lines.pop()
    if len(lines) < header_row or not lines[header_row - 1].strip(BLANK):
        raise SourceError(label, f"has no header at row {header_row} " + (
            f"(the file has {len(lines)} lines)" if len(lines) < header_row else "(the row is blank)"),
            field="header_row", fix="set header_row to the row number of the column names")
    body = [(number, line) for number, line in enumerate(lines[header_row:], start=header_row + 1)
            if line.strip(BLANK)]
    if nrows is not None:
        body = body[:nrows]
    if delimiter == "whitespace":
        header = _words(lines[header_row - 1])
        records = [_words(line) for _, line in body]
        for (number, _), record in zip(body, records):
            if len(record) != len(header):
                raise SourceError(label, f"has {len(record)} cells separated by spaces but the header has "
                                         f"{len(header)}", row=number,
                                  fix="with delimiter: whitespace no cell may be empty or hold a space unquoted; "
                                      "set delimiter: fixed when the columns are aligned")
    else:
        # East Asian "ambiguous" characters (·, №, Greek, box drawing) are two bytes wide in a GBK printout
        wide = "WFA" if encoding.lower().replace("-", "") in _LEGACY_CHINESE else "WF"
        shown = [_display(lines[header_row - 1], wide)] + [_display(line, wide) for _, line in body]
        if widths:
            starts, end = list(itertools.accumulate([0, *widths[:-1]])), sum(widths)
            for (number, _), line in zip(body, shown[1:]):
                if line[end:].replace(WIDE, "").strip(BLANK):
                    raise SourceError(label, f"has text beyond the {end} display columns of widths", row=number,
                                      field="widths", fix="check widths (a Chinese character counts two columns)")
        else:
            starts, end = _fixed_starts(shown), None
        bounds = list(zip(starts, [*starts[1:], end]))
        header, *records = [[line[a:b].replace(WIDE, "").strip(BLANK) for a, b in bounds] for line in shown]
    _dedupe_check(header, label, header_row)
    frame = pd.DataFrame(records, columns=header, dtype="str") if records else pd.DataFrame(
        {c: pd.Series(dtype="str") for c in header})
    frame[ROW] = pd.Series([number for number, _ in body], dtype="int64")
    return frame


def _words(line: str) -> list[str]:
    return [m.group(1).replace('""', '"') if m.group(1) is not None else m.group(0) for m in _WORD.finditer(line)]


def _spelling(delimiter: str) -> str:
    """A delimiter as the engagement file names it (``tab``), from its name or its character."""
    for spelling, char in DELIMITER_CHARS.items():
        if delimiter in (spelling, char):
            return spelling
    return delimiter


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
               name: str = "", delimiter: str = "auto", widths: list[int] | None = None) -> SourceTable:
    """Read one export as text cells (see module docstring). Raises :class:`SourceError` with file and row.

    ``delimiter`` (text files): ``auto`` (:func:`detect_delimiter`), ``comma`` ``semicolon`` ``tab`` ``pipe`` (or
    the character), ``whitespace``, or ``fixed`` with optional ``widths``; the one used is recorded on the table.
    """
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
        used = detect_delimiter(data, chosen, header_row) if delimiter == "auto" else _spelling(delimiter)
        if used in ALIGNED:
            frame = _read_aligned(data, chosen, header_row, label, nrows, used, widths)
        elif used in DELIMITER_CHARS:
            try:
                frame = _read_csv(path, chosen, header_row, label, nrows, data, delimiter=DELIMITER_CHARS[used])
            except SourceError as exc:  # a ragged row, a quote left open: often the delimiter is not the file's
                fix = _delimiter_fix(data, chosen, header_row, used) if exc.row is not None else None
                if fix is None:
                    raise
                raise SourceError(exc.location, exc.problem, field=exc.field, row=exc.row, fix=fix) from None
        else:
            raise SourceError(label, f"{delimiter!r} is not a delimiter", field="delimiter",
                              fix="use auto, comma, semicolon, tab, pipe, whitespace or fixed")
        return SourceTable(name, path, frame, encoding=chosen, delimiter=used, header_row=header_row)
    if fmt == "xlsx":
        frame, chosen_sheet, names = _read_xlsx(path, sheet, header_row, label, nrows)
        return SourceTable(name, path, frame, sheet=chosen_sheet, sheets=names, header_row=header_row)
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
                      header_row=source.header_row, label=_label(engagement, path), nrows=nrows, name=name,
                      delimiter=source.delimiter, widths=source.widths)


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
                              field=f"sources.{name}.columns", fix=column_fix(table, expected))
    return table


def column_fix(table: SourceTable, wanted: list[str]) -> str:
    """The fix of a mapped column missing from ``table``: the delimiter that would give every ``wanted`` column
    when there is one (the file read with the wrong one is often a single column), else the usual advice.

    Looks at the header line again (:func:`_delimiter_fix`).
    """
    usual = "map a column that exists, or correct header_row / sheet"
    if table.delimiter is None or table.encoding is None:
        return usual
    with open(table.path, "rb") as handle:
        data = handle.read(4 * SNIFF_BYTES)  # the title rows and a sample are at the start
    return _delimiter_fix(data, table.encoding, table.header_row, table.delimiter, wanted) or usual


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
