"""Evidence beside opinion (issue 23): every evidence indicator against a count made by hand on small frames, the
threshold tables at their boundaries, the disagreement flag exactly beyond the margin, missing tables left out, and
the section as a reader reads it."""

from __future__ import annotations

import html as html_lib
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from digiops.engagement import load_engagement  # noqa: E402
from digiops.maturity import charts, evidence as ev  # noqa: E402
from digiops.maturity.report import (evidence_indicators_styled, evidence_styled, evidence_summary,  # noqa: E402
                                     evidence_view)
from digiops.maturity.stage import run_maturity, run_tables  # noqa: E402
from digiops.runfolder import RunFolder  # noqa: E402
from digiops.settings.maturity import DEFAULT_EVIDENCE, MaturitySettings  # noqa: E402
from digiops.stages import plan  # noqa: E402
from tests.conftest import write_engagement  # noqa: E402

from .fixture_client import make_client  # noqa: E402

# Customers C1 … C5: C1 in crm + mall, C2 in crm only (two records), C3 in mall + shipments + crm, C4 in shipments
# only, C5 in the customers table but in no crosswalk record; one record unresolved (no customer id).
CROSSWALK = pd.DataFrame({
    "source": ["crm", "mall", "crm", "crm", "mall", "shipments", "crm", "shipments", "pos"],
    "customer_id": ["C1", "C1", "C2", "C2", "C3", "C3", "C3", "C4", None]})
CUSTOMERS = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C5"]})
DATA_QUALITY = pd.DataFrame({
    "phase": ["before", "after", "before", "after", "before", "after"],
    "completeness": [0.5, 0.9, 1.0, 0.6, float("nan"), float("nan")],
    "conformity": [0.2, 1.0, 0.8, 1.0, 0.5, float("nan")]})
ORDERS = pd.DataFrame({  # o1 has two lines; o5 a refund row; o6 cancelled; o7 a test order
    "order_id": ["o1", "o1", "o2", "o3", "o4", "o5", "o6", "o7"],
    "channel": ["mall", "mall", "online", "store", "store", "online", "online", "mall"],
    "state": ["paid", "paid", "paid", "paid", "paid", "refund", "cancelled", "test"]})
COVERAGE = pd.DataFrame({
    "tag_id": ["gender", "gender", "gender", "vip", "vip", "rfm"],
    "value": ["*", "female", "male", "*", "True", "*"],
    "share": [0.8, 0.5, 0.3, 0.1, 0.1, 0.6]})
ACTIONS = pd.DataFrame({  # closed: A1, A3 (English, any case), A5; overdue and open: A2, A6; not yet due: A4
    "status": ["已完成", "进行中", " Done ", "未开始", "关闭", "已逾期"],
    "overdue": [False, True, False, False, False, True]})
ALL_TABLES = ev.RunTables(crosswalk=CROSSWALK, customers=CUSTOMERS, data_quality=DATA_QUALITY, orders=ORDERS,
                          coverage=COVERAGE, actions=ACTIONS)


def scores(**questionnaire: float) -> pd.DataFrame:
    """A scores table with the given questionnaire scores (0–100) per dimension, the others unanswered."""
    keys = ["process_digitalization", "data_assetization", "business_online", "decision_intelligence"]
    return pd.DataFrame({"dimension": keys + ["overall"],
                         "questionnaire_score": [questionnaire.get(k, float("nan")) for k in keys] + [50.0]})


def levels(dimension: str, *values: int) -> pd.DataFrame:
    return pd.DataFrame({"dimension": [dimension] * len(values), "level": list(values),
                         "weight": [1.0] * len(values)})


# --- each indicator against a count by hand ---------------------------------------------------------------------------
def test_silos_count_the_systems_holding_customer_records():
    assert ev.data_silos(CROSSWALK) == 4  # crm, mall, shipments, pos


