"""All file reading and writing: the edge of the package. File formats only: which file an engagement's source
names, and how its columns map to canonical fields, is :mod:`digiops.sources`.

Reading a client's export: the declared or detected encoding (UTF-8 with BOM, UTF-8, GB18030, UTF-16 with its BOM as
Excel's "Unicode text"; one encoding for the whole file, and a file mixing two is refused naming the line), the declared
or detected delimiter of a text file (``,`` ``;`` tab ``|``, or columns aligned with spaces), the header row below any
title rows, the sheet of a workbook (surveyed before a reader builds a grid of it: a stray cell far from the data is
refused; formula cells with no stored value and cells right of the header are named in the table's ``warnings``).
Every cell is read as text, so cleaning decides what a value means,
and every row keeps ``_row``, its row number as the client sees it in Excel or a text editor (1-based, header
included), so errors and quarantine reasons can point at it. Raw files are opened read-only, never written.

Writing: every output is written to a temporary file beside its target and renamed into place, so a killed run
never leaves half a file behind. Exports a person opens in Excel (CSV, XLSX) neutralize cells that start with
``=``, ``+``, ``-`` or ``@`` (formula injection).
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import csv
import hashlib
import html
import io as _io
import itertools
import json
import operator
import os
import posixpath
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pandas as pd

from digiops.errors import ArchiveError, SourceError

AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
#: Byte-order marks and the encoding each announces; Excel's "Unicode text" export is UTF-16 LE with its mark.
BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
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
    #: What was read but may not be what the client sees (formula cells with no stored value) or was left out
    #: (cells right of the header), one located message each; ``digiops validate`` and the inventory show them.
    warnings: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [c for c in self.frame.columns if c != ROW]


# --- reading ------------------------------------------------------------------------------------------------------
_RECORDED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("digiops_source_warnings", default=None)


@contextlib.contextmanager
def recorded_warnings() -> Iterator[list[str]]:
    """The warnings of every source read inside the block, in order, also where the tables are not kept
    (``digiops validate`` prints those of :func:`digiops.sources.check_sources`)."""
    warnings: list[str] = []
    token = _RECORDED.set(warnings)
    try:
        yield warnings
    finally:
        _RECORDED.reset(token)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def detect_encoding(data: bytes, declared: str, label: str, *, header_row: int = 1, delimiter: str = "auto") -> str:
    """The one encoding that decodes every line of ``data``, or a :class:`SourceError` naming the line that does not.

    ``auto``: a byte-order mark decides (UTF-8, or UTF-16 as in Excel's "Unicode text" export); else UTF-8 when it
    decodes everything; else GB18030, but only when no line reads as UTF-8 text beyond Latin (Chinese, full-width
    forms). A file that mixes the two is refused naming the odd line: read as GB18030, the UTF-8 lines would turn into
    other characters without an error (张伟 → 寮犱紵). A declared encoding must decode every line, and a declared
    GB18030 or GBK file holding UTF-8 lines is refused the same way. ``header_row`` and ``delimiter`` only name the
    column of the bytes that fail.

    >>> detect_encoding("编号,姓名\\n1,张伟\\n".encode("gb18030"), "auto", "f.csv")
    'gb18030'
    >>> detect_encoding("编号\\t姓名\\r\\n1\\t张伟\\r\\n".encode("utf-16"), "auto", "f.txt")
    'utf-16'
    >>> detect_encoding("编号,姓名\\n1,李娜\\n".encode() + "2,张伟\\n".encode("gb18030"), "auto", "f.csv")
    Traceback (most recent call last):
    digiops.errors.SourceError: f.csv: encoding: row 3: bytes at offset 25 (line 3) cannot be decoded as UTF-8 like \
the rest of the file (d5 c5 ce b0, column 姓名): they read as GB18030, so the file mixes two encodings (1 of 3 lines) \
(fix: export the file again in one encoding (UTF-8), or correct that line; read as GB18030 the UTF-8 lines would be \
garbled)
    """
    where = {"header_row": header_row, "delimiter": delimiter}
    if declared != "auto":
        _decode_every_line(data, declared, label, where)
        if declared.replace("-", "").replace("_", "").lower() in _LEGACY_CHINESE:
            lines = _utf8_lines(data)
            if lines.evident:
                raise _utf8_in_legacy(data, lines, declared, label, where)
        return declared
    mark = next((encoding for bom, encoding in BOMS if data.startswith(bom)), None)
    if mark == "utf-16":
        _decode_every_line(data, mark, label, where)
        return mark
    nul = data.find(b"\x00", 0, 4096)
    if mark is None and data.count(b"\x00", 0, 4096) > 1:  # each line break of UTF-16 text has one; CSV text none
        raise SourceError(label, "the file is full of NUL bytes: it is UTF-16 text without a byte-order mark, or not "
                                 "text at all", field="encoding", row=data.count(b"\n", 0, nul) + 1,
                          fix="export it again as UTF-8 CSV, or as Excel's \"Unicode text\" (which carries the mark)")
    first = _utf8_error(data)  # the UTF-8 mark is itself UTF-8: offsets count from the file's first byte
    if first is None:
        return "utf-8-sig"
    if first.end == len(data) and first.reason == "unexpected end of data":
        line = data.count(b"\n", 0, first.start) + 1
        raise SourceError(label, f"the file ends inside a character at offset {first.start} (line {line}): it was "
                                 "cut short", field="encoding", row=line, fix="export or copy the file again")
    lines = _utf8_lines(data)
    if mark is None and not lines.evident:  # nothing reads as UTF-8: GB18030, if it decodes everything
        try:
            data.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError as exc:
            raise _undecodable(data, max(first.start, exc.start), AUTO_ENCODINGS, "utf-8", label, where) from None
    if mark is not None or lines.bad <= lines.evident:  # UTF-8 by its mark or most of its lines, but for some lines
        start, end = _line_bounds(data, first.start)
        try:
            data[start:end].decode("gb18030")
        except UnicodeDecodeError:
            raise _undecodable(data, first.start, AUTO_ENCODINGS, "utf-8", label, where) from None
        line = data.count(b"\n", 0, first.start) + 1
        raise SourceError(label, f"bytes at offset {first.start} (line {line}) cannot be decoded as UTF-8 like the "
                                 f"rest of the file ({_shown(data, first.start, 'utf-8', where)}): they read as "
                                 f"GB18030, so the file mixes two encodings ({lines.bad} of {lines.total} lines)",
                          field="encoding", row=line,
                          fix="export the file again in one encoding (UTF-8), or correct that line; read as GB18030 "
                              "the UTF-8 lines would be garbled") from None
    try:  # mostly GB18030, with lines that read as UTF-8
        data.decode("gb18030")
    except UnicodeDecodeError as exc:
        start, end = _line_bounds(data, exc.start)
        try:
            data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            raise _undecodable(data, max(first.start, exc.start), AUTO_ENCODINGS, "gb18030", label, where) from None
    raise _utf8_in_legacy(data, lines, "gb18030", label, where)


@dataclass(frozen=True)
class _Utf8Lines:
    """How the lines of a file that is not all UTF-8 read as UTF-8."""

    total: int  # lines in the file
    bad: int  # lines that do not decode as UTF-8
    evident: int  # lines that decode as UTF-8 and hold a character of three bytes or more (Chinese, full-width)
    first_evident: int | None  # byte offset of the first such line


# A chance run of GB18030 bytes is valid UTF-8 only in two-byte sequences (Latin, Greek, Cyrillic letters): over the
# 265 000 GB18030 lines of the demo's exports, 13 lines decode as UTF-8 and none of them holds a three-byte character.
# Both patterns start at a line break (the text gets one in front), which the regular expression engine finds fast.
_EVIDENT_LINE = re.compile("\n(?=[^\n\udc80-\udcff]*[\u0800-\ud7ff\ue000-\U0010ffff][^\n\udc80-\udcff]*(?:\n|\\Z))")
_BAD_LINE = re.compile("\n(?=[^\n\udc80-\udcff]*[\udc80-\udcff])")  # findall lists one "\n" per line: no copies


def _utf8_lines(data: bytes) -> _Utf8Lines:
    text = "\n" + data.decode("utf-8", errors="surrogateescape")  # an undecodable byte becomes U+DC80..U+DCFF
    first = _EVIDENT_LINE.search(text)
    return _Utf8Lines(total=data.count(b"\n") + (not data.endswith(b"\n")), bad=len(_BAD_LINE.findall(text)),
                      evident=len(_EVIDENT_LINE.findall(text)) if first else 0,
                      first_evident=len(text[1:first.start() + 1].encode("utf-8", errors="surrogateescape"))
                      if first else None)


def _utf8_in_legacy(data: bytes, lines: _Utf8Lines, encoding: str, label: str, where: dict) -> SourceError:
    """The error of a GB18030 (or GBK) file holding lines that read as UTF-8."""
    offset = lines.first_evident
    start, end = _line_bounds(data, offset)
    offset = next((start + i for i, byte in enumerate(data[start:end]) if byte >= 0x80), start)
    line = data.count(b"\n", 0, offset) + 1
    shown = _shown(data, offset, encoding, where)
    if lines.bad == 0:
        return SourceError(label, f"the file is UTF-8, not {encoding} as declared: line {line} reads as UTF-8 "
                                  f"({shown})", field="encoding", row=line, fix="set encoding: utf-8 (or auto)")
    if lines.evident >= lines.bad:
        return SourceError(label, f"the file is mostly UTF-8, not {encoding} as declared: line {line} reads as UTF-8 "
                                  f"({shown}), {lines.bad} of {lines.total} lines do not", field="encoding", row=line,
                           fix="export the file again in one encoding (UTF-8) and set encoding: utf-8 (or auto); "
                               "auto names the lines that are not UTF-8")
    return SourceError(label, f"line {line} is UTF-8 (from offset {offset}: {shown}) but the rest of the file is "
                              f"{encoding}: the file mixes two encodings ({lines.evident} of {lines.total} lines)",
                       field="encoding", row=line,
                       fix=f"export the file again in one encoding, or correct that line; read as {encoding} the "
                           "UTF-8 lines would be garbled")


def _is_utf8(encoding: str) -> bool:
    """Whether an encoding's name is UTF-8, with or without the mark (``utf-8``, ``UTF_8``, ``utf8``, ``utf-8-sig``)."""
    return encoding.replace("_", "-").lower().removesuffix("-sig") in ("utf-8", "utf8")


def _utf8_error(data: bytes) -> UnicodeDecodeError | None:
    """``None`` when ``data`` is UTF-8 throughout, else the decoder's error (where and why). Arrow's validator tells
    on the bytes in place: decoding a 1 GB export into a Python string took three times as long and up to four
    times its size in memory; only a file that is not UTF-8 is decoded, for the error."""
    import numpy as np
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
        return None
    except pa.ArrowInvalid:
        pass
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc
    return None


def _decode_every_line(data: bytes, encoding: str, label: str, where: dict) -> None:
    if _is_utf8(encoding) and _utf8_error(data) is None:
        return
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc.start, (encoding,), encoding, label, where) from None
    except LookupError:
        raise SourceError(label, f"'{encoding}' is not an encoding", field="encoding",
                          fix="use auto, utf-8, utf-8-sig, gb18030 or gbk") from None


