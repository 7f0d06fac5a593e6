"""Survivorship: one golden record per customer, field by field (Splink has none; DOMAIN §1).

Rules, configurable per field in ``merge.survivorship``:

- ``source_priority``: the value from the most trusted source (``merge.source_priority``), newest first within it;
- ``most_recent``: the value of the newest record (registration, order, capture or shipping time);
- ``most_complete``: the value of the record that fills most golden-record fields;
- ``most_frequent``: the value most records agree on.

Ties fall back to source priority, then recency, then record id, so the result is deterministic. Address parts
(province, city, district, adcode, address) always come from one record, chosen by the ``address`` rule; a Hanzi
name wins over a pinyin spelling of the same person.

Example:
    >>> import pandas as pd
    >>> records = pd.DataFrame({"customer_id": ["C1", "C1"], "source": ["pos", "crm"], "record_id": ["1", "2"],
    ...     "phone": ["+8613800138000", "+8613900139000"], "_when": pd.to_datetime(["2026-01-01", "2025-01-01"])})
    >>> golden_records(records, ["crm", "pos"], {"phone": "source_priority"})["phone"].tolist()
    ['+8613900139000']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.merge import normalize as nz

GOLDEN_FIELDS = ("full_name", "gender", "birth_date", "phone", "email", "national_id", "address", "member_level")
ADDRESS_PARTS = ("province", "city", "district", "adcode", "address")


def _pick(records: pd.DataFrame, columns: list[str], rule: str, key_column: str) -> pd.DataFrame:
    """Per customer, the row chosen by ``rule`` among rows where ``key_column`` is filled."""
    needed = ["customer_id", "record_id", "_rank", "_when", "_missing", key_column, *columns]
    rows = records.loc[records[key_column].notna(), list(dict.fromkeys(c for c in needed if c in records))]
    if rows.empty:
        return pd.DataFrame(columns=["customer_id", *columns])
    order = rows.assign(_recency=-rows["_when"].astype("int64").where(rows["_when"].notna(), np.iinfo("int64").min
                                                                      + 1).astype("float64"))
    sort_by = {"source_priority": ["_rank", "_recency"], "most_recent": ["_recency", "_rank"],
               "most_complete": ["_missing", "_rank", "_recency"],
               "most_frequent": ["_votes", "_rank", "_recency"]}[rule]
    if rule == "most_frequent":
        order["_votes"] = -order.groupby(["customer_id", key_column])[key_column].transform("size")
    if key_column == "full_name":
        order["_latin"] = ~order["full_name"].map(nz.has_cjk).astype(bool)
        sort_by = ["_latin", *sort_by]
    order = order.sort_values(["customer_id", *sort_by, "record_id"], kind="stable")
    return order.drop_duplicates("customer_id")[["customer_id", *columns]]


def golden_records(records: pd.DataFrame, source_order: list[str], rules: dict[str, str],
                   default_rule: str = "source_priority") -> pd.DataFrame:
    """One row per ``customer_id`` from its cleaned source records.

    Args:
        records: cleaned person records with ``customer_id``, ``source``, ``record_id``, ``_when`` (a timestamp
            or NaT) and any of the golden fields.
        source_order: sources from most to least trusted.
        rules: golden field → rule; ``address`` governs all address parts.
    """
    records = records.copy()
    rank = {name: i for i, name in enumerate(source_order)}
    records["_rank"] = records["source"].map(rank).fillna(len(rank)).astype(int)
    present = [f for f in GOLDEN_FIELDS + ADDRESS_PARTS if f in records]
    records["_missing"] = records[present].isna().sum(axis=1) if present else 0
    if "_when" not in records:
        records["_when"] = pd.NaT
    records["_when"] = pd.to_datetime(records["_when"])
    golden = pd.DataFrame({"customer_id": pd.unique(records["customer_id"])})
    for field in GOLDEN_FIELDS:
        if field == "address":
            parts = [p for p in ADDRESS_PARTS if p in records]
            if not parts:
                continue
            records["_addr_key"] = records[parts].notna().any(axis=1).where(lambda s: s, None)
            chosen = _pick(records, parts, rules.get("address", default_rule), "_addr_key")
        elif field in records:
            chosen = _pick(records, [field], rules.get(field, default_rule), field)
        else:
            continue
        golden = golden.merge(chosen, on="customer_id", how="left")
    listed = records[["customer_id", "source", "_rank"]].drop_duplicates(["customer_id", "source"])
    listed = listed.sort_values(["customer_id", "_rank", "source"], kind="stable")
    summary = pd.DataFrame({"sources": listed.groupby("customer_id")["source"].agg(",".join),
                            "n_records": records.groupby("customer_id")["record_id"].size()})
    summary.index.name = "customer_id"
    if "registered_at" in records:
        summary["registered_at"] = records.groupby("customer_id")["registered_at"].min()
    golden = golden.merge(summary.reset_index(), on="customer_id", how="left")
    return golden
