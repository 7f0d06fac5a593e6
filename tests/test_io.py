"""Reading client exports: encodings, delimiters, title rows, sheets, and the errors for files that are not what
they say."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from digiops import io
from digiops.errors import SourceError


def read(path: Path, fmt: str = "csv", **kw) -> io.SourceTable:
    return io.read_table(path, fmt=fmt, label=path.name, **kw)


def test_gb18030_with_title_rows_keeps_client_row_numbers(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_bytes("导出\n\n编号,姓名\n1,张三\n2,曾　晓\n".encode("gb18030"))

    table = read(path, header_row=3)

    assert table.encoding == "gb18030"
    assert table.columns == ["编号", "姓名"]
    assert table.frame["姓名"].tolist() == ["张三", "曾　晓"]
    assert table.frame["_row"].tolist() == [4, 5]


def test_utf8_bom_detected(tmp_path):
    path = tmp_path / "mall.csv"
    path.write_bytes("订单号,金额\nM1,\"¥1,299.00\"\n".encode("utf-8-sig"))

    table = read(path)

    assert table.encoding == "utf-8-sig"
    assert table.columns == ["订单号", "金额"]  # no BOM glued to the first header
    assert table.frame["金额"].tolist() == ["¥1,299.00"]


def test_xlsx_sheet_and_merged_title_row(tmp_path):
    path = tmp_path / "members.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.title = "会员列表"
    sheet["A1"] = "小程序会员导出"
    sheet.merge_cells("A1:C1")
    sheet.append(["会员ID", "手机", "注册时间"])
    sheet.append(["W1", 13800138000, "2026-01-02"])
    book.create_sheet("说明")["A1"] = "not data"
    book.save(path)

    table = read(path, fmt="xlsx", sheet="会员列表", header_row=2)

    assert table.columns == ["会员ID", "手机", "注册时间"]
    assert table.frame.iloc[0][["会员ID", "手机"]].tolist() == ["W1", "13800138000"]
    assert table.frame["_row"].tolist() == [3]
    assert table.sheets == ["会员列表", "说明"]


def test_unknown_sheet_lists_sheets(tmp_path):
    path = tmp_path / "m.xlsx"
    Workbook().save(path)

    with pytest.raises(SourceError, match=r"m.xlsx: sheet: has no sheet 'x' \(sheets: Sheet\)"):
        read(path, fmt="xlsx", sheet="x")


@pytest.mark.parametrize("content, fmt, message", [
    (b"", "csv", "m.bin: the file is empty (0 bytes)"),
    (b"PK\x03\x04rest-of-zip", "csv", "m.bin: format: declared as CSV but the file is a zip/XLSX workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "xlsx",
     "m.bin: format: the workbook is password-protected (encrypted) or a legacy .xls file"),
    (b"a,b\n1,2\n", "xlsx", "m.bin: format: declared as XLSX but the file is not an Excel workbook"),
    (b"PK\x03\x04corrupt", "xlsx", "m.bin: format: the workbook is corrupt or not an .xlsx file"),
])
def test_files_that_are_not_what_they_say(tmp_path, content, fmt, message):
    path = tmp_path / "m.bin"
    path.write_bytes(content)

    with pytest.raises(SourceError) as info:
        read(path, fmt=fmt)

    assert str(info.value).startswith(message)


def test_undecodable_bytes_name_line_and_fix(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes("a,b\n1,2\n".encode() + b"\xff\xfe\xfa,3\n")

    with pytest.raises(SourceError) as info:
        read(path, encoding="utf-8")

    assert str(info.value).startswith("bad.csv: encoding: row 3: bytes at offset 8 (line 3) cannot be decoded as "
                                      "utf-8")


def test_duplicate_column_names(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("id,手机,手机\n1,2,3\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"d.csv: header: row 1: column '手机' appears twice \(columns 2 and 3\)"):
        read(path)


def test_header_row_past_end(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("a,b\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"has no header at row 5 \(the file has 1 lines\)"):
        read(path, header_row=5)


def test_row_wider_than_header_names_row(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("a,b\n1,2\n1,2,3\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"w.csv: row 3: has 3 cells but the header has 2"):
        read(path)


def test_header_only_gives_empty_frame(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("a,b\n", encoding="utf-8")

    table = read(path)

    assert table.columns == ["a", "b"] and len(table.frame) == 0


def test_reading_never_writes_the_raw_file(tmp_path):
    path = tmp_path / "crm.csv"
    path.write_bytes("编号,姓名\n1,张三\n".encode("gb18030"))
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns

    read(path)

    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before


def test_atomic_write_leaves_no_temporary_file_on_failure(tmp_path):
    target = tmp_path / "out" / "t.parquet"

    class Boom(Exception):
        pass

    def explode(_):
        raise Boom

    with pytest.raises(Boom):
        io._atomic(target, explode)

    assert list((tmp_path / "out").iterdir()) == []


def test_exports_neutralize_formula_injection(tmp_path):
    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "-2", "安全"], "n": [1, 2, 3, 4, 5]})

    io.export_csv(tmp_path / "t.csv", frame)
    io.export_xlsx(tmp_path / "t.xlsx", {"tags": frame})

    csv_back = pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")
    xlsx_back = pd.read_excel(tmp_path / "t.xlsx")
    for back in (csv_back, xlsx_back):
        assert back["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "'-2", "安全"]
        assert back["n"].tolist() == [1, 2, 3, 4, 5]


def test_a_parquet_file_streamed_to_csv_is_the_whole_table_through_export_csv(tmp_path, monkeypatch):
    """The labels stage streams its tag matrix and audience list batch by batch (any length, one batch in memory):
    the file is the one the whole frame gives — header once, missing cells empty, flags and decimals as pandas
    writes them, formulas neutralized."""
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"customer_id": ["C1", "C2", "C3", "C4", "C5"], "flag": [True, None, False, True, None],
                      "n": pa.array([1, None, 3, 4, 5], pa.int64()),
                      "amount": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("-2.00"),
                                          decimal.Decimal("0.00"), decimal.Decimal("12.34")], pa.decimal128(18, 2)),
                      "name": ["=1+1", "张三", None, "a,b", "-2"]})
    pq.write_table(table, tmp_path / "t.parquet")
    io.export_csv(tmp_path / "whole.csv", io.arrow_frame(table))
    real = io.parquet_frames
    monkeypatch.setattr(io, "parquet_frames", lambda source: real(source, rows=2))  # three batches

    io.export_csv_parquet(tmp_path / "streamed.csv", tmp_path / "t.parquet")

    assert (tmp_path / "streamed.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert (tmp_path / "streamed.csv").read_text(encoding="utf-8-sig").splitlines()[1:4] == [
        "C1,True,1,1.50,'=1+1", "C2,,,,张三", "C3,False,3,-2.00,"]
    pq.write_table(table.slice(0, 0), tmp_path / "empty.parquet")
    io.export_csv_parquet(tmp_path / "empty.csv", tmp_path / "empty.parquet")
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8-sig") == "customer_id,flag,n,amount,name\n"


def test_a_parquet_file_streamed_to_xlsx_fills_one_sheet_after_another(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"customer_id": [f"C{i}" for i in range(5)], "offer": ["=x", "ok", None, "+1", "券"]}),
                   tmp_path / "t.parquet")

    io.export_xlsx_parquet(tmp_path / "t.xlsx", "audiences", tmp_path / "t.parquet", rows_per_sheet=2)

    sheets = pd.read_excel(tmp_path / "t.xlsx", sheet_name=None, dtype=str)
    assert list(sheets) == ["audiences", "audiences (2)", "audiences (3)"]
    back = pd.concat(sheets.values(), ignore_index=True)
    assert back["customer_id"].tolist() == [f"C{i}" for i in range(5)]
    assert back["offer"].fillna("").tolist() == ["'=x", "ok", "", "'+1", "券"]


# --- delimiters ---------------------------------------------------------------------------------------------------
TITLE = "客户导出,第1页\n导出时间 2026-07-01 10:00\n\n"  # title rows (one with a comma) and a blank line: header on row 4
SEPARATED = "编号{d}姓名{d}金额\n1{d}张三{d}{amount}\n2{d}曾　晓{d}5\n"
WHITESPACE = "编号   姓名     金额\n1      张三     1,299.00\n2      曾　晓   5\n"
FIXED = "编号  姓名      金额\n1     张三      1,299.00\n2     曾　晓    \n3     Li Lei    5\n"  # an empty cell, a space
SEPARATED_ROWS = [["1", "张三", "1,299.00"], ["2", "曾　晓", "5"]]
FIXED_ROWS = [["1", "张三", "1,299.00"], ["2", "曾　晓", ""], ["3", "Li Lei", "5"]]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030"]


def cells(table: io.SourceTable) -> list[list[str]]:
    return table.frame[table.columns].to_numpy().tolist()


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("declared", ["auto", "declared"])
@pytest.mark.parametrize("spelling, char", [("tab", "\t"), ("semicolon", ";"), ("pipe", "|"), ("comma", ",")])
def test_separated_file_below_title_rows_read_with_auto_or_declared_delimiter(tmp_path, spelling, char, declared,
                                                                              encoding):
    path = tmp_path / "crm.txt"
    amount = '"1,299.00"' if char == "," else "1,299.00"  # a comma in a cell needs quotes only in a CSV
    path.write_bytes((TITLE + SEPARATED.format(d=char, amount=amount)).encode(encoding))

    table = read(path, header_row=4, delimiter="auto" if declared == "auto" else spelling)

    assert table.delimiter == spelling
    assert table.encoding == ("gb18030" if encoding == "gb18030" else "utf-8-sig")
    assert table.columns == ["编号", "姓名", "金额"]
    assert cells(table) == SEPARATED_ROWS
    assert table.frame["_row"].tolist() == [5, 6]


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_whitespace_aligned_printout_below_title_rows(tmp_path, encoding):
    path = tmp_path / "crm.txt"
    path.write_bytes((TITLE + WHITESPACE).encode(encoding))

    table = read(path, header_row=4, delimiter="whitespace")

    assert table.delimiter == "whitespace"
    assert table.columns == ["编号", "姓名", "金额"]
    assert cells(table) == SEPARATED_ROWS  # the ideographic space inside 曾　晓 separates nothing
    assert table.frame["_row"].tolist() == [5, 6]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("widths", [None, [6, 10, 8]], ids=["inferred", "widths"])
def test_fixed_width_printout_below_title_rows(tmp_path, encoding, widths):
    path = tmp_path / "crm.txt"
    path.write_bytes((TITLE + FIXED).encode(encoding))

    table = read(path, header_row=4, delimiter="fixed", widths=widths)

    assert table.delimiter == "fixed"
    assert table.columns == ["编号", "姓名", "金额"]
    assert cells(table) == FIXED_ROWS  # a Chinese character is two display columns wide
    assert table.frame["_row"].tolist() == [5, 6, 7]


def test_fixed_width_gbk_printout_counts_a_middle_dot_two_columns(tmp_path):
    path = tmp_path / "p.txt"  # a GBK printout pads by bytes: · (A1A4) is two bytes wide, like a Chinese character
    path.write_bytes("姓名            城市\n阿卜杜·热合曼  喀什\n张三            上海\n".encode("gb18030"))

    table = read(path, delimiter="fixed", widths=[16, 4])

    assert cells(table) == [["阿卜杜·热合曼", "喀什"], ["张三", "上海"]]


def test_fixed_width_header_narrower_than_its_cells(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("ID  客户       Amount\n1   Zhang San     12.50\n22  Wu Fan       7\n", encoding="utf-8")

    table = read(path, delimiter="fixed")

    assert table.columns == ["ID", "客户", "Amount"]
    assert cells(table) == [["1", "Zhang San", "12.50"], ["22", "Wu Fan", "7"]]


@pytest.mark.parametrize("spelling, char", [("tab", "\t"), ("semicolon", ";"), ("pipe", "|"), ("comma", ",")])
@pytest.mark.parametrize("declared", ["auto", "declared"])
def test_quoted_cell_holding_the_delimiter(tmp_path, spelling, char, declared):
    path = tmp_path / "q.csv"
    path.write_text(f'编号{char}备注\n1{char}"甲{char}乙"\n2{char}丙\n', encoding="utf-8")

    table = read(path, delimiter="auto" if declared == "auto" else char)  # the reader takes the character too

    assert table.delimiter == spelling
    assert table.frame["备注"].tolist() == [f"甲{char}乙", "丙"]


def test_quoted_cell_holding_spaces_under_whitespace(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text('编号  姓名      备注\n1     "Li Lei"  "a ""b"""\n', encoding="utf-8")

    table = read(path, delimiter="whitespace")

    assert cells(table) == [["1", "Li Lei", 'a "b"']]


