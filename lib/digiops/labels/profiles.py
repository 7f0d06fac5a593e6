"""Example customer profiles for the report: a few customers' tags in words, personal data masked."""

from __future__ import annotations

import pandas as pd

from digiops.labels.catalog import Catalog
from digiops.masking import mask_frame


def example_profiles(ctx, tags: pd.DataFrame, catalog: Catalog, count: int = 5) -> pd.DataFrame:
    """One row per example customer (one per RFM segment first): masked name and phone, then tag names."""
    if count <= 0 or tags.empty:
        return pd.DataFrame()
    zh = ctx.language == "zh"
    picks = tags.dropna(subset=["rfm_segment"]).groupby("rfm_segment", sort=True).head(1)["customer_id"].tolist()
    picks = (picks + [c for c in tags["customer_id"] if c not in picks])[:count]
    customers = ctx.read_table("merge", "customers").set_index("customer_id")
    rows = []
    for customer_id in picks:
        tag_row = tags.set_index("customer_id").loc[customer_id]
        person = customers.loc[customer_id] if customer_id in customers.index else pd.Series(dtype=object)
        held = []
        for tag in catalog.tags:
            value = tag_row.get(tag.id)
            if value is None or value is pd.NA or (isinstance(value, float) and value != value) or value is False:
                continue
            name = tag.name.zh if zh else tag.name.en
            if tag.values:
                match = next((v for v in tag.values if v.value == value), None)
                held.append(f"{name}: {(match.name.zh if zh else match.name.en) if match else value}")
            elif tag.output == "flag":
                held.append(name)
            else:
                held.append(f"{name}: {value}")
        rows.append({"customer_id": customer_id, "full_name": person.get("full_name"), "phone": person.get("phone"),
                     ("标签" if zh else "tags"): " · ".join(held)})
    return mask_frame(pd.DataFrame(rows))