def _undecodable(data: bytes, offset: int, tried: tuple[str, ...], shown_as: str, label: str,
                 where: dict) -> SourceError:
    """The error of bytes at ``offset`` that no encoding ``tried`` decodes, with the fix naming the encoding that
    decodes the whole file when there is one."""
    line = _line_number(data, offset, tried[0])
    fix = "export the file again as UTF-8 or GB18030, or set the source's encoding to the one it uses"
    if tried != AUTO_ENCODINGS:
        try:
            found = detect_encoding(data, "auto", label)
        except SourceError:
            found = None
        if found == "utf-16":
            fix = "the file is UTF-16 (Excel's \"Unicode text\"): set encoding: auto"
        elif found is not None:
            setting = "utf-8" if found == "utf-8-sig" else found
            fix = f"the file reads as {setting}: set encoding: {setting} (or auto)"
    return SourceError(label, f"bytes at offset {offset} (line {line}) cannot be decoded as {', '.join(tried)} "
                              f"({_shown(data, offset, shown_as, where)})", field="encoding", row=line, fix=fix)


def _line_bounds(data: bytes, offset: int) -> tuple[int, int]:
    """Where the line holding ``offset`` starts and ends (its line break excluded)."""
    end = data.find(b"\n", offset)
    return data.rfind(b"\n", 0, offset) + 1, len(data) if end < 0 else end


