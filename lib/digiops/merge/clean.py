"""Cleaning one source: canonical text columns in, typed normalized columns and quarantined rows out.

A row is quarantined (not used, with source, row, field and reason) when what it is for cannot be recovered:
a missing or duplicate record id, an order without a parseable time or amount, an event dated in the future, a
person record with nothing that identifies a person. A single bad value in an otherwise usable row (a malformed
phone, an impossible birth date) is dropped to null instead and shows in the data-quality validity figures.

A row equal to an earlier row of its source in every mapped field is an exact duplicate: quarantined with the row it
repeats, one copy kept, in every kind, with or without an id column. An orders source's repeated order number is a
duplicate id in an order-grain source and the next line of the order in a line-grain one (the source's ``grain``;
:func:`duplicate_rows`), whose lines are all kept.

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
from digiops.dates import DEFAULT_TIMEZONE, parse_dates
from digiops.io import ROW
from digiops.merge import normalize as nz
from digiops.text_columns import arrow_text, blank_to_null, text_column

NAME_FIELDS = ("full_name", "given_name", "family_name")
CODE_FIELDS = ("member_id", "customer_key", "sku", "store_id", "order_id", "shipment_id", "tracking_no", "lead_id",
               "refund_of")
EVENT_FIELDS = ("registered_at", "order_time", "paid_at", "captured_at", "shipped_at", "signed_at", "opened_at")
TIME_FIELDS = EVENT_FIELDS + ("promised_at",)
AMOUNT_FIELDS = ("amount", "price")
#: A customers or leads row with none of these identifies nobody (a masked phone still narrows a person down).
IDENTIFYING = ("full_name", "phone", "phone_masked", "phone_virtual", "email", "national_id", "member_id")
QUARANTINE_COLUMNS = tables.columns("quarantine")
#: What follows a quarantine reason's kind: the value or row it names ("unreadable amount: abc" → "unreadable
#: amount", "duplicate id (first on row 5)" → "duplicate id"), in half- or full-width punctuation.
REASON_DETAIL = r"\s*[:(：（].*$"
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
    """province / city / district / adcode / street_key / address_kind from the address columns, via ``cpca`` for
    Chinese.

    Arrow text throughout: the address columns are joined and encoded once, and each distinct address is worked on
    once; cpca parses each distinct administrative part (the text before the first digit, the house number) once.
    The street key has its house numbers in one form (:func:`digiops.merge.normalize.street_parts`); a masked
    (``浙江省杭州市西湖区****``) or placeholder (``同上``, ``见备注``) street has none, while its district and city
    still count. ``address_kind`` (:data:`digiops.merge.normalize.ADDRESS_KINDS`) says which, missing for no address.
    """
    import cpca

    columns = [c for c in ("province", "city", "district", "address", "address_extra") if c in frame]
    if not columns:
        return pd.DataFrame(index=frame.index)
    joined = pc.binary_join_element_wise(*[pc.fill_null(arrow_text(frame[c]), "") for c in columns], "")
    encoded = joined.dictionary_encode()
    text, codes = encoded.dictionary, encoded.indices
    cjk = nz.cjk_array(text)
    text = pc.if_else(cjk, nz.simplified_array(pc.replace_substring(text, " ", "")), text)
    none = pa.nulls(len(text), pa.string())
    parts = dict.fromkeys(("province", "city", "district", "adcode", "street_key"), none)
    # masked or a placeholder as a whole (cpca finds no street in 同上); a street's own kind is taken below
    parts["address_kind"] = nz.street_kind_array(blank_to_null(text))
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
        street, street_kind = map(arrow_text, nz.street_parts(text_column(rest), chinese=True))
        for name, values in (("province", field["省"]), ("city", city), ("district", field["区"]),
                             ("adcode", field["adcode"]), ("street_key", street)):
            parts[name] = pc.replace_with_mask(none, cjk, values)
        parts["address_kind"] = pc.replace_with_mask(parts["address_kind"], cjk,
                                                     pc.coalesce(street_kind, parts["address_kind"].filter(cjk)))
    parts["address_kind"] = pc.if_else(pc.equal(text, ""), none, pc.coalesce(parts["address_kind"], "address"))
    out = pd.DataFrame({name: text_column(blank_to_null(values.take(codes)), frame.index)
                        for name, values in parts.items()})
    # Latin-script records keep their own columns (suburb → district, state → province) and build a street key.
    latin = ~cjk.take(codes).to_numpy(zero_copy_only=False)
    if latin.any():
        for column in ("province", "city", "district"):
            if column in frame:
                out.loc[latin, column] = nz.street_series(frame.loc[latin, column]).to_numpy()
        street_bits = [frame.loc[latin, c] for c in ("street_number", "street") if c in frame]
        if not street_bits and "address" in frame:
            street_bits = [frame.loc[latin, "address"]]
        if street_bits:
            street = street_bits[0].fillna("").astype(str)
            for bit in street_bits[1:]:
                street = street + " " + bit.fillna("").astype(str)
            street_key, street_kind = nz.street_parts(street)
            out.loc[latin, "street_key"] = street_key.to_numpy()
            out.loc[latin, "address_kind"] = street_kind.fillna(out.loc[latin, "address_kind"]).to_numpy()
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


#: What the lines of one order write differently: a line-grain export repeats the order number with another sku
#: (without a mapped sku: another quantity, amount or price) at the same order time.
LINE_FIELDS = ("sku", "quantity", "amount", "price")


@dataclass
class RepeatedRows:
    """What the whole source says about its repeated rows, found before cleaning so that every slice agrees.

    ``exact``: row → the first row equal to it in every mapped field (the copies are quarantined, the first kept).
    ``duplicates``: row → the first row with the same cleaned record id, for the other rows whose id repeats
    (quarantined) — in an order-grain orders source and in the other kinds. ``lines``: row → its line number within
    its order (1, 2, … in file order), for every row with an id of a line-grain orders source. ``grain`` is
    ``order`` or ``line`` for an orders source with an id column (else ``None``); ``detected`` says ``auto``
    decided it, from ``repeated`` order numbers on more than one (not identical) row, ``line_like`` of which look
    like lines.
    """

    exact: pd.Series
    duplicates: pd.Series
    lines: pd.Series
    grain: str | None = None
    detected: bool = False
    repeated: int = 0
    line_like: int = 0


def _no_rows() -> pd.Series:
    return pd.Series(dtype="int64", index=pd.Index([], dtype="int64"))


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a text column: equal values share a code, missing values one of their own (Arrow's
    dictionary encoding: pandas' factorize of Arrow text goes through Python objects)."""
    encoded = pc.dictionary_encode(arrow_text(values), null_encoding="encode")
    return encoded.indices.to_numpy(zero_copy_only=False).astype("int64")


