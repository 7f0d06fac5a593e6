"""The hand-worked example: every number below is computed by hand from DOMAIN.md §3, not by the code under test.

Bank (fixture_client.BANK): PD1 w2, PD2 w1 · DA1 w1, DA2 w3 · BO1 w1, BO2 w1 · DI1 w1.5, DI2 w0.5.
Answers → scores (a−1)/4×100, i.e. 1→0, 2→25, 3→50, 4→75, 5→100:

    r1 门店运营: PD1 4, PD2 2, DA1 3, DA2 N/A,    BO1 5, BO2 4, DI1 2, DI2 1
    r2 信息技术: PD1 3, PD2 不适用, DA1 2, DA2 4,  BO1 3, BO2 3, DI1 1, DI2 3
    r3 门店运营: PD1 5, PD2 5, DA1 N/A, DA2 不适用, BO1 4, BO2 2, DI1 3, DI2 3

Indicators: data_silos 4 (fewer is better, thresholds 8/5/3/1) → level 3 → 50;
online_process_share 65 % (0.2/0.4/0.6/0.8) → level 4 → 75; automated_decision_share 0.1 (0.1/…) → level 2 → 25.
Indicator weight 0.4; dimension weights PD 0.3, DA 0.3, BO 0.2, DI 0.2.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from digiops.engagement import load_engagement
from digiops.maturity import scoring
from digiops.maturity.stage import run_maturity

from .fixture_client import ANSWERS, make_client

# --- by hand -------------------------------------------------------------------------------------------------------
PD_R1 = (2 * 75 + 1 * 25) / 3          # 58.33…: both answered, weights 2 and 1
PD_R2 = 50.0                           # PD2 is 不适用: PD1 alone, its weight re-normalized to 1
PD_R3 = (2 * 100 + 1 * 100) / 3        # 100
PD = (PD_R1 + PD_R2 + PD_R3) / 3       # 625/9 = 69.44…; no indicator for PD
DA_R1 = 50.0                           # DA2 N/A
DA_R2 = (1 * 25 + 3 * 75) / 4          # 62.5
DA_Q = (DA_R1 + DA_R2) / 2             # r3 answered no DA question: not averaged in → 56.25
DA = 0.6 * DA_Q + 0.4 * 50             # 53.75
BO_Q = ((100 + 75) / 2 + (50 + 50) / 2 + (75 + 25) / 2) / 3   # 62.5
BO = 0.6 * BO_Q + 0.4 * 75             # 67.5
DI_R = [(1.5 * 25 + 0.5 * 0) / 2, (1.5 * 0 + 0.5 * 50) / 2, (1.5 * 50 + 0.5 * 50) / 2]  # 18.75, 12.5, 50
DI_Q = sum(DI_R) / 3                   # 27.083…
DI = 0.6 * DI_Q + 0.4 * 25             # 26.25
OVERALL = 0.3 * PD + 0.3 * DA + 0.2 * BO + 0.2 * DI   # 55.7083…

EXPECTED = pd.DataFrame({
    "dimension": ["process_digitalization", "data_assetization", "business_online", "decision_intelligence",
                  "overall"],
    "score": [PD, DA, BO, DI, OVERALL],
    # L = 1 + 4 × score / 100: 3.777… → 3.8; 3.15 → 3.2 (half up); 3.7; 2.05 → 2.1 (half up); 3.228… → 3.2
    "level": [3.8, 3.2, 3.7, 2.1, 3.2],
    "band": [3, 3, 3, 2, 3],
    # targets 4.0, 4.0, 3.5, 3.6; overall target 0.3·4 + 0.3·4 + 0.2·3.5 + 0.2·3.6 = 3.82
    "target": [4.0, 4.0, 3.5, 3.6, 3.82],
    "gap": [0.2, 0.8, -0.2, 1.5, 0.62],
    "severity": ["minor", "moderate", "none", "critical", "minor"],
})


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_maturity(load_engagement(make_client(tmp_path_factory.mktemp("hand") / "client")))


def test_hand_worked_scores_match_the_formulas(result):
    # Arrange: EXPECTED above. Act: the module-scoped run. Assert:
    scores = result.scores.set_index("dimension")
    for row in EXPECTED.itertuples(index=False):
        assert scores.at[row.dimension, "score"] == pytest.approx(row.score, abs=1e-9), row.dimension
        assert scores.at[row.dimension, "level"] == row.level, row.dimension
        assert scores.at[row.dimension, "band"] == row.band, row.dimension
        assert scores.at[row.dimension, "target"] == pytest.approx(row.target, abs=1e-9), row.dimension
        assert scores.at[row.dimension, "gap"] == pytest.approx(row.gap, abs=1e-9), row.dimension
        assert scores.at[row.dimension, "severity"] == row.severity, row.dimension


def test_questionnaire_and_indicator_parts_are_reported(result):
    scores = result.scores.set_index("dimension")
    assert scores.at["data_assetization", "questionnaire_score"] == pytest.approx(56.25)
    assert scores.at["data_assetization", "indicator_score"] == 50.0
    assert scores.at["data_assetization", "respondents"] == 2
    assert math.isnan(scores.at["process_digitalization", "indicator_score"])
    assert scores.at["process_digitalization", "indicator_weight"] == 0.0
    levels = result.indicators.set_index("indicator_id")["level"].to_dict()
    assert levels == {"data_silos": 3, "online_process_share": 4, "automated_decision_share": 2}


def test_respondent_spread_and_disagreement(result):
    # respondent levels 1 + 4·s/100: PD 3.333, 3.0, 5.0 → spread 2.0; DA 3.0, 3.5 → 0.5;
    # BO 4.5, 3.0, 3.0 → 1.5; DI 1.75, 1.5, 3.0 → 1.5
    scores = result.scores.set_index("dimension")
    assert scores.loc[["process_digitalization", "data_assetization", "business_online", "decision_intelligence"],
                      "respondent_spread"].round(9).tolist() == [2.0, 0.5, 1.5, 1.5]
    assert scores["disagreement"].tolist() == [True, False, True, True, False]


def test_department_scores(result):
    # 门店运营 = r1 and r3: PD (58.33 + 100) / 2 = 79.1667 → L 4.1667 → 4.2; DA only r1 → 50 → 3.0
    # 信息技术 = r2: DI 12.5 → L 1.5
    dept = result.departments.set_index(["department", "dimension"])
    assert dept.at[("门店运营", "process_digitalization"), "score"] == pytest.approx((PD_R1 + PD_R3) / 2)
    assert dept.at[("门店运营", "process_digitalization"), "level"] == 4.2
    assert dept.at[("门店运营", "data_assetization"), "respondents"] == 1
    assert dept.at[("信息技术", "decision_intelligence"), "level"] == 1.5


def test_question_statistics(result):
    stats = result.questions.set_index("question_id")
    assert stats.at["DA2", "answered"] == 1 and stats.at["DA2", "not_applicable"] == 2
    assert stats.at["PD1", "mean_answer"] == pytest.approx(4.0)
    assert [stats.at["BO2", f"n_{a}"] for a in range(1, 6)] == [0, 1, 1, 1, 0]


def test_sensitivity_by_hand(result):
    # PD weight +20 %: 0.36, others 0.3, 0.2, 0.2 → Σ 1.06
    moved = (0.36 * PD + 0.3 * DA + 0.2 * BO + 0.2 * DI) / 1.06
    row = result.sensitivity.query("dimension == 'process_digitalization' and change > 0").iloc[0]
    assert row["overall_score"] == pytest.approx(moved, abs=1e-9)
    assert row["level_change"] == pytest.approx(4 * (moved - OVERALL) / 100, abs=1e-12)
    assert row["weight_after"] == pytest.approx(0.36 / 1.06)
    assert len(result.sensitivity) == 8


@pytest.mark.parametrize(("gap", "expected"), [
    (1.5, "critical"), (2.0, "critical"), (1.49, "moderate"), (1.4, "moderate"), (0.75, "moderate"),
    (0.74, "minor"), (0.7, "minor"), (0.1, "minor"), (0.0, "none"), (-0.5, "none"), (float("nan"), "no data"),
])
def test_severity_edges(gap, expected):
    assert scoring.severity(gap) == expected


@pytest.mark.parametrize(("target", "lvl", "expected"), [
    (4.0, 2.5, "critical"),     # 4.0 − 2.5 = 1.5 exactly, in floating point too
    (3.6, 2.1, "critical"),     # 3.6 − 2.1 = 1.4999999999999998 in floating point: still 1.5 levels
    (4.0, 2.6, "moderate"),     # 1.4
    (3.85, 3.1, "moderate"),    # 0.75 (0.7500000000000004 in floating point)
    (3.8, 3.1, "minor"),        # 0.7
    (3.2, 3.1, "minor"),        # 0.1
    (3.1, 3.1, "none"),
])
def test_severity_from_target_and_level(target, lvl, expected):
    assert scoring.severity(scoring.gap(target, lvl)) == expected


@pytest.mark.parametrize(("score", "expected_level", "expected_band"), [
    (0.0, 1.0, 1), (100.0, 5.0, 5), (25.0, 2.0, 2), (24.99, 2.0, 2), (24.9, 2.0, 2),
    (23.74, 1.9, 1), (62.5, 3.5, 3), (53.75, 3.2, 3), (26.25, 2.1, 2), (74.99, 4.0, 4), (99.9, 5.0, 5),
])
def test_level_and_band(score, expected_level, expected_band):
    # band = floor of the one-decimal level L (24.99 → L 1.9996 → 2.0 → band 2)
    assert scoring.level(score) == expected_level
    assert scoring.band(scoring.level(score)) == expected_band


def test_band_is_capped_at_five():
    assert scoring.band(5.0) == 5
    assert scoring.band(5.4) == 5


def test_answer_conversion():
    from digiops.maturity.answers import answer_score

    assert [answer_score(a) for a in (1, 2, 3, 4, 5)] == [0.0, 25.0, 50.0, 75.0, 100.0]


def test_all_na_respondent_is_not_averaged_in():
    # r3 answers no DA question: DA = mean(r1, r2), not mean(r1, r2, 0)
    assert DA_Q == 56.25
    assert ANSWERS["r3"][1][2:4] == ["N/A", "不适用"]
