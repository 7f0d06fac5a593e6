"""Small merge-stage outputs in the contract's shape (docs/architecture.md), built from a few dicts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa

MONEY = pa.decimal128(18, 2)
TS = pa.timestamp("us")
CUSTOMER_SCHEMA = pa.schema([
    ("customer_id", pa.string()), ("full_name", pa.string()), ("name_pinyin", pa.string()), ("gender", pa.string()),
    ("birth_date", pa.date32()), ("phone", pa.string()), ("email", pa.string()), ("national_id", pa.string()),
    ("province", pa.string()), ("city", pa.string()), ("district", pa.string()), ("adcode", pa.string()),
    ("address", pa.string()), ("member_level", pa.string()), ("registered_at", TS),
    ("first_touch_channel", pa.string()), ("first_touch_campaign", pa.string()), ("first_touch_at", TS),
    ("sources", pa.string()), ("n_records", pa.int64())])
ORDER_SCHEMA = pa.schema([
    ("order_id", pa.string()), ("source", pa.string()), ("channel", pa.string()), ("customer_id", pa.string()),
    ("order_time", TS), ("amount", MONEY), ("quantity", pa.int64()), ("sku", pa.string()), ("store_id", pa.string()),
    ("region", pa.string()), ("province", pa.string()), ("status", pa.string()), ("is_refund", pa.bool_()),
    ("is_test", pa.bool_())])
#: orders as the merge stage writes them since it has order states (ORDER_SCHEMA is the older shape)
STATE_ORDER_SCHEMA = ORDER_SCHEMA.append(pa.field("state", pa.string())).append(pa.field("in_gmv", pa.bool_()))
SHIPMENT_SCHEMA = pa.schema([
    ("shipment_id", pa.string()), ("order_id", pa.string()), ("carrier", pa.string()), ("tracking_no", pa.string()),
    ("status", pa.string()), ("shipped_at", TS), ("signed_at", TS), ("promised_at", TS), ("is_late", pa.bool_()),
    ("is_failed", pa.bool_())])
PRODUCT_SCHEMA = pa.schema([("sku", pa.string()), ("product_name", pa.string()), ("category", pa.string()),
                            ("price", MONEY), ("price_band", pa.string())])
PRODUCTS = [{"sku": "T1", "product_name": "招牌珍珠奶茶", "category": "奶茶", "price": Decimal("15.00"),
             "price_band": "中"},
            {"sku": "G1", "product_name": "茶礼盒·春", "category": "礼盒", "price": Decimal("168.00"),
             "price_band": "礼品"}]


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([{f.name: row.get(f.name) for f in schema} for row in rows], schema=schema)


def customer(customer_id: str, **fields) -> dict:
    base = {"customer_id": customer_id, "member_level": "普通会员", "sources": "crm", "n_records": 1,
            "registered_at": dt.datetime(2025, 1, 1)}
    return base | fields


def order(order_id: str, customer_id: str | None, when: dt.date | dt.datetime, amount: str, **fields) -> dict:
    moment = when if isinstance(when, dt.datetime) else dt.datetime.combine(when, dt.time(12, 0))
    base = {"order_id": f"mall_orders:{order_id}", "source": "mall_orders", "channel": "mall",
            "customer_id": customer_id, "order_time": moment, "amount": Decimal(amount), "quantity": 1, "sku": "T1",
            "status": "completed", "is_refund": Decimal(amount) < 0, "is_test": False}
    return base | fields


def tables(customers: list[dict], orders: list[dict], shipments: list[dict] | None = None, *,
           order_schema: pa.Schema = ORDER_SCHEMA) -> dict[str, pa.Table]:
    return {"customers": _table(customers, CUSTOMER_SCHEMA), "orders": _table(orders, order_schema),
            "shipments": _table(shipments or [], SHIPMENT_SCHEMA), "products": _table(PRODUCTS, PRODUCT_SCHEMA)}
