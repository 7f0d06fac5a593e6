"""Tables as a client reads them: the stage's frames with columns named in the report language.

Nothing personal is shown in this stage (respondents appear only as counts, departments by name).
"""

from __future__ import annotations

import pandas as pd

from digiops.context import escaped_styler, md_text
from digiops.masking import mask_owner
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.evidence import Evidence
from digiops.maturity.stage import MaturityResult
from digiops.settings.maturity import DIMENSION_KEYS, ROOT_CAUSES
from digiops.text import DECISION_KINDS, INITIATIVE_STATUS, KPI_STATUS, MISSING, SEVERITY, in_language, term

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


# --- progress between assessments -------------------------------------------------------------------------------------
#: progress trend code → words.
TRENDS = {"up": ("提升", "up"), "down": ("下降", "down"), "flat": ("持平", "unchanged"),
          "no_data": ("无可比数据", "not comparable")}


def _yes_no(value, language: str) -> str:
    if value is None or value != value:
        return MISSING
    return in_language(language, "是", "yes") if bool(value) else in_language(language, "否", "no")


def _dimension_or_overall(keys: pd.Series, language: str) -> list[str]:
    return [in_language(language, "总体", "Overall") if k == "overall" else dimension_name(k, language) for k in keys]


def progress_view(progress, language: str) -> pd.DataFrame:
    """Per dimension and overall (the company): level in each wave, the change, the gap to target in each wave and
    whether it narrowed."""
    rows = progress.company
    previous, latest = (rows["wave_previous"].iloc[0], rows["wave_latest"].iloc[0]) if len(rows) else ("", "")
    return _frame(language, [
        (("维度", "Dimension"), _dimension_or_overall(rows["dimension"], language)),
        ((f"{previous} 等级", f"Level {previous}"), rows["level_previous"].to_numpy()),
        ((f"{latest} 等级", f"Level {latest}"), rows["level_latest"].to_numpy()),
        (("变化", "Change"), rows["change"].to_numpy()),
        (("目标", "Target"), rows["target"].to_numpy()),
        ((f"{previous} 差距", f"Gap {previous}"), rows["gap_previous"].to_numpy()),
        ((f"{latest} 差距", f"Gap {latest}"), rows["gap_latest"].to_numpy()),
        (("差距缩小", "Gap narrowed"), [_yes_no(v, language) for v in rows["gap_narrowed"]]),
        (("受访人数（前 / 后）", "Respondents (before / after)"),
         [f"{a} / {b}" for a, b in zip(rows["respondents_previous"], rows["respondents_latest"], strict=True)]),
    ])


def progress_styled(progress, language: str):
    """:func:`progress_view` with levels at one decimal and the change signed."""
    view = progress_view(progress, language)
    # the numeric columns by position (levels, change, target, gaps): their names carry the waves
    formats = {c: "{:.1f}" for c in view.columns[1:7]}
    formats[view.columns[3]] = "{:+.1f}"
    return escaped_styler(view.style.hide(axis="index").format(formats, na_rep=MISSING))


def progress_department_view(progress, language: str) -> pd.DataFrame:
    """Department × dimension (and overall): the change of level since the previous wave."""
    rows = progress.departments
    matrix = rows.pivot(index="department", columns="dimension", values="change")
    matrix = matrix.reindex(columns=[d for d in (*DIMENSION_KEYS, "overall") if d in matrix.columns])
    matrix.columns = _dimension_or_overall(pd.Series(matrix.columns), language)
    matrix.index.name = in_language(language, "部门", "Department")
    matrix.columns.name = None
    return matrix


def progress_department_styled(progress, language: str):
    """:func:`progress_department_view` signed at one decimal, rises green and falls red."""
    def colour(value):
        if value != value:
            return ""
        return "color: #2e7d32" if value > 0 else "color: #c62828" if value < 0 else ""
    return escaped_styler(progress_department_view(progress, language).style.format("{:+.1f}", na_rep=MISSING)
                          .map(colour))