@pytest.mark.parametrize("text, expected", [
    ("备注\n甲;乙\n丙|丁\n", "comma"),  # one column: no candidate splits the header
    ("id,systems\n1,ERP;CRM\n2,POS;ERP;OA\n", "comma"),  # ; in cells, not in the header
    ("名称;金额\nA;1,5\nB;2,75\n", "semicolon"),  # decimal commas stay text
    ("a;b|c|d\n1;2|3|4\n5;6|7|8\n", "pipe"),  # both split every line alike: more columns wins
    ("a;b|c\n1;2|3\n", "semicolon"),  # a tie: the first in the order comma, semicolon, tab, pipe
    ("编号\t姓名\n1\t张三\n2\t李四,王五\n3\t赵六;钱七\n", "tab"),
])
def test_detection_needs_the_header_and_the_lines_below_to_split_alike(tmp_path, text, expected):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")

    assert read(path).delimiter == expected


def test_file_of_one_column_stays_one_column(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("备注\n甲;乙\n丙|丁\n", encoding="utf-8")

    table = read(path)

    assert table.columns == ["备注"] and table.frame["备注"].tolist() == ["甲;乙", "丙|丁"]


@pytest.mark.parametrize("char", ["\t", ";", "|"])
@pytest.mark.parametrize("name", ["ordinary", "empty cells", "blank lines", "quoted line break", "short rows"])
def test_columnar_and_row_readers_agree_on_other_delimiters(tmp_path, char, name):
    text = {"ordinary": "title\n\n客户,手机,金额\nA1,138 0013 8000,1299\nA2,,5\n",
            # a row of empty cells is no record; one whose first cell alone is empty is
            "empty cells": "id,name,note\n1,a,x\n , ,\n,b,\n,,y\n2,c,z\n",
            "blank lines": "id,name\n1,a\n\n2,b\n,\n3,c\n",
            "quoted line break": 'id,note\n1,"two\nlines"\n2,x\n',
            "short rows": "id,a,b\n1,x\n2,y,z\n"}[name]
    path = tmp_path / "f.csv"
    path.write_bytes(text.replace(",", char).encode("gb18030"))
    header_row = 3 if name == "ordinary" else 1

    fast = io._read_csv(path, "gb18030", header_row, "f.csv", None, delimiter=char)
    rows = io._read_csv_rows(path, "gb18030", header_row, "f.csv", None, delimiter=char)

    pd.testing.assert_frame_equal(fast, rows)
    assert len(fast.columns) > 2  # the header was split: at least two columns besides _row
    if name in ("ordinary", "empty cells"):
        assert io._read_csv_columnar(path.read_bytes(), "gb18030", header_row, char) is not None
    if name == "empty cells":
        assert fast["_row"].tolist() == [2, 4, 5, 6]


def test_whitespace_row_with_a_missing_cell_names_row_and_fix(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("编号  姓名  金额\n1     张三  5\n2           7\n", encoding="utf-8")

    with pytest.raises(SourceError) as info:
        read(path, delimiter="whitespace")

    assert str(info.value).startswith("w.txt: row 3: has 2 cells separated by spaces but the header has 3")
    assert "set delimiter: fixed" in str(info.value)


def test_fixed_width_text_beyond_the_widths_names_row(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("编号  姓名\n1     张三\n2     Li Lei Jr.\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"f.txt: widths: row 3: has text beyond the 10 display columns of widths"):
        read(path, delimiter="fixed", widths=[6, 4])


def test_unknown_delimiter_is_refused(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")

    with pytest.raises(SourceError, match=r"u.csv: delimiter: 'x' is not a delimiter"):
        read(path, delimiter="x")


def test_workbooks_and_parquet_have_no_delimiter(tmp_path):
    path = tmp_path / "m.xlsx"
    book = Workbook()
    book.active.append(["a", "b"])
    book.save(path)
    pd.DataFrame({"a": ["1"]}).to_parquet(tmp_path / "m.parquet")

    assert read(path, fmt="xlsx").delimiter is None
    assert read(tmp_path / "m.parquet", fmt="parquet").delimiter is None


def test_declared_delimiter_that_leaves_ragged_rows_names_the_one_that_works(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes((TITLE + SEPARATED.format(d="\t", amount="1,299.00")).encode("gb18030"))

    with pytest.raises(SourceError) as info:
        read(path, header_row=4, delimiter=",")

    assert str(info.value).startswith("t.tsv: row 5: has 2 cells but the header has 1")
    assert info.value.fix == "the file is tab-separated: set delimiter: tab (or auto)"


def test_aligned_printout_with_commas_in_cells_names_fixed(tmp_path):
    path = tmp_path / "p.txt"
    path.write_bytes((TITLE + FIXED).encode("gb18030"))

    with pytest.raises(SourceError) as info:
        read(path, header_row=4)  # auto finds no delimiter: read as one column, the comma in 1,299.00 splits a row

    assert str(info.value).startswith("p.txt: row 5: has 2 cells but the header has 1")
    assert info.value.fix.startswith("the columns are aligned with spaces: set delimiter: fixed")


# --- hardening round two: workbooks, encodings, UTF-16, Parquet (issue 24) ---------------------------------------
def _workbook(path: Path, rows: list[list], extra: dict[str, object] | None = None, title: str = "会员") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cell, value in (extra or {}).items():
        sheet[cell] = value
    book.save(path)
    return path


def _rewrite_sheet(path: Path, edit) -> None:
    """Rewrite the first worksheet's XML of a workbook, as another program might have written it."""
    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet1.xml" else data)


MEMBERS = [["会员ID", "姓名", "手机"]] + [[f"W{i}", f"会员{i}", f"1380013800{i}"] for i in range(1, 5)]
BOUNDED_READ = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a regression fails here instead of taking the runner
from pathlib import Path
from digiops import io
from digiops.errors import SourceError
try:
    table = io.read_table(Path(sys.argv[1]), fmt="xlsx", label="m.xlsx")
    print(table.frame["_row"].tolist(), *table.warnings, sep="\\n")
except SourceError as exc:
    print(exc)
"""


@pytest.mark.hardening
@pytest.mark.parametrize("dimension", ["as written", "lying A1:C5"])
def test_stray_cell_at_the_last_excel_cell_is_refused_in_bounded_memory(tmp_path, dimension):
    path = _workbook(tmp_path / "m.xlsx", MEMBERS, {"XFD1048576": "x"})  # a 5 KB file spanning 17 billion cells
    if dimension != "as written":
        _rewrite_sheet(path, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:C5"', xml))

    child = subprocess.run([sys.executable, "-c", BOUNDED_READ, str(path)], capture_output=True, text=True,
                           timeout=300)

    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == (
        "m.xlsx: sheet: row 1048576: sheet '会员': the cell at XFD1048576 stretches the used range to A1:XFD1048576, "
        "17,179,869,184 cells for the 16 that hold something (fix: in Excel, delete the stray cell XFD1048576 (or "
        "select every row and column beyond the data and delete them) and save; or export the sheet again)")


@pytest.mark.hardening
@pytest.mark.parametrize("far, shown", [
    ("A1048576", ["[2, 3, 4, 5, 1048576]"]),  # a row far below: read, with its row number
    ("CL1048576", ["[2, 3, 4, 5]", "m.xlsx: sheet: sheet '会员': 1 filled cell right of the header's last column C "
                   "(手机) is not read: in column CL (first CL1048576) (fix: give those columns a name in the header "
                   "row, or delete the cells if they are not data)"]),  # a grid of 94 million cells, 3 GB in calamine
])
def test_far_cell_of_a_sparse_sheet_is_read_without_building_its_grid(tmp_path, far, shown):
    path = _workbook(tmp_path / "m.xlsx", MEMBERS, {far: "W9"})

    child = subprocess.run([sys.executable, "-c", BOUNDED_READ, str(path)], capture_output=True, text=True,
                           timeout=300)

    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.splitlines() == shown


@pytest.mark.hardening
@pytest.mark.parametrize("reader", ["read_table", "openpyxl"])
def test_a_dimension_that_lies_loses_no_row_or_column(tmp_path, reader):
    path = _workbook(tmp_path / "m.xlsx", MEMBERS)
    _rewrite_sheet(path, lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml))

    if reader == "read_table":
        frame = read(path, fmt="xlsx").frame
    else:  # the fallback reader, which the dimension used to bound
        frame, _, _ = io._read_xlsx_openpyxl(path, None, 1, "m.xlsx", None)

    assert list(frame.columns) == ["会员ID", "姓名", "手机", "_row"]
    assert frame["_row"].tolist() == [2, 3, 4, 5]
    assert frame["手机"].tolist()[-1] == "13800138004"


@pytest.mark.hardening
def test_cells_right_of_the_header_are_named_not_dropped_silently(tmp_path):
    path = _workbook(tmp_path / "m.xlsx", [["导出"], *MEMBERS], {"E1": "2026-07", "F4": "备注", "F5": "x", "H3": 1},
                     title="Sheet")

    table = read(path, fmt="xlsx", header_row=2)

    assert table.columns == ["会员ID", "姓名", "手机"]
    assert table.warnings == [
        "m.xlsx: sheet: sheet 'Sheet': 3 filled cells right of the header's last column C (手机) are not read: in "
        "columns F, H (first F4, H3) (fix: give those columns a name in the header row, or delete the cells if they "
        "are not data)"]  # E1 is a title row, not data


@pytest.mark.hardening
def test_formula_cells_without_stored_values_are_named(tmp_path):
    rows = [["订单号", "数量", "金额"]] + [[f"M{i}", i, f"=B{i + 1}*2"] for i in range(1, 8)]
    path = _workbook(tmp_path / "m.xlsx", rows, {"E1": "=SUM(C2:C8)"}, title="订单")  # openpyxl calculates nothing

    table = read(path, fmt="xlsx")

    assert table.frame["金额"].tolist() == [""] * 7
    assert table.warnings == [
        "m.xlsx: sheet: sheet '订单': 8 formula cells have no stored value and read as empty: E1 (=SUM(C2:C8)), "
        "C2 (金额: =B2*2), C3 (金额: =B3*2), C4 (金额: =B4*2), C5 (金额: =B5*2) and 3 more (fix: the program that "
        "saved the workbook does not calculate formulas: open it in Excel or WPS and save it again (or paste the "
        "values), then read it again)"]


@pytest.mark.hardening
def test_formula_cells_with_stored_values_or_an_empty_text_result_are_not_named(tmp_path):
    path = _workbook(tmp_path / "m.xlsx", [["订单号", "金额", "备注"], ["M1", 2, "=IF(B2>5,\"大\",\"\")"],
                                           ["M2", 3, "=B3"]])
    # as Excel stores ="" and a calculated value (openpyxl writes an empty value as <v />, or <v></v> with lxml)
    _rewrite_sheet(path, lambda xml: re.sub(rb"<f>B3</f><v( ?/>|></v>)", b"<f>B3</f><v>3</v>",
                                            xml.replace(b'<c r="C2"><f>', b'<c r="C2" t="str"><f>')))

    table = read(path, fmt="xlsx")

    assert table.frame["备注"].tolist() == ["", "3"]
    assert table.warnings == []


def _mixed(lines: list[tuple[str, str]]) -> bytes:
    return b"".join((text + "\n").encode(encoding) for text, encoding in lines)


@pytest.mark.hardening
@pytest.mark.parametrize("content, message, fix", [
    (_mixed([("订单号,买家,金额", "utf-8"), ("M1,李娜,5", "utf-8"), ("M2,张伟,6", "gb18030"), ("M3,王芳,7", "utf-8")]),
     "m.csv: encoding: row 3: bytes at offset 39 (line 3) cannot be decoded as UTF-8 like the rest of the file (d5 c5 "
     "ce b0, column 买家): they read as GB18030, so the file mixes two encodings (1 of 4 lines)",
     "export the file again in one encoding (UTF-8), or correct that line; read as GB18030 the UTF-8 lines would be "
     "garbled"),
    (b"\xef\xbb\xbf" + _mixed([("订单号,买家", "utf-8"), ("M1,张伟", "gb18030")]),
     "m.csv: encoding: row 2: bytes at offset 23 (line 2) cannot be decoded as UTF-8 like the rest of the file (d5 c5 "
     "ce b0, column 买家): they read as GB18030, so the file mixes two encodings (1 of 2 lines)", None),
    (_mixed([("订单号,买家,金额", "gb18030"), ("M1,李娜,5", "gb18030"), ("M2,张伟,6", "utf-8"), ("M3,王芳,7", "gb18030")]),
     "m.csv: encoding: row 3: line 3 is UTF-8 (from offset 30: e5 bc a0 e4 bc 9f, column 买家) but the rest of the "
     "file is gb18030: the file mixes two encodings (1 of 4 lines)",
     "export the file again in one encoding, or correct that line; read as gb18030 the UTF-8 lines would be garbled"),
    ("订单号,买家\nM1,张".encode()[:-1],
     "m.csv: encoding: row 2: the file ends inside a character at offset 20 (line 2): it was cut short", None),
    ("订单号,买家\nM1,张伟\n".encode("utf-16-le"),
     "m.csv: encoding: row 1: the file is full of NUL bytes: it is UTF-16 text without a byte-order mark", None),
], ids=["GB18030 line in UTF-8", "GB18030 line after a UTF-8 mark", "UTF-8 line in GB18030", "cut short",
        "UTF-16 without its mark"])
def test_a_file_that_no_single_encoding_reads_is_refused_naming_the_line(tmp_path, content, message, fix):
    path = tmp_path / "m.csv"
    path.write_bytes(content)

    with pytest.raises(SourceError) as info:
        read(path)

    assert str(info.value).startswith(message)
    assert fix is None or info.value.fix == fix


@pytest.mark.hardening
def test_a_gb18030_export_of_many_names_still_reads_as_gb18030(tmp_path):
    rng = random.Random(24)
    common = [bytes([lead, trail]).decode("gb18030") for lead in range(0xB0, 0xD8) for trail in range(0xA1, 0xFF)
              if (lead, trail) < (0xD7, 0xFA)]  # the 3 755 characters of GB2312 level 1
    rows = [f"C{n},{''.join(rng.choices(common, k=rng.randint(2, 4)))},{''.join(rng.choices(common, k=12))}"
            for n in range(5000)]
    path = tmp_path / "crm.csv"
    path.write_bytes(("编号,姓名,地址\n" + "\n".join(rows) + "\n").encode("gb18030"))

    table = read(path)

    assert table.encoding == "gb18030"
    assert table.frame["姓名"].tolist() == [row.split(",")[1] for row in rows]


@pytest.mark.hardening
@pytest.mark.parametrize("declared, content, message, fix", [
    ("utf-8", "编号,姓名\n1,张伟\n".encode("gb18030"),
     "m.csv: encoding: row 1: bytes at offset 0 (line 1) cannot be decoded as utf-8 (b1 e0 ba c5)",
     "the file reads as gb18030: set encoding: gb18030 (or auto)"),
    ("utf-8", "编号,姓名\n1,张伟\n".encode("utf-16"),
     "m.csv: encoding: row 1: bytes at offset 0 (line 1) cannot be decoded as utf-8 (ff fe)",
     "the file is UTF-16 (Excel's \"Unicode text\"): set encoding: auto"),
    ("gb18030", "编号,姓名\n1,张伟\n".encode(),  # 张伟 in UTF-8 is 寮犱紵 in GB18030: no decoding error to stop at
     "m.csv: encoding: row 1: the file is UTF-8, not gb18030 as declared: line 1 reads as UTF-8",
     "set encoding: utf-8 (or auto)"),
    ("utf-8", "编号,姓名\n1,李娜\n".encode() + "2,张伟\n".encode("gb18030"),
     "m.csv: encoding: row 3: bytes at offset 25 (line 3) cannot be decoded as utf-8 (d5 c5 ce b0, column 姓名)",
     None),
], ids=["utf-8 declared, GB18030 file", "utf-8 declared, UTF-16 file", "gb18030 declared, UTF-8 file",
        "utf-8 declared, mixed file"])
def test_a_declared_encoding_that_fails_names_the_line_and_the_encoding_that_works(tmp_path, declared, content,
                                                                                   message, fix):
    path = tmp_path / "m.csv"
    path.write_bytes(content)

    with pytest.raises(SourceError) as info:
        read(path, encoding=declared)

    assert str(info.value).startswith(message)
    assert fix is None or info.value.fix == fix


@pytest.mark.hardening
@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_excel_unicode_text_is_read(tmp_path, encoding):
    text = "会员导出\r\n编号\t姓名\t城市\t备注\r\n1\t张伟\t上海\t\"甲\t乙\"\r\n\r\n2\t李娜\t北京\t\r\n"  # 上 is U+4E0A
    path = tmp_path / "members.txt"
    path.write_bytes("\ufeff".encode(encoding) + text.encode(encoding))

    table = read(path, header_row=2)

    assert (table.encoding, table.delimiter) == ("utf-16", "tab")
    assert table.columns == ["编号", "姓名", "城市", "备注"]
    assert cells(table) == [["1", "张伟", "上海", "甲\t乙"], ["2", "李娜", "北京", ""]]
    assert table.frame["_row"].tolist() == [3, 5]


@pytest.mark.hardening
@pytest.mark.parametrize("damage, message", [
    ("truncated", "m.parquet: format: the Parquet file is truncated or corrupt: its footer cannot be read"),
    ("duplicate column", "m.parquet: columns: column '手机' appears twice (columns 2 and 3) (fix: rename one of them "
                         "where the file is written, and export it again)"),
])
def test_damaged_parquet_is_refused_naming_the_file(tmp_path, damage, message):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "m.parquet"
    if damage == "truncated":
        pd.DataFrame({"id": [str(i) for i in range(1000)], "手机": ["13800138000"] * 1000}).to_parquet(path)
        path.write_bytes(path.read_bytes()[:-100])  # a copy cut short loses the footer
    else:
        pq.write_table(pa.table([["1"], ["138"], ["139"]], names=["id", "手机", "手机"]), path)

    with pytest.raises(SourceError) as info:
        read(path, fmt="parquet")

    assert str(info.value).startswith(message)


@pytest.mark.hardening
def test_the_survey_of_a_sheet_does_not_depend_on_where_its_chunks_are_cut(tmp_path):
    rows = [["导出"], ["订单号", "数量", "金额"]] + [[f"M{i}", i, f"=B{i + 2}*2"] for i in range(1, 40)]
    path = _workbook(tmp_path / "m.xlsx", rows, {"F7": "备注", "XFD9": "x"}, title="订单")

    whole = io._survey_sheet(path, "订单", 2)
    pieces = io._survey_sheet(path, "订单", 2, chunk=61)  # cut inside cells, tags and formulas

    assert whole == pieces
    assert (whole.cells, whole.last_row_cell, whole.last_column_cell, whole.uncomputed_count) == (123, "A41", "XFD9",
                                                                                                 39)


def test_delimiter_fix_names_the_delimiter_that_gives_the_wanted_columns(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes((TITLE + SEPARATED.format(d="\t", amount="5")).encode("gb18030"))
    wrong = read(path, header_row=4, delimiter="semicolon")

    assert io.delimiter_fix(wrong, ["姓名", "金额"]) == "the file is tab-separated: set delimiter: tab (or auto)"
    assert io.delimiter_fix(wrong, ["姓名", "手机"]) is None  # no delimiter gives a column the file lacks
    assert io.delimiter_fix(read(path, header_row=4), ["手机"]) is None  # read right: the column is just not there
