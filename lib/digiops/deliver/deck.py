"""The steering-committee deck: one 16:9 PPTX built with python-pptx from a run's facts, charts and commentary.

A title slide (client, engagement, period, consultancy, logo, date), then one slide per headline finding whose
stage produced figures, in this order (:data:`FINDINGS`): KPI attainment, the variance bridge, maturity and its
gaps, the roadmap's pilot phase, customer segments and their migration, data quality; then, when the roadmap has
pilot initiatives, the decisions the committee is asked to take. A finding whose stage did not run is left out
(the executive summary says why); a finding without charts shows its text only.

Each finding slide carries its section's charts (:func:`digiops.sections.images`), scaled to fit without
distortion, two or three sentences built from the facts (:mod:`digiops.summary.collect`, never recomputed), and
the consultant's comment on the sections it covers, marked as such. Everything is in the engagement's language;
every run names an East-Asian typeface so PowerPoint shows Hanzi with a Chinese font.

Example:
    >>> comment_lines("**GMV** missed in *East*:\\n\\n- confirm the targets\\n- review `store` plans")
    [('GMV missed in East:', 0), ('• confirm the targets', 0), ('• review store plans', 0)]
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date

from bs4 import BeautifulSoup, Tag
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.lang import MSO_LANGUAGE_ID
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.oxml.xmlchemy import OxmlElement
from pptx.parts.image import Image
from pptx.util import Emu, Inches, Pt

from digiops import sections
from digiops.archive import COMMENTARY_LABEL, markdown_html
from digiops.errors import StageError
from digiops.merge.quality import MEASURE_NAMES
from digiops.settings.maturity import DIMENSIONS
from digiops.summary.collect import NO_SEGMENT, KpiLine, Summary
from digiops.summary.render import fmt_measured, fmt_number, fmt_percent
from digiops.text import FIELD_NAMES, KPI_STATUS, MISSING, QUARANTINE_REASONS, in_language, term


@dataclass(frozen=True)
class Branding:
    """How the deck looks: the consultancy's name and colours, the client's logo."""

    consultancy: str = ""  # the consultancy's name, shown on every slide footer and the title
    primary: str = "#1f4e79"  # hex colours
    accent: str = "#e69138"
    logo: bytes | None = None  # the client's logo (PNG/JPEG bytes) or None


@dataclass(frozen=True)
class FindingSlide:
    """One finding slide: its title and sentences, and the report sections whose charts and comments it shows."""

    key: str
    title: str
    sentences: list[str]
    charts: tuple[str, ...]
    comments: tuple[str, ...]


#: finding → (the sections whose charts it shows, the sections whose commentary it shows), in slide order.
FINDINGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "kpi": (("kpi.situation",), ("summary.kpi", "kpi.situation")),
    "variance": (("kpi.variance",), ("kpi.variance",)),
    "maturity": (("maturity.scores", "maturity.gaps"), ("summary.maturity", "maturity.scores", "maturity.gaps")),
    "roadmap": (("maturity.roadmap",), ("summary.roadmap", "maturity.roadmap")),
    "labels": (("labels.rfm", "labels.migration"), ("summary.labels", "labels.rfm", "labels.migration")),
    "data": (("merge.quality",), ("summary.data", "merge.quality")),
}

# PowerPoint's 16:9 slide, 13.333 × 7.5 in.
SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)
MARGIN = Inches(0.5)
TITLE_BAR = Inches(0.95)
BODY_TOP = Inches(1.25)
FOOTER_TOP = Inches(7.0)
BODY_BOTTOM = Inches(6.85)
TEXT_WIDTH = Inches(4.3)  # the text column beside the charts
GAP = Inches(0.2)
FONT = "Arial"
#: PowerPoint draws Hanzi with the run's East-Asian typeface; python-pptx only sets the Latin one.
EAST_ASIAN_FONT = "Microsoft YaHei"
DARK, GREY = RGBColor(0x26, 0x26, 0x26), RGBColor(0x70, 0x70, 0x70)
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")
WORDS = {
    "subtitle": ("指导委员会汇报", "Steering committee review"),
    "period": ("项目周期", "Engagement period"),
    "decisions": ("决策与下一步", "Decisions and next steps"),
}
_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]")
_HEX = re.compile(r"^#?[0-9a-fA-F]{6}$")


# --- words ---------------------------------------------------------------------------------------------------------
def _readable(name: str) -> str:
    """A name as a reader sees it: a code that reached here unnamed (``at_risk``) reads as words (``at risk``)."""
    return name.replace("_", " ") if _SNAKE.match(name) else name


def _named(language: str, zh: str, en: str) -> str:
    return _readable(in_language(language, zh, en))


def _w(name: str) -> str:
    """A name set into Chinese text: a space on each side that is Latin or a digit (``GMV 达成率``, ``成交总额达成率``)."""
    if not name:
        return name
    return (" " if not _CJK.match(name[0]) else "") + name + (" " if not _CJK.match(name[-1]) else "")


def _tidy(text: str) -> str:
    """Chinese text as it is typeset: one space at most, and none beside full-width punctuation."""
    text = re.sub(r" {2,}", " ", text)
    return re.sub(r" ?([，。；：、（）「」]) ?", r"\1", text).strip()


def _signed(value: float | None) -> str:
    return MISSING if value is None else ("+" if value > 0 else "") + fmt_number(value)


def _colon(language: str) -> str:
    return in_language(language, "：", ": ")


def _listed(language: str, items: list[str]) -> str:
    return in_language(language, "、", ", ").join(items)


def _sentence(language: str, text: str) -> str:
    return text + in_language(language, "。", ".")


def _dimension(code: str, language: str) -> str:
    _, zh, en = DIMENSIONS.get(code, ("", code, code))
    return _named(language, zh, en)


def _headline_line(lines: list[KpiLine], focus: str | None) -> KpiLine | None:
    """The KPI the review leads with: the one the kpi stage attributed, else GMV, else the first with a target."""
    by_kpi = {line.kpi: line for line in lines}
    for kpi in (focus, "gmv"):
        if kpi in by_kpi:
            return by_kpi[kpi]
    return next((line for line in lines if line.attainment is not None), lines[0] if lines else None)


def _kpi_names(summary: Summary, language: str) -> dict[str, str]:
    return {line.kpi: _named(language, line.name_zh, line.name_en) for line in summary.kpi.lines}


def kpi_sentences(summary: Summary, language: str) -> list[str]:
    """How many KPIs met their target, the headline KPI's attainment, the run-rate outlook and the KPIs missed."""
    facts = summary.kpi
    lines = facts.lines
    if not lines:
        return [in_language(language, "本次复盘没有可评估的 KPI。", "This review has no KPI to judge.")]
    names = _kpi_names(summary, language)
    count = {status: sum(line.status == status for line in lines) for status in KPI_STATUS}
    parts = [in_language(language, f"{len(lines)} 个 KPI 中 {count['green']} 个达成",
                         f"{count['green']} of {len(lines)} KPIs met their target")]
    for status, zh, en in (("amber", "预警", "close"), ("red", "未达成", "missed"), ("none", "没有目标", "without a target")):
        if count[status]:
            parts.append(in_language(language, f"{count[status]} 个{zh}", f"{count[status]} {en}"))
    counts = in_language(language, "，", ", ").join(parts)
    focus = facts.driver.kpi if facts.driver else facts.runrate.kpi if facts.runrate else None
    headline = _headline_line(lines, focus)
    sentences = [counts + in_language(language, "。", ".")]
    if headline is not None and headline.attainment is not None:
        name = names[headline.kpi]
        month = f"{facts.review_period} " if facts.review_period else ""
        actual, target = fmt_measured(headline.actual, headline.measure), fmt_measured(headline.target, headline.measure)
        sentences[0] = counts + in_language(
            language, f"；{month}{_w(name)}达成率 {fmt_percent(headline.attainment)}（实际 {actual}，目标 {target}）。",
            f"; {name} attainment {fmt_percent(headline.attainment)} in {month.strip() or 'the review month'} "
            f"(actual {actual}, target {target}).")
    outlook = facts.runrate
    if outlook is not None and outlook.projected_attainment is not None:
        name = names.get(outlook.kpi, _readable(outlook.kpi))
        sentences.append(in_language(
            language, f"按当前进度，{outlook.period} 的{_w(name)}预计达成 {fmt_percent(outlook.projected_attainment)}，"
                      f"达标需日均 {fmt_number(outlook.required_daily)}。",
            f"At the current run-rate, {name} for {outlook.period} is projected at "
            f"{fmt_percent(outlook.projected_attainment)} of target; meeting it needs {fmt_number(outlook.required_daily)}"
            " a day."))
    missed = [line for line in lines if line.status == "red"]
    if missed:
        shown = _listed(language, [f"{names[line.kpi]}（{fmt_percent(line.attainment)}）" if language == "zh"
                                   else f"{names[line.kpi]} ({fmt_percent(line.attainment)})" for line in missed[:3]])
        more = in_language(language, " 等" if len(missed) > 3 else "", " and others" if len(missed) > 3 else "")
        sentences.append(_sentence(language, in_language(language, "未达成：", "Missed: ") + shown + more))
    return sentences


