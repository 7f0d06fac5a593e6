"""The steering-committee deck, opened again with python-pptx: one slide per finding whose stage ran, every chart on
its slide undistorted, text in the engagement's language with the facts' numbers, the consultant's comments where
they belong, the client's logo on the title slide."""

from __future__ import annotations

import io
import re
import shutil
from collections import Counter

import matplotlib
import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.oxml.ns import qn

from digiops.deliver.deck import Branding, build_deck, comment_lines
from digiops.errors import StageError
from digiops.summary.collect import (DataFacts, Driver, Finding, Gap, Initiative, KpiFacts, KpiLine, LabelFacts,
                                     MaturityFacts, RunRate, SegmentFacts, StageState, Summary)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HANZI = re.compile(r"[\u4e00-\u9fff]")
#: KPI statuses of the hand-built review, GMV first: 7 met, 3 close, 2 missed.
STATUSES = ["amber"] + ["green"] * 7 + ["amber"] * 2 + ["red"] * 2
KPI_ZH = ["成交总额", "客流", "转化率", "客单价", "复购率", "会员占比", "准时率", "订单数", "新客数", "毛利率", "退货率", "库存周转"]
KPI_EN = ["GMV", "Traffic", "Conversion", "Order value", "Repurchase", "Member share", "On-time", "Orders",
          "New customers", "Gross margin", "Return rate", "Stock turns"]
SEGMENTS = [("loyal", "忠诚客户", "Loyal", 300, 540_000.0), ("at_risk", "流失风险", "At risk", 120, 160_000.0),
            ("new", "新客户", "New customers", 80, 20_000.0), ("no_purchase", "未消费", "No purchase yet", 100, 0.0)]
CHART_KEYS = ("kpi.situation", "kpi.variance", "maturity.scores", "maturity.gaps", "maturity.roadmap", "labels.rfm",
              "labels.migration", "merge.quality")
#: finding slide → the sections whose charts it shows (the deck's order).
SLIDE_CHARTS = [("kpi.situation",), ("kpi.variance",), ("maturity.scores", "maturity.gaps"), ("maturity.roadmap",),
                ("labels.rfm", "labels.migration"), ("merge.quality",)]


def kpi_line(index: int, status: str) -> KpiLine:
    target = 1_000_000.0 if index == 0 else 100.0
    attainment = {"green": 1.05, "amber": 0.93, "red": 0.8}[status] if index else 0.942
    return KpiLine(f"kpi_{index}" if index else "gmv", KPI_ZH[index], KPI_EN[index], target * attainment, target,
                   attainment, status, "元" if index == 0 else "单")


def facts() -> Summary:
    """A run with every stage's figures, built by hand (the statuses above; GMV 94.2 % of target)."""
    total_value = sum(value for *_, value in SEGMENTS)
    customers = sum(count for *_, count, _ in SEGMENTS)
    segments = [SegmentFacts(code, zh, en, count, count / customers, value, value / total_value)
                for code, zh, en, count, value in SEGMENTS]
    return Summary(
        client="demo", client_name={"zh": "示例茶饮", "en": "Demo Tea Co."}, run_id="20260101T000000-1-abc",
        language="zh", stages={name: StageState(name, "succeeded") for name in ("merge", "labels", "maturity", "kpi")},
        maturity=MaturityFacts(2.6, 2, [Gap("data_assetization", "数据资产化", "Data assetization", 2.4, 3.5, 1.1,
                                            "moderate"),
                                        Gap("decision_intelligence", "决策智能化", "Decision intelligence", 1.9, None,
                                            None, None)],
                               levels={"process_digitalization": 3.1, "data_assetization": 2.4,
                                       "business_online": 3.2, "decision_intelligence": 1.9}),
        data=DataFacts(records=1_200, customers=640, quarantined=35,
                       worst=[Finding("online_orders", "phone", "completeness", 0.255),
                              Finding("crm", "phone", "completeness", 0.3),
                              Finding("crm", "email", "validity", 0.62)],
                       quarantine_reasons=[("exact duplicate", 30), ("unreadable amount", 5)]),
        labels=LabelFacts(customers=customers, tags=38, coverage=0.9, scored=500, segments=segments),
        kpi=KpiFacts(review_period="2026-09", lines=[kpi_line(i, s) for i, s in enumerate(STATUSES)],
                     driver=Driver("gmv", "kpi_1", -39_804.0, -42_577.0),
                     runrate=RunRate("gmv", "2026-10", 950_000.0, 1_000_000.0, 0.95, 13_215.0)),
        pilots=[Initiative("DA-01", "统一客户 ID 试点", "One customer ID pilot", "data_assetization", "1–6", 400_000.0),
                Initiative("DI-01", "经营看板试点", "Business dashboard pilot", "decision_intelligence", "1–6", None)])


