"""Tables as a client reads them: the stage's frames with columns named in the report language.

Nothing personal is shown in this stage (respondents appear only as counts, departments by name).
"""

from __future__ import annotations

import pandas as pd

from digiops.context import md_text
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.stage import MaturityResult
from digiops.settings.maturity import DIMENSION_KEYS, ROOT_CAUSES
from digiops.text import MISSING, SEVERITY, in_language, term

#: benchmark position (``benchmark.position``) → words.
POSITIONS = {"below p25": ("低于 P25", "below P25"), "p25–p50": ("P25–P50", "P25–P50"),
             "p50–p75": ("P50–P75", "P50–P75"), "above p75": ("高于 P75", "above P75"), "no data": ("无数据", "no data")}
#: budget category (``budget.category``) → words.
BUDGET_CATEGORIES = {"technology": ("技术", "Technology"), "people": ("人才", "People"),
                     "operations": ("运营", "Operations")}
#: value-stream flag (``bottlenecks.reasons``, ``; ``-separated) → the Chinese words (English reads the codes).
FLAGS = {"manual cross-system hand-off": "人工跨系统交接", "slow": "耗时长", "error-prone": "差错率高"}


def weight_text(weight: float) -> str:
    """A weight at its real precision (``0.25``, ``0.125``, ``1``), never rounded to one decimal; ``–`` if missing.

    >>> weight_text(0.25), weight_text(1.0), weight_text(1 / 3), weight_text(float("nan"))
    ('0.25', '1', '0.3333', '–')
    """
    return MISSING if weight is None or weight != weight else f"{weight:.4g}"


def _frame(language: str, columns: list[tuple[tuple[str, str], object]]) -> pd.DataFrame:
    """A table whose columns are named in ``language``: ``[((zh, en), values), …]``."""
    return pd.DataFrame({in_language(language, *name): values for name, values in columns})


def _dimensions(keys: pd.Series, language: str) -> pd.Series:
    return keys.map(lambda d: dimension_name(d, language))


def scores_view(scores: pd.DataFrame, language: str) -> pd.DataFrame:
    """Dimension, score, level, band, target, gap, severity, respondent spread, disagreement."""
    return _frame(language, [
        (("维度", "Dimension"), scores[in_language(language, "name_zh", "name_en")]),
        (("权重", "Weight"), scores["weight"].map(weight_text)),
        (("问卷得分", "Questionnaire"), scores["questionnaire_score"]),
        (("指标得分", "Indicators"), scores["indicator_score"]),
        (("得分 (0–100)", "Score (0–100)"), scores["score"]),
        (("等级 L", "Level L"), scores["level"]),
        (("级别", "Band"), scores["band"]),
        (("目标", "Target"), scores["target"]),
        (("差距", "Gap"), scores["gap"]),
        (("严重度", "Severity"), scores["severity"].map(lambda s: term(language, SEVERITY, s))),
        (("受访者极差（级）", "Respondent spread (levels)"), scores["respondent_spread"]),
        (("意见分歧", "Disagreement"),
         scores["disagreement"].map(lambda f: in_language(language, "分歧", "differ") if f else "")),
    ])


def benchmark_view(benchmark: pd.DataFrame, language: str) -> pd.DataFrame:
    return _frame(language, [
        (("维度", "Dimension"), _dimensions(benchmark["dimension"], language)),
        (("本企业", "Client"), benchmark["level"]),
        (("P25", "P25"), benchmark["p25"]),
        (("中位数", "Median"), benchmark["p50"]),
        (("P75", "P75"), benchmark["p75"]),
        (("位置", "Position"), benchmark["position"].map(lambda p: in_language(language, *POSITIONS[p]))),
        (("与中位数之差", "vs median"), benchmark["vs_median"]),
    ])


