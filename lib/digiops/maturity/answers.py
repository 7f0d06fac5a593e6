"""Questionnaire answers and indicator values: from a client's sheet to one tidy frame.

Answers come long (``respondent_id, department, question_id, answer``: one row per respondent × question) or wide
(``respondent_id, department`` and one column per question id). Each cell is text (as :mod:`digiops.io` reads it):
``1``–``5``, or ``N/A`` / ``不适用`` (also a blank cell) when the question does not apply. Anything else, and any
question id the bank does not know, is a :class:`QuestionBankError` that names the respondent and the question.

Example:
    >>> import pandas as pd
    >>> from digiops.maturity.bank import default_bank
    >>> raw = pd.DataFrame({"respondent_id": ["r1", "r1"], "department": ["门店", "门店"],
    ...                     "question_id": ["PD1", "DA1"], "answer": ["4", "不适用"], "_row": [2, 3]})
    >>> tidy = answers_from_frame(raw, default_bank())
    >>> tidy[["question_id", "answer", "score"]].to_dict("list")
    {'question_id': ['PD1', 'DA1'], 'answer': [4.0, nan], 'score': [75.0, nan]}
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

from digiops.errors import QuestionBankError
from digiops.io import ROW
from digiops.maturity.bank import QuestionBank, normalize_id
from digiops.settings.maturity import IndicatorSpec

NOT_APPLICABLE = {"", "N/A", "NA", "N.A.", "不适用", "不適用", "-", "—", "–"}
YES = {"YES", "Y", "是", "有", "TRUE"}
NO = {"NO", "N", "否", "无", "沒有", "没有", "FALSE"}
ID_COLUMNS = ("respondent_id", "department")
#: the assessment wave (set by :func:`digiops.maturity.progress.assign_waves`) and the answer date it may come from:
#: not questions, and a wave's answers are checked apart from the other waves'
WAVE = "wave"
WAVE_COLUMNS = (WAVE, "answered_at")
UNSPECIFIED_DEPARTMENT = "(unspecified)"
ANSWER_COLUMNS = ["respondent_id", "department", "question_id", "dimension", "weight", "answer", "score", ROW]
FIX_ANSWER = "answer 1–5 (whole numbers), or N/A / 不适用 when the question does not apply"


def answer_score(answer: float) -> float:
    """A 1–5 answer on the 0–100 scale: ``(a − 1) / 4 × 100`` (DOMAIN §3).

    >>> [answer_score(a) for a in (1, 2, 3, 4, 5)]
    [0.0, 25.0, 50.0, 75.0, 100.0]
    """
    return (answer - 1) / 4 * 100


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def parse_answer(raw: object, answer_type: str = "likert5") -> float | None:
    """The numeric answer 1–5, ``nan`` for N/A, or ``None`` when the text is not a valid answer.

    >>> parse_answer("４"), parse_answer(" 不适用 "), parse_answer("3.0"), parse_answer("6"), parse_answer("2.5")
    (4.0, nan, 3.0, None, None)
    >>> parse_answer("是", "yes_no"), parse_answer("否", "yes_no")
    (5.0, 1.0)
    """
    text = _text(raw)
    if text.upper() in NOT_APPLICABLE:
        return float("nan")
    if answer_type == "yes_no":
        if text.upper() in YES:
            return 5.0
        if text.upper() in NO:
            return 1.0
        return None
    try:
        number = float(text)
    except ValueError:
        return None
    if not number.is_integer() or not 1 <= number <= 5:
        return None
    return number


def _map_unique(series: pd.Series, function) -> pd.Series:
    """``series.map(function)``, calling the function once per distinct value (answers repeat a lot)."""
    values = series.astype("object").where(series.notna(), "")
    return values.map({value: function(value) for value in values.unique()})


def detect_form(frame: pd.DataFrame) -> str:
    """``long`` when the frame has ``question_id`` and ``answer`` columns, else ``wide``."""
    return "long" if {"question_id", "answer"} <= set(frame.columns) else "wide"


def wide_to_long(frame: pd.DataFrame, bank: QuestionBank, *, label: str = "answers",
                 ignore_columns: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """One column per question → one row per respondent × question (blank cells become N/A rows).

    A column that is neither an id column, an ignored column nor a question of the bank is an error: a typo in a
    question header would otherwise silently drop a question.
    """
    ignored = {normalize_id(c) for c in ignore_columns}
    question_columns = [c for c in frame.columns
                        if c not in (*ID_COLUMNS, *WAVE_COLUMNS, ROW) and normalize_id(c) not in ignored]
    for column in question_columns:
        if normalize_id(column) not in bank:
            filled = frame[frame[column].map(_text).ne("")]
            first = filled.iloc[0] if len(filled) else (frame.iloc[0] if len(frame) else None)
            who = f"respondent {_text(first['respondent_id'])}, " if first is not None and "respondent_id" in frame \
                else ""
            raise QuestionBankError(label, f"{who}question '{column}': column is not a question id of the bank "
                                    f"({bank.label})", field=str(column),
                                    row=int(first[ROW]) if first is not None and ROW in frame else None,
                                    fix="rename the column to a question id (e.g. PD1), add the question to the "
                                    "bank (maturity.question_bank), or list it in maturity.wide_ignore_columns")
    keep = [c for c in (*ID_COLUMNS, WAVE) if c in frame.columns] + ([ROW] if ROW in frame.columns else [])
    long = frame.melt(id_vars=keep, value_vars=question_columns, var_name="question_id", value_name="answer")
    return long


def answers_from_frame(frame: pd.DataFrame, bank: QuestionBank, *, form: str = "auto", label: str = "answers",
                       ignore_columns: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Validate answers (long or wide) against the bank; one row per respondent × question.

    Columns: ``respondent_id, department, question_id, dimension, weight, answer`` (1–5, ``nan`` for N/A),
    ``score`` (``(a − 1) / 4 × 100``, ``nan`` for N/A) and ``_row`` (the row in the client's file); with a
    ``wave`` column (several assessments in one file) also ``wave``, and a respondent id may recur across waves.

    Raises:
        QuestionBankError: an answer outside 1–5, an unknown question id, a missing respondent id, the same
            question answered twice by one respondent, or one respondent in two departments. The message names the
            file, the row, the respondent and the question.
    """
    frame = checked_frame(frame, (), label, "")
    if "respondent_id" not in frame.columns:
        raise QuestionBankError(label, "has no respondent_id column", field="respondent_id",
                                fix="map the respondent column to respondent_id in the engagement's sources")
    form = detect_form(frame) if form == "auto" else form
    if form == "wide":
        frame = wide_to_long(frame, bank, label=label, ignore_columns=ignore_columns)
    elif not {"question_id", "answer"} <= set(frame.columns):
        raise QuestionBankError(label, "long-form answers need question_id and answer columns", field="columns",
                                fix="map them in the engagement's sources, or set maturity.answers_form: wide")
    if "department" not in frame.columns:
        frame["department"] = ""
    respondent = _map_unique(frame["respondent_id"], _text)
    department = _map_unique(frame["department"], _text).replace("", UNSPECIFIED_DEPARTMENT)
    question_id = _map_unique(frame["question_id"], normalize_id)
    rows = frame[ROW].astype("int64").to_numpy()

    def fail(mask: np.ndarray, problem, field: str, fix: str) -> None:
        positions = np.flatnonzero(mask)
        if len(positions):
            i = positions[0]
            more = f" ({len(positions) - 1} more rows like it)" if len(positions) > 1 else ""
            raise QuestionBankError(label, problem(i) + more, field=field, row=int(rows[i]), fix=fix)

    fail(respondent.eq("").to_numpy(), lambda i: f"question {question_id.iloc[i]}: respondent_id is empty",
         "respondent_id", "give every answer row its respondent's id")
    known = bank.by_id
    fail(~question_id.isin(known).to_numpy(),
         lambda i: f"respondent {respondent.iloc[i]}, question '{frame['question_id'].iloc[i]}': question id is "
                   f"not in the question bank ({bank.label})",
         "question_id", "correct the id, or add the question to the bank (maturity.question_bank)")
    answer_type = question_id.map({q.id: q.answer_type for q in bank.questions})
    # parse each distinct (text, type) once: 10 000 respondents give a few dozen distinct cells
    combined = frame["answer"].astype("str").where(frame["answer"].notna(), "") + "\x00" + answer_type.astype("str")
    parsed_map = {key: parse_answer(*key.split("\x00", 1)) for key in combined.unique()}
    invalid = combined.map({k: v is None for k, v in parsed_map.items()}).to_numpy(dtype=bool)
    parsed = combined.map({k: (np.nan if v is None else v) for k, v in parsed_map.items()})
    fail(invalid,
         lambda i: f"respondent {respondent.iloc[i]}, question {question_id.iloc[i]}: answer "
                   f"'{frame['answer'].iloc[i]}' is not valid"
                   + (" (expected 是/否, yes/no or N/A)" if answer_type.iloc[i] == "yes_no" else
                      " (outside 1–5 or not a whole number)"),
         "answer", FIX_ANSWER)
    tidy = pd.DataFrame({
        "respondent_id": respondent.astype("str"), "department": department.astype("str"),
        "question_id": question_id.astype("str"),
        "dimension": question_id.map({q.id: q.dimension for q in bank.questions}).astype("str"),
        "weight": question_id.map({q.id: q.weight for q in bank.questions}).astype("float64"),
        "answer": parsed.astype("float64"), ROW: rows,
    })
    tidy["score"] = (tidy["answer"] - 1) / 4 * 100
    columns = ANSWER_COLUMNS
    who = ["respondent_id"]
    if WAVE in frame.columns:
        tidy[WAVE] = frame[WAVE].astype("str").to_numpy()
        columns, who = [*ANSWER_COLUMNS, WAVE], [WAVE, "respondent_id"]
    twice = tidy.duplicated([*who, "question_id"], keep="first").to_numpy()
    fail(twice, lambda i: f"respondent {tidy['respondent_id'].iloc[i]}, question {tidy['question_id'].iloc[i]}: "
                          "answered twice", "question_id", "keep one answer per respondent and question")
    departments = tidy.groupby(who, sort=False)["department"].transform("first")
    fail(tidy["department"].ne(departments).to_numpy(),
         lambda i: f"respondent {tidy['respondent_id'].iloc[i]}, question {tidy['question_id'].iloc[i]}: department "
                   f"'{tidy['department'].iloc[i]}' differs from the respondent's earlier rows "
                   f"('{departments.iloc[i]}')", "department", "give each respondent one department")
    return tidy[columns].reset_index(drop=True)


