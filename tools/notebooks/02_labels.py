"""Cells of notebooks/02_labels.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "labels"

CELLS = [
    ("code", '''ctx.md("客户标签把各系统的数据变成业务看得懂的画像：每个标签先有业务口径和负责人，再有数据规则。",
       "Customer tags turn the systems' data into profiles the business reads: every tag has a business "
       "definition and an owner first, then a data rule.")''', "intro"),
    ("code", '''from digiops import labels
from digiops.labels import charts, report
stage = labels.run(ctx)
customers = stage.counts["customers"]
ctx.md(f"统计日：**{stage.run.as_of}**，客户 {customers:,} 人，标签 {len(stage.catalog.tags)} 个。",
       f"Reference date: **{stage.run.as_of}**, {customers:,} customers, {len(stage.catalog.tags)} tags.")'''),
    ("code", '''ctx.md("## 标签目录", "## Tag catalog")
ctx.md("业务口径在前：每个标签的定义、取值规则、负责人和使用场景。完整目录另存为 catalog.xlsx 和 catalog.html。",
       "Definitions first: each tag's definition, value rules, owner and scenario. The full catalog is also saved as "
       "catalog.xlsx and catalog.html.")
report.catalog_style(report.catalog_table(stage.catalog, ctx.language).drop(columns=["id"]))''', "catalog"),
    ("code", '''import matplotlib.pyplot as plt
ctx.md("## 覆盖率", "## Coverage")
cover = report.coverage_view(stage.coverage, stage.catalog, language=ctx.language)
charts.coverage_chart(cover, stage.settings.min_coverage, ctx.t("持有标签的客户占比", "Share of customers holding the tag"))
plt.show()''', "coverage"),
    ("code", '''ctx.md("### 各取值的分布", "### Distribution of values")
report.coverage_table(cover[cover["value"] != "*"], language=ctx.language).style.hide(axis="index").format(
    {ctx.t("占比", "Share"): "{:.1%}", ctx.t("客户数", "Customers"): "{:,}"}, escape="html")'''),
    ("code", '''ctx.md("### 覆盖率过低的标签与取值", "### Tags and values with too little coverage")
low = report.coverage_table(report.coverage_view(stage.low_coverage, stage.catalog, language=ctx.language),
                            language=ctx.language)
low.style.hide(axis="index").format({ctx.t("占比", "Share"): "{:.2%}", ctx.t("客户数", "Customers"): "{:,}"},
                                    escape="html") if len(low) else ctx.md("没有。", "None.")'''),
    ("code", '''ctx.md("### 冲突：同一客户命中一个标签的两个取值", "### Conflicts: one customer meeting two values of a tag")
conflicts = report.conflicts_table(stage.run.conflicts, stage.catalog, language=ctx.language)
conflicts.style.hide(axis="index").format(escape="html") if len(conflicts) else ctx.md(
    "没有冲突：每个客户每个标签最多一个取值。", "No conflicts: every customer holds at most one value of each tag.")'''),
    ("code", '''ctx.md("### 标签共现", "### Co-occurrence")
ctx.md("每格 = 持有行标签的客户中也持有列标签的比例。", "Each cell = share of the customers holding the row tag who also hold the column tag.")
charts.cooccurrence_heatmap(stage.cooccurrence, ctx.t("标签共现", "Tag co-occurrence"),
                            names=report.indicator_names(stage.catalog, language=ctx.language))
plt.show()'''),
    ("code", '''ctx.md("## RFM 分群", "## RFM segments")
ctx.md("R、F、M 各按客户等分五档（并列按客户 ID），分群按 R × F 分群表（25 格各属一个分群）。",
       "R, F and M are equal-count fifths of the customers (ties by customer id); segments follow the R × F map "
       "(each of the 25 cells in exactly one segment).")
segments = report.segment_view(stage.segment_summary, stage.segments, language=ctx.language)
charts.segment_chart(segments, ctx.t("客户占比", "Share of customers"), ctx.t("消费金额占比", "Share of monetary"))
plt.show()''', "rfm"),
    ("code", '''report.segment_table(segments, language=ctx.language).style.hide(axis="index").format(
    {ctx.t("客户数", "Customers"): "{:,}", ctx.t("客户占比", "Share of customers"): "{:.1%}",
     ctx.t("消费金额", "Monetary"): "{:,.2f}", ctx.t("金额占比", "Share of monetary"): "{:.1%}",
     ctx.t("人均金额", "Mean monetary"): "{:,.2f}", ctx.t("平均最近购买天数", "Mean recency (days)"): "{:.1f}",
     ctx.t("平均购买次数", "Mean frequency"): "{:.2f}"}, na_rep="–", escape="html")'''),
    ("code", '''ctx.md("## 分群迁移", "## Segment migration")
if stage.migration is None:
    ctx.md("本客户没有上一次运行的结果，无法比较迁移。", "This client has no previous run to compare with.")
else:
    charts.migration_heatmap(stage.migration, ctx.t("上次（行）→ 本次（列）客户数", "Previous (rows) → current (columns), customers"))
    plt.show()''', "migration"),
    ("code", '''ctx.md("## 分群策略与机会", "## Segment plays and their opportunity")
ctx.md("每个 RFM 分群可在分群表中设定一个策略（唤回、升级、培育或维系）及其触达渠道和权益。机会测算：预期响应人数 = 客户数 × "
       "预期响应率；预期金额 = 预期响应人数 × 该分群的单均金额（每位响应者按一次购买计）。历史消费金额与 RFM 相同，为统计日"
       "之前全部计入 GMV 的订单（含退款冲减）。",
       "Each RFM segment may name a play in the segment map (win back, upgrade, nurture or retain) with the channel it "
       "runs through and the offer it makes. Sizing: expected responders = customers × expected response rate; "
       "expected value = expected responders × the segment's mean order value (one purchase per responder). "
       "Historical value is, as for RFM, every order counted in GMV before the reference date (refunds netted).")
if stage.plays.empty:
    ctx.md("分群表中没有分群设定策略。", "No segment of the segment map names a play.")
else:
    ctx.md(report.largest_opportunity_text(stage.plays, stage.segments, language=ctx.language))
    for play in report.plays_in_order(stage.plays):
        ctx.md(f"### {report.play_name(play, 'zh')}", f"### {report.play_name(play, 'en')}")
        ctx.md(*report.PLAY_AIMS[play])
        display(report.play_style(report.play_table(stage.plays, stage.segments, play, language=ctx.language),
                                  language=ctx.language))
    ctx.md("预期响应率是委托配置中按策略给出的假设，请用客户以往活动的实际响应率替换。由以往行动的实际效果测算响应率目前还做不到："
           "KPI 复盘的行动记录把行动关联到指标，而不是某个分群的受众，无法得知哪些客户响应了哪个策略。",
           "The expected response rates are the engagement settings' assumptions per play; replace them with the "
           "client's measured campaign response. Measuring them from past actions is not possible yet: the KPI "
           "review's action log ties actions to KPIs, not to a segment's audience, so it cannot tell which customers "
           "responded to which play.")
    ctx.md(f"受众名单 audiences.csv / audiences.xlsx 共 {stage.plays['customers'].sum():,} 人，每位客户一行：统一客户编号、分群、"
           "策略、渠道和权益，不含姓名、手机、邮箱或地址，可导入客户的 CRM / CDP。",
           f"The audience list audiences.csv / audiences.xlsx holds {stage.plays['customers'].sum():,} customers, one "
           "row each: unified customer id, segment, play, channel and offer — no name, phone, e-mail or address — for "
           "the client's CRM / CDP.")''', "plays"),
    ("code", '''ctx.md("## 行为标签：浏览、加购与未购", "## Behaviour tags: visits, carts and browsing without buying")
if stage.event_links is None:
    ctx.md("本委托没有关联行为数据（labels.events 未设置），行为标签为空。",
           "This engagement links no event data (labels.events is not set); the behaviour tags are empty.")
else:
    events_settings = stage.settings.events
    ctx.md(f"行为数据来自 {events_settings.source}：已登录访客的事件带有会员号（customer_key），按与合并键相同的规则规范化后，"
           f"经客户合并的对照表找到统一客户（{events_settings.customer_key.source}.{events_settings.customer_key.field}）。"
           f"弃购 = 加购后 {events_settings.conversion_window_days} 天内没有下单（行为数据中的下单或订单表中的购买）；"
           "只逛不买 = 有访问，行为数据和订单表中都从未下单。只统计统计日之前的事件。",
           f"The events come from {events_settings.source}: a logged-in visitor's events carry a key (customer_key), "
           "normalized as the merge normalizes key links and looked up through the merge crosswalk "
           f"({events_settings.customer_key.source}.{events_settings.customer_key.field}). An abandoned cart is an "
           f"add-to-cart with no order within {events_settings.conversion_window_days} days (an order event or a "
           "purchase in the orders table); browse without buying = visited, never ordered in the events nor in the "
           "orders table. Only events before the reference date count.")
    ctx.md(report.event_link_text(stage.event_links, language=ctx.language))
    display(report.event_links_style(report.event_links_table(stage.event_links, language=ctx.language),
                                     language=ctx.language))
    ctx.md("每位客户的行为标签只来自关联到他的事件。" + ("委托声明行为数据覆盖全部客户：没有事件的客户按“从未访问”计。"
           if events_settings.complete else "没有关联事件的客户不打行为标签（空），而不是“从未访问”：他们可能以匿名身份访问过。"),
           "A customer's behaviour tags come only from the events linked to them. " + (
           "The engagement says the events cover every customer: a customer without events counts as never visited."
           if events_settings.complete else "Customers without linked events get no behaviour tag (empty), not "
           "“never visited”: they may well have visited anonymously."))
    behaviour = report.behaviour_view(stage.behaviour, stage.catalog, language=ctx.language)
    if behaviour.empty:
        ctx.md("标签目录中没有读取行为特征的标签。", "No tag of the catalog reads an event feature.")
    else:
        charts.behaviour_chart(behaviour, ctx.t("行为标签分布", "Behaviour tags"),
                               share_label=ctx.t("占全部客户", "Share of all customers") if events_settings.complete
                               else ctx.t("占有行为数据的客户", "Share of the customers with events"))
        plt.show()
        display(report.behaviour_style(report.behaviour_table(behaviour, language=ctx.language),
                                       language=ctx.language))
    ctx.md(report.behaviour_plays_text(stage.behaviour_figures, language=ctx.language))''', "behaviour"),
    ("code", '''ctx.md("## 客户画像示例（已脱敏）", "## Example profiles (masked)")
profiles = stage.profiles
profiles.style.hide(axis="index").format(escape="html").set_properties(
    subset=[ctx.t("标签", "Tags")], **report.WIDE) if len(profiles) else None''', "profiles"),
    ("code", '''ctx.md("## 标签设计辅助：从数据出发的候选标签", "## Design aid: candidate tags from the data")
ctx.md(f"按分位数、头部取值和最近购买窗口给出的全部 {len(stage.candidates)} 个候选取值及覆盖率；`yaml` 列可直接复制到"
       "标签目录的 values 中（补上中英文名称）。",
       f"All {len(stage.candidates)} candidate values from quantile bands, top values and recency windows, with "
       "their coverage; the `yaml` column can be pasted into a catalog's values (add the zh / en names).")
report.candidate_table(stage.candidates, language=ctx.language).style.hide(axis="index").format(
    {ctx.t("覆盖率", "Coverage"): "{:.1%}", ctx.t("客户数", "Customers"): "{:,}"}, escape="html").set_properties(
    subset=[ctx.t("类型", "Kind"), ctx.t("字段", "Field"), ctx.t("取值代码", "Value code")], **report.NOWRAP).set_properties(
    subset=[ctx.t("含义", "Meaning"), ctx.t("规则", "Rule"), "yaml"], **report.WIDE)''', "candidates"),
    ("code", '''ctx.md("## 输出文件", "## Output files")
report.files_table([p.name for p in stage.written.values()], language=ctx.language).style.hide(axis="index").format(
    escape="html")''', "files"),
]
