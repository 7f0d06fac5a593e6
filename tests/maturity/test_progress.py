"""Progress between assessments: waves told apart, each scored by the same method, the change per dimension,
department and overall checked against a hand computation; the demo's progress has the generator's sign."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops.errors import QuestionBankError
from digiops.maturity import progress
from digiops.maturity.answers import answers_from_frame
from digiops.maturity.bank import default_bank
from digiops.settings.maturity import MaturitySettings

DIMS = {"PD": "process_digitalization", "DA": "data_assetization", "BO": "business_online",
        "DI": "decision_intelligence"}


def _answers(spec: dict[tuple[str, str, str], int], date: str) -> list[dict]:
    """spec: (respondent, department, dimension prefix) → the answer given to all six questions."""
    return [{"respondent_id": r, "department": d, "question_id": f"{p}{q}", "answer": str(a), "answered_at": date}
            for (r, d, p), a in spec.items() for q in range(1, 7)]


@pytest.fixture
def two_waves():
    before = _answers({("R1", "IT", "DA"): 2, ("R2", "门店", "DA"): 1, ("R1", "IT", "BO"): 4,
                       ("R2", "门店", "BO"): 4}, "2025-09-03")
    after = _answers({("R1", "IT", "DA"): 4, ("R2", "门店", "DA"): 2, ("R3", "门店", "DA"): 2,
                      ("R1", "IT", "BO"): 3, ("R2", "门店", "BO"): 3, ("R3", "门店", "BO"): 3}, "2026-09-05")
    return pd.DataFrame(before + after)


def _tidy(frame, settings):
    framed, dates = progress.assign_waves(frame, settings.waves, settings.wave_gap_days)
    return answers_from_frame(framed, default_bank(), form="long"), dates


def test_each_wave_is_scored_and_compared(two_waves):
    settings = MaturitySettings(targets={"data_assetization": 3.5, "business_online": 3.5})
    tidy, dates = _tidy(two_waves, settings)
    result = progress.assess(tidy, settings, dates)
    assert result.waves["wave"].tolist() == ["2025-09", "2026-09"]
    assert result.waves["respondents"].tolist() == [2, 3]
    company = result.company.set_index("dimension")
    # independent: level = answer (1 + 4 × (a−1)/4 = a); company = mean over respondents
    da_before, da_after = (2 + 1) / 2, (4 + 2 + 2) / 3
    assert company.at["data_assetization", "level_previous"] == pytest.approx(1.5)
    assert company.at["data_assetization", "level_latest"] == pytest.approx(round(da_after, 1))
    assert company.at["data_assetization", "change"] == pytest.approx(round(round(da_after, 1) - da_before, 1))
    assert company.at["data_assetization", "gap_narrowed"] is True
    assert company.at["business_online", "change"] == pytest.approx(-1.0)
    assert company.at["business_online", "gap_previous"] == pytest.approx(-0.5)
    assert company.at["business_online", "gap_latest"] == pytest.approx(0.5)
    assert company.at["business_online", "gap_narrowed"] is False
    assert company.at["business_online", "trend"] == "down"
    assert company.at["process_digitalization", "trend"] == "no_data"
    # overall: equal weights re-normalized over the two dimensions answered
    overall_before = (((2 + 1) / 2 - 1) * 25 + 75) / 2
    overall_after = ((da_after - 1) * 25 + 50) / 2
    assert company.at["overall", "score_previous"] == pytest.approx(overall_before)
    assert company.at["overall", "score_latest"] == pytest.approx(overall_after)
    depts = result.departments.set_index(["department", "dimension"])
    assert depts.at[("门店", "data_assetization"), "change"] == pytest.approx(1.0)
    assert depts.at[("IT", "data_assetization"), "change"] == pytest.approx(2.0)
    assert depts.at[("门店", "data_assetization"), "respondents_latest"] == 2


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_progress_tables_render_in_both_languages(two_waves, language):
    """The English column "Gap narrowed" once took a number format meant for the gaps and failed the stage."""
    from digiops.maturity import report

    settings = MaturitySettings(targets={"data_assetization": 3.5, "business_online": 3.5})
    tidy, dates = _tidy(two_waves, settings)
    result = progress.assess(tidy, settings, dates)
    table = report.progress_styled(result, language).to_html()
    matrix = report.progress_department_styled(result, language).to_html()

    assert "+1.2" in table and "-1.0" in table and ">0.8<" in table  # change signed, gaps at one decimal
    assert ("是" if language == "zh" else "yes") in table and "+2.0" in matrix


def test_one_wave_has_nothing_to_compare(two_waves):
    settings = MaturitySettings(waves="none")
    frame = two_waves[two_waves["answered_at"] > "2026"]
    tidy, dates = _tidy(frame, settings)
    result = progress.assess(tidy, settings, dates)
    assert not result.compared and result.table.empty and len(result.waves) == 1


def test_waves_from_a_field_and_from_close_dates():
    dates = pd.to_datetime(pd.Series(["2026-08-28", "2026-09-20", "2026-09-02"]))
    assert progress.waves_from_dates(dates, 45).nunique() == 1
    frame = pd.DataFrame({"wave": ["2026H1", "2025H2"], "_row": [2, 3]})
    assert progress.assign_waves(frame, "auto", 45)[0]["wave"].tolist() == ["2026H1", "2025H2"]


def test_a_bad_answer_date_is_named_with_its_row():
    frame = pd.DataFrame({"respondent_id": ["R1", "R2"], "answered_at": ["2026-09-01", "九月"], "_row": [2, 3]})
    with pytest.raises(QuestionBankError) as error:
        progress.assign_waves(frame, "auto", 45, label="raw/answers.xlsx")
    assert "raw/answers.xlsx" in str(error.value) and "九月" in str(error.value) and "R2" in str(error.value)
    assert error.value.row == 3


def test_demo_progress_has_the_generators_sign(tmp_path):
    from digiops import load_engagement, paths
    from digiops.demo import generate
    from digiops.maturity.stage import run_maturity
    import shutil

    client = tmp_path / "demo"
    shutil.copytree(paths.demo_client_dir(), client, ignore=shutil.ignore_patterns("raw", "truth"))
    generate(client, people=300)
    truth = pd.read_csv(client / "truth" / "maturity_waves.csv")
    means = truth.groupby(["dimension", "wave"])["mean_answer"].mean().unstack()
    intended = (means["2026-09"] - means["2025-09"]).apply(lambda d: "up" if d > 0 else "down")
    result = run_maturity(load_engagement(client / "engagement.yaml"))
    company = result.progress.company.set_index("dimension")
    for dimension, sign in intended.items():
        assert company.at[dimension, "trend"] == sign, dimension
    assert result.overall["level"] == result.scores.set_index("dimension").at["overall", "level"]
    assert result.progress.waves["wave"].iloc[-1] == "2026-09"