# --- indicators ---------------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(%)?$")


def parse_indicator_value(raw: object, spec: IndicatorSpec) -> float | None:
    """The numeric value of an indicator cell (``45%`` → 0.45), ``nan`` when blank, ``None`` when invalid.

    >>> spec = IndicatorSpec(dimension="business_online", unit="share", thresholds=[0.2, 0.4, 0.6, 0.8])
    >>> parse_indicator_value("45%", spec), parse_indicator_value("0.45", spec), parse_indicator_value("45", spec)
    (0.45, 0.45, None)
    """
    text = _text(raw).replace(",", "").replace(" ", "")
    if text == "" or text.upper() in NOT_APPLICABLE:
        return float("nan")
    match = _NUMBER.match(text)
    if not match:
        return None
    value = float(text.rstrip("%"))
    if match.group(3):
        value = round(value / 100, 12)
    if spec.unit == "share" and not 0 <= value <= 1:
        return None
    if spec.unit == "count" and value < 0:
        return None
    return value


def checked_frame(frame: pd.DataFrame, required: tuple[str, ...], label: str, fix: str) -> pd.DataFrame:
    """A copy of an input table with ``_row`` (its rows as the client sees them when the reader gave none) and
    every ``required`` column present; a :class:`QuestionBankError` naming the missing ones otherwise."""
    frame = frame.copy()
    if ROW not in frame.columns:
        frame[ROW] = np.arange(2, len(frame) + 2)
    missing = set(required) - set(frame.columns)
    if missing:
        raise QuestionBankError(label, f"has no {', '.join(sorted(missing))} column", field="columns", fix=fix)
    return frame


