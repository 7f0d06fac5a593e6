"""Tables as a client reads them: the stage's frames with columns named in the report language.

Nothing personal is shown in this stage (respondents appear only as counts, departments by name).
"""

from __future__ import annotations

import pandas as pd

from digiops.context import escaped_styler, md_text
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.evidence import Evidence
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


# --- evidence beside opinion ------------------------------------------------------------------------------------------
#: evidence verdict (``evidence.verdict``) → words.
VERDICTS = {"agree": ("一致", "agree"), "evidence_higher": ("证据高于问卷", "evidence higher than the answers"),
            "evidence_lower": ("证据低于问卷", "evidence lower than the answers"),
            "no_evidence": ("本次运行无此维度的证据", "no evidence for it in this run"), "no_answers": ("问卷无作答", "no answers")}
#: the stages evidence comes from → words (their report titles).
EVIDENCE_STAGES = {"merge": ("数据清洗与客户合并", "Data cleaning and customer merge"),
                   "labels": ("标签体系", "Tag system"), "kpi": ("KPI 复盘", "KPI review")}


def evidence_value_text(value: float, unit: str) -> str:
    """An evidence value as a reader reads it: a share as a percentage, a count whole; ``–`` if missing.

    >>> evidence_value_text(0.9244, "share"), evidence_value_text(8.0, "count"), evidence_value_text(float("nan"), "share")
    ('92.4%', '8', '–')
    """
    if value is None or value != value:
        return MISSING
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:,.0f}" if unit == "count" else f"{value:,.4g}"


def evidence_threshold_text(thresholds: str, unit: str, direction: str, language: str) -> str:
    """The four boundaries of levels 2–5 in the indicator's unit, with the comparison that reaches each level.

    >>> evidence_threshold_text("0.2, 0.4, 0.6, 0.8", "share", "higher", "en")
    '≥ 20% / 40% / 60% / 80%'
    >>> evidence_threshold_text("8, 5, 3, 1", "count", "lower", "zh")
    '≤ 8 / 5 / 3 / 1'
    """
    values = [float(t) for t in thresholds.split(",")]
    shown = [f"{v:.0%}" if unit == "share" else f"{v:g}" for v in values]
    return ("≥ " if direction == "higher" else "≤ ") + " / ".join(shown)


def _indicators_behind(indicators: pd.DataFrame, dimension: str, language: str) -> str:
    own = indicators[indicators["dimension"] == dimension]
    if own.empty:
        return MISSING
    name = in_language(language, "name_zh", "name_en")
    return in_language(language, "；", "; ").join(
        f"{r[name]} {evidence_value_text(r['value'], r['unit'])}（L{int(r['level'])}）" if language == "zh" else
        f"{r[name]} {evidence_value_text(r['value'], r['unit'])} (L{int(r['level'])})"
        for r in own.to_dict("records"))


def evidence_view(evidence: Evidence, language: str) -> pd.DataFrame:
    """Per dimension: questionnaire level, evidence level, gap, the indicators behind the evidence with their values
    and levels, and the verdict in words."""
    dims = evidence.dimensions
    return _frame(language, [
        (("维度", "Dimension"), dims[in_language(language, "name_zh", "name_en")]),
        (("问卷等级", "Questionnaire level"), dims["questionnaire_level"]),
        (("证据等级", "Evidence level"), dims["evidence_level"]),
        (("差（证据 − 问卷）", "Gap (evidence − questionnaire)"), dims["gap"]),
        (("证据指标（数值与等级）", "Evidence (value and level)"),
         [_indicators_behind(evidence.indicators, d, language) for d in dims["dimension"]]),
        (("判断", "Verdict"), dims["verdict"].map(lambda v: term(language, VERDICTS, v))),
    ])


def evidence_indicators_view(indicators: pd.DataFrame, language: str) -> pd.DataFrame:
    """Each evidence indicator: where it was measured, its value, the thresholds of levels 2–5, its level."""
    return _frame(language, [
        (("证据指标", "Evidence indicator"), indicators[in_language(language, "name_zh", "name_en")]),
        (("维度", "Dimension"), _dimensions(indicators["dimension"], language)),
        (("来源", "From"), indicators["stage"].map(lambda s: term(language, EVIDENCE_STAGES, s))),
        (("数值", "Value"), [evidence_value_text(v, u) for v, u in zip(indicators["value"], indicators["unit"],
                                                                      strict=True)]),
        (("2–5 级阈值", "Levels 2–5 from"), [
            evidence_threshold_text(t, u, d, language) for t, u, d in
            zip(indicators["thresholds"], indicators["unit"], indicators["direction"], strict=True)]),
        (("等级", "Level"), indicators["level"].astype(int) if len(indicators) else indicators["level"]),
        (("权重", "Weight"), indicators["weight"].map(weight_text)),
    ])


