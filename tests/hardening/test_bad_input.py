"""Bad input, through the real CLI: a clear message naming file / field / row, a non-zero exit, no run marked
successful, and the client's raw files byte-identical afterwards.

Run alone with ``pytest -m hardening``; figures in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from digiops.cli import app
from digiops.engagement import load_engagement
from digiops.inventory import inventory
from tests.conftest import tree_hashes

pytestmark = pytest.mark.hardening


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "engagement.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(folder: Path, text: str) -> None:
    with open(folder / "engagement.yaml", "a", encoding="utf-8") as handle:
        handle.write(text)


def write_raw(folder: Path, name: str, data: bytes) -> None:
    (folder / "raw" / name).write_bytes(data)


def symlink_out(folder: Path) -> None:
    outside = folder.parent / "elsewhere.csv"
    outside.write_bytes((folder / "raw" / "crm.csv").read_bytes())
    (folder / "raw" / "crm.csv").unlink()
    (folder / "raw" / "crm.csv").symlink_to(outside)


def huge_field(folder: Path) -> None:
    with open(folder / "raw" / "mall.csv", "ab") as handle:
        handle.write(b"M3,2026-01-05,1,")
        handle.write(b"9" * (100 * 1024 * 1024))
        handle.write(b"\n")


def encrypted_xlsx(folder: Path) -> None:
    write_raw(folder, "members.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096)


def edit_members(folder: Path, cells: dict[str, str]) -> None:
    """Set cells of the member workbook, saved by openpyxl (which stores no value for a formula)."""
    book = load_workbook(folder / "raw" / "members.xlsx")
    for cell, value in cells.items():
        book["会员列表"][cell] = value
    book.save(folder / "raw" / "members.xlsx")


def append_line(folder: Path, name: str, line: str, encoding: str) -> None:
    with open(folder / "raw" / name, "ab") as handle:
        handle.write(line.encode(encoding))


def mall_parquet(folder: Path, damage: str) -> None:
    edit(folder, "path: raw/mall.csv", "path: raw/mall.parquet")
    path = folder / "raw" / "mall.parquet"
    if damage == "truncated":
        pd.DataFrame({"订单号": [f"M{i}" for i in range(500)], "下单时间": ["2026-01-03"] * 500,
                      "实付金额": ["5"] * 500, "买家手机": ["13800138001"] * 500}).to_parquet(path)
        path.write_bytes(path.read_bytes()[:-64])  # a copy cut short: the footer is gone
    else:
        pq.write_table(pa.table([["M1"], ["2026-01-03"], ["5"], ["6"], ["138"]],
                                names=["订单号", "下单时间", "实付金额", "实付金额", "买家手机"]), path)


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("yaml syntax error", lambda f: append(f, "merge: {a: [1, 2\n"),
     "engagement.yaml: line 25, column 12: not valid YAML (while parsing a flow sequence; expected ',' or ']', but "
     "got '<stream end>') (fix: check indentation, brackets and quoting at that line)"),
    ("unknown key", lambda f: append(f, "langauge: en\n"),
     "engagement.yaml: langauge: unknown key (check its spelling; `digiops schema` lists every key)"),
    ("unknown nested key", lambda f: edit(f, "kind: orders", "kind: orders\n    sheeet: 1"),
     "engagement.yaml: sources.mall.sheeet: unknown key"),
    ("wrong type", lambda f: edit(f, "start: 2026-01-01", "start: next spring"),
     "engagement.yaml: period.start: Input should be a valid date or datetime"),
    ("wrong type in source", lambda f: edit(f, "header_row: 3", "header_row: third"),
     "engagement.yaml: sources.crm.header_row: Input should be a valid integer"),
    ("missing required field", lambda f: edit(f, "engagement: 测试项目 / test engagement\n", ""),
     "engagement.yaml: engagement: required field is missing (see docs/engagement.md)"),
    ("empty engagement file", lambda f: (f / "engagement.yaml").write_text(""),
     "engagement.yaml: must be a YAML mapping of keys (client, engagement, period, …) (fix: start from `digiops "
     "new-client NAME`)"),
    ("path escapes client folder", lambda f: edit(f, "path: raw/crm.csv", "path: ../../etc/passwd"),
     "engagement.yaml: sources.crm.path: '../../etc/passwd' is outside the client folder"),
    ("absolute path", lambda f: edit(f, "path: raw/crm.csv", "path: /etc/passwd"),
     "engagement.yaml: sources.crm.path: '/etc/passwd' is outside the client folder"),
    ("symlink out of client folder", symlink_out,
     "engagement.yaml: sources.crm.path: 'raw/crm.csv' is outside the client folder"),
    ("stage named twice", lambda f: edit(f, "stages: [inventory]", "stages: [inventory, inventory]"),
     "engagement.yaml: stages: stage 'inventory' is listed twice in stages; list it once"),
    ("unknown stage", lambda f: edit(f, "stages: [inventory]", "stages: [inventory, mrege]"),
     "engagement.yaml: stages: unknown stage 'mrege' (known: deliver, inventory, kpi, labels, maturity, merge, summary)"),
    ("custom stage notebook missing",
     lambda f: (edit(f, "stages: [inventory]", "stages: [inventory, extra]"),
                append(f, "custom_stages: [{name: extra, notebook: extra.ipynb}]\n")),
     "engagement.yaml: custom_stages.extra.notebook: notebook 'extra.ipynb' does not exist (fix: check the path)"),
    ("period ends before it starts", lambda f: edit(f, "end: 2026-06-30", "end: 2025-06-30"),
     "engagement.yaml: period: end 2025-06-30 is before start 2026-01-01"),
    ("unknown canonical field", lambda f: edit(f, "手机号: phone", "手机号: mobile"),
     "engagement.yaml: sources.crm: column '手机号' maps to unknown field 'mobile' for kind 'customers'"),
    ("two columns to one field", lambda f: edit(f, "城市: city", "城市: phone"),
     "engagement.yaml: sources.crm: several columns map to phone; map each canonical field once"),
    ("format cannot be told", lambda f: edit(f, "path: raw/crm.csv", "path: raw/crm.dat"),
     "engagement.yaml: sources.crm: cannot tell the format of 'raw/crm.dat' (fix: set format: csv, xlsx or parquet)"),
    ("source file missing", lambda f: (f / "raw" / "mall.csv").unlink(),
     "raw/mall.csv: file not found (fix: check the path in the engagement file, or add the file)"),
    ("source empty (0 bytes)", lambda f: write_raw(f, "mall.csv", b""),
     "raw/mall.csv: the file is empty (0 bytes) (fix: export it again from the client's system)"),
    ("undecodable bytes", lambda f: write_raw(f, "mall.csv", "订单号,下单时间,实付金额,买家手机\n".encode() + b"M1,\xff\xfe,1,2\n"),
     "raw/mall.csv: encoding: row 2: bytes at offset 52 (line 2) cannot be decoded as utf-8-sig, gb18030"),
    ("wrong declared encoding", lambda f: edit(f, "header_row: 3", "header_row: 3\n    encoding: utf-8"),
     "raw/crm.csv: encoding: row 1: bytes at offset 0 (line 1) cannot be decoded as utf-8"),
    ("CSV that is really XLSX", lambda f: write_raw(f, "mall.csv", (f / "raw" / "members.xlsx").read_bytes()),
     "raw/mall.csv: format: declared as CSV but the file is a zip/XLSX workbook (fix: set format: xlsx"),
    ("password-protected XLSX", encrypted_xlsx,
     "raw/members.xlsx: format: the workbook is password-protected (encrypted) or a legacy .xls file (fix: open it "
     "in Excel, remove the password and save as .xlsx)"),
    ("corrupt XLSX", lambda f: write_raw(f, "members.xlsx", (f / "raw" / "members.xlsx").read_bytes()[:600]),
     "raw/members.xlsx: format: the workbook is corrupt or not an .xlsx file (BadZipFile)"),
    ("text file declared XLSX", lambda f: edit(f, "path: raw/members.xlsx", "path: raw/mall.csv\n    format: xlsx"),
     "raw/mall.csv: format: declared as XLSX but the file is not an Excel workbook"),
    ("duplicate column names", lambda f: write_raw(f, "mall.csv", "订单号,下单时间,实付金额,买家手机,实付金额\nM1,2026-01-01,1,2,3\n".encode()),
     "raw/mall.csv: header: row 1: column '实付金额' appears twice (columns 3 and 5)"),
    ("mapped column absent", lambda f: edit(f, "手机号: phone", "手机: phone"),
     "engagement.yaml: sources.crm.columns: '手机' is not a column of raw/crm.csv (columns: 客户编号, 姓名, 手机号, "
     "城市) (fix: map a column that exists, or correct header_row / sheet)"),
    ("id column absent", lambda f: edit(f, "id_column: 订单号", "id_column: 订单编号"),
     "engagement.yaml: sources.mall.columns: '订单编号' is not a column of raw/mall.csv"),
    ("header row past the end", lambda f: edit(f, "header_row: 3", "header_row: 30"),
     "raw/crm.csv: header_row: has no header at row 30 (the file has 5 lines)"),
    ("header on a title row", lambda f: edit(f, "header_row: 3", "header_row: 1"),
     "raw/crm.csv: row 3: has 4 cells but the header has 1 (fix: check for an unquoted comma in that row, or the "
     "header_row setting)"),
    ("sheet missing", lambda f: edit(f, "sheet: 会员列表", "sheet: 会员"),
     "raw/members.xlsx: sheet: has no sheet '会员' (sheets: 会员列表)"),
    ("100 MB single field", huge_field,
     "raw/mall.csv: row 4: a cell holds more than 10,485,760 characters (fix: check the export; a field that size "
     "is not data)"),
    ("row wider than header", lambda f: write_raw(f, "mall.csv", "订单号,下单时间,实付金额,买家手机\nM1,2026-01-01,1,299.00,138\n".encode()),
     "raw/mall.csv: row 2: has 5 cells but the header has 4"),
    ("parquet declared, text given", lambda f: edit(f, "path: raw/mall.csv", "path: raw/mall.csv\n    format: parquet"),
     "raw/mall.csv: format: declared as Parquet but the file is not a Parquet file"),
    # issue 24, hardening round two: the readers
    ("stray cell at XFD1048576", lambda f: edit_members(f, {"XFD1048576": "x"}),
     "raw/members.xlsx: sheet: row 1048576: sheet '会员列表': the cell at XFD1048576 stretches the used range to "
     "A1:XFD1048576, 17,179,869,184 cells for the 6 that hold something (fix: in Excel, delete the stray cell "
     "XFD1048576"),
    ("GB18030 line in a UTF-8 file", lambda f: append_line(f, "mall.csv", "M3,2026-01-05,￥8.00,13800138003\n",
                                                           "gb18030"),
     "raw/mall.csv: encoding: row 4: bytes at offset 144 (line 4) cannot be decoded as UTF-8 like the rest of the "
     "file (a3 a4, column 实付金额): they read as GB18030, so the file mixes two encodings (1 of 4 lines) (fix: "
     "export the file again in one encoding (UTF-8)"),
    ("UTF-8 line in a GB18030 file", lambda f: append_line(f, "crm.csv", "A3,王芳,13800138003,广州\r\n", "utf-8"),
     "raw/crm.csv: encoding: row 6: line 6 is UTF-8 (from offset 122: e7 8e 8b e8 8a b3, column 姓名) but the rest "
     "of the file is gb18030: the file mixes two encodings (1 of 6 lines)"),
    ("GB18030 declared, UTF-8 given",
     lambda f: (write_raw(f, "crm.csv", (f / "raw" / "crm.csv").read_bytes().decode("gb18030").encode()),
                edit(f, "header_row: 3", "header_row: 3\n    encoding: gb18030")),
     "raw/crm.csv: encoding: row 2: bytes at offset 28 (line 2) cannot be decoded as gb18030 (9a) (fix: the file "
     "reads as utf-8: set encoding: utf-8 (or auto))"),
    ("Parquet cut short", lambda f: mall_parquet(f, "truncated"),
     "raw/mall.parquet: format: the Parquet file is truncated or corrupt: its footer cannot be read"),
    ("Parquet column named twice", lambda f: mall_parquet(f, "duplicate column"),
     "raw/mall.parquet: columns: column '实付金额' appears twice (columns 3 and 4)"),
]
#: Cases whose regression would abort the process (a 549 GB allocation): run in a child with 2 GB of address space.
IN_CHILD = {"stray cell at XFD1048576"}
BOUNDED_CLI = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
from digiops.cli import app
sys.argv[0] = "digiops"
app()
"""


