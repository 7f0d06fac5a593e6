"""The executive summary as one HTML page fragment (shown by ``05_summary.ipynb``, rendered into ``summary.html``).

All client text (names, tags, KPI names, segment names, errors) is escaped: the page is built by hand.

Example:
    >>> fmt_number(1234567.891), fmt_percent(0.9234), fmt_number(None), fmt_measured(66.0, "单")
    ('1,234,568', '92.3%', '–', '66')
"""

from __future__ import annotations

from typing import Any

from digiops import sections
from digiops.merge.quality import MEASURE_DEFINITIONS, MEASURE_NAMES
from digiops.settings.maturity import DIMENSIONS
from digiops.summary.collect import Summary, stage_title
from digiops.text import (DECISION_KINDS, FIELD_NAMES, MISSING, PLAY_NAMES, QUARANTINE_REASONS, SEVERITY,
                          STATUS_COLOURS, TRIGGER_NAMES, escape_html, in_language, term)

SECTION_ORDER = ("maturity", "merge", "labels", "kpi")
STATUS_WORDS = {"succeeded": ("已完成", "succeeded"), "failed": ("失败", "failed"), "skipped": ("已跳过", "skipped"),
                "running": ("运行中", "running"), "pending": ("在本摘要之后运行", "runs after this summary")}


def _missing(value: float | None) -> bool:
    return value is None or value != value  # None or NaN


def fmt_number(value: float | None, digits: int = 0) -> str:
    return "–" if _missing(value) else f"{value:,.{digits}f}"


#: Shares a reader compares against (the status bands): a figure below one is never rounded up onto it.
SHARE_BOUNDS = (1.0, 0.95, 0.9, 0.8)


def fmt_percent(value: float | None, digits: int = 1) -> str:
    """A share as a percentage; more digits where rounding would cross a status bound (99.96 % is not "100.0 %").

    >>> fmt_percent(0.9996), fmt_percent(0.8999), fmt_percent(float("nan")), fmt_percent(1.0)
    ('99.96%', '89.99%', '–', '100.0%')
    """
    if _missing(value):
        return "–"
    while digits < 4 and any(value < bound <= round(value * 100, digits) / 100 for bound in SHARE_BOUNDS):
        digits += 1
    return f"{value * 100:.{digits}f}%"


def fmt_severity(severity: str | None, language: str) -> str:
    """The maturity gap severity in the report language."""
    return term(language, SEVERITY, severity) if severity else ""


#: What a measure names when it is money: a value per unit of it (元/单) keeps its decimals.
CURRENCIES = ("元", "¥", "￥", "RMB", "CNY", "yuan", "$", "€")
#: Measures of a ratio that is not a percentage (ROAS 1.07 倍): shown with decimals.
RATIOS = ("倍", "x", "×", "times", "ratio")


def is_count(measure: str) -> bool:
    """Whether a KPI's measure counts things (单, 人次, orders): shown without decimals, even a split target.

    >>> is_count("单"), is_count("人次"), is_count("元"), is_count("元/单"), is_count("%"), is_count("倍")
    (True, True, False, False, False, False)
    """
    return (bool(measure) and measure != "%" and "/" not in measure and measure not in RATIOS
            and not any(c in measure for c in CURRENCIES))


def fmt_measured(value: float | None, measure: str) -> str:
    """A KPI value in its unit: ratios measured in % are shown as percentages, counts without decimals.

    >>> fmt_measured(65.996, "单"), fmt_measured(87.456, "元/单"), fmt_measured(0.912, "%")
    ('66', '87.46', '91.2%')
    """
    if measure == "%":
        return fmt_percent(value)
    if _missing(value) or float(value).is_integer() or is_count(measure):  # counts (orders, visitors)
        return fmt_number(value)
    return fmt_number(value, 2 if abs(value) < 100 else 0)


