"""Data quality per source and field, before and after cleaning (DOMAIN §1).

One row per source × field × phase (:data:`QUALITY_COLUMNS`). *Before* looks at the raw text of every row read,
quarantined rows included; *after* at the cleaned values of the rows kept. Each measure is a share between 0 and 1.
It is NaN (shown "n/a") only where it does not apply or has nothing to count — a share that is really zero is 0.

- **completeness** — share of the rows the field applies to that have a value. Before: a non-blank raw text;
  after: a usable cleaned value, over the rows kept. Most fields apply to every row; the conditional ones apply
  only to the rows :data:`APPLICABILITY` names (column ``applies_to``): ``refund_of`` to refunds, ``signed_at`` to
  delivered shipments … n/a for optional fields (a note, a second address line, a test flag) and when the source
  cannot tell which rows the field applies to (``applies_to`` = ``undetermined``: a ``refund_of`` in a source with
  neither amount nor status, a ``signed_at`` in one without a status).
- **validity** — share of the values present that are valid values of the field. Before: of the non-blank raw
  values, those valid *as written*, in any common writing — the ones cleaning turns into a usable value without
  guessing: a real phone number (a Chinese mobile or landline as ``13800138000``, ``+86 138-0013-8000``,
  ``８６１３８…``, or one a spreadsheet mangled but left whole: ``13800138000.0``, ``1.3800138E+10``,
  ``'13800138000``; or a foreign one with its country code; not a placeholder such as ``13800000000``, nor a masked
  ``138****8000``, nor a virtual or privacy number shared by strangers: ``17012345678转1234``, a 170 / 171 / 162 /
  165 / 167 mobile), a gender word the cleaner knows (男 / 女 / M / F / 先生 / 女士 …), a date in a supported format
  and within range (not before ``merge.earliest_date``; an event or a birth date not in the future), a well-formed
  e-mail, an 18-digit resident id with the right check digit, a readable amount or whole quantity; a name that is a
  person's name or at least their surname (王先生, 张*), not a nickname (微信用户, 小鱼儿🐟), a placeholder (客户, 无),
  a proxy receiver (前台代收, 丰巢) or a mask without a surname (*伟) — the cleaned name's ``name_kind``; for codes
  and free text, any text left after normalization. After: of the values in the cleaned data, those that are
  valid — 100 % by construction, since cleaning drops to null what it cannot make valid (which shows as lower
  completeness after). n/a when the field has no value.
- **conformity** (standard format) — share of the values present already written in the standard form a
  downstream system takes as is: phone in E.164 (``+8613800138000``), gender ``M`` / ``F``, date ``YYYY-MM-DD``,
  time ``YYYY-MM-DD HH:MM:SS``, e-mail in lower case, amount with two decimals, text NFKC-normalized without stray
  spaces, Chinese in Simplified characters. Before: the raw text is exactly its cleaned standard form (an invalid
  value never conforms, so conformity ≤ validity); after: 100 % by construction. n/a for flags (``is_test`` has no
  standard text) and when the field has no value.
- **uniqueness** — for the fields that identify one row of their kind (:data:`UNIQUE_FIELDS`: order numbers,
  shipment and tracking numbers, member cards and national ids of customers, lead ids, skus of products, store ids
  of stores): distinct values / values present (before: raw text of every row read; after: cleaned values of the
  rows kept). n/a for every other field: a phone, a status or an amount repeats across orders by nature.
- **consistency** (person fields only) — share of a source's values that agree with the customer's golden record
  (before: raw text; after: normalized) — low before cleaning when systems write the same fact differently.

Beside the measures, the *dirt met* in each source (:data:`DIRT`, :func:`dirt_rows`): over every row read, the share
of the phones, names and addresses given that cleaning recognised as masked, virtual, recovered from a
spreadsheet, missing digits, surname-only, nicknames, placeholders or proxy receivers — the ``phone_kind``,
``name_kind`` and ``address_kind`` columns of the cleaned data.

Where a conditional field applies (completeness only: validity, conformity and uniqueness look at every value
present, wherever it is):

=========  =============  ==========  =================================================================
kind       field          applies_to  rows
=========  =============  ==========  =================================================================
orders     refund_of      refunds     a negative amount, or a status of ``merge.order_states.refunded``
orders     paid_at        paid        every order whose status is not ``cancelled`` (never paid, closed)
shipments  shipped_at     shipped     every shipment whose status does not say it awaits shipping
shipments  signed_at      delivered   a status that says signed or delivered (签收, 妥投, delivered …)
any        note           optional    none: a missing free comment is no gap
any        address_extra  optional    none
any        is_test        optional    none: a blank flag means "no"
=========  =============  ==========  =================================================================

Order statuses are read as the merge reads them (:func:`digiops.merge.wholelink.status_state` over the
engagement's ``merge.order_states``), shipment statuses by :data:`SHIPMENT_STATES` (the longest marker a status
contains names its state, so 未签收 is not 签收). Quarantined rows are cleaned again, on their own, to judge their
values: they count before cleaning like every other row read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from digiops import engines
from digiops.io import ROW
from digiops.merge.clean import EVENT_FIELDS, clean_source
from digiops.merge.wholelink import status_state
from digiops.settings.merge import DEFAULT_ORDER_STATES
from digiops.sql import literal
from digiops.text_columns import arrow_text

QUALITY_MEASURES = ("completeness", "validity", "conformity", "uniqueness", "consistency")
#: How each measure is named and defined wherever a figure is shown (report, summary, dashboard).
MEASURE_NAMES = {"completeness": ("完整性", "Completeness"), "validity": ("有效性", "Validity"),
                 "conformity": ("标准格式", "Standard format"), "uniqueness": ("唯一性", "Uniqueness"),
                 "consistency": ("一致性", "Consistency")}
MEASURE_DEFINITIONS = (
    "完整性 = 适用行中有值的比例（条件字段只在适用行上计算，如退款原单号只看退款）；有效性 = 已填写值中按原写法即为"
    "有效值的比例（任意常见写法的真实电话、可识别的性别、可解析的日期……）；标准格式 = 已是下游可直接接受的标准写法的"
    "比例；唯一性只对订单号、运单号、会员卡号等标识字段计算；一致性 = 与合并后客户黄金记录一致的比例。",
    "Completeness = share of the rows a field applies to that have a value (conditional fields only where they "
    "apply, e.g. refund_of on refunds); validity = share of the values present that are valid as written (a real "
    "phone in any common writing, a known gender word, a readable date …); standard format = share already in the "
    "form a downstream system accepts as is; uniqueness only for identifiers (order, tracking, member card numbers "
    "…); consistency = share agreeing with the customer's golden record.")
QUALITY_COLUMNS = ["source", "field", "phase", "completeness", "validity", "uniqueness", "consistency", "conformity",
                   "applies_to"]
SKIP = ("source", "record_id", ROW)
CONSISTENCY_FIELDS = ("full_name", "gender", "birth_date", "phone", "email", "national_id", "province", "city",
                      "district")

#: The dirt counted per source: code → (field, the cleaned column that says what each value was, the kind counted).
#: The kinds are :data:`digiops.merge.normalize.PHONE_KINDS`, ``NAME_KINDS`` and ``ADDRESS_KINDS``.
DIRT: dict[str, tuple[str, str, str]] = {
    "masked_phone": ("phone", "phone_kind", "masked"),
    "virtual_phone": ("phone", "phone_kind", "virtual"),
    "recovered_phone": ("phone", "phone_kind", "recovered"),
    "lost_digits_phone": ("phone", "phone_kind", "lost_digits"),
    "placeholder_phone": ("phone", "phone_kind", "placeholder"),
    "masked_name": ("full_name", "name_kind", "masked"),
    "surname_only_name": ("full_name", "name_kind", "surname"),
    "nickname": ("full_name", "name_kind", "nickname"),
    "placeholder_name": ("full_name", "name_kind", "placeholder"),
    "proxy_receiver": ("full_name", "name_kind", "proxy"),
    "masked_address": ("address", "address_kind", "masked"),
    "placeholder_address": ("address", "address_kind", "placeholder"),
}
#: How each kind of dirt is named wherever it is shown (zh, en).
DIRT_NAMES = {"masked_phone": ("打码手机号", "Masked phones"), "virtual_phone": ("虚拟号/隐私号", "Virtual numbers"),
              "recovered_phone": ("已修复的号码（科学计数法、.0、前缀）", "Recovered numbers (float, scientific, prefix)"),
              "lost_digits_phone": ("位数丢失的号码", "Numbers with lost digits"),
              "placeholder_phone": ("占位号码", "Placeholder phones"), "masked_name": ("打码姓名", "Masked names"),
              "surname_only_name": ("仅有姓氏", "Surname only"), "nickname": ("昵称", "Nicknames"),
              "placeholder_name": ("占位姓名", "Placeholder names"), "proxy_receiver": ("代收人", "Proxy receivers"),
              "masked_address": ("打码地址", "Masked addresses"),
              "placeholder_address": ("占位地址", "Placeholder addresses")}
KIND_COLUMNS = ("phone_kind", "name_kind", "address_kind")
KIND_COUNT_COLUMNS = ["column", "kind", "rows"]
DIRT_COLUMNS = ["source", "dirt", "field", "rows", "given", "share"]

#: kind → the fields that identify one row of that kind: the only fields whose uniqueness is measured.
UNIQUE_FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("member_id", "national_id"),
    "orders": ("order_id",),
    "shipments": ("shipment_id", "tracking_no"),
    "leads": ("lead_id",),
    "products": ("sku",),
    "stores": ("store_id",),
}

#: (kind, field, applies_to): the fields that apply to some rows only (``*``: any kind). Every other field applies
#: to every row (``all``). ``applies_to`` names a rule of :data:`ROW_RULES`.
APPLICABILITY: tuple[tuple[str, str, str], ...] = (
    ("orders", "refund_of", "refunds"),
    ("orders", "paid_at", "paid"),
    ("shipments", "shipped_at", "shipped"),
    ("shipments", "signed_at", "delivered"),
    ("*", "note", "optional"),
    ("*", "address_extra", "optional"),
    ("*", "is_test", "optional"),
)
#: What :func:`measure` writes as ``applies_to`` when a source lacks the columns that tell the rows apart.
UNDETERMINED = "undetermined"

#: Shipment status → state: the longest marker a status contains names it (a tie goes to the state listed first).
SHIPMENT_STATES: dict[str, tuple[str, ...]] = {
    "failed": ("未签收", "拒签", "拒收", "退回", "丢失", "失败", "异常", "未妥投", "undelivered", "not delivered",
               "unsigned", "failed", "returned", "refused", "lost"),
    "awaiting": ("待发货", "未发货", "待揽收", "待揽件", "待出库", "待出货", "已下单", "awaiting", "pending",
                 "not shipped", "unshipped"),
    "in_transit": ("运输中", "在途", "派送中", "派件中", "配送中", "中转", "已揽收", "已揽件", "已发货", "已出库",
                   "in transit", "out for delivery", "shipped"),
    "delivered": ("签收", "妥投", "送达", "已收货", "delivered", "signed"),
}

#: No date is "in the future" when quality cleans quarantined rows again (the real ``as_of`` is applied after).
_NO_FUTURE = dt.date(2262, 4, 1)


def standard_text(values: pa.Array) -> pa.Array:
    """How each cleaned value is written in standard form (text; null for no value), for comparison with the raw
    text: timestamps ``YYYY-MM-DD HH:MM:SS`` (without a midnight time), dates ``YYYY-MM-DD``, amounts with two
    decimals. Flags (booleans) have no standard text."""
    kind = values.type
    if pa.types.is_string(kind):
        return values
    if pa.types.is_large_string(kind):
        return values.cast(pa.string())
    if pa.types.is_timestamp(kind):
        text = values.cast(pa.timestamp("s"), safe=False).cast(pa.string())  # "2025-05-01 10:00:00"
        return pc.replace_substring_regex(text, " 00:00:00$", "")
    if pa.types.is_boolean(kind) or pa.types.is_null(kind):
        return pa.nulls(len(values), pa.string())
    return values.cast(pa.string())


def _has_standard_form(values: pa.Array) -> bool:
    return not (pa.types.is_boolean(values.type) or pa.types.is_null(values.type))


def _share(numerator: int, denominator: int) -> float:
    return float(numerator / denominator) if denominator else float("nan")


def _state_of(status: object, states: dict[str, tuple[str, ...]]) -> str | None:
    """The state whose longest marker ``status`` contains (case-insensitive), ``None`` when none does."""
    text = str(status).strip().lower() if status is not None else ""
    best, length = None, 0
    for state, markers in states.items():
        for marker in markers:
            if len(marker) > length and marker in text:
                best, length = state, len(marker)
    return best


@dataclass
class RowFacts:
    """What the applicability rules look at, over every row read: the cleaned status and amount (standard text,
    null when the row has none; ``None`` when the source does not map the field)."""

    rows: int
    status: pa.Array | None
    amount: pa.Array | None
    order_states: dict[str, list[str]]

    def _status_states(self, classify: Callable[[object], str | None]) -> np.ndarray:
        encoded = self.status.dictionary_encode()
        states = np.array([classify(v) for v in [*encoded.dictionary.to_pylist(), None]], dtype=object)
        codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(zero_copy_only=False)
        return states[codes]

    def order_state(self) -> np.ndarray:
        """Each row's order state as the merge reads it (``paid`` when the source has no status)."""
        if self.status is None:
            return np.full(self.rows, "paid", dtype=object)
        return self._status_states(lambda s: status_state(s, self.order_states))

    def shipment_state(self) -> np.ndarray:
        """Each row's shipment state (:data:`SHIPMENT_STATES`; ``None`` when unknown or without a status)."""
        if self.status is None:
            return np.full(self.rows, None, dtype=object)
        return self._status_states(lambda s: _state_of(s, SHIPMENT_STATES))

    def negative_amount(self) -> np.ndarray:
        if self.amount is None:
            return np.zeros(self.rows, dtype=bool)
        return pc.fill_null(pc.starts_with(self.amount, "-"), False).to_numpy(zero_copy_only=False)


