"""A small multi-source client in the shapes Chinese systems export, for the hardening suite."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.conftest import write_engagement

SOURCES = """
  crm:
    path: raw/crm.csv
    kind: customers
    header_row: 3
    id_column: 客户编号
    columns: {姓名: full_name, 手机号: phone, 城市: city}
  mall:
    path: raw/mall.csv
    kind: orders
    id_column: 订单号
    columns: {下单时间: order_time, 实付金额: amount, 买家手机: phone}
  members:
    path: raw/members.xlsx
    kind: customers
    sheet: 会员列表
    header_row: 2
    id_column: 会员ID
    columns: {手机: phone}"""


def build_client(folder: Path) -> Path:
    raw = folder / "raw"
    raw.mkdir(parents=True)
    crm = ["客户导出", "导出时间：2026-07-01", "客户编号,姓名,手机号,城市", "A1,张三,13800138001,上海",
           "A2,曾　晓,+86 139-0013-9002,北京"]
    (raw / "crm.csv").write_bytes(("\r\n".join(crm) + "\r\n").encode("gb18030"))
    mall = ["订单号,下单时间,实付金额,买家手机", "M1,2026-01-03 10:00,\"¥1,299.00\",13800138001",
            "M2,2026/01/04,35.5,139 0013 9002"]
    (raw / "mall.csv").write_bytes(("\n".join(mall) + "\n").encode("utf-8-sig"))
    book = Workbook()
    sheet = book.active
    sheet.title = "会员列表"
    sheet["A1"] = "小程序会员"
    sheet.merge_cells("A1:B1")
    sheet.append(["会员ID", "手机"])
    sheet.append(["W1", "13800138001"])
    book.save(raw / "members.xlsx")
    write_engagement(folder, sources=SOURCES)
    return folder


@pytest.fixture
def hardening_client(tmp_path) -> Path:
    return build_client(tmp_path / "acme")
