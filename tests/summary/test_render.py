"""The executive summary's words: codes a computation returns (KPI ids, field names, quarantine reasons, run ids)
read as words in the page's language, and the page carries one heading of its own level."""

from __future__ import annotations

from pathlib import Path

from digiops.summary import collect, section_html
from digiops.summary.collect import DataFacts, Finding
from digiops.summary.render import data_html
from tests.summary.summary_fixtures import make_run


def test_the_main_driver_is_named_by_its_kpi_name_not_its_id(tmp_path):
    summary = collect(make_run(tmp_path))

    zh = "".join(body for _, body in section_html(summary, "zh"))
    en = "".join(body for _, body in section_html(summary, "en"))

    assert "主要驱动因素：客流" in zh and "traffic（" not in zh
    assert "Main driver of the change in GMV: Traffic" in en


def test_weakest_fields_and_quarantine_reasons_read_in_the_page_language(tmp_path):
    summary = collect(make_run(tmp_path))
    summary.data = DataFacts(records=10, customers=5, quarantined=2,
                             worst=[Finding("crm", "birth_date", "completeness", 0.5)],
                             quarantine_reasons=[("exact duplicate", 2)])

    zh, en = data_html(summary, "zh"), data_html(summary, "en")

    assert "crm · 出生日期：完整性" in zh and "exact duplicate" not in zh and "完全重复的行：2" in zh
    assert "crm · birth date: Completeness" in en and "exact duplicate: 2" in en


def test_the_page_prints_no_heading_of_its_own_above_the_report_title(tmp_path):
    cells = (Path(__file__).parents[2] / "tools" / "notebooks" / "05_summary.py").read_text(encoding="utf-8")
    summary = collect(make_run(tmp_path))

    assert "<h1" not in cells and all("<h1" not in body for _, body in section_html(summary, "zh"))


def test_evidence_plays_and_the_cascade_reach_the_summary_with_their_figures(tmp_path):
    """Issue 23: the maturity stage's evidence beside opinion, the labels stage's largest play and the kpi stage's
    target cascade each read as one sentence, from the stages' own tables."""
    import pandas as pd

    run = make_run(tmp_path)
    pd.DataFrame({"dimension": ["data_assetization", "business_online"], "name_zh": ["数据资产化", "业务在线化"],
                  "name_en": ["Data assetization", "Business online"], "questionnaire_level": [2.6, 3.2],
                  "evidence_level": [3.8, 3.0], "disagreement": [True, False]}).to_parquet(
        run / "outputs" / "maturity" / "evidence.parquet")
    pd.DataFrame({"segment": ["at_risk", "champions"], "play": ["win_back", "retain"], "customers": [181, 900],
                  "expected_value": [411.1, 16431.0], "channel_zh": ["短信", "企业微信"],
                  "channel_en": ["SMS", "WeCom"]}).to_parquet(run / "outputs" / "labels" / "plays.parquet")
    pd.DataFrame({"source": ["given", "derived", "derived", "derived"], "rule": [None, "history", "history", "equal"],
                  "coherent": pd.array([True, pd.NA, False, pd.NA], dtype="boolean")}).to_parquet(
        run / "outputs" / "kpi" / "cascade.parquet")

    summary = collect(run)
    zh = "".join(body for _, body in section_html(summary, "zh"))
    en = "".join(body for _, body in section_html(summary, "en"))

    assert [d.dimension for d in summary.maturity.disagreements] == ["data_assetization"]
    assert "“数据资产化”为 3.8 级，问卷评分为 2.6 级" in zh and "Data assetization at level 3.8" in en
    assert summary.labels.plays[0].segment == "champions"
    assert "WeCom" in en and "16,431" in en and "16,842" in en  # the largest play, then all plays together
    assert "目标拆解：3 个目标" in zh and "1 of 2 coherence checks between levels fail" in en


def _write_metrics(run: Path, stage: str, **figures) -> None:
    import json

    path = run / "outputs" / stage / "metrics.json"
    recorded = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.write_text(json.dumps({**recorded, **figures}, ensure_ascii=False), encoding="utf-8")