def test_overlap_is_the_share_of_customers_in_two_or_more_systems():
    # C1 (crm, mall) and C3 (mall, shipments, crm) of the five customers; C2's two crm records are one system
    assert ev.cross_source_overlap(CROSSWALK, CUSTOMERS) == pytest.approx(2 / 5)
    # without the customers table: the four customers the crosswalk knows
    assert ev.cross_source_overlap(CROSSWALK) == pytest.approx(2 / 4)


def test_quality_is_completeness_after_and_conformity_before_cleaning():
    assert ev.completeness_after_cleaning(DATA_QUALITY) == pytest.approx((0.9 + 0.6) / 2)
    assert ev.conformity_before_cleaning(DATA_QUALITY) == pytest.approx((0.2 + 0.8 + 0.5) / 3)


def test_online_share_counts_paid_orders_once_each():
    # paid orders o1 (mall), o2 (online), o3, o4 (store): 2 of 4 online
    assert ev.online_order_share(ORDERS) == pytest.approx(2 / 4)


def test_tag_coverage_is_the_mean_share_over_the_catalogs_tags():
    assert ev.tag_coverage(COVERAGE) == pytest.approx((0.8 + 0.1 + 0.6) / 3)


def test_tag_coverage_is_the_mean_share_of_the_catalog_a_customer_profile_fills():
    # the same figure counted the other way: per customer, the share of the catalog's tags they hold
    matrix = pd.DataFrame({"gender": ["f", "m", None, "f"], "vip": [True, None, None, None],
                           "rfm": ["a", "b", "c", None]})
    coverage = pd.DataFrame({"tag_id": list(matrix.columns), "value": ["*"] * 3,
                             "share": [matrix[c].notna().mean() for c in matrix.columns]})

    per_customer = matrix.notna().sum(axis=1) / matrix.shape[1]

    assert ev.tag_coverage(coverage) == pytest.approx(per_customer.mean())


def test_actions_on_time_is_the_share_closed_of_the_actions_due():
    # due: closed A1, A3, A5 and overdue A2, A6 → 3 of 5; A4 is not yet due
    assert ev.actions_on_time(ACTIONS) == pytest.approx(3 / 5)


def test_nothing_to_count_is_no_value_not_zero():
    assert ev.actions_on_time(pd.DataFrame({"status": ["进行中"], "overdue": [False]})) is None
    assert ev.online_order_share(ORDERS[ORDERS["state"] != "paid"]) is None
    assert ev.data_silos(CROSSWALK.iloc[0:0]) is None
    assert ev.measure(ev.RunTables(actions=pd.DataFrame({"status": ["进行中"], "overdue": [False]}))) == {}


def test_measure_gives_every_indicator_of_the_tables_given():
    values = ev.measure(ALL_TABLES)

    assert values == pytest.approx({"data_silos": 4, "cross_source_overlap": 0.4, "completeness_after_cleaning": 0.75,
                                    "conformity_before_cleaning": 0.5, "online_order_share": 0.5,
                                    "tag_coverage": 0.5, "actions_on_time": 0.6})


# --- thresholds -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value, level", [(0.0, 1), (0.1999, 1), (0.2, 2), (0.3999, 2), (0.4, 3), (0.6, 4),
                                          (0.7999, 4), (0.8, 5), (1.0, 5)])
def test_a_share_reaches_a_level_at_its_threshold(value, level):
    table = ev.indicator_levels({"online_order_share": value}, dict(DEFAULT_EVIDENCE))

    assert table["level"].tolist() == [level]


@pytest.mark.parametrize("systems, level", [(12, 1), (9, 1), (8, 2), (6, 2), (5, 3), (4, 3), (3, 4), (2, 4), (1, 5)])
def test_fewer_systems_is_better_and_a_count_at_its_threshold_reaches_the_level(systems, level):
    table = ev.indicator_levels({"data_silos": systems}, dict(DEFAULT_EVIDENCE))

    assert table["level"].tolist() == [level]


