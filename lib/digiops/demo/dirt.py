"""Vectorized dirt: each function takes clean values (numpy / pandas) and a random generator, and returns the
values as a client's system would have written them. Rates come from :class:`~digiops.demo.config.DirtRates`.

Example:
    >>> import numpy as np
    >>> to_fullwidth(pd.Series(["+86 138-0013-8000"])).iloc[0]
    '＋８６\\u3000１３８－００１３－８０００'
    >>> format_amount(np.array([123450, -880]), np.array([True, False])).tolist()
    ['¥1,234.50', '-8.80']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from digiops.demo.reference import PHONE_PLACEHOLDERS

_FULLWIDTH = str.maketrans({**{chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}, " ": "\u3000"})
IDEOGRAPHIC_SPACE = "\u3000"


def text(values) -> pd.Series:
    """Numbers or objects as a string Series."""
    return pd.Series(np.asarray(values)).astype("str")


def zpad(values: np.ndarray, width: int) -> pd.Series:
    return text(values).str.zfill(width)


def where(mask: np.ndarray, a: pd.Series, b: pd.Series) -> pd.Series:
    """``a`` where ``mask``, else ``b`` (both string Series of the same length)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return b.copy()
    # Arrow's if_else in C: pandas' positional assignment into an Arrow string column copied it row by row
    left, right = pa.array(a), pa.array(b)
    if left.type != right.type:
        left, right = left.cast(pa.large_string()), right.cast(pa.large_string())
    return pd.Series(pc.if_else(pa.array(mask), left, right), dtype="str")


