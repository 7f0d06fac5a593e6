"""Actuals per KPI × unit × month: exact GMV (reconciled to the cent), unit partitions, rates by hand."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.kpi import kpi_fixtures as fx
from digiops.kpi.actuals import base_metrics, store_regions, to_cents
from digiops.kpi.funnel import funnel, worst_drop_off
from digiops.kpi.review import daily_gmv

REGIONS = {"S01": "华东", "S02": "华南"}


def orders(*rows) -> pd.DataFrame:
    columns = ["order_id", "customer_id", "order_time", "amount", "store_id", "is_refund", "is_test"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["order_time"] = pd.to_datetime(frame["order_time"])
    frame["amount"] = [Decimal(a) for a in frame["amount"]]
    return frame


HAND = orders(
    ("o1", "C1", "2026-03-01 10:00", "0.10", "S01", False, False),
    ("o2", "C2", "2026-03-02 10:00", "0.20", "S02", False, False),
    ("o3", "C1", "2026-03-03 10:00", "-0.10", "S01", True, False),   # refund of o1: negative, counted
    ("o4", None, "2026-03-04 10:00", "999.99", None, False, True),   # test order: not counted
    ("o5", "C3", "2026-03-05 10:00", "100.01", None, False, False),  # online
    ("o6", "C1", "2026-04-01 10:00", "50.00", "S02", False, False),  # C1 returns in April
    ("o7", "C4", "2026-04-02 10:00", "30.00", "S01", False, False),
)


def value(metrics: pd.DataFrame, metric: str, unit: str, period: str, column: str = "value"):
    row = metrics[(metrics["metric"] == metric) & (metrics["unit"] == unit) & (metrics["period"] == period)]
    return row[column].iloc[0]


def test_gmv_is_exact_with_refunds_negative_and_test_orders_out():
    # Act
    m = base_metrics(HAND, regions=REGIONS)
    # Assert
    assert value(m, "gmv", "all", "2026-03", "exact") == Decimal("100.21")
    assert value(m, "gmv", "S01", "2026-03", "exact") == Decimal("0.00")
    assert value(m, "gmv", "online", "2026-03", "exact") == Decimal("100.01")
    assert value(m, "orders", "all", "2026-03") == 3  # the refund is not an order


def test_repurchase_and_member_share_by_hand():
    customers = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "member_level": ["金卡", None, "", "银卡"]})
    again = orders(("o8", "C4", "2026-04-20 10:00", "10.00", "S01", False, False))
    m = base_metrics(pd.concat([HAND, again], ignore_index=True), regions=REGIONS, customers=customers)
    assert value(m, "returning_rate", "all", "2026-04") == 0.5    # C1 bought in March, C4 is new
    assert value(m, "repurchase_rate", "all", "2026-04") == 0.5    # C4 bought twice in April, C1 once
    assert value(m, "repurchase_rate", "华南", "2026-04") == 0.0   # C1's one April order (S02)
    assert value(m, "repurchase_rate", "all", "2026-03") == 0.0    # C1's second March row is a refund
    assert value(m, "member_share", "all", "2026-04") == pytest.approx(90 / 90)  # C1 and C4 are members
    assert value(m, "member_share", "all", "2026-03") == pytest.approx(0 / 100.21)  # C1's 0.10 − 0.10 = 0


def test_on_time_rate_by_hand():
    shipments = pd.DataFrame({"order_id": ["o1", "o2", "o5", "o6"],
                              "signed_at": pd.to_datetime(["2026-03-03", "2026-03-04", None, "2026-04-03"]),
                              "is_late": [False, True, False, False], "is_failed": [False, False, False, True]})
    m = base_metrics(HAND, regions=REGIONS, shipments=shipments)
    assert value(m, "on_time_rate", "all", "2026-03") == 0.5   # o1 on time, o2 late, o5 still in transit
    assert value(m, "on_time_rate", "all", "2026-04") == 0.0   # o6 failed


def test_conversion_and_aov_from_traffic():
    traffic = pd.DataFrame({"date": ["2026-03-01", "2026-03-02", "2026-03-01"], "unit": ["S01", "S02", "online"],
                            "visitors": ["10", "20", "40"]})
    m = base_metrics(HAND, regions=REGIONS, traffic=traffic)
    assert value(m, "traffic", "all", "2026-03") == 70
    assert value(m, "traffic", "华东", "2026-03") == 10
    assert value(m, "conversion", "all", "2026-03") == pytest.approx(3 / 70)
    assert value(m, "aov", "all", "2026-03") == pytest.approx(100.21 / 3)


def test_gmv_partitions_all_equal_regions_equal_stores_to_the_cent():
    # Arrange
    m = base_metrics(fx.orders_frame(), regions=store_regions(fx.stores_frame()), traffic=fx.traffic_rows())
    gmv = m[m["metric"] == "gmv"]
    # Act
    totals = gmv.groupby(["level", "period"])["exact"].apply(lambda s: sum(s, Decimal(0))).unstack("level")
    # Assert
    assert (totals["all"] == totals["region"]).all() and (totals["all"] == totals["store"]).all()


def test_gmv_is_traffic_times_conversion_times_aov_at_every_unit():
    m = base_metrics(fx.orders_frame(), regions=store_regions(fx.stores_frame()), traffic=fx.traffic_rows())
    wide = m.pivot_table(index=["level", "unit", "period"], columns="metric", values="value")
    product = wide["traffic"] * wide["conversion"] * wide["aov"]
    assert product.to_numpy() == pytest.approx(wide["gmv"].to_numpy(), rel=1e-12)


def test_gmv_reconciles_to_the_cent_with_a_truth_file(tmp_path):
    # Arrange: a truth file in the shape of data/clients/demo/truth/orders.csv, written from the raw amounts
    raw = fx.orders_frame()
    truth = pd.DataFrame({"source": raw["source"], "order_id": raw["order_id"],
                          "amount_cents": to_cents(raw["amount"]), "is_valid": ~raw["is_test"]})
    truth.to_csv(tmp_path / "orders.csv", index=False)
    fx.write_orders_parquet(raw, tmp_path / "orders.parquet")
    merged = pd.read_parquet(tmp_path / "orders.parquet")  # decimal128(18,2) round trip, as the merge writes it
    # Act
    m = base_metrics(merged, regions=store_regions(fx.stores_frame()))
    total = sum(m[(m["metric"] == "gmv") & (m["unit"] == "all")]["exact"], Decimal(0))
    # Assert
    expected = pd.read_csv(tmp_path / "orders.csv").query("is_valid")["amount_cents"].sum()
    assert total == Decimal(int(expected)) / 100


#: orders as the merge writes them since it has order states (docs/architecture.md)
STATES = orders(
    ("p1", "C1", "2026-05-01 10:00", "100.00", "S01", False, False),
    ("r1", "C1", "2026-05-02 10:00", "-40.00", "S01", True, False),   # refund row of p1: nets out
    ("s1", "C2", "2026-05-03 10:00", "50.00", "S02", True, False),    # 已退款: positive amount, no refund row
    ("c1", "C3", "2026-05-04 10:00", "30.00", "S02", False, False),   # 交易关闭: never paid
    ("u1", "C3", "2026-05-05 10:00", "5.00", "S02", False, False),    # 待审核: unknown, counts as paid
    ("t1", None, "2026-05-06 10:00", "0.01", "S02", False, True),     # staff test order
).assign(state=["paid", "refund", "refunded", "cancelled", "paid", "test"],
         in_gmv=[True, True, False, False, True, False])


def test_status_refunds_and_cancelled_orders_are_out_of_gmv_and_of_the_order_count():
    # Act
    m = base_metrics(STATES, regions=REGIONS)
    # Assert
    assert value(m, "gmv", "all", "2026-05", "exact") == Decimal("65.00")
    assert value(m, "gmv", "S01", "2026-05", "exact") == Decimal("60.00")
    assert value(m, "gmv", "S02", "2026-05", "exact") == Decimal("5.00")
    assert value(m, "orders", "all", "2026-05") == 2  # p1 and u1: no refund, refunded, cancelled or test order
    assert value(m, "customers", "all", "2026-05") == 2


def test_daily_gmv_counts_what_gmv_counts():
    daily = daily_gmv(STATES, "2026-05")
    assert dict(zip(daily["day"], daily["value"])) == {1: 100.0, 2: -40.0, 5: 5.0}


def test_funnel_step_and_overall_conversion_within_window():
    events = pd.DataFrame({
        "visitor_id": ["a", "a", "a", "b", "b", "c", "c", "d"],
        "stage": ["visit", "add_to_cart", "order", "visit", "add_to_cart", "visit", "order", "visit"],
        "event_time": ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-01", "2026-05-20", "2026-03-02",
                       "2026-03-04", "2026-03-09"]})
    # Act: b's add-to-cart is outside the 30-day window; c ordered without adding to cart (does not count)
    table = funnel(events, ["visit", "add_to_cart", "order"], window_days=30)
    # Assert
    assert table["visitors"].tolist() == [4, 1, 1]
    assert table["step_conversion"].tolist() == [1.0, 0.25, 1.0]
    assert table["overall_conversion"].tolist() == [1.0, 0.25, 0.25]
    assert table["drop_off"].tolist() == [0, 3, 0]
    assert worst_drop_off(table)["stage"] == "add_to_cart"
