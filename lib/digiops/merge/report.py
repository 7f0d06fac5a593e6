"""Tables and charts of the merge report, computed from a :class:`~digiops.merge.pipeline.MergeResult`.

Every function returns a DataFrame (or draws one chart); anything personal is masked through ``digiops.masking``.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from digiops.masking import mask_frame, mask_name, mask_phone
from digiops.merge.quality import QUALITY_MEASURES


def quality_summary(quality: pd.DataFrame) -> pd.DataFrame:
    """Before/after side by side per source and field (shares as percentages)."""
    measures = [m for m in QUALITY_MEASURES if m in quality.columns]
    wide = quality.pivot_table(index=["source", "field"], columns="phase", values=measures, aggfunc="first",
                               dropna=False)
    wide.columns = [f"{measure}_{phase}" for measure, phase in wide.columns]
    order = [c for m in measures for c in (f"{m}_before", f"{m}_after")
             if c in wide.columns and wide[c].notna().any()]
    return (wide[order] * 100).round(1).reset_index()


def quality_chart(quality: pd.DataFrame, measure: str = "validity", title: str = ""):
    """Bars of one measure per source · field, before and after cleaning."""
    import seaborn as sns

    data = quality.dropna(subset=[measure]).assign(label=lambda f: f["source"] + " · " + f["field"])
    fig, ax = plt.subplots(figsize=(9, max(3, 0.18 * len(data))))
    sns.barplot(data=data, y="label", x=measure, hue="phase", ax=ax, palette=["#c62828", "#2e7d32"])
    ax.set_xlim(0, 1)
    ax.set_xlabel(measure)
    ax.set_ylabel("")
    ax.set_title(title)
    return fig


def source_overlap(customers: pd.DataFrame) -> pd.DataFrame:
    """How many customers sit behind each combination of sources, and how many records they have."""
    table = customers.groupby("sources").agg(customers=("customer_id", "size"), records=("n_records", "sum"))
    table["systems"] = table.index.str.count(",") + 1
    return table.sort_values("customers", ascending=False).reset_index()


def source_pairs(customers: pd.DataFrame) -> pd.DataFrame:
    """Source × source: customers present in both (the diagonal: customers present in the source)."""
    lists = customers["sources"].str.split(",")
    names = sorted({n for items in lists for n in items})
    matrix = pd.DataFrame(0, index=names, columns=names)
    exploded = lists.explode()
    flags = pd.crosstab(exploded.index, exploded).astype(bool).astype(int)
    product = flags.T @ flags
    matrix.loc[product.index, product.columns] = product.to_numpy()
    return matrix


def cluster_sizes(crosswalk: Path) -> pd.DataFrame:
    """Number of customers by how many source records they have, counted by DuckDB over ``crosswalk.parquet``
    (a million people have twelve million records: they need not come into memory for this)."""
    import duckdb

    with duckdb.connect() as con:
        table = con.execute("""
            SELECT least(n, 20) AS records, count(*) AS customers
            FROM (SELECT customer_id, count(*) AS n FROM read_parquet(?) GROUP BY customer_id)
            GROUP BY 1 ORDER BY 1""", [str(crosswalk)]).df()
    table["records"] = table["records"].map(lambda n: "20+" if n == 20 else str(n))
    return table


#: the order in which the order-state table lists the states: what counts toward GMV first
STATE_ORDER = ("paid", "refund", "refunded", "cancelled", "test")


def order_states(orders: Path) -> pd.DataFrame:
    """Orders and their amount per source and state, and whether the state counts toward GMV (``in_gmv``), counted
    by DuckDB over ``orders.parquet`` (states: :mod:`digiops.merge.wholelink`)."""
    import duckdb

    rank = "CASE state " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATE_ORDER)) + " END"
    with duckdb.connect() as con:
        return con.execute(f"""
            SELECT source, state, bool_or(in_gmv) AS in_gmv, count(*) AS orders,
                   CAST(sum(amount) AS DOUBLE) AS amount
            FROM read_parquet(?) GROUP BY source, state ORDER BY source, {rank}, state""", [str(orders)]).df()


def unknown_status_note(unknown: pd.DataFrame) -> tuple[str, str]:
    """The sentence under the unknown-status table (zh, en): how many values and orders, counted as paid.

    >>> zh, en = unknown_status_note(pd.DataFrame({"orders": [3, 1]}))
    >>> en.split(":")[0]
    '2 status values (4 orders) match no state of merge.order_states'
    """
    values, orders = len(unknown), int(unknown["orders"].sum()) if len(unknown) else 0
    if not values:
        return ("每个订单状态都能在 merge.order_states 中找到对应的状态。",
                "Every order status matches a state of merge.order_states.")
    return (f"{values:,} 个状态值（{orders:,} 笔订单）在 merge.order_states 中找不到对应状态：按已付款计入 GMV。"
            f"如不应计入，请在 merge.order_states 中为其指定状态。",
            f"{values:,} status values ({orders:,} orders) match no state of merge.order_states: they count as "
            f"paid, in GMV. Give each the state it means in merge.order_states if it should not.")


def level_weights(linker) -> pd.DataFrame:
    """Match weight (log2 m/u) of every comparison level of the trained model."""
    model = linker.misc.save_model_to_json()
    rows = []
    for comparison in model["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for i, level in enumerate(levels):
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else float("nan")
            rows.append({"comparison": comparison["output_column_name"], "gamma": len(levels) - 1 - i,
                         "level": level.get("label_for_charts"), "m": m, "u": u, "match_weight": weight})
    return pd.DataFrame(rows)


def example_pairs(pairs: pd.DataFrame, profiles: pd.DataFrame, weights: pd.DataFrame, threshold: float,
                  n: int = 3) -> pd.DataFrame:
    """A few scored pairs (a sure match, a borderline one, a non-match), masked, with each comparison's weight."""
    if pairs.empty:
        return pd.DataFrame()
    shown = profiles.set_index("unique_id")[["name_zh", "name_py", "phone"]]
    ordered = pairs.sort_values("match_probability")
    picks = [ordered.iloc[-1]]
    border = pairs.iloc[(pairs["match_probability"] - threshold).abs().argsort()[:1]]
    picks.append(border.iloc[0])
    picks.append(ordered.iloc[0])
    rows = []
    for pair in picks[:n]:
        row = {"pair": f"{pair['unique_id_l']} ↔ {pair['unique_id_r']}",
               "match_probability": round(float(pair["match_probability"]), 4),
               "match_weight": round(float(pair["match_weight"]), 2)}
        for side in ("l", "r"):
            person = shown.loc[pair[f"unique_id_{side}"]]
            name = person["name_zh"] if isinstance(person["name_zh"], str) else person["name_py"]
            row[f"name_{side}"] = mask_name(name)
            row[f"phone_{side}"] = mask_phone(person["phone"])
        for comparison in weights["comparison"].unique():
            gamma = pair.get(f"gamma_{comparison}")
            if gamma is None or gamma == -1:
                row[f"w_{comparison}"] = 0.0
                continue
            hit = weights[(weights["comparison"] == comparison) & (weights["gamma"] == gamma)]
            row[f"w_{comparison}"] = round(float(hit["match_weight"].iloc[0]), 2) if len(hit) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def masked_journey(journey: pd.DataFrame) -> pd.DataFrame:
    """The whole-link view of one order with personal values masked."""
    kinds = {"full_name": mask_name, "phone": mask_phone}
    out = journey.copy()
    out["value"] = [kinds[s](v) if s in kinds else v for s, v in zip(out["step"], out["value"])]
    return out


def quarantine_reasons(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows by source, field and kind of reason (the reason's text before any value)."""
    if quarantine.empty:
        return pd.DataFrame(columns=["source", "field", "reason", "rows"])
    kind = quarantine["reason"].str.replace(r"[:(].*$", "", regex=True).str.strip()
    return (quarantine.assign(reason=kind).groupby(["source", "field", "reason"]).size()
            .rename("rows").reset_index().sort_values("rows", ascending=False))


def masked(frame: pd.DataFrame) -> pd.DataFrame:
    return mask_frame(frame)