def _exact_duplicates(keys: pd.DataFrame, rows: pd.Series) -> pd.Series:
    """Row → the first row equal to it in every column of ``keys``, for every later such row.

    Column by column, only the rows still equal to another row so far are compared further (their codes folded
    pairwise and re-coded): most rows drop out after the first selective column, so a million-row source is not
    encoded whole once per column."""
    candidates = np.arange(len(keys))
    code = np.zeros(len(keys), dtype="int64")
    for column in keys.columns:
        values = _codes(keys[column].iloc[candidates])
        code = pd.factorize(code * (int(values.max(initial=0)) + 1) + values)[0].astype("int64")
        still = pd.Series(code).duplicated(keep=False).to_numpy()
        candidates, code = candidates[still], code[still]
        if not len(candidates):
            return _no_rows()
    return _first_row(code, rows.iloc[candidates])


def _first_row(code: np.ndarray, rows: pd.Series) -> pd.Series:
    """Row → the first row with the same code, for every row whose code an earlier row already has."""
    repeated = pd.Series(code).duplicated(keep=False).to_numpy()
    if not repeated.any():
        return _no_rows()
    row = rows.to_numpy(dtype="int64")[repeated]
    first = pd.Series(row).groupby(code[repeated], sort=False).transform("min").to_numpy()
    later = row != first
    return pd.Series(first[later], index=row[later], dtype="int64")


