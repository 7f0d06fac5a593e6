"""Order lines are no duplicates (a source's ``grain``): a line-grain export keeps every line and GMV reconciles to
the raw lines to the cent; ``grain: order`` quarantines a repeated order number as before; exact duplicate rows are
quarantined once, with the row they repeat; labels and KPIs count a 3-line order as one order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from conftest import write_engagement
from digiops import tables
from digiops.kpi.actuals import base_metrics
from digiops.labels.features import build_features, connect, load_segment_map
from digiops.merge import prepare, report
from digiops.merge.clean import duplicate_rows
from digiops.merge.pipeline import run_merge
from tests.labels.fixtures import customer, order
from tests.labels.fixtures import tables as label_tables

ORDER_COLUMNS = ["order_no", "order_time", "sku", "quantity", "amount", "member"]
MAPPING = {"order_time": "order_time", "sku": "sku", "quantity": "quantity", "amount": "amount",
           "member": "customer_key"}
#: O1 has three lines (three skus, one order time); O2 one line; R1 refunds O2 (a negative row)
LINES = [["O1", "2026-03-01 10:00", "A", "1", "12.30", "K1"],
         ["O1", "2026-03-01 10:00", "B", "2", "4.05", "K1"],
         ["O1", "2026-03-01 10:00", "C", "1", "0.99", "K1"],
         ["O2", "2026-03-02 11:00", "A", "1", "¥1,299.01", "K2"],
         ["R1", "2026-03-05 09:00", "A", "1", "-0.01", "K2"]]


def _engagement(folder, rows, *, grain: str | None = None, shipments: list[list[str]] | None = None,
                id_column: str | None = "order_no"):
    spec = {"kind": "orders", "columns": dict(MAPPING)}
    if id_column:
        spec["id_column"] = id_column
    else:
        spec["columns"]["order_no"] = "order_id"
    if grain:
        spec["grain"] = grain
    sources = {"online_orders": (pd.DataFrame(rows, columns=ORDER_COLUMNS), spec)}
    if shipments:
        sources["shipments"] = (pd.DataFrame(shipments, columns=["waybill", "order_no", "shipped"]),
                                {"kind": "shipments", "id_column": "waybill",
                                 "columns": {"order_no": "order_id", "shipped": "shipped_at"}})
    return write_engagement(folder, sources)


def _raw_cents(rows) -> int:
    return sum(int(Decimal(r[4].replace("¥", "").replace(",", "")) * 100) for r in rows)


def test_line_grain_keeps_every_line_and_gmv_equals_the_raw_lines(tmp_path):
    # Arrange
    engagement = _engagement(tmp_path, LINES, shipments=[["W1", "O1", "2026-03-02"], ["W2", "O2", "2026-03-03"]])
    # Act
    result = run_merge(engagement)
    orders = result.orders
    # Assert
    assert result.quarantine.empty
    assert orders["order_id"].tolist() == ["online_orders:O1"] * 3 + ["online_orders:O2", "online_orders:R1"]
    assert orders["sku"].tolist()[:3] == ["A", "B", "C"] and orders["quantity"].tolist()[:3] == [1, 2, 1]
    assert orders["line"].tolist() == [1, 2, 3, 1, 1]
    gmv = orders.loc[orders["in_gmv"], "amount"].map(Decimal).sum()
    assert int(gmv * 100) == _raw_cents(LINES) == 131634  # every line's money, to the cent
    assert result.crosswalk["record_id"].tolist() == ["O1", "O1#2", "O1#3", "O2", "R1"]  # a row key each
    assert result.crosswalk["customer_id"].iloc[:3].nunique() == 1  # the lines of one buyer
    assert result.shipments.set_index("shipment_id")["order_id"].to_dict() == {
        "shipments:W1": "online_orders:O1", "shipments:W2": "online_orders:O2"}  # joined by order number
    journey = result.journey("online_orders:O1").set_index("step")["value"]
    assert (journey["amount"], journey["lines"]) == ("17.34", "3")  # the order's total, not its first line's
    accounting = result.accounting.set_index("source")
    assert accounting.loc["online_orders", ["rows_in", "rows_used", "rows_quarantined"]].tolist() == [5, 5, 0]
    assert accounting["balanced"].all()


def test_auto_detection_is_recorded_and_reported(tmp_path):
    result = run_merge(_engagement(tmp_path, LINES))
    source = result.prepared["online_orders"]
    assert (source.grain, source.grain_setting, source.orders, source.rows_clean) == ("line", "auto", 3, 5)
    grains = report.order_grain(result.prepared)
    assert grains.loc[0, ["grain", "decided", "orders", "lines"]].tolist() == ["line", "detected", 3, 5]
    assert report.order_grain_note(grains)[1] == "online_orders: 3 orders in 5 lines, grain detected: line."


def test_grain_order_quarantines_the_repeated_order_numbers(tmp_path):
    result = run_merge(_engagement(tmp_path, LINES, grain="order"))
    quarantine = result.quarantine.set_index("row")
    assert quarantine["reason"].to_dict() == {3: "duplicate id (first on row 2)", 4: "duplicate id (first on row 2)"}
    assert result.orders["order_id"].is_unique and result.orders["line"].isna().all()
    assert result.prepared["online_orders"].grain == "order"
    assert report.order_grain(result.prepared).loc[0, "decided"] == "set"
    assert result.accounting["balanced"].all()


def test_auto_keeps_order_grain_when_repeats_are_no_lines():
    # the same order number at another time with the same sku: a re-export, not a line
    raw = pd.DataFrame({"source": "o", "record_id": ["O1", "O1", "O2"], "_row": [2, 3, 4],
                        "order_time": ["2026-03-01", "2026-03-04", "2026-03-01"], "sku": ["A", "A", "B"],
                        "amount": ["5", "6", "7"]})
    repeated = duplicate_rows(raw, kind="orders", has_id_column=True)
    assert (repeated.grain, repeated.detected, repeated.repeated, repeated.line_like) == ("order", True, 1, 0)
    assert repeated.duplicates.to_dict() == {3: 2}
    assert duplicate_rows(raw, kind="orders", has_id_column=True, grain="line").lines.to_dict() == {2: 1, 3: 2, 4: 1}


def test_exact_duplicate_rows_are_quarantined_once_with_the_row_they_repeat(tmp_path):
    # Arrange: line 2 of O1 exported twice (rows 3 and 4) in a line-grain source
    rows = LINES[:2] + [LINES[1]] + LINES[2:]
    # Act
    result = run_merge(_engagement(tmp_path, rows))
    # Assert
    assert result.quarantine[["row", "field", "reason"]].values.tolist() == [[4, "*", "exact duplicate (of row 3)"]]
    assert result.orders["line"].tolist() == [1, 2, 3, 1, 1]  # the copy is no line
    assert int(result.orders["amount"].map(Decimal).sum() * 100) == _raw_cents(LINES)
    assert result.prepared["online_orders"].exact_duplicates == 1
    assert result.accounting["balanced"].all()


def test_a_source_without_id_column_flags_exact_duplicates_and_zero_amounts(tmp_path):
    rows = [["O1", "2026-03-01 10:00", "A", "1", "5.00", "K1"],
            ["O1", "2026-03-01 10:00", "A", "1", "5.00", "K1"],   # the same row again
            ["O2", "2026-03-01 10:00", "G", "1", "0", "K1"],      # a zero amount (a gift): kept, reported
            ["O3", "2026-03-02 10:00", "A", "1", "7.50", "K2"]]
    result = run_merge(_engagement(tmp_path, rows, id_column=None))
    assert result.quarantine[["row", "reason"]].values.tolist() == [[3, "exact duplicate (of row 2)"]]
    source = result.prepared["online_orders"]
    assert (source.grain, source.exact_duplicates, source.zero_amounts, source.rows_clean) == (None, 1, 1, 3)
    assert len(result.orders) == 3 and str(result.orders["amount"].map(Decimal).sum()) == "12.50"
    grains = report.order_grain(result.prepared)
    assert grains.loc[0, ["decided", "zero_amounts"]].tolist() == ["no id column", 1]
    assert "1 rows with a zero amount kept" in report.order_grain_note(grains)[1]
    assert result.accounting["balanced"].all()


def test_exact_duplicates_in_a_customers_source(tmp_path):
    people = pd.DataFrame([["张伟", "13800138000"], ["张伟", "13800138000"], ["李娜", "13900139000"]],
                          columns=["name", "mobile"])
    engagement = write_engagement(tmp_path, {"crm": (people, {"kind": "customers",
                                                              "columns": {"name": "full_name", "mobile": "phone"}})})
    result = run_merge(engagement)
    assert result.quarantine[["source", "row", "reason"]].values.tolist() == [["crm", 3, "exact duplicate (of row 2)"]]
    assert result.accounting["balanced"].all()


@pytest.mark.parametrize("spec, problem", [({"kind": "customers", "grain": "line"}, "orders sources only"),
                                           ({"kind": "orders", "grain": "line"}, "needs the order number")])
def test_grain_is_checked_in_the_engagement_file(tmp_path, spec, problem):
    frame = pd.DataFrame([["O1", "5"]], columns=["order_no", "amount"])
    with pytest.raises(Exception, match=problem):
        write_engagement(tmp_path, {"s": (frame, {"columns": {"amount": "amount"} if spec["kind"] == "orders"
                                                  else {}, **spec})})


# --- downstream: a 3-line order is one order --------------------------------------------------------------------
DAY = dt.date(2026, 3, 10)
LINE_SCHEMA = tables.SCHEMAS["orders"]


def _lines() -> list[dict]:
    """C1: order 1 in three lines (15 + 30 + 168), order 2 in one line (15); C2: one order (15)."""
    when = dt.datetime(2026, 3, 1, 12)
    paid = {"state": "paid", "in_gmv": True}
    return [order("1", "C1", when, "15.00", sku="T1", line=1, **paid),
            order("1", "C1", when, "30.00", sku="T1", quantity=2, line=2, **paid),
            order("1", "C1", when, "168.00", sku="G1", line=3, **paid),
            order("2", "C1", dt.datetime(2026, 3, 5, 12), "15.00", line=1, **paid),
            order("3", "C2", when, "15.00", line=1, **paid)]


@pytest.mark.parametrize("one_pass", [True, False], ids=["one pass", "windows"])
def test_labels_count_a_three_line_order_once(one_pass):
    # Arrange: one shipment of the 3-line order
    shipment = {"shipment_id": "S1", "order_id": "mall_orders:1", "status": "signed", "is_late": False,
                "is_failed": False}
    data = label_tables([customer("C1"), customer("C2")], _lines(), [shipment], order_schema=LINE_SCHEMA)
    con = connect(data)
    # Act
    build_features(con, DAY, load_segment_map(), one_pass=one_pass)
    features = con.sql("SELECT * FROM customer_features ORDER BY customer_id").df().set_index("customer_id")
    # Assert
    c1 = features.loc["C1"]
    assert (c1["frequency"], c1["orders_30d"], c1["mall_orders"], c1["shipments"]) == (2, 2, 2, 1)
    assert (c1["monetary"], c1["max_order_amount"], c1["avg_order_value"]) == (228, 213, 114)
    assert c1["main_price_band"] == "中" and c1["top_category"] == "礼盒"  # preferences still add up the lines
    assert features.loc["C2", "frequency"] == 1


def test_kpis_count_a_three_line_order_once():
    frame = pd.DataFrame(_lines()).assign(store_id=None)
    frame["order_time"] = pd.to_datetime(frame["order_time"])
    shipments = pd.DataFrame({"shipment_id": ["S1", "S2"], "order_id": ["mall_orders:1", "mall_orders:2"],
                              "signed_at": pd.to_datetime(["2026-03-03", "2026-03-09"]), "is_late": [True, False],
                              "is_failed": [False, False]})
    metrics = base_metrics(frame, regions={}, shipments=shipments).set_index(["metric", "unit", "period"])
    assert metrics.loc[("orders", "all", "2026-03"), "value"] == 3
    assert metrics.loc[("gmv", "all", "2026-03"), "exact"] == Decimal("243.00")
    assert metrics.loc[("aov", "all", "2026-03"), "value"] == pytest.approx(81.0)
    assert metrics.loc[("repurchase_rate", "all", "2026-03"), "value"] == 0.5  # C1 bought twice, C2 once
    assert metrics.loc[("on_time_rate", "all", "2026-03"), "value"] == 0.5  # two shipments, one late


def test_slices_find_the_lines_and_copies_of_the_whole_source(tmp_path):
    rows = LINES[:2] + [LINES[1]] + LINES[2:]  # a copy of O1's line 2 on row 4, in another slice than row 3
    engagement = _engagement(tmp_path, rows)
    whole, sliced = (prepare.prepare_source(engagement, "online_orders", tmp_path / f"work-{n}",
                                            as_of=dt.date(2026, 11, 1), earliest=dt.date(1900, 1, 1),
                                            test_markers=[], chunk_rows=n) for n in (1000, 2))
    pd.testing.assert_frame_equal(sliced.clean(), whole.clean())
    assert sliced.quarantine.to_dict("records") == whole.quarantine.to_dict("records")
    assert sliced.clean(["record_id", "line"]).values.tolist() == [["O1", 1], ["O1#2", 2], ["O1#3", 3], ["O2", 1],
                                                                   ["R1", 1]]
    assert (sliced.orders, sliced.rows_clean, sliced.exact_duplicates) == (3, 5, 1)
