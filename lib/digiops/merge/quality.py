"""Data quality per source and field, before and after cleaning (DOMAIN §1).

- **completeness**: share of rows with a value (before: non-blank raw text; after: a usable normalized value,
  over the rows kept);
- **validity**: before, share of non-blank raw values already in the standard form (what a downstream system
  accepts as is: E.164 phone, ISO date, lower-case e-mail, plain number …); after, share of non-blank raw values
  that cleaning turned into a usable value;
- **uniqueness**: distinct values / filled values;
- **consistency** (person fields only): share of a source's values that agree with the customer's golden record
  (before: raw text; after: normalized) — low before cleaning when systems write the same fact differently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.io import ROW
from digiops.merge.clean import CleanSource
from digiops.merge.normalize import map_distinct

QUALITY_COLUMNS = ["source", "field", "phase", "completeness", "validity", "uniqueness", "consistency"]
SKIP = ("source", "record_id", ROW)
CONSISTENCY_FIELDS = ("full_name", "gender", "birth_date", "phone", "email", "national_id", "province", "city",
                      "district")


def _standard_text(value: object) -> str | None:
    """How a normalized value is written in standard form, for comparison with the raw text."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S").removesuffix(" 00:00:00")
    if isinstance(value, bool):
        return None
    return str(value)


def _standard_series(values: pd.Series) -> pd.Series:
    """:func:`_standard_text` over a column: timestamps formatted in one pass, other values once per distinct
    value."""
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values.to_numpy(dtype="datetime64[s]")
        text = pd.Series(np.datetime_as_string(stamps, unit="s"), index=values.index).str.replace("T", " ")
        return text.str.removesuffix(" 00:00:00").astype(object).where(values.notna(), None)
    return map_distinct(values, _standard_text)


def _share(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _agree(values: pd.Series, golden: pd.Series) -> float:
    both = values.notna() & golden.notna()
    return _share(int((values[both].astype(str) == golden[both].astype(str)).sum()), int(both.sum()))


def data_quality(sources: dict[str, CleanSource], crosswalk: pd.DataFrame | None = None,
                 customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per source × mapped field × phase (``before`` / ``after``)."""
    rows = []
    for name, cleaned in sources.items():
        raw, clean = cleaned.raw, cleaned.clean
        golden_raw = golden_clean = None
        if crosswalk is not None and customers is not None and len(crosswalk):
            links = crosswalk[crosswalk["source"] == name][["record_id", "customer_id"]]
            if len(links):
                golden = customers[["customer_id", *[c for c in CONSISTENCY_FIELDS if c in customers]]]
                golden_raw = raw.assign(record_id=raw["record_id"].astype(str)).merge(
                    links, on="record_id", how="left").merge(golden, on="customer_id", how="left",
                                                             suffixes=("", "_golden"))
                golden_clean = clean.merge(links, on="record_id", how="left").merge(
                    golden, on="customer_id", how="left", suffixes=("", "_golden"))
        kept = raw[ROW].isin(clean[ROW])
        for field in [c for c in raw.columns if c not in SKIP]:
            text = raw[field].astype(object).where(raw[field].notna(), "").astype(str).str.strip()
            filled = text.ne("")
            n_filled = int(filled.sum())
            after = clean[field] if field in clean else pd.Series(dtype=object)
            standard = _standard_series(after) if len(after) else after
            raw_kept = text[kept].reset_index(drop=True)
            standard = standard.reset_index(drop=True)
            in_standard = int((raw_kept[raw_kept.ne("")] == standard[raw_kept.ne("")]).sum())
            usable = int((raw_kept.ne("") & standard.notna()).sum())
            consistency_before = consistency_after = float("nan")
            if field in CONSISTENCY_FIELDS and golden_raw is not None and f"{field}_golden" in golden_raw:
                golden_text = _standard_series(golden_raw[f"{field}_golden"])
                consistency_before = _agree(text.where(filled, None).reset_index(drop=True),
                                            golden_text.reset_index(drop=True))
                consistency_after = _agree(_standard_series(golden_clean[field]),
                                           _standard_series(golden_clean[f"{field}_golden"]))
            rows.append({"source": name, "field": field, "phase": "before",
                         "completeness": _share(n_filled, len(raw)),
                         "validity": _share(in_standard, int(raw_kept.ne("").sum())),
                         "uniqueness": _share(text[filled].nunique(), n_filled),
                         "consistency": consistency_before})
            n_after = int(standard.notna().sum())
            rows.append({"source": name, "field": field, "phase": "after",
                         "completeness": _share(n_after, len(clean)),
                         "validity": _share(usable, int(raw_kept.ne("").sum())),
                         "uniqueness": _share(standard.dropna().nunique(), n_after),
                         "consistency": consistency_after})
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)
