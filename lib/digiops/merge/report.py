"""Tables and charts of the merge report, computed from a :class:`~digiops.merge.pipeline.MergeResult`.

Every function returns a DataFrame (or draws one chart); anything personal is masked through ``digiops.masking``.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from digiops.masking import mask_frame, mask_name, mask_phone
from digiops.merge.clerical import applied_summary, decided_table, review_table  # noqa: F401 - shown by the notebook
from digiops.merge.quality import (DIRT, DIRT_COLUMNS, DIRT_NAMES, KIND_COLUMNS, KIND_COUNT_COLUMNS,
                                   MEASURE_DEFINITIONS, QUALITY_MEASURES, dirt_rows, kind_counts)

# DIRT_NAMES and MEASURE_DEFINITIONS are imported for the notebook too: the words for the codes it shows; and the
# clerical review's tables, which the report shows beside the workbook.


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


def dirt_met(prepared: dict) -> pd.DataFrame:
    """The dirt cleaning met in each source, one row per source and kind of dirt (:data:`DIRT_COLUMNS`:
    :func:`digiops.merge.quality.dirt_rows`; codes, named by :data:`digiops.merge.quality.DIRT_NAMES`).

    ``prepared``: :attr:`MergeResult.prepared <digiops.merge.pipeline.MergeResult.prepared>`. Counted over every
    row read where preparation kept the counts (a ``dirt`` attribute: the summed
    :attr:`~digiops.merge.quality.Measured.dirt` of its slices), else over the rows kept, from the cleaned file
    (the ``phone_kind``, ``name_kind`` and ``address_kind`` columns).
    """
    import pyarrow.parquet as pq

    parts = []
    for name, source in prepared.items():
        counts = getattr(source, "dirt", None)
        if counts is None:
            kinds = [c for c in KIND_COLUMNS if c in source.columns]
            counts = pd.DataFrame(columns=KIND_COUNT_COLUMNS)
            if kinds:
                table = pq.read_table(source.clean_file, columns=kinds, read_dictionary=kinds)
                counts = kind_counts({c: table.column(c).combine_chunks() for c in kinds})
        parts.append(dirt_rows(name, counts))
    found = [p for p in parts if len(p)]
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=DIRT_COLUMNS)


def dirt_table(prepared: dict) -> pd.DataFrame:
    """The dirt met per source (:func:`dirt_met`) as a table: one row per source that has a phone, name or address,
    one column per kind of dirt (:data:`digiops.merge.quality.DIRT` order), the share of the values given as a
    percentage; NaN where the source has no such field."""
    found = dirt_met(prepared)
    if found.empty:
        return pd.DataFrame(columns=["source"])
    wide = found.pivot(index="source", columns="dirt", values="share")
    order = [c for c in DIRT if c in wide.columns]
    sources = [n for n in prepared if n in wide.index]
    return (wide.loc[sources, order].astype(float) * 100).round(1).rename_axis(columns=None).reset_index()


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
            SELECT source, state, bool_or(in_gmv) AS in_gmv, count(DISTINCT order_id) AS orders,
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


ORDER_GRAIN_COLUMNS = ["source", "grain", "decided", "orders", "lines", "repeated_orders", "exact_duplicates",
                       "zero_amounts"]


def order_grain(prepared: dict) -> pd.DataFrame:
    """Per orders source: its grain (``order``: a row is an order; ``line``: a row is an order line, the lines of one
    order all kept), whether it was ``detected`` (``grain: auto``) or ``set``, the orders and lines kept, the order
    numbers on several rows, the exact duplicate rows quarantined and the rows kept with a zero amount (sources
    without an id column). ``prepared``: :attr:`MergeResult.prepared <digiops.merge.pipeline.MergeResult.prepared>`.
    """
    rows = [{"source": name, "grain": source.grain or "order",
             "decided": "detected" if source.grain_setting == "auto" and source.grain else
                        "set" if source.grain else "no id column",
             "orders": source.orders if source.orders is not None else source.rows_clean,
             "lines": source.rows_clean, "repeated_orders": source.repeated_orders,
             "exact_duplicates": source.exact_duplicates, "zero_amounts": source.zero_amounts}
            for name, source in prepared.items() if source.kind == "orders"]
    return pd.DataFrame(rows, columns=ORDER_GRAIN_COLUMNS)


def order_grain_note(grains: pd.DataFrame) -> tuple[str, str]:
    """The sentences under the order-grain table (zh, en), one per orders source.

    >>> table = pd.DataFrame([{"source": "online_orders", "grain": "line", "decided": "detected", "orders": 1234,
    ...                        "lines": 2871, "repeated_orders": 900, "exact_duplicates": 0, "zero_amounts": 0}])
    >>> order_grain_note(table)[1]
    'online_orders: 1,234 orders in 2,871 lines, grain detected: line.'
    """
    zh, en = [], []
    for row in grains.itertuples():
        said = {"detected": ("自动识别", "detected"), "set": ("按配置", "set")}.get(row.decided)
        grain_zh = {"line": "订单行", "order": "订单"}.get(row.grain, row.grain)
        zh.append(f"{row.source}：{row.lines:,} 行为 {row.orders:,} 笔订单"
                  + (f"，粒度（{said[0]}）：{grain_zh}" if said else "，无订单号列：每行一笔订单")
                  + (f"；{row.exact_duplicates:,} 行与前面某行完全相同，已隔离" if row.exact_duplicates else "")
                  + (f"；{row.zero_amounts:,} 行金额为 0（保留，计入 GMV 为 0）" if row.zero_amounts else "") + "。")
        en.append(f"{row.source}: {row.orders:,} orders in {row.lines:,} lines"
                  + (f", grain {said[1]}: {row.grain}" if said else ", no id column: one order a row")
                  + (f"; {row.exact_duplicates:,} exact duplicate rows quarantined" if row.exact_duplicates else "")
                  + (f"; {row.zero_amounts:,} rows with a zero amount kept (they add 0 to GMV)"
                     if row.zero_amounts else "") + ".")
    return " ".join(zh), " ".join(en)
