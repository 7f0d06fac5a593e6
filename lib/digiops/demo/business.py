"""Business inputs of the demo client: product master, stores, maturity questionnaire, indicators, value stream,
KPI targets, daily traffic, funnel events and the previous review's action log.

Traffic and targets are derived from the generated orders (see :class:`~digiops.demo.build.Accumulators`), so
GMV = traffic × conversion × AOV holds in the data and the targets are plausible: promotion months (618, 双11)
beat them and the Spring Festival month (2026-02) misses.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from digiops.demo import marketing
from digiops.demo import assessment
from digiops.demo.config import N_DAYS, PERIOD_START
from digiops.demo.events import funnel_events
from digiops.demo.reference import CITIES, REGIONS, STORES_PER_CITY, price_band
from digiops.demo.systems import N_STORES, day_weights, store_ids
from digiops.demo.xlsx import Sheet, write_xlsx

_DAY = np.timedelta64(1, "D")


def _csv(path: Path, frame: pd.DataFrame) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    tmp.replace(path)
    return len(frame)


def stores_frame() -> pd.DataFrame:
    rows, k = [], 0
    for (region, province, city, districts), count in zip(CITIES, STORES_PER_CITY):
        for j in range(count):
            k += 1
            district = districts[j % len(districts)]
            rows.append({"门店编号": f"S{k:03d}", "门店名称": f"示例茶饮{city.removesuffix('市')}{district}"
                         f"{'店' if j < len(districts) else '二店'}", "大区": region, "省份": province, "城市": city,
                         "开业日期": (dt.date(2021, 3, 1) + dt.timedelta(days=37 * k)).isoformat()})
    return pd.DataFrame(rows)


def products_frame(products: pd.DataFrame) -> pd.DataFrame:
    price = products["price_cents"] / 100
    return pd.DataFrame({"商品编码": products["sku"], "商品名称": products["product_name"],
                         "品类": products["category"], "单价": price.map(lambda p: f"{p:.2f}"),
                         "价格带": price.map(price_band)})


def maturity_indicators() -> pd.DataFrame:
    return pd.DataFrame({
        "指标编号": ["online_process_share", "data_silos", "automated_decision_share"],
        "数值": ["0.45", "7", "0.12"],
        "说明": ["在线化业务流程占比（45 个流程中 20 个已在线）", "未打通的数据孤岛数（CRM、小程序、POS、天猫、京东、物流、ERP）",
               "由系统规则自动做出的经营决策占比"]})


def value_stream() -> pd.DataFrame:
    """Process nodes; 订单履约 carries seed 004's example: 库存查询 → 订单分配 → 物流, three systems by hand,
    2 hours, 15 % errors."""
    rows = [
        ("订单履约", "接单", 1, "电商部", 0.1, 0.01, "微信商城;天猫;京东", "automatic", ""),
        ("订单履约", "库存查询", 2, "供应链部", 0.5, 0.05, "ERP;WMS", "manual", "technology"),
        ("订单履约", "订单分配", 3, "供应链部", 2.0, 0.15, "ERP;WMS;物流系统", "manual", "data_standards"),
        ("订单履约", "物流", 4, "物流部", 1.0, 0.04, "WMS;物流系统", "manual", "organisation"),
        ("订单履约", "签收回传", 5, "物流部", 0.2, 0.02, "物流系统;ERP", "automatic", ""),
        ("会员营销", "人群圈选", 1, "市场部", 6.0, 0.10, "CRM;小程序后台;Excel", "manual", "data_standards"),
        ("会员营销", "发券触达", 2, "市场部", 0.5, 0.02, "小程序后台", "automatic", ""),
        ("会员营销", "效果复盘", 3, "市场部", 8.0, 0.08, "Excel;BI", "manual", "organisation"),
        ("门店补货", "销量统计", 1, "门店管理部", 3.0, 0.08, "门店POS;Excel", "manual", "technology"),
        ("门店补货", "补货申请", 2, "门店管理部", 1.0, 0.05, "OA", "manual", "organisation"),
        ("门店补货", "审批", 3, "运营部", 24.0, 0.02, "OA", "manual", "organisation"),
        ("门店补货", "配送", 4, "物流部", 12.0, 0.03, "WMS;物流系统", "automatic", ""),
    ]
    return pd.DataFrame(rows, columns=["流程", "节点", "顺序", "负责部门", "耗时小时", "差错率", "涉及系统", "方式",
                                       "根因类别"])


def action_log() -> pd.DataFrame:
    rows = [
        ("A01", "华南门店618后客流回落，开展社群拉新活动", "华南大区经理 梁晓东", "traffic", "2026-09-30", "已完成",
         "客流环比回升 6%"),
        ("A02", "小程序商城结算页改版，缩短下单路径", "电商产品经理 陈思远", "conversion_rate", "2026-10-15", "进行中",
         "灰度 30%"),
        ("A03", "会员日满减门槛从 59 调到 69 元", "会员运营 王嘉欣", "aov", "2026-09-20", "已完成", ""),
        ("A04", "华北新店开业引流方案", "华北大区经理 赵建国", "gmv", "2026-10-31", "进行中", ""),
        ("A05", "天猫旗舰店详情页上新中秋礼盒", "电商运营 刘佳", "gmv", "2026-09-10", "已完成", "礼盒销量超预期"),
        ("A06", "门店补货单线上化，取消纸质审批", "运营总监 孙海燕", "gmv", "2026-10-20", "未开始", "等待 IT 排期"),
        ("A07", "抖音直播间转化率复盘", "市场经理 周子轩", "conversion_rate", "2026-09-25", "已逾期", "数据未拿到"),
        ("A08", "华东门店晚高峰加开第二收银台", "华东大区经理 张伟", "conversion_rate", "2026-09-30", "已完成", ""),
        ("A09", "统一各系统手机号口径（E.164）", "数据负责人 李明", "traffic", "2026-10-31", "进行中",
         "CRM 已完成，POS 未开始"),
        ("A10", "礼盒加购推荐上线", "电商产品经理 陈思远", "aov", "2026-10-10", "未开始", ""),
    ]
    frame = pd.DataFrame(rows, columns=["行动编号", "行动项", "负责人", "关联指标", "截止日期", "状态", "备注"])
    frame.insert(6, "创建日期", "2026-09-05")
    return frame


def _months() -> np.ndarray:
    days = np.datetime64(PERIOD_START) + np.arange(N_DAYS) * _DAY
    return days.astype("datetime64[M]")


def traffic_frame(rng: np.random.Generator, orders: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Daily visitors per store (conversion around 22 %) and online (around 3 %); conversion dips in the weak
    month and lifts in promotion months."""
    n_days, n_units = orders.shape
    months = _months()
    month_text = np.datetime_as_string(months)
    lift = np.ones(n_days)
    lift[np.isin(month_text, ["2025-06", "2025-11", "2026-06"])] = 1.12
    lift[month_text == "2026-02"] = 0.82
    base = np.concatenate([np.clip(rng.normal(0.22, 0.03, n_units - 1), 0.12, 0.35), [0.032]])
    conversion = base[None, :] * lift[:, None] * np.exp(rng.normal(0, 0.08, (n_days, n_units)))
    typical = np.maximum(orders.mean(axis=0), 0.2)
    expected = np.where(orders > 0, orders / conversion, rng.poisson(typical / base, (n_days, n_units)))
    visitors = np.maximum(np.rint(expected).astype(np.int64), orders)
    days = np.datetime_as_string(np.datetime64(PERIOD_START) + np.arange(n_days) * _DAY)
    units = np.concatenate([store_ids(), ["online"]])
    frame = pd.DataFrame({"日期": np.repeat(days, n_units), "单元": np.tile(units, n_days),
                          "访客数": visitors.reshape(-1)})
    return frame, visitors


