"""The action register (digiops.kpi.register): each trigger proposes the action a reader expects (owner, due date,
KPI, baseline, target), ids are stable, the cap and the order follow the documented rule, the XLSX is typed and
formula-safe, and the next review reads the proposals back as actions and measures their effect."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pandas as pd
import pytest
from openpyxl import load_workbook

from digiops.context import StageContext
from digiops.kpi import review as kpi_review
from digiops.kpi.register import NEXT_COLUMNS, action_log, propose, register_workbook, trigger_counts
from digiops.kpi.review import KpiReview, Periods
from digiops.kpi.tree import parse_tree
from digiops.settings.kpi import NextActionsSettings
from tests.kpi import kpi_fixtures as fx

NAMES = {"name_zh": "x", "name_en": "x"}
TREE = parse_tree({
    "strategic_goals": [{"id": "growth", "name_zh": "增长", "name_en": "Growth", "owner": "总经理"}],
    "kpis": [
        {"id": "gmv", "name_zh": "成交总额", "name_en": "GMV", "measure": "元", "owner": "销售副总裁", "goal": "growth",
         "combine": "product", "children": ["traffic", "conversion_rate", "aov"], "split_by": ["region"]},
        {"id": "traffic", "name_zh": "客流", "name_en": "Traffic", "measure": "人次", "owner": "市场总监"},
        {"id": "conversion_rate", "name_zh": "转化率", "name_en": "Conversion", "measure": "%",
         "owner": "零售运营总监"},
        {"id": "aov", "name_zh": "客单价", "name_en": "AOV", "measure": "元/单"},
        {"id": "repurchase_rate", "name_zh": "复购率", "name_en": "Repurchase", "measure": "%", "goal": "growth",
         "owner": "会员运营经理"}]}, "kpi_tree.yaml")
PERIODS = Periods(as_of=dt.date(2026, 10, 16), review="2026-09", comparison="2026-08", runrate="2026-10")
# GMV = traffic × conversion × AOV: 100 × 10 % × 100 = 1 000 in August, 80 × 10 % × 100 = 800 in September;
# East fell 600 → 350, South rose 400 → 450
ACTUALS = {("gmv", "all"): (1000.0, 800.0), ("gmv", "East"): (600.0, 350.0), ("gmv", "South"): (400.0, 450.0),
           ("traffic", "all"): (100.0, 80.0), ("conversion_rate", "all"): (0.1, 0.1), ("aov", "all"): (100.0, 100.0),
           ("repurchase_rate", "all"): (0.2, 0.15)}
HOSTILE = '=HYPERLINK("http://evil.example","click")'


def _review(actions: pd.DataFrame | None = None) -> KpiReview:
    actuals = pd.DataFrame([{"kpi": k, "level": "all" if u == "all" else "region", "unit": u, "period": p,
                             "actual": v, "actual_exact": None}
                            for (k, u), values in ACTUALS.items() for p, v in zip(("2026-08", "2026-09"), values)])
    attainment = pd.DataFrame([
        ("gmv", "all", "all", 800.0, 1000.0, 0.8, "red"), ("gmv", "region", "East", 350.0, 500.0, 0.7, "red"),
        ("gmv", "region", "South", 450.0, 450.0, 1.0, "green"), ("traffic", "all", "all", 80.0, 85.0, 80 / 85, "amber"),
        ("gmv", "all", "all", 1000.0, 900.0, 1000 / 900, "green")],
        columns=["kpi", "level", "unit", "actual", "target", "attainment", "status"])
    attainment["period"] = ["2026-09"] * 4 + ["2026-08"]
    variance = pd.DataFrame([
        ("factor", "traffic", 100.0, 80.0, -200.0), ("factor", "conversion_rate", 0.1, 0.1, 0.0),
        ("factor", "aov", 100.0, 100.0, 0.0), ("region", "East", 600.0, 350.0, -250.0),
        ("region", "South", 400.0, 450.0, 50.0)],
        columns=["breakdown", "item", "value_from", "value_to", "contribution"]).assign(
        kpi="gmv", unit="all", period_from="2026-08", period_to="2026-09", change=-200.0, effect=None, method="lmdi")
    funnel = pd.DataFrame([
        (p, "all", step, stage, rate) for p, rates in (("2026-08", (1.0, 0.30, 0.40, 0.15)),
                                                       ("2026-09", (1.0, 0.31, 0.30, 0.14)))
        for step, (stage, rate) in enumerate(zip(("visit", "add_to_cart", "order", "repurchase"), rates), start=1)],
        columns=["period", "channel", "step", "stage", "step_conversion"])
    targets = pd.DataFrame([("gmv", "all", "2026-10", 1100.0), ("gmv", "East", "2026-10", 550.0),
                            ("traffic", "all", "2026-10", 90.0), ("gmv", "all", "2026-09", 1000.0)],
                           columns=["kpi", "unit", "period", "target"])
    if actions is None:
        actions = pd.DataFrame([
            {"action_id": "A1", "action": "礼盒加购推荐上线", "owner": "电商产品经理 陈思远", "kpi": "aov",
             "due": "2026-09-30", "status": "进行中", "overdue": True},
            {"action_id": "A2", "action": "社群拉新", "owner": "李明", "kpi": "traffic", "due": "2026-10-10",
             "status": "未开始", "overdue": True},
            {"action_id": "A3", "action": "结算页改版", "owner": "陈思远", "kpi": "conversion_rate",
             "due": "2026-10-31", "status": "进行中", "overdue": False}])
    empty = pd.DataFrame()
    return KpiReview(tree=TREE, periods=PERIODS, units=empty, metrics=empty, actuals=actuals, targets=targets,
                     attainment=attainment, variance=variance, funnel=funnel, smart=empty, runrate=empty,
                     actions=actions)


SETTINGS = NextActionsSettings(unit_owners={"East": "华东大区经理 张伟"})


def test_each_trigger_proposes_its_action_with_owner_due_date_kpi_baseline_and_target():
    register = propose(_review(), SETTINGS).set_index("action_id")

    # red KPI at the whole business: GMV 80 % of target; owner the KPI's in the tree; baseline September's 800
    gmv = register.loc["N-2026-09-gmv-all"]
    assert (gmv["trigger"], gmv["kpi"], gmv["unit"], gmv["owner"], gmv["owner_source"]) == (
        "red_kpi", "gmv", "all", "销售副总裁", "kpi_tree")
    assert (gmv["baseline"], gmv["target"], gmv["target_period"], gmv["period"]) == (800.0, 1100.0, "2026-10", "2026-09")
    assert gmv["due"] == "2026-10-31" and gmv["status"] == "proposed" and gmv["created_at"] == "2026-10-16"
    assert "达成 80.0%" in gmv["action_zh"] and "80.0% of target" in gmv["action_en"]
    # East: red and the largest negative region step of the bridge, one action naming both; the region's owner
    east = register.loc["N-2026-09-gmv-East"]
    assert set(east["triggers"].split(",")) == {"red_kpi", "variance_region"}
    assert (east["owner"], east["owner_source"], east["baseline"], east["target"]) == (
        "华东大区经理 张伟", "unit_owners", 350.0, 550.0)
    assert "-¥250.00" in east["action_zh"] and "达成 70.0%" in east["action_zh"]
    # the factor that pulled GMV down: traffic (-200); conversion and AOV did not move, so propose nothing
    traffic = register.loc["N-2026-09-traffic-all"]
    assert (traffic["trigger"], traffic["owner"], traffic["baseline"], traffic["target"], traffic["trigger_value"]) == (
        "variance_factor", "市场总监", 80.0, 90.0, -200.0)
    assert "N-2026-09-aov-all" not in register.index
    # the funnel step that fell most against August: add_to_cart → order, 40 % → 30 %; it moves conversion
    funnel = register.loc["N-2026-09-conversion_rate-all"]
    assert (funnel["trigger"], funnel["owner"], funnel["baseline"]) == ("funnel_step", "零售运营总监", 0.1)
    assert funnel["trigger_value"] == pytest.approx(-0.10) and pd.isna(funnel["target"])
    assert "加购 → 下单" in funnel["action_zh"] and "30.0%" in funnel["action_zh"]
    # overdue actions carried over under their own ids and owners; the one not overdue is not
    a1, a2 = register.loc["A1"], register.loc["A2"]
    assert (a1["trigger"], a1["kpi"], a1["owner"], a1["owner_source"], a1["baseline"]) == (
        "overdue", "aov", "电商产品经理 陈思远", "action_log", 100.0)
    assert a1["trigger_value"] == 16 and a2["trigger_value"] == 6  # days overdue at 2026-10-16
    assert "A3" not in register.index
    assert list(propose(_review(), SETTINGS).columns) == NEXT_COLUMNS


def test_triggers_take_turns_each_most_important_first_and_the_cap_cuts_the_list():
    register = propose(_review(), SETTINGS)

    # round 1: red (GMV all), variance (East, also red), funnel, overdue (A1, 16 days); round 2: traffic, A2
    assert register["action_id"].tolist() == ["N-2026-09-gmv-all", "N-2026-09-gmv-East",
                                              "N-2026-09-conversion_rate-all", "A1", "N-2026-09-traffic-all", "A2"]
    assert register["priority"].tolist() == [1, 2, 3, 4, 5, 6]
    capped = propose(_review(), SETTINGS.model_copy(update={"max_actions": 3}))
    assert capped["action_id"].tolist() == register["action_id"].tolist()[:3]
    only_overdue = propose(_review(), SETTINGS.model_copy(update={"triggers": ["overdue"]}))
    assert only_overdue["action_id"].tolist() == ["A1", "A2"]
    assert trigger_counts(register) == {"red_kpi": 2, "variance_factor": 1, "variance_region": 1, "funnel_step": 1,
                                        "overdue": 2}


def test_ids_are_stable_and_settings_change_the_due_date_owner_and_funnel_reference():
    first, second = propose(_review(), SETTINGS), propose(_review(), SETTINGS)
    pd.testing.assert_frame_equal(first, second)

    later = propose(_review(), NextActionsSettings(due_days=14, funnel_benchmarks={"repurchase": 0.30}))
    assert set(later["due"]) == {"2026-10-30"}
    east = later.set_index("action_id").loc["N-2026-09-gmv-East"]
    assert (east["owner"], east["owner_source"]) == ("销售副总裁", "kpi_tree")  # no unit owner given: the KPI's
    # against a 30 % benchmark, repurchase (14 %) falls further than order (-10 pp vs August): it moves repurchase
    step = later[later["trigger"] == "funnel_step"].iloc[0]
    assert step["kpi"] == "repurchase_rate" and step["trigger_value"] == pytest.approx(-0.16)
    assert "基准" in step["action_zh"]


def test_the_workbook_is_typed_has_a_frozen_header_and_never_runs_a_formula():
    actions = _review().actions.assign(owner=[HOSTILE, "李明", "陈思远"])
    register = propose(_review(actions), SETTINGS)

    book = load_workbook(BytesIO(register_workbook(register, TREE, language="zh")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["行动编号", "优先级", "行动项", "负责人", "关联指标"]
    assert sheet.freeze_panes == "A2"
    rows = {row[0].value: {h: c for h, c in zip(header, row, strict=True)} for row in sheet.iter_rows(min_row=2)}
    gmv = rows["N-2026-09-gmv-all"]
    assert gmv["优先级"].value == 1 and gmv["基线值"].value == 800.0 and gmv["目标值"].value == 1100.0
    assert gmv["截止日期"].value == dt.datetime(2026, 10, 31) and gmv["截止日期"].is_date
    assert rows["N-2026-09-conversion_rate-all"]["基线值"].number_format == "0.00%"
    assert gmv["行动项"].value == register.loc[0, "action_zh"] and gmv["状态"].value == "提议"
    hostile = rows["A1"]["负责人"]
    assert (hostile.value, hostile.data_type, hostile.quotePrefix) == (HOSTILE, "s", True)
    assert len(rows) == len(register)


def test_the_next_review_reads_the_proposals_back_and_the_client_row_wins():
    register = propose(_review(), SETTINGS)
    client = pd.DataFrame([{"action_id": "N-2026-09-gmv-East", "action": "", "owner": "华东大区经理 张伟",
                            "kpi_id": "", "due": "", "status": "已完成", "created_at": "", "note": "提前完成"},
                           {"action_id": "B1", "action": "新行动", "owner": "王经理", "kpi_id": "gmv",
                            "due": "2026-11-30", "status": "进行中", "created_at": "2026-10-20", "note": ""}])

    log = action_log(client, register, TREE).set_index("action_id")

    assert set(register["action_id"]) | {"B1"} == set(log.index)
    east = log.loc["N-2026-09-gmv-East"]
    assert (east["origin"], east["status"], east["kpi_id"], east["unit"], east["baseline"]) == (
        "register_updated", "已完成", "gmv", "East", 350.0)
    proposal = register.set_index("action_id").loc["N-2026-09-gmv-East"]
    assert (east["action"], east["action_en"]) == (proposal["action_zh"], proposal["action_en"])  # filled
    gmv = log.loc["N-2026-09-gmv-all"]
    assert (gmv["origin"], gmv["status"], gmv["period_from"], gmv["baseline"]) == ("register", "proposed", "2026-09",
                                                                                   800.0)
    assert log.loc["B1", "origin"] == "action_log"
    # a proposal whose KPI left the tree is dropped, with a note
    notes: list[tuple[str, str]] = []
    gone = register.assign(kpi=["old_kpi"] + register["kpi"].tolist()[1:])
    assert "N-2026-09-gmv-all" not in set(action_log(None, gone, TREE, notes=notes)["action_id"])
    assert notes and "N-2026-09-gmv-all" in notes[0][1]


def _write_engagement(client, as_of: str) -> None:
    path = client / "engagement.yaml"
    text = path.read_text(encoding="utf-8").split("kpi:\n")[0]
    path.write_text(text + "kpi:\n  tree: kpi_tree.yaml\n  as_of: " + as_of + "\n  next_actions:\n"
                    "    unit_owners: {华东: 华东大区经理 张伟, 华南: 华南大区经理 梁晓东}\n", encoding="utf-8")


def test_two_consecutive_runs_the_second_measures_the_first_runs_proposals(tmp_path):
    # Arrange: the fixture client reviewed in mid-March (February), then in mid-April (March)
    first_run, second_run = tmp_path / "run1", tmp_path / "run2"
    engagement = fx.write_client(tmp_path / "client", first_run)
    fx.write_client(tmp_path / "client", second_run)
    _write_engagement(tmp_path / "client", "2026-03-16")
    first = kpi_review.run(StageContext.open("kpi", engagement_path=str(engagement), run_dir=str(first_run)))
    _write_engagement(tmp_path / "client", "2026-04-16")
    # Act
    second = kpi_review.run(StageContext.open("kpi", engagement_path=str(engagement), run_dir=str(second_run),
                                              previous_run_dir=str(first_run)))
    # Assert: the first run wrote its register (Parquet and XLSX) and recorded how many
    outputs = first_run / "outputs" / "kpi"
    written = pd.read_parquet(outputs / "actions_next.parquet")
    assert len(written) > 0 and written["action_id"].tolist() == first.actions_next["action_id"].tolist()
    assert load_workbook(outputs / "actions_next.xlsx").active.max_row == len(written) + 1
    assert StageContext.open("kpi", engagement_path=str(engagement), run_dir=str(first_run)).folder.metrics(
        "kpi")["next_actions"] == len(written)
    # the second review's action log holds every proposal, each measured from its stored baseline
    log = second.actions.set_index("action_id")
    proposed = written[~written["action_id"].isin(fx.action_rows()["action_id"])]
    assert len(proposed) > 0
    actual = second.actuals.set_index(["kpi", "unit", "period"])["actual"]
    for row in proposed.itertuples(index=False):
        action = log.loc[row.action_id]
        assert (action["origin"], action["status"], action["unit"]) == ("register", "proposed", row.unit)
        assert (action["period_from"], action["period_to"]) == ("2026-02", "2026-03")
        assert action["value_from"] == row.baseline
        assert action["value_to"] == pytest.approx(actual[(row.kpi, row.unit, "2026-03")])
        assert action["change"] == pytest.approx(action["value_to"] - row.baseline)
    # the client's own actions are still there, marked as theirs; one the first review carried over as overdue
    # (A2) is in both, and the client's row wins
    carried = set(written.loc[written["trigger"] == "overdue", "action_id"])
    assert carried == {"A2"}
    assert log.loc["A1", "origin"] == "action_log"
    assert (log.loc["A2", "origin"], log.loc["A2", "status"]) == ("register_updated", "in_progress")
    # carry off: the proposals are not read back
    settings = StageContext.open("kpi", engagement_path=str(engagement)).settings
    off = kpi_review.build_review(second.tree, fx.orders_frame(), stores=fx.stores_frame(), actions=fx.action_rows(),
                                  settings=settings.model_copy(update={"next_actions": NextActionsSettings(carry=False)}),
                                  previous_actions=written)
    assert set(off.actions["action_id"]) == {"A1", "A2"} and set(off.actions["origin"]) == {"action_log"}


def test_the_review_shows_the_register_initiatives_beside_the_kpis_they_should_move():
    """Issue 23: the KPI review reports initiative progress (the register is the maturity stage's source)."""
    from digiops.kpi import report
    from digiops.maturity import initiatives

    register = initiatives.register_from_frame(pd.DataFrame({
        "initiative_id": ["DI-01", "DI-01", "BO-01", "XX-09"],
        "owner": ["经营分析经理 陈静", None, "电商产品经理 陈思远", "数据负责人 李明"],
        "milestone": ["看板上线", "大区下钻", "门店自提试点", "无关举措"],
        "due": ["2026-08-31", "2026-11-30", "2026-09-15", "2026-12-31"],
        "status": ["已完成", "进行中", "进行中", "未开始"], "budget": ["100000", "50000", "80000", "1"],
        "spent": ["90000", "10000", "20000", "0"], "kpi_id": ["gmv", "gmv", "conversion_rate", "not_in_tree"],
        "decision": [None, None, None, None]}), "initiatives.csv")
    review = _review()
    attainment = review.attainment.assign(reviewed=review.attainment["period"].eq("2026-09"))
    review.initiatives = initiatives.join(pd.DataFrame(columns=["initiative_id"]), register, dt.date(2026, 10, 16),
                                          {"DI-01": {"name_zh": "经营实时看板", "name_en": "Live dashboard"}},
                                          attainment)

    zh, en = report.initiative_progress_table(review, "zh"), report.initiative_progress_table(review, "en")

    assert zh["举措"].tolist() == ["DI-01 经营实时看板", "BO-01"]  # tree order; the KPI outside the tree left out
    assert zh["指标 · 复盘月达成"].tolist()[0] == "成交总额 · 80.0% ■ 未达成"
    assert en["Milestones (done / all)"].tolist() == ["1 / 2", "0 / 1"]
    assert en["Overdue"].tolist() == ["–", "门店自提试点 (2026-09-15)"]  # due before as_of and not done
    assert en["Progress"].tolist() == ["on track", "late"]
    assert en["Owner"].tolist() == ["经营分析经理 陈**", "电商产品经理 陈**"]
    assert report.initiative_progress_table(_review(), "en").empty  # no register: nothing to show
