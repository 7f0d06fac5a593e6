"""A minimal, deterministic XLSX writer: inline strings, optional merged title row, several sheets.

openpyxl stamps the current time into ``docProps/core.xml`` and cannot merge cells in write-only mode; this writer
builds the sheet XML column-wise (vectorized) and zips it with fixed timestamps, so the same frame gives the same
bytes at any size.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

FIXED_ZIP_TIME = (2026, 11, 2, 9, 15, 0)
CORE_TIME = "2026-11-02T09:15:00Z"


@dataclass
class Sheet:
    """One worksheet: an optional title (merged across the header width) above ``frame``'s header."""

    name: str
    frame: pd.DataFrame
    title: str | None = None
    #: columns written as numbers (the rest as text)
    numeric: tuple[str, ...] = ()


def _escape(values: pd.Series) -> pd.Series:
    cleaned = values.str.replace(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", regex=True)
    return (cleaned.str.replace("&", "&amp;", regex=False).str.replace("<", "&lt;", regex=False)
            .str.replace(">", "&gt;", regex=False))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _text_cell(ref: str, value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'


_SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')


def _head_xml(sheet: Sheet) -> tuple[str, int]:
    """The title and header rows, and the next row number."""
    parts, row = [], 1
    if sheet.title is not None:
        parts.append(f'<row r="1">{_text_cell("A1", sheet.title)}</row>')
        row = 2
    header = "".join(_text_cell(f"{_column_letter(i)}{row}", str(c)) for i, c in enumerate(sheet.frame.columns))
    parts.append(f'<row r="{row}">{header}</row>')
    return "".join(parts), row + 1


def _rows_xml(frame: pd.DataFrame, first_row: int, numeric: tuple[str, ...]) -> str:
    if not len(frame):
        return ""
    numbers = pd.Series(np.arange(first_row, first_row + len(frame))).astype("str")
    rows = '<row r="' + numbers + '">'
    for i, column in enumerate(frame.columns):
        ref = _column_letter(i) + numbers
        values = frame[column].astype("str").fillna("")
        if column in numeric:
            cells = '<c r="' + ref + '"><v>' + values + "</v></c>"
        else:
            cells = ('<c r="' + ref + '" t="inlineStr"><is><t xml:space="preserve">' + _escape(values)
                     + "</t></is></c>")
        rows = rows + cells
    return "".join((rows + "</row>").tolist())


def _tail_xml(sheet: Sheet) -> str:
    tail = "</sheetData>"
    if sheet.title is not None:
        tail += f'<mergeCells count="1"><mergeCell ref="A1:{_column_letter(len(sheet.frame.columns) - 1)}1"/></mergeCells>'
    return tail + "</worksheet>"


def _sheet_xml(sheet: Sheet) -> bytes:
    head, first = _head_xml(sheet)
    return (_SHEET_HEAD + head + _rows_xml(sheet.frame, first, sheet.numeric) + _tail_xml(sheet)).encode("utf-8")


class StreamingXlsx:
    """A workbook whose first sheet is written in chunks (bounded memory); the other sheets are small.

    ``sheets[0].frame`` gives only the columns (it may be empty); rows come through :meth:`append`.
    """

    def __init__(self, target: Path, sheets: list[Sheet]):
        self.target = Path(target)
        self.sheets = sheets
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.target.with_name(f".{self.target.name}.tmp")
        self._zip = zipfile.ZipFile(self._tmp, "w", compression=zipfile.ZIP_DEFLATED)
        for name, content in _package_files(sheets).items():
            self._zip.writestr(zipfile.ZipInfo(name, FIXED_ZIP_TIME), content, compress_type=zipfile.ZIP_DEFLATED)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", FIXED_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._stream = self._zip.open(info, "w", force_zip64=True)
        head, self._next_row = _head_xml(sheets[0])
        self.rows = 0
        self._stream.write((_SHEET_HEAD + head).encode("utf-8"))

    def append(self, frame: pd.DataFrame) -> None:
        self._stream.write(_rows_xml(frame, self._next_row, self.sheets[0].numeric).encode("utf-8"))
        self._next_row += len(frame)
        self.rows += len(frame)

    def abort(self) -> None:
        self._stream.close()
        self._zip.close()
        self._tmp.unlink(missing_ok=True)

    def close(self) -> Path:
        self._stream.write(_tail_xml(self.sheets[0]).encode("utf-8"))
        self._stream.close()
        for i, sheet in enumerate(self.sheets[1:], 2):
            self._zip.writestr(zipfile.ZipInfo(f"xl/worksheets/sheet{i}.xml", FIXED_ZIP_TIME), _sheet_xml(sheet),
                               compress_type=zipfile.ZIP_DEFLATED)
        self._zip.close()
        self._tmp.replace(self.target)
        return self.target


def _package_files(sheets: list[Sheet]) -> dict[str, str]:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            "</Relationships>"),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            "<dc:creator>demo-export</dc:creator>"
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{CORE_TIME}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{CORE_TIME}</dcterms:modified>'
            "</cp:coreProperties>"),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(f'<sheet name="{s.name}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1))
            + "</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                      f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(sheets) + 1))
            + "</Relationships>"),
    }
    return files


def write_xlsx(target: Path, sheets: list[Sheet]) -> Path:
    """Write ``sheets`` to ``target`` (byte-identical for identical input)."""
    writer = StreamingXlsx(target, sheets)
    writer.append(sheets[0].frame)
    return writer.close()