def figure_label(key: str, language: str, summary: Summary | None = None) -> str:
    """A readable name for a compared figure key (see ``collect.headline_numbers``)."""
    fixed = {"maturity.overall_level": ("成熟度总体等级", "Overall maturity level"),
             "merge.records": ("客户记录数", "Customer records"), "merge.customers": ("真实客户数", "Real customers"),
             "merge.quarantined": ("隔离记录数", "Quarantined rows"), "labels.coverage": ("标签覆盖率", "Tag coverage"),
             "kpi.runrate.projected_attainment": ("本月预计达成率", "Projected attainment this month")}
    if key in fixed:
        return in_language(language, *fixed[key])
    parts = key.split(".")
    if key.startswith("maturity.level."):
        _, zh, en = DIMENSIONS.get(parts[-1], ("", parts[-1], parts[-1]))
        return in_language(language, f"成熟度：{zh}", f"Maturity: {en}")
    if key.startswith("labels.segment."):
        named = {s.segment: (s.name_zh, s.name_en) for s in (summary.labels.segments if summary and summary.labels
                                                              else [])}
        zh, en = named.get(parts[-1], (parts[-1], parts[-1]))
        return in_language(language, f"分群人数：{zh}", f"Segment size: {en}")
    if key.startswith("kpi.") and key.endswith(".attainment"):
        kpi = parts[1]
        names = {line.kpi: (line.name_zh, line.name_en) for line in (summary.kpi.lines if summary and summary.kpi else [])}
        zh, en = names.get(kpi, (kpi, kpi))
        return in_language(language, f"{zh} 达成率", f"{en} attainment")
    return key


def _is_share(key: str) -> bool:
    return key.endswith("attainment") or key == "labels.coverage"


