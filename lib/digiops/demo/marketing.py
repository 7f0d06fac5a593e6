"""Marketing spend of the demo client (issue 23): ``raw/marketing_spend.csv`` and its truth ``truth/spend.csv``.

The spend follows the social leads already written (``raw/social_leads.csv``): each campaign the leads name is paid
per lead it brought, month by month, at a cost per lead of its own (:data:`CAMPAIGN_PLAN`), so CAC lands in the tens
of yuan for the campaigns that work and above a hundred for the one that does not pay (``明星同款``). Two lines of
spend bring nobody: a Weibo brand-exposure campaign (no lead names it) and elevator-screen ads (a channel no
customer comes from) — the report must find both. Targets for the spend KPIs (``marketing_spend`` = the plan,
``cac``, ``roas``) join the other targets in ``raw/kpi_targets.csv`` (``demo.business`` writes the files).

Truth: one row per raw row (channel, campaign, unit, month, the amount in yuan) with the cost per lead and the
intended effect (``effective``, ``below_break_even`` or ``no_return``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.dates import parse_dates
from digiops.demo.config import PERIOD_END, PERIOD_START

#: (channel, campaign) → (cost per lead in yuan, unit the spend is booked to, intended effect). A lead becomes a
#: buying customer about 5 times in 6 and brings ≈ 50 yuan in its first 30 days, so a cost per lead under ≈ 40 pays.
CAMPAIGN_PLAN: dict[tuple[str, str], tuple[float, str, str]] = {
    ("小红书", "夏日果茶种草"): (22.0, "online", "effective"),
    ("小红书", "新品试喝官"): (26.0, "online", "effective"),
    ("小红书", "秋冬奶茶笔记"): (20.0, "online", "effective"),
    ("抖音", "618直播间"): (28.0, "online", "effective"),
    ("抖音", "双11直播专场"): (30.0, "online", "effective"),
    ("抖音", "达人探店"): (24.0, "online", "effective"),
    ("微信公众号", "关注领券"): (12.0, "online", "effective"),
    ("微信公众号", "会员日推文"): (8.0, "online", "effective"),
    ("微信公众号", "新店开业"): (18.0, "S012", "effective"),
    ("微博", "话题抽奖"): (25.0, "online", "effective"),
    ("微博", "明星同款"): (95.0, "online", "below_break_even"),
}
#: spend that brings no lead: (channel, campaign, unit, yuan per month, first month, last month)
NO_RETURN_SPEND = (
    ("微博", "品牌曝光投放", "online", 6_000.0, "2026-03", "2026-10"),
    ("分众电梯屏", "写字楼电梯广告", "华东", 12_000.0, "2025-09", "2025-12"),
)
#: KPI targets of the spend KPIs (unit all, every month): CAC in yuan per new customer, ROAS
CAC_TARGET, ROAS_TARGET = 40.0, 1.5
COLUMNS = ["月份", "渠道", "活动名称", "门店/单元", "投放金额"]


def _months() -> list[str]:
    return [str(p) for p in pd.period_range(PERIOD_START, PERIOD_END, freq="M")]


def spend_plan(leads: pd.DataFrame) -> pd.DataFrame:
    """Planned spend per channel × campaign × month: leads of the month × cost per lead, and the fixed no-return
    lines (columns ``channel, campaign, unit, month, planned, cost_per_lead, intended_effect``). Leads captured
    before the period count in its first month."""
    months = _months()
    captured = parse_dates(leads["留资时间"].astype("str")).dt.strftime("%Y-%m")
    captured = captured.where(captured >= months[0], months[0])
    counts = pd.DataFrame({"channel": leads["来源渠道"].astype("str").str.strip(),
                           "campaign": leads["活动名称"].astype("str").str.strip(), "month": captured})
    counts = counts[counts["month"].isin(months)].value_counts().rename("leads").reset_index()
    rows = []
    for (channel, campaign), (cost, unit, effect) in CAMPAIGN_PLAN.items():
        mine = counts[(counts["channel"] == channel) & (counts["campaign"] == campaign)]
        for month, n in zip(mine["month"], mine["leads"], strict=True):
            rows.append({"channel": channel, "campaign": campaign, "unit": unit, "month": month,
                         "planned": n * cost, "cost_per_lead": cost, "intended_effect": effect})
    for channel, campaign, unit, amount, first, last in NO_RETURN_SPEND:
        for month in months:
            if first <= month <= last:
                rows.append({"channel": channel, "campaign": campaign, "unit": unit, "month": month,
                             "planned": amount, "cost_per_lead": np.nan, "intended_effect": "no_return"})
    return pd.DataFrame(rows).sort_values(["month", "channel", "campaign"], ignore_index=True)


def spend_frames(rng: np.random.Generator, leads: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The raw export (Chinese headers, amounts as a finance team writes them) and the truth (one row each)."""
    plan = spend_plan(leads)
    # invoices differ from the plan by a few percent; whole yuan
    amount = np.round(plan["planned"].to_numpy() * rng.lognormal(0.0, 0.08, len(plan)), 0)
    truth = plan.assign(amount=amount)
    shown = [f"{a:,.2f}" if rng.random() < 0.3 else f"{a:.2f}" for a in amount]  # some with thousands separators
    month = [m.replace("-", "/") if rng.random() < 0.1 else m for m in plan["month"]]
    raw = pd.DataFrame({"月份": month, "渠道": plan["channel"], "活动名称": plan["campaign"],
                        "门店/单元": plan["unit"], "投放金额": shown})
    truth_out = truth[["channel", "campaign", "unit", "month", "amount", "planned", "cost_per_lead",
                       "intended_effect"]].assign(amount=lambda f: f["amount"].map(lambda v: f"{v:.2f}"),
                                                  planned=lambda f: f["planned"].map(lambda v: f"{v:.2f}"))
    return raw[COLUMNS], truth_out


def spend_targets(truth: pd.DataFrame) -> pd.DataFrame:
    """Targets of the spend KPIs at unit ``all``: the planned spend per month, CAC and ROAS."""
    planned = truth.assign(planned=truth["planned"].astype(float)).groupby("month")["planned"].sum()
    months = list(planned.index)
    return pd.concat([
        pd.DataFrame({"指标": "marketing_spend", "单元": "all", "月份": months,
                      "目标值": [f"{v:.2f}" for v in planned.to_numpy()]}),
        pd.DataFrame({"指标": "cac", "单元": "all", "月份": months, "目标值": f"{CAC_TARGET:.2f}"}),
        pd.DataFrame({"指标": "roas", "单元": "all", "月份": months, "目标值": f"{ROAS_TARGET:.2f}"}),
    ], ignore_index=True)