def kpi_targets(rng: np.random.Generator, gmv_cents: np.ndarray, orders: np.ndarray,
                visitors: np.ndarray) -> pd.DataFrame:
    """Monthly targets: gmv by store, online, region and all; traffic, conversion_rate and aov for all.

    Targets follow a smooth plan (the unit's average month × a linear growth path), so promotion months beat it
    and the weak month misses; GMV targets add up (Σ stores + online = Σ regions + online = all), and for `all`
    gmv = traffic × conversion_rate × aov holds exactly.
    """
    months = _months()
    labels = np.unique(months)
    index = np.searchsorted(labels, months)
    n_months = len(labels)

    def monthly(values: np.ndarray) -> np.ndarray:
        out = np.zeros((n_months,) + values.shape[1:], dtype=float)
        np.add.at(out, index, values)
        return out

    gmv = monthly(gmv_cents) / 100  # yuan, months × units
    plan = np.linspace(0.92, 1.18, n_months)
    unit_gmv = gmv.mean(axis=0)[None, :] * plan[:, None] * rng.normal(1.0, 0.04, gmv.shape)
    unit_gmv = np.round(unit_gmv, 2)
    periods = np.datetime_as_string(labels)
    stores = store_ids()
    rows = []
    for u, unit in enumerate(list(stores) + ["online"]):
        rows.append(pd.DataFrame({"指标": "gmv", "单元": unit, "月份": periods, "目标值": unit_gmv[:, u]}))
    region_of = np.repeat([c[0] for c in CITIES], STORES_PER_CITY)
    for region in REGIONS:
        total = np.round(unit_gmv[:, :N_STORES][:, region_of == region].sum(axis=1), 2)
        rows.append(pd.DataFrame({"指标": "gmv", "单元": region, "月份": periods, "目标值": total}))
    gmv_all = np.round(unit_gmv.sum(axis=1), 2)
    rows.append(pd.DataFrame({"指标": "gmv", "单元": "all", "月份": periods, "目标值": gmv_all}))
    traffic = monthly(visitors.sum(axis=1))
    traffic_target = np.rint(traffic.mean() * np.linspace(0.95, 1.12, n_months))
    order_count = monthly(orders.sum(axis=1))
    aov = gmv.sum() / max(order_count.sum(), 1)
    aov_target = np.round(aov * np.linspace(0.98, 1.05, n_months), 2)
    conversion_target = gmv_all / (traffic_target * aov_target)
    rows.append(pd.DataFrame({"指标": "traffic", "单元": "all", "月份": periods, "目标值": traffic_target}))
    rows.append(pd.DataFrame({"指标": "conversion_rate", "单元": "all", "月份": periods,
                              "目标值": conversion_target}))
    rows.append(pd.DataFrame({"指标": "aov", "单元": "all", "月份": periods, "目标值": aov_target}))
    frame = pd.concat(rows, ignore_index=True)
    kpi = frame["指标"]
    frame["目标值"] = np.where(kpi == "traffic", frame["目标值"].map(lambda v: f"{v:.0f}"),
                            np.where(kpi == "conversion_rate", frame["目标值"].map(lambda v: f"{v:.10f}"),
                                     frame["目标值"].map(lambda v: f"{v:.2f}")))
    return frame


