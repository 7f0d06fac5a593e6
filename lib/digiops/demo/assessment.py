"""The demo client's maturity assessment in two waves, and its initiative register (issue 23).

**Questionnaire.** The current wave (answered 2026-09-01 … 10) is drawn exactly as before from the business-input
generator, so today's scores stay comparable; an earlier wave (2025-09, one year before, when the programme began)
is drawn from a generator spawned from it (the draws that follow are unchanged). The same 25 answer-sheet numbers
R01–R25 recur in both waves (a questionnaire numbered afresh each time; not necessarily the same people). The
earlier wave's means are lower on process digitalization, data assetization (the IT department most: the data
platform was built since) and decision intelligence, and higher on business online-ization (the stores' self-pickup
pilot was paused): ``truth/maturity_waves.csv`` holds the generator's mean answer per wave, department and dimension.

**Initiative register.** ``raw/initiatives.csv`` (举措编号, 负责人, 里程碑, 截止日期, 状态, 批准预算, 已花费, 关联指标,
待决事项) for the initiatives the demo roadmap picks (``resources/maturity/initiatives.yaml`` ids): DA-01 over budget
with its last milestone overdue, DA-02 at risk with a decision for the committee (build or buy the data platform),
BO-01 late, DI-01 on track while its KPI (GMV) is red in the review month, DA-04 without an owner, PD-01 (on the
roadmap) without a register row, and PD-03 (begun by the client, not on the roadmap).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

DEPARTMENTS = ("信息技术部", "市场部", "运营部", "门店管理部", "财务部")
CURRENT_WAVE = "2026-09"
EARLIER_WAVE = "2025-09"
#: mean answer (1–5) per dimension prefix and department in the current wave; DA (data assetization) is the one
#: departments disagree on: IT sees a data platform, stores see spreadsheets
MATURITY_MEANS = {
    "PD": (3.4, 3.0, 3.1, 2.7, 3.0),
    "DA": (4.4, 2.4, 2.8, 1.3, 2.0),
    "BO": (3.6, 3.5, 3.3, 2.9, 3.1),
    "DI": (2.3, 1.9, 1.8, 1.4, 1.7),
}
#: the earlier wave (2025-09): process, data and decisions lower (IT's data platform came since, marketing and
#: operations moved with it, the stores barely), business online higher (the stores' self-pickup pilot was paused)
EARLIER_MEANS = {
    "PD": (3.0, 2.7, 2.6, 2.5, 2.8),
    "DA": (3.2, 1.8, 2.2, 1.3, 1.6),
    "BO": (3.7, 3.8, 3.5, 3.5, 3.2),
    "DI": (1.9, 1.6, 1.5, 1.2, 1.5),
}
PREFIX_DIMENSION = {"PD": "process_digitalization", "DA": "data_assetization", "BO": "business_online",
                    "DI": "decision_intelligence"}


def _wave(rng: np.random.Generator, means: dict[str, tuple[float, ...]], start: dt.date) -> pd.DataFrame:
    """25 respondents (5 per department) × 24 questions, long form; 1–5 with some N/A and 不适用."""
    rows = []
    respondent = 0
    for d, department in enumerate(DEPARTMENTS):
        for _ in range(5):
            respondent += 1
            day = start + dt.timedelta(days=int(rng.integers(0, 10)))
            for prefix, values in means.items():
                for q in range(1, 7):
                    value = int(np.clip(np.rint(values[d] + rng.normal(0, 0.55)), 1, 5))
                    u = rng.random()
                    answer = "N/A" if u < 0.04 else "不适用" if u < 0.06 else str(value)
                    rows.append({"答卷编号": f"R{respondent:02d}", "部门": department, "题号": f"{prefix}{q}",
                                 "答案": answer, "填写日期": day.isoformat()})
    return pd.DataFrame(rows)


def maturity_answers(rng: np.random.Generator) -> pd.DataFrame:
    """Both waves, the earlier first. The current wave consumes ``rng`` exactly as the one-wave generator did; the
    earlier one draws from a child generator (spawning leaves ``rng``'s stream as it is)."""
    current = _wave(rng, MATURITY_MEANS, dt.date(2026, 9, 1))
    earlier = _wave(rng.spawn(1)[0], EARLIER_MEANS, dt.date(2025, 9, 1))
    return pd.concat([earlier, current], ignore_index=True)


def maturity_waves_truth() -> pd.DataFrame:
    """The generator's mean answer per wave, department and dimension (before noise, rounding and clipping)."""
    rows = [{"wave": wave, "department": department, "dimension": PREFIX_DIMENSION[prefix], "mean_answer": values[d]}
            for wave, means in ((EARLIER_WAVE, EARLIER_MEANS), (CURRENT_WAVE, MATURITY_MEANS))
            for prefix, values in means.items() for d, department in enumerate(DEPARTMENTS)]
    return pd.DataFrame(rows)


#: (举措编号, 负责人, 里程碑, 截止日期, 状态, 批准预算, 已花费, 关联指标, 待决事项)
REGISTER = [
    ("DA-01", "数据中心负责人 王磊", "需求与数据源盘点", "2025-11-30", "已完成", "60000", "58000", "member_share", ""),
    ("DA-01", "数据中心负责人 王磊", "会员与商城 ID-Mapping 上线", "2026-03-31", "已完成", "150000", "171000",
     "member_share", ""),
    ("DA-01", "数据中心负责人 王磊", "门店 POS 会员接入", "2026-08-31", "进行中", "190000", "236000", "member_share",
     ""),
    ("DI-01", "经营分析经理 陈静", "看板原型评审", "2025-12-15", "已完成", "40000", "38000", "gmv", ""),
    ("DI-01", "经营分析经理 陈静", "GMV 拆解看板上线（流量 × 转化率 × 客单价）", "2026-06-30", "已完成", "90000",
     "85000", "gmv", ""),
    ("DI-01", "经营分析经理 陈静", "大区与门店下钻", "2026-11-30", "进行中", "70000", "30000", "gmv", ""),
    ("DA-02", "信息技术部总监 刘洋", "数据中台选型与招标", "2026-07-31", "已完成", "50000", "50000", "repurchase_rate",
     ""),
    ("DA-02", "信息技术部总监 刘洋", "主数据标准发布", "2026-09-30", "有风险", "80000", "20000", "repurchase_rate", ""),
    ("DA-02", "信息技术部总监 刘洋", "中台建设方式定案", "2026-10-31", "进行中", "", "", "repurchase_rate",
     "自建还是采购 SaaS：两套方案预算相差约 60 万元，需委员会拍板"),
    ("DA-02", "信息技术部总监 刘洋", "中台一期上线", "2027-03-31", "未开始", "240000", "0", "repurchase_rate", ""),
    ("DI-02", "会员运营经理 王嘉欣", "RFM 分群上线", "2026-05-31", "已完成", "60000", "55000", "repurchase_rate", ""),
    ("DI-02", "会员运营经理 王嘉欣", "对照组实验与效果评估", "2026-10-31", "进行中", "80000", "40000", "repurchase_rate",
     ""),
    ("BO-01", "电商产品经理 陈思远", "门店库存接口开发", "2026-07-15", "已完成", "100000", "92000", "conversion_rate",
     ""),
    ("BO-01", "电商产品经理 陈思远", "10 家门店试点线上下单自提", "2026-09-15", "已延期", "60000", "45000",
     "conversion_rate", ""),
    ("BO-02", "零售运营总监 孙海燕", "企业微信开通与导购培训", "2026-12-31", "未开始", "120000", "0", "member_share",
     ""),
    ("DA-04", "", "标签自动更新方案设计", "2027-06-30", "未开始", "", "", "member_share", ""),
    ("PD-03", "运营总监 孙海燕", "门店补货审批线上化", "2026-10-20", "进行中", "30000", "12000", "gmv", ""),
]
REGISTER_COLUMNS = ["举措编号", "负责人", "里程碑", "截止日期", "状态", "批准预算", "已花费", "关联指标", "待决事项"]


def initiatives_frame() -> pd.DataFrame:
    """The initiative register, one row per milestone."""
    return pd.DataFrame(REGISTER, columns=REGISTER_COLUMNS)