def _refunds(facts: RowFacts) -> np.ndarray | None:
    if facts.status is None and facts.amount is None:
        return None
    return facts.negative_amount() | (facts.order_state() == "refunded")


def _delivered(facts: RowFacts) -> np.ndarray | None:
    return None if facts.status is None else facts.shipment_state() == "delivered"


#: applies_to → the rows a field applies to (``None``: the source cannot tell).
ROW_RULES: dict[str, Callable[[RowFacts], np.ndarray | None]] = {
    "all": lambda facts: np.ones(facts.rows, dtype=bool),
    "refunds": _refunds,
    "paid": lambda facts: facts.order_state() != "cancelled",
    "shipped": lambda facts: facts.shipment_state() != "awaiting",
    "delivered": _delivered,
    "optional": lambda facts: np.zeros(facts.rows, dtype=bool),
}


def applies_to(kind: str, field: str) -> str:
    """The :data:`APPLICABILITY` rule of a field of a kind of source (``all`` when it applies to every row).

    >>> applies_to("orders", "refund_of"), applies_to("leads", "note"), applies_to("orders", "phone")
    ('refunds', 'optional', 'all')
    """
    for rule_kind, rule_field, rule in APPLICABILITY:
        if rule_field == field and rule_kind in (kind, "*"):
            return rule
    return "all"