def _line_number(data: bytes, offset: int, encoding: str) -> int:
    """The line of ``offset`` as a text editor shows it, 1-based."""
    if encoding.startswith("utf-16"):  # a 0x0A byte is half of many characters (上 is 0A 4E)
        return data[:offset].decode(encoding, errors="replace").count("\n") + 1
    return data.count(b"\n", 0, offset) + 1


def _shown(data: bytes, offset: int, encoding: str, where: dict) -> str:
    """The bytes from ``offset`` in hex (up to eight, to the next ASCII byte), and the column they sit in."""
    run = list(itertools.takewhile(lambda byte: byte >= 0x80, data[offset:offset + 8])) or list(data[offset:offset + 1])
    column = _column_at(data, offset, encoding, **where)
    return " ".join(f"{byte:02x}" for byte in run) + (f", column {column}" if column else "")


def _column_at(data: bytes, offset: int, encoding: str, header_row: int, delimiter: str) -> str | None:
    """The header's name of the column that the byte at ``offset`` falls in; ``None`` when it cannot be told (a
    title row, the header itself, an aligned printout, UTF-16)."""
    if encoding.startswith("utf-16"):
        return None
    start, _ = _line_bounds(data, offset)
    if data.count(b"\n", 0, start) + 1 <= header_row:
        return None
    sample = _sample(data, encoding, header_row)
    spelling = _spelling(delimiter) if delimiter != "auto" else (_detect(*sample) if sample else None) or "comma"
    if sample is None or spelling not in DELIMITER_CHARS:
        return None
    char = DELIMITER_CHARS[spelling]
    header = next(csv.reader([sample[0].split("\n", 1)[0].rstrip("\r").lstrip("\ufeff")], delimiter=char), [])
    before = data[start:offset].decode(encoding, errors="replace")
    index = len(next(csv.reader([before + "x"], delimiter=char))) - 1
    if index >= len(header):
        return None
    return header[index].strip() or None


