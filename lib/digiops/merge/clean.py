"""Cleaning one source: canonical text columns in, typed normalized columns and quarantined rows out.

A row is quarantined (not used, with source, row, field and reason) when what it is for cannot be recovered:
a missing or duplicate record id, an order without a parseable time or amount, an event dated in the future, a
person record with nothing that identifies a person. A single bad value in an otherwise usable row (a malformed
phone, an impossible birth date) is dropped to null instead and shows in the data-quality validity figures.

Numbers are the exception: an amount, price or quantity that is written but cannot be read exactly — not in the
source's declared number format (``decimal_separator`` / ``thousands_separator``), in scientific notation, or too
large for its stored type — quarantines its row with what is wrong, rather than being guessed or dropped. Times
with a UTC offset (``2025-05-05T14:54:04+08:00``) are converted to the engagement's time zone (``merge.timezone``)
and kept naive, like every other time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from digiops import tables
from digiops.canonical import CANONICAL_FIELDS
from digiops.io import ROW
from digiops.merge import normalize as nz

NAME_FIELDS = ("full_name", "given_name", "family_name")
CODE_FIELDS = ("member_id", "customer_key", "sku", "store_id", "order_id", "shipment_id", "tracking_no", "lead_id",
               "refund_of")
EVENT_FIELDS = ("registered_at", "order_time", "paid_at", "captured_at", "shipped_at", "signed_at", "opened_at")
TIME_FIELDS = EVENT_FIELDS + ("promised_at",)
AMOUNT_FIELDS = ("amount", "price")
IDENTIFYING = ("full_name", "phone", "email", "national_id", "member_id")
QUARANTINE_COLUMNS = tables.columns("quarantine")
#: Fields whose normalizer takes blank-free Python values (phones, codes and text take the raw column).
TYPED_FIELDS = frozenset((*NAME_FIELDS, *TIME_FIELDS, *AMOUNT_FIELDS, "email", "national_id", "gender", "postcode",
                          "street", "street_number", "birth_date", "quantity", "is_test"))


@dataclass
class CleanSource:
    """One source after cleaning: the usable rows (typed), the quarantined rows, and the raw canonical text."""

    name: str
    kind: str
    raw: pd.DataFrame
    clean: pd.DataFrame
    quarantine: pd.DataFrame

    @property
    def rows_in(self) -> int:
        return len(self.raw)


def _blank_to_missing(values: pd.Series) -> pd.Series:
    """The column as Arrow-backed text, blank cells missing (no Python object per cell: the normalizers are
    called per distinct value, and the date and phone paths work on Arrow text)."""
    text = values if isinstance(values.dtype, pd.StringDtype) else values.astype("str")
    return text.where(text.str.strip().ne(""))


MUNICIPALITIES = pa.array(["北京市", "上海市", "天津市", "重庆市"])


def _address_parts(frame: pd.DataFrame) -> pd.DataFrame:
    """province / city / district / adcode / street_key from the address columns, via ``cpca`` for Chinese.

    Arrow text throughout: the address columns are joined and encoded once, and each distinct address is worked on
    once; cpca parses each distinct administrative part (the text before the first digit, the house number) once.
    """
    import cpca

    columns = [c for c in ("province", "city", "district", "address", "address_extra") if c in frame]
    if not columns:
        return pd.DataFrame(index=frame.index)
    joined = pc.binary_join_element_wise(*[pc.fill_null(nz.arrow_text(frame[c]), "") for c in columns], "")
    encoded = joined.dictionary_encode()
    text, codes = encoded.dictionary, encoded.indices
    cjk = nz.cjk_array(text)
    text = pc.if_else(cjk, nz.simplified_array(pc.replace_substring(text, " ", "")), text)
    none = pa.nulls(len(text), pa.string())
    parts = dict.fromkeys(("province", "city", "district", "adcode", "street_key"), none)
    if pc.any(cjk).as_py():
        split = pc.extract_regex(text.filter(cjk), r"^(?P<head>[^0-9]*)(?P<tail>.*)$")
        heads = split.field("head").dictionary_encode()
        parsed = cpca.transform(heads.dictionary.to_pylist())
        field = {name: pa.array(parsed[name], from_pandas=True, type=pa.string()).take(heads.indices)
                 for name in ("省", "市", "区", "adcode", "地址")}
        # a municipality is its own city: cpca says 市辖区 below it, or nothing when the text names it alone
        municipal = pc.or_(pc.fill_null(pc.equal(field["市"], "市辖区"), False),
                           pc.and_(pc.is_null(field["市"]), pc.is_in(field["省"], value_set=MUNICIPALITIES)))
        city = pc.if_else(municipal, field["省"], field["市"])
        rest = pc.binary_join_element_wise(pc.fill_null(field["地址"], ""), split.field("tail"), "")
        street = nz.arrow_text(nz.street_series(nz.text_column(rest)))
        for name, values in (("province", field["省"]), ("city", city), ("district", field["区"]),
                             ("adcode", field["adcode"]), ("street_key", street)):
            parts[name] = pc.replace_with_mask(none, cjk, values)
    out = pd.DataFrame({name: nz.text_column(nz.blank_to_null(values.take(codes)), frame.index)
                        for name, values in parts.items()})
    # Latin-script records keep their own columns (suburb → district, state → province) and build a street key.
    latin = ~cjk.take(codes).to_numpy(zero_copy_only=False)
    if latin.any():
        for column in ("province", "city", "district"):
            if column in frame:
                out.loc[latin, column] = nz.map_distinct(frame.loc[latin, column], nz.normalize_street).to_numpy()
        street_bits = [frame.loc[latin, c] for c in ("street_number", "street") if c in frame]
        if not street_bits and "address" in frame:
            street_bits = [frame.loc[latin, "address"]]
        if street_bits:
            street = street_bits[0].fillna("").astype(str)
            for bit in street_bits[1:]:
                street = street + " " + bit.fillna("").astype(str)
            out.loc[latin, "street_key"] = nz.map_distinct(street, nz.normalize_street).to_numpy()
    return out


def _is_true(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.lower()
    return text.isin(["1", "true", "yes", "y", "是", "t", "测试", "test"])


def _quarantine(source: str, frame: pd.DataFrame, mask: pd.Series, field: str, reason) -> pd.DataFrame:
    hit = frame[mask]
    reasons = reason(hit) if callable(reason) else reason
    return pd.DataFrame({"source": source, "row": hit[ROW].astype("int64"), "record_id": hit["record_id"],
                         "field": field, "reason": reasons}, columns=QUARANTINE_COLUMNS)


def _unreadable(what: str, hit: pd.DataFrame) -> pd.Series:
    """``<what> <problem>: <raw>`` where the number reader said what is wrong, else ``unreadable <what>: <raw>``
    (``hit`` has the raw text in ``_raw`` and, for numbers, the reader's problem in ``_problem``)."""
    raw = hit["_raw"].astype(str)
    generic = f"unreadable {what}: " + raw
    if "_problem" not in hit:
        return generic
    said = hit["_problem"].notna()
    return generic.where(~said, what + " " + hit["_problem"].astype(str) + ": " + raw)


def duplicate_rows(record_ids: pd.Series, rows: pd.Series) -> pd.Series:
    """Row → the first row with the same cleaned record id, for every row whose id an earlier row already has
    (one hash pass over the ids; only the repeated ids are grouped)."""
    ids = nz.code_series(record_ids)
    repeated = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    groups = pd.DataFrame({"id": ids[repeated].to_numpy(), "row": rows[repeated].to_numpy()})
    first = groups.groupby("id")["row"].transform("min")
    later = (groups["row"] != first).to_numpy()
    return pd.Series(first[later].to_numpy(), index=groups["row"][later].to_numpy(), dtype="int64")


def clean_source(raw: pd.DataFrame, *, name: str, kind: str, as_of: dt.date, earliest: dt.date,
                 has_id_column: bool, region: str = "CN", duplicates: pd.Series | None = None,
                 timezone: str = nz.DEFAULT_TIMEZONE, decimal_separator: str = ".",
                 thousands_separator: str = ",") -> CleanSource:
    """Normalize every mapped field of one source and split off the rows that cannot be used.

    Args:
        raw: the source's canonical frame (``digiops.io.canonical_frame``): text cells, ``record_id``, ``_row``.
        name, kind: the source's name and kind in the engagement file.
        as_of: dates after this day are in the future.
        earliest: dates before this day are invalid.
        has_id_column: whether ``record_id`` comes from an id column (then it must be present and unique).
        region: phone-number region for numbers without a country code.
        duplicates: when ``raw`` is a slice of a source, :func:`duplicate_rows` of the whole source, so a
            duplicate id is found across slices.
        timezone: times with a UTC offset are converted to this zone (an IANA name) and kept naive.
        decimal_separator, thousands_separator: how the source writes numbers (``thousands_separator`` may be
            :data:`digiops.merge.normalize.NO_SEPARATOR`).

    A number is checked only in the fields its kind defines (:data:`digiops.canonical.CANONICAL_FIELDS`): kind
    ``other``, as the data-quality measure cleans quarantined rows again to judge their values, keeps every row.
    """
    frame = raw
    record_id = nz.code_series(frame["record_id"]).astype(frame["record_id"].dtype)
    out = pd.DataFrame({"source": frame["source"], "record_id": record_id, ROW: frame[ROW]}, index=frame.index)
    problems: list[pd.DataFrame] = []
    unreadable: dict[str, pd.Series] = {}  # number field → what is wrong with each row's value
    number_format = {"decimal": decimal_separator, "thousands": thousands_separator}
    future = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    oldest = pd.Timestamp(earliest)

    for column in frame.columns:
        if column in ("source", "record_id", ROW):
            continue
        values = _blank_to_missing(frame[column]) if column in TYPED_FIELDS else None
        if column in NAME_FIELDS:
            out[column] = nz.name_series(frame[column])
        elif column == "phone":
            out[column] = nz.phone_series(frame[column], region)  # blank text is no phone
        elif column == "email":
            out[column] = nz.map_distinct(values, nz.normalize_email)
        elif column == "national_id":
            out[column] = nz.map_distinct(values, nz.normalize_national_id)
        elif column == "gender":
            out[column] = nz.map_distinct(values, nz.normalize_gender)
        elif column == "postcode":
            out[column] = nz.map_distinct(values, nz.normalize_postcode)
        elif column in ("street", "street_number"):
            out[column] = nz.map_distinct(values, nz.normalize_street)
        elif column in CODE_FIELDS:
            out[column] = nz.code_series(frame[column])  # blank text is no code
        elif column == "birth_date":
            parsed = nz.parse_dates(values, timezone)
            ok = parsed.notna() & (parsed < future) & (parsed >= oldest)
            out[column] = parsed.where(ok).dt.date.astype(object).where(ok, None)
        elif column in TIME_FIELDS:
            parsed = nz.parse_dates(values, timezone)
            out[column] = parsed.where(parsed >= oldest)
            if column in EVENT_FIELDS:
                late = parsed >= future
                problems.append(_quarantine(name, out.assign(_raw=values), late, column,
                                            lambda hit, c=column: "date in the future: " + hit["_raw"].astype(str)))
        elif column in AMOUNT_FIELDS:
            out[column], unreadable[column] = nz.number_series(values, nz.read_amount, **number_format)
        elif column == "quantity":
            out[column], unreadable[column] = nz.number_series(values, nz.read_whole, **number_format)
        elif column == "is_test":
            out[column] = _is_true(values)
        elif column in ("address", "address_extra"):
            out[column] = nz.text_series(frame[column], simplified=True)
        else:
            out[column] = nz.text_series(frame[column])

    # A Chinese name split over two columns is family + given; a Latin one is "given family".
    if "full_name" not in out and ("given_name" in out or "family_name" in out):
        given = out.get("given_name", pd.Series(None, index=out.index, dtype=object)).fillna("")
        family = out.get("family_name", pd.Series(None, index=out.index, dtype=object)).fillna("")
        cjk = (family + given).map(nz.has_cjk)
        full = (family + given).where(cjk, (given + " " + family).str.strip())
        out["full_name"] = full.where(full != "", None)

    if any(c in out for c in ("address", "address_extra", "province", "city", "district", "street")):
        parts = _address_parts(out)
        for column in parts.columns:
            out[column] = parts[column]

    # row-level checks ------------------------------------------------------------------------------------------
    if has_id_column:
        missing = out["record_id"].isna()
        problems.append(_quarantine(name, out, missing, "record_id", "missing id"))
        if duplicates is None:
            duplicates = duplicate_rows(frame["record_id"], frame[ROW])
        problems.append(_quarantine(name, out, ~missing & out[ROW].isin(duplicates.index), "record_id",
                                    lambda hit: "duplicate id (first on row "
                                    + hit[ROW].map(duplicates).astype(str) + ")"))
    if kind == "orders":
        if "order_time" in out:
            problems.append(_quarantine(name, out.assign(_raw=_blank_to_missing(frame["order_time"])),
                                        out["order_time"].isna(), "order_time",
                                        lambda hit: np.where(hit["_raw"].isna(), "missing order time",
                                                             _unreadable("order time", hit))))
        if "amount" in out:  # an unreadable amount is quarantined with the other numbers below
            problems.append(_quarantine(name, out, _blank_to_missing(frame["amount"]).isna(), "amount",
                                        "missing amount"))
    for column, problem in unreadable.items():
        if column in CANONICAL_FIELDS.get(kind, ()):
            raw_values = _blank_to_missing(frame[column])
            problems.append(_quarantine(name, out.assign(_raw=raw_values, _problem=problem),
                                        out[column].isna() & raw_values.notna(), column,
                                        lambda hit, c=column: _unreadable(c, hit)))
    if kind == "shipments" and "order_id" in out:
        problems.append(_quarantine(name, out, out["order_id"].isna(), "order_id", "missing order number"))
    if kind == "products" and "sku" in out:
        problems.append(_quarantine(name, out, out["sku"].isna(), "sku", "missing sku"))
    if kind in ("customers", "leads"):
        present = [c for c in IDENTIFYING if c in out]
        if present:
            nothing = out[present].isna().all(axis=1)
            problems.append(_quarantine(name, out, nothing, ",".join(present),
                                        "nothing identifies a person (no name, phone, email, id or member card)"))
    quarantine = (pd.concat([p for p in problems if len(p)], ignore_index=True) if any(len(p) for p in problems)
                  else pd.DataFrame(columns=QUARANTINE_COLUMNS))
    quarantine = quarantine.drop_duplicates("row", keep="first").sort_values("row", kind="stable")
    quarantine = quarantine.reset_index(drop=True).astype({"row": "int64"})
    clean = out[~out[ROW].isin(quarantine["row"])].reset_index(drop=True)
    return CleanSource(name=name, kind=kind, raw=raw, clean=clean, quarantine=quarantine)