def _distinct_per_group(group: np.ndarray, values: pd.Series) -> pd.Series:
    """Group code → how many distinct values (missing counts as one) its rows hold."""
    pairs = pd.DataFrame({"group": group, "value": _codes(values)}).drop_duplicates()
    return pairs.groupby("group", sort=False).size()


def duplicate_rows(raw: pd.DataFrame, *, kind: str, has_id_column: bool, grain: str = "auto") -> RepeatedRows:
    """The :class:`RepeatedRows` of a source's canonical frame (text cells, ``record_id``, ``_row``).

    Exact duplicates are compared on the raw text of every mapped field (and the id, when it comes from an id
    column), in every kind but ``other`` (which keeps every row). The id is compared cleaned, on the rows that are
    no exact duplicate. For an orders source with an id column, ``grain`` (``auto`` / ``order`` / ``line``, the
    source's ``grain`` setting) decides whether a repeated id is a duplicate or the next line of its order; ``auto``
    takes ``line`` when at least half the repeated ids (and at least one) look like lines: their rows share the
    order time (when mapped) and differ in sku — or, without a mapped sku, in quantity, amount or price.
    """
    rows = raw[ROW]
    if kind == "other":
        return RepeatedRows(exact=_no_rows(), duplicates=_no_rows(), lines=_no_rows())
    fields = [c for c in raw.columns if c not in ("source", ROW) and (has_id_column or c != "record_id")]
    fields.sort(key=lambda c: (c != "record_id", c not in TIME_FIELDS))  # the selective columns first
    exact = _exact_duplicates(raw[fields], rows) if fields else _no_rows()
    if not has_id_column:
        return RepeatedRows(exact=exact, duplicates=_no_rows(), lines=_no_rows())
    ids = nz.code_series(raw["record_id"])
    with_id = (ids.notna() & ~rows.isin(exact.index)).to_numpy()
    id_code = np.where(with_id, _codes(ids), -1)
    repeated = with_id & pd.Series(id_code).duplicated(keep=False).to_numpy()
    chosen, detected, n_repeated, n_lines = None, False, 0, 0
    if kind == "orders":
        groups = id_code[repeated]
        index = pd.Index(pd.unique(groups))
        n_repeated = len(index)
        if n_repeated:
            same_time = pd.Series(True, index=index)
            if "order_time" in raw:
                same_time = _distinct_per_group(groups, raw["order_time"][repeated]).reindex(index) == 1
            differ = pd.Series(False, index=index)
            for column in ["sku"] if "sku" in raw else [c for c in LINE_FIELDS if c in raw]:
                differ |= _distinct_per_group(groups, raw[column][repeated]).reindex(index) > 1
            n_lines = int((same_time & differ).sum())
        chosen, detected = grain, grain == "auto"
        if grain == "auto":
            chosen = "line" if n_lines and 2 * n_lines >= n_repeated else "order"
    if chosen == "line":
        numbered = pd.Series(id_code[with_id]).groupby(id_code[with_id], sort=False).cumcount() + 1
        lines = pd.Series(numbered.to_numpy(), index=rows.to_numpy(dtype="int64")[with_id], dtype="int64")
        return RepeatedRows(exact=exact, duplicates=_no_rows(), lines=lines, grain="line", detected=detected,
                            repeated=n_repeated, line_like=n_lines)
    duplicates = _first_row(id_code[repeated], rows[repeated])
    return RepeatedRows(exact=exact, duplicates=duplicates, lines=_no_rows(), grain=chosen, detected=detected,
                        repeated=n_repeated, line_like=n_lines)