def test_an_engagement_table_replaces_the_default_and_keeps_its_names():
    settings = MaturitySettings(evidence={"tag_coverage": {"dimension": "decision_intelligence", "unit": "share",
                                                           "thresholds": [0.1, 0.2, 0.3, 0.4]}})

    table = ev.indicator_levels({"tag_coverage": 0.3, "actions_on_time": 0.3}, settings.evidence)

    assert table.set_index("indicator_id")["level"].to_dict() == {"tag_coverage": 4, "actions_on_time": 1}
    assert table.set_index("indicator_id").loc["tag_coverage", "dimension"] == "decision_intelligence"
    assert table.set_index("indicator_id").loc["tag_coverage", "name_en"] == "Mean tag coverage"


def test_an_unknown_evidence_indicator_or_a_bad_margin_is_an_error():
    with pytest.raises(ValidationError, match="evidence"):
        MaturitySettings(evidence={"web_visits": {"dimension": "business_online", "thresholds": [1, 2, 3, 4]}})
    with pytest.raises(ValidationError, match="evidence_margin"):
        MaturitySettings(evidence_margin=0)


# --- the comparison ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("questionnaire_score, margin, gap, flagged, verdict", [
    (40.0, 1.0, 0.9, False, "agree"),            # 2.6 → 3.5
    (37.5, 1.0, 1.0, False, "agree"),            # 2.5 → 3.5: exactly the margin is not beyond it
    (35.0, 1.0, 1.1, True, "evidence_higher"),   # 2.4 → 3.5
    (85.0, 1.0, -0.9, False, "agree"),           # 4.4 → 3.5
    (87.5, 1.0, -1.0, False, "agree"),           # 4.5 → 3.5
    (90.0, 1.0, -1.1, True, "evidence_lower"),   # 4.6 → 3.5
    (50.0, 0.5, 0.5, False, "agree"),            # 3.0 → 3.5 with a margin of half a level
    (47.5, 0.5, 0.6, True, "evidence_higher"),   # 2.9 → 3.5
])
def test_the_flag_is_set_exactly_when_the_gap_exceeds_the_margin(questionnaire_score, margin, gap, flagged, verdict):
    row = ev.compare(scores(business_online=questionnaire_score), levels("business_online", 4, 3), margin) \
        .set_index("dimension").loc["business_online"]

    assert row["evidence_level"] == 3.5
    assert row["gap"] == gap
    assert bool(row["disagreement"]) is flagged
    assert row["verdict"] == verdict


def test_levels_with_binary_noise_do_not_cross_the_margin():
    # (4 + 4 + 3 + 3 + 4) / 5 = 3.6 and 1 + 4 × 40 / 100 = 2.6: 3.6 − 2.6 is 1.0000000000000004 in floats
    row = ev.compare(scores(data_assetization=40.0), levels("data_assetization", 4, 4, 3, 3, 4), 1.0).iloc[1]

    assert (row["questionnaire_level"], row["evidence_level"], row["gap"]) == (2.6, 3.6, 1.0)
    assert not row["disagreement"]


def test_evidence_level_is_the_weighted_mean_of_the_indicator_levels():
    indicators = pd.DataFrame({"dimension": ["data_assetization"] * 2, "level": [2, 5], "weight": [3.0, 1.0]})

    row = ev.compare(scores(data_assetization=50.0), indicators, 1.0).iloc[1]

    assert row["evidence_level"] == pytest.approx(round((2 * 3 + 5 * 1) / 4, 1))  # 2.75 → 2.8 (half up)
    assert row["evidence_level"] == 2.8


def test_a_dimension_without_evidence_or_without_answers_is_never_flagged():
    table = ev.compare(scores(process_digitalization=10.0), levels("data_assetization", 5), 1.0) \
        .set_index("dimension")

    assert table.loc["process_digitalization", "verdict"] == "no_evidence"
    assert table.loc["data_assetization", "verdict"] == "no_answers"
    assert not table["disagreement"].any()
    assert table["indicators"].tolist() == [0, 1, 0, 0]