def variance_sentences(summary: Summary, language: str) -> list[str]:
    """What moved the headline KPI since the previous month, and how its main driver stands."""
    driver = summary.kpi.driver
    if driver is None:
        return [in_language(language, "本次复盘没有可归因的环比变化。",
                            "This review has no month-over-month change to attribute.")]
    names = _kpi_names(summary, language)
    kpi, item = names.get(driver.kpi, _readable(driver.kpi)), names.get(driver.item, _readable(driver.item))
    moved = in_language(language, f"{_w(kpi)}环比变化 {_signed(driver.change)}，", f"{kpi} changed by "
                        f"{_signed(driver.change)} since the previous month; ") if driver.change is not None else \
        in_language(language, f"{_w(kpi)}环比变化的", f"For the change in {kpi}, ")
    sentences = [in_language(language, f"{moved}主要驱动因素是{_w(item)}，贡献 {_signed(driver.contribution)}。",
                             f"{moved}the main driver was {item}, contributing {_signed(driver.contribution)}.")]
    line = next((line for line in summary.kpi.lines if line.kpi == driver.item), None)
    if line is not None and line.attainment is not None:
        status = term(language, KPI_STATUS, line.status)
        sentences.append(in_language(language, f"{_w(item)}本月达成率 {fmt_percent(line.attainment)}（{status}）。",
                                     f"{item} attainment this month: {fmt_percent(line.attainment)} ({status})."))
    return sentences


