"""The dashboard's views as pure functions: the run's tables in, what a client reads out (figures, names, colours),
in zh and en, escaped, masked, and never ``nan`` or ``None``."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from digiops.dashboard import kpi_views, views
from digiops.text import STATUS_COLOURS
from tests.summary.summary_fixtures import (CHANNEL, PHONE, actions_frame, attainment_frame, budget_frame, kpi_names,
                                            roadmap_frame, runrate_frame, tree_frame, variance_frame)

NAMES = kpi_names()
SHOWN_MISSING = re.compile(r"\bnan\b|\bNaN\b|\bNone\b|&lt;NA&gt;|\{'")


def text_of(html: str) -> str:
    """What a reader sees of an HTML fragment: the text between the tags."""
    return re.sub(r"<[^>]+>", " ", html)


def test_kpi_view_follows_unit_and_period():
    attainment = attainment_frame()

    company = kpi_views.kpi_view(attainment, "all", "2026-03")
    region = kpi_views.kpi_view(attainment, "华东", "2026-03")
    earlier = kpi_views.kpi_view(attainment, "all", "2026-02")

    assert company.set_index("kpi").loc["gmv", "actual"] == pytest.approx(1_100_000)
    assert region.set_index("kpi").loc["gmv", "actual"] == pytest.approx(550_000)
    assert earlier.set_index("kpi").loc["gmv", "actual"] == pytest.approx(1_000_000)
    assert [u for u, _ in kpi_views.units(attainment)][:3] == ["all", "华东", "华南"]
    assert kpi_views.review_period(attainment) == "2026-03"
    assert kpi_views.kpi_view(attainment, "all", "2026-03", ["traffic", "gmv"])["kpi"].tolist()[:2] == ["traffic",
                                                                                                      "gmv"]


def test_the_tree_nests_each_node_under_every_parent_coloured_by_its_status():
    # Arrange: traffic is a child of GMV and of conversion (a ratio of orders and traffic)
    tree = pd.DataFrame({"kpi": ["gmv", "traffic", "conversion", "traffic", "orders"],
                         "parent": [None, "gmv", "gmv", "conversion", "conversion"], "position": [0, 0, 1, 1, 0],
                         "combine": ["product", None, "ratio", None, None], "measure": ["元", "人次", "%", "人次", "单"]})
    attainment = attainment_frame()
    # Act
    html = kpi_views.tree_html(kpi_views.tree_view(tree, attainment, "华东", "2026-03"), NAMES, "en")
    # Assert: GMV at 华东 in March, 550,000 of 550,000: met, green; orders has no figures there
    gmv = re.search(r"<div class='dg-node' data-node='gmv'[^>]*>", html).group(0)
    assert "data-status='green'" in gmv and STATUS_COLOURS["green"] in gmv
    assert "550,000 / 550,000 · 100.0% · met" in text_of(html)
    assert html.count("data-node='traffic'") == 2
    conversion = html[html.index("data-node='conversion'"):]
    assert conversion.index("data-node='orders'") < conversion.index("data-node='traffic'")  # by position
    assert "= Traffic × Conversion" in text_of(html) and "= orders ÷ Traffic" in text_of(html)
    assert "no figures for this unit and month" in text_of(html)  # orders: not in attainment_frame
    assert "客流" in kpi_views.tree_html(kpi_views.tree_view(tree, attainment, "all", "2026-03"), NAMES, "zh")


def test_the_trend_shows_every_month_of_the_kpi_at_the_unit():
    attainment = attainment_frame()

    trend = kpi_views.kpi_trend(attainment, "gmv", "华东")
    html = kpi_views.trend_html(trend, "gmv", NAMES, "en", "2026-03")

    assert trend["period"].tolist() == ["2026-02", "2026-03"]
    assert trend["actual"].tolist() == pytest.approx([500_000, 550_000])
    assert "<svg" in html and html.count("<circle") == 2
    rows = re.findall(r"<tr( class='dg-current')?><td>(2026-0\d)</td><td>([\d,]+)</td>", html)
    assert rows == [("", "2026-02", "500,000"), (" class='dg-current'", "2026-03", "550,000")]
    assert "No figures for this KPI" in kpi_views.trend_html(kpi_views.kpi_trend(attainment, "gmv", "S99"), "gmv",
                                                             NAMES, "en")


def test_the_bridge_runs_from_last_month_through_each_contribution_to_this_month():
    # Arrange: GMV 1,000,000 → 1,100,000 by factor (+70,000 −20,000 +50,000) and by region (华东 +60,000)
    variance, attainment = variance_frame(), attainment_frame()
    # Act
    found = kpi_views.bridges(variance, attainment, "gmv", "all")
    html = kpi_views.bridges_html(found, NAMES, "en")
    # Assert
    factor = found[0]
    assert [b.breakdown for b in found] == ["factor", "region"]
    assert (factor.start, factor.end) == pytest.approx((1_000_000, 1_100_000))
    assert factor.steps["item"].tolist() == ["traffic", "aov", "conversion"]  # largest first
    assert factor.start + factor.steps["contribution"].sum() == pytest.approx(factor.end)
    assert "2026-02 → 2026-03 · by factor" in html and "+70,000" in html and "−20,000" in html
    assert "Traffic" in text_of(html) and "70.0%" in text_of(html)  # 70,000 of the 100,000 change


def test_a_bridge_of_many_units_sums_the_smallest_as_others():
    rows = [{"kpi": "gmv", "period_from": "2026-02", "period_to": "2026-03", "unit": "all", "breakdown": "store",
             "item": f"S{i:02d}", "effect": None, "value_from": 10.0, "value_to": 10.0 + i, "contribution": float(i),
             "change": 55.0, "method": "sum"} for i in range(1, 11)]

    bridge = kpi_views.bridges(pd.DataFrame(rows), attainment_frame(), "gmv", "all", top=3)[0]
    html = kpi_views.bridge_html(bridge, NAMES, "zh")

    assert bridge.steps["item"].tolist()[:3] == ["S10", "S09", "S08"]
    assert bridge.steps["contribution"].sum() == pytest.approx(55.0)
    assert "其他 7 项" in html and "+28" in html  # 1 + … + 7


def test_a_rate_moves_in_percentage_points():
    rows = pd.DataFrame([{"kpi": "conversion", "period_from": "2026-02", "period_to": "2026-03", "unit": "all",
                          "breakdown": "region_mix", "item": "华东", "effect": "inner", "value_from": 0.03,
                          "value_to": 0.032, "contribution": 0.0012, "change": 0.0012, "method": "ratio"}])

    html = kpi_views.bridges_html(kpi_views.bridges(rows, attainment_frame(), "conversion", "all"), NAMES, "en")

    assert "+0.12 pp" in html and "华东 · within" in html and "3.0% → 3.2%" in html


def test_runrate_sets_the_projection_against_the_target_and_flags_a_daily_rate_behind():
    view = kpi_views.runrate_view(runrate_frame(), "all", ["traffic", "gmv"])

    html = kpi_views.runrate_html(view, NAMES, "en", "gmv")

    assert view["kpi"].tolist() == ["traffic", "gmv"]
    gmv = html[html.index("<td>GMV</td>"):]
    cells = re.findall(r"<td>(.*?)</td>", gmv)[:7]
    assert cells[:6] == ["GMV", "560,000", "1,120,000", "1,200,000", "93.3%", "37,333"]
    assert "dg-behind" in cells[6] and "42,667" in cells[6]  # needed 42,667 a day, making 37,333
    assert "15 days before 2026-04-16, 15 days left" in html
    region = kpi_views.runrate_html(kpi_views.runrate_view(runrate_frame(), "华东", []), NAMES, "zh")
    assert "dg-behind" not in region and "109.1%" in region  # ahead: no flag
    assert "只测算可加总的指标" in kpi_views.runrate_html(kpi_views.runrate_view(runrate_frame(), "S01", []), NAMES, "zh")


def test_the_funnel_follows_month_and_channel():
    from tests.summary.summary_fixtures import funnel_frame

    funnel = funnel_frame()

    view = kpi_views.funnel_view(funnel, "2026-03", "小程序")
    html = kpi_views.funnel_html(view, "en")

    assert kpi_views.funnel_channels(funnel) == ["all", CHANNEL, "小程序"]
    assert view["visitors"].tolist() == [600, 180, 90]
    assert re.search(r"<td>2</td><td>add to cart</td><td>180</td><td>30.0%</td><td>30.0%</td><td>420</td>", html)
    assert "→ 50.0% · overall 15.0%" in html and html.count("<rect") == 3
    assert kpi_views.channel_name("all", "zh") == "全部渠道" and kpi_views.channel_name(CHANNEL, "en") == CHANNEL


def test_the_action_log_flags_overdue_actions_masks_people_and_shows_what_the_kpi_did():
    html = kpi_views.actions_html(actions_frame(), NAMES, "zh")

    assert "共 2 项行动，1 项逾期" in html
    overdue = re.findall(r"<tr class='dg-late'>(.*?)</tr>", html)
    assert len(overdue) == 1 and "A2" in overdue[0] and "逾期" in overdue[0]
    assert "华东大区经理 张**" in html and "张伟" not in html and "李**" in html and "李明" not in html
    assert PHONE[3:] not in html and "138****5678" in html
    assert "2026-02 → 2026-03: 1,000,000 → 1,100,000 <b>✓</b>" in html
    assert "2025-12 → 2026-03: – → 55,000" in html  # no figure in the month it was agreed
    assert "本次复盘没有行动记录" in kpi_views.actions_html(actions_frame().iloc[0:0], NAMES, "zh")


def test_the_roadmap_lists_each_phase_with_its_initiatives_and_budget():
    zh = views.roadmap_html(roadmap_frame(), budget_frame(), "zh")
    en = views.roadmap_html(roadmap_frame(), budget_frame(), "en")

    assert "试点期 · 第1–6 月" in zh and "统一客户主数据" in zh and "数据资产化" in zh
    assert "Pilot · months 1–6" in en and "DA-1 Unified customer master data" in en
    assert re.search(r"<th colspan='2'>Scale-up · months 7–18</th><th>700,000</th>", en)
    assert re.search(r"<td>Pilot</td><td>180,000</td><td>60,000</td><td>60,000</td>", en)  # 60 / 20 / 20 %
    shares = views.roadmap_html(roadmap_frame().assign(budget=np.nan), None, "en")  # no total budget set
    assert "Budget share" in shares and "30.0%" in shares and "Budget by category" not in shares


@pytest.mark.parametrize("language", ["zh", "en"])
def test_missing_figures_read_as_a_dash_never_nan_or_none(language):
    # Arrange: every figure of every table missing (NaN, None, pd.NA)
    attainment = attainment_frame().assign(actual=np.nan, target=None, attainment=pd.NA, status=None)
    variance = variance_frame().assign(value_from=np.nan, value_to=None)
    runrate = runrate_frame().assign(target=np.nan, required_daily=np.nan, projection=None)
    actions = actions_frame().assign(owner=None, due=None, action=None, status=np.nan, period_from=None)
    roadmap = roadmap_frame().assign(months=None, budget=np.nan, budget_share=np.nan)
    # Act
    shown = [kpi_views.kpi_html(kpi_views.kpi_view(attainment, "all", "2026-03"), NAMES, language),
             kpi_views.tree_html(kpi_views.tree_view(tree_frame(), attainment, "all", "2026-03"), NAMES, language),
             kpi_views.trend_html(kpi_views.kpi_trend(attainment, "gmv", "all"), "gmv", NAMES, language, "2026-03"),
             kpi_views.bridges_html(kpi_views.bridges(variance, attainment, "gmv", "all"), NAMES, language),
             kpi_views.runrate_html(kpi_views.runrate_view(runrate, "all", []), NAMES, language),
             kpi_views.actions_html(actions, NAMES, language), views.roadmap_html(roadmap, budget_frame(), language),
             views.sample_html(pd.DataFrame({"customer_id": ["C1"], "monetary": [np.nan], "email": [pd.NA]}),
                               language)]
    # Assert
    for html in shown:
        assert not SHOWN_MISSING.search(html), SHOWN_MISSING.search(html)
        assert "–" in html or "no figures" in html or "无数据" in html


def test_the_customer_sample_names_its_columns_and_masks_people():
    from tests.summary.summary_fixtures import customers_frame, tags_frame

    sample = views.customer_sample(tags_frame(), customers_frame(), "champions")

    html = views.sample_html(sample, "en")

    assert "<th>Customer</th><th>Value</th><th>Name</th><th>Phone</th>" in html
    assert "138****5678" in html and PHONE not in html and "张三丰" not in html and "700" in html


def test_customers_without_a_segment_in_one_run_are_named_in_the_migration():
    migration = pd.DataFrame({"previous": ["(none)", "loyal"], "(none)": [0, 2], "loyal": [3, 5]})

    html = views.migration_html(migration, {"loyal": ("忠诚客户", "Loyal")}, "en")

    assert "no segment, or not in that run" in html and "(none)" not in html