def indicators_from_frame(frame: pd.DataFrame, tables: dict[str, IndicatorSpec], *,
                          label: str = "indicators") -> pd.DataFrame:
    """Validate indicator values: ``indicator_id, dimension, value, _row`` (blank values dropped)."""
    frame = checked_frame(frame, ("indicator_id", "value"), label,
                          "map indicator_id and value in the engagement's sources")
    lookup = {k.strip().lower(): k for k in tables}
    out, seen = [], {}
    for _, record in frame.iterrows():
        ident_text = _text(record["indicator_id"])
        row = int(record[ROW])
        if not ident_text:
            continue
        ident = lookup.get(ident_text.lower())
        if ident is None:
            raise QuestionBankError(label, f"indicator '{ident_text}' has no threshold table (known: "
                                    f"{', '.join(tables)})", field="indicator_id", row=row,
                                    fix="correct the id, or add its thresholds under maturity.indicators")
        if ident in seen:
            raise QuestionBankError(label, f"indicator {ident} is given twice (rows {seen[ident]} and {row})",
                                    field="indicator_id", row=row, fix="keep one value per indicator")
        seen[ident] = row
        spec = tables[ident]
        value = parse_indicator_value(record["value"], spec)
        if value is None:
            expected = "a share 0–1 (or 0–100 %)" if spec.unit == "share" else "a number"
            raise QuestionBankError(label, f"indicator {ident}: value '{record['value']}' is not {expected}",
                                    field="value", row=row,
                                    fix="write shares as 0.45 or 45%, counts as whole numbers")
        if not math.isnan(value):
            out.append({"indicator_id": ident, "dimension": spec.dimension, "value": value, ROW: row})
    return pd.DataFrame(out, columns=["indicator_id", "dimension", "value", ROW])
