"""Dates and times in source values: the one parser of every spelling a client's export uses.

The inventory (a source's date range), the merge (registration and order times) and the KPI review (actuals by
month, the funnel's events) read source times through :func:`parse_dates`, so a value means the same time in every
stage. Spellings: ISO dates and times, ``2025/5/1``, ``2025年5月1日``, ``20250501``, Excel serial days (``45778``);
a time with a UTC offset or ``Z`` is converted to the engagement's time zone (``merge.timezone``) and kept, like
every time without one, as the naive wall-clock time there; a date that does not exist is missing, never guessed.

Example:
    >>> import pandas as pd
    >>> parse_dates(pd.Series(["2025年5月1日", "2025-05-05T06:54:04Z", "45778", "2025-02-30"])).tolist()
    [Timestamp('2025-05-01 00:00:00'), Timestamp('2025-05-05 14:54:04'), Timestamp('2025-05-01 00:00:00'), NaT]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.text_columns import SPACES_RE2, arrow_text, blank_to_null, fullmatch, normalized_text, text_column

#: The time zone times are kept in when the engagement names none (``merge.timezone``).
DEFAULT_TIMEZONE = "Asia/Shanghai"
_ISO_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ISO_CLOCK = r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
#: What Arrow's strict ISO 8601 cast reads in one pass: a day, with a clock time after a space or ``T``…
ISO_NAIVE = rf"{_ISO_DAY}([ T]{_ISO_CLOCK})?"
#: … and the same with a UTC offset or ``Z`` (``2025-05-05T14:54:04+08:00``).
ISO_ZONED = rf"{_ISO_DAY}[ T]{_ISO_CLOCK}(Z|[+-][0-9]{{2}}(:?[0-9]{{2}})?)"
#: A UTC offset or ``Z`` after a clock time, at the end of a text :func:`_date_texts` made ISO-like.
_ZONE_SUFFIX = r"[0-9]:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)$"
#: A placeholder that keeps the decimal point of fractional seconds (``:04.123``) and of an Excel serial with a
#: time (``45778.5``) from becoming a date separator: NFKC makes this character a full stop, so no text has it.
_POINT = "\u2024"
#: The single characters of Chinese and slashed spellings, and what :func:`_date_texts` makes of them (in this
#: order: the point placeholder last, once the other points are dashes).
_DATE_CHARACTERS = (("年", "-"), ("月", "-"), ("/", "-"), (".", "-"), ("日", " "), ("号", " "), ("时", ":"),
                    ("点", ":"), ("分", ":"), ("秒", ""), (_POINT, "."))
#: Day 0 of the serial day numbers Excel writes for dates (``45778`` is 2025-05-01).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def normalize_date(value: object, timezone: str = DEFAULT_TIMEZONE) -> pd.Timestamp | None:
    """One value of many formats: ISO, ``2025/5/1``, ``2025年5月1日``, ``20250501``, ``01/05/2025`` is not
    accepted (day/month order is ambiguous), Excel serial days (``45778``); ``None`` when it does not parse.

    A time with a UTC offset or ``Z`` (``2025-05-05T14:54:04+08:00``) is converted to ``timezone`` and kept,
    like every time without one, as the wall-clock time there (naive).

    >>> normalize_date("2025-05-05T06:54:04Z"), normalize_date("2025-05-05 14:54:04.5")
    (Timestamp('2025-05-05 14:54:04'), Timestamp('2025-05-05 14:54:04.500000'))
    """
    result = parse_dates(pd.Series([value], dtype=object), timezone).iloc[0]
    return None if pd.isna(result) else result


def _nanoseconds(parsed: pd.Series) -> np.ndarray:
    """Parsed dates as ``datetime64[ns]``; a date outside its range (before 1677 or after 2262: ``9999-12-31``)
    is no date, rather than a wrapped-around one."""
    inside = parsed.between(pd.Timestamp.min, pd.Timestamp.max)
    return parsed.where(inside).to_numpy(dtype="datetime64[ns]")


def _wall_clock(stamps: pd.Series, timezone: str) -> pd.Series:
    """UTC times as the naive wall-clock time in ``timezone``."""
    return stamps.dt.tz_convert(timezone).dt.tz_localize(None)


def _iso_nanoseconds(values: pd.Series) -> np.ndarray:
    """Zero-padded ISO dates and times (:data:`ISO_NAIVE`) as ``datetime64[ns]``: Arrow's strict ISO 8601 cast
    when every value is a real date in range (the usual case), else pandas, which makes the impossible ones
    (``2025-02-30``) NaT."""
    import pyarrow as pa

    try:
        return arrow_text(values).cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _nanoseconds(pd.to_datetime(values.astype("str"), format="ISO8601", errors="coerce"))


def _iso_zoned_nanoseconds(values: pd.Series, timezone: str) -> np.ndarray:
    """ISO times with an offset (:data:`ISO_ZONED`) as ``datetime64[ns]`` wall-clock times in ``timezone``: Arrow's
    cast to UTC in one pass, else pandas (impossible dates NaT)."""
    import pyarrow as pa

    try:
        stamps = arrow_text(values).cast(pa.timestamp("ns", "UTC")).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        stamps = pd.to_datetime(values.astype("str"), format="ISO8601", errors="coerce", utc=True)
    return _nanoseconds(_wall_clock(pd.Series(stamps), timezone))


def parse_dates(values: pd.Series, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    """Vectorised :func:`normalize_date` over a column: ISO dates and times in one pass (with or without a UTC
    offset), every other spelling parsed once per distinct value."""
    naive = fullmatch(values, ISO_NAIVE)
    zoned = np.zeros(len(values), dtype=bool)
    if not naive.all():  # the usual column has no offset: one regex pass
        zoned[~naive] = fullmatch(values[~naive], ISO_ZONED)
    fast = naive | zoned
    if fast.any():
        out = pd.Series(np.datetime64("NaT"), index=values.index, dtype="datetime64[ns]")
        if naive.any():
            out[naive] = _iso_nanoseconds(values[naive])
        if zoned.any():
            out[zoned] = _iso_zoned_nanoseconds(values[zoned], timezone)
        if not fast.all():
            out[~fast] = _parse_dates_distinct(values[~fast], timezone).to_numpy()
        return out
    return _parse_dates_distinct(values, timezone)


def _date_texts(values: pd.Series) -> pd.Series:
    """Date spellings made ISO-like for parsing: normalized text, ``年月/.`` → ``-`` (not the point of
    fractional seconds), ``日号`` → space, ``时点分`` → ``:``, ``秒`` dropped, whitespace collapsed, `` :-T``
    trimmed, no space before a UTC offset (Arrow kernels, no Python call per value; single characters are literal
    replacements, three times faster than a regular expression, and the rarer patterns only see the values that
    hold their mark)."""
    import pyarrow.compute as pc

    array = normalized_text(values)
    array = _on_match(array, ".", lambda part: pc.replace_substring_regex(
        pc.replace_substring_regex(part, r"(:[0-9]{2})\.([0-9])", rf"\1{_POINT}\2"),
        r"^([0-9]{5})\.([0-9]+)$", rf"\1{_POINT}\2"))
    for character, replacement in _DATE_CHARACTERS:
        array = pc.replace_substring(array, character, replacement)
    array = pc.utf8_trim(pc.replace_substring_regex(array, SPACES_RE2, " "), " :-T")
    offset = r"([0-9]) ([+-][0-9]{2}(:?[0-9]{2})?|Z)$"
    array = _on_match(array, offset, lambda part: pc.replace_substring_regex(part, offset, r"\1\2"), regex=True)
    return text_column(blank_to_null(array), values.index)


def _on_match(array, pattern: str, change, *, regex: bool = False):
    """``change`` applied to the values of an Arrow string array that contain ``pattern`` (a literal, or a regular
    expression with ``regex``), the others as they are."""
    import pyarrow.compute as pc

    find = pc.match_substring_regex if regex else pc.match_substring
    hit = pc.fill_null(find(array, pattern), False)
    if not pc.any(hit).as_py():
        return array
    return pc.replace_with_mask(array, hit, change(array.filter(hit)))


def _iso_texts(texts: pd.Series, timezone: str) -> pd.Series:
    """ISO-like texts (:func:`_date_texts`) as naive times: those with a UTC offset converted to ``timezone``,
    the others as written; NaT for what does not parse. (Parsed as UTC in one pass: a column of mixed offsets,
    or of times with and without one, is no error.)"""
    stamps = pd.to_datetime(texts, format="ISO8601", errors="coerce", utc=True)
    zoned = texts.str.contains(_ZONE_SUFFIX).fillna(False).to_numpy(dtype=bool)
    wall = stamps.dt.tz_localize(None)
    if zoned.any():
        wall[zoned] = _wall_clock(stamps[zoned], timezone).to_numpy()
    return wall


def _parse_dates_distinct(values: pd.Series, timezone: str = DEFAULT_TIMEZONE) -> pd.Series:
    import pyarrow.compute as pc

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    texts = _date_texts(pd.Series(uniques))
    parsed = _iso_texts(texts, timezone)
    # "2025-5-1 9:05": ISO8601 wants zero-padding; pad every lone digit and try again (twice: a match takes the
    # separator after its digit, so the next lone digit waits for the second pass).
    todo = parsed.isna() & texts.notna()
    if todo.any():
        padded = arrow_text(texts[todo])
        for _ in range(2):
            padded = pc.replace_substring_regex(padded, r"(^|[^0-9.])([0-9])([^0-9]|$)", r"\10\2\3")
        parsed[todo] = _iso_texts(text_column(padded, texts.index[todo]), timezone).to_numpy()
    todo = parsed.isna() & texts.notna()
    if todo.any():
        compact = texts[todo]
        for pattern, fmt in ((r"(19|20)\d{6}", "%Y%m%d"), (r"(19|20)\d{10}", "%Y%m%d%H%M"),
                             (r"(19|20)\d{12}", "%Y%m%d%H%M%S")):
            hit = compact.str.fullmatch(pattern)
            if hit.any():
                parsed[todo & hit.reindex(texts.index, fill_value=False)] = pd.to_datetime(
                    compact[hit], format=fmt, errors="coerce")
        serial = compact.str.fullmatch(r"\d{5}(\.\d+)?")
        if serial.any():
            days = compact[serial].astype(float)
            parsed[todo & serial.reindex(texts.index, fill_value=False)] = (
                _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")).where(days.between(10000, 80000))
    mapped = np.empty(len(uniques) + 1, dtype="datetime64[ns]")
    mapped[:-1] = _nanoseconds(parsed)
    mapped[-1] = np.datetime64("NaT")
    return pd.Series(mapped[codes], index=values.index)
