"""Cells of notebooks/01_clean_merge.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "merge"

CELLS = [
    ("code", 'ctx.md("同一位客户在不同部门的系统里有不同的信息和标签；本阶段清洗每个来源，用 Splink 把分散的记录识别为同一客户，"\n'
             '       "并打通渠道 → 订单 → 物流的全链路。",\n'
             '       "The same customer holds different information in different departments\' systems. This stage "\n'
             '       "cleans every source, resolves scattered records to one customer with Splink, and closes the link from "\n'
             '       "channel to order to delivery.")', "intro"),
    ("code", "from digiops import merge\n"
             "from digiops.merge import report\n"
             "result = merge.run(ctx)\n"
             "counts = result.counts()\n"
             "report.headline_view(counts, ctx.language).style.hide(axis='index')"),
    ("code", 'ctx.md("## 每一行原始数据的去向", "## Where every raw row went")\n'
             "report.styled(result.accounting, ctx.language)", "accounting"),
    ("code", 'ctx.md("## 清洗前后的数据质量", "## Data quality before and after cleaning")\n'
             "ctx.md(*report.MEASURE_DEFINITIONS)\n"
             "ctx.md('清洗前后都没有任何度量的字段（来源中没有该字段）不列出。', 'Fields a source does not carry (no measure before or after) are not listed.')\n"
             "report.styled(report.quality_summary(result.data_quality), ctx.language)", "quality"),
    ("code", "import matplotlib.pyplot as plt\n"
             "person = result.data_quality[result.data_quality['field'].isin(['full_name', 'phone', 'email', 'birth_date', 'address', 'order_time', 'amount'])]\n"
             "report.quality_chart(person, 'conformity', ctx.t('标准格式：清洗前 vs 清洗后',\n"
             "                                                 'Standard format: before vs after cleaning'), ctx.language)\n"
             "plt.show()"),
    ("code", 'ctx.md("## 多少记录背后是多少真实客户", "## How many real customers hide behind how many records")\n'
             "ctx.md(f\"{counts['records']:,} 条客户相关记录合并为 {counts['customers']:,} 位客户。\",\n"
             "       f\"{counts['records']:,} customer-bearing records resolve to {counts['customers']:,} customers.\")\n"
             "report.styled(report.source_overlap(result.customers), ctx.language)", "customers"),
    ("code", 'ctx.md("### 客户编号的延续", "### Customer ids carried from the previous run")\n'
             "if counts['records_seen_before'] == 0:\n"
             "    ctx.md('本客户没有上一次运行的合并结果：客户编号从 C0000001 起新编。',\n"
             "           'This client has no previous merge: customer ids are numbered from C0000001.')\n"
             "else:\n"
             "    kept = 1 - counts['records_changed_id'] / counts['records_seen_before']\n"
             "    ctx.md(f\"上次已有的 {counts['records_seen_before']:,} 条记录中 {kept:.2%} 保留原客户编号；沿用编号 \"\n"
             "           f\"{counts['ids_kept']:,} 个，新编号 {counts['ids_new']:,} 个，停用编号 {counts['ids_retired']:,} 个\"\n"
             "           f\"（合并时保留上次记录最多的编号，拆分时记录最多的一方保留编号；变动明细见 id_changes.parquet）。\",\n"
             "           f\"Of the {counts['records_seen_before']:,} records seen in the previous run, {kept:.2%} keep their \"\n"
             "           f\"customer id; {counts['ids_kept']:,} ids carried, {counts['ids_new']:,} new, \"\n"
             "           f\"{counts['ids_retired']:,} retired (in a merge the id with the most prior records survives, in a \"\n"
             "           f\"split the part with most of them keeps it; every change is in id_changes.parquet).\")\n"
             "    changes = result.id_changes['reason'].value_counts().rename_axis('reason').reset_index()\n"
             "    if len(changes):\n"
             "        display(report.styled(changes, ctx.language))"),
    ("code", 'ctx.md("### 哪些系统共享客户", "### Which systems share customers")\n'
             "import seaborn as sns\n"
             "shared = report.source_pairs(result.customers)\n"
             "fig, ax = plt.subplots(figsize=(7, 5))\n"
             "sns.heatmap(shared, annot=True, fmt=',d', cmap='Blues', ax=ax, cbar=False)\n"
             "ax.set_title(ctx.t('两两系统共有的客户数', 'Customers present in both systems'))\n"
             "plt.show()"),
    ("code", 'ctx.md("## 客户簇大小分布", "## Cluster-size distribution")\n'
             "sizes = report.cluster_sizes(result.file('crosswalk'))\n"
             "fig, ax = plt.subplots(figsize=(8, 3.5))\n"
             "sns.barplot(data=sizes, x='records', y='customers', color='#4c72b0', ax=ax)\n"
             "ax.set_xlabel(ctx.t('每位客户的记录数', 'records per customer')); ax.set_ylabel(ctx.t('客户数', 'customers'))\n"
             "plt.show()", "clusters"),
    ("code", 'ctx.md("## 匹配模型：比较层级的权重", "## The match model: weights of the comparison levels")\n'
             "if result.model is not None and result.model.method == 'deterministic':\n"
             "    ctx.md(f'客户档案仅 {result.model.n_profiles} 份，少于训练模型所需的 {result.model.min_profiles} 份：未训练模型，'\n"
             "           '按精确规则合并（同一手机、邮箱或证件号且姓名不冲突，或同名同生日）。',\n"
             "           f'Only {result.model.n_profiles} customer profiles, fewer than the {result.model.min_profiles} a model '\n"
             "           'needs: no model was trained; records were linked by exact rules (the same phone, e-mail or id '\n"
             "           'number with names that do not conflict, or the same name and birth date).')\n"
             "else:\n"
             '    ctx.md("Fellegi–Sunter 模型：u 由随机抽样估计，m 由 EM 估计；权重 = log2(m/u)。汉字姓名只做精确比较，模糊比较只用于拼音等 ASCII 字段。",\n'
             '           "Fellegi–Sunter: u from random sampling, m by EM; weight = log2(m/u). Hanzi names are compared exactly; "\n'
             '           "fuzzy comparisons run on ASCII (pinyin) only.")\n'
             "weights = report.level_weights(result.model.linker) if result.model is not None and result.model.linker is not None else None\n"
             "report.styled(weights, ctx.language, precision=3) if weights is not None else None", "model"),
    ("code", 'ctx.md("### 几对示例记录（已脱敏）", "### A few example pairs (masked)")\n'
             "if weights is not None:\n"
             "    display(report.styled(report.example_pairs(result.model.pairs, result.profiles, weights, ctx.settings.match_threshold), ctx.language, precision=2))"),
    ("code", 'ctx.md("## 真实导出中的脏数据", "## The dirt the exports carry")\n'
             'ctx.md("每个来源中脱敏手机号、隐私号（分机 / 虚拟号段）、以数字导出的手机号、脱敏或仅有姓氏的姓名、昵称、"\n'
             '       "占位名、代收人以及脱敏或占位地址所占的比例（%）。脱敏值作为部分证据参与匹配，昵称、占位名和代收人不作为姓名。",\n'
             '       "Per source, the share (%) of masked phones, privacy numbers (extension / virtual segment), phones "\n'
             '       "exported as numbers, masked or surname-only names, nicknames, placeholders, proxy receivers and masked "\n'
             '       "or placeholder addresses. Masked values count as partial evidence; nicknames, placeholders and proxy "\n'
             '       "receivers are no name.")\n'
             "dirt = report.dirt_table(result.prepared).rename(columns={k: ctx.t(*v) for k, v in report.DIRT_NAMES.items()})\n"
             "report.styled(dirt, ctx.language) if len(dirt) else None", "dirt"),
    ("code", 'ctx.md("### 订单与订单行", "### Orders and order lines")\n'
             "grains = report.order_grain(result.prepared)\n"
             "ctx.md(*report.order_grain_note(grains))\n"
             "report.styled(grains, ctx.language) if len(grains) else None"),
    ("code", 'ctx.md("## 键关联：确定同一客户的编号", "## Key links: numbers that name the same customer")\n'
             'ctx.md("运单上的订单号、小票上的会员卡号、平台买家 ID / openid / unionid 以及合作文件 merge.key_links "\n'
             '       "声明的关联，在概率模型之前确定地把记录归到同一客户；找不到对应记录的编号只计数，不报错。",\n'
             '       "A waybill\'s order number, a receipt\'s member card, a platform buyer id / openid / unionid and the "\n'
             '       "links declared in merge.key_links join their records with certainty, before the probabilistic "\n'
             '       "model; a key that finds no partner is counted, not an error.")\n'
             "report.styled(result.key_links, ctx.language) if len(result.key_links) else None", "keys"),
    ("code", 'ctx.md("## 订单状态：哪些订单计入 GMV", "## Order states: which orders count toward GMV")\n'
             'ctx.md("订单状态按合作文件的 merge.order_states 归类。已付款订单与退款单（负金额冲减）计入 GMV；"\n'
             '       "只以状态标记的退款（如“已退款”：金额为正，没有退款单）、已取消 / 交易关闭的订单和测试单不计入。",\n'
             '       "Statuses map to states through merge.order_states. Paid orders and refund rows (negative amounts "\n'
             '       "that net out) count toward GMV; refunds marked only by their status (e.g. 已退款: a positive amount "\n'
             '       "and no refund row), cancelled / closed orders and test orders do not.")\n'
             "report.styled(report.order_states(result.file('orders')), ctx.language, precision=2)", "states"),
    ("code", 'ctx.md("### 未识别的订单状态", "### Order statuses no state knows")\n'
             "ctx.md(*report.unknown_status_note(result.unknown_statuses))\n"
             "report.styled(result.unknown_statuses, ctx.language, precision=2) if len(result.unknown_statuses) else None"),
    ("code", 'ctx.md("## 一笔订单的全链路：渠道 → 订单 → 物流（已脱敏）", "## One order from channel to delivery (masked)")\n'
             "journey = result.journey()\n"
             "report.styled(report.masked_journey(journey, ctx.language), ctx.language, precision=2) if len(journey) else None", "journey"),
    ("code", 'ctx.md("## 隔离的数据及原因", "## What was quarantined and why")\n'
             "report.styled(report.quarantine_reasons(result.file('quarantine')), ctx.language)", "quarantine"),
    ("code", 'ctx.md("### 隔离明细示例", "### Quarantined rows, an example")\n'
             "shown = report.quarantine_detail(result.quarantine_head(10), ctx.language)\n"
             "note = report.shown_note(len(shown), result.headline['quarantined'], 'outputs/merge/quarantine.parquet')\n"
             "if note:\n"
             "    ctx.md(*note)\n"
             "report.styled(shown, ctx.language) if len(shown) else None", "quarantine_detail"),
    ("code", 'ctx.md("## 待人工复核的边界样本对", "## Borderline pairs for clerical review")\n'
             "ctx.md(f\"{len(result.review_pairs):,} 对尚未判定的记录写入 review_pairs.xlsx 的“待复核”表：在“判定”列选择 是 / 否 / 不确定，\"\n"
             "       \"把文件放进客户文件夹并在合作文件的 merge.review_file 中指定，下次运行即采纳。“否”让两条记录分属不同客户，\"\n"
             "       \"即使其他记录把它们连在一起；已做出的判定不再列出，并随新文件的“已复核”表保留。\",\n"
             "       f\"{len(result.review_pairs):,} undecided pairs written to the sheet 'to review' of review_pairs.xlsx: choose \"\n"
             "       \"match / not-match / unsure in its decision column, put the file in the client folder and name it in \"\n"
             "       \"merge.review_file: the next run honours it. A not-match keeps the two records in different customers even \"\n"
             "       \"when other records connect them; pairs already decided are not listed again and are carried in the new \"\n"
             "       \"file's sheet 'decided'.\")\n"
             "note = report.shown_note(min(5, len(result.review_pairs)), len(result.review_pairs), 'review_pairs.xlsx')\n"
             "if note:\n"
             "    ctx.md(*note)\n"
             "report.review_table(result.review_pairs.head(5), ctx.language).style.hide(axis='index').format(precision=4, na_rep=report.MISSING, escape='html')", "review"),
    ("code", 'ctx.md("### 复核判定的采纳情况", "### How the review decisions were applied")\n'
             "decisions = result.model.decisions if result.model is not None else None\n"
             "if decisions is None or decisions.empty:\n"
             "    ctx.md('本次运行没有复核判定（合作文件的 merge.review_file 未指定文件，或文件中没有判定）。',\n"
             "           'This run had no review decisions (merge.review_file names no file, or the file has none).')\n"
             "else:\n"
             "    display(report.applied_summary(decisions, ctx.language).style.hide(axis='index').format(na_rep=report.MISSING, escape='html'))\n"
             "    display(report.decided_table(decisions, ctx.language).style.hide(axis='index').format(na_rep=report.MISSING, escape='html'))"),
]
