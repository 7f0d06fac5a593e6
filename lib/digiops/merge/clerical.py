"""Clerical review: the borderline pairs a consultant decides, and honouring those decisions on the next run.

``review_pairs.xlsx`` lists pairs whose match probability lies in the review band (``review_lower`` up to the
match threshold), closest to the threshold first. Personal values are masked; beside them, per feature, whether
the two records agree (``same`` / ``differs`` / ``missing``), computed on the unmasked values. The consultant fills
``decision`` with ``match`` or ``not-match`` and names the file in ``merge.review_file``; the next run adds every
reviewed match as a link and removes every reviewed non-match.

Example:
    >>> normalize_decision("是"), normalize_decision("Not match"), normalize_decision("")
    ('match', 'not-match', None)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from digiops import io
from digiops.errors import SourceError
from digiops.masking import mask_birth_date, mask_email, mask_id, mask_name, mask_phone

DECISIONS = {"match": "match", "matched": "match", "yes": "match", "y": "match", "same": "match", "是": "match",
             "同一人": "match", "匹配": "match", "1": "match", "true": "match",
             "not-match": "not-match", "not match": "not-match", "nomatch": "not-match", "no": "not-match",
             "n": "not-match", "different": "not-match", "否": "not-match", "不同人": "not-match",
             "不匹配": "not-match", "0": "not-match", "false": "not-match", "not_match": "not-match"}
AGREEMENT = ("name_py", "phone", "email", "birth_date", "national_id", "district", "street_key", "postcode")
SHOWN = {"name_zh": mask_name, "name_py": mask_name, "phone": mask_phone, "email": mask_email,
         "birth_date": mask_birth_date, "national_id": mask_id}


def normalize_decision(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return DECISIONS.get(str(value).strip().lower())


def review_pairs(pairs: pd.DataFrame, profiles: pd.DataFrame, *, lower: float, threshold: float,
                 max_pairs: int) -> pd.DataFrame:
    """The borderline pairs, masked, with per-feature agreement and an empty ``decision`` column."""
    band = pairs[(pairs["match_probability"] >= lower) & (pairs["match_probability"] < threshold)]
    band = band.assign(_gap=(threshold - band["match_probability"]).abs()).sort_values("_gap").head(max_pairs)
    left = profiles.set_index("unique_id").reindex(band["unique_id_l"])
    right = profiles.set_index("unique_id").reindex(band["unique_id_r"])
    out = pd.DataFrame({"unique_id_l": band["unique_id_l"].to_numpy(), "unique_id_r": band["unique_id_r"].to_numpy(),
                        "match_probability": band["match_probability"].round(4).to_numpy(),
                        "match_weight": band["match_weight"].round(2).to_numpy()})
    for field, masker in SHOWN.items():
        if field in profiles:
            out[f"{field}_l"] = left[field].map(masker).to_numpy()
            out[f"{field}_r"] = right[field].map(masker).to_numpy()
    for feature in AGREEMENT:
        if feature in profiles:
            a, b = left[feature].to_numpy(), right[feature].to_numpy()
            missing = pd.isna(a) | pd.isna(b)
            out[f"{feature}_agrees"] = np.where(missing, "missing", np.where(a == b, "same", "differs"))
    out["decision"] = ""
    return out


def read_decisions(path: Path, label: str) -> pd.DataFrame:
    """Reviewed decisions from a review file (``unique_id_l``, ``unique_id_r``, ``decision``)."""
    fmt = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    table = io.read_table(path, fmt=fmt, label=label)
    frame = table.frame
    for column in ("unique_id_l", "unique_id_r", "decision"):
        if column not in frame:
            raise SourceError(label, f"has no column '{column}'", field="merge.review_file",
                              fix="give the review_pairs.xlsx a previous run wrote, with its decision column filled")
    decisions = frame["decision"].map(normalize_decision)
    unknown = frame["decision"].astype(str).str.strip().ne("") & decisions.isna()
    if unknown.any():
        first = frame[unknown].iloc[0]
        raise SourceError(label, f"decision '{first['decision']}' is neither match nor not-match",
                          field="decision", row=int(first["_row"]), fix="write match or not-match (or leave empty)")
    out = frame.assign(decision=decisions)[["unique_id_l", "unique_id_r", "decision"]]
    return out[out["decision"].notna()].reset_index(drop=True)
