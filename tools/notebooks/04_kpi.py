"""Cells of notebooks/04_kpi.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "kpi"

CELLS: list[tuple[str, str]] = [
    ("code", '''ctx.md("可量化、可拆解的经营目标：拆到每个作战单元（大区、门店），对照实际复盘，给出整体作战态势、漏斗监控与行动闭环。",
       "Quantifiable, decomposable business goals: broken down to every combat unit (region, store), reviewed "
       "against actuals, with the overall battle situation, the funnel and the closed loop of actions.")''', "intro"),
    ("code", '''from digiops import kpi
from digiops.kpi import charts, report
review = kpi.run(ctx)
p = review.periods
ctx.md(f"复盘月份 **{p.review}**（对比 {p.comparison}），跑动率月份 **{p.runrate}**，数据截至 {p.as_of}（不含）。",
       f"Review month **{p.review}** (compared with {p.comparison}); run-rate month **{p.runrate}**; data up to "
       f"{p.as_of} (exclusive).")'''),
    ("code", '''ctx.md(*report.headline_markdown(review))'''),
    ("code", '''ctx.md("## 作战态势", "## Battle situation")
import matplotlib.pyplot as plt
regions = review.units.query("level == 'region'")["unit"].tolist()
charts.draw_tree(review.tree, review.attainment, p.review, language=ctx.language, expand={"gmv": regions})
plt.show()
ctx.md("节点颜色 = 复盘月份的达成状态（绿 ≥ 100 %，黄 ≥ 90 %，红低于 90 %，灰 = 无目标）。",
       "Node colour = status in the review month (green ≥ 100 %, amber ≥ 90 %, red below, grey = no target).")''', "situation"),
    ("code", '''ctx.md("## 各大区与门店达成", "## Attainment by region and store")
for level in ("region", "store"):
    table = report.unit_attainment(review, "gmv", level)
    if table["attainment"].notna().any():
        charts.attainment_bars(table, title=ctx.t(f"GMV 达成率 · {'大区' if level == 'region' else '门店'} · {p.review}",
                                           f"GMV attainment by {level} · {p.review}"), language=ctx.language)
        plt.show()''', "units"),
    ("code", '''report.kpi_matrix(review, ctx.language).style.hide(axis="index").format(escape="html").map(report.status_style)'''),
    ("code", '''ctx.md("## 目标拆解与一致性", "## Target cascade and coherence")
ctx.md(report.cascade_rule_markdown(ctx.settings.cascade, ctx.language))
ctx.md(report.cascade_summary(review, ctx.language))
derived, count = report.cascade_table(review, p.review, ctx.language)
if count:
    total = int((review.cascade["source"] == "derived").sum())
    ctx.md(f"{p.review} 推导的目标（显示 {len(derived)} / {count} 个；全部月份共 {total:,} 个，见 outputs/kpi/cascade.parquet）：",
           f"Targets derived for {p.review} (showing {len(derived)} of {count}; all {total:,} months' derived targets "
           "are in outputs/kpi/cascade.parquet):")
    display(derived.style.hide(axis="index").format(escape="html"))
findings, failed, checked = report.cascade_findings(review, ctx.language)
tolerance = f"{ctx.settings.cascade.tolerance:.1%}"
if not checked:
    ctx.md("没有两级都给出目标的地方，无需检查一致性。", "No targets are given at two related levels, so there is no coherence to check.")
elif not failed:
    ctx.md(f"一致性：{checked:,} 项检查（{report.cascade_checks_named(review, 'zh')}）全部在 {tolerance} 容差内，各级目标一致。",
           f"Coherence: all {checked:,} checks ({report.cascade_checks_named(review, 'en')}) hold within {tolerance}; "
           "the levels agree.")
else:
    ctx.md(f"**一致性：{checked:,} 项检查中 {failed:,} 项超出 {tolerance} 容差**（差额 = 下级或因子得出 − 目标，按差额占比排序，显示 {len(findings)} 项）：",
           f"**Coherence: {failed:,} of {checked:,} checks exceed the {tolerance} tolerance** (gap = what the units or "
           f"factors give − the target, largest share first, showing {len(findings)}):")
    display(findings.style.hide(axis="index").format(escape="html"))''', "cascade"),
    ("code", '''ctx.md("## GMV 为什么变化", "## Why GMV moved")
start, steps, end = report.factor_steps(review, "gmv", "factor", ctx.language)
charts.waterfall(start, steps, end, labels=(p.comparison, p.review),
          title=ctx.t("GMV 变动 = 客流 × 转化率 × 客单价（LMDI 分解）", "GMV change = traffic × conversion × AOV (LMDI)"))
plt.show()
for text in report.variance_notes(review, ctx.language):
    ctx.md(text)''', "variance"),
    ("code", '''start, steps, end = report.factor_steps(review, "gmv", "region", ctx.language)
charts.waterfall(start, steps, end, labels=(p.comparison, p.review), title=ctx.t("GMV 变动 · 按大区", "GMV change by region"))
plt.show()'''),
    ("code", '''ctx.md("转化率与客单价的变化拆为各大区自身变化与结构变化（转化率以百分点计，客单价以元计）：",
       "Conversion and AOV changes split into each region's own change (inner) and the change of mix (conversion "
       "in percentage points, AOV in yuan):")
report.mix_table(review, ctx.language).style.hide(axis="index").format(escape="html")'''),
    ("code", '''ctx.md("## 投入与回报", "## Spend and return")
if review.spend is None or review.spend.table.empty:
    ctx.md("本项目没有投放数据（kpi.spend_source），未分析投入产出。",
           "This engagement has no spend data (kpi.spend_source): spend and return are not analysed.")
else:
    ctx.md(report.spend_method_markdown(review, ctx.language))
    charts.spend_return_chart(review.spend.summary, language=ctx.language,
                              title=ctx.t("各渠道投放与归因成交额（全期，首触归因）",
                                          "Spend and attributed revenue by channel (whole period, first touch)"))
    plt.show()
    ctx.md(f"**全期**（各渠道，首触归因）：", "**Whole period** (by channel, first touch):")
    display(report.spend_channel_table(review, "engagement", ctx.language).style.hide(axis="index").format(escape="html"))
    ctx.md(f"**复盘月份 {p.review}**（边际回报 = 与 {p.comparison} 相比的归因成交额变化 ÷ 投放变化）：",
           f"**Review month {p.review}** (marginal return = change of attributed revenue ÷ change of spend against "
           f"{p.comparison}):")
    display(report.spend_channel_table(review, "review", ctx.language).style.hide(axis="index").format(escape="html"))''', "spend"),
    ("code", '''if review.spend is not None and not review.spend.table.empty:
    no_effect = report.spend_no_effect_table(review, ctx.language)
    if len(no_effect):
        ctx.md("**没有可测量效果的活动**（全期归因成交额为 0 或 ROAS < 1）：",
               "**Campaigns with no measurable effect** (no attributed revenue over the period, or ROAS below 1):")
        display(no_effect.style.hide(axis="index").format(escape="html"))
    ctx.md(report.spend_markdown(review, ctx.language))
    ctx.md("逐月、逐活动的明细见 outputs/kpi/spend.parquet，各渠道与活动的汇总见 outputs/kpi/spend_summary.parquet。",
           "Month-by-campaign detail is in outputs/kpi/spend.parquet; the channel and campaign summaries in "
           "outputs/kpi/spend_summary.parquet.")'''),
    ("code", '''ctx.md("## 漏斗", "## Funnel")
if len(review.funnel):
    table = report.funnel_for(review, p.review)
    charts.funnel_chart(table, language=ctx.language,
                 title=ctx.t(f"转化漏斗 · {table['period'].iloc[0]} 进入的访客（{ctx.settings.conversion_window_days} 天窗口）",
                             f"Funnel · visitors entering in {table['period'].iloc[0]} "
                             f"({ctx.settings.conversion_window_days}-day window)"))
    plt.show()
    ctx.md(report.funnel_markdown(review, table, ctx.language))
else:
    ctx.md("没有漏斗事件数据。", "No funnel events.")''', "funnel"),
    ("code", '''if len(review.funnel):
    cohort = review.funnel.query("period == @table.period.iloc[0]")
    percent = {ctx.t(zh, en): "{:.1%}" for zh, en in (("步骤转化率", "Step conversion"), ("整体转化率", "Overall conversion"),
                                                      ("流失率", "Drop-off rate"))}
    display(report.funnel_table(cohort, ctx.language).style.hide(axis="index").format(
        {**percent, ctx.t("访客数", "Visitors"): "{:,}", ctx.t("流失人数", "Drop-off"): "{:,}"}, na_rep="–", escape="html"))'''),
    ("code", '''ctx.md("## 跑动率", "## Run-rate")
row = report.runrate_row(review, "gmv")
if row is not None:
    charts.runrate_chart(review.daily, row, days_in_period=int(row["days_elapsed"] + row["days_left"]), language=ctx.language,
                  title=ctx.t(f"GMV 跑动率 · {p.runrate}", f"GMV run-rate · {p.runrate}"))
    plt.show()
    ctx.md(report.runrate_markdown(row, ctx.language))''', "runrate"),
    ("code", '''stores = int((review.runrate["level"] == "store").sum())
if stores:
    ctx.md(f"下表为全部与各大区；{stores} 行门店级跑动率见 outputs/kpi/runrate.parquet。",
           f"The table shows the whole business and the regions; the {stores} store rows are in "
           "outputs/kpi/runrate.parquet.")
report.runrate_table(review, ctx.language).style.hide(axis="index").format(
    {ctx.t("推算达成率", "Projected attainment"): "{:.1%}"}, precision=2, thousands=",", na_rep="–", escape="html")'''),
    ("code", '''ctx.md("## SMART 检查", "## SMART findings")
report.smart_matrix(review, ctx.language).style.hide(axis="index").format(na_rep="–", escape="html")''', "smart"),
    ("code", '''failed = report.smart_failures(review, ctx.language)
ctx.md(ctx.t("**未通过的检查：**", "**Checks that fail:**") if len(failed) else ctx.t("所有 SMART 检查均通过。", "Every SMART check passes."))
failed.style.hide(axis="index").format(escape="html") if len(failed) else None'''),
    ("code", '''ctx.md("## 行动闭环", "## Action log")
if len(review.actions):
    ctx.md("上次复盘的行动项：负责人、状态，以及其 KPI 从行动确定时到本次复盘的变化。",
           "The previous review's actions: owner, status, and what each action's KPI did since it was agreed.")
    display(report.action_table(review, ctx.language).style.hide(axis="index").format(escape="html"))
else:
    ctx.md("没有行动记录。", "No action log.")''', "actions"),
    ("code", '''ctx.md("## 下一周期的行动", "## Actions for the next cycle")
ctx.md(report.next_actions_markdown(review, ctx.settings.next_actions, ctx.language))
if len(review.actions_next):
    display(report.next_actions_table(review, ctx.language).style.hide(axis="index").format(escape="html"))
    display(report.next_actions_counts(review, ctx.language).style.hide(axis="index").format(escape="html"))''', "next_actions"),
    ("code", '''ctx.md("## 举措进展", "## Initiative progress")
progress = report.initiative_progress_table(review, ctx.language)
if review.initiatives is None:
    ctx.md("没有举措台账（maturity.initiatives_source）：登记每项举措的负责人、里程碑及其要推动的指标后，这里按指标显示进展。",
           "No initiative register (maturity.initiatives_source): once each initiative's owner, milestones and the KPI "
           "it should move are recorded, their progress is shown here by KPI.")
elif not len(progress):
    ctx.md("举措台账中没有举措指向本指标树的指标。", "No initiative of the register names a KPI of this tree.")
else:
    ctx.md("举措台账中要推动本树指标的举措：指标的复盘月达成与举措进展并列，进展落后而指标也未达成的，需要在下个周期重点跟进；"
           "路线图与预算见数字化成熟度报告。",
           "The register's initiatives that should move a KPI of this tree: the KPI's attainment in the review month "
           "beside the initiative's progress; where both lag, follow up first in the next cycle. The roadmap and "
           "budget are in the digital maturity report.")
    display(progress.style.hide(axis="index").format(escape="html"))''', "initiatives"),
    ("code", '''ctx.md("## 与上次复盘相比", "## Since the previous review")
changes = report.changes_table(review, ctx.language)
if changes is None:
    ctx.md("本客户没有更早的运行记录，下次复盘将在此对比。", "No earlier run of this client; the next review will compare here.")
else:
    display(changes.style.hide(axis="index").format(escape="html").map(report.status_style))''', "previous"),
    ("code", '''for zh, en in review.notes:
    ctx.md(f"> {ctx.md_text(zh)}", f"> {ctx.md_text(en)}")'''),
]