def png(width: float, height: float, label: str) -> bytes:
    """A small chart of the given proportions (inches), distinct by its label."""
    figure, axes = plt.subplots(figsize=(width, height), dpi=40)
    axes.bar([0, 1, 2], [len(label), 2, 3])
    axes.set_title(label)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    plt.close(figure)
    return out.getvalue()


@pytest.fixture(scope="module")
def charts() -> dict[str, list[bytes]]:
    """One chart per section, two for the variance bridge (a wide and a tall one) and the roadmap."""
    shapes = {"kpi.variance": [(8, 3), (3, 5)], "maturity.roadmap": [(10, 4), (6, 4)]}
    return {key: [png(w, h, f"{key} {n}") for n, (w, h) in enumerate(shapes.get(key, [(6, 4)]))] for key in CHART_KEYS}


def deck(summary: Summary, charts: dict, language: str = "zh", commentary: dict | None = None,
         logo: bytes | None = None, consultancy: str = "Huaxin Consulting") -> Presentation:
    data = build_deck(summary, charts, language=language, branding=Branding(consultancy=consultancy, logo=logo),
                      commentary=commentary or {}, engagement=("数字化运营诊断" if language == "zh"
                                                               else "Digital operations review"),
                      period="2026-01-01 – 2026-06-30")
    return Presentation(io.BytesIO(data))


def texts(slide) -> list[str]:
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text]


def slide_text(slide) -> str:
    return "\n".join(texts(slide))


def title(slide) -> str:
    """The text at the top of the slide."""
    shapes = [shape for shape in slide.shapes if shape.has_text_frame and shape.text_frame.text]
    return min(shapes, key=lambda shape: (shape.top, shape.left)).text_frame.text


def pictures(slide) -> list:
    return [shape for shape in slide.shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]


def test_a_title_slide_then_one_slide_per_finding_then_the_decisions(charts):
    prs = deck(facts(), charts, "en")

    titles = [title(slide) for slide in prs.slides]

    assert len(prs.slides) == 1 + 6 + 1
    assert titles[0] == "Demo Tea Co."
    assert titles[1:] == ["KPI attainment and outlook", "Why GMV moved", "Digital maturity and the largest gaps",
                          "Roadmap: pilot initiatives", "Tag system and customer segments",
                          "Data quality before and after cleaning", "Decisions and next steps"]
    assert (prs.slide_width, prs.slide_height) == (12192000, 6858000)  # 16:9, 13.333 × 7.5 in
    assert all(slide_text(slide).endswith(f"{n} / 8") for n, slide in enumerate(list(prs.slides)[1:], start=2))


def test_the_title_slide_names_client_engagement_period_and_consultancy_and_shows_the_logo(charts):
    logo = png(3, 1, "LOGO")
    with_logo, without = deck(facts(), charts, logo=logo, consultancy="华信咨询"), deck(facts(), charts)

    first = with_logo.slides[0]
    text = slide_text(first)

    assert all(part in text for part in ("示例茶饮", "数字化运营诊断", "2026-01-01 – 2026-06-30", "华信咨询", "指导委员会汇报"))
    assert [p.image.blob for p in pictures(first)] == [logo]
    assert pictures(without.slides[0]) == []


def test_every_chart_is_on_its_slide_as_given_and_undistorted(charts):
    prs = deck(facts(), charts)
    width, height = prs.slide_width, prs.slide_height

    for slide, keys in zip(list(prs.slides)[1:], SLIDE_CHARTS):
        given = [blob for key in keys for blob in charts[key]]
        shown = pictures(slide)
        assert [p.image.blob for p in shown] == given, title(slide)
        text_boxes = [s for s in slide.shapes if s.has_text_frame and s.text_frame.text]
        for picture in shown:
            px_w, px_h = picture.image.size
            assert picture.width / picture.height == pytest.approx(px_w / px_h, rel=0.01)
            assert picture.left >= 0 and picture.left + picture.width <= width
            assert picture.top >= 914400 and picture.top + picture.height <= height - 457200  # below the title bar
            for box in text_boxes:  # no chart covers the text
                assert (picture.left >= box.left + box.width or box.left >= picture.left + picture.width
                        or picture.top >= box.top + box.height or box.top >= picture.top + picture.height), box.name