def maturity_sentences(summary: Summary, language: str) -> list[str]:
    """The overall level, the strongest and weakest dimensions, and the largest gaps to target."""
    facts = summary.maturity
    sentences = [in_language(language, f"数字化成熟度总体等级 {fmt_number(facts.overall_level, 1)} / 5。",
                             f"Overall digital maturity is {fmt_number(facts.overall_level, 1)} out of 5.")]
    levels = {code: level for code, level in facts.levels.items() if level is not None}
    if len(levels) >= 2:
        strong, weak = max(levels, key=levels.get), min(levels, key=levels.get)
        sentences.append(in_language(
            language, f"{_dimension(strong, language)}最高（{fmt_number(levels[strong], 1)}），"
                      f"{_dimension(weak, language)}最低（{fmt_number(levels[weak], 1)}）。",
            f"{_dimension(strong, language)} is the strongest dimension ({fmt_number(levels[strong], 1)}), "
            f"{_dimension(weak, language)} the weakest ({fmt_number(levels[weak], 1)})."))
    if facts.gaps:
        gaps = [in_language(language, f"{_named(language, g.name_zh, g.name_en)} {fmt_number(g.level, 1)} → 目标 "
                                      f"{fmt_number(g.target, 1)}（差距 {fmt_number(g.gap, 1)}）",
                            f"{_named(language, g.name_zh, g.name_en)} {fmt_number(g.level, 1)} against a target of "
                            f"{fmt_number(g.target, 1)} (gap {fmt_number(g.gap, 1)})") for g in facts.gaps]
        sentences.append(_sentence(language, in_language(language, "差距最大的维度：", "Largest gaps: ")
                                   + _listed(language, gaps)))
    else:
        sentences.append(in_language(language, "各维度均已达到目标等级。", "Every dimension meets its target level."))
    return sentences[:3]


def _months(months: str | None, language: str) -> str | None:
    return None if not months else in_language(language, f"第 {months} 月", f"months {months}")


def roadmap_sentences(summary: Summary, language: str) -> list[str]:
    """The pilot phase: how many initiatives, their budget, and the first of them."""
    pilots = summary.pilots
    if not pilots:
        return [in_language(language, "试点期没有计划举措。", "No initiative is planned for the pilot phase.")]
    budgets = [p.budget for p in pilots if p.budget is not None]
    count = in_language(language, f"试点期共 {len(pilots)} 项举措", f"The pilot phase has {len(pilots)} "
                        f"initiative{'s' if len(pilots) != 1 else ''}")
    total = in_language(language, f"，预算合计 {fmt_number(sum(budgets))}", f" with a total budget of "
                        f"{fmt_number(sum(budgets))}") if budgets else ""
    items = []
    for pilot in pilots[:3]:
        details = [d for d in (_months(pilot.months, language), None if pilot.budget is None else
                               in_language(language, f"预算 {fmt_number(pilot.budget)}",
                                           f"budget {fmt_number(pilot.budget)}")) if d]
        name = _named(language, pilot.name_zh, pilot.name_en)
        items.append(name + (in_language(language, f"：{'，'.join(details)}", f": {', '.join(details)}")
                             if details else ""))
    more = in_language(language, "等", " and more") if len(pilots) > 3 else ""
    return [_sentence(language, count + total),
            _sentence(language, in_language(language, "包括：", "They are: ")
                      + in_language(language, "；", "; ").join(items) + more)]