def indicators_view(indicators: pd.DataFrame, language: str) -> pd.DataFrame:
    directions = {"higher": ("越高越好", "higher is better")}
    return _frame(language, [
        (("指标", "Indicator"), indicators[in_language(language, "name_zh", "name_en")]),
        (("维度", "Dimension"), _dimensions(indicators["dimension"], language)),
        (("数值", "Value"), indicators["value"]),
        (("方向", "Direction"), indicators["direction"].map(
            lambda d: in_language(language, *directions.get(d, ("越少越好", "fewer is better"))))),
        (("阈值（2–5 级）", "Thresholds (levels 2–5)"), indicators["thresholds"]),
        (("等级", "Level"), indicators["level"]),
        (("得分", "Score"), indicators["score"]),
    ])


def weakest_questions(questions: pd.DataFrame, language: str, n: int = 8) -> pd.DataFrame:
    """The questions with the lowest mean answer."""
    rows = questions.dropna(subset=["mean_answer"]).sort_values("mean_answer", kind="stable").head(n)
    return _frame(language, [
        (("题号", "Question"), rows["question_id"]),
        (("维度", "Dimension"), _dimensions(rows["dimension"], language)),
        (("题目", "Text"), rows[in_language(language, "text_zh", "text_en")]),
        (("平均分（1–5）", "Mean (1–5)"), rows["mean_answer"]),
        (("作答", "Answered"), rows["answered"]),
        (("不适用", "N/A"), rows["not_applicable"]),
        (("1–2 分占比", "Share 1–2"), rows["low_share"]),  # a share: the notebook formats it as a percentage
    ])


def bottlenecks_view(bottlenecks: pd.DataFrame, language: str) -> pd.DataFrame:
    def flags(reasons: str) -> str:
        return in_language(language, "；".join(FLAGS.get(p, p) for p in reasons.split("; ")), reasons)

    return _frame(language, [
        (("流程", "Process"), bottlenecks["process"]),
        (("节点", "Node"), bottlenecks["node"]),
        (("负责", "Owner"), bottlenecks["owner"]),
        (("耗时（小时）", "Hours"), bottlenecks["duration_hours"]),
        (("差错率", "Error rate"), bottlenecks["error_rate"]),
        (("涉及系统", "Systems"), bottlenecks["systems"].str.replace(";", in_language(language, "、", ", "))),
        (("问题", "Flags"), bottlenecks["reasons"].map(flags)),
        (("根因类别", "Root cause"), bottlenecks["root_cause_category"].map(
            lambda c: in_language(language, *ROOT_CAUSES[c]))),
        (("根因描述", "Root cause (as given)"), [
            MISSING if not isinstance(text, str) or not text.strip() or text.strip() == code else text
            for text, code in zip(bottlenecks["root_cause"], bottlenecks["root_cause_category"], strict=True)]),
    ])


def roadmap_view(roadmap: pd.DataFrame, language: str) -> pd.DataFrame:
    return _frame(language, [
        (("阶段", "Phase"), roadmap[in_language(language, "phase_zh", "phase_en")]),
        (("月份", "Months"), roadmap["months"]),
        (("举措", "Initiative"), roadmap["initiative_id"] + " " + roadmap[in_language(language, "name_zh", "name_en")]),
        (("维度", "Dimension"), _dimensions(roadmap["dimension"], language)),
        (("差距", "Gap"), roadmap["gap"]),
        (("严重度", "Severity"), roadmap["severity"].map(lambda s: term(language, SEVERITY, s))),
        (("预算占比", "Budget share"), roadmap["budget_share"]),
        (("预算（元）", "Budget (CNY)"), roadmap["budget"]),
    ])


def budget_view(budget: pd.DataFrame, language: str, amounts: bool = True) -> pd.DataFrame:
    """Phase × category: amounts when a total budget is set, else shares of the programme."""
    value = "budget" if amounts and budget["budget"].notna().any() else "programme_share"
    phase = budget[in_language(language, "phase_zh", "phase_en")]
    table = budget.assign(_phase=phase + " (" + budget["months"] + ")",
                          _category=budget["category"].map(lambda c: term(language, BUDGET_CATEGORIES, c)))
    pivot = table.pivot(index="_phase", columns="_category", values=value)
    pivot = pivot.reindex(index=list(dict.fromkeys(table["_phase"])),
                          columns=[term(language, BUDGET_CATEGORIES, c) for c in BUDGET_CATEGORIES])
    pivot[in_language(language, "合计", "Total")] = pivot.sum(axis=1)
    pivot.index.name = in_language(language, "阶段", "Phase")
    pivot.columns.name = None
    return pivot