def applicable_rows(kind: str, fields: list[str], facts: RowFacts) -> dict[str, tuple[str, np.ndarray]]:
    """Field → (``applies_to``, which rows it applies to) by :data:`APPLICABILITY`; no row and
    :data:`UNDETERMINED` when the source cannot tell."""
    out = {}
    for field in fields:
        rule = applies_to(kind, field)
        rows = ROW_RULES[rule](facts)
        out[field] = (rule, rows) if rows is not None else (UNDETERMINED, np.zeros(facts.rows, dtype=bool))
    return out


COUNTS = ["field", "applies_to", "rows", "filled", "given", "valid", "in_standard", "formatted", "clean_rows",
          "after_filled", "values_after"]


@dataclass
class Measured:
    """What :func:`measure` found in one slice of a source: counts that add up over slices, the distinct values
    of its identifying fields seen as :func:`value_hashes` (to count distinct over the whole source), and the inputs
    of :func:`consistency`."""

    counts: pd.DataFrame
    distinct_before: dict[str, np.ndarray]
    distinct_after: dict[str, np.ndarray]
    consistency: pa.Table
    #: :func:`kind_counts` over every row of the slice (quarantined rows cleaned again, like the measures).
    dirt: pd.DataFrame = dataclasses.field(default_factory=lambda: pd.DataFrame(columns=KIND_COUNT_COLUMNS))