def patch(mask: np.ndarray, values: pd.Series, make) -> pd.Series:
    """``values`` with the rows under ``mask`` replaced by ``make(values[mask])`` (computed on those rows only)."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return values
    out = values.to_numpy(dtype=object, copy=True)
    out[idx] = make(values.iloc[idx].reset_index(drop=True)).to_numpy(dtype=object)
    return pd.Series(out, dtype="str")


def to_fullwidth(values: pd.Series) -> pd.Series:
    """ASCII letters, digits, signs and spaces as their full-width forms (what NFKC undoes)."""
    return values.str.translate(_FULLWIDTH)


def pick(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    return rng.random(n) < rate


def format_phone(phone: np.ndarray, rng: np.random.Generator, rates, *,
                 allow_broken: bool = True) -> tuple[pd.Series, np.ndarray]:
    """Phones (int64, 11 digits) as written in an export, and the mask of rows whose phone is unusable.

    Variants (``rates.phone_variant``): ``+86 138-0013-8000``, ``8613800138000``, ``138 0013 8000``,
    ``138-0013-8000``, ``+8613800138000``; full-width (``rates.fullwidth``); one digit dropped
    (``rates.phone_missing_digit``); placeholders (``rates.phone_placeholder``).
    """
    n = len(phone)
    plain = text(phone)
    a, b, c = plain.str.slice(0, 3), plain.str.slice(3, 7), plain.str.slice(7, 11)
    variants = [
        "+86 " + a + "-" + b + "-" + c,
        "86" + plain,
        a + " " + b + " " + c,
        a + "-" + b + "-" + c,
        "+86" + plain,
    ]
    which = rng.integers(0, len(variants), n)
    varied = pick(rng, n, rates.phone_variant)
    out = plain.copy()
    for k, variant in enumerate(variants):
        out = where(varied & (which == k), variant, out)
    out = patch(pick(rng, n, rates.fullwidth), out, to_fullwidth)
    broken = np.zeros(n, dtype=bool)
    if allow_broken:
        missing = pick(rng, n, rates.phone_missing_digit)
        cut = rng.integers(3, 11, n)
        shortened = plain
        for k in range(3, 11):
            shortened = where(cut == k, plain.str.slice(0, k) + plain.str.slice(k + 1, 11), shortened)
        out = where(missing, shortened, out)
        placeholder = pick(rng, n, rates.phone_placeholder) & ~missing
        holders = pd.Series(np.asarray(PHONE_PLACEHOLDERS, dtype=object)[rng.integers(0, len(PHONE_PLACEHOLDERS), n)],
                            dtype="str")
        out = where(placeholder, holders, out)
        broken = missing | placeholder
    return out, broken


def mask_phone(values: pd.Series) -> pd.Series:
    """138****8000, as carriers print on a waybill."""
    return values.str.slice(0, 3) + "****" + values.str.slice(7, 11)


def format_amount(cents: np.ndarray, formatted: np.ndarray) -> pd.Series:
    """Cents as ``123.50``; where ``formatted``, as ``¥1,234.50`` (half the time ``￥``, thousands separated)."""
    sign = np.where(cents < 0, "-", "")
    magnitude = np.abs(cents)
    yuan, fen = magnitude // 100, magnitude % 100
    plain_yuan = text(yuan)
    grouped = where(yuan >= 1000, text(yuan // 1000) + "," + zpad(yuan % 1000, 3), plain_yuan)
    fraction = "." + zpad(fen, 2)
    symbol = np.where(np.arange(len(cents)) % 2 == 0, "¥", "￥")
    plain = text(sign) + plain_yuan + fraction
    fancy = text(sign) + text(symbol) + grouped + fraction
    return where(formatted, fancy, plain)


def format_datetime(moments: np.ndarray, rng: np.random.Generator, rate: float, *,
                    date_only: bool = False) -> pd.Series:
    """datetime64 values as ISO text, or (at ``rate``) as ``2025/5/3 14:22``, ``20250503142201`` or
    ``2025年5月3日 14:22``; dates alone as ``2025/5/3``, ``20250503``, ``2025年5月3日``."""
    n = len(moments)
    stamps = pd.DatetimeIndex(moments)
    iso = pd.Series(np.datetime_as_string(np.asarray(moments, dtype="datetime64[s]"), unit="s"),
                    dtype="str").str.replace("T", " ", regex=False)
    mixed = pick(rng, n, rate)
    which = rng.integers(0, 3, n)
    if date_only:
        iso = iso.str.slice(0, 10)

    def variants(idx: np.ndarray) -> pd.Series:
        sub, kind = stamps[idx], which[idx]
        y, m, d = text(sub.year), text(sub.month), text(sub.day)
        hh, mm = zpad(sub.hour.to_numpy(), 2), zpad(sub.minute.to_numpy(), 2)
        compact = iso.iloc[idx].reset_index(drop=True).str.replace(r"[-: ]", "", regex=True)
        if date_only:
            options = [y + "/" + m + "/" + d, compact.str.slice(0, 8), y + "年" + m + "月" + d + "日"]
        else:
            options = [y + "/" + m + "/" + d + " " + hh + ":" + mm, compact,
                       y + "年" + m + "月" + d + "日 " + hh + ":" + mm]
        out = options[0]
        for k in (1, 2):
            out = where(kind == k, options[k], out)
        return out

    idx = np.flatnonzero(mixed)
    if not len(idx):
        return iso
    out = iso.to_numpy(dtype=object, copy=True)
    out[idx] = variants(idx).to_numpy(dtype=object)
    return pd.Series(out, dtype="str")


def duplicate_rows(frame: pd.DataFrame, rng: np.random.Generator, rate: float) -> pd.DataFrame:
    """Repeat a share of rows exactly, right after the original (an export glitch)."""
    repeats = 1 + pick(rng, len(frame), rate).astype(int)
    return frame.iloc[np.repeat(np.arange(len(frame)), repeats)].reset_index(drop=True)


def mask_name(surname: pd.Series, given_length: np.ndarray) -> pd.Series:
    """张* / 张** / 欧阳*: the surname kept, one star per given-name character, as platforms desensitise a
    receiver."""
    return surname + text(np.where(given_length >= 2, "**", "*"))


def phone_as_number(phone: np.ndarray, kind: np.ndarray) -> pd.Series:
    """Phones (int64) as a spreadsheet or a float column wrote them: ``kind`` 1 → ``13812345678.0``, 2 →
    ``1.3812345678E+10`` (every digit), 3 → ``1.38123E+10`` (six significant digits, rounded: not recoverable).

    Example:
        >>> phone_as_number(np.array([13812345678, 13800138000, 13812345678]), np.array([1, 2, 3])).tolist()
        ['13812345678.0', '1.3800138E+10', '1.38123E+10']
    """
    plain = text(phone)
    rounded = text((phone + 50_000) // 100_000)

    def scientific(digits: pd.Series) -> pd.Series:
        fraction = digits.str.slice(1).str.rstrip("0")
        exponent = "E+" + text(plain.str.len() - 1)
        return where((fraction != "").to_numpy(), digits.str.slice(0, 1) + "." + fraction + exponent,
                     digits.str.slice(0, 1) + exponent)

    out = where(kind == 1, plain + ".0", plain)
    out = where(kind == 2, scientific(plain), out)
    return where(kind == 3, scientific(rounded), out)


def privacy_phone(base: np.ndarray, extension: np.ndarray, separator: np.ndarray) -> pd.Series:
    """A platform's privacy number and its extension: ``17012345678-1234``, ``17012345678转1234``."""
    return text(base) + text(separator) + zpad(extension, 4)
