"""Tables as a client reads them: the stage's frames with columns named in the report language.

Nothing personal is shown in this stage (respondents appear only as counts, departments by name).
"""

from __future__ import annotations

import pandas as pd

from digiops.maturity.dimensions import DIMENSION_KEYS, ROOT_CAUSES, dimension_name
from digiops.maturity.stage import MaturityResult
from digiops.i18n import in_language as _t

SEVERITY_NAMES = {"critical": ("严重", "critical"), "moderate": ("中等", "moderate"), "minor": ("轻微", "minor"),
                  "none": ("已达标", "met"), "no data": ("无数据", "no data")}



def _severity(value: str, language: str) -> str:
    zh, en = SEVERITY_NAMES.get(value, (value, value))
    return _t(language, zh, en)


def scores_view(scores: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    """Dimension, score, level, band, target, gap, severity, respondent spread, disagreement."""
    name = scores["name_zh"] if language == "zh" else scores["name_en"]
    return pd.DataFrame({
        _t(language, "维度", "Dimension"): name,
        _t(language, "权重", "Weight"): scores["weight"],
        _t(language, "问卷得分", "Questionnaire"): scores["questionnaire_score"],
        _t(language, "指标得分", "Indicators"): scores["indicator_score"],
        _t(language, "得分 (0–100)", "Score (0–100)"): scores["score"],
        _t(language, "等级 L", "Level L"): scores["level"],
        _t(language, "级别", "Band"): scores["band"],
        _t(language, "目标", "Target"): scores["target"],
        _t(language, "差距", "Gap"): scores["gap"],
        _t(language, "严重度", "Severity"): scores["severity"].map(lambda s: _severity(s, language)),
        _t(language, "受访者极差（级）", "Respondent spread (levels)"): scores["respondent_spread"],
        _t(language, "意见分歧", "Disagreement"): scores["disagreement"].map(lambda f: "⚠" if f else ""),
    })


def benchmark_view(benchmark: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    positions = {"below p25": ("低于 P25", "below P25"), "p25–p50": ("P25–P50", "P25–P50"),
                 "p50–p75": ("P50–P75", "P50–P75"), "above p75": ("高于 P75", "above P75"),
                 "no data": ("无数据", "no data")}
    return pd.DataFrame({
        _t(language, "维度", "Dimension"): benchmark["dimension"].map(lambda d: dimension_name(d, language)),
        _t(language, "本企业", "Client"): benchmark["level"],
        "P25": benchmark["p25"], _t(language, "中位数", "Median"): benchmark["p50"], "P75": benchmark["p75"],
        _t(language, "位置", "Position"): benchmark["position"].map(lambda p: _t(language, *positions[p])),
        _t(language, "与中位数之差", "vs median"): benchmark["vs_median"],
    })


def indicators_view(indicators: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    return pd.DataFrame({
        _t(language, "指标", "Indicator"): indicators["name_zh"] if language == "zh" else indicators["name_en"],
        _t(language, "维度", "Dimension"): indicators["dimension"].map(lambda d: dimension_name(d, language)),
        _t(language, "数值", "Value"): indicators["value"],
        _t(language, "方向", "Direction"): indicators["direction"].map(
            lambda d: _t(language, "越高越好", "higher is better") if d == "higher"
            else _t(language, "越少越好", "fewer is better")),
        _t(language, "阈值（2–5 级）", "Thresholds (levels 2–5)"): indicators["thresholds"],
        _t(language, "等级", "Level"): indicators["level"],
        _t(language, "得分", "Score"): indicators["score"],
    })


def weakest_questions(questions: pd.DataFrame, language: str = "zh", n: int = 8) -> pd.DataFrame:
    """The questions with the lowest mean answer."""
    rows = questions.dropna(subset=["mean_answer"]).sort_values("mean_answer", kind="stable").head(n)
    return pd.DataFrame({
        _t(language, "题号", "Question"): rows["question_id"],
        _t(language, "维度", "Dimension"): rows["dimension"].map(lambda d: dimension_name(d, language)),
        _t(language, "题目", "Text"): rows["text_zh"] if language == "zh" else rows["text_en"],
        _t(language, "平均分（1–5）", "Mean (1–5)"): rows["mean_answer"],
        _t(language, "作答", "Answered"): rows["answered"],
        _t(language, "不适用", "N/A"): rows["not_applicable"],
        _t(language, "1–2 分占比", "Share 1–2"): rows["low_share"],
    })


def bottlenecks_view(bottlenecks: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    reasons = {"manual cross-system hand-off": "人工跨系统交接", "slow": "耗时长", "error-prone": "差错率高"}
    return pd.DataFrame({
        _t(language, "流程", "Process"): bottlenecks["process"],
        _t(language, "节点", "Node"): bottlenecks["node"],
        _t(language, "负责", "Owner"): bottlenecks["owner"],
        _t(language, "耗时（小时）", "Hours"): bottlenecks["duration_hours"],
        _t(language, "差错率", "Error rate"): bottlenecks["error_rate"],
        _t(language, "涉及系统", "Systems"): bottlenecks["systems"].str.replace(";", "、" if language == "zh" else ", "),
        _t(language, "问题", "Flags"): bottlenecks["reasons"].map(
            lambda r: "；".join(reasons.get(p, p) for p in r.split("; ")) if language == "zh" else r),
        _t(language, "根因类别", "Root cause"): bottlenecks["root_cause_category"].map(
            lambda c: _t(language, *ROOT_CAUSES[c])),
        _t(language, "根因描述", "Root cause (as given)"): bottlenecks["root_cause"],
    })


def roadmap_view(roadmap: pd.DataFrame, language: str = "zh") -> pd.DataFrame:
    return pd.DataFrame({
        _t(language, "阶段", "Phase"): roadmap["phase_zh"] if language == "zh" else roadmap["phase_en"],
        _t(language, "月份", "Months"): roadmap["months"],
        _t(language, "举措", "Initiative"): roadmap["initiative_id"] + " " + (
            roadmap["name_zh"] if language == "zh" else roadmap["name_en"]),
        _t(language, "维度", "Dimension"): roadmap["dimension"].map(lambda d: dimension_name(d, language)),
        _t(language, "差距", "Gap"): roadmap["gap"],
        _t(language, "严重度", "Severity"): roadmap["severity"].map(lambda s: _severity(s, language)),
        _t(language, "预算占比", "Budget share"): roadmap["budget_share"],
        _t(language, "预算（元）", "Budget (CNY)"): roadmap["budget"],
    })


def budget_view(budget: pd.DataFrame, language: str = "zh", amounts: bool = True) -> pd.DataFrame:
    """Phase × category: amounts when a total budget is set, else shares of the programme."""
    value = "budget" if amounts and budget["budget"].notna().any() else "programme_share"
    phase = budget["phase_zh"] if language == "zh" else budget["phase_en"]
    names = {"technology": ("技术", "Technology"), "people": ("人才", "People"),
             "operations": ("运营", "Operations")}
    table = budget.assign(_phase=phase + " (" + budget["months"] + ")",
                          _category=budget["category"].map(lambda c: _t(language, *names[c])))
    pivot = table.pivot(index="_phase", columns="_category", values=value)
    pivot = pivot.reindex(index=list(dict.fromkeys(table["_phase"])),
                          columns=[_t(language, *names[c]) for c in names])
    pivot[_t(language, "合计", "Total")] = pivot.sum(axis=1)
    pivot.index.name = _t(language, "阶段", "Phase")
    pivot.columns.name = None
    return pivot


def headline(result: MaturityResult, language: str = "zh") -> str:
    """One paragraph: overall level and band, largest gap, disagreements, bottlenecks."""
    overall = result.overall
    largest = result.largest_gap
    flagged = [dimension_name(d, language) for d in result.scores.loc[result.scores["disagreement"], "dimension"]
               if d in DIMENSION_KEYS]
    sep = "、" if language == "zh" else ", "
    if language == "zh":
        text = f"总体成熟度 **L = {overall['level']:.1f}**（{int(overall['band'])} 级，目标 {overall['target']:.1f}）。"
        if largest is not None and largest["gap"] > 0:
            text += (f"差距最大的是**{dimension_name(largest['dimension'])}**："
                     f"{largest['level']:.1f} → 目标 {largest['target']:.1f}，差 {largest['gap']:.1f} 级"
                     f"（{_severity(largest['severity'], 'zh')}）。")
        if flagged:
            text += f"受访者在{sep.join(flagged)}上评分相差超过一个等级，需要访谈澄清。"
        text += f"价值流中发现 {len(result.bottlenecks)} 个瓶颈节点，其中 {int(result.nodes['handoff'].sum())} 个为人工跨系统交接。"
        return text
    text = f"Overall maturity **L = {overall['level']:.1f}** (band {int(overall['band'])}, target {overall['target']:.1f}). "
    if largest is not None and largest["gap"] > 0:
        text += (f"The largest gap is **{dimension_name(largest['dimension'], 'en')}**: {largest['level']:.1f} → "
                 f"target {largest['target']:.1f}, {largest['gap']:.1f} levels ({largest['severity']}). ")
    if flagged:
        text += f"Respondents disagree by more than one level on {sep.join(flagged)}: clarify in interviews. "
    text += (f"The value stream has {len(result.bottlenecks)} bottleneck nodes, "
             f"{int(result.nodes['handoff'].sum())} of them manual cross-system hand-offs.")
    return text
