"""Maturity scoring, exactly as DOMAIN.md §3 defines it.

- A 1–5 answer becomes ``(a − 1) / 4 × 100``.
- A respondent's dimension score is the weighted mean of the questions they answered in that dimension, the weights
  re-normalized over the answered ones (N/A dropped); the dimension's questionnaire score is the mean over the
  respondents who answered at least one of its questions.
- An indicator's level (from its threshold table) converts the same way, ``(level − 1) / 4 × 100``; several
  indicators of one dimension are averaged by their weights. The dimension score is
  ``(1 − w) × questionnaire + w × indicators`` with ``w`` the engagement's ``indicator_weight`` (only the part
  that exists when a dimension has no answers or no indicators).
- Overall = weighted mean of the dimension scores (dimension weights re-normalized over dimensions with a score).
- Continuous level ``L = 1 + 4 × score / 100`` rounded to one decimal (half up); band = ``floor(L)`` of that
  one-decimal level, capped at 5.
- Gap = target − L (the one-decimal level); severity critical ≥ 1.5, moderate ≥ 0.75, minor > 0, else none.

Example:
    >>> level(62.5), band(level(62.5)), level(74.99), band(level(74.99))
    (3.5, 3, 4.0, 4)
    >>> [severity(g) for g in (1.5, 1.49, 0.75, 0.74, 0.1, 0.0, -0.3)]
    ['critical', 'moderate', 'moderate', 'minor', 'minor', 'none', 'none']
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

from digiops.maturity.bank import QuestionBank, indicator_level
from digiops.settings.maturity import DIMENSION_KEYS, DIMENSIONS, IndicatorSpec

CRITICAL = 1.5
MODERATE = 0.75
EPSILON = 1e-9
SEVERITIES = ("critical", "moderate", "minor", "none")
OVERALL = "overall"


# --- the formulas ---------------------------------------------------------------------------------------------
def round_half_up(value: float, digits: int = 1) -> float:
    """Round half away from zero after removing binary noise (``3.55`` → 3.6, ``2.25`` → 2.3 at one digit).

    >>> round_half_up(3.55), round_half_up(1 + 4 * 63.75 / 100), round_half_up(2.449999)
    (3.6, 3.6, 2.4)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")
    cleaned = Decimal(repr(round(float(value), 9)))
    return float(cleaned.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def continuous_level(score: float) -> float:
    """``1 + 4 × score / 100``, unrounded (used for spreads and sensitivities)."""
    return 1 + 4 * score / 100


def level(score: float) -> float:
    """The continuous level with one decimal: ``L = 1 + 4 × score / 100``."""
    return round_half_up(continuous_level(score), 1)


def band(level_value: float) -> int | float:
    """``floor(L)`` capped at 5 (``nan`` when there is no level)."""
    if level_value is None or math.isnan(level_value):
        return float("nan")
    return int(min(math.floor(level_value + EPSILON), 5))


def gap(target: float, level_value: float) -> float:
    """Target − level, in levels (binary noise removed: 4.0 − 2.5 is exactly 1.5)."""
    if level_value is None or math.isnan(level_value):
        return float("nan")
    return round(target - level_value, 6)


def severity(gap_value: float) -> str:
    """critical ≥ 1.5 levels, moderate ≥ 0.75, minor > 0, else none (``no data`` without a level)."""
    if gap_value is None or math.isnan(gap_value):
        return "no data"
    if gap_value >= CRITICAL - EPSILON:
        return "critical"
    if gap_value >= MODERATE - EPSILON:
        return "moderate"
    if gap_value > EPSILON:
        return "minor"
    return "none"


def weighted_mean(values: dict[str, float], weights: dict[str, float]) -> float:
    """Σ w·v / Σ w over the keys with a value (weights re-normalized over them); ``nan`` when none."""
    pairs = [(v, weights.get(k, 0.0)) for k, v in values.items() if v is not None and not math.isnan(v)]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return float("nan")
    return sum(v * w for v, w in pairs) / total


# --- questionnaire ----------------------------------------------------------------------------------------------
def respondent_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """Per respondent × dimension: the weighted mean of answered questions (weights re-normalized).

    Columns: ``respondent_id, department, dimension, answered, score, level_continuous``. A respondent who
    answered no question of a dimension (all N/A) has no row for it.
    """
    answered = answers[answers["score"].notna()]
    if answered.empty:
        return pd.DataFrame(columns=["respondent_id", "department", "dimension", "answered", "score",
                                     "level_continuous"])
    work = answered.assign(weighted=answered["weight"] * answered["score"])
    grouped = work.groupby(["respondent_id", "department", "dimension"], sort=False, observed=True)
    out = grouped.agg(answered=("score", "size"), weighted=("weighted", "sum"), weight=("weight", "sum"))
    out["score"] = out["weighted"] / out["weight"]
    out["level_continuous"] = 1 + 4 * out["score"] / 100
    return out.drop(columns=["weighted", "weight"]).reset_index()


def questionnaire_scores(per_respondent: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: mean over respondents, and how much respondents disagree.

    Columns: ``dimension, respondents, questionnaire_score, respondent_sd, respondent_min_level,
    respondent_max_level, respondent_spread`` (max − min respondent level, in levels).
    """
    grouped = per_respondent.groupby("dimension", sort=False)
    out = grouped.agg(respondents=("respondent_id", "nunique"), questionnaire_score=("score", "mean"),
                      respondent_sd=("level_continuous", lambda s: float(s.std(ddof=0))),
                      respondent_min_level=("level_continuous", "min"),
                      respondent_max_level=("level_continuous", "max"))
    out["respondent_spread"] = out["respondent_max_level"] - out["respondent_min_level"]
    return out.reset_index()


# --- indicators ----------------------------------------------------------------------------------------------------
def indicator_scores(values: pd.DataFrame, tables: dict[str, IndicatorSpec]) -> pd.DataFrame:
    """Per indicator: its level from the threshold table and that level on the 0–100 scale."""
    rows = []
    for record in values.itertuples(index=False):
        spec = tables[record.indicator_id]
        lvl = indicator_level(spec, record.value)
        rows.append({"indicator_id": record.indicator_id, "dimension": spec.dimension, "name_zh": spec.name_zh,
                     "name_en": spec.name_en, "value": record.value, "direction": spec.direction,
                     "thresholds": ", ".join(f"{t:g}" for t in spec.thresholds), "weight": spec.weight,
                     "level": lvl, "score": (lvl - 1) / 4 * 100})
    return pd.DataFrame(rows, columns=["indicator_id", "dimension", "name_zh", "name_en", "value", "direction",
                                       "thresholds", "weight", "level", "score"])


def indicator_dimension_scores(indicators: pd.DataFrame) -> dict[str, float]:
    """Per dimension, the indicator scores averaged by indicator weight."""
    out = {}
    for dimension, group in indicators.groupby("dimension", sort=False):
        out[dimension] = float((group["score"] * group["weight"]).sum() / group["weight"].sum())
    return out


def blend(questionnaire: float, indicator: float, indicator_weight: float) -> float:
    """``(1 − w) × questionnaire + w × indicator``; only the part that exists when one is missing.

    >>> blend(50.0, 75.0, 0.3), blend(50.0, float("nan"), 0.3), blend(float("nan"), 75.0, 0.3)
    (57.5, 50.0, 75.0)
    """
    has_q = questionnaire is not None and not math.isnan(questionnaire)
    has_i = indicator is not None and not math.isnan(indicator)
    if has_q and has_i:
        return (1 - indicator_weight) * questionnaire + indicator_weight * indicator
    if has_q:
        return questionnaire
    if has_i:
        return indicator
    return float("nan")


# --- the scores table ------------------------------------------------------------------------------------------
SCORE_COLUMNS = ["dimension", "name_zh", "name_en", "weight", "respondents", "questionnaire_score",
                 "indicator_score", "indicator_weight", "score", "level", "band", "target", "gap", "severity",
                 "respondent_spread", "respondent_sd", "disagreement"]


def score_dimensions(answers: pd.DataFrame, indicators: pd.DataFrame | None, *, indicator_weight: float,
                     dimension_weights: dict[str, float], targets: dict[str, float],
                     disagreement_levels: float = 1.0) -> pd.DataFrame:
    """The scores table: one row per dimension, then an ``overall`` row.

    ``indicators`` is the output of :func:`indicator_scores` (or ``None``). The overall row's target is the
    weighted mean of the dimension targets; its spread columns are empty.
    """
    per_respondent = respondent_scores(answers)
    questionnaire = questionnaire_scores(per_respondent).set_index("dimension")
    from_indicators = indicator_dimension_scores(indicators) if indicators is not None and len(indicators) else {}
    rows = []
    for dimension in DIMENSION_KEYS:
        _, zh, en = DIMENSIONS[dimension]
        q = float(questionnaire.at[dimension, "questionnaire_score"]) if dimension in questionnaire.index \
            else float("nan")
        i = from_indicators.get(dimension, float("nan"))
        score = blend(q, i, indicator_weight)
        lvl = level(score) if not math.isnan(score) else float("nan")
        target = float(targets[dimension])
        spread = float(questionnaire.at[dimension, "respondent_spread"]) if dimension in questionnaire.index \
            else float("nan")
        rows.append({
            "dimension": dimension, "name_zh": zh, "name_en": en, "weight": float(dimension_weights[dimension]),
            "respondents": int(questionnaire.at[dimension, "respondents"]) if dimension in questionnaire.index
            else 0,
            "questionnaire_score": q, "indicator_score": i,
            "indicator_weight": indicator_weight if not (math.isnan(q) or math.isnan(i)) else
            (1.0 if not math.isnan(i) else 0.0),
            "score": score, "level": lvl, "band": band(lvl), "target": target, "gap": gap(target, lvl),
            "severity": severity(gap(target, lvl)), "respondent_spread": spread,
            "respondent_sd": float(questionnaire.at[dimension, "respondent_sd"]) if dimension in questionnaire.index
            else float("nan"),
            "disagreement": bool(spread > disagreement_levels + EPSILON) if not math.isnan(spread) else False,
        })
    scores = pd.DataFrame(rows)
    overall_score = weighted_mean(dict(zip(scores["dimension"], scores["score"])), dimension_weights)
    overall_target = weighted_mean(dict(zip(scores["dimension"], scores["target"])),
                                   {d: w for d, w in dimension_weights.items()
                                    if not math.isnan(scores.set_index("dimension").at[d, "score"])})
    overall_level = level(overall_score) if not math.isnan(overall_score) else float("nan")
    overall = {"dimension": OVERALL, "name_zh": "总体", "name_en": "Overall",
               "weight": float(sum(dimension_weights.values())), "respondents": int(answers["respondent_id"].nunique()),
               "questionnaire_score": weighted_mean(dict(zip(scores["dimension"], scores["questionnaire_score"])),
                                                    dimension_weights),
               "indicator_score": float("nan"), "indicator_weight": float("nan"), "score": overall_score,
               "level": overall_level, "band": band(overall_level), "target": round(overall_target, 6),
               "gap": gap(round(overall_target, 6), overall_level),
               "severity": severity(gap(round(overall_target, 6), overall_level)),
               "respondent_spread": float("nan"), "respondent_sd": float("nan"), "disagreement": False}
    total = sum(dimension_weights.values())
    scores["weight"] = scores["weight"] / total
    overall["weight"] = 1.0
    table = pd.concat([scores, pd.DataFrame([overall])], ignore_index=True)[SCORE_COLUMNS]
    table["band"] = table["band"].astype("Int64")
    table["respondents"] = table["respondents"].astype("int64")
    return table


# --- consistency -----------------------------------------------------------------------------------------------
def department_scores(answers: pd.DataFrame, scores: pd.DataFrame | None = None,
                      disagreement_levels: float = 1.0) -> pd.DataFrame:
    """Per department × dimension, the questionnaire score (same method as the whole company, its respondents only).

    Columns: ``department, dimension, respondents, score, level``, and when ``scores`` is given ``company_level``
    (the dimension's questionnaire level) and ``deviates`` (more than ``disagreement_levels`` from it).
    """
    per_respondent = respondent_scores(answers)
    grouped = per_respondent.groupby(["department", "dimension"], sort=True)
    out = grouped.agg(respondents=("respondent_id", "nunique"), score=("score", "mean")).reset_index()
    out["level"] = out["score"].map(level)
    if scores is not None:
        company = scores.set_index("dimension")["questionnaire_score"]
        out["company_level"] = out["dimension"].map(company).map(
            lambda s: level(s) if not math.isnan(s) else float("nan"))
        out["deviates"] = (out["level"] - out["company_level"]).abs() > disagreement_levels + EPSILON
    order = {d: i for i, d in enumerate(DIMENSION_KEYS)}
    return out.sort_values(["department", "dimension"], key=lambda s: s.map(order) if s.name == "dimension" else s,
                           ignore_index=True)


def department_matrix(department: pd.DataFrame, value: str = "level") -> pd.DataFrame:
    """Department × dimension matrix (rows departments, columns dimensions in model order) for the heatmap."""
    matrix = department.pivot(index="department", columns="dimension", values=value)
    return matrix.reindex(columns=[d for d in DIMENSION_KEYS if d in matrix.columns])


def question_statistics(answers: pd.DataFrame, bank: QuestionBank) -> pd.DataFrame:
    """Per question: answered, N/A, mean answer and score, spread, and the count of each answer 1–5."""
    rows = []
    grouped = dict(tuple(answers.groupby("question_id", sort=False)))
    for question in bank.questions:
        group = grouped.get(question.id)
        values = group["answer"].dropna() if group is not None else pd.Series(dtype="float64")
        counts = values.value_counts()
        rows.append({
            "question_id": question.id, "dimension": question.dimension, "text_zh": question.text_zh,
            "text_en": question.text_en, "weight": question.weight,
            "answered": int(len(values)), "not_applicable": int(group["answer"].isna().sum()) if group is not None
            else 0,
            "mean_answer": float(values.mean()) if len(values) else float("nan"),
            "mean_score": float(((values - 1) / 4 * 100).mean()) if len(values) else float("nan"),
            "sd_answer": float(values.std(ddof=0)) if len(values) else float("nan"),
            "min_answer": float(values.min()) if len(values) else float("nan"),
            "max_answer": float(values.max()) if len(values) else float("nan"),
            **{f"n_{a}": int(counts.get(float(a), 0)) for a in range(1, 6)},
            "low_share": float((values <= 2).mean()) if len(values) else float("nan"),
        })
    return pd.DataFrame(rows)


# --- sensitivity ----------------------------------------------------------------------------------------------
def sensitivity(scores: pd.DataFrame, dimension_weights: dict[str, float], change: float = 0.2) -> pd.DataFrame:
    """How the overall level moves when each dimension's weight changes by ``−change`` and ``+change``.

    The changed weight is multiplied by ``1 ± change``, the others kept, then all re-normalized. Columns:
    ``dimension, change, weight_before, weight_after, overall_score, overall_level, level_change`` (unrounded
    change of the continuous level).
    """
    by_dimension = scores[scores["dimension"] != OVERALL]
    values = dict(zip(by_dimension["dimension"], by_dimension["score"]))
    base = weighted_mean(values, dimension_weights)
    total = sum(dimension_weights.values())
    rows = []
    for dimension in DIMENSION_KEYS:
        for factor in (-change, change):
            weights = dict(dimension_weights)
            weights[dimension] = weights[dimension] * (1 + factor)
            moved = weighted_mean(values, weights)
            rows.append({"dimension": dimension, "change": factor,
                         "weight_before": dimension_weights[dimension] / total,
                         "weight_after": weights[dimension] / sum(weights.values()),
                         "overall_score": moved, "overall_level": level(moved) if not math.isnan(moved) else np.nan,
                         "level_change": continuous_level(moved) - continuous_level(base)})
    return pd.DataFrame(rows)
