"""Cells of notebooks/03_maturity.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "maturity"

CELLS = [
    ("code", '''ctx.md("按“流程数字化、数据资产化、业务在线化、决策智能化”四个维度评估现状（1 级手工化 — 5 级智能化），"
       "与目标和行业对标，找出价值流中的瓶颈及其根因，并给出分三阶段的实施路线图与预算分配。",
       "Current state on four dimensions (process digitalization, data assetization, business online-ization, "
       "decision intelligence; 1 manual – 5 intelligent), against target and industry peers; bottlenecks of the "
       "value stream and their root causes; a three-phase roadmap with its budget split.")''', "intro"),
    ("code", '''from digiops import maturity
from digiops.maturity import charts, report
import matplotlib.pyplot as plt
result = maturity.run(ctx)
lang = ctx.language
ctx.md(report.headline(result, lang))
for note in map(ctx.md_text, result.notes):
    ctx.md(f"> 注意：{note}", f"> Note: {note}")'''),
    ("code", '''ctx.md("## 四维评分", "## Scores by dimension")
ctx.md("每题答案 a（1–5）换算为 (a−1)/4×100；维度得分为各受访者已作答题目的加权平均（不适用的题目剔除、权重重新归一），"
       f"再对受访者取平均；量化指标按阈值表定级后以 {ctx.settings.indicator_weight:.0%} 的权重并入。"
       "等级 L = 1 + 4 × 得分 / 100（一位小数），级别 = L 向下取整。",
       "Each answer a (1–5) becomes (a−1)/4×100; a dimension's score is each respondent's weighted mean over the "
       "questions they answered (N/A dropped, weights re-normalized), averaged over respondents; indicators, "
       f"levelled by their threshold tables, blend in with weight {ctx.settings.indicator_weight:.0%}. "
       "Level L = 1 + 4 × score / 100 (one decimal); band = floor(L).")
fig = charts.radar(result.scores, result.benchmark, lang, result.benchmark_illustrative); plt.show()''', "scores"),
    ("code", '''report.scores_view(result.scores, lang).style.hide(axis="index").format(precision=1, na_rep="–", escape="html")'''),
    ("code", '''ctx.md("## 差距分析", "## Gaps to target")
ctx.md("差距 = 目标等级 − 现状等级；≥ 1.5 级为严重，≥ 0.75 级为中等，其余正差距为轻微。",
       "Gap = target level − current level; critical at 1.5 levels or more, moderate at 0.75 or more, "
       "minor above 0.")
fig = charts.gap_bars(result.scores, lang); plt.show()''', "gaps"),
    ("code", '''ctx.md("## 两次评估之间的进步", "## Progress since the previous assessment")
progress = result.progress
ctx.md(report.progress_summary(progress, lang))
if progress.compared:
    fig = charts.progress_chart(progress.company, lang); plt.show()
    display(report.progress_styled(progress, lang))''', "progress"),
    ("code", '''if progress.compared:
    ctx.md("### 各部门 × 维度的等级变化", "### Change of level by department and dimension")
    ctx.md("同一方法分别计分两次评估中各部门的作答；正数为提升。",
           "Each department's answers in both waves, scored by the same method; positive is a rise.")
    display(report.progress_department_styled(progress, lang))'''),
    ("code", '''ctx.md("## 行业对标", "## Industry benchmark")
if result.benchmark_illustrative:
    source = report.benchmark_note(result.benchmark_source, bool(ctx.settings.benchmark), lang)
    ctx.md(f"**以下行业数据为示意值（{source}），仅供讨论，不是调研结果。**",
           f"**The industry figures below are illustrative ({source}), for discussion only; "
           "they are not survey results.**")
report.benchmark_view(result.benchmark, lang).style.hide(axis="index").format(precision=1, na_rep="–", escape="html")''', "benchmark"),
    ("code", '''ctx.md("## 评估一致性", "## Consistency of the assessment")
ctx.md(f"各部门按同一方法计分。⚠ 标记的维度上，受访者之间的评分相差超过 {ctx.settings.disagreement_levels:g} 个等级；"
       "加框的格子与全公司水平相差超过该阈值。",
       f"Each department is scored by the same method. On dimensions marked ⚠, respondents differ by more than "
       f"{ctx.settings.disagreement_levels:g} level; boxed cells differ from the company level by more than that.")
fig = charts.department_heatmap(result.departments, result.scores, lang); plt.show()''', "consistency"),
    ("code", '''ctx.md("## 量化指标", "## Quantitative indicators")
if len(result.indicators):
    display(report.indicators_view(result.indicators, lang).style.hide(axis="index").format(
        precision=2, na_rep="–", escape="html"))
else:
    ctx.md("本项目未提供量化指标，维度得分仅来自问卷。", "No indicators were given; scores come from the questionnaire only.")''', "indicators"),
    ("code", '''ctx.md("### 得分最低的题目", "### Lowest-scoring questions")
report.weakest_questions(result.questions, lang).style.hide(axis="index").format(
    {ctx.t("1–2 分占比", "Share 1–2"): "{:.0%}"}, precision=2, na_rep="–", escape="html")'''),
    ("code", '''ctx.md("## 价值流诊断", "## Value-stream diagnosis")
if len(result.nodes):
    ctx.md(f"标记规则：人工处理且涉及两个及以上系统（或与上一节点系统不同）为人工跨系统交接；"
           f"耗时 ≥ {ctx.settings.slow_node_hours:g} 小时为耗时长；差错率 ≥ {ctx.settings.error_rate_threshold:.0%} 为差错率高。",
           f"Flags: a manual node touching two or more systems (or other systems than the node before) is a manual "
           f"cross-system hand-off; {ctx.settings.slow_node_hours:g} hours or more is slow; an error rate of "
           f"{ctx.settings.error_rate_threshold:.0%} or more is error-prone.")
    fig = charts.value_stream_chart(result.nodes, lang); plt.show()
else:
    ctx.md("本项目未提供价值流数据。", "No value-stream data was given.")''', "value_stream"),
    ("code", '''if len(result.bottlenecks):
    display(report.bottlenecks_view(result.bottlenecks, lang).style.hide(axis="index").format(
        {ctx.t("差错率", "Error rate"): "{:.0%}", ctx.t("耗时（小时）", "Hours"): "{:.1f}"}, na_rep="–", escape="html"))'''),
    ("code", '''if len(result.chains):
    ctx.md("### 人工交接链", "### Manual hand-off chains")
    for chain in result.chains.itertuples(index=False):
        process, path = ctx.md_text(chain.process), ctx.md_text(chain.path)
        ctx.md(f"- **{process}**：{path}，人工对接 {chain.n_systems} 个系统，合计 {chain.duration_hours:.1f} 小时，"
               f"综合差错率 {chain.error_rate:.0%}",
               f"- **{process}**: {path}, {chain.n_systems} systems bridged by hand, "
               f"{chain.duration_hours:.1f} hours in all, compound error rate {chain.error_rate:.0%}")
if len(result.root_causes):
    ctx.md("### 按根因类别", "### By root-cause category")
    display(report.root_causes_view(result.root_causes, lang).style.hide(axis="index").format(
        {ctx.t("耗时（小时）", "Hours"): "{:.1f}", ctx.t("平均差错率", "Mean error rate"): "{:.0%}"}, na_rep="–",
        escape="html"))'''),
    ("code", '''ctx.md("## 证据与问卷", "## Evidence beside opinion")
evidence, margin = result.evidence, ctx.settings.evidence_margin
if len(evidence.indicators):
    ctx.md("问卷反映的是受访者的看法；本节把同一次运行中其他环节的输出（客户合并、数据质量、订单、标签、复盘行动）换算成证据指标，"
           "按阈值表定为 1–5 级（达到阈值即进入该级），各维度证据指标等级的加权平均即证据等级，与仅由问卷得出的等级并列比较"
           f"（未并入本项目提供的量化指标）；两者相差超过 {margin:g} 个等级时标为分歧。",
           "The questionnaire gives the respondents' opinion; this section turns the outputs of other stages of the "
           "same run (the customer merge, data quality, orders, tags, review actions) into evidence indicators, "
           "levelled 1–5 by threshold tables (a value at a threshold reaches that level). A dimension's evidence "
           "level is the weighted mean of its indicators' levels, set beside its level from the answers alone "
           "(without the engagement's own indicators); a gap of more than "
           f"{margin:g} level is flagged.")
    fig = charts.evidence_chart(evidence.dimensions, lang); plt.show()
    display(report.evidence_styled(evidence, lang))
ctx.md(report.evidence_summary(evidence, margin, lang))''', "evidence"),
    ("code", '''if len(evidence.indicators):
    ctx.md("### 证据指标与阈值", "### Evidence indicators and their thresholds")
    ctx.md("系统数：客户记录分布在多少个系统中（越少越好）；跨系统客户占比：合并后在两个及以上系统中都有记录的客户；"
           "清洗后完整率：清洗后仍有可用值的比例（各来源 × 字段平均）；原始标准格式占比：原始数据已按标准格式书写的比例"
           "（清洗后按定义为 100%，故取清洗前）；线上订单占比：已支付订单中来自小程序商城与电商平台的比例；"
           "标签平均覆盖率：标签目录中每个标签覆盖客户比例的平均值（每位客户都有生命周期标签，“至少一个标签”恒为 100%）；"
           "复盘行动按期关闭率：已到期的行动（已完成或已逾期）中已完成的比例（行动记录没有完成日期，已完成视为按期）。"
           "阈值与维度归属可在项目配置中调整。",
           "Systems: how many systems hold customer records (fewer is better); customers in two or more systems: "
           "merged customers with records in at least two; completeness after cleaning: the share of values still "
           "usable after cleaning (mean over sources × fields); raw values in standard format: the share already "
           "written in the standard form (100 % after cleaning by construction, so measured before); orders online: "
           "the share of paid orders from the mini-program mall and the platforms; mean tag coverage: the mean over "
           "the catalog's tags of the share of customers holding one (every customer holds a lifecycle tag, so "
           "“at least one tag” is always 100 %); actions closed on time: of the actions due (closed or "
           "overdue), the share closed (the log has no closing date, so a closed action counts as on time). "
           "Thresholds and dimensions can be changed in the engagement file.")
    display(report.evidence_indicators_styled(evidence.indicators, lang))'''),
    ("code", '''ctx.md("## 实施路线图", "## Roadmap")
ctx.md("举措按差距从大到小选自举措库：试点期（1–6 个月）验证 1–2 个高价值、易落地的场景；推广期（7–18 个月）复制并打通核心系统；"
       "深化期（19–36 个月）实现“数据—决策—执行”闭环。",
       "Initiatives are chosen from the library by the largest gaps: the pilot (months 1–6) proves 1–2 high-value, "
       "easy scenarios; scale-up (7–18) copies them and integrates core systems; deepening (19–36) closes the "
       "data–decision–action loop.")
if len(result.roadmap):
    fig = charts.roadmap_chart(result.roadmap, lang); plt.show()
    display(report.roadmap_view(result.roadmap, lang).style.hide(axis="index").format(
        {ctx.t("预算占比", "Budget share"): "{:.1%}", ctx.t("预算（元）", "Budget (CNY)"): "{:,.0f}",
         ctx.t("差距", "Gap"): "{:.1f}"}, na_rep="–", escape="html"))
else:
    ctx.md("所有维度均已达到目标，无需新增举措。", "Every dimension meets its target; no initiative is needed.")''', "roadmap"),
    ("code", '''ctx.md("### 预算分配（技术 / 人才 / 运营）", "### Budget split (technology / people / operations)")
budget = report.budget_view(result.budget, lang)
budget.style.format("{:,.0f}" if ctx.settings.total_budget is not None else "{:.1%}", na_rep="–", escape="html")'''),
    ("code", '''ctx.md("## 举措进展与待决事项", "## Initiative progress and decisions needed")
ctx.md(report.initiatives_summary(result, lang))
if result.has_register:
    ctx.md("每项举措的负责人、里程碑、批准预算与已花费取自举措台账；逾期指截止日期早于"
           f" {result.as_of} 且未完成；关联指标为 KPI 复盘中该指标在复盘月的整体达成。⚠ 表示超出批准预算。",
           "Owner, milestones, approved budget and spent come from the initiative register; overdue means due "
           f"before {result.as_of} and not done; the KPI is that KPI's whole-business attainment in the KPI "
           "review's month. ⚠ marks spending above the approved budget.")
    display(report.initiatives_styled(result.initiatives, lang, result.kpi_names))''', "initiatives"),
    ("code", '''if result.has_register:
    ctx.md("### 需要委员会决策的事项", "### Decisions needed from the committee")
    if len(result.decisions):
        display(report.decisions_styled(result.decisions, lang, result.kpi_names))
    else:
        ctx.md("目前没有需要委员会决策的事项。", "No decision is needed from the committee now.")'''),
    ("code", '''ctx.md("## 敏感性分析", "## Sensitivity")
ctx.md(f"每个维度的权重分别变动 ±{ctx.settings.sensitivity_change:.0%}（其余不变、重新归一）时总体等级的变化。",
       f"How the overall level moves when each dimension's weight changes by ±{ctx.settings.sensitivity_change:.0%} "
       "(the others unchanged, re-normalized).")
fig = charts.sensitivity_chart(result.sensitivity, lang); plt.show()
report.sensitivity_view(result.sensitivity, lang).style.hide(axis="index").format(
    {ctx.t("权重变动", "Weight change"): "{:+.0%}", ctx.t("总体得分", "Overall score"): "{:.2f}",
     ctx.t("总体等级", "Overall level"): "{:.1f}", ctx.t("等级变化", "Level change"): "{:+.3f}"}, na_rep="–",
    escape="html")''', "sensitivity"),
]