def test_a_section_without_charts_leaves_its_slide_with_text_only(charts):
    fewer = {**charts, "labels.rfm": []}
    del fewer["merge.quality"]

    prs = deck(facts(), fewer)
    labels, data = prs.slides[5], prs.slides[6]

    assert [p.image.blob for p in pictures(labels)] == charts["labels.migration"]
    assert pictures(data) == [] and "1,200 条客户记录背后是 640 位真实客户。" in slide_text(data)


def test_numbers_are_the_facts(charts):
    summary = facts()
    count = Counter(line.status for line in summary.kpi.lines)
    loyal = SEGMENTS[0]
    value_share = loyal[4] / sum(s[4] for s in SEGMENTS)
    customer_share = loyal[3] / sum(s[3] for s in SEGMENTS)

    zh, en = deck(summary, charts, "zh"), deck(summary, charts, "en")
    kpi_zh, kpi_en = slide_text(zh.slides[1]), slide_text(en.slides[1])

    assert f"12 个 KPI 中 {count['green']} 个达成，{count['amber']} 个预警，{count['red']} 个未达成" in kpi_zh
    assert "2026-09 成交总额达成率 94.2%（实际 942,000，目标 1,000,000）" in kpi_zh
    assert f"{count['green']} of 12 KPIs met their target, 3 close, 2 missed; GMV attainment 94.2%" in kpi_en
    assert "预计达成 95.0%" in kpi_zh and "13,215" in kpi_zh
    assert "成交总额环比变化 -42,577，主要驱动因素是客流，贡献 -39,804。" in slide_text(zh.slides[2])
    assert "数字化成熟度总体等级 2.6 / 5" in slide_text(zh.slides[3])
    assert "业务在线化最高（3.2），决策智能化最低（1.9）" in slide_text(zh.slides[3])
    assert "试点期共 2 项举措，预算合计 400,000" in slide_text(zh.slides[4])
    assert (f"忠诚客户」：300 位客户（{customer_share:.1%}）贡献 {value_share:.1%} 的消费金额"
            in slide_text(zh.slides[5]))
    assert f"Loyal: 300 customers ({customer_share:.1%}) bring {value_share:.1%}" in slide_text(en.slides[5])
    data = slide_text(zh.slides[6])
    assert "35 行因无法修复而被隔离，主要原因：完全重复的行（30）、金额无法识别（5）" in data
    assert "手机完整性 25.5%、邮箱有效性 62.0%" in data  # the phone's weakest value only


def test_the_chinese_deck_reads_chinese_and_the_english_deck_english(charts):
    comments = {"zh": {"summary.kpi": "华东连续两个月未达成。"}, "en": {"summary.kpi": "East missed twice in a row."}}

    zh = deck(facts(), charts, "zh", comments["zh"], consultancy="华信咨询")
    en = deck(facts(), charts, "en", comments["en"])
    zh_text = "\n".join(slide_text(s) for s in zh.slides)
    en_text = "\n".join(slide_text(s) for s in en.slides)

    assert all(HANZI.search(slide_text(slide)) for slide in zh.slides)
    english = ["attainment", "Consultant", "maturity", "segment", "Decisions", "quality", "Roadmap", "pilot",
               "customers", "month", "target", "Steering"]
    assert all(word in en_text for word in english)
    assert [word for word in english if word.lower() in zh_text.lower()] == []
    assert not HANZI.search(en_text)
    for slide in zh.slides:  # PowerPoint draws Hanzi with the East-Asian typeface of each run
        for shape in slide.shapes:
            runs = [r for p in shape.text_frame.paragraphs for r in p.runs] if shape.has_text_frame else []
            assert all(run._r.rPr.find(qn("a:ea")).get("typeface") for run in runs)


