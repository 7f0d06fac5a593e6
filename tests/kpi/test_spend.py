"""Spend and return (digiops.kpi.spend): CAC, ROAS, ROI, marginal return and the share of spend with no measurable
effect equal a computation by hand on a small fixture; every yuan of the spend source is accounted for; bad spend
rows are refused naming the file, the row and the field; the KPI tree holds the cost and efficiency KPIs."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from digiops.errors import SourceError
from digiops.kpi.review import build_review
from digiops.kpi.spend import acquisitions, read_spend, spend_analysis, spend_metrics
from digiops.kpi.tree import parse_tree
from digiops.settings.kpi import KpiSettings

CUT = pd.Timestamp("2026-03-05")
MARGIN = 0.6


def _order(order_id, customer, time, amount, state="paid", is_test=False):
    return {"order_id": order_id, "customer_id": customer, "order_time": pd.Timestamp(time), "amount": Decimal(amount),
            "store_id": None, "region": None, "is_test": is_test, "is_refund": state == "refund", "state": state,
            "in_gmv": not is_test}


# C1 抖音·直播A: new in January, 150 within 30 days (the March order is outside the window)
# C2 抖音·直播A: new in February, 60 and a 10 refund
# C3 小红书·种草: new in January, 1 500
# C4 no first touch: new in January (organic), never attributed
# C5 微博·抽奖: a campaign nobody paid for, on a channel with spend
ORDERS = pd.DataFrame([
    _order("o1", "C1", "2026-01-05 10:00", "100.00"), _order("o2", "C1", "2026-01-20 10:00", "50.00"),
    _order("o3", "C1", "2026-03-01 10:00", "80.00"),
    _order("o4", "C2", "2026-02-10 10:00", "60.00"), _order("o4r", "C2", "2026-02-12 10:00", "-10.00", "refund"),
    _order("o5", "C3", "2026-01-15 10:00", "1500.00"),
    _order("o6", "C4", "2026-01-03 10:00", "200.00"),
    _order("o7", "C5", "2026-02-01 10:00", "30.00"),
    _order("t1", "C1", "2026-01-06 10:00", "999.00", "test", is_test=True),
])
CUSTOMERS = pd.DataFrame({
    "customer_id": ["C1", "C2", "C3", "C4", "C5"],
    "first_touch_channel": ["抖音", "抖音", "小红书", None, "微博"],
    "first_touch_campaign": ["直播A", "直播A", "种草", None, "抽奖"],
    "member_level": [None] * 5})
SPEND = pd.DataFrame({
    "channel": ["抖音", "抖音", "小红书", "微博", "分众"],
    "campaign": ["直播A", "直播A", "种草", "曝光", "电梯"],
    "unit": ["online", "online", "online", "online", "华东"],
    "month": ["2026-01", "2026年2月", "2026/01", "2026-02", "2026-01"],
    "amount": ["300", "¥200.00", "1,000", "500.00", "250"],
    "_row": [2, 3, 4, 5, 6]})


@pytest.fixture(scope="module")
def analysis():
    acquired = acquisitions(ORDERS, CUSTOMERS, window_days=30, cut=CUT)
    return spend_analysis(read_spend(SPEND, "raw/spend.csv"), acquired, review="2026-02", comparison="2026-01",
                          gross_margin=MARGIN, window_days=30), acquired


def _row(summary, scope, level, channel=None, campaign=None):
    rows = summary[(summary["scope"] == scope) & (summary["level"] == level)]
    if channel is not None:
        rows = rows[rows["channel"] == channel]
    if campaign is not None:
        rows = rows[rows["campaign"] == campaign]
    assert len(rows) == 1
    return rows.iloc[0]


def test_new_customers_are_new_in_the_month_of_their_first_paid_order(analysis):
    _, acquired = analysis
    by_id = acquired.set_index("customer_id")
    assert by_id.loc[["C1", "C2", "C3", "C4", "C5"], "month"].tolist() == [
        "2026-01", "2026-02", "2026-01", "2026-01", "2026-02"]
    # 30 days from the first order: C1's March order is outside, C2's refund inside; test orders never count
    assert by_id.loc[["C1", "C2", "C3"], "revenue_cents"].tolist() == [15000, 5000, 150000]
    assert pd.isna(by_id.loc["C4", "channel"])
    assert by_id.loc["C2", "window_open"] and not by_id.loc["C5", "window_open"]


def test_cac_roas_roi_per_campaign_equal_a_computation_by_hand(analysis):
    result, _ = analysis
    s = result.summary
    live = _row(s, "engagement", "campaign", "抖音", "直播A")
    spend, new, revenue = 300 + 200, 2, 150 + 50
    assert (live["spend"], live["new_customers"], live["revenue"]) == (spend, new, revenue)
    assert live["cac"] == pytest.approx(spend / new)
    assert live["roas"] == pytest.approx(revenue / spend)
    assert live["roi"] == pytest.approx((revenue * MARGIN - spend) / spend)
    assert live["effect"] == "below_break_even"
    seeding = _row(s, "engagement", "campaign", "小红书", "种草")
    assert seeding["roas"] == pytest.approx(1.5) and seeding["roi"] == pytest.approx((1500 * MARGIN - 1000) / 1000)
    assert seeding["effect"] == "effective"
    assert _row(s, "engagement", "campaign", "微博", "曝光")["effect"] == "no_return"
    organic = _row(s, "engagement", "campaign", "微博", "抽奖")
    assert (organic["spend"], organic["new_customers"], organic["effect"]) == (0, 1, "no_spend")
    assert pd.isna(organic["cac"]) and pd.isna(organic["roas"])


def test_spend_on_a_channel_nobody_came_from_is_reported_not_dropped(analysis):
    result, _ = analysis
    elevator = _row(result.summary, "engagement", "channel", "分众")
    assert (elevator["spend"], elevator["new_customers"], elevator["revenue"]) == (250, 0, 0)
    assert elevator["roas"] == 0 and elevator["roi"] == -1 and pd.isna(elevator["cac"])


def test_every_yuan_of_the_source_is_accounted_for(analysis):
    result, _ = analysis
    assert result.total_spend == Decimal("2250.00")
    assert result.table["spend"].sum() == pytest.approx(2250.00, abs=0.001)
    for scope in ("engagement",):
        assert _row(result.summary, scope, "total")["spend"] == pytest.approx(2250.00, abs=0.001)
        channels = result.summary[(result.summary["scope"] == scope) & (result.summary["level"] == "channel")]
        assert channels["spend"].sum() == pytest.approx(2250.00, abs=0.001)


def test_share_of_spend_with_no_measurable_effect(analysis):
    result, _ = analysis
    # no return: 微博·曝光 500 and 分众·电梯 250; below break-even: 抖音·直播A 500 (ROAS 0.4)
    assert result.no_effect_share() == pytest.approx((500 + 250 + 500) / 2250)
    assert result.no_effect_share(("no_return",)) == pytest.approx((500 + 250) / 2250)
    found = result.no_effect_campaigns()
    assert list(zip(found["channel"], found["campaign"])) == [("微博", "曝光"), ("抖音", "直播A"), ("分众", "电梯")]  # spend, then name


def test_marginal_return_is_the_change_of_revenue_over_the_change_of_spend(analysis):
    result, _ = analysis
    rows = result.table[(result.table["channel"] == "抖音") & (result.table["campaign"] == "直播A")].set_index("month")
    assert rows.loc["2026-01", "marginal_return"] == pytest.approx((150 - 0) / (300 - 0))
    assert rows.loc["2026-02", "marginal_return"] == pytest.approx((50 - 150) / (200 - 300))
    # the review month against the comparison month, per channel: 抖音 = 直播A (the campaign is the channel)
    assert _row(result.summary, "review", "channel", "抖音")["marginal_return"] == pytest.approx(1.0)
    # 小红书 spent nothing in February: -1 000 spend, -1 500 revenue
    assert _row(result.summary, "review", "channel", "小红书")["marginal_return"] == pytest.approx(1.5)


def test_tree_metrics_per_month(analysis):
    result, acquired = analysis
    metrics = spend_metrics(result, acquired).set_index(["metric", "period"])["value"]
    assert metrics[("marketing_spend", "2026-01")] == 1550
    assert metrics[("new_customers", "2026-01")] == 3  # C1, C3 and the organic C4
    assert metrics[("cac", "2026-01")] == pytest.approx(1550 / 2)  # paid first touch only: C1, C3
    assert metrics[("roas", "2026-01")] == pytest.approx((150 + 1500) / 1550)
    assert metrics[("cac", "2026-02")] == pytest.approx(700 / 2)  # C2, C5
    assert metrics[("roas", "2026-02")] == pytest.approx((50 + 30) / 700)


def test_channel_wide_spend_takes_the_campaigns_it_does_not_name():
    spend = read_spend(pd.DataFrame({"channel": ["抖音"], "campaign": [""], "month": ["2026-01"], "amount": ["100"],
                                     "_row": [2]}))
    acquired = acquisitions(ORDERS, CUSTOMERS, window_days=30, cut=CUT)
    result = spend_analysis(spend, acquired, review="2026-01", comparison="2025-12")
    row = _row(result.summary, "engagement", "campaign", "抖音", "")
    assert (row["spend"], row["new_customers"]) == (100, 1)  # C1 (C2 is new in February, after the spend data)


@pytest.mark.parametrize("column, value, field, words", [
    ("amount", "abc", "amount", "not a spend"),
    ("amount", "-5", "amount", "not a spend"),
    ("month", "13/2026", "month", "not a month"),
    ("channel", " ", "channel", "without a channel"),
])
def test_bad_spend_rows_name_file_row_and_field(column, value, field, words):
    bad = SPEND.copy()
    bad.loc[2, column] = value
    with pytest.raises(SourceError) as caught:
        read_spend(bad, "raw/marketing_spend.csv")
    error = caught.value
    assert (error.location, error.row, error.field) == ("raw/marketing_spend.csv", 4, field)
    assert words in error.problem and error.fix


def test_spend_kpis_in_the_tree_get_actuals_targets_and_status():
    names = {"name_zh": "x", "name_en": "x"}
    tree = parse_tree({"kpis": [
        {"id": "gmv", **names, "measure": "元", "source": {"metric": "gmv"}},
        {"id": "marketing_spend", **names, "measure": "元", "direction": "lower",
         "source": {"metric": "marketing_spend"}},
        {"id": "cac", **names, "measure": "元/人", "direction": "lower", "source": {"metric": "cac"}},
        {"id": "roas", **names, "measure": "倍", "source": {"metric": "roas"}}]}, "kpi_tree.yaml")
    targets = pd.DataFrame({"kpi_id": ["cac", "roas", "marketing_spend"], "unit": ["all"] * 3,
                            "period": ["2026-02"] * 3, "target": ["300", "0.5", "800"], "_row": [2, 3, 4]})
    review = build_review(tree, ORDERS, settings=KpiSettings(as_of="2026-03-05", review_period="2026-02",
                                                             gross_margin=MARGIN),
                          customers=CUSTOMERS, targets=targets, spend=SPEND)
    row = review.attainment[(review.attainment["unit"] == "all") & (review.attainment["period"] == "2026-02")]
    row = row.set_index("kpi")
    assert row.loc["cac", "actual"] == pytest.approx(350)
    assert row.loc["cac", "attainment"] == pytest.approx(300 / 350) and row.loc["cac", "status"] == "red"
    assert row.loc["roas", "attainment"] == pytest.approx((80 / 700) / 0.5)
    assert row.loc["marketing_spend", "actual_exact"] == Decimal("700.00")
    assert row.loc["marketing_spend", "attainment"] == pytest.approx(800 / 700)
    assert row.loc["marketing_spend", "status"] == "green"
    assert review.spend.figures()["spend_total"] == "2250.00"


def test_no_spend_source_leaves_the_review_without_spend():
    tree = parse_tree({"kpis": [{"id": "gmv", "name_zh": "x", "name_en": "x", "source": {"metric": "gmv"}}]}, "t")
    review = build_review(tree, ORDERS, settings=KpiSettings(as_of="2026-03-05"), customers=CUSTOMERS)
    assert review.spend is None