# --- missing tables ---------------------------------------------------------------------------------------------------
def test_missing_tables_leave_their_indicators_out():
    evidence = ev.assess(ev.RunTables(orders=ORDERS), scores(business_online=0.0), dict(DEFAULT_EVIDENCE), 1.0)

    assert evidence.indicators["indicator_id"].tolist() == ["online_order_share"]
    assert evidence.missing_stages == ("labels", "kpi")
    assert evidence.dimensions.set_index("dimension")["verdict"].to_dict() == {
        "process_digitalization": "no_evidence", "data_assetization": "no_evidence",
        "business_online": "evidence_higher", "decision_intelligence": "no_evidence"}


def test_maturity_alone_has_no_evidence_and_no_error():
    evidence = ev.assess(ev.RunTables(), scores(business_online=50.0), dict(DEFAULT_EVIDENCE), 1.0)

    assert evidence.indicators.empty
    assert evidence.missing_stages == ("merge", "labels", "kpi")
    assert (evidence.dimensions["verdict"] == "no_evidence").all()


def test_run_tables_reads_what_the_run_wrote_and_skips_the_rest(tmp_path):
    folder = RunFolder(tmp_path / "run")
    for stage, name, frame in [("merge", "orders", ORDERS.assign(amount=1.0)),
                               ("kpi", "actions", ACTIONS.drop(columns="overdue")),  # an older table: left out
                               ("labels", "coverage", COVERAGE)]:
        folder.stage_dir(stage).mkdir(parents=True, exist_ok=True)
        frame.to_parquet(folder.output(stage, f"{name}.parquet"))

    tables = run_tables(folder)

    assert tables.orders is not None and list(tables.orders.columns) == ["order_id", "channel", "state"]
    assert tables.coverage is not None
    assert tables.actions is None and tables.crosswalk is None and tables.data_quality is None
    assert set(ev.measure(tables)) == {"online_order_share", "tag_coverage"}


# --- the stage ---------------------------------------------------------------------------------------------------------
def test_the_stage_sets_its_answers_beside_the_evidence(tmp_path):
    engagement = load_engagement(make_client(tmp_path / "client"))

    alone = run_maturity(engagement)
    result = run_maturity(engagement, ALL_TABLES)

    assert alone.evidence.indicators.empty
    table = result.evidence.dimensions.set_index("dimension")
    answers = result.scores.set_index("dimension")["questionnaire_score"]
    for dimension in table.index:
        assert table.loc[dimension, "questionnaire_level"] == pytest.approx(
            round(1 + 4 * answers[dimension] / 100 + 1e-9, 1))
    # online share 50 % → level 3; actions 60 % → level 2
    assert table.loc["business_online", "evidence_level"] == 3.0
    assert table.loc["decision_intelligence", "evidence_level"] == 2.0


def test_maturity_runs_after_the_stages_it_reads_evidence_from(tmp_path):
    path = write_engagement(tmp_path / "c", stages="[maturity, kpi, labels, merge]")

    names = [s.name for s in plan(load_engagement(path))]

    assert names.index("merge") < names.index("maturity")
    assert names.index("labels") < names.index("maturity")
    assert names.index("kpi") < names.index("maturity")
    assert [s.name for s in plan(load_engagement(path), ["maturity"])] == ["maturity"]


# --- as a reader reads it ------------------------------------------------------------------------------------------------
@pytest.fixture
def demo_like() -> ev.Evidence:
    return ev.assess(ALL_TABLES, scores(process_digitalization=50.0, data_assetization=15.0, business_online=90.0,
                                        decision_intelligence=25.0), dict(DEFAULT_EVIDENCE), 1.0)


