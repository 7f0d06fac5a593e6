"""Maturity stage speed: 10 000 respondents × 24 questions (240 000 answers), validated and scored.

Run: `python bench/bench_maturity.py [respondents]`. Prints the median of 5 runs of each step.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import pandas as pd

from digiops.maturity import scoring
from digiops.maturity.answers import answers_from_frame
from digiops.maturity.bank import default_bank
from digiops.settings.maturity import DIMENSION_KEYS


def synthetic_answers(respondents: int, seed: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    bank = default_bank()
    ids = [q.id for q in bank.questions]
    values = rng.integers(1, 6, size=(respondents, len(ids))).astype(str).astype(object)
    values[rng.random(values.shape) < 0.05] = "N/A"
    values[rng.random(values.shape) < 0.02] = "不适用"
    departments = rng.choice(["门店运营", "电商部", "信息技术部", "财务部", "市场部"], size=respondents)
    frame = pd.DataFrame({
        "respondent_id": np.repeat([f"R{i:06d}" for i in range(respondents)], len(ids)),
        "department": np.repeat(departments, len(ids)),
        "question_id": np.tile(ids, respondents),
        "answer": values.reshape(-1),
    })
    frame["_row"] = np.arange(2, len(frame) + 2)
    return frame.astype({c: "str" for c in ("respondent_id", "department", "question_id", "answer")})


def timed(function, repeat: int = 5) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(respondents: int = 10_000) -> None:
    raw = synthetic_answers(respondents)
    bank = default_bank()
    t_read, tidy = timed(lambda: answers_from_frame(raw, bank))
    weights = {d: 0.25 for d in DIMENSION_KEYS}
    targets = {d: 4.0 for d in DIMENSION_KEYS}
    t_score, _ = timed(lambda: scoring.score_dimensions(tidy, None, indicator_weight=0.3,
                                                        dimension_weights=weights, targets=targets))
    t_dept, _ = timed(lambda: scoring.department_scores(tidy))
    t_questions, _ = timed(lambda: scoring.question_statistics(tidy, bank))
    print(f"maturity bench: {respondents:,} respondents × {len(bank)} questions = {len(raw):,} answers")
    print(f"  validate answers     {t_read:7.3f} s")
    print(f"  score dimensions     {t_score:7.3f} s")
    print(f"  department scores    {t_dept:7.3f} s")
    print(f"  question statistics  {t_questions:7.3f} s")
    print(f"  total                {t_read + t_score + t_dept + t_questions:7.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