def _fmt_figure(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    if _is_share(key):
        return fmt_percent(value)
    return fmt_number(value, 1 if key.startswith("maturity.") else 0)


def _status_dot(status: str) -> str:
    colour = STATUS_COLOURS.get(status, STATUS_COLOURS["none"])
    return f'<span class="dg-dot" style="color:{colour}">●</span>'


def _section(title: str, body: str, stage: str, summary: Summary, language: str) -> str:
    state = summary.stages.get(stage)
    link = ""
    if state and state.report:
        more = escape_html(in_language(language, "详细报告 →", "full report →"))
        link = f' <a class="dg-more" href="{escape_html(state.report)}">{more}</a>'
    return f"<h2>{escape_html(title)}</h2>\n{body}\n<p>{link}</p>" if link else f"<h2>{escape_html(title)}</h2>\n{body}"


def _note(text: str) -> str:
    return f'<p class="dg-note">{escape_html(text)}</p>'


def _paragraph(language: str, zh: str, en: str) -> str:
    return f"<p>{escape_html(in_language(language, zh, en))}</p>"


def _definition(language: str, zh: str, en: str) -> str:
    """How the figures above are defined, in a small line next to them."""
    return (f'<p class="dg-definition" style="color:#555;font-size:0.85em">'
            f'{escape_html(in_language(language, "口径：", "Definitions: "))}{escape_html(in_language(language, zh, en))}'
            "</p>")


def maturity_html(summary: Summary, language: str) -> str:
    facts = summary.maturity
    if facts is None:
        return _note(summary.note("maturity", language) or "")
    overall = escape_html(in_language(language, "数字化成熟度总体等级", "Overall digital maturity level"))
    parts = [f"<p>{overall}{in_language(language, '：', ': ')}<b>{escape_html(fmt_number(facts.overall_level, 1))}</b> / 5</p>"]
    if facts.gaps:
        rows = "".join(f"<tr><td>{escape_html(in_language(language, g.name_zh, g.name_en))}</td>"
                       f"<td>{escape_html(fmt_number(g.level, 1))}</td><td>{escape_html(fmt_number(g.target, 1))}</td>"
                       f"<td><b>{escape_html(fmt_number(g.gap, 1))}</b></td>"
                       f"<td>{escape_html(fmt_severity(g.severity, language))}</td></tr>"
                       for g in facts.gaps)
        head = in_language(language, "<tr><th>维度</th><th>现状</th><th>目标</th><th>差距</th><th>严重度</th></tr>",
                           "<tr><th>Dimension</th><th>Level</th><th>Target</th><th>Gap</th><th>Severity</th></tr>")
        parts.append(_paragraph(language, "差距最大的维度：", "Largest gaps:") + f"<table>{head}{rows}</table>")
    else:
        parts.append(_note(in_language(language, "各维度均已达到目标等级。", "Every dimension meets its target level.")))
    if facts.progress is not None:
        parts.append(progress_html(facts.progress, language))
    for d in facts.disagreements:
        name = in_language(language, d.name_zh, d.name_en)
        parts.append(_paragraph(language,
                                f"证据与问卷不一致：本次运行的数据显示“{name}”为 {fmt_number(d.evidence, 1)} 级，"
                                f"问卷评分为 {fmt_number(d.questionnaire, 1)} 级。",
                                f"Evidence and opinion differ: this run's data puts {name} at level "
                                f"{fmt_number(d.evidence, 1)}, the questionnaire at {fmt_number(d.questionnaire, 1)}."))
    return "\n".join(parts)


def _signed(value: float | None) -> str:
    return MISSING if value is None else f"{value:+.1f}"


def progress_html(progress, language: str) -> str:
    """Since the previous assessment: the questionnaire's overall level, the dimensions that moved, and the
    departments that moved most and least."""
    o = progress.overall
    up = [d for d in progress.dimensions if (d.change or 0) > 0]
    down = [d for d in progress.dimensions if (d.change or 0) < 0]
    listed = lambda items: in_language(language, "、", ", ").join(  # noqa: E731
        f"{in_language(language, d.name_zh, d.name_en)} {_signed(d.change)}" for d in items)
    zh = [f"与 {progress.previous_wave} 的评估相比，问卷总体等级从 {fmt_number(o.before, 1)} 变为 "
          f"{fmt_number(o.after, 1)}（{_signed(o.change)}）"]
    en = [f"Since the {progress.previous_wave} assessment the questionnaire's overall level moved from "
          f"{fmt_number(o.before, 1)} to {fmt_number(o.after, 1)} ({_signed(o.change)})"]
    if up:
        zh.append(f"提升：{listed(up)}")
        en.append(f"up: {listed(up)}")
    if down:
        zh.append(f"下降：{listed(down)}")
        en.append(f"down: {listed(down)}")
    if len(progress.departments) >= 2:
        best, worst = progress.departments[0], progress.departments[-1]
        zh.append(f"进步最大的部门是{best.key}（{_signed(best.change)}），最小的是{worst.key}（{_signed(worst.change)}）")
        en.append(f"{best.key} moved most ({_signed(best.change)}), {worst.key} least ({_signed(worst.change)})")
    return _paragraph(language, "；".join(zh) + "。", "; ".join(en) + ".")


def data_html(summary: Summary, language: str) -> str:
    facts = summary.data
    if facts is None:
        return _note(summary.note("merge", language) or "")
    parts = []
    if facts.records is not None and facts.customers is not None:
        parts.append(_paragraph(language, f"{facts.records:,} 条客户记录背后是 {facts.customers:,} 位真实客户。",
                                f"{facts.records:,} customer records hide {facts.customers:,} real customers."))
    if facts.quarantined is not None:
        parts.append(_paragraph(language, f"{facts.quarantined:,} 行因无法修复而被隔离。",
                                f"{facts.quarantined:,} rows were quarantined as unrepairable."))
    if facts.worst:
        items = "".join(f"<li>{escape_html(f.source)} · {escape_html(term(language, FIELD_NAMES, f.field))}"
                        f"{in_language(language, '：', ': ')}"
                        f"{escape_html(term(language, MEASURE_NAMES, f.measure))} "
                        f"<b>{escape_html(fmt_percent(f.value))}</b></li>" for f in facts.worst)
        parts.append(_paragraph(language, "清洗后最薄弱的数据质量项：", "Weakest data quality after cleaning:")
                     + f"<ul>{items}</ul>")
        parts.append(_definition(language, *MEASURE_DEFINITIONS))
    if facts.quarantine_reasons:
        items = "".join(f"<li>{escape_html(term(language, QUARANTINE_REASONS, reason))}"
                        f"{in_language(language, '：', ': ')}{count:,}</li>" for reason, count in facts.quarantine_reasons)
        parts.append(_paragraph(language, "主要隔离原因：", "Main quarantine reasons:") + f"<ul>{items}</ul>")
    return "\n".join(parts)


def labels_html(summary: Summary, language: str) -> str:
    facts = summary.labels
    if facts is None:
        return _note(summary.note("labels", language) or "")
    parts = [_paragraph(language,
                        f"标签目录共 {facts.tags} 个标签；{facts.customers:,} 位客户中 {fmt_percent(facts.coverage)} "
                        f"至少持有一个标签，{facts.scored:,} 位有消费的客户分入 RFM 分群。",
                        f"The catalog has {facts.tags} tags; {fmt_percent(facts.coverage)} of {facts.customers:,} "
                        f"customers hold at least one of them, and the {facts.scored:,} who bought are in an RFM "
                        "segment."),
             _definition(language, "标签覆盖率 = 至少持有一个目录标签的客户 ÷ 全部客户（值为“否”的标记不算持有）。"
                                   "RFM 分群按最近一次消费、消费次数排名五等分（只含有消费的客户）；消费金额为有效订单"
                                   "金额之和，退款冲减。",
                         "Tag coverage = customers holding at least one catalog tag ÷ all customers (a flag that is "
                         "false is not held). RFM segments rank recency and frequency into fifths, among customers "
                         "who bought; value is the sum of their valid orders, refunds deducted.")]
    rows = "".join(f"<tr><td>{escape_html(in_language(language, s.name_zh, s.name_en))}</td><td>{s.customers:,}</td>"
                   f"<td>{escape_html(fmt_percent(s.share))}</td><td>{escape_html(fmt_number(s.value))}</td>"
                   f"<td>{escape_html(fmt_percent(s.value_share))}</td></tr>" for s in facts.segments)
    head = in_language(language,
                       "<tr><th>RFM 分群</th><th>人数</th><th>占比</th><th>消费金额</th><th>金额占比</th></tr>",
                       "<tr><th>RFM segment</th><th>Customers</th><th>Share</th><th>Value</th><th>Value share</th></tr>")
    parts.append(f"<table>{head}{rows}</table>")
    if facts.plays:
        top, total = facts.plays[0], sum(p.expected_value for p in facts.plays)
        segment, play = in_language(language, top.name_zh, top.name_en), term(language, PLAY_NAMES, top.play)
        channel = in_language(language, top.channel_zh, top.channel_en)
        parts.append(_paragraph(language,
                                f"最大的机会：对“{segment}”（{top.customers:,} 人）做“{play}”，经{channel}触达，预期带来 "
                                f"{fmt_number(top.expected_value)}；全部分群策略合计预期 {fmt_number(total)}。",
                                f"The largest opportunity: {play.lower()} {segment} ({top.customers:,} customers) "
                                f"through {channel}, expected to bring {fmt_number(top.expected_value)}; all segment "
                                f"plays together {fmt_number(total)}."))
    if facts.behaviour is not None:
        b = facts.behaviour
        share = fmt_percent(b.linked / b.events if b.events else None)
        parts.append(_paragraph(language,
                                f"行为数据：{share} 的浏览、加购事件已关联到 {b.customers:,} 位客户；其中 "
                                f"{b.cart_abandoners:,} 位加购后未下单，是成本最低的挽回对象，{b.browse_never_buy:,} 位只逛不买，"
                                "适合首单培育。",
                                f"Behaviour: {share} of the visit and cart events are linked to {b.customers:,} "
                                f"customers; {b.cart_abandoners:,} of them left a cart without ordering, the cheapest "
                                f"audience to win back, and {b.browse_never_buy:,} browse but never buy, an audience "
                                "for a first-order nurture."))
    return "\n".join(parts)


def kpi_html(summary: Summary, language: str) -> str:
    facts = summary.kpi
    if facts is None:
        return _note(summary.note("kpi", language) or "")
    parts = []
    if facts.review_period:
        month = escape_html(in_language(language, "复盘月份：", "Review month: "))
        parts.append(f"<p>{month}<b>{escape_html(facts.review_period)}</b></p>")
    rows = "".join(f"<tr><td>{_status_dot(l.status)} {escape_html(in_language(language, l.name_zh, l.name_en))}</td>"
                   f"<td>{escape_html(fmt_measured(l.actual, l.measure))}</td>"
                   f"<td>{escape_html(fmt_measured(l.target, l.measure))}</td>"
                   f"<td><b>{escape_html(fmt_percent(l.attainment))}</b></td></tr>" for l in facts.lines)
    head = in_language(language, "<tr><th>KPI</th><th>实际</th><th>目标</th><th>达成率</th></tr>",
                       "<tr><th>KPI</th><th>Actual</th><th>Target</th><th>Attainment</th></tr>")
    if rows:
        parts.append(f"<table>{head}{rows}</table>")
    names = {l.kpi: in_language(language, l.name_zh, l.name_en) for l in facts.lines}
    defined = "；".join(f"{names[l.kpi]}：{l.definition}" for l in facts.lines if l.definition)
    parts.append(_definition(language, "达成率 = 实际 ÷ 目标（越低越好的指标为 目标 ÷ 实际）；绿 ≥ 100 %，黄 ≥ 90 %，"
                                       f"红低于 90 %。{defined}",
                             "Attainment = actual ÷ target (target ÷ actual where lower is better); green ≥ 100 %, "
                             f"amber ≥ 90 %, red below. {defined}"))
    if facts.driver:
        d = facts.driver
        name, item = names.get(d.kpi, d.kpi), names.get(d.item, d.item)  # a factor is a KPI of the tree
        parts.append(_paragraph(language, f"{name} 环比变化的主要驱动因素：{item}（贡献 {fmt_number(d.contribution)}）。",
                                f"Main driver of the change in {name}: {item} "
                                f"(contribution {fmt_number(d.contribution)})."))
    if facts.runrate:
        r = facts.runrate
        name = names.get(r.kpi, r.kpi)
        parts.append(_paragraph(language,
                                f"按当前进度，{r.period} 的 {name} 预计为 {fmt_number(r.projection)}，"
                                f"达成率 {fmt_percent(r.projected_attainment)}；达标需日均 {fmt_number(r.required_daily)}。",
                                f"At the current run-rate, {name} for {r.period} is projected at "
                                f"{fmt_number(r.projection)} ({fmt_percent(r.projected_attainment)} of target); "
                                f"meeting the target needs {fmt_number(r.required_daily)} a day."))
    if facts.cascade and (facts.cascade.derived or facts.cascade.checks):
        c = facts.cascade
        coherent = (in_language(language, f"各层级目标 {c.checks:,} 项一致性检查全部通过。",
                                f"all {c.checks:,} coherence checks between levels hold.") if not c.failed else
                    in_language(language, f"各层级目标 {c.checks:,} 项一致性检查中 {c.failed:,} 项不一致（见 KPI 报告）。",
                                f"{c.failed:,} of {c.checks:,} coherence checks between levels fail (see the KPI "
                                "report)."))
        parts.append(_paragraph(language, f"目标拆解：{c.derived:,} 个目标由上级拆解到大区、门店与月份；{coherent}",
                                f"Target cascade: {c.derived:,} targets split down to regions, stores and months; "
                                f"{coherent}"))
    if facts.spend is not None:
        parts.append(spend_html(facts.spend, language))
    if facts.next_actions:
        counts = {t: 0 for t in TRIGGER_NAMES}  # an action merging two findings counts under both, as in the report
        for action in facts.next_actions:
            for trigger in action.triggers or [action.trigger]:
                counts[trigger] = counts.get(trigger, 0) + 1
        counts = {t: n for t, n in counts.items() if n}
        why = in_language(language, "、", ", ").join(f"{term(language, TRIGGER_NAMES, t)} {n}"
                                                    for t, n in counts.items())
        parts.append(_paragraph(language,
                                f"本次复盘为下一周期提出 {len(facts.next_actions)} 项行动（{why}），每项都有负责人、截止日期"
                                "和要推动的指标，下次复盘衡量其效果。最优先的三项：",
                                f"The review proposes {len(facts.next_actions)} actions for the next cycle ({why}), "
                                "each with an owner, a due date and the KPI it should move; the next review measures "
                                "their effect. The first three:"))
        items = "".join(f"<li>{escape_html(in_language(language, a.text_zh, a.text_en))}"
                        f"{escape_html(' — ' + a.owner) if a.owner else ''}"
                        f"{escape_html(in_language(language, '，截止 ', ', due ') + a.due) if a.due else ''}</li>"
                        for a in facts.next_actions[:3])
        parts.append(f"<ol>{items}</ol>")
    return "\n".join(parts)


def spend_html(spend, language: str) -> str:
    """Marketing spend over the period: what it cost per customer, what it returned, what brought nothing."""
    cac = f"¥{fmt_number(spend.cac)}" if spend.cac is not None else MISSING
    roas = fmt_number(spend.roas, 2)
    zh = (f"全期营销投放 ¥{fmt_number(spend.total)}，按首触渠道归因新客 {fmt_number(spend.new_customers)} 人，"
          f"获客成本 {cac}，投放回报（ROAS）{roas}")
    en = (f"Marketing spent ¥{fmt_number(spend.total)} over the period; by first touch it brought "
          f"{fmt_number(spend.new_customers)} new customers at a CAC of {cac} and a ROAS of {roas}")
    if spend.no_effect_share:
        campaigns = in_language(language, "、", ", ").join(spend.no_effect_campaigns[:3])
        zh += f"。其中 {fmt_percent(spend.no_effect_share)} 的投放没有可测量的效果（{campaigns}）"
        en += f". {fmt_percent(spend.no_effect_share)} of it had no measurable effect ({campaigns})"
    if spend.best_channel:
        zh += f"；回报最高的渠道是{spend.best_channel}（ROAS {fmt_number(spend.best_roas, 2)}）"
        en += f"; the best channel is {spend.best_channel} (ROAS {fmt_number(spend.best_roas, 2)})"
    return _paragraph(language, zh + "。", en + ".")


def _months(months: str, language: str) -> str:
    """A roadmap phase's months (``1–6``) as a reader says them."""
    return in_language(language, f"第 {months} 月", f"months {months}")


def roadmap_html(summary: Summary, language: str) -> str:
    if summary.pilots is None:
        return _note(summary.note("maturity", language)
                     or in_language(language, "路线图不可用。", "No roadmap is available."))
    if not summary.pilots:
        return _note(in_language(language, "试点期没有计划举措。", "No initiative is planned for the pilot phase."))
    budget = escape_html(in_language(language, "预算 ", "budget "))
    items = "".join(f"<li><b>{escape_html(in_language(language, i.name_zh, i.name_en))}</b>"
                    f"{(' · ' + escape_html(_months(i.months, language))) if i.months else ''}"
                    f"{(' · ' + budget + escape_html(fmt_number(i.budget))) if i.budget is not None else ''}</li>"
                    for i in summary.pilots)
    return f"<ul>{items}</ul>"


def decisions_html(summary: Summary, language: str) -> str:
    """The committee view: how the initiatives stand against the register, and every decision it must take."""
    facts = summary.initiatives
    if facts is None:
        if summary.pilots is None:
            return _note(summary.note("maturity", language) or "")
        return _note(in_language(language, "没有举措台账：登记每项举措的负责人、里程碑与预算后，这里列出委员会需要决定的事项。",
                                 "No initiative register: once each initiative's owner, milestones and budget are "
                                 "recorded, the decisions the committee must take are listed here."))
    spent = (in_language(language, f"，已花费 {fmt_number(facts.spent)} / 批准预算 {fmt_number(facts.approved)}",
                         f"; {fmt_number(facts.spent)} spent of {fmt_number(facts.approved)} approved")
             if facts.approved else "")
    parts = [_paragraph(language,
                        f"举措进展：{facts.on_track} 项正常，{facts.at_risk} 项有风险，{facts.late} 项延期，"
                        f"{facts.over_budget} 项超预算，{facts.milestones_overdue} 个里程碑逾期{spent}。",
                        f"Initiatives: {facts.on_track} on track, {facts.at_risk} at risk, {facts.late} late, "
                        f"{facts.over_budget} over budget, {facts.milestones_overdue} milestones overdue{spent}.")]
    if not facts.decisions:
        parts.append(_note(in_language(language, "没有需要委员会决定的事项。", "No decision is waiting for the committee.")))
        return "\n".join(parts)
    rows = []
    for d in facts.decisions:
        what = d.text or ""
        if d.kind == "over_budget" and d.amount is not None:
            what = in_language(language, f"超出 {fmt_number(d.amount)}", f"{fmt_number(d.amount)} over")
        rows.append(f"<tr><td>{escape_html(in_language(language, d.name_zh, d.name_en))}</td>"
                    f"<td>{escape_html(term(language, DECISION_KINDS, d.kind))}</td><td>{escape_html(what or MISSING)}</td>"
                    f"<td>{escape_html(d.owner or in_language(language, '（待指定）', '(to be named)'))}</td>"
                    f"<td>{escape_html(d.due or MISSING)}</td></tr>")
    head = in_language(language, "<tr><th>举措</th><th>事项</th><th>内容</th><th>负责人</th><th>日期</th></tr>",
                       "<tr><th>Initiative</th><th>Matter</th><th>Detail</th><th>Owner</th><th>Date</th></tr>")
    parts.append(_paragraph(language, f"需要委员会决定的 {len(facts.decisions)} 个事项：",
                            f"The {len(facts.decisions)} matters the committee must decide:")
                 + f"<table>{head}{''.join(rows)}</table>")
    return "\n".join(parts)


#: The figures a trend table shows, in this order: KPI attainment, maturity levels, segment sizes, then the rest.
TREND_FAMILIES = ("kpi.", "maturity.", "labels.segment.", "")


def _run_label(run_id: str) -> str:
    """``20260416T120000-…`` → ``2026-04-16 12:00`` (a run id starts with its UTC start time)."""
    stamp = run_id[:13]
    if len(stamp) == 13 and stamp[8] == "T" and stamp.replace("T", "").isdigit():
        return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
    return run_id


def trends_html(summary: Summary, language: str) -> str:
    """Each headline figure (KPI attainment, maturity levels, segment sizes, …) across the client's reviews."""
    trends = summary.trends or []
    runs = list(trends[0].values) if trends else []
    if len(runs) < 2:
        return _note(in_language(language, "这是该客户第一次有摘要的成功运行：从下一次复盘起，这里显示各项核心数字的趋势。",
                                 "This is the client's first successful run with a summary: from the next review on, "
                                 "this shows how each headline figure moves."))
    order = {family: index for index, family in enumerate(TREND_FAMILIES)}
    ranked = sorted(trends, key=lambda trend: min(order[f] for f in TREND_FAMILIES if trend.figure.startswith(f)))
    head = "".join(f"<th>{escape_html(_run_label(run))}</th>" for run in runs)
    rows = "".join(f"<tr><td>{escape_html(figure_label(trend.figure, language, summary))}</td>" + "".join(
        f"<td>{escape_html(_fmt_figure(trend.figure, trend.values.get(run)))}</td>" for run in runs) + "</tr>"
        for trend in ranked)
    figure = escape_html(in_language(language, "指标", "Figure"))
    return f"<table class='dg-trends'><tr><th>{figure}</th>{head}</tr>{rows}</table>"


def changes_html(summary: Summary, language: str) -> str:
    if summary.previous_run is None:
        return _note(in_language(language, "这是该客户的第一次成功运行，暂无可比较的上一次运行。",
                                 "This is the client's first successful run: there is no previous run to compare "
                                 "with."))
    if not summary.changes:
        previous = _run_label(summary.previous_run)
        return _note(in_language(language, f"与上一次运行（{previous}）相比，核心数字没有变化。",
                                 f"No headline figure changed since the previous run ({previous})."))
    rows = "".join(f"<tr><td>{escape_html(figure_label(c.figure, language, summary))}</td>"
                   f"<td>{escape_html(_fmt_figure(c.figure, c.before))}</td>"
                   f"<td>{escape_html(_fmt_figure(c.figure, c.after))}</td></tr>" for c in summary.changes)
    head = in_language(language, "<tr><th>指标</th><th>上次</th><th>本次</th></tr>",
                       "<tr><th>Figure</th><th>Previous</th><th>This run</th></tr>")
    compared = escape_html(in_language(language, "对比上一次运行", "Compared with the previous run"))
    return (f"<p>{compared} {escape_html(_run_label(summary.previous_run))}{in_language(language, '：', ':')}</p>"
            f"<table>{head}{rows}</table>")


def links_html(summary: Summary, language: str) -> str:
    items = []
    for state in summary.stages.values():
        if state.name == "summary":
            continue
        title = escape_html(stage_title(state.name, language))
        status = escape_html(term(language, STATUS_WORDS, state.status))
        items.append(f'<li><a href="{escape_html(state.report)}">{title}</a> ({status})</li>' if state.report
                     else f"<li>{title} ({status})</li>")
    return f"<ul>{''.join(items)}</ul>"


#: section id (digiops.sections: the titles) → the stage whose report it links to (None: no link) and its body.
SECTIONS: dict[str, tuple[str | None, Any]] = {
    "maturity": ("maturity", maturity_html),
    "data": ("merge", data_html),
    "labels": ("labels", labels_html),
    "kpi": ("kpi", kpi_html),
    "roadmap": ("maturity", roadmap_html),
    "decisions": ("maturity", decisions_html),
    "changes": (None, changes_html),
    "trends": (None, trends_html),
    "links": (None, links_html),
}


def section(summary: Summary, section_id: str, language: str | None = None) -> str:
    """One section of the page (heading and body) as HTML; in the run's language unless one is given."""
    language = language or summary.language
    stage, build = SECTIONS[section_id]
    heading = sections.BY_KEY[f"summary.{section_id}"].title(language)
    if stage is None:
        return f"<h2>{escape_html(heading)}</h2>" + build(summary, language)
    return _section(heading, build(summary, language), stage, summary, language)


def section_html(summary: Summary, language: str | None = None) -> list[tuple[str, str]]:
    """(heading, HTML body) of every section, in reading order; in the run's language unless one is given."""
    language = language or summary.language
    return [(sections.BY_KEY[f"summary.{key}"].title(language), section(summary, key, language)) for key in SECTIONS]


def summary_html(summary: Summary, language: str | None = None) -> str:
    """The whole page body as one HTML fragment."""
    return "\n".join(body for _, body in section_html(summary, language))
