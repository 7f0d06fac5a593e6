"""Progress between assessments (issue 23): the questionnaire answered in more than one wave, each wave scored by
the same method, the latest against the one before it per dimension, per department and overall.

**Waves.** :func:`assign_waves` tells the waves apart (``maturity.waves``):

- ``field``: the mapped ``wave`` column as given (``2025-09``, ``2026Q3`` …); waves are ordered by their first
  answer date when ``answered_at`` is mapped too, else by their labels (so labels should sort in time order);
- ``answer_date``: from the mapped ``answered_at`` dates. The distinct dates are sorted and a new wave starts
  where two consecutive dates are more than ``maturity.wave_gap_days`` (default 45) apart, so a fieldwork of a few
  weeks is one wave even across a month end; a wave is named by the month of its first answer (``2025-09``);
- ``auto`` (default): ``field`` when ``wave`` is mapped, else ``answer_date`` when ``answered_at`` is, else one wave.

Respondents need not be the same people in two waves, and a respondent id may recur (the same person answering
again). The stage's headline figures are those of the latest wave.

**Scores.** Each wave is scored with :func:`digiops.maturity.scoring.score_dimensions` and
:func:`~digiops.maturity.scoring.department_scores` on its own answers — the questionnaire alone: the client's
indicators are measured once (now), and blending today's values into an earlier wave would hide its change. A
department's overall score is the weighted mean of its dimension scores (dimension weights re-normalized over the
dimensions it answered), as for the company. The change is ``level latest − level previous`` (one-decimal levels,
so it reads off the two levels shown); the gap is ``target − level`` per wave (the company's dimension targets apply
to every department) and it narrowed when the latest gap is smaller.

Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"answered_at": ["2025-09-03", "2025-09-20", "2026-09-02"], "_row": [2, 3, 4]})
    >>> assign_waves(frame, "auto", 45)[0]["wave"].tolist()
    ['2025-09', '2025-09', '2026-09']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from digiops.errors import QuestionBankError
from digiops.io import ROW
from digiops.maturity import scoring
from digiops.maturity.answers import WAVE, _text
from digiops.settings.maturity import DIMENSION_KEYS, DIMENSIONS

#: the company row's department (progress rows of the whole company)
COMPANY = "company"
DEPARTMENT = "department"
PROGRESS_COLUMNS = ["scope", "department", "dimension", "name_zh", "name_en", "wave_previous", "wave_latest",
                    "respondents_previous", "respondents_latest", "score_previous", "score_latest", "score_change",
                    "level_previous", "level_latest", "change", "target", "gap_previous", "gap_latest",
                    "gap_narrowed", "target_reached", "trend"]
WAVE_COLUMNS = ["wave", "order", "first_answer", "last_answer", "respondents", "overall_score", "overall_level",
                "latest"]
#: ``trend`` codes: the level rose, fell, stayed, or one of the waves has no score.
TRENDS = ("up", "down", "flat", "no_data")


# --- waves ---------------------------------------------------------------------------------------------------------
def _mode(frame: pd.DataFrame, mode: str) -> str:
    has_wave = WAVE in frame.columns and frame[WAVE].map(_text).ne("").any()
    has_date = "answered_at" in frame.columns
    if mode == "auto":
        return "field" if has_wave else "answer_date" if has_date else "none"
    return mode


def _dates(frame: pd.DataFrame, label: str) -> pd.Series:
    text = frame["answered_at"].map(_text)
    dates = pd.to_datetime(text.where(text.ne("")), errors="coerce", format="mixed")
    bad = dates.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raw = frame["answered_at"].iloc[i]
        who = f"respondent {_text(frame['respondent_id'].iloc[i])}: " if "respondent_id" in frame.columns else ""
        raise QuestionBankError(label, f"{who}answer date '{_text(raw)}' is not a date"
                                + (f" ({int(bad.sum()) - 1} more rows like it)" if bad.sum() > 1 else ""),
                                field="answered_at", row=int(frame[ROW].iloc[i]) if ROW in frame.columns else None,
                                fix="write the date the questionnaire was answered as YYYY-MM-DD, or set "
                                "maturity.waves: none")
    return dates.dt.normalize()


def waves_from_dates(dates: pd.Series, gap_days: int) -> pd.Series:
    """Each date's wave: distinct dates sorted, a new wave where consecutive dates are more than ``gap_days``
    apart, named ``YYYY-MM`` by its first date.

    >>> d = pd.to_datetime(pd.Series(["2026-09-10", "2025-08-30", "2025-09-12", "2026-09-01"]))
    >>> waves_from_dates(d, 45).tolist()
    ['2026-09', '2025-08', '2025-08', '2026-09']
    """
    distinct = pd.Series(sorted(dates.dropna().unique()))
    if distinct.empty:
        return pd.Series([None] * len(dates), index=dates.index, dtype="object")
    starts = distinct.diff().dt.days.fillna(gap_days + 1).gt(gap_days).cumsum()
    first = distinct.groupby(starts).transform("min").dt.strftime("%Y-%m")
    return dates.map(dict(zip(distinct, first)))


#: wave → (first answer date, last answer date), ISO text
WaveDates = dict[str, tuple[str, str]]


def assign_waves(frame: pd.DataFrame, mode: str, gap_days: int,
                 label: str = "answers") -> tuple[pd.DataFrame, WaveDates | None]:
    """A copy of the answers (long or wide, canonical names) with a ``wave`` column by ``mode`` (see the module)
    and without ``answered_at``, and each wave's first and last answer date when dates are mapped (else ``None``);
    no ``wave`` column with one assessment (``mode`` none, or nothing mapped).

    Raises:
        QuestionBankError: a blank wave or an answer date that is not a date, naming the file, row and respondent.
    """
    mode = _mode(frame, mode)
    out = frame.drop(columns=[c for c in (WAVE,) if c in frame.columns and mode != "field"])
    if mode == "none":
        return out.drop(columns=[c for c in ("answered_at",) if c in out.columns]), None
    if mode == "answer_date" and "answered_at" not in frame.columns:
        raise QuestionBankError(label, "maturity.waves is answer_date but no column is mapped to answered_at",
                                field="answered_at", fix="map the answer-date column to answered_at, or set "
                                "maturity.waves: auto")
    if mode == "field":
        if WAVE not in frame.columns:
            raise QuestionBankError(label, "maturity.waves is field but no column is mapped to wave", field="wave",
                                    fix="map the wave column to wave, or set maturity.waves: auto")
        waves = frame[WAVE].map(_text)
        blank = waves.eq("").to_numpy()
        if blank.any():
            i = int(np.flatnonzero(blank)[0])
            raise QuestionBankError(label, "the assessment wave is empty", field="wave",
                                    row=int(frame[ROW].iloc[i]) if ROW in frame.columns else None,
                                    fix="give every answer row its wave (e.g. 2025-09), or leave wave unmapped")
        out[WAVE] = waves
    else:
        out[WAVE] = waves_from_dates(_dates(frame, label), gap_days).to_numpy()
    dates = None
    if "answered_at" in frame.columns:
        answered = _dates(frame, label)
        span = answered.groupby(out[WAVE].to_numpy()).agg(["min", "max"])
        dates = {str(w): (r["min"].date().isoformat(), r["max"].date().isoformat()) for w, r in span.iterrows()}
    return out.drop(columns=["answered_at"], errors="ignore"), dates


def wave_order(answers: pd.DataFrame, dates: WaveDates | None = None) -> list[str]:
    """The waves of the tidy answers, earliest first: by first answer date when ``dates`` are known, else by label;
    ``[]`` without a ``wave`` column.

    >>> wave_order(pd.DataFrame({"wave": ["秋季", "春季"]}), {"秋季": ("2025-09-01", "2025-09-09"),
    ...                                                     "春季": ("2026-03-02", "2026-03-05")})
    ['秋季', '春季']
    """
    if WAVE not in answers.columns:
        return []
    labels = sorted(answers[WAVE].astype(str).unique())
    if dates:
        return sorted(labels, key=lambda w: (dates.get(w, ("9999",))[0], w))
    return labels


# --- scores per wave and their change -------------------------------------------------------------------------------
def _wave_scores(answers: pd.DataFrame, settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    targets = {d: settings.target(d) for d in DIMENSION_KEYS}
    scores = scoring.score_dimensions(answers, None, indicator_weight=settings.indicator_weight,
                                      dimension_weights=settings.dimension_weights, targets=targets,
                                      disagreement_levels=settings.disagreement_levels)
    departments = scoring.department_scores(answers)
    overall_target = float(scores.set_index("dimension").at[scoring.OVERALL, "target"])
    rows = []
    for department, group in departments.groupby("department", sort=True):
        score = scoring.weighted_mean(dict(zip(group["dimension"], group["score"])), settings.dimension_weights)
        respondents = int(answers.loc[answers["department"] == department, "respondent_id"].nunique())
        rows.append({"department": department, "dimension": scoring.OVERALL, "respondents": respondents,
                     "score": score, "level": scoring.level(score) if not math.isnan(score) else np.nan})
    departments = pd.concat([departments, pd.DataFrame(rows)], ignore_index=True)
    departments["target"] = departments["dimension"].map(lambda d: targets.get(d, overall_target))
    return scores, departments


def _row(scope: str, department: str | None, dimension: str, previous: dict | None, latest: dict | None,
         target: float, waves: tuple[str, str]) -> dict:
    name_zh, name_en = (DIMENSIONS[dimension][1:] if dimension in DIMENSIONS else ("总体", "Overall"))
    p = previous or {}
    q = latest or {}
    lp, ll = p.get("level", np.nan), q.get("level", np.nan)
    gp = scoring.gap(target, lp) if not pd.isna(lp) else np.nan
    gl = scoring.gap(target, ll) if not pd.isna(ll) else np.nan
    both = not (pd.isna(lp) or pd.isna(ll))
    change = scoring.round_half_up(ll - lp, 1) if both else np.nan
    return {"scope": scope, "department": department, "dimension": dimension, "name_zh": name_zh,
            "name_en": name_en, "wave_previous": waves[0], "wave_latest": waves[1],
            "respondents_previous": int(p.get("respondents", 0) or 0),
            "respondents_latest": int(q.get("respondents", 0) or 0),
            "score_previous": p.get("score", np.nan), "score_latest": q.get("score", np.nan),
            "score_change": q.get("score", np.nan) - p.get("score", np.nan) if both else np.nan,
            "level_previous": lp, "level_latest": ll, "change": change, "target": target,
            "gap_previous": gp, "gap_latest": gl,
            "gap_narrowed": bool(gl < gp - scoring.EPSILON) if both else None,
            "target_reached": bool(gl <= scoring.EPSILON) if not pd.isna(gl) else None,
            "trend": "no_data" if not both else "up" if change > 0 else "down" if change < 0 else "flat"}


def compare_waves(previous: pd.DataFrame, latest: pd.DataFrame, settings,
                  waves: tuple[str, str]) -> pd.DataFrame:
    """The progress table of two waves' tidy answers: the company per dimension and overall, then each department
    (of either wave) per dimension and overall."""
    scores_p, dept_p = _wave_scores(previous, settings)
    scores_l, dept_l = _wave_scores(latest, settings)
    rows = []
    company_p, company_l = scores_p.set_index("dimension"), scores_l.set_index("dimension")
    for dimension in (*DIMENSION_KEYS, scoring.OVERALL):
        def pick(table: pd.DataFrame) -> dict | None:
            record = table.loc[dimension]
            return None if pd.isna(record["score"]) else {"score": record["score"], "level": record["level"],
                                                          "respondents": record["respondents"]}
        rows.append(_row(COMPANY, None, dimension, pick(company_p), pick(company_l),
                         float(company_l.at[dimension, "target"]), waves))
    by_p = {(r["department"], r["dimension"]): r for r in dept_p.to_dict("records")}
    by_l = {(r["department"], r["dimension"]): r for r in dept_l.to_dict("records")}
    overall_target = float(company_l.at[scoring.OVERALL, "target"])
    for department in sorted(set(dept_p["department"]) | set(dept_l["department"])):
        for dimension in (*DIMENSION_KEYS, scoring.OVERALL):
            key = (department, dimension)
            if key not in by_p and key not in by_l:
                continue
            target = settings.target(dimension) if dimension in DIMENSIONS else overall_target
            rows.append(_row(DEPARTMENT, department, dimension, by_p.get(key), by_l.get(key), target, waves))
    return pd.DataFrame(rows, columns=PROGRESS_COLUMNS)


@dataclass(frozen=True)
class Progress:
    """The waves found (earliest first) and the progress of the latest against the one before it."""

    waves: pd.DataFrame
    table: pd.DataFrame

    @property
    def compared(self) -> bool:
        """Whether there is an earlier assessment to compare with."""
        return len(self.waves) >= 2

    @property
    def company(self) -> pd.DataFrame:
        return self.table[self.table["scope"] == COMPANY]

    @property
    def departments(self) -> pd.DataFrame:
        return self.table[self.table["scope"] == DEPARTMENT]

    @property
    def overall(self) -> pd.Series | None:
        rows = self.company[self.company["dimension"] == scoring.OVERALL]
        return rows.iloc[0] if len(rows) else None


def assess(answers: pd.DataFrame, settings, dates: WaveDates | None = None) -> Progress:
    """Score every wave of the tidy ``answers`` (with a ``wave`` column, or one assessment without) and compare the
    latest with the one before it; ``dates`` are each wave's answer dates when mapped."""
    order = wave_order(answers, dates)
    rows = []
    for i, wave in enumerate(order or [None]):
        own = answers if wave is None else answers[answers[WAVE].astype(str) == wave]
        scores, _ = _wave_scores(own, settings)
        overall = scores.set_index("dimension").loc[scoring.OVERALL]
        first, last = (dates or {}).get(wave, (None, None))
        rows.append({"wave": wave, "order": i + 1, "first_answer": first, "last_answer": last,
                     "respondents": int(own["respondent_id"].nunique()), "overall_score": float(overall["score"]),
                     "overall_level": float(overall["level"]), "latest": i == max(len(order), 1) - 1})
    waves = pd.DataFrame(rows, columns=WAVE_COLUMNS)
    if len(order) < 2:
        return Progress(waves=waves, table=pd.DataFrame(columns=PROGRESS_COLUMNS))
    previous, latest = order[-2], order[-1]
    table = compare_waves(answers[answers[WAVE].astype(str) == previous], answers[answers[WAVE].astype(str) == latest],
                          settings, (previous, latest))
    return Progress(waves=waves, table=table)


def latest_wave(answers: pd.DataFrame, dates: WaveDates | None = None) -> pd.DataFrame:
    """The answers of the latest wave (all of them with one assessment)."""
    order = wave_order(answers, dates)
    if not order:
        return answers
    return answers[answers[WAVE].astype(str) == order[-1]].reset_index(drop=True)