def _as_utf8(data: bytes, encoding: str) -> tuple[bytes, str]:
    """``data`` and the encoding to read it with, UTF-16 transcoded to UTF-8: the readers find lines by the byte
    0x0A, which in UTF-16 is also half of many characters (上 is 0A 4E)."""
    if not encoding.startswith("utf-16"):
        return data, encoding
    return data.decode(encoding, errors="replace").encode("utf-8"), "utf-8"


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
    return _read_csv_rows(path, encoding, header_row, label, nrows, delimiter, data=data)


def _read_csv_columnar(data: bytes, encoding: str, header_row: int, delimiter: str = ",") -> pd.DataFrame | None:
    """The columnar path of :func:`_read_csv`; ``None`` when the file is not ordinary (the caller falls back)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    # Offsets into one buffer rather than slices of it: a slice of a 1 GB export is another 1 GB.
    if _is_utf8(encoding):
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
    rows = pa.array(np.arange(header_row + 1, header_row + 1 + table.num_rows, dtype=np.int64))
    if table.num_rows and table.num_columns:
        blank = None
        for column in table.columns:  # most exports have no blank row: the first column (an id) tells
            empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(column)), 0)
            blank = empty if blank is None else pc.and_(blank, empty)
            if not pc.any(blank).as_py():
                break
        if pc.any(blank).as_py():  # a row of empty cells (",,,"): nothing to account for, as in the row reader
            keep = pc.invert(blank)
            table, rows = table.filter(keep), rows.filter(keep)
    frame = table.rename_columns(header).to_pandas()
    frame[ROW] = pd.Series(rows.to_numpy(), dtype="int64")
    return frame


def _read_csv_rows(path: Path, encoding: str, header_row: int, label: str, nrows: int | None,
                   delimiter: str = ",", *, data: bytes | None = None) -> pd.DataFrame:
    """The row reader of :func:`_read_csv`: the file at ``path``, or ``data`` when given (its bytes as read, or their
    UTF-8 transcoding)."""
    text_rows = []
    source = open(path, "rb") if data is None else _io.BytesIO(data)
    with _io.TextIOWrapper(source, encoding=encoding, newline="") as handle:
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
               nrows: int | None) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    """A workbook's sheet as text cells with ``_row``, and the warnings of what reading it leaves out.

    The sheet's XML is surveyed first (:func:`_survey_sheet`) and no reader builds a grid of it before: a used range
    over :data:`MAX_SHEET_CELLS` cells (one stray cell at XFD1048576 spans 17 billion) is refused naming the far
    cell. A dense sheet is read by calamine (Rust), which builds the grid of the used range; a sparse one, and any
    sheet calamine does not take or that cannot be surveyed, by openpyxl, cell by cell as the rows come and without
    trusting the sheet's stated dimension (which may leave cells out). openpyxl also names every problem (corrupt
    file, missing sheet, missing header).
    """
    survey = _survey_sheet(path, sheet, header_row)
    if survey is not None:
        survey.refuse_far_cells(label)
    fast = _read_xlsx_calamine(path, sheet, header_row, nrows) if survey is not None and survey.dense else None
    frame, chosen, names = fast if fast is not None else _read_xlsx_openpyxl(path, sheet, header_row, label, nrows)
    return frame, chosen, names, survey.warnings(label, [c for c in frame.columns if c != ROW]) if survey else []


# --- surveying a worksheet's XML ----------------------------------------------------------------------------------
#: Excel's last row and column: a sheet has no cell beyond XFD1048576.
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
#: The most cells the used range of a sheet may span, from A1 (a million rows of a hundred columns): a grid of it is
#: gigabytes in any reader.
MAX_SHEET_CELLS = 100_000_000
#: A sheet whose used range spans more than this many cells per cell it fills (plus an allowance) is sparse: it is
#: read cell by cell instead of as a grid.
DENSE_SPAN, DENSE_ALLOWANCE = 4, 1 << 20
SHOWN_CELLS = 5  # cells a warning names before it counts the rest

_NS = rb"(?:[A-Za-z_][\w.-]*:)?"  # a namespace prefix (x:c), as some writers use
# A cell holding a value, an inline string or a formula, with its reference as the first attribute (Excel,
# openpyxl, WPS, LibreOffice), and the same in any spelling; the survey checks which one a chunk needs.
_FILLED_FAST = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*>\s*<(?:v>[^<]|is\b|f\b)')
_FILLED_ANY = re.compile(rb"<" + _NS + rb"c\b([^>]*)>\s*<" + _NS + rb"(?:v>[^<]|is\b|f\b)")
_NOT_CELLS = (b"<co", b"<cf", b"<ce", b"<cu")  # <cols>, <conditionalFormatting>, <cfRule>, <cellWatches>…
_CELL_START = re.compile(rb"<" + _NS + rb"c[\s/>]")
_REFERENCE = re.compile(rb'\sr="([A-Z]+)([0-9]+)"')
_TYPE = re.compile(rb'\st="([a-zA-Z]+)"')
# A formula cell with no stored value: a writer that does not calculate (openpyxl, most libraries) leaves <v> empty.
_UNCOMPUTED = re.compile(
    rb"<" + _NS + rb"c\b([^>]*)>\s*<" + _NS + rb"f\b([^>]*?)(?:/>|>([^<]*)</" + _NS + rb"f>)\s*"
    rb"(?:<" + _NS + rb"v\s*/>|<" + _NS + rb"v>\s*</" + _NS + rb"v>)?\s*</" + _NS + rb"c>")


def _column_number(letters: bytes | str) -> int:
    """A column's number from its letters.

    >>> _column_number("XFD")
    16384
    """
    number = 0
    for letter in letters.encode() if isinstance(letters, str) else letters:
        number = number * 26 + letter - 64
    return number


@dataclass
class _SheetSurvey:
    """What one pass over a worksheet's XML finds, before any reader builds a grid of it."""

    name: str
    header_row: int
    cells: int = 0  # cells holding a value or a formula
    last_row: int = 0
    last_row_cell: str = ""
    last_column: int = 0
    last_column_cell: str = ""
    unplaced: bool = False  # a cell without its reference (its place is implied): only openpyxl reads those
    below_header: collections.Counter = field(default_factory=collections.Counter)  # column → filled cells below
    first_below: dict[int, str] = field(default_factory=dict)  # column → its first filled cell below the header
    uncomputed: list[tuple[str, str]] = field(default_factory=list)  # (cell, formula) at or below the header
    uncomputed_count: int = 0

    @property
    def span(self) -> int:
        return self.last_row * self.last_column

    @property
    def dense(self) -> bool:
        return not self.unplaced and self.span <= DENSE_SPAN * self.cells + DENSE_ALLOWANCE

    def add(self, found: list[tuple[bytes, bytes]]) -> None:
        """Count filled cells ``(column letters, row digits)`` (C-level passes over the list: a chunk holds tens of
        thousands)."""
        self.cells += len(found)
        letters = list(map(operator.itemgetter(0), found))
        rows = list(map(int, map(operator.itemgetter(1), found)))
        top = max(rows)
        if top > self.last_row:
            self.last_row, self.last_row_cell = top, b"".join(found[rows.index(top)]).decode()
        columns = collections.Counter(letters)
        widest = max(columns, key=_column_number)
        if _column_number(widest) > self.last_column:
            self.last_column, self.last_column_cell = _column_number(widest), b"".join(
                found[letters.index(widest)]).decode()
        if min(rows) <= self.header_row:  # title rows and the header are not data: count below the header only
            columns = collections.Counter(c for c, row in zip(letters, rows) if row > self.header_row)
        for column_letters, count in columns.items():
            column = _column_number(column_letters)
            if column not in self.first_below:
                at = letters.index(column_letters)
                while rows[at] <= self.header_row:
                    at = letters.index(column_letters, at + 1)
                self.first_below[column] = b"".join(found[at]).decode()
            self.below_header[column] += count

    def add_uncomputed(self, found: list[tuple[bytes, bytes, bytes]]) -> None:
        for attributes, formula_attributes, formula in found:
            kind = _TYPE.search(attributes)
            reference = _REFERENCE.search(attributes)
            if kind is not None and kind.group(1) == b"str":
                continue  # a formula whose result is the empty text: Excel stores <v></v> for ="" too
            if reference is None or int(reference.group(2)) < self.header_row:
                continue
            self.uncomputed_count += 1
            if len(self.uncomputed) < SHOWN_CELLS:
                source = html.unescape(formula.decode("utf-8", errors="replace")) if formula else ""
                shared = b'"shared"' in formula_attributes and not source
                self.uncomputed.append(((reference.group(1) + reference.group(2)).decode(),
                                        "a shared formula" if shared else f"={source}"))

    def refuse_far_cells(self, label: str) -> None:
        """Raise when the used range is beyond Excel's last cell or spans over :data:`MAX_SHEET_CELLS` cells."""
        beyond = self.last_row > EXCEL_ROWS or self.last_column > EXCEL_COLUMNS
        if not beyond and self.span <= MAX_SHEET_CELLS:
            return
        far = [self.last_row_cell] + ([self.last_column_cell] if self.last_column_cell != self.last_row_cell else [])
        cells = " and ".join(far)
        reach = (f"beyond Excel's last cell XFD{EXCEL_ROWS}" if beyond else
                 f"to A1:{_column_letters(self.last_column)}{self.last_row}, {self.span:,} cells for the "
                 f"{self.cells:,} that hold something")
        raise SourceError(label, f"sheet '{self.name}': the cell{'s' if len(far) > 1 else ''} at {cells} "
                                 f"stretch{'' if len(far) > 1 else 'es'} the used range {reach}", field="sheet",
                          row=self.last_row,
                          fix=f"in Excel, delete the stray cell{'s' if len(far) > 1 else ''} {cells} (or select "
                              "every row and column beyond the data and delete them) and save; or export the sheet "
                              "again")

    def warnings(self, label: str, header: list[str]) -> list[str]:
        """What reading leaves out or reads as empty: cells right of the header's last named column, and formula
        cells with no stored value, each warning naming the first cells and counting the rest."""
        found = []
        beyond = sorted(c for c in self.below_header if c > len(header))
        if beyond and not self.unplaced:
            count = sum(self.below_header[c] for c in beyond)
            cells = ", ".join(self.first_below[c] for c in beyond[:SHOWN_CELLS])
            more = f" and {len(beyond) - SHOWN_CELLS} more columns" if len(beyond) > SHOWN_CELLS else ""
            found.append(str(SourceError(
                label, f"sheet '{self.name}': {count:,} filled cell{'s' if count > 1 else ''} right of the header's "
                       f"last column {_column_letters(len(header))} ({header[-1] if header else 'none'}) "
                       f"{'are' if count > 1 else 'is'} not read: in column{'s' if len(beyond) > 1 else ''} "
                       f"{', '.join(_column_letters(c) for c in beyond[:SHOWN_CELLS])}{more} (first {cells})",
                field="sheet",
                fix="give those columns a name in the header row, or delete the cells if they are not data")))
        if self.uncomputed_count:
            named = []
            for cell, formula in self.uncomputed:
                column = _column_number(cell.rstrip("0123456789"))
                named.append(f"{cell} ({header[column - 1]}: {formula})" if column <= len(header) and
                             int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) > self.header_row else
                             f"{cell} ({formula})")
            more = self.uncomputed_count - len(named)
            found.append(str(SourceError(
                label, f"sheet '{self.name}': {self.uncomputed_count:,} formula cell"
                       f"{'s have' if self.uncomputed_count > 1 else ' has'} no stored value and read"
                       f"{'' if self.uncomputed_count > 1 else 's'} as empty: "
                       f"{', '.join(named)}{f' and {more:,} more' if more else ''}",
                field="sheet",
                fix="the program that saved the workbook does not calculate formulas: open it in Excel or WPS and "
                    "save it again (or paste the values), then read it again")))
        return found