def label_sentences(summary: Summary, language: str) -> list[str]:
    """Tag coverage, the segment bringing the most value, and the customers who have not bought yet."""
    facts = summary.labels
    sentences = [in_language(
        language, f"标签目录共 {facts.tags} 个标签，{facts.customers:,} 位客户中 {fmt_percent(facts.coverage)} 至少持有一个"
                  f"标签；{facts.scored:,} 位有消费的客户分入 RFM 分群。",
        f"The catalog has {facts.tags} tags; {fmt_percent(facts.coverage)} of {facts.customers:,} customers hold at "
        f"least one of them, and the {facts.scored:,} who bought are in an RFM segment.")]
    bought = [s for s in facts.segments if s.segment != NO_SEGMENT]
    if bought:
        top = bought[0]  # segments come largest value first
        name = _named(language, top.name_zh, top.name_en)
        sentences.append(in_language(
            language, f"消费金额最高的分群是「{name}」：{top.customers:,} 位客户（{fmt_percent(top.share)}）贡献 "
                      f"{fmt_percent(top.value_share)} 的消费金额。",
            f"The segment bringing the most value is {name}: {top.customers:,} customers ({fmt_percent(top.share)}) "
            f"bring {fmt_percent(top.value_share)} of it."))
    idle = next((s for s in facts.segments if s.segment == NO_SEGMENT and s.customers), None)
    if idle is not None:
        sentences.append(in_language(language, f"{idle.customers:,} 位客户（{fmt_percent(idle.share)}）尚未消费。",
                                     f"{idle.customers:,} customers ({fmt_percent(idle.share)}) have not bought yet."))
    return sentences


def data_sentences(summary: Summary, language: str) -> list[str]:
    """How many records hide how many customers, what was quarantined, and the weakest quality after cleaning."""
    facts = summary.data
    sentences = []
    if facts.records is not None and facts.customers is not None:
        sentences.append(in_language(language, f"{facts.records:,} 条客户记录背后是 {facts.customers:,} 位真实客户。",
                                     f"{facts.records:,} customer records hide {facts.customers:,} real customers."))
    if facts.quarantined is not None:
        reasons = _listed(language, [f"{_readable(term(language, QUARANTINE_REASONS, reason))}"
                                     f"{in_language(language, f'（{count:,}）', f' ({count:,})')}"
                                     for reason, count in facts.quarantine_reasons[:2]])
        because = in_language(language, f"，主要原因：{reasons}", f"; main reasons: {reasons}") if reasons else ""
        sentences.append(_sentence(language, in_language(language, f"{facts.quarantined:,} 行因无法修复而被隔离",
                                                         f"{facts.quarantined:,} rows were quarantined as "
                                                         "unrepairable") + because))
    weakest: dict[tuple[str, str], float] = {}
    for finding in facts.worst:  # worst first; one field may be weakest in two sources
        weakest.setdefault((finding.field, finding.measure), finding.value)
    if weakest:
        items = []
        for (field, measure), value in list(weakest.items())[:2]:
            what, how = _readable(term(language, FIELD_NAMES, field)), _readable(term(language, MEASURE_NAMES, measure))
            items.append(in_language(language, f"{_w(what)}{how} {fmt_percent(value)}",
                                     f"{what} {how.lower()} {fmt_percent(value)}"))
        sentences.append(_sentence(language, in_language(language, "清洗后最薄弱的数据质量项：",
                                                         "Weakest data quality after cleaning: ")
                                   + _listed(language, items)))
    return sentences or [in_language(language, "合并阶段没有记录数据质量数字。", "The merge recorded no data-quality figures.")]


def findings(summary: Summary, language: str) -> list[FindingSlide]:
    """The finding slides of the deck, in order: only those whose stage produced figures."""
    present = {"kpi": summary.kpi is not None, "variance": summary.kpi is not None,
               "maturity": summary.maturity is not None, "roadmap": summary.pilots is not None,
               "labels": summary.labels is not None, "data": summary.data is not None}
    sentences = {"kpi": kpi_sentences, "variance": variance_sentences, "maturity": maturity_sentences,
                 "roadmap": roadmap_sentences, "labels": label_sentences, "data": data_sentences}
    out = []
    for key, (charts, comments) in FINDINGS.items():
        if present[key]:
            said = sentences[key](summary, language)
            out.append(FindingSlide(key, _finding_title(summary, key, language),
                               [_tidy(s) for s in said] if language == "zh" else said, charts, comments))
    return out


def _finding_title(summary: Summary, key: str, language: str) -> str:
    if key == "variance":
        driver = summary.kpi.driver
        kpi = driver.kpi if driver else None
        line = _headline_line(summary.kpi.lines, kpi)
        name = _named(language, line.name_zh, line.name_en) if line else "KPI"
        return in_language(language, _tidy(f"{_w(name)}为什么变化"), f"Why {name} moved")
    section = {"kpi": "summary.kpi", "maturity": "summary.maturity", "roadmap": "summary.roadmap",
               "labels": "summary.labels", "data": "merge.quality"}[key]
    return sections.BY_KEY[section].title(language)