def progress_summary(progress, language: str) -> str:
    """One paragraph: the overall level before and now, which dimensions rose or fell and which gaps narrowed, the
    departments that moved most; or that there is no earlier assessment."""
    if not progress.compared:
        wave = progress.waves["wave"].iloc[-1] if len(progress.waves) else None
        when = f"（{wave}）" if wave else ""
        return in_language(language, f"问卷只有一次评估{when}，没有更早的评估可供比较；下一次评估后本节将显示各维度与各部门的进步。",
                           f"The questionnaire holds one assessment{f' ({wave})' if wave else ''}; there is no "
                           "earlier assessment to compare with. After the next one this section shows the progress "
                           "per dimension and per department.")
    overall = progress.overall
    dims = progress.company[progress.company["dimension"] != "overall"]
    up = dims.loc[dims["trend"] == "up", "dimension"].tolist()
    down = dims.loc[dims["trend"] == "down", "dimension"].tolist()
    narrowed = dims.loc[dims["gap_narrowed"].fillna(False).astype(bool), "dimension"].tolist()
    p, q = overall["wave_previous"], overall["wave_latest"]
    zh = (f"与 {p} 的评估相比，{q} 总体成熟度从 {overall['level_previous']:.1f} 变为 {overall['level_latest']:.1f}"
          f"（{overall['change']:+.1f} 级）。")
    en = (f"Against the {p} assessment, overall maturity in {q} moved from {overall['level_previous']:.1f} to "
          f"{overall['level_latest']:.1f} ({overall['change']:+.1f} levels). ")
    if up:
        zh += f"提升的维度：{_names(up, 'zh')}"
        en += f"Up: {_names(up, 'en')}"
        zh += f"（其中 {_names(narrowed, 'zh')} 与目标的差距缩小）。" if narrowed else "。"
        en += f" (gap to target narrowed on {_names(narrowed, 'en')}). " if narrowed else ". "
    if down:
        zh += f"下降的维度：{_names(down, 'zh')}，需在访谈中了解原因。"
        en += f"Down: {_names(down, 'en')}; find out why in the interviews. "
    depts = progress.departments[progress.departments["dimension"] == "overall"].dropna(subset=["change"])
    if len(depts) >= 2:
        best = depts.sort_values("change", ascending=False, kind="stable").iloc[0]
        worst = depts.sort_values("change", kind="stable").iloc[0]
        zh += (f"部门中进步最大的是{md_text(best['department'])}（{best['change']:+.1f} 级），"
               f"最小的是{md_text(worst['department'])}（{worst['change']:+.1f} 级）。")
        en += (f"Among departments, {md_text(best['department'])} moved most ({best['change']:+.1f}) and "
               f"{md_text(worst['department'])} least ({worst['change']:+.1f}).")
    zh += "两次评估均只用问卷计分（量化指标只测了本次），受访者不必是同一批人。"
    en += " Both waves are scored from the answers alone (the indicators were measured only now); respondents " \
          "need not be the same people."
    return in_language(language, zh, en.strip())


# --- initiatives and decisions ----------------------------------------------------------------------------------------
#: initiative progress status → words.
KPI_STATUS_WORDS = KPI_STATUS


def _money(value) -> str:
    return MISSING if value is None or value != value else f"{value:,.0f}"


def _initiative_name(table: pd.DataFrame, language: str) -> list[str]:
    names = table[in_language(language, "name_zh", "name_en")]
    return [f"{i} {n}" if isinstance(n, str) else str(i) for i, n in zip(table["initiative_id"], names, strict=True)]


def _owner_text(value, language: str) -> str:
    return mask_owner(value) if isinstance(value, str) and value.strip() else in_language(language, "（待指定）",
                                                                                          "(to be named)")


def _kpi_text(kpi, attainment, status, kpi_names: dict | None, language: str) -> str:
    if not isinstance(kpi, str):
        return MISSING
    name = (kpi_names or {}).get(kpi, {}).get(language, kpi)
    if not isinstance(status, str):
        return f"{name}"
    att = f"{attainment:.0%}" if attainment == attainment else MISSING
    return f"{name}：{att}（{term(language, KPI_STATUS_WORDS, status)}）" if language == "zh" else \
        f"{name}: {att} ({term(language, KPI_STATUS_WORDS, status)})"


def initiatives_view(initiatives: pd.DataFrame, language: str, kpi_names: dict | None = None) -> pd.DataFrame:
    """Per initiative: phase, owner (masked), milestones done / total, next milestone and due date, overdue ones,
    budget planned / approved / spent, the KPI it should move with its attainment and status, progress."""
    t = initiatives
    phase = [p if isinstance(p, str) else in_language(language, "路线图外", "outside the roadmap")
             for p in t[in_language(language, "phase_zh", "phase_en")]]
    return _frame(language, [
        (("举措", "Initiative"), _initiative_name(t, language)),
        (("阶段", "Phase"), phase),
        (("负责人", "Owner"), [_owner_text(o, language) for o in t["owner"]]),
        (("里程碑（完成 / 总数）", "Milestones (done / all)"),
         [f"{d} / {n}" if n else MISSING for d, n in zip(t["milestones_done"], t["milestones"], strict=True)]),
        (("下一里程碑", "Next milestone"),
         [f"{m}（{d}）" if isinstance(m, str) and language == "zh" else f"{m} ({d})" if isinstance(m, str) else MISSING
          for m, d in zip(t["next_milestone"], t["next_due"], strict=True)]),
        (("逾期里程碑", "Overdue"), [o if isinstance(o, str) else MISSING for o in t["overdue_milestones"]]),
        (("路线图预算（元）", "Planned (CNY)"), [_money(v) for v in t["budget_planned"]]),
        (("批准预算（元）", "Approved (CNY)"), [_money(v) for v in t["budget_approved"]]),
        (("已花费（元）", "Spent (CNY)"), [_money(v) + (" ⚠" if o else "") for v, o in
                                         zip(t["spent"], t["over_budget"], strict=True)]),
        (("关联指标（复盘月达成）", "KPI (review month)"),
         [_kpi_text(k, a, s, kpi_names, language) for k, a, s in
          zip(t["kpi_id"], t["kpi_attainment"], t["kpi_status"], strict=True)]),
        (("进展", "Progress"), t["status"].map(lambda s: term(language, INITIATIVE_STATUS, s))),
    ])