def _issue23_run(tmp_path: Path) -> Path:
    """A run whose stages wrote the second parts of issue 23: progress between assessments, the initiative
    register's decisions, the proposed actions, spend and behaviour."""
    import pandas as pd

    run = make_run(tmp_path)
    maturity, kpi = run / "outputs" / "maturity", run / "outputs" / "kpi"
    rows = [("company", None, "data_assetization", "数据资产化", "Data assetization", 2.1, 2.6),
            ("company", None, "business_online", "业务在线化", "Business online", 3.5, 3.2),
            ("company", None, "overall", "总体", "Overall", 2.5, 2.7),
            ("department", "信息技术部", "overall", "总体", "Overall", 2.9, 3.4),
            ("department", "门店管理部", "overall", "总体", "Overall", 2.2, 2.1),
            ("department", "市场部", "overall", "总体", "Overall", 2.6, 2.7)]
    pd.DataFrame(rows, columns=["scope", "department", "dimension", "name_zh", "name_en", "level_previous",
                                "level_latest"]).assign(wave_previous="2025-09", wave_latest="2026-09").to_parquet(
        maturity / "progress.parquet")
    pd.DataFrame({"initiative_id": ["DA-02", "DA-01", "PD-01"], "name_zh": ["数据中台", "统一客户 ID", "订单履约自动化"],
                  "name_en": ["Data platform", "One customer ID", "Fulfilment automation"],
                  "kind": ["decision", "over_budget", "no_owner"],
                  "owner": ["信息技术部总监 刘洋", "数据中心负责人 王磊", None], "due": ["2026-10-31", "2026-08-31", None],
                  "milestone": [None, None, None], "amount": [None, 65000.0, None],
                  "text": ["自建还是采购 SaaS", None, None]}).to_parquet(maturity / "decisions.parquet")
    _write_metrics(run, "maturity", initiative_register=True, initiatives_late=3, initiatives_at_risk=0,
                   initiatives_on_track=3, initiatives_over_budget=1, milestones_overdue=3,
                   initiative_budget_approved=1420000.0, initiative_spent=932000.0)
    pd.DataFrame({"action_id": ["N-gmv-online", "A07", "N-traffic-all"], "priority": [2, 3, 1],
                  "trigger": ["variance_region", "overdue", "variance_factor"],
                  "triggers": ["variance_region,red_kpi", "overdue", "variance_factor"],
                  "kpi": ["gmv", "conversion_rate", "traffic"],
                  "action_zh": ["线上成交总额下滑", "直播复盘逾期", "客流拖累成交总额"],
                  "action_en": ["Online GMV fell", "Live-stream review overdue", "Traffic pulled GMV down"],
                  "owner": ["电商运营 刘佳", "市场经理 周子轩", "市场总监"],
                  "owner_source": ["unit_owners", "action_log", "kpi_tree"],
                  "due": ["2026-10-31"] * 3}).to_parquet(kpi / "actions_next.parquet")
    _write_metrics(run, "kpi", spend_total="223187.00", spend_engagement_new_customers=4144.0,
                   spend_engagement_cac=53.86, spend_engagement_roas=1.0706, spend_engagement_roi=-0.36,
                   spend_no_effect_share=0.508, spend_no_effect_campaigns=["分众电梯屏·写字楼电梯广告", "微博·品牌曝光投放"],
                   spend_best_channel="微信公众号", spend_best_channel_roas=3.517)
    _write_metrics(run, "labels", events=28972, events_linked=11491, event_customers=3595, cart_abandoners=913,
                   browse_never_buy=310)
    return run


def test_progress_decisions_actions_spend_and_behaviour_reach_the_summary(tmp_path):
    """Issue 23, second part: each reads as the stage's own figures, personal names masked, roles shown."""
    summary = collect(_issue23_run(tmp_path))
    zh = "".join(body for _, body in section_html(summary, "zh"))
    en = "".join(body for _, body in section_html(summary, "en"))

    progress = summary.maturity.progress
    assert (progress.previous_wave, progress.overall.change) == ("2025-09", 0.2)
    assert [d.key for d in progress.departments] == ["信息技术部", "市场部", "门店管理部"]  # largest change first
    assert "问卷总体等级从 2.5 变为 2.7（+0.2）" in zh and "down: Business online -0.3" in en
    assert "进步最大的部门是信息技术部（+0.5），最小的是门店管理部（-0.1）" in zh

    assert [d.owner for d in summary.initiatives.decisions] == ["信息技术部总监 刘**", "数据中心负责人 王**", None]
    assert "刘洋" not in zh and "王磊" not in en and "周子轩" not in zh and "刘佳" not in en
    assert "3 on track, 0 at risk, 3 late, 1 over budget" in en and "932,000 spent of 1,420,000 approved" in en
    assert "自建还是采购 SaaS" in zh and "65,000 over" in en and "（待指定）" in zh

    assert [a.action_id for a in summary.kpi.next_actions] == ["N-traffic-all", "N-gmv-online", "A07"]
    assert [a.owner for a in summary.kpi.next_actions] == ["市场总监", "电商运营 刘**", "市场经理 周**"]
    # the merged action counts under both its findings, as the KPI report counts them
    assert "3 actions for the next cycle (red KPI 1, variance driver (factor) 1, variance driver (region) 1, " \
           "overdue, carried over 1)" in en

    assert "全期营销投放 ¥223,187" in zh and "CAC of ¥54 and a ROAS of 1.07" in en and "50.8% of it" in en
    assert "微信公众号（ROAS 3.52）" in zh
    assert "39.7% of the visit and cart events are linked to 3,595 customers; 913 of them" in en


def test_without_a_register_the_committee_section_says_what_to_record(tmp_path):
    summary = collect(make_run(tmp_path))
    assert summary.initiatives is None and summary.kpi.next_actions is None and summary.kpi.spend is None
    body = dict(section_html(summary, "en"))["Initiatives and the committee's decisions"]
    assert "No initiative register" in body


def test_the_deck_asks_the_committee_for_the_register_decisions_and_the_proposed_actions(tmp_path):
    from digiops.deliver.deck import decisions

    asked = decisions(collect(_issue23_run(tmp_path)), "en")

    assert any(item == "Decide on 'Data platform': 自建还是采购 SaaS" for item in asked)
    assert any("'One customer ID' is 65,000 over its approved budget" in item for item in asked)
    assert any(item == "Name an owner for 1 initiative" for item in asked)
    assert asked[-1].startswith("Approve the 3 actions proposed for the next cycle")