def evidence_styled(evidence: Evidence, language: str):
    """:func:`evidence_view` as the report shows it: levels at one decimal, the gap signed, ``–`` where missing."""
    levels = {in_language(language, "问卷等级", "Questionnaire level"): "{:.1f}",
              in_language(language, "证据等级", "Evidence level"): "{:.1f}",
              in_language(language, "差（证据 − 问卷）", "Gap (evidence − questionnaire)"): "{:+.1f}"}
    return escaped_styler(evidence_view(evidence, language).style.hide(axis="index").format(levels, na_rep=MISSING))


def evidence_indicators_styled(indicators: pd.DataFrame, language: str):
    """:func:`evidence_indicators_view` as the report shows it."""
    return escaped_styler(evidence_indicators_view(indicators, language).style.hide(axis="index").format(
        na_rep=MISSING))


def _names(keys: list[str], language: str) -> str:
    return in_language(language, "、", ", ").join(dimension_name(k, language) for k in keys)


def evidence_summary(evidence: Evidence, margin: float, language: str) -> str:
    """One or two sentences: the dimensions where opinion and evidence differ by more than ``margin`` levels (and
    which way), or that they agree; the stages whose outputs were missing."""
    dims = evidence.dimensions
    if evidence.indicators.empty and len(evidence.missing_stages) < len(EVIDENCE_STAGES):
        return in_language(language, "本次运行的输出不足以计算任何证据指标，因此只有问卷的评估。",
                           "No evidence indicator could be measured on this run's outputs, so only the "
                           "questionnaire's assessment is shown.")
    if evidence.indicators.empty:
        return in_language(language, "证据指标取自同一次运行中数据清洗与客户合并、标签体系和 KPI 复盘三个环节的输出；"
                           "本次运行没有这些环节，因此只有问卷的评估。",
                           "The evidence is measured on the outputs of the data cleaning and customer merge, the "
                           "tag system and the KPI review in the same run; this run has none of them, so only the "
                           "questionnaire's assessment is shown.")
    higher = dims.loc[dims["verdict"] == "evidence_higher", "dimension"].tolist()
    lower = dims.loc[dims["verdict"] == "evidence_lower", "dimension"].tolist()
    compared = dims.loc[dims["verdict"].isin(["agree", "evidence_higher", "evidence_lower"]), "dimension"].tolist()
    zh, en = "", ""
    if lower:
        zh += (f"在{_names(lower, 'zh')}上，数据显示的水平比问卷低 {margin:g} 个等级以上：受访者的自评偏乐观，"
               "请在访谈中核实。")
        en += (f"On {_names(lower, 'en')} the data shows a level more than {margin:g} below the answers: the "
               "self-assessment looks optimistic; check it in the interviews. ")
    if higher:
        zh += (f"在{_names(higher, 'zh')}上，数据显示的水平比问卷高 {margin:g} 个等级以上：受访者可能低估了已有的基础，"
               "或证据只覆盖了该维度的一部分，请在访谈中核实。")
        en += (f"On {_names(higher, 'en')} the data shows a level more than {margin:g} above the answers: "
               "respondents may underrate what exists, or the evidence covers only part of the dimension; check it "
               "in the interviews. ")
    if compared and not (lower or higher):
        zh += f"在有证据的维度（{_names(compared, 'zh')}）上，证据与问卷的差距都在 {margin:g} 个等级以内。"
        en += (f"On the dimensions with evidence ({_names(compared, 'en')}), evidence and answers are within "
               f"{margin:g} level of each other. ")
    missing = [s for s in evidence.missing_stages if s in EVIDENCE_STAGES]
    if missing:
        zh += f"本次运行没有“{'”“'.join(EVIDENCE_STAGES[s][0] for s in missing)}”环节，其证据指标未计算。"
        en += (f"This run did not include {' or '.join(EVIDENCE_STAGES[s][1] for s in missing)}, so their "
               "indicators are left out.")
    return in_language(language, zh, en.strip())