def decisions(summary: Summary, language: str) -> list[str]:
    """What the committee is asked to decide: each pilot initiative, the register's decisions and overruns, the
    overdue milestones and initiatives without an owner, and the actions proposed for the next cycle (else the next
    step on every KPI missed)."""
    items = []
    for pilot in summary.pilots or []:
        details = [d for d in (_months(pilot.months, language), None if pilot.budget is None else
                               in_language(language, f"预算 {fmt_number(pilot.budget)}",
                                           f"budget {fmt_number(pilot.budget)}")) if d]
        name = _named(language, pilot.name_zh, pilot.name_en)
        items.append(in_language(language, f"批准试点「{name}」" + (f"：{'，'.join(details)}" if details else ""),
                                 f"Approve the pilot '{name}'" + (f": {', '.join(details)}" if details else "")))
    register = summary.initiatives
    for asked in (register.decisions if register else []):
        name = _named(language, asked.name_zh, asked.name_en)
        if asked.kind == "decision" and asked.text:
            items.append(in_language(language, f"就「{name}」作出决定：{asked.text}",
                                     f"Decide on '{name}': {asked.text}"))
        elif asked.kind == "over_budget":
            items.append(in_language(language, f"「{name}」超出批准预算 {fmt_number(asked.amount)}：追加预算或压缩范围",
                                     f"'{name}' is {fmt_number(asked.amount)} over its approved budget: add budget "
                                     "or cut scope"))
    overdue = sum(d.kind == "overdue" for d in register.decisions) if register else 0
    unowned = sum(d.kind == "no_owner" for d in register.decisions) if register else 0
    if overdue or unowned:
        parts = [p for p in (in_language(language, f"确认 {overdue} 个逾期里程碑的新日期",
                                         f"agree new dates for {overdue} overdue milestone{'s' * (overdue != 1)}")
                             if overdue else None,
                             in_language(language, f"为 {unowned} 项举措指定负责人",
                                         f"name an owner for {unowned} initiative{'s' * (unowned != 1)}")
                             if unowned else None) if p]
        joined = in_language(language, "；", "; ").join(parts)
        items.append(joined[0].upper() + joined[1:])
    proposed = summary.kpi.next_actions if summary.kpi else None
    missed = [line for line in (summary.kpi.lines if summary.kpi else []) if line.status == "red"]
    if proposed:
        items.append(in_language(language, f"批准下一周期的 {len(proposed)} 项行动（负责人、截止日期与要推动的指标见 "
                                           "KPI 复盘报告及其行动清单），在下次复盘衡量其效果",
                                 f"Approve the {len(proposed)} actions proposed for the next cycle (owners, due dates "
                                 "and the KPI each should move are in the KPI review and its action list) and "
                                 "measure their effect at the next review"))
    elif missed:
        names = _listed(language, [_named(language, line.name_zh, line.name_en) for line in missed])
        items.append(in_language(language, f"为未达成的 KPI（{names}）确定行动与负责人，在下次复盘跟进",
                                 f"Agree actions and owners for the KPIs missed ({names}) and follow them up at the "
                                 "next review"))
    return [_tidy(item) for item in items] if language == "zh" else items


# --- commentary ----------------------------------------------------------------------------------------------------
def _joined(text: str) -> str:
    """Soft line breaks read as a space, except between Hanzi (Chinese wraps without one)."""
    def join(match: re.Match) -> str:
        before, after = match.string[match.start() - 1:match.start()], match.string[match.end():match.end() + 1]
        return "" if _CJK.match(before or " ") and _CJK.match(after or " ") else " "
    return re.sub(r"[ \t]*\n\s*", join, text).strip()


def _own_text(element: Tag) -> str:
    """An element's text without its nested lists and heading anchors (``¶``)."""
    copy = BeautifulSoup(str(element), "html.parser")
    for nested in copy.find_all(["ul", "ol"]):
        nested.decompose()
    for anchor in copy.find_all("a", class_="anchor-link"):
        anchor.decompose()
    return _joined(copy.get_text(""))


def _blocks(parent: Tag, level: int, out: list[tuple[str, int]]) -> None:
    for child in parent.find_all(recursive=False):
        if child.name in ("ul", "ol"):
            for number, item in enumerate(child.find_all("li", recursive=False), start=1):
                mark = f"{number}." if child.name == "ol" else "•"
                text = _own_text(item)
                if text:
                    out.append((f"{mark} {text}", level))
                for nested in item.find_all(["ul", "ol"], recursive=False):
                    _blocks(BeautifulSoup(str(nested), "html.parser"), level + 1, out)
        elif child.name in ("blockquote", "div"):
            _blocks(child, level, out)
        elif child.name == "pre":
            out.extend((line, level) for line in child.get_text().splitlines() if line.strip())
        else:
            text = _own_text(child)
            if text:
                out.append((text, level))


def comment_lines(markdown: str) -> list[tuple[str, int]]:
    """A consultant's Markdown comment as plain lines (text, list depth): emphasis and code marks dropped,
    paragraphs and list items one line each, list items marked ``•`` or ``1.``. Rendered by the reports' own
    Markdown renderer (:func:`digiops.archive.markdown_html`), so raw HTML stays text and outside links keep only
    their words."""
    out: list[tuple[str, int]] = []
    _blocks(BeautifulSoup(markdown_html(markdown), "html.parser"), 0, out)
    return out


# --- drawing -------------------------------------------------------------------------------------------------------
def _colour(value: str, field: str) -> RGBColor:
    if not isinstance(value, str) or not _HEX.match(value):
        raise StageError("deliver.deck", f"'{value}' is not a colour", field=f"deliver.branding.{field}",
                         fix="give it as #rrggbb, e.g. #1f4e79")
    return RGBColor.from_string(value.lstrip("#").upper())


