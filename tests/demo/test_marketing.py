"""The demo client's marketing spend (digiops.demo.marketing): the raw export holds exactly the truth's spend, it
follows the social leads' channels and campaigns at realistic costs, and the planted spend without effect is there
for the KPI review to find."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from digiops.demo.marketing import CAMPAIGN_PLAN, NO_RETURN_SPEND
from digiops.kpi.spend import read_spend


def _canonical(raw) -> pd.DataFrame:
    frame = raw("marketing_spend").rename(columns={"月份": "month", "渠道": "channel", "活动名称": "campaign",
                                                  "门店/单元": "unit", "投放金额": "amount"})
    return read_spend(frame, "raw/marketing_spend.csv")


def test_raw_spend_equals_the_truth_to_the_cent(raw, truth):
    spend = _canonical(raw)
    true = truth("spend")
    assert len(spend) == len(true)
    assert int(spend["cents"].sum()) == sum(int(Decimal(a) * 100) for a in true["amount"])
    keys = ["channel", "campaign", "month"]
    raw_by = spend.groupby(keys)["cents"].sum()
    true_by = true.assign(cents=[int(Decimal(a) * 100) for a in true["amount"]]).groupby(keys)["cents"].sum()
    pd.testing.assert_series_equal(raw_by.sort_index(), true_by.sort_index(), check_dtype=False)


def test_spend_follows_the_leads_channels_and_campaigns(raw, truth):
    leads = raw("social_leads")
    lead_pairs = set(zip(leads["来源渠道"].str.strip(), leads["活动名称"].str.strip()))
    spend = _canonical(raw)
    paid = set(zip(spend["channel"], spend["campaign"]))
    assert lead_pairs <= paid  # every campaign that brought leads was paid for
    planted = {(c, k) for c, k, *_ in NO_RETURN_SPEND}
    assert planted <= paid and not planted & lead_pairs  # spend that no lead names: the review must find it
    effects = truth("spend").drop_duplicates(["channel", "campaign"]).set_index(["channel", "campaign"])
    assert effects.loc[("微博", "明星同款"), "intended_effect"] == "below_break_even"
    assert {effects.loc[p, "intended_effect"] for p in planted} == {"no_return"}


def test_cost_per_lead_is_realistic_and_the_months_are_the_engagement(raw, truth):
    true = truth("spend")
    assert set(true["month"]) <= {str(p) for p in pd.period_range("2025-05", "2026-10", freq="M")}
    costs = [cost for cost, *_ in CAMPAIGN_PLAN.values()]
    assert 5 <= min(costs) and max(costs) <= 300  # yuan per lead: tens, a few at the top
    per_month = true.assign(amount=true["amount"].astype(float)).groupby("month")["amount"].sum()
    assert (per_month > 0).all()
