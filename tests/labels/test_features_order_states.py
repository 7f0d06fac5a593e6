"""Customer spend counts only orders that happened (issue 18, defect 4): a refund marked only by its status and a
cancelled order are no purchase and add nothing to monetary; a refund row still nets out."""

from __future__ import annotations

import datetime as dt

import pytest

from digiops.labels.catalog import parse_catalog
from digiops.labels.evaluate import evaluate, features_frame
from tests.labels.fixtures import STATE_ORDER_SCHEMA, customer, order, tables

DAY = dt.date(2026, 3, 1)
MINIMAL = parse_catalog("""
tags:
  - {id: rfm_segment, name: {zh: 分群, en: Segment}, category: value, definition: d, owner: o, output: value,
     rule: rfm_segment}
""")


def _order(order_id: str, customer_id: str, days_before: int, amount: str, state: str, in_gmv: bool) -> dict:
    return order(order_id, customer_id, DAY - dt.timedelta(days=days_before), amount, state=state, in_gmv=in_gmv,
                 is_refund=state in ("refund", "refunded"), status={"refunded": "已退款", "cancelled": "交易关闭",
                                                                    "refund": "退款成功"}.get(state, "交易成功"))


ORDERS = [
    _order("1", "C1", 10, "100", "paid", True),
    _order("1r", "C1", 5, "-40", "refund", True),       # refund row of order 1: nets out
    _order("2", "C1", 2, "50", "refunded", False),      # 已退款, positive amount, no refund row
    _order("3", "C2", 20, "20", "paid", True),
    _order("4", "C2", 0, "30", "cancelled", False),     # 交易关闭: never paid
    _order("5", "C3", 3, "5", "paid", True),            # a status no state knows counts as paid
]


@pytest.fixture(scope="module")
def features():
    data = tables([customer("C1"), customer("C2"), customer("C3")], ORDERS, order_schema=STATE_ORDER_SCHEMA)
    return features_frame(data, as_of=DAY + dt.timedelta(days=1)).set_index("customer_id")


def test_monetary_counts_what_gmv_counts(features):
    assert [str(v) for v in features["monetary"]] == ["60.00", "20.00", "5.00"]  # C1: 100 − 40; the 50 went back


def test_only_paid_orders_are_purchases(features):
    assert features["frequency"].tolist() == [1, 1, 1]
    assert features["recency_days"].tolist() == [11, 21, 4]  # C2's cancelled order of yesterday is no purchase
    assert [str(v) for v in features["purchase_amount"]] == ["100.00", "20.00", "5.00"]


def test_status_only_refunds_are_refunds(features):
    assert features["refund_count"].tolist() == [2, 0, 0]
    assert [str(v) for v in features["refund_amount"]] == ["90.00", "0.00", "0.00"]  # 40 back by row, 50 by status


def test_default_as_of_follows_the_latest_paid_order():
    data = tables([customer("C1"), customer("C2"), customer("C3")], ORDERS, order_schema=STATE_ORDER_SCHEMA)
    run = evaluate(data, MINIMAL)
    assert run.as_of == DAY - dt.timedelta(days=2)  # C3's order 3 days before; not C2's cancelled one
