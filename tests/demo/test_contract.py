"""The demo client honours docs/architecture.md: every source exists in its shape, the engagement file maps it,
and the truth covers every record."""

from __future__ import annotations

import re
import zipfile

import pandas as pd
import pytest
import yaml

from digiops import load_engagement, paths
from digiops.demo import DemoDataError, generate, main, sources_yaml
from digiops.demo.sources import PERSON_SOURCES, SOURCES
from digiops.errors import DigiopsError
from digiops.sources import canonical_frame, check_sources

ORDER_SOURCES = ("mall_orders", "online_orders", "pos_receipts")


def test_engagement_file_maps_every_generated_source(demo_dir):
    engagement = load_engagement(demo_dir / "engagement.yaml")
    check_sources(engagement)  # every file and mapped column exists

    assert set(engagement.sources) == {s.name for s in SOURCES}
    for name in engagement.sources:
        assert len(canonical_frame(engagement, name)) > 0, name


def test_engagement_sources_block_is_the_generators_description():
    committed = yaml.safe_load((paths.demo_client_dir() / "engagement.yaml").read_text(encoding="utf-8"))
    assert committed["sources"] == yaml.safe_load(sources_yaml())["sources"]


def test_files_have_the_shapes_real_systems_export(demo_dir):
    raw = demo_dir / "raw"
    crm = (raw / "crm_customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        crm.decode("utf-8")
    lines = crm.decode("gb18030").splitlines()
    assert lines[0].startswith("示例茶饮") and lines[2].startswith("客户编号,姓名")
    assert (raw / "mall_orders.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert not (raw / "online_orders.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    with zipfile.ZipFile(raw / "miniprogram_members.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
        workbook = book.read("xl/workbook.xml").decode("utf-8")
    assert '<mergeCell ref="A1:L1"/>' in sheet
    assert re.findall(r'sheet name="([^"]+)"', workbook) == ["会员列表", "说明"]


def test_truth_covers_every_customer_bearing_record(raw, truth):
    identity = truth("identity")
    people = set(truth("people")["person_id"])
    assert not identity.duplicated(["source", "record_id"]).any()
    assert set(identity["person_id"]) - people <= {"TEST"}
    for name in PERSON_SOURCES:
        spec = next(s for s in SOURCES if s.name == name)
        ids = set(raw(name)[spec.id_column])
        if name == "pos_receipts":  # walk-in receipts name nobody
            frame = raw(name)
            ids = set(frame.loc[frame["会员卡号"] != "", "小票号"])
        covered = set(identity.loc[identity["source"] == name, "record_id"])
        assert ids == covered, name


def _cents(amount: pd.Series) -> pd.Series:
    text = amount.str.replace(r"[¥￥,]", "", regex=True)
    return (text.astype(float) * 100).round().astype("int64")


def test_order_truth_reconciles_to_the_cent(raw, truth):
    orders = truth("orders")
    orders["amount_cents"] = orders["amount_cents"].astype("int64")
    assert not orders.duplicated(["source", "order_id"]).any()
    for name, keys, amount_col in (("mall_orders", ["订单编号"], "实付金额"), ("online_orders", ["订单号", "子订单号"],
                                                                           "商品金额"),
                                   ("pos_receipts", ["小票号"], "金额")):
        frame = raw(name).drop_duplicates(keys)  # an exported row twice is a glitch; lines of an order are not
        expected = orders[orders["source"] == name].set_index("order_id")["amount_cents"]
        got = _cents(frame[amount_col]).groupby(frame[keys[0]].to_numpy()).sum()
        assert got.sort_index().equals(expected.sort_index()), name


def test_order_lines_truth_holds_every_line_and_its_money(raw, truth):
    # Arrange
    lines = truth("order_lines").astype({"amount_cents": "int64", "quantity": "int64"})
    orders = truth("orders").astype({"amount_cents": "int64"})
    online = raw("online_orders").drop_duplicates(["订单号", "子订单号"])
    # Act
    by_order = lines.groupby("order_id")["amount_cents"].sum()
    # Assert: the lines add up to each order's amount, to the cent, and are the raw lines
    expected = orders[orders["source"] == "online_orders"].set_index("order_id")["amount_cents"]
    assert by_order.sort_index().equals(expected.sort_index())
    assert set(lines["line_id"]) == set(online["子订单号"]) and not lines["line_id"].duplicated().any()
    assert (lines.groupby("order_id")["sku"].nunique() == lines.groupby("order_id").size()).all()
    assert lines["order_id"].duplicated().any()  # several lines share an order number


def test_refunds_reference_an_original_order_of_the_same_source(raw):
    for name, id_col, amount_col, ref_col in (("mall_orders", "订单编号", "实付金额", "退款原单号"),
                                              ("pos_receipts", "小票号", "金额", "原小票号")):
        frame = raw(name)
        refunds = frame[frame[ref_col] != ""]
        assert len(refunds) > 0
        assert refunds[amount_col].str.startswith("-").all()
        assert set(refunds[ref_col]) <= set(frame[id_col])


def test_seed_002_customer_xiaohongshu_to_mall_to_sf_express(raw, truth):
    """Seed 002: came from Xiaohongshu, ordered in the WeChat mall, shipped by SF Express."""
    identity = truth("identity")
    mine = identity[identity["person_id"] == "P0000001"]
    leads = raw("social_leads")
    lead = leads[leads["线索编号"].isin(mine.loc[mine["source"] == "social_leads", "record_id"])]
    assert (lead["来源渠道"] == "小红书").all() and len(lead) >= 1
    mall_ids = set(mine.loc[mine["source"] == "mall_orders", "record_id"])
    assert mall_ids
    shipments = raw("shipments")
    shipped = shipments[shipments["订单号"].isin(mall_ids)]
    assert len(shipped) >= 1 and (shipped["快递公司"] == "顺丰速运").all()


def test_addresses_resolve_with_cpca(raw):
    import cpca

    addresses = raw("mall_orders")["收货地址"].head(300).tolist()
    resolved = cpca.transform(addresses)
    assert resolved["adcode"].notna().mean() > 0.97


def test_every_polyphonic_surname_appears(truth):
    surnames = truth("people")["full_name"].str[0]
    for name in "曾单解区仇朴查":
        assert (surnames == name).any(), name


def test_cli_writes_a_client(tmp_path):
    assert main(["--people", "150", "--seed", "3", "--out", str(tmp_path), "--quiet"]) == 0
    assert (tmp_path / "raw" / "shipments.csv").stat().st_size > 0
    assert (tmp_path / "truth" / "identity.csv").stat().st_size > 0


def test_bad_size_is_a_digiops_error(tmp_path):
    with pytest.raises(DemoDataError, match="at least 1") as info:
        generate(tmp_path, people=0)
    assert isinstance(info.value, DigiopsError)


def test_a_failed_run_leaves_no_half_written_files(tmp_path, monkeypatch):
    import digiops.demo.build as build

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(build, "shipment_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        generate(tmp_path, people=100, seed=1)
    assert list((tmp_path / "raw").iterdir()) == [] and list((tmp_path / "truth").iterdir()) == []