def clean_source(raw: pd.DataFrame, *, name: str, kind: str, as_of: dt.date, earliest: dt.date,
                 has_id_column: bool, region: str = "CN", duplicates: RepeatedRows | None = None,
                 timezone: str = DEFAULT_TIMEZONE, decimal_separator: str = ".",
                 thousands_separator: str = ",", grain: str = "auto") -> CleanSource:
    """Normalize every mapped field of one source and split off the rows that cannot be used.

    Args:
        raw: the source's canonical frame (``digiops.sources.canonical_frame``): text cells, ``record_id``, ``_row``.
        name, kind: the source's name and kind in the engagement file.
        as_of: dates after this day are in the future.
        earliest: dates before this day are invalid.
        has_id_column: whether ``record_id`` comes from an id column (then it must be present, and unique unless
            the source is a line-grain orders source).
        region: phone-number region for numbers without a country code.
        duplicates: when ``raw`` is a slice of a source, :func:`duplicate_rows` of the whole source, so an exact
            duplicate, a duplicate id and the lines of an order are found across slices.
        timezone: times with a UTC offset are converted to this zone (an IANA name) and kept naive.
        decimal_separator, thousands_separator: how the source writes numbers (``thousands_separator`` may be
            :data:`digiops.merge.normalize.NO_SEPARATOR`).
        grain: an orders source's ``grain`` setting (``auto`` / ``order`` / ``line``), when ``duplicates`` is not
            given.

    The lines of a line-grain orders source are all kept: ``_order`` is the order number they share, ``line`` the
    line's number within it, and ``record_id`` stays unique (``O1``, ``O1#2``, ``O1#3``).

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
        if column == "full_name":  # with name_kind; a nickname, placeholder, proxy or masked name is no name
            for name_column, cleaned in nz.name_columns(frame[column]).items():
                out[name_column] = cleaned
        elif column in NAME_FIELDS:
            out[column] = nz.name_series(frame[column])
        elif column == "phone":  # phone, phone_masked, phone_virtual, phone_kind; blank text is no phone
            for phone_column, cleaned in nz.phone_columns(frame[column], region).items():
                out[phone_column] = cleaned
        elif column == "email":
            out[column] = nz.map_distinct(values, nz.normalize_email)
        elif column == "national_id":
            out[column] = nz.map_distinct(values, nz.normalize_national_id)
        elif column == "gender":
            out[column] = nz.map_distinct(values, nz.normalize_gender)
        elif column == "postcode":
            out[column] = nz.map_distinct(values, nz.normalize_postcode)
        elif column in ("street", "street_number"):
            out[column] = nz.street_series(values)
        elif column in CODE_FIELDS:
            out[column] = nz.code_series(frame[column])  # blank text is no code
        elif column == "birth_date":
            parsed = parse_dates(values, timezone)
            ok = parsed.notna() & (parsed < future) & (parsed >= oldest)
            out[column] = parsed.where(ok).dt.date.astype(object).where(ok, None)
        elif column in TIME_FIELDS:
            parsed = parse_dates(values, timezone)
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
    if duplicates is None:
        duplicates = duplicate_rows(frame, kind=kind, has_id_column=has_id_column, grain=grain)
    problems.append(_quarantine(name, out, out[ROW].isin(duplicates.exact.index), "*",
                                lambda hit: "exact duplicate (of row "
                                + hit[ROW].map(duplicates.exact).astype(str) + ")"))
    if has_id_column:
        missing = out["record_id"].isna()
        problems.append(_quarantine(name, out, missing, "record_id", "missing id"))
        problems.append(_quarantine(name, out, ~missing & out[ROW].isin(duplicates.duplicates.index), "record_id",
                                    lambda hit: "duplicate id (first on row "
                                    + hit[ROW].map(duplicates.duplicates).astype(str) + ")"))
        if duplicates.grain == "line":
            line = out[ROW].map(duplicates.lines).astype("Int64")
            later = (line > 1).fillna(False).to_numpy(dtype=bool)
            ids = out["record_id"].astype(object)
            out["_order"] = out["record_id"]
            out["line"] = line
            out["record_id"] = ids.where(~later, ids + "#" + line.astype(str)).astype(out["_order"].dtype)
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