def _trimmed(values: pd.Series) -> pa.Array:
    return pc.utf8_trim_whitespace(pc.fill_null(arrow_text(values), ""))


def _arrow(values: pd.Series) -> pa.Array:
    """A cleaned column (as :func:`digiops.merge.clean.clean_source` makes it) as one Arrow array."""
    if values.dtype == object:
        array = pa.array(values.where(values.notna(), None).tolist(), from_pandas=True)
    else:
        array = pa.array(values, from_pandas=True)
    array = array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return array.cast(pa.string()) if pa.types.is_large_string(array.type) else array


def _every_row(raw: pd.DataFrame, kept: np.ndarray, kept_values: dict[str, pa.Array],
               kept_standard: dict[str, pa.Array], *, as_of: dt.date,
               earliest: dt.date) -> tuple[dict[str, pa.Array], dict[str, pa.Array]]:
    """Field → the standard text and whether the value is usable, on every row of ``raw``: the rows kept as
    cleaning kept them (``kept_standard``: the standard text of ``kept_values``); the quarantined rows cleaned
    again on their own, without the row checks that quarantined them, but with the value checks (a birth date or an
    event in the future is no valid date)."""
    standard = dict(kept_standard)
    usable = {f: pc.is_valid(v) for f, v in kept_values.items()}
    if kept.all():
        return standard, usable
    again = clean_source(raw[~kept], name=str(raw["source"].iloc[0]), kind="other", as_of=_NO_FUTURE,
                         earliest=earliest, has_id_column=False).clean
    back = pa.array(np.argsort(np.concatenate([np.flatnonzero(kept), np.flatnonzero(~kept)]), kind="stable"))
    future = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    for field in kept_values:
        values = again[field] if field in again else pd.Series(None, index=again.index, dtype=object)
        array = _arrow(values)
        ok = pc.is_valid(array).to_numpy(zero_copy_only=False)
        if field in (*EVENT_FIELDS, "birth_date"):
            ok &= ~(pd.to_datetime(values, errors="coerce") >= future).to_numpy(dtype=bool)
        standard[field] = pa.concat_arrays([standard[field], standard_text(array)]).take(back)
        usable[field] = pa.concat_arrays([usable[field], pa.array(ok)]).take(back)
    return standard, usable


