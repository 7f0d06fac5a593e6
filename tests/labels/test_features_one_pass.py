"""The one-pass feature view (preferences as conditional aggregates, issue 5's speed-up) gives exactly the feature
view and the tag matrix of the SQL it replaced (frozen in ``reference_features.py``), on synthetic data with the
awkward cases added: ties between preferences, unknown SKUs, null and unusual channels, split shipments, refund-only
customers, a null amount, a quote in a category name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from digiops.labels.behaviour import behaviour_columns
from digiops.labels.evaluate import catalog_sql, evaluate
from digiops.labels.features import (Domains, _segment_sql, build_features, connect, default_as_of, feature_sql,
                                     load_segment_map, value_domains)
from tests.labels.synthetic import contract_tables
from tests.labels.reference_features import reference_feature_sql
from tests.labels.test_evaluate import demo_catalog

EDGE_PRODUCTS = [("E1", "茶礼盒·冬", "礼盒", "68.00", "高"), ("E2", "手作饼干", "零食", "68.00", "高"),
                 ("E3", "奶盖's 杯", "tea's cup", "10.00", "低")]


def _edge_tables() -> dict[str, pa.Table]:
    data = contract_tables(600, 6.0, seed=11)
    orders, products, shipments = data["orders"], data["products"], data["shipments"]
    n = orders.num_rows
    index = pa.array(range(n))
    # unknown SKUs (no category, no price band), null and unusual channels
    sku = pc.if_else(pc.equal(pc.bit_wise_and(index, 31), 0), pa.scalar("NOSUCH"), orders["sku"])
    channel = pc.if_else(pc.equal(pc.bit_wise_and(index, 63), 1), pa.scalar(None, pa.string()), orders["channel"])
    channel = pc.if_else(pc.equal(pc.bit_wise_and(index, 63), 2), pa.scalar("wechat"), channel)
    orders = orders.set_column(orders.schema.get_field_index("sku"), "sku", sku)
    orders = orders.set_column(orders.schema.get_field_index("channel"), "channel", channel)
    products = pa.concat_tables([products, pa.Table.from_pylist(
        [{"sku": s, "product_name": name, "category": cat, "price": Decimal(price), "price_band": band}
         for s, name, cat, price, band in EDGE_PRODUCTS], schema=products.schema)])
    when = dt.datetime(2026, 10, 20, 12)
    base = {"source": "mall_orders", "quantity": 1, "status": "completed", "is_refund": False, "is_test": False}
    extra = [  # C0000001..: ties in spend (礼盒 = 零食 = 68), in channel counts (mall = online), in price bands
        {"order_id": "x:1", "customer_id": "C0000001", "channel": "online", "sku": "E1", "amount": Decimal("68.00")},
        {"order_id": "x:2", "customer_id": "C0000001", "channel": "mall", "sku": "E2", "amount": Decimal("68.00")},
        {"order_id": "x:3", "customer_id": "Z0000001", "channel": "store", "sku": "E3", "amount": Decimal("10.00")},
        {"order_id": "x:4", "customer_id": "Z0000001", "channel": "mall", "sku": "E1", "amount": Decimal("10.00")},
        {"order_id": "x:5", "customer_id": "Z0000002", "channel": "mall", "sku": "E2", "amount": None},
        {"order_id": "x:6", "customer_id": "Z0000003", "channel": "mall", "sku": "E1", "amount": Decimal("-68.00"),
         "is_refund": True},
    ]
    orders = pa.concat_tables([orders, pa.Table.from_pylist(
        [{"order_time": when} | base | row for row in extra], schema=orders.schema)])
    # split shipments: the first 50 shipped orders get a second parcel; one parcel of a refund-only order
    split = shipments.slice(0, 50)
    split = split.set_column(0, "shipment_id", pc.binary_join_element_wise(split["shipment_id"], "b", ""))
    refund_parcel = shipments.slice(0, 1).set_column(1, "order_id", pa.array(["x:6"]))
    shipments = pa.concat_tables([shipments, split, refund_parcel])
    customers = data["customers"]
    new_ids = ["Z0000001", "Z0000002", "Z0000003", "Z0000004"]  # Z0000004 never orders
    customers = pa.concat_tables([customers, pa.Table.from_pylist(
        [{"customer_id": c, "member_level": "普通会员", "sources": "crm", "n_records": 1} for c in new_ids],
        schema=customers.schema)])
    return {"customers": customers, "orders": orders, "shipments": shipments, "products": products}


def _reference(con, as_of, segments) -> None:
    # the frozen SQL predates the event features: without event data they are empty columns (behaviour_columns)
    body = (f"SELECT *, {behaviour_columns(as_of, None, '0')}, {_segment_sql(segments)} AS rfm_segment "
            f"FROM ({reference_feature_sql(as_of, segments)})")
    types = con.execute(f"DESCRIBE {body}").fetchall()
    columns = ", ".join(f"CAST({name} AS BIGINT) AS {name}" if kind == "HUGEINT" else name
                        for name, kind, *_ in types)
    con.execute(f"CREATE TEMP TABLE reference_features AS SELECT {columns} FROM ({body})")


def _same(con, left: str, right: str) -> None:
    assert con.execute(f"DESCRIBE {left}").fetchall() == con.execute(f"DESCRIBE {right}").fetchall()
    for a, b in ((left, right), (right, left)):
        extra = con.execute(f"SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b} LIMIT 5").fetchall()
        assert extra == [], f"rows of {a} not in {b}: {extra}"


@pytest.fixture(scope="module")
def edge_tables() -> dict[str, pa.Table]:
    return _edge_tables()


@pytest.mark.parametrize("one_pass", [True, False])
def test_feature_view_equals_the_reference_sql(edge_tables, one_pass):
    # Arrange
    con = connect(edge_tables)
    segments = load_segment_map()
    as_of = default_as_of(con)
    _reference(con, as_of, segments)
    # Act
    build_features(con, as_of, segments, one_pass=one_pass)
    # Assert
    _same(con, "customer_features", "reference_features")
    ties = dict(con.execute("SELECT customer_id, top_category || '/' || main_channel || '/' || main_price_band "
                            "FROM customer_features WHERE customer_id LIKE 'Z%'").fetchall())
    assert ties["Z0000001"] == "tea's cup/mall/低"  # equal spend and counts: the smallest value wins
    assert ties["Z0000002"] == "零食/mall/高"  # its only purchase has no amount: still its top category


def test_tag_matrix_equals_the_reference(edge_tables):
    catalog = demo_catalog()
    run = evaluate(edge_tables, catalog)
    con = connect(edge_tables)
    _reference(con, run.as_of, load_segment_map())

    expected = con.sql(catalog_sql(catalog, source="reference_features")).to_arrow_table()

    assert run.tags.columns.tolist() == expected.column_names
    assert pa.Table.from_pandas(run.tags, preserve_index=False).cast(expected.schema).equals(expected)


def test_large_domains_fall_back_to_windows_and_empty_domains_bind():
    many = Domains(channel=tuple(f"c{i:03d}" for i in range(100)), category=("a",), price_band=())
    segments = load_segment_map()

    assert not many.small()
    assert "row_number() OVER (PARTITION BY customer_id" in feature_sql(dt.date(2026, 1, 1), segments, None, many)
    assert "row_number() OVER (PARTITION BY customer_id" not in feature_sql(
        dt.date(2026, 1, 1), segments, None, Domains((), (), ()))
    con = connect(_edge_tables())
    assert value_domains(con).category[0] == "tea's cup"  # code-point order, as SQL sorts text