def _column_letters(number: int) -> str:
    """A column's letters from its number.

    >>> _column_letters(16384)
    'XFD'
    """
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """The workbook's sheets in order, as (name, part in the archive), from its own index of them."""
    def parse(part: str):
        return ElementTree.fromstring(archive.read(part))

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    def targets(rels_part: str, base: str) -> dict[str, tuple[str, str]]:
        """Relationship id → (type, part)."""
        found = {}
        for rel in parse(rels_part):
            target = rel.get("Target", "")
            found[rel.get("Id")] = (rel.get("Type", ""), target.lstrip("/") if target.startswith("/") else
                                    posixpath.normpath(posixpath.join(base, target)))
        return found

    book = next((part for kind, part in targets("_rels/.rels", "").values() if kind.endswith("/officeDocument")),
                "xl/workbook.xml")
    folder, name = posixpath.split(book)
    rels = {rid: part for rid, (_, part) in targets(posixpath.join(folder, "_rels", name + ".rels"), folder).items()}
    sheets = []
    for element in parse(book).iter():
        if local(element.tag) == "sheet":
            rid = next((v for k, v in element.attrib.items() if local(k) == "id"), None)
            sheets.append((element.get("name", ""), rels.get(rid, "")))
    return sheets


def _survey_sheet(path: Path, sheet: str | int | None, header_row: int,
                  chunk: int = 1 << 22) -> _SheetSurvey | None:
    """One pass over the XML of the sheet ``sheet`` names: its filled cells (how many, the last row and column and
    the cells that reach them, the columns below the header) and its formula cells without a stored value.

    Streams the sheet in chunks, cut before a cell, with regular expressions rather than a parser: the survey of a
    large sheet takes about a third of the time its whole read does. ``None`` when the workbook or the sheet cannot
    be found (openpyxl then reads or explains).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _sheet_parts(archive)
            names = [name for name, _ in parts]
            if sheet is None:
                index = 0
            elif isinstance(sheet, int):
                index = sheet
            else:
                index = names.index(sheet) if sheet in names else -1
            if not 0 <= index < len(parts):
                return None
            survey = _SheetSurvey(parts[index][0], header_row)
            with archive.open(parts[index][1]) as stream:
                _survey_stream(stream, survey, chunk)
            return survey
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError, EOFError):
        return None


def _survey_stream(stream: Any, survey: _SheetSurvey, chunk: int) -> None:
    head = stream.read(chunk)
    plain = re.search(rb"<worksheet[\s>]", head[:4096]) is not None  # no namespace prefix on the elements
    tail, block = b"", head
    while True:
        buffer = tail + block
        if block:  # keep the last cell (it may go on in the next block) for the next round
            last = None
            for last in _CELL_START.finditer(buffer, max(0, len(buffer) - 65536)):
                pass
            cut = last.start() if last is not None else max(0, len(buffer) - 64)
            buffer, tail = buffer[:cut], buffer[cut:]
        placed, starts = buffer.count(b'<c r="'), buffer.count(b"<c")
        if plain and b":c " not in buffer and (starts == placed or starts - placed == sum(map(buffer.count,
                                                                                        _NOT_CELLS))):
            found = _FILLED_FAST.findall(buffer)
        else:
            found = []
            for attributes in _FILLED_ANY.findall(buffer):
                reference = _REFERENCE.search(b" " + attributes)
                if reference is None:
                    survey.unplaced = True
                else:
                    found.append(reference.groups())
        if found:
            survey.add(found)
        if (b"<f" in buffer) if plain else (b"f>" in buffer or b"f " in buffer):  # <f>, <f t="shared" …>, <x:f>
            survey.add_uncomputed(_UNCOMPUTED.findall(buffer))
        if not block:
            return
        block = stream.read(chunk)


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
        worksheet = workbook[chosen]
        worksheet.reset_dimensions()  # the sheet's stated dimension may leave cells out: read every row there is
        rows = worksheet.iter_rows(min_row=header_row, max_row=EXCEL_ROWS, values_only=True)
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


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    """A Parquet file as text cells: its footer (the schema) is read first, so a file cut short or a column named
    twice is refused with its name rather than failing inside Arrow."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(path).names
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(label, f"the Parquet file is truncated or corrupt: its footer cannot be read "
                                 f"({' '.join(str(exc).split())})", field="format",
                          fix="copy or export the file again (the copy may have been cut short)") from None
    seen: dict[str, int] = {}
    for position, column in enumerate(names, start=1):
        if column in seen:
            raise SourceError(label, f"column '{column}' appears twice (columns {seen[column]} and {position})",
                              field="columns", fix="rename one of them where the file is written, and export it again")
        seen[column] = position
    try:
        return pd.read_parquet(path).astype("str")
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(label, f"the Parquet file is corrupt: its data cannot be read ({' '.join(str(exc).split())})",
                          field="format", fix="copy or export the file again") from None


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
        chosen = detect_encoding(data, encoding, label, header_row=header_row, delimiter=delimiter)
        if _is_utf8(encoding) and data[:3] == b"\xef\xbb\xbf":
            chosen = "utf-8-sig"
        data, reading = _as_utf8(data, chosen)
        used = detect_delimiter(data, reading, header_row) if delimiter == "auto" else _spelling(delimiter)
        if used in ALIGNED:
            frame = _read_aligned(data, reading, header_row, label, nrows, used, widths)
        elif used in DELIMITER_CHARS:
            try:
                frame = _read_csv(path, reading, header_row, label, nrows, data, delimiter=DELIMITER_CHARS[used])
            except SourceError as exc:  # a ragged row, a quote left open: often the delimiter is not the file's
                fix = _delimiter_fix(data, reading, header_row, used) if exc.row is not None else None
                if fix is None:
                    raise
                raise SourceError(exc.location, exc.problem, field=exc.field, row=exc.row, fix=fix) from None
        else:
            raise SourceError(label, f"{delimiter!r} is not a delimiter", field="delimiter",
                              fix="use auto, comma, semicolon, tab, pipe, whitespace or fixed")
        return SourceTable(name, path, frame, encoding=chosen, delimiter=used, header_row=header_row)
    if fmt == "xlsx":
        frame, chosen_sheet, names, warnings = _read_xlsx(path, sheet, header_row, label, nrows)
        if (recording := _RECORDED.get()) is not None:
            recording.extend(warnings)
        return SourceTable(name, path, frame, sheet=chosen_sheet, sheets=names, header_row=header_row,
                           warnings=warnings)
    frame = _read_parquet(path, label)
    frame[ROW] = pd.Series(range(1, len(frame) + 1), dtype="int64")
    return SourceTable(name, path, frame)