def initiatives_styled(initiatives: pd.DataFrame, language: str, kpi_names: dict | None = None):
    return escaped_styler(initiatives_view(initiatives, language, kpi_names).style.hide(axis="index"))


def decision_text(record: dict, language: str, kpi_names: dict | None = None) -> str:
    """What the committee is asked, in words: the register's own text, or the derived question."""
    kind = record["kind"]
    milestone = record["milestone"] if isinstance(record["milestone"], str) else MISSING
    if kind == "decision":
        return str(record["text"])
    if kind == "overdue":
        return in_language(language, f"里程碑“{milestone}”已逾期：确认新的完成日期或调整范围",
                           f"Milestone “{milestone}” is overdue: agree a new date or a smaller scope")
    if kind == "over_budget":
        return in_language(language, f"已超出批准预算 {_money(record['amount'])} 元：追加预算或压缩范围",
                           f"Over the approved budget by CNY {_money(record['amount'])}: add budget or cut scope")
    if kind == "kpi_red_on_track":
        kpi = (kpi_names or {}).get(record["kpi_id"], {}).get(language, record["kpi_id"])
        return in_language(language, f"关联指标“{kpi}”为红，而举措报“按计划”：确认举措是否足以拉动指标",
                           f"KPI “{kpi}” is red while the initiative reports on track: is the initiative "
                           "enough to move it?")
    return in_language(language, "指定负责人", "Name an owner")


def decisions_view(decisions: pd.DataFrame, language: str, kpi_names: dict | None = None) -> pd.DataFrame:
    """The decisions needed: initiative, kind, the question, owner (masked), due date."""
    records = decisions.to_dict("records")
    return _frame(language, [
        (("举措", "Initiative"), _initiative_name(decisions, language)),
        (("类别", "Kind"), [term(language, DECISION_KINDS, r["kind"]) for r in records]),
        (("需决策事项", "Decision needed"), [decision_text(r, language, kpi_names) for r in records]),
        (("负责人", "Owner"), [_owner_text(r["owner"], language) for r in records]),
        (("截止日期", "Due"), [r["due"].isoformat() if hasattr(r["due"], "isoformat") else MISSING for r in records]),
    ])


def decisions_styled(decisions: pd.DataFrame, language: str, kpi_names: dict | None = None):
    return escaped_styler(decisions_view(decisions, language, kpi_names).style.hide(axis="index"))


def initiatives_summary(result: MaturityResult, language: str) -> str:
    """One paragraph on the register: how many initiatives late, at risk, on track; overdue milestones; budget
    spent against approved; initiatives missing on either side; the count of decisions needed."""
    if not result.has_register:
        return in_language(language, "本项目未提供举措台账（maturity.initiatives_source），无法跟踪负责人、里程碑与预算执行。",
                           "No initiative register was given (maturity.initiatives_source), so owners, milestones "
                           "and budget use cannot be tracked.")
    t = result.initiatives
    count = t["status"].value_counts()
    approved, spent = t["budget_approved"].sum(min_count=1), t["spent"].sum(min_count=1)
    zh = (f"截至 {result.as_of}，{len(t)} 项举措中 {count.get('late', 0)} 项延期、{count.get('at_risk', 0)} 项有风险、"
          f"{count.get('on_track', 0) + count.get('done', 0)} 项按计划或已完成；逾期里程碑 {int(t['overdue'].sum())} 个；"
          f"已花费 {_money(spent)} 元，批准预算 {_money(approved)} 元")
    en = (f"As of {result.as_of}, of {len(t)} initiatives {count.get('late', 0)} are late, "
          f"{count.get('at_risk', 0)} at risk and {count.get('on_track', 0) + count.get('done', 0)} on track or done; "
          f"{int(t['overdue'].sum())} milestones are overdue; CNY {_money(spent)} spent of {_money(approved)} approved")
    if approved and approved == approved and spent == spent:
        zh += f"（{spent / approved:.0%}）"
        en += f" ({spent / approved:.0%})"
    zh += "。"
    en += ". "
    missing = t.loc[~t["in_register"], "initiative_id"].tolist()
    outside = t.loc[~t["in_roadmap"], "initiative_id"].tolist()
    if missing:
        zh += f"路线图中的 {'、'.join(missing)} 在台账中没有记录。"
        en += f"Roadmap initiative(s) {', '.join(missing)} have no register rows. "
    if outside:
        zh += f"台账中的 {'、'.join(outside)} 不在本次路线图中。"
        en += f"Register initiative(s) {', '.join(outside)} are not on this roadmap. "
    zh += f"需要委员会决策的事项 {len(result.decisions)} 项，见下表。"
    en += f"{len(result.decisions)} decisions are needed from the committee (below)."
    return in_language(language, zh, en)
