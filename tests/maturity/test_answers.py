"""Reading answers: long and wide give the same scores; bad answers and unknown ids name respondent and question."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops.engagement import load_engagement
from digiops.errors import QuestionBankError
from digiops.maturity.answers import answers_from_frame, indicators_from_frame, parse_answer
from digiops.maturity.bank import default_bank, default_indicators, load_bank
from digiops.maturity.stage import run_maturity

from .fixture_client import ANSWERS, make_client


def _with(respondent: str, position: int, value: str) -> dict:
    answers = {r: (d, list(v)) for r, (d, v) in ANSWERS.items()}
    answers[respondent][1][position] = value
    return answers


def test_long_and_wide_give_the_same_scores(tmp_path):
    # Arrange
    long_file = make_client(tmp_path / "long", form="long")
    wide_file = make_client(tmp_path / "wide", form="wide")
    # Act
    long_scores = run_maturity(load_engagement(long_file)).scores
    wide_scores = run_maturity(load_engagement(wide_file)).scores
    # Assert
    pd.testing.assert_frame_equal(long_scores, wide_scores)


@pytest.mark.parametrize("bad", ["6", "0", "2.5", "很好", "-1"])
def test_answer_outside_one_to_five_names_respondent_question_and_row(tmp_path, bad):
    # r2's DA1 (4th question, position 2) is the 11th data row of the long sheet → row 12 with the header
    file = make_client(tmp_path / "c", answers=_with("r2", 2, bad))
    with pytest.raises(QuestionBankError) as info:
        run_maturity(load_engagement(file))
    message = str(info.value)
    assert "respondent r2" in message and "question DA1" in message and f"'{bad}'" in message
    assert info.value.row == 12 and info.value.field == "answer"
    assert message.startswith("raw/answers.xlsx")


def test_unknown_question_id_names_respondent_and_question(tmp_path):
    frame = pd.DataFrame({"respondent_id": ["r1", "r7"], "department": ["门店", "财务"],
                          "question_id": ["PD1", "PD9"], "answer": ["3", "4"], "_row": [2, 3]})
    with pytest.raises(QuestionBankError) as info:
        answers_from_frame(frame, default_bank(), label="raw/answers.xlsx")
    assert "respondent r7" in str(info.value) and "'PD9'" in str(info.value)
    assert info.value.row == 3 and info.value.field == "question_id"


def test_unknown_wide_column_is_an_error_naming_a_respondent(tmp_path):
    frame = pd.DataFrame({"respondent_id": ["r1"], "department": ["门店"], "PD1": ["3"], "PX7": ["2"],
                          "_row": [2]})
    with pytest.raises(QuestionBankError, match=r"respondent r1, question 'PX7'"):
        answers_from_frame(frame, default_bank())


def test_wide_ignore_columns_are_skipped():
    frame = pd.DataFrame({"respondent_id": ["r1"], "department": ["门店"], "PD1": ["3"], "备注": ["无"],
                          "_row": [2]})
    tidy = answers_from_frame(frame, default_bank(), ignore_columns=["备注"])
    assert tidy["question_id"].tolist() == ["PD1"]


def test_not_applicable_spellings_and_full_width_digits():
    assert [parse_answer(v) for v in ("N/A", "n/a", "NA", "不适用", "", " ３ ")][-1] == 3.0
    assert all(pd.isna(parse_answer(v)) for v in ("N/A", "n/a", "NA", "不适用", ""))


def test_answered_twice_and_two_departments_are_errors():
    bank = default_bank()
    twice = pd.DataFrame({"respondent_id": ["r1", "r1"], "department": ["门店", "门店"],
                          "question_id": ["PD1", "pd1"], "answer": ["3", "4"]})
    with pytest.raises(QuestionBankError, match="respondent r1, question PD1: answered twice"):
        answers_from_frame(twice, bank)
    moved = pd.DataFrame({"respondent_id": ["r1", "r1"], "department": ["门店", "财务"],
                          "question_id": ["PD1", "PD2"], "answer": ["3", "4"]})
    with pytest.raises(QuestionBankError, match="respondent r1, question PD2: department"):
        answers_from_frame(moved, bank)


def test_default_bank_has_six_questions_per_dimension_in_both_languages():
    bank = default_bank()
    table = bank.table()
    assert len(bank) == 24
    assert table.groupby("dimension").size().to_dict() == {
        "business_online": 6, "data_assetization": 6, "decision_intelligence": 6, "process_digitalization": 6}
    assert sorted(table["id"]) == sorted(f"{p}{i}" for p in ("PD", "DA", "BO", "DI") for i in range(1, 7))
    assert table["text_zh"].str.len().min() > 10 and table["text_en"].str.len().min() > 20


def test_engagement_bank_extends_the_default(tmp_path):
    own = tmp_path / "bank.yaml"
    own.write_text("questions:\n"
                   "  - {id: PD1, dimension: process_digitalization, weight: 3, text_zh: 新, text_en: new}\n"
                   "  - {id: DI7, dimension: decision_intelligence, text_zh: 七, text_en: seven}\n",
                   encoding="utf-8")
    extended = default_bank().extended(load_bank(own))
    assert len(extended) == 25
    assert extended.by_id["PD1"].weight == 3 and extended.ids_of("decision_intelligence")[-1] == "DI7"


def test_bank_errors_name_the_question(tmp_path):
    bad = tmp_path / "bank.yaml"
    bad.write_text("questions:\n  - {id: Q1, dimension: culture, text_zh: x, text_en: x}\n", encoding="utf-8")
    with pytest.raises(QuestionBankError, match=r"question Q1: .*process_digitalization"):
        load_bank(bad)


def test_indicator_values_shares_counts_and_errors():
    tables = default_indicators()
    frame = pd.DataFrame({"indicator_id": ["Online_Process_Share", "data_silos"], "value": ["45%", "7"],
                          "_row": [2, 3]})
    values = indicators_from_frame(frame, tables)
    assert values["value"].tolist() == [0.45, 7.0]
    with pytest.raises(QuestionBankError, match="indicator online_process_share: value '45'") as info:
        indicators_from_frame(pd.DataFrame({"indicator_id": ["online_process_share"], "value": ["45"],
                                            "_row": [5]}), tables)
    assert info.value.row == 5
    with pytest.raises(QuestionBankError, match="'crm_coverage' has no threshold table"):
        indicators_from_frame(pd.DataFrame({"indicator_id": ["crm_coverage"], "value": ["1"]}), tables)