def measure(raw: pd.DataFrame, clean: pa.Table, *, kind: str, as_of: dt.date, earliest: dt.date,
            order_states: dict[str, list[str]] | None = None) -> Measured:
    """Measure one slice of a source (the definitions are in the module docstring).

    Args:
        raw: the slice's canonical text rows.
        clean: the rows cleaning kept, as written.
        kind: the source's kind (which fields identify a row, which apply to some rows only).
        as_of, earliest: the cleaning's date range (quarantined rows are judged by it too).
        order_states: the engagement's ``merge.order_states`` (the defaults when not given).
    """
    kept_rows = raw[ROW].isin(clean.column(ROW).to_numpy()).to_numpy()
    kept = pa.array(kept_rows)
    fields = [c for c in raw.columns if c not in SKIP]
    kept_values = {f: (clean.column(f).combine_chunks() if f in clean.column_names
                       else pa.nulls(clean.num_rows, pa.string())) for f in fields}
    kinds = [c for c in KIND_COLUMNS if c in clean.column_names]
    every = {**kept_values, **{c: clean.column(c).combine_chunks() for c in kinds}}
    kept_standard = {f: standard_text(v) for f, v in every.items()}
    standard_all, usable_all = _every_row(raw, kept_rows, every, kept_standard, as_of=as_of, earliest=earliest)
    facts = RowFacts(len(raw), standard_all.get("status"), standard_all.get("amount"),
                     order_states or DEFAULT_ORDER_STATES)
    applicable = applicable_rows(kind, fields, facts)
    unique = UNIQUE_FIELDS.get(kind, ())
    rows, before, after = [], {}, {}
    consistency = {ROW: clean.column(ROW)}
    for field in fields:
        text = _trimmed(raw[field])
        given = pc.not_equal(text, "")
        valid = pc.and_(given, usable_all[field])
        in_standard = pc.and_(valid, pc.fill_null(pc.equal(text, standard_all[field]), False))
        rule, applies = applicable[field]
        filled = given.to_numpy(zero_copy_only=False) & applies
        standard = kept_standard[field]
        present = pc.is_valid(kept_values[field]).to_numpy(zero_copy_only=False)
        rows.append([field, rule, int(applies.sum()), int(filled.sum()), _count(given), _count(valid),
                     _count(in_standard), _has_standard_form(kept_values[field]), int(applies[kept_rows].sum()),
                     int((applies[kept_rows] & present).sum()), int(present.sum())])
        if field in unique:
            before[field] = value_hashes(text.filter(given))
            after[field] = value_hashes(standard)
        if field in CONSISTENCY_FIELDS:
            raw_kept = text.filter(kept)
            consistency[f"{field}_before"] = pc.if_else(pc.not_equal(raw_kept, ""), raw_kept,
                                                        pa.scalar(None, pa.string()))
            consistency[f"{field}_after"] = standard
    return Measured(pd.DataFrame(rows, columns=COUNTS), before, after, pa.table(consistency),
                    kind_counts({c: standard_all[c] for c in kinds}))