def _cells(styler) -> list[str]:
    """The text of every header and cell of a rendered table."""
    html = styler.to_html()
    return [html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", html, flags=re.S)]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_tables_show_words_and_values_never_codes_or_nan(demo_like, language):
    cells = _cells(evidence_styled(demo_like, language)) + _cells(
        evidence_indicators_styled(demo_like.indicators, language))
    shown = " | ".join(cells)

    for code in ("nan", "None", "<NA>", "evidence_higher", "no_evidence", "data_assetization", "online_order_share"):
        assert code not in shown
    assert not {"merge", "labels", "kpi", "share", "count", "higher", "lower"} & set(cells)
    assert "50.0%" in shown and "≥ 20% / 40% / 60% / 80%" in shown and "≤ 8 / 5 / 3 / 1" in shown
    assert "+1.2" in cells and "-1.6" in cells and "–" in cells  # the gap signed; no evidence: a dash


def test_the_table_names_the_indicators_behind_each_dimension(demo_like):
    view = evidence_view(demo_like, "en").set_index("Dimension")

    assert view.loc["Business online-ization", "Evidence (value and level)"] == \
        "Share of orders placed online 50.0% (L3)"
    assert view.loc["Process digitalization", "Evidence (value and level)"] == "–"
    assert view.loc["Business online-ization", "Verdict"] == "evidence lower than the answers"
    assert view.loc["Data assetization", "Verdict"] == "evidence higher than the answers"


def test_the_sentence_names_the_dimensions_where_opinion_and_evidence_disagree(demo_like):
    # business online: answers 4.6, evidence 3.0 → lower; data assetization: answers 1.6, evidence 2.8 → higher
    zh, en = evidence_summary(demo_like, 1.0, "zh"), evidence_summary(demo_like, 1.0, "en")

    assert "在业务在线化上，数据显示的水平比问卷低" in zh and "在数据资产化上，数据显示的水平比问卷高" in zh
    assert en.startswith("On Business online-ization the data shows a level more than 1 below the answers")
    assert "On Data assetization the data shows a level more than 1 above the answers" in en
    assert "Decision intelligence" not in en


def test_agreement_and_missing_stages_are_said_in_words():
    evidence = ev.assess(ev.RunTables(orders=ORDERS), scores(business_online=60.0), dict(DEFAULT_EVIDENCE), 1.0)

    en = evidence_summary(evidence, 1.0, "en")

    assert "evidence and answers are within 1 level" in en
    assert "This run did not include Tag system or KPI review" in en


@pytest.mark.parametrize("language, needle", [("zh", "本次运行没有这些环节"), ("en", "this run has none of them")])
def test_maturity_alone_says_the_evidence_needs_the_other_stages(language, needle):
    evidence = ev.assess(ev.RunTables(), scores(business_online=50.0), dict(DEFAULT_EVIDENCE), 1.0)

    text = evidence_summary(evidence, 1.0, language)

    assert needle in text
    assert ("KPI 复盘" in text) if language == "zh" else ("KPI review" in text)


def test_the_chart_marks_a_flagged_dimension(demo_like):
    figure = charts.evidence_chart(demo_like.dimensions, "en")

    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels == ["Process digitalization", "Data assetization ⚠", "Business online-ization ⚠",
                      "Decision intelligence"]
    assert any(t.get_text() == "no evidence" for t in figure.axes[0].texts)
    assert not math.isnan(demo_like.dimensions["evidence_level"].iloc[1])


def test_the_stage_writes_and_records_the_evidence(tmp_path: Path):
    from digiops.context import StageContext
    from digiops.maturity.stage import write_outputs
    from digiops.stages import BUILTIN

    engagement = load_engagement(make_client(tmp_path / "client"))
    ctx = StageContext(engagement, "maturity", tmp_path / "run")

    write_outputs(ctx, run_maturity(engagement, ALL_TABLES))

    recorded = ctx.folder.metrics("maturity")

    dimensions = pd.read_parquet(ctx.output("evidence.parquet"))
    indicators = pd.read_parquet(ctx.output("evidence_indicators.parquet"))
    assert dimensions["dimension"].tolist() == ["process_digitalization", "data_assetization", "business_online",
                                                "decision_intelligence"]
    assert len(indicators) == 7 and recorded["evidence_indicators"] == 7
    assert recorded["evidence_disagreements"] == int(dimensions["disagreement"].sum())
    assert {"evidence.parquet", "evidence_indicators.parquet"} <= set(BUILTIN["maturity"].outputs)