def _tint(colour: RGBColor, share: float) -> RGBColor:
    """``colour`` mixed with white (``share`` of white), for a light panel behind text."""
    return RGBColor(*(round(c + (255 - c) * share) for c in colour))


class _Style:
    def __init__(self, branding: Branding, language: str):
        self.primary = _colour(branding.primary, "primary")
        self.accent = _colour(branding.accent, "accent")
        self.language_id = MSO_LANGUAGE_ID.SIMPLIFIED_CHINESE if language == "zh" else MSO_LANGUAGE_ID.ENGLISH_US


def _font(run, style: _Style, size: float, colour: RGBColor = DARK, bold: bool = False) -> None:
    font = run.font
    font.size, font.bold = Pt(size), bold
    font.color.rgb = colour
    font.language_id = style.language_id
    font.name = FONT
    properties = run._r.get_or_add_rPr()
    east_asian = properties.find(qn("a:ea"))
    if east_asian is None:
        east_asian = OxmlElement("a:ea")
        properties.get_or_add_latin().addnext(east_asian)  # the schema puts a:ea right after a:latin
    east_asian.set("typeface", EAST_ASIAN_FONT)


def _text_box(slide, left, top, width, height, name: str):
    box = slide.shapes.add_textbox(left, top, width, height)
    box.name = name
    frame = box.text_frame
    frame.word_wrap, frame.auto_size, frame.vertical_anchor = True, MSO_AUTO_SIZE.NONE, MSO_ANCHOR.TOP
    return box


def _write(frame, lines: list[tuple[str, float, RGBColor, bool]], style: _Style, spacing: float = 6,
           align=PP_ALIGN.LEFT) -> None:
    """Put (text, size, colour, bold) paragraphs into a text frame, replacing its empty first paragraph."""
    for index, (text, size, colour, bold) in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.alignment = align
        paragraph.space_after = Pt(spacing)
        run = paragraph.add_run()
        run.text = text
        _font(run, style, size, colour, bold)


def _rectangle(slide, left, top, width, height, colour: RGBColor, name: str):
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
    shape.name = name
    shape.fill.solid()
    shape.fill.fore_color.rgb = colour
    shape.line.fill.background()
    shape.shadow.inherit = False
    return shape


def _ems(text: str) -> float:
    """Width of ``text`` in ems: a Hanzi (or full-width sign) is one, a Latin letter about half."""
    return sum(1.0 if _CJK.match(ch) else 0.55 for ch in text)


def _height(paragraphs: list[str], width, size: float, spacing: float = 6) -> int:
    """The height (EMU) ``paragraphs`` need at ``size`` points in a box ``width`` wide, lines wrapped."""
    per_line = max((Emu(width).pt - 14.4) / size, 1.0)  # 0.1 in inset on either side
    lines = sum(max(math.ceil(_ems(text) / per_line), 1) for text in paragraphs)
    return int(Pt(lines * size * 1.2 + len(paragraphs) * spacing + 7.2))


def _picture_size(blob: bytes, where: str) -> tuple[int, int]:
    try:
        width, height = Image.from_blob(blob).size
    except Exception as exc:  # noqa: BLE001 - any unreadable image is the same error to the consultant
        raise StageError("deliver.deck", f"{where} is not a PNG or JPEG image ({type(exc).__name__})",
                         fix="re-run the stage so its notebook draws the chart again") from None
    if width <= 0 or height <= 0:
        raise StageError("deliver.deck", f"{where} has no size", fix="re-run the stage so its notebook draws it again")
    return width, height


def fit_pictures(sizes: list[tuple[int, int]], left: int, top: int, width: int, height: int,
                 gap: int = int(GAP)) -> list[tuple[int, int, int, int]]:
    """(left, top, width, height) of each picture in a grid inside the box, each scaled to its cell keeping its
    aspect ratio and centred in it; the grid (columns × rows) is the one that shows the pictures largest.

    >>> fit_pictures([(200, 100)], 0, 0, 1000, 1000)
    [(0, 250, 1000, 500)]
    >>> fit_pictures([(100, 100), (100, 100)], 0, 0, 2100, 1000, gap=100)
    [(0, 0, 1000, 1000), (1100, 0, 1000, 1000)]
    """
    best: tuple[float, list] = (-1.0, [])
    for columns in range(1, len(sizes) + 1):
        rows = math.ceil(len(sizes) / columns)
        cell_w, cell_h = (width - gap * (columns - 1)) / columns, (height - gap * (rows - 1)) / rows
        placed, area = [], 0.0
        for index, (w, h) in enumerate(sizes):
            scale = min(cell_w / w, cell_h / h)
            pw, ph = int(w * scale), int(h * scale)
            row, column = divmod(index, columns)
            placed.append((int(left + column * (cell_w + gap) + (cell_w - pw) / 2),
                           int(top + row * (cell_h + gap) + (cell_h - ph) / 2), pw, ph))
            area += pw * ph
        if area > best[0]:
            best = (area, placed)
    return best[1]


