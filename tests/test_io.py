"""Reading client exports: encodings, title rows, sheets, and the errors for files that are not what they say."""

from __future__ import annotations

import hashlib
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
