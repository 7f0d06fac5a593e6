"""Business inputs: questionnaire, indicators, value stream, KPI targets against the generated actuals, traffic,
funnel and action log."""

from __future__ import annotations

import numpy as np
import pandas as pd


def test_questionnaire_has_25_respondents_5_departments_24_questions(raw):
    answers = raw("maturity_answers")
    assert answers["答卷编号"].nunique() == 25 and answers["部门"].nunique() == 5
    ids = sorted(answers["题号"].unique())
    assert ids == sorted(f"{p}{i}" for p in ("PD", "DA", "BO", "DI") for i in range(1, 7))
    assert {"N/A", "不适用"} <= set(answers["答案"])
    assert set(answers["答案"]) - {"N/A", "不适用"} <= {"1", "2", "3", "4", "5"}


def test_data_assetization_divides_the_departments(raw):
    answers = raw("maturity_answers")
    answers = answers[answers["答案"].str.fullmatch(r"[1-5]")].assign(value=lambda f: f["答案"].astype(int),
                                                                     dim=lambda f: f["题号"].str[:2])
    spread = answers.groupby(["dim", "部门"])["value"].mean().groupby("dim").agg(lambda s: s.max() - s.min())
    assert spread["DA"] > 2.0 and spread.drop("DA").max() < 1.5


def test_indicators_and_value_stream(raw):
    indicators = raw("maturity_indicators").set_index("指标编号")["数值"]
    assert float(indicators["online_process_share"]) == 0.45 and int(indicators["data_silos"]) == 7
    stream = raw("value_stream")
    seed_node = stream[(stream["节点"] == "订单分配")].iloc[0]
    assert seed_node["涉及系统"].count(";") == 2 and seed_node["方式"] == "manual"
    assert float(seed_node["耗时小时"]) == 2.0 and float(seed_node["差错率"]) == 0.15
    assert set(stream["方式"]) == {"manual", "automatic"}


def _monthly_store_gmv(raw) -> pd.DataFrame:
    receipts = raw("pos_receipts").drop_duplicates("小票号")
    cents = (receipts["金额"].str.replace(r"[¥￥,]", "", regex=True).astype(float) * 100).round()
    when = receipts["交易时间"].str.replace("年", "-").str.replace("月", "-").str.replace("日", "")
    month = pd.to_datetime(when, format="mixed").dt.strftime("%Y-%m")
    actual = (cents / 100).groupby([receipts["门店编号"].rename("单元"), month.rename("月份")]).sum()
    return actual.rename("actual").reset_index()


def test_gmv_targets_add_up_and_some_units_miss_them(raw):
    targets = raw("kpi_targets").assign(value=lambda f: f["目标值"].astype(float))
    gmv = targets[targets["指标"] == "gmv"].pivot(index="月份", columns="单元", values="value")
    stores = [c for c in gmv.columns if c.startswith("S")]
    assert len(stores) == 30 and gmv.index.size == 18
    np.testing.assert_allclose(gmv[stores].sum(axis=1) + gmv["online"], gmv["all"], rtol=1e-6)
    np.testing.assert_allclose(gmv[["华东", "华南", "华北"]].sum(axis=1) + gmv["online"], gmv["all"], rtol=1e-6)
    merged = _monthly_store_gmv(raw).merge(targets[targets["指标"] == "gmv"], on=["单元", "月份"])
    above = (merged["actual"] >= merged["value"]).mean()
    assert 0.2 < above < 0.8
    attainment = merged["actual"].sum() / merged["value"].sum()
    assert 0.85 < attainment < 1.15


def test_all_targets_multiply_out(raw):
    targets = raw("kpi_targets")
    all_ = targets[targets["单元"] == "all"].pivot(index="月份", columns="指标", values="目标值").astype(float)
    np.testing.assert_allclose(all_["traffic"] * all_["conversion_rate"] * all_["aov"], all_["gmv"], rtol=1e-5)


def test_traffic_gives_store_and_online_conversion(raw):
    traffic = raw("traffic").assign(visitors=lambda f: f["访客数"].astype(int))
    receipts = raw("pos_receipts").drop_duplicates("小票号")
    store_orders = (receipts["交易类型"] == "销售").sum()
    store_visitors = traffic.loc[traffic["单元"] != "online", "visitors"].sum()
    online_orders = sum((raw(n).drop_duplicates(i)[r] == "").sum() for n, i, r in
                        (("mall_orders", "订单编号", "退款原单号"), ("online_orders", "订单号", "原订单号")))
    online_visitors = traffic.loc[traffic["单元"] == "online", "visitors"].sum()
    assert 0.12 < store_orders / store_visitors < 0.35
    assert 0.015 < online_orders / online_visitors < 0.06
    assert traffic["日期"].nunique() == 549 and traffic["单元"].nunique() == 31


def test_funnel_narrows_stage_by_stage(raw):
    funnel = raw("funnel_events")
    counts = funnel.groupby("环节")["访客ID"].nunique()
    assert counts["visit"] > counts["add_to_cart"] > counts["order"] > counts["repurchase"] > 0
    assert funnel["事件ID"].is_unique


def test_action_log_references_kpis(raw):
    actions = raw("action_log")
    assert len(actions) == 10
    assert set(actions["关联指标"]) <= {"gmv", "traffic", "conversion_rate", "aov"}
    assert actions["负责人"].str.len().min() > 0