def _title_bar(slide, title: str, style: _Style) -> None:
    _rectangle(slide, 0, 0, SLIDE_WIDTH, TITLE_BAR, style.primary, "Title bar")
    _rectangle(slide, 0, TITLE_BAR, SLIDE_WIDTH, Inches(0.06), style.accent, "Accent rule")
    box = _text_box(slide, MARGIN, Inches(0.12), SLIDE_WIDTH - 2 * MARGIN, TITLE_BAR - Inches(0.2), "Title")
    box.text_frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    _write(box.text_frame, [(title, 26, RGBColor(0xFF, 0xFF, 0xFF), True)], style, spacing=0)


def _footer(slide, left_text: str, number: int, total: int, style: _Style) -> None:
    _rectangle(slide, MARGIN, FOOTER_TOP - Inches(0.05), SLIDE_WIDTH - 2 * MARGIN, Inches(0.02), style.accent,
               "Footer rule")
    box = _text_box(slide, MARGIN, FOOTER_TOP, Inches(10), Inches(0.35), "Footer")
    _write(box.text_frame, [(left_text, 10, GREY, False)], style, spacing=0)
    page = _text_box(slide, SLIDE_WIDTH - MARGIN - Inches(1.5), FOOTER_TOP, Inches(1.5), Inches(0.35), "Page number")
    _write(page.text_frame, [(f"{number} / {total}", 10, GREY, False)], style, spacing=0, align=PP_ALIGN.RIGHT)


def _text_and_comment(slide, sentences: list[str], comments: list[list[tuple[str, int]]], left: int, width: int,
                      style: _Style, language: str) -> None:
    """The finding's sentences at the top of the column, the consultant's comments in a panel below; both at the
    largest size that fits the column."""
    label = COMMENTARY_LABEL.get(language, COMMENTARY_LABEL["en"])
    comment_text = [text for lines in comments for text in [label, *(("    " * level) + t for t, level in lines)]]
    room = BODY_BOTTOM - BODY_TOP
    size = 18.0
    while size > 9:
        need = _height(sentences, width, size) + (_height(comment_text, width, size - 2, 4) + GAP if comments else 0)
        if need <= room:
            break
        size -= 1
    said = _text_box(slide, left, BODY_TOP, width, _height(sentences, width, size), "Findings")
    _write(said.text_frame, [(text, size, DARK, index == 0) for index, text in enumerate(sentences)], style)
    if not comments:
        return
    top = BODY_TOP + _height(sentences, width, size) + GAP
    panel = _rectangle(slide, left, top, width, max(min(_height(comment_text, width, size - 2, 4), BODY_BOTTOM - top),
                                                    Inches(0.6)),
                       _tint(style.accent, 0.85), "Consultant's note")
    _rectangle(slide, left, top, Inches(0.06), panel.height, style.accent, "Consultant's note rule")
    frame = panel.text_frame
    frame.word_wrap, frame.auto_size, frame.vertical_anchor = True, MSO_AUTO_SIZE.NONE, MSO_ANCHOR.TOP
    frame.margin_left = Inches(0.15)
    lines = []
    for comment in comments:
        lines.append((label, size - 2, style.accent, True))
        lines.extend((("    " * level) + text, size - 2, DARK, False) for text, level in comment)
    _write(frame, lines, style, spacing=4)


def _finding_slide(prs, finding: FindingSlide, charts: dict[str, list[bytes]], commentary: dict[str, str],
                   style: _Style, language: str):
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title_bar(slide, finding.title, style)
    pictures = [(key, index, blob) for key in finding.charts for index, blob in enumerate(charts.get(key) or [])]
    comments = [comment_lines(commentary[key]) for key in finding.comments if (commentary.get(key) or "").strip()]
    comments = [lines for lines in comments if lines]
    if pictures:
        _text_and_comment(slide, finding.sentences, comments, MARGIN, TEXT_WIDTH, style, language)
        left = MARGIN + TEXT_WIDTH + GAP
        sizes = [_picture_size(blob, f"chart {index + 1} of section '{key}'") for key, index, blob in pictures]
        boxes = fit_pictures(sizes, left, BODY_TOP, SLIDE_WIDTH - MARGIN - left, BODY_BOTTOM - BODY_TOP)
        for (key, index, blob), (x, y, w, h) in zip(pictures, boxes):
            picture = slide.shapes.add_picture(io.BytesIO(blob), x, y, w, h)
            picture.name = f"Chart {key} {index + 1}"
    else:
        _text_and_comment(slide, finding.sentences, comments, MARGIN, SLIDE_WIDTH - 2 * MARGIN, style, language)
    return slide


def _today(language: str) -> str:
    today = date.today()
    return in_language(language, f"{today.year} 年 {today.month} 月 {today.day} 日",
                       f"{today.day} {MONTHS_EN[today.month - 1]} {today.year}")