def kind_counts(kinds: dict[str, pa.Array]) -> pd.DataFrame:
    """Rows per value of each kind column (:data:`KIND_COLUMNS`; nulls, the rows without a value, not counted),
    as :data:`KIND_COUNT_COLUMNS`: counts that add up over slices.

    >>> kind_counts({"phone_kind": pa.array(["number", "masked", None, "number"])}).values.tolist()
    [['phone_kind', 'number', 2], ['phone_kind', 'masked', 1]]
    """
    rows = []
    for column, values in kinds.items():
        for item in pc.value_counts(values.drop_null()).to_pylist():
            rows.append([column, item["values"], int(item["counts"])])
    return pd.DataFrame(rows, columns=KIND_COUNT_COLUMNS)


def dirt_rows(source: str, counts: pd.DataFrame) -> pd.DataFrame:
    """The dirt met in one source (:data:`DIRT_COLUMNS`, one row per :data:`DIRT` code whose kind column the source
    has) from its summed :func:`kind_counts`: ``rows`` of that kind, ``given`` the rows with a value in the field,
    ``share`` = rows / given (NaN when none is given).

    >>> counts = pd.DataFrame([["phone_kind", "number", 3], ["phone_kind", "masked", 1]], columns=KIND_COUNT_COLUMNS)
    >>> dirt_rows("crm", counts).to_dict("records")[0]
    {'source': 'crm', 'dirt': 'masked_phone', 'field': 'phone', 'rows': 1, 'given': 4, 'share': 0.25}
    """
    summed = counts.groupby(["column", "kind"])["rows"].sum() if len(counts) else pd.Series(dtype="int64")
    columns = set(counts["column"]) if len(counts) else set()
    rows = []
    for code, (field_name, column, kind) in DIRT.items():
        if column not in columns:
            continue
        given = int(summed.loc[column].sum())
        found = int(summed.get((column, kind), 0))
        rows.append({"source": source, "dirt": code, "field": field_name, "rows": found, "given": given,
                     "share": _share(found, given)})
    return pd.DataFrame(rows, columns=DIRT_COLUMNS)