def write_business_inputs(raw: Path, rng: np.random.Generator, products: pd.DataFrame, totals,
                          people: int, members: pd.DataFrame | None = None) -> dict[str, int]:
    counts = {"products": _csv(raw / "products.csv", products_frame(products)),
              "stores": _csv(raw / "stores.csv", stores_frame())}
    answers = assessment.maturity_answers(rng)
    _csv(raw.parent / "truth" / "maturity_waves.csv", assessment.maturity_waves_truth())
    write_xlsx(raw / "maturity_answers.xlsx", [Sheet("答卷", answers)])
    counts["maturity_answers"] = len(answers)
    counts["initiatives"] = _csv(raw / "initiatives.csv", assessment.initiatives_frame())
    counts["maturity_indicators"] = _csv(raw / "maturity_indicators.csv", maturity_indicators())
    counts["value_stream"] = _csv(raw / "value_stream.csv", value_stream())
    traffic, visitors = traffic_frame(rng, totals.orders)
    counts["traffic"] = _csv(raw / "traffic.csv", traffic)
    targets = kpi_targets(rng, totals.gmv_cents, totals.orders, visitors)
    events, logged_in = funnel_events(rng, people, day_weights(len(totals.orders)), members)  # members: 会员ID ↔ person
    counts["funnel_events"], counts["truth/events"] = (_csv(raw / "funnel_events.csv", events),
                                                      _csv(raw.parent / "truth" / "events.csv", logged_in))
    counts["action_log"] = _csv(raw / "action_log.csv", action_log())
    # spend follows the leads the people sources wrote before; its KPIs' targets join the others
    leads = pd.read_csv(raw / "social_leads.csv", dtype="str", keep_default_na=False, encoding="utf-8")
    spend, spend_truth = marketing.spend_frames(rng, leads)
    counts["marketing_spend"] = _csv(raw / "marketing_spend.csv", spend)
    counts["truth/spend"] = _csv(raw.parent / "truth" / "spend.csv", spend_truth)
    counts["kpi_targets"] = _csv(raw / "kpi_targets.csv",
                                 pd.concat([targets, marketing.spend_targets(spend_truth)], ignore_index=True))
    return counts