def invoke(args: list[str], *, bounded: bool = False) -> tuple[int, str]:
    """Run the CLI: in this process, or in a child process whose address space is bounded."""
    if not bounded:
        result = CliRunner().invoke(app, args)
        return result.exit_code, result.output
    child = subprocess.run([sys.executable, "-c", BOUNDED_CLI, *args], capture_output=True, text=True, timeout=600)
    return child.returncode, child.stdout + child.stderr


@pytest.mark.parametrize("name, corrupt, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly_and_loses_nothing(hardening_client, tmp_path, name, corrupt, message):
    corrupt(hardening_client)
    raw_before = tree_hashes(hardening_client / "raw")
    out = tmp_path / "reports"

    exit_code, output = invoke(["run", str(hardening_client / "engagement.yaml"), "--out", str(out)],
                               bounded=name in IN_CHILD)

    assert exit_code != 0
    shown = " ".join(output.split())
    assert " ".join(message.split()) in shown, output
    manifests = [json.loads(p.read_text()) for p in out.rglob("manifest.json")] if out.exists() else []
    assert all(m["status"] != "succeeded" for m in manifests)
    assert tree_hashes(hardening_client / "raw") == raw_before


def test_catalogue_has_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_formula_cells_without_values_are_named_by_validate_and_the_inventory(hardening_client):
    edit_members(hardening_client, {"B3": '=TEXT(13800138001,"0")', "A4": "W2", "B4": "=B3"})
    raw_before = tree_hashes(hardening_client / "raw")

    result = CliRunner().invoke(app, ["validate", str(hardening_client)])
    sources, _ = inventory(load_engagement(hardening_client))

    warning = ("raw/members.xlsx: sheet: sheet '会员列表': 2 formula cells have no stored value and read as empty: B3 "
               "(手机: =TEXT(13800138001,\"0\")), B4 (手机: =B3) (fix: the program that saved the workbook does not "
               "calculate formulas: open it in Excel or WPS and save it again (or paste the values), then read it "
               "again)")
    assert result.exit_code == 0, result.output
    assert f"warning: {warning}" in " ".join(result.output.split())
    assert sources.set_index("source").loc["members", "warnings"] == warning
    assert tree_hashes(hardening_client / "raw") == raw_before


def test_the_untouched_client_runs(hardening_client, tmp_path):
    result = CliRunner().invoke(app, ["run", str(hardening_client), "--out", str(tmp_path / "r")])

    assert result.exit_code == 0, result.output