def _count(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0


@lru_cache(maxsize=1)
def _duckdb():
    import duckdb

    return duckdb.connect()


def value_hashes(values: pa.Array) -> np.ndarray:
    """The distinct 64-bit hashes (DuckDB's ``hash``) of the non-null values: 8 bytes a distinct value whatever
    its length, and a hash set of integers rather than of text when the slices are counted together. Two distinct
    values share a hash with probability ~n²/2⁶⁵ (about 10⁻⁶ for 4 million values): uniqueness is a share, and
    that error is far below its last shown digit."""
    con = _duckdb()
    con.register("_values", pa.table({"v": values}))
    try:
        return con.execute("SELECT DISTINCT hash(v) AS h FROM _values WHERE v IS NOT NULL").fetchnumpy()["h"]
    finally:
        con.unregister("_values")


def distinct_count(parts: list[np.ndarray]) -> int:
    """Distinct values over the slices' :func:`value_hashes` (sorted and counted: several times faster than
    ``np.unique`` or a hash set here)."""
    hashes = np.sort(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)
    return int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if len(hashes) else 0


def quality_rows(source: str, counts: pd.DataFrame, distinct_before: dict[str, int],
                 distinct_after: dict[str, int]) -> pd.DataFrame:
    """The before/after rows of one source from its summed :func:`measure` counts and the distinct counts of its
    identifying fields (uniqueness is n/a for the fields without one; consistency is left empty: :func:`consistency`
    fills it once the golden records exist)."""
    numbers = [c for c in COUNTS if c not in ("field", "applies_to", "formatted")]
    summed = counts.groupby("field", sort=False).agg(
        {**{c: "sum" for c in numbers}, "applies_to": "first", "formatted": "max"}).reset_index()
    nan = float("nan")
    rows = []
    for c in summed.itertuples(index=False):
        unique_before = _share(distinct_before[c.field], c.given) if c.field in distinct_before else nan
        unique_after = _share(distinct_after[c.field], c.values_after) if c.field in distinct_after else nan
        rows.append({"source": source, "field": c.field, "phase": "before", "completeness": _share(c.filled, c.rows),
                     "validity": _share(c.valid, c.given), "uniqueness": unique_before, "consistency": nan,
                     "conformity": _share(c.in_standard, c.given) if c.formatted else nan,
                     "applies_to": c.applies_to})
        # Cleaning keeps a value only when it is valid, and writes it in standard form: both shares are 1 over the
        # values kept (what it could not repair shows as lower completeness instead).
        rows.append({"source": source, "field": c.field, "phase": "after",
                     "completeness": _share(c.after_filled, c.clean_rows),
                     "validity": _share(c.values_after, c.values_after), "uniqueness": unique_after,
                     "consistency": nan, "conformity": _share(c.values_after, c.values_after) if c.formatted else nan,
                     "applies_to": c.applies_to})
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)


def consistency(con, quality: pd.DataFrame, inputs: dict[str, str], crosswalk: str, customers: str,
                engine: engines.EngineSettings | None = None) -> pd.DataFrame:
    """Fill ``consistency``: the share of a source's values agreeing with the customer's golden record.

    Args:
        con: a DuckDB connection.
        quality: rows of :func:`quality_rows`.
        inputs: source name → SQL that reads the consistency inputs :func:`measure` made of it.
        crosswalk, customers: tables (or views) in ``con`` with ``source, _row, customer_id`` (``_row``: the
            record's row in its file) and the golden records.
        engine: where the shares are counted (:func:`digiops.engines.fetch`; on Spark ``crosswalk`` must be a
            Spark view too).
    """
    golden_columns = set(con.sql(f"SELECT * FROM {customers} LIMIT 0").columns)
    found = []
    for name, scan in inputs.items():
        columns = set(con.sql(f"SELECT * FROM {scan} LIMIT 0").columns)
        fields = [f for f in CONSISTENCY_FIELDS if f"{f}_before" in columns and f in golden_columns]
        if not fields:
            continue
        keys = [(f, phase) for f in fields for phase in ("before", "after")]
        measures = ", ".join(
            f"avg(CASE WHEN g.\"{f}\" IS NOT NULL AND c.\"{f}_{phase}\" IS NOT NULL "
            f"THEN CAST(CAST(g.\"{f}\" AS VARCHAR) = c.\"{f}_{phase}\" AS INTEGER) END)" for f, phase in keys)
        row = engines.fetch(con, f"""
            SELECT {measures} FROM {scan} c
            JOIN {crosswalk} x ON x.source = {literal(name)} AND x._row = c._row
            JOIN {customers} g ON g.customer_id = x.customer_id""", engine)[0]
        found += [{"source": name, "field": field, "phase": phase, "consistency": value}
                  for (field, phase), value in zip(keys, row)]
    if not found:
        return quality
    agreed = pd.DataFrame(found).astype({"consistency": float})
    out = quality.drop(columns="consistency").merge(agreed, on=["source", "field", "phase"], how="left")
    return out[QUALITY_COLUMNS]
