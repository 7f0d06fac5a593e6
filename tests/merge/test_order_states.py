"""Order states (issue 18, defect 4): a status that says the money went back or the order never happened keeps the
order out of GMV; refund rows still net out; an unknown status counts as paid and is reported; the engagement's
``merge.order_states`` overrides the default vocabulary."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import write_engagement
from digiops.merge.pipeline import run_merge
from digiops.settings.merge import DEFAULT_ORDER_STATES, MergeSettings
from digiops.merge.wholelink import status_state

ORDER_COLUMNS = ["order_id", "order_time", "amount", "member", "status", "refund_of"]
SPEC = {"kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time", "amount": "amount", "member": "customer_key", "status": "status",
                    "refund_of": "refund_of"}}
#: Tmall / JD style: a status-only refund (positive amount, no refund row), a closed order, a refund row, a status
#: the default vocabulary does not know and a staff test order.
TMALL = pd.DataFrame([
    ["T1", "2026-01-02 10:00", "100.00", "K1", "交易成功", ""],
    ["T2", "2026-01-03 10:00", "50.00", "K1", "已退款", ""],         # money went back: out of GMV
    ["T3", "2026-01-04 10:00", "30.00", "K2", "交易关闭", ""],       # never paid: out of GMV
    ["T4", "2026-01-05 10:00", "20.00", "K2", "", ""],              # no status: paid
    ["T5", "2026-01-06 10:00", "-100.00", "K1", "退款成功", "T1"],   # refund row of T1: nets out
    ["T6", "2026-01-07 10:00", "40.00", "K3", "待审核", ""],         # unknown: paid, reported
    ["T7", "2026-01-08 10:00", "10.00", "K3", "TRADE_FINISHED", ""],
    ["T8", "2026-01-09 10:00", "0.01", "K3", "测试", ""],             # staff test order
], columns=ORDER_COLUMNS)


def _merge(tmp_path, orders: pd.DataFrame = TMALL, merge: dict | None = None):
    engagement = write_engagement(tmp_path, {"tmall": (orders, SPEC)}, merge=merge)
    return run_merge(engagement)


def _gmv(orders: pd.DataFrame) -> Decimal:
    return sum((Decimal(str(a)) for a in orders.loc[orders["in_gmv"], "amount"]), Decimal(0))


def test_status_only_refunds_and_closed_orders_are_out_of_gmv_and_refund_rows_net_out(tmp_path):
    # Act
    orders = _merge(tmp_path).orders.set_index("order_id")
    # Assert
    assert orders["state"].to_dict() == {
        "tmall:T1": "paid", "tmall:T2": "refunded", "tmall:T3": "cancelled", "tmall:T4": "paid",
        "tmall:T5": "refund", "tmall:T6": "paid", "tmall:T7": "paid", "tmall:T8": "test"}
    assert orders["in_gmv"].to_dict() == {
        "tmall:T1": True, "tmall:T2": False, "tmall:T3": False, "tmall:T4": True, "tmall:T5": True,
        "tmall:T6": True, "tmall:T7": True, "tmall:T8": False}
    assert _gmv(orders) == Decimal("70.00")  # 100 + 20 − 100 + 40 + 10
    # the older flags stay as they were: a status refund is a refund, a test order a test
    assert orders.loc[["tmall:T2", "tmall:T5"], "is_refund"].all() and not orders.loc["tmall:T3", "is_refund"]
    assert orders.loc["tmall:T8", "is_test"] and not orders.loc["tmall:T3", "is_test"]


def test_unknown_status_is_reported_per_source_and_value_and_counted_as_paid(tmp_path):
    # Act
    result = _merge(tmp_path)
    # Assert
    unknown = result.unknown_statuses
    assert unknown[["source", "status", "orders"]].values.tolist() == [["tmall", "待审核", 1]]
    assert unknown["amount"].tolist() == [40.0]
    assert result.counts()["unknown_statuses"] == 1 and result.counts()["unknown_status_orders"] == 1


def test_engagement_order_states_override_the_defaults(tmp_path):
    # Arrange: this client's 待审核 orders were never paid, and its 交易关闭 means a finished sale
    merge = {"order_states": {"cancelled": ["待审核"], "paid": ["交易关闭"]}}
    # Act
    result = _merge(tmp_path, merge=merge)
    orders = result.orders.set_index("order_id")
    # Assert
    assert orders.loc["tmall:T6", "state"] == "cancelled" and not orders.loc["tmall:T6", "in_gmv"]
    assert orders.loc["tmall:T3", "state"] == "paid" and orders.loc["tmall:T3", "in_gmv"]
    assert orders.loc["tmall:T2", "state"] == "refunded"  # states not given keep their defaults
    assert _gmv(orders) == Decimal("60.00")  # 100 + 30 + 20 − 100 + 10
    assert result.unknown_statuses.empty and result.counts()["unknown_statuses"] == 0


def test_refund_markers_of_older_engagement_files_still_mark_refunds(tmp_path):
    # Arrange: the key older engagement files use
    orders = pd.DataFrame([["R1", "2026-01-02", "25.00", "K1", "售后退款中", ""],
                           ["R2", "2026-01-03", "30.00", "K1", "交易成功", ""]], columns=ORDER_COLUMNS)
    # Act
    result = _merge(tmp_path, orders, merge={"refund_markers": ["售后退款"]})
    # Assert
    assert result.orders["state"].tolist() == ["refunded", "paid"]
    assert result.orders["in_gmv"].tolist() == [False, True]
    assert result.unknown_statuses.empty


def test_a_marker_given_for_two_states_is_an_error():
    with pytest.raises(ValidationError, match="given for both"):
        MergeSettings.model_validate({"order_states": {"paid": ["已发货"], "cancelled": ["已发货"]}})


def test_an_empty_order_states_section_keeps_the_defaults():
    assert MergeSettings.model_validate({"order_states": {}}).order_states == DEFAULT_ORDER_STATES


def test_a_given_marker_leaves_the_state_it_had_by_default():
    settings = MergeSettings.model_validate({"order_states": {"paid": ["交易关闭"]}})
    assert "交易关闭" in settings.order_states["paid"] and "交易关闭" not in settings.order_states["cancelled"]
    assert settings.order_states["refunded"] == DEFAULT_ORDER_STATES["refunded"]


@pytest.mark.parametrize("status, state", [
    ("已退款", "refunded"), ("退款成功", "refunded"), ("交易关闭", "cancelled"), ("等待买家付款", "cancelled"),
    ("已付款", "paid"), ("卖家已发货", "paid"), ("交易成功", "paid"), ("销售", "paid"), ("Refunded", "refunded"),
    ("unpaid", "cancelled"), ("paid", "paid"), ("退款关闭", "paid"), ("退货完成", "refunded"), ("", "paid"),
    (None, "paid"), ("待审核", None)])
def test_default_vocabulary(status, state):
    assert status_state(status, DEFAULT_ORDER_STATES) == state


@given(st.sampled_from([m for markers in DEFAULT_ORDER_STATES.values() for m in markers]),
       st.sampled_from(["", " ", "\u3000"]), st.booleans())
def test_state_ignores_case_and_surrounding_space(marker, pad, upper):
    status = pad + (marker.upper() if upper else marker) + pad
    assert status_state(status, DEFAULT_ORDER_STATES) == status_state(marker, DEFAULT_ORDER_STATES) is not None
