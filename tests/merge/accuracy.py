"""Accuracy of a crosswalk against a truth table: pairwise precision / recall / F1 and cluster-level B³.

Pairwise figures count record pairs put in the same customer; B³ (Bagga & Baldwin 1998) averages, over records,
the overlap between a record's predicted cluster and its true cluster — one false link between two large
clusters costs little pairwise precision but much B³ precision, which is why both are reported (DOMAIN §1).
Only records present in both tables are scored. The stage never reads truth; tests and benchmarks call this.

Example:
    >>> import pandas as pd
    >>> crosswalk = pd.DataFrame({"source": ["a"] * 4, "record_id": list("1234"), "customer_id": list("XXXY")})
    >>> truth = pd.DataFrame({"source": ["a"] * 4, "record_id": list("1234"), "person_id": list("PPQQ")})
    >>> scores = accuracy(crosswalk, truth)
    >>> scores["pairwise_precision"], scores["pairwise_recall"], round(scores["b3_precision"], 4)
    (0.3333333333333333, 0.5, 0.6667)
"""

from __future__ import annotations

import pandas as pd


def _pairs(sizes: pd.Series) -> int:
    return int((sizes * (sizes - 1) // 2).sum())


def accuracy(crosswalk: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise and B³ precision, recall and F1 of ``crosswalk`` (``source, record_id, customer_id``) against
    ``truth`` (``source, record_id, person_id``)."""
    joined = crosswalk[["source", "record_id", "customer_id"]].astype({"record_id": str}).merge(
        truth[["source", "record_id", "person_id"]].astype({"record_id": str}), on=["source", "record_id"])
    joined = joined.dropna(subset=["customer_id", "person_id"])
    n = len(joined)
    if n == 0:
        return {"records": 0, "pairwise_precision": float("nan"), "pairwise_recall": float("nan"),
                "pairwise_f1": float("nan"), "b3_precision": float("nan"), "b3_recall": float("nan"),
                "b3_f1": float("nan")}
    cell = joined.groupby(["customer_id", "person_id"]).size()
    predicted = joined.groupby("customer_id").size()
    true = joined.groupby("person_id").size()
    both, pred_pairs, true_pairs = _pairs(cell), _pairs(predicted), _pairs(true)
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    squares = cell.astype("float64") ** 2
    b3_p = float((squares / predicted.reindex(cell.index.get_level_values(0)).to_numpy()).sum() / n)
    b3_r = float((squares / true.reindex(cell.index.get_level_values(1)).to_numpy()).sum() / n)
    b3_f1 = 2 * b3_p * b3_r / (b3_p + b3_r) if b3_p + b3_r else 0.0
    return {"records": n, "pairwise_precision": precision, "pairwise_recall": recall, "pairwise_f1": f1,
            "b3_precision": b3_p, "b3_recall": b3_r, "b3_f1": b3_f1}