def headline(result: MaturityResult, language: str) -> str:
    """One paragraph: overall level and band, largest gap, disagreements, bottlenecks."""
    overall = result.overall
    largest = result.largest_gap
    flagged = [dimension_name(d, language) for d in result.scores.loc[result.scores["disagreement"], "dimension"]
               if d in DIMENSION_KEYS]
    flagged_text = in_language(language, "、", ", ").join(flagged)
    handoffs = int(result.nodes["handoff"].sum())
    zh = f"总体成熟度 **L = {overall['level']:.1f}**（{int(overall['band'])} 级，目标 {overall['target']:.1f}）。"
    en = (f"Overall maturity **L = {overall['level']:.1f}** (band {int(overall['band'])}, "
          f"target {overall['target']:.1f}). ")
    if largest is not None and largest["gap"] > 0:
        zh += (f"差距最大的是**{dimension_name(largest['dimension'], 'zh')}**："
               f"{largest['level']:.1f} → 目标 {largest['target']:.1f}，差 {largest['gap']:.1f} 级"
               f"（{term('zh', SEVERITY, largest['severity'])}）。")
        en += (f"The largest gap is **{dimension_name(largest['dimension'], 'en')}**: {largest['level']:.1f} → "
               f"target {largest['target']:.1f}, {largest['gap']:.1f} levels "
               f"({term('en', SEVERITY, largest['severity'])}). ")
    if flagged:
        zh += f"受访者在{flagged_text}上评分相差超过一个等级，需要访谈澄清。"
        en += f"Respondents disagree by more than one level on {flagged_text}: clarify in interviews. "
    zh += f"价值流中发现 {len(result.bottlenecks)} 个瓶颈节点，其中 {handoffs} 个为人工跨系统交接。"
    en += (f"The value stream has {len(result.bottlenecks)} bottleneck nodes, "
           f"{handoffs} of them manual cross-system hand-offs.")
    return in_language(language, zh, en)


def root_causes_view(root_causes: pd.DataFrame, language: str) -> pd.DataFrame:
    """Bottlenecks per root-cause category (:func:`digiops.maturity.value_stream.root_cause_summary`), named."""
    return _frame(language, [
        (("根因类别", "Root cause"), root_causes[in_language(language, "name_zh", "name_en")]),
        (("瓶颈节点", "Bottlenecks"), root_causes["bottlenecks"]),
        (("人工交接", "Manual hand-offs"), root_causes["handoffs"]),
        (("耗时（小时）", "Hours"), root_causes["hours"]),
        (("平均差错率", "Mean error rate"), root_causes["mean_error_rate"]),
        (("节点", "Nodes"), root_causes["nodes"].map(
            lambda n: n.replace("、", ", ") if language != "zh" and isinstance(n, str) else n)),
    ])


def sensitivity_view(sensitivity: pd.DataFrame, language: str) -> pd.DataFrame:
    """The weight sensitivity (:func:`digiops.maturity.scoring.sensitivity`) with dimensions named."""
    return _frame(language, [
        (("维度", "Dimension"), _dimensions(sensitivity["dimension"], language)),
        (("权重变动", "Weight change"), sensitivity["change"]),
        (("原权重", "Weight before"), sensitivity["weight_before"].map(weight_text)),
        (("新权重", "Weight after"), sensitivity["weight_after"].map(weight_text)),
        (("总体得分", "Overall score"), sensitivity["overall_score"]),
        (("总体等级", "Overall level"), sensitivity["overall_level"]),
        (("等级变化", "Level change"), sensitivity["level_change"]),
    ])


def benchmark_note(source: str, own_table: bool, language: str) -> str:
    """Where the illustrative benchmark figures come from: digiops' built-in table, or the engagement's own table
    (its ``source`` text as given, Markdown-escaped)."""
    if not own_table:
        return in_language(language, "digiops 内置的示意校准表", "digiops' built-in illustrative calibration")
    return md_text(source) if source else in_language(language, "本项目提供的对标表", "the engagement's own table")