def _title_slide(prs, summary: Summary, branding: Branding, style: _Style, language: str, engagement: str,
                 period: str):
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _rectangle(slide, 0, 0, Inches(0.35), SLIDE_HEIGHT, style.primary, "Colour band")
    _rectangle(slide, Inches(0.35), 0, Inches(0.08), SLIDE_HEIGHT, style.accent, "Accent band")
    if branding.logo:
        w, h = _picture_size(branding.logo, "the client's logo (deliver.branding.logo)")
        scale = min(Inches(2.8) / w, Inches(1.3) / h)
        logo = slide.shapes.add_picture(io.BytesIO(branding.logo), Inches(1.0), Inches(0.6), int(w * scale),
                                        int(h * scale))
        logo.name = "Client logo"
    left, width = Inches(1.0), SLIDE_WIDTH - Inches(1.5)
    name = _text_box(slide, left, Inches(2.2), width, Inches(1.2), "Client")
    _write(name.text_frame, [(summary.name(language), 40, style.primary, True)], style, spacing=0)
    about = _text_box(slide, left, Inches(3.4), width, Inches(1.6), "Engagement")
    lines = [(text, 24, DARK, False) for text in (engagement,) if text]
    lines.append((in_language(language, *WORDS["subtitle"]), 20, style.accent, True))
    _write(about.text_frame, lines, style)
    when = _text_box(slide, left, Inches(5.2), width, Inches(0.9), "Period and date")
    _write(when.text_frame, [(f"{in_language(language, *WORDS['period'])}{_colon(language)}{period}", 14, GREY, False),
                             (_today(language), 14, GREY, False)], style, spacing=2)
    if branding.consultancy:
        by = _text_box(slide, left, Inches(6.4), width, Inches(0.6), "Consultancy")
        _write(by.text_frame, [(branding.consultancy, 18, style.primary, True)], style, spacing=0)
    return slide


def _decision_slide(prs, items: list[str], style: _Style, language: str):
    slide = prs.slides.add_slide(prs.slide_layouts[6])
    _title_bar(slide, in_language(language, *WORDS["decisions"]), style)
    text = [f"{number}. {item}" for number, item in enumerate(items, start=1)]
    size = 20.0
    while size > 10 and _height(text, SLIDE_WIDTH - 2 * MARGIN, size, 12) > BODY_BOTTOM - BODY_TOP:
        size -= 1
    box = _text_box(slide, MARGIN, BODY_TOP, SLIDE_WIDTH - 2 * MARGIN, BODY_BOTTOM - BODY_TOP, "Decisions")
    _write(box.text_frame, [(line, size, DARK, False) for line in text], style, spacing=12)
    return slide


def _clipped(text: str, limit: int = 255) -> str:
    """``text`` cut to ``limit`` characters, with "…" when cut.

    >>> _clipped("x" * 300)[-2:], len(_clipped("x" * 300))
    ('x…', 255)
    """
    return text if len(text) <= limit else text[:limit - 1] + "…"


def build_deck(summary: Summary, charts: dict[str, list[bytes]], *, language: str, branding: Branding,
               commentary: dict[str, str], engagement: str, period: str) -> bytes:
    """The deck as PPTX bytes.

    Args:
        summary: The run's facts (:func:`digiops.summary.collect`); a section that is ``None`` leaves its slide out.
        charts: Section key → the PNG images of that report section, in order (:func:`digiops.sections.images`).
        language: ``"zh"`` or ``"en"``: every word of the deck.
        branding: The consultancy's name and colours, the client's logo.
        commentary: Section key → the consultant's Markdown comment, already in ``language``; shown on the slide
            covering that section (:data:`FINDINGS`), nowhere else.
        engagement: The engagement's name (title slide).
        period: The engagement period as shown (title slide).

    Raises:
        StageError: A colour is not ``#rrggbb``, or a chart or the logo is not a readable image.
    """
    style = _Style(branding, language)
    shown = findings(summary, language)
    asked = decisions(summary, language) if summary.pilots else []
    total = 1 + len(shown) + (1 if asked else 0)
    prs = Presentation()
    prs.slide_width, prs.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    client = summary.name(language)
    footer = " · ".join(part for part in (branding.consultancy, client, engagement) if part)
    _title_slide(prs, summary, branding, style, language, engagement, period)
    for number, finding in enumerate(shown, start=2):
        _footer(_finding_slide(prs, finding, charts, commentary, style, language), footer, number, total, style)
    if asked:
        _footer(_decision_slide(prs, asked, style, language), footer, total, total, style)
    properties = prs.core_properties
    # The file's properties hold at most 255 characters each (python-pptx refuses more); the slides show it all.
    properties.title = _clipped(f"{client} · {engagement}" if engagement else client)
    properties.subject = in_language(language, *WORDS["subtitle"])
    properties.author = properties.last_modified_by = _clipped(branding.consultancy or client)
    properties.language = in_language(language, "zh-CN", "en-US")
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