def delimiter_fix(table: SourceTable, wanted: list[str]) -> str | None:
    """The fix naming the delimiter that would give every ``wanted`` column of a text table, when there is one (a
    file read with the wrong delimiter is often a single column); ``None`` otherwise, and for a workbook or Parquet.

    Looks at the header line again (:func:`_delimiter_fix`).
    """
    if table.delimiter is None or table.encoding is None:
        return None
    with open(table.path, "rb") as handle:
        data = handle.read(4 * SNIFF_BYTES)  # the title rows and a sample are at the start
    return _delimiter_fix(*_as_utf8(data, table.encoding), table.header_row, table.delimiter, wanted)


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


def arrow_frame(table) -> pd.DataFrame:
    """An Arrow table as pandas keeping decimals exact (Arrow-backed decimal columns), integers and booleans
    nullable (``Int64``, ``boolean``)."""
    import pyarrow as pa

    def mapper(kind: pa.DataType) -> object:
        if pa.types.is_decimal(kind):
            return pd.ArrowDtype(kind)
        if pa.types.is_integer(kind):
            return pd.Int64Dtype()
        if pa.types.is_boolean(kind):
            return pd.BooleanDtype()
        return None
    return table.to_pandas(types_mapper=mapper)


def parquet_frames(source: Path, rows: int = 65_536) -> Iterator[pd.DataFrame]:
    """A Parquet file's rows, ``rows`` at a time (:func:`arrow_frame`): memory bounded by one batch."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(source) as file:
        for batch in file.iter_batches(batch_size=rows):
            yield arrow_frame(pa.Table.from_batches([batch]))


def export_csv_parquet(target: Path, source: Path) -> Path:
    """:func:`export_csv` of a Parquet file (a tag matrix, an audience list of any length), streamed batch by
    batch: the same text as the whole table through :func:`export_csv`, in the memory of one batch."""
    import pyarrow.parquet as pq

    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8-sig", newline="") as out:
            header = True
            for frame in parquet_frames(source):
                neutralize_formulas(frame).to_csv(out, index=False, header=header)
                header = False
            if header:
                pd.DataFrame(columns=pq.read_schema(source).names).to_csv(out, index=False)
    return _atomic(target, write)


#: data rows of one worksheet (Excel's 1 048 576 rows, less the header)
XLSX_ROWS = 1_048_575


def export_xlsx_parquet(target: Path, sheet: str, source: Path, *, rows_per_sheet: int = XLSX_ROWS) -> Path:
    """An Excel workbook of a Parquet file's rows, formulas neutralized, streamed (openpyxl's write-only mode):
    sheet ``sheet``, then ``sheet (2)``, ``sheet (3)`` … when the rows outgrow one worksheet."""
    import pyarrow.parquet as pq
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    def write(path: Path) -> None:
        book = Workbook(write_only=True)
        names = pq.read_schema(source).names
        bold = Font(bold=True)

        def new_sheet():
            number = len(book.worksheets) + 1
            page = book.create_sheet((sheet if number == 1 else f"{sheet} ({number})")[:31])
            header = [WriteOnlyCell(page, value=name) for name in names]
            for cell in header:
                cell.font = bold
            page.append(header)
            return page

        page, filled = new_sheet(), 0
        for frame in parquet_frames(source):
            for row in neutralize_formulas(frame).astype(object).itertuples(index=False, name=None):
                if filled == rows_per_sheet:
                    page, filled = new_sheet(), 0
                page.append([None if value is None or value is pd.NA or value != value else value for value in row])
                filled += 1
        book.save(path)
    return _atomic(target, write)


def export_xlsx(target: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    """An Excel workbook of one or more sheets, formulas neutralized."""
    def write(path: Path) -> None:
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for sheet, frame in sheets.items():
                neutralize_formulas(frame).to_excel(writer, sheet_name=sheet[:31], index=False)
    return _atomic(target, write)