def test_a_comment_is_on_the_slide_covering_its_section_and_nowhere_else(charts):
    commentary = {"summary.kpi": "**华东**连续两个月*未达成*：\n\n- 确认门店目标\n- 复盘 `华东` 大区",
                  "labels.migration": "流失风险分群在扩大。",
                  "kpi.funnel": "漏斗不在幻灯片上。"}

    prs = deck(facts(), charts, "zh", commentary)
    where = {key: [n for n, slide in enumerate(prs.slides) if marker in slide_text(slide)]
             for key, marker in (("summary.kpi", "华东连续两个月未达成："), ("labels.migration", "流失风险分群在扩大"),
                                 ("kpi.funnel", "漏斗不在幻灯片上"), ("label", "顾问点评"))}

    assert where == {"summary.kpi": [1], "labels.migration": [5], "kpi.funnel": [], "label": [1, 5]}
    box = next(text for text in texts(prs.slides[1]) if "顾问点评" in text)
    assert box.split("\n") == ["顾问点评", "华东连续两个月未达成：", "• 确认门店目标", "• 复盘 华东 大区"]
    assert "*" not in slide_text(prs.slides[1]) and "`" not in slide_text(prs.slides[1])


def test_a_stage_that_did_not_run_leaves_its_slides_out(charts):
    summary = facts()
    summary.kpi = summary.maturity = summary.pilots = None

    prs = deck(summary, charts, "en")

    assert [title(slide) for slide in prs.slides] == ["Demo Tea Co.", "Tag system and customer segments",
                                                      "Data quality before and after cleaning"]
    assert "KPI" not in "\n".join(slide_text(s) for s in prs.slides)
    assert slide_text(prs.slides[2]).endswith("3 / 3")


def test_no_missing_value_or_internal_code_reaches_a_slide(charts):
    summary = facts()
    summary.kpi.lines.append(KpiLine("member_share", "会员销售占比", "Member share of sales", None, None, None, "none", "%"))
    summary.kpi.runrate = RunRate("gmv", "2026-10", None, None, None, None)
    summary.maturity.overall_level = None
    summary.labels.segments.insert(0, SegmentFacts("cant_lose", "cant_lose", "cant_lose", 5, 0.01, 900_000.0, 0.5))

    for language in ("zh", "en"):
        text = "\n".join(slide_text(s) for s in deck(summary, charts, language).slides)
        assert not re.search(r"\b(nan|None|NaN)\b", text), language
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
        assert "at_risk" not in text and "–" in text  # the missing maturity level shows as "–"


def test_bad_branding_or_a_chart_that_is_no_image_is_an_error_naming_it(charts):
    with pytest.raises(StageError, match=r"deliver\.branding\.primary.*#rrggbb"):
        build_deck(facts(), charts, language="zh", branding=Branding(primary="blue"), commentary={}, engagement="",
                   period="")
    with pytest.raises(StageError, match=r"chart 2 of section 'kpi.variance' is not a PNG or JPEG"):
        build_deck(facts(), {**charts, "kpi.variance": [charts["kpi.variance"][0], b"<html>"]}, language="zh",
                   branding=Branding(), commentary={}, engagement="", period="")


def test_commentary_markdown_reads_as_plain_lines():
    lines = comment_lines("# 结论\n\n**GMV** 连续\n两个月未达成，见 [报告](https://example.com)。\n\n"
                          "1. 确认目标\n   - 华东\n2. <b>复盘</b>\n\nplain _emphasis_ and snake_case\nwrapped")

    assert lines == [("结论", 0), ("GMV 连续两个月未达成，见 报告。", 0), ("1. 确认目标", 0), ("• 华东", 1),
                     ("2. <b>复盘</b>", 0), ("plain emphasis and snake_case wrapped", 0)]


@pytest.mark.slow
def test_the_demo_run_builds_a_deck_in_its_language(demo_run, tmp_path):
    from digiops.summary import collect

    run = tmp_path / demo_run.name
    (run / "outputs").mkdir(parents=True)
    shutil.copy(demo_run / "manifest.json", run)
    for stage in ("merge", "labels", "maturity", "kpi"):
        shutil.copytree(demo_run / "outputs" / stage, run / "outputs" / stage)
    summary = collect(run, with_trends=False)

    prs = Presentation(io.BytesIO(build_deck(summary, {}, language=summary.language, branding=Branding(),
                                             commentary={}, engagement="演示", period="2026")))
    text = "\n".join(slide_text(s) for s in prs.slides)

    assert len(prs.slides) == 8 and summary.language == "zh"
    assert "成交总额" in text and "忠诚客户" in text
    assert not re.search(r"\b(nan|None)\b|at_risk|[a-z]+_[a-z]+", text)
