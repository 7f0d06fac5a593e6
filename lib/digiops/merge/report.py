"""Tables and charts of the merge report, computed from a :class:`~digiops.merge.pipeline.MergeResult`.

Every function returns a DataFrame (or draws one chart); anything personal is masked through ``digiops.masking``.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from digiops.masking import mask_frame, mask_name, mask_phone
from digiops.merge.clean import REASON_DETAIL
from digiops.sql import literal, scan
from digiops.text import FIELD_NAMES, MISSING, QUARANTINE_REASONS, SOURCE_KINDS, YES_NO, in_language, term
from digiops.merge.clerical import applied_summary, decided_table, review_table  # noqa: F401 - shown by the notebook
from digiops.merge.quality import (DIRT, DIRT_COLUMNS, DIRT_NAMES, KIND_COLUMNS, KIND_COUNT_COLUMNS,
                                   MEASURE_DEFINITIONS, MEASURE_NAMES, QUALITY_MEASURES, dirt_rows, kind_counts)

# DIRT_NAMES and MEASURE_DEFINITIONS are imported for the notebook too: the words for the codes it shows; and the
# clerical review's tables, which the report shows beside the workbook.

PHASES = {"before": ("清洗前", "before"), "after": ("清洗后", "after")}
ORDER_STATES = {"paid": ("已付款", "paid"), "refund": ("退款单", "refund"), "refunded": ("已退款（仅状态）", "refunded"),
                "cancelled": ("已取消 / 交易关闭", "cancelled"), "test": ("测试单", "test")}
GRAINS = {"order": ("订单", "order"), "line": ("订单行", "order line")}
GRAIN_DECIDED = {"detected": ("自动识别", "detected"), "set": ("按配置", "set"),
                 "no id column": ("无订单号列", "no id column")}
ID_CHANGES = {"merged": ("合并", "merged"), "split": ("拆分", "split")}
#: The steps of :meth:`MergeResult.journey` that are not a canonical field.
JOURNEY_STEPS = {"source": ("来源", "source"), "sources": ("出现在的系统", "found in systems"),
                 "first_touch_channel": ("首次触达渠道", "first-touch channel"),
                 "delivery_status": ("物流状态", "delivery status"), "is_late": ("是否延迟", "late")}
#: A comparison of the match model (``comparison``) that is not a canonical field.
COMPARISONS = {"name": ("姓名", "name")}
#: A comparison level's label (``identity._level``) → words.
MATCH_LEVELS = {
    "Hanzi name exact": ("汉字姓名完全相同", "Hanzi name exact"),
    "one side gives only the surname (a title such as 先生 or 女士), and it agrees":
        ("一方只有姓氏（如“先生”“女士”），且姓氏一致", "one side gives only the surname (a title such as 先生 or 女士), "
                                              "and it agrees"),
    "same pinyin (any surname reading)": ("拼音相同（姓氏任一读音）", "same pinyin (any surname reading)"),
    "given and family name swapped (Jaro-Winkler >= 0.9 each)":
        ("姓与名颠倒（各自 Jaro-Winkler ≥ 0.9）", "given and family name swapped (Jaro-Winkler ≥ 0.9 each)"),
    "one letter off": ("相差一个字母", "one letter off"),
    "same surname, one given name is the other's initial": ("同姓，一方的名是另一方的首字母",
                                                            "same surname, one given name is the other's initial"),
    "same surname, given name Jaro-Winkler >= 0.88": ("同姓，名 Jaro-Winkler ≥ 0.88",
                                                      "same surname, given name Jaro-Winkler ≥ 0.88"),
    "same given name, surname Jaro-Winkler >= 0.88": ("同名，姓 Jaro-Winkler ≥ 0.88",
                                                      "same given name, surname Jaro-Winkler ≥ 0.88"),
    "pinyin Jaro-Winkler >= 0.92": ("拼音 Jaro-Winkler ≥ 0.92", "pinyin Jaro-Winkler ≥ 0.92"),
    "surname and given name each Jaro-Winkler >= 0.88": ("姓与名各自 Jaro-Winkler ≥ 0.88",
                                                         "surname and given name each Jaro-Winkler ≥ 0.88"),
    "exact": ("完全相同", "exact"), "else": ("其他（不一致）", "else (disagrees)"),
    "one digit off": ("相差一位数字", "one digit off"),
    "the digits a masked number shows agree": ("脱敏号码露出的数字一致", "the digits a masked number shows agree"),
    "same privacy number": ("同一隐私号", "same privacy number"), "same user name": ("邮箱用户名相同", "same user name"),
    "Jaro-Winkler >= 0.88": ("Jaro-Winkler ≥ 0.88", "Jaro-Winkler ≥ 0.88"),
    "one digit off or day/month swapped": ("相差一位或日月颠倒", "one digit off or day/month swapped"),
    "same year": ("同年", "same year"), "one character off": ("相差一个字符", "one character off"),
    "same street address": ("街道地址相同", "same street address"),
    "similar street address (Jaro-Winkler >= 0.9) in the same district":
        ("同一区县内街道地址相近（Jaro-Winkler ≥ 0.9）", "similar street address (Jaro-Winkler ≥ 0.9) in the same district"),
    "similar street address (Jaro-Winkler >= 0.9), district differs or missing":
        ("街道地址相近（Jaro-Winkler ≥ 0.9），区县不同或缺失",
         "similar street address (Jaro-Winkler ≥ 0.9), district differs or missing"),
    "same district": ("区县相同", "same district"), "same city": ("城市相同", "same city"),
}

#: Column → header (zh, en) of every table the merge report shows; ``w_<comparison>`` and ``<measure>_<phase>``
#: headers are built by :func:`header`.
HEADERS = {
    "source": ("来源", "source"), "sources": ("来源组合", "sources"), "kind": ("类型", "kind"),
    "rows_in": ("读入行数", "rows read"), "rows_used": ("使用行数", "rows used"),
    "rows_quarantined": ("隔离行数", "rows quarantined"), "balanced": ("行数平衡", "balanced"),
    "field": ("字段", "field"), "customers": ("客户数", "customers"), "records": ("记录数", "records"),
    "systems": ("系统数", "systems"), "reason": ("原因", "reason"), "count": ("记录数", "records"),
    "comparison": ("比较项", "comparison"), "gamma": ("层级", "level no."), "level": ("比较层级", "level"),
    "m": ("m 概率", "m probability"), "u": ("u 概率", "u probability"), "match_weight": ("匹配权重", "match weight"),
    "pair": ("记录对", "pair"), "match_probability": ("匹配概率", "match probability"),
    "name_l": ("姓名 A", "name A"), "name_r": ("姓名 B", "name B"), "phone_l": ("手机 A", "phone A"),
    "phone_r": ("手机 B", "phone B"), "grain": ("粒度", "grain"), "decided": ("粒度来源", "grain decided"),
    "orders": ("订单数", "orders"), "lines": ("行数", "lines"), "repeated_orders": ("多行订单数", "orders on several rows"),
    "exact_duplicates": ("完全重复行", "exact duplicates"), "zero_amounts": ("金额为 0 的行", "zero amounts"),
    "link": ("关联", "link"), "rows_with_key": ("带编号的行", "rows with key"), "linked": ("已关联", "linked"),
    "no_partner": ("找不到对应记录", "no partner"), "state": ("订单状态", "state"), "in_gmv": ("计入 GMV", "in GMV"),
    "amount": ("金额", "amount"), "status": ("原始状态", "status"), "step": ("环节", "step"), "value": ("值", "value"),
    "row": ("原始行号", "row"), "rows": ("行数", "rows"), "record_id": ("记录编号", "record id"), "detail": ("说明", "detail"),
}

#: Column → the code → words table its values are shown with.
VALUE_WORDS = {"kind": SOURCE_KINDS, "field": FIELD_NAMES, "state": ORDER_STATES, "grain": GRAINS,
               "decided": GRAIN_DECIDED, "level": MATCH_LEVELS, "comparison": {**FIELD_NAMES, **COMPARISONS},
               "phase": PHASES}


def header(column: str, language: str) -> str:
    """A column's header in the report language: the words of :data:`HEADERS`, a measure and phase
    (``completeness_before``), a comparison's weight (``w_phone``); any other column as it is.

    >>> header("rows_in", "zh"), header("completeness_before", "zh"), header("w_phone", "en")
    ('读入行数', '完整性（清洗前）', 'weight: phone')
    """
    if column in HEADERS:
        return term(language, HEADERS, column)
    measure, _, phase = column.rpartition("_")
    if measure in MEASURE_NAMES and phase in PHASES:
        return in_language(language, f"{MEASURE_NAMES[measure][0]}（{PHASES[phase][0]}）",
                           f"{MEASURE_NAMES[measure][1]} ({PHASES[phase][1]})")
    if column.startswith("w_"):
        field = column[2:]
        return in_language(language, "权重：", "weight: ") + term(language, VALUE_WORDS["comparison"], field)
    return column


def _word(value: object, table: dict, language: str) -> object:
    if isinstance(value, str):
        return term(language, table, value)
    return value


def _flag(value: object, language: str) -> object:
    """A yes / no value in words; anything else as it is."""
    if isinstance(value, (bool, np.bool_)):
        return term(language, YES_NO, str(bool(value)))
    return value


def view(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """``frame`` as a reader sees it: codes in words (:data:`VALUE_WORDS`, quarantine reasons), yes / no flags in
    words, a list of sources separated readably, headers in the report language (:func:`header`).

    >>> table = pd.DataFrame({"source": ["crm"], "kind": ["customers"], "rows_in": [3], "balanced": [True]})
    >>> view(table, "zh").to_dict("records")
    [{'来源': 'crm', '类型': '客户', '读入行数': 3, '行数平衡': '是'}]
    """
    out = frame.copy()
    for column in out.columns:
        if column in VALUE_WORDS:
            out[column] = out[column].map(lambda v, t=VALUE_WORDS[column]: _word(v, t, language))
        elif column == "reason":
            out[column] = out[column].map(lambda v: _word(v, {**QUARANTINE_REASONS, **ID_CHANGES}, language))
        elif column == "sources":
            out[column] = out[column].map(lambda v: in_language(language, "、", ", ").join(v.split(","))
                                          if isinstance(v, str) else v)
        if out[column].dtype == bool or out[column].dtype == object:
            out[column] = out[column].map(lambda v: _flag(v, language)).astype(object)
    return out.rename(columns=lambda c: header(str(c), language))


def styled(frame: pd.DataFrame, language: str, precision: int = 1):
    """:func:`view` as the table on the page: no index, numbers with thousands separators, a missing value "–",
    text escaped."""
    return (view(frame, language).style.hide(axis="index")
            .format(precision=precision, thousands=",", na_rep=MISSING, escape="html"))


def shown_note(shown: int, total: int, where: str) -> tuple[str, str] | None:
    """The sentence under a table that shows only part of what exists, naming where the rest is (zh, en); None when
    the table is complete.

    >>> shown_note(10, 2986, "outputs/merge/quarantine.parquet")[1]
    'Showing 10 of 2,986 rows; the full table is in outputs/merge/quarantine.parquet.'
    >>> shown_note(5, 5, "x") is None
    True
    """
    if shown >= total:
        return None
    return (f"显示 {shown:,} 行，共 {total:,} 行；完整表格见 {where}。",
            f"Showing {shown:,} of {total:,} rows; the full table is in {where}.")


#: The run's headline counts (:meth:`MergeResult.counts`) shown at the top of the page, in this order.
HEADLINE = {"rows_in": ("读入的原始行", "raw rows read"), "records": ("客户相关记录", "customer-bearing records"),
            "customers": ("真实客户", "real customers"), "orders": ("订单", "orders"),
            "order_lines": ("订单行", "order lines"), "shipments": ("运单", "shipments"),
            "quarantined": ("隔离的行", "rows quarantined"), "review_pairs": ("待复核记录对", "pairs to review")}


def headline_view(counts: dict, language: str) -> pd.DataFrame:
    """The headline counts as a two-column table (figure, count) in the report language.

    >>> headline_view({"records": 239475, "customers": 21564, "profiles": 9}, "zh").to_dict("records")
    [{'指标': '客户相关记录', '数量': '239,475'}, {'指标': '真实客户', '数量': '21,564'}]
    """
    rows = [(term(language, HEADLINE, key), f"{int(counts[key]):,}") for key in HEADLINE if key in counts]
    return pd.DataFrame(rows, columns=[in_language(language, "指标", "figure"), in_language(language, "数量", "count")])


def quarantine_detail(quarantine: pd.DataFrame, language: str) -> pd.DataFrame:
    """The quarantined rows with the reason split into its kind (``reason``, a code of
    :data:`digiops.text.QUARANTINE_REASONS`) and what the row held or repeated (``detail``: the raw value, or
    the row a duplicate repeats, in the report language), so the kind can be shown in words.

    >>> frame = pd.DataFrame({"source": ["crm"], "row": [391], "record_id": ["K1"], "field": ["*"],
    ...                       "reason": ["exact duplicate (of row 390)"]})
    >>> quarantine_detail(frame, "zh")[["reason", "detail"]].to_dict("records")
    [{'reason': 'exact duplicate', 'detail': '第 390 行'}]
    """
    reason = quarantine["reason"].astype(str)
    kind = reason.str.replace(r"\s*[:(].*$", "", regex=True).str.strip()
    rest = reason.str.extract(r"[:(]\s*(.*?)\)?$", expand=False)
    rest = rest.str.replace(r"^(?:of|first on) row (\d+)$", in_language(language, r"第 \1 行", r"row \1"), regex=True)
    columns = [c for c in ("source", "row", "record_id", "field") if c in quarantine]
    return quarantine[columns].assign(reason=kind, detail=rest.where(rest.ne(""), None)).reset_index(drop=True)


def quality_summary(quality: pd.DataFrame) -> pd.DataFrame:
    """Before/after side by side per source and field (shares as percentages); the fields a source does not carry
    (no measure at all) are not listed."""
    measures = [m for m in QUALITY_MEASURES if m in quality.columns]
    wide = quality.pivot_table(index=["source", "field"], columns="phase", values=measures, aggfunc="first",
                               dropna=False)
    wide.columns = [f"{measure}_{phase}" for measure, phase in wide.columns]
    order = [c for m in measures for c in (f"{m}_before", f"{m}_after")
             if c in wide.columns and wide[c].notna().any()]
    measured = wide[order].notna().any(axis=1)  # a field the source does not carry has no measure at all
    return (wide.loc[measured, order] * 100).round(1).reset_index()


def quality_chart(quality: pd.DataFrame, measure: str, title: str, language: str):
    """Bars of one measure per source · field, before and after cleaning, labelled in the report language."""
    import seaborn as sns

    data = quality.dropna(subset=[measure]).assign(
        label=lambda f: f["source"] + " · " + f["field"].map(lambda v: term(language, FIELD_NAMES, v)),
        phase=lambda f: f["phase"].map(lambda v: term(language, PHASES, v)))
    fig, ax = plt.subplots(figsize=(9, max(3, 0.18 * len(data))))
    sns.barplot(data=data, y="label", x=measure, hue="phase", ax=ax, palette=["#c62828", "#2e7d32"])
    ax.set_xlim(0, 1)
    ax.set_xlabel(term(language, MEASURE_NAMES, measure))
    ax.legend(title="")
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
        kept = any(c.startswith("gamma_") for c in pairs.columns)  # without levels a weight column would be empty
        for comparison in weights["comparison"].unique() if kept else ():
            gamma = pair.get(f"gamma_{comparison}")
            if gamma is None or gamma != gamma:  # the pair's comparison level was not kept: no weight to show
                row[f"w_{comparison}"] = float("nan")
                continue
            if gamma == -1:  # a value missing on one side: the null level weighs nothing
                row[f"w_{comparison}"] = 0.0
                continue
            hit = weights[(weights["comparison"] == comparison) & (weights["gamma"] == gamma)]
            row[f"w_{comparison}"] = round(float(hit["match_weight"].iloc[0]), 2) if len(hit) else float("nan")
        rows.append(row)
    return pd.DataFrame(rows)


def masked_journey(journey: pd.DataFrame, language: str) -> pd.DataFrame:
    """The whole-link view of one order with personal values masked and each step named in the report language.

    >>> journey = pd.DataFrame({"step": ["phone", "is_late"], "value": ["13812348000", False]})
    >>> masked_journey(journey, "zh").to_dict("records")
    [{'step': '手机', 'value': '138****8000'}, {'step': '是否延迟', 'value': False}]
    """
    kinds = {"full_name": mask_name, "phone": mask_phone}
    out = journey.copy()
    out["value"] = [kinds[s](v) if s in kinds else v for s, v in zip(out["step"], out["value"])]
    out["step"] = out["step"].map(lambda s: term(language, {**FIELD_NAMES, **JOURNEY_STEPS}, s))
    return out


def quarantine_reasons(quarantine: pd.DataFrame | str | Path) -> pd.DataFrame:
    """Quarantined rows by source, field and kind of reason (the reason's text before any value), the most first;
    ``quarantine`` is the table or its Parquet file (counted by DuckDB without loading it).

    >>> quarantine_reasons(pd.DataFrame({"source": ["crm"] * 4, "field": ["phone", "phone", "*", "amount"],
    ...     "reason": ["unreadable phone: 12", "unreadable phone: 3", "exact duplicate (first on row 2)",
    ...                "金额无法识别：abc"]})).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['crm', 'phone', 'unreadable phone', 2], ['crm', '*', 'exact duplicate', 1],
     ['crm', 'amount', '金额无法识别', 1]]
    """
    import duckdb

    with duckdb.connect() as con:
        if isinstance(quarantine, (str, Path)):
            relation = scan(quarantine)
        else:
            con.register("quarantine_rows", quarantine[["source", "field", "reason"]].astype("str"))
            relation = "quarantine_rows"
        kind = f"trim(regexp_replace(reason, {literal(REASON_DETAIL)}, ''))"
        return con.execute(f"SELECT source, field, {kind} AS reason, count(*) AS rows FROM {relation} GROUP BY ALL "
                           "ORDER BY rows DESC, source, field, reason").df()


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
