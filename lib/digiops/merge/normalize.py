"""Normalizers: one raw text value in, one canonical value (or ``None`` when it is not valid) out.

Each ``normalize_*`` function takes one value; each ``*_series`` function applies it to the *distinct* values of a
column once and maps the result back, so a million rows cost as many calls as there are distinct values.

Seed 002 ("dirty data"): exports from Chinese systems carry full-width characters, ideographic spaces (U+3000),
phones as ``+86 138-0013-8000`` / ``8613800138000`` / ``138 0013 8000``, Traditional characters, several date
formats and amounts like ``¥1,299.00``. NFKC comes first everywhere.

Examples:
    >>> normalize_text("　张 三\\u200b ")
    '张 三'
    >>> normalize_phone("＋８６ １３８-００１３-８０００"), normalize_phone("13800000000")
    ('+8613800138000', None)
    >>> normalize_name("張 偉"), name_keys("曾小明")
    ('张伟', ['zengxiaoming', 'cengxiaoming'])
    >>> normalize_amount("¥1,299.50"), normalize_date("2025年5月1日")
    (Decimal('1299.50'), Timestamp('2025-05-01 00:00:00'))
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_PUNCT_NAME = re.compile(r"[·•.\-_'’,，()（）]")

#: Polyphonic surnames: every reading is kept (DOMAIN §1), the usual surname reading first.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "曾": ("zeng", "ceng"), "单": ("shan", "dan"), "解": ("xie", "jie"), "区": ("ou", "qu"),
    "仇": ("qiu", "chou"), "朴": ("piao", "pu"), "查": ("zha", "cha"), "盖": ("ge", "gai"),
    "乐": ("yue", "le"), "尉": ("yu", "wei"), "秘": ("bi", "mi"), "长": ("chang", "zhang"),
    "重": ("chong", "zhong"), "缪": ("miao", "mou"), "翟": ("zhai", "di"), "沈": ("shen",), "覃": ("qin", "tan"),
}
COMPOUND_SURNAMES = frozenset({"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "司徒",
                               "令狐", "夏侯", "长孙", "宇文", "轩辕", "澹台", "西门", "南宫", "端木", "独孤"})
PLACEHOLDER_TAILS = ("12345678", "87654321")
GENDER_WORDS = {"男": "M", "m": "M", "male": "M", "先生": "M", "1": "M",
                "女": "F", "f": "F", "female": "F", "女士": "F", "2": "F"}
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


# --- helpers ------------------------------------------------------------------------------------------------------
def is_missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def map_distinct(values: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply ``func`` once per distinct non-missing value and map the results back (missing stays missing).

    Text results come back as Arrow-backed text (``str``, missing as NaN), put together in Arrow without a Python
    object per row; other results (amounts, numbers) as Python objects with ``None`` for missing."""
    import pyarrow as pa

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = [func(u) for u in uniques]
    if all(r is None or isinstance(r, str) for r in found):
        taken = pa.array(found, type=pa.string()).take(pa.array(codes, mask=codes < 0))
        return text_column(taken, values.index)
    results = np.empty(len(uniques) + 1, dtype=object)
    results[:-1] = found
    results[-1] = None
    return pd.Series(results[codes], index=values.index, dtype=object)


def _fullmatch(values: pd.Series, pattern: str) -> np.ndarray:
    """Which values match ``pattern`` entirely (Arrow's regex engine, no Python call per value)."""
    return values.astype("str").str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)


#: Printable ASCII without spaces: NFKC, whitespace collapsing and zero-width removal leave such text unchanged.
PLAIN_ASCII = r"[!-~]+"


def map_distinct_except(values: pd.Series, func: Callable[[str], object], plain: str, *,
                        plain_func: Callable[[pd.Series], pd.Series] | None = None) -> pd.Series:
    """:func:`map_distinct`, except that values matching the regex ``plain`` are known to normalize to themselves
    (or to ``plain_func`` of themselves, a vectorized function): only the others pay a Python call each."""
    fast = _fullmatch(values, plain)
    if not fast.any():
        return map_distinct(values, func)
    text = values.astype("str")
    out = text.where(fast)
    if plain_func is not None:
        out[fast] = plain_func(text[fast]).to_numpy()
    if not fast.all():
        out[~fast] = map_distinct(values[~fast], func).to_numpy()
    return out


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _traditional_characters() -> frozenset[str]:
    """Every character OpenCC's ``t2s`` would change. Only TSCharacters matters: its phrase table exists to keep
    characters *unchanged* in some words (乾隆), so text without one of these characters converts to itself."""
    import opencc

    table = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    found = set()
    for line in table.read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if key and values.split(" ")[0] != key:
            found.add(key)
    return frozenset(found)


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC ``t2s``); text without a Traditional character passes unchanged.

    The pure-Python converter costs tens of microseconds a string; most client text is already Simplified, so the
    set test in front of it saves almost all of that.

    >>> to_simplified("張偉"), to_simplified("张伟"), to_simplified("Zhang Wei")
    ('张伟', '张伟', 'Zhang Wei')
    """
    return text if _traditional_characters().isdisjoint(text) else _t2s().convert(text)


@lru_cache(maxsize=1)
def _traditional_re2() -> str:
    """An RE2 character class of every character :func:`to_simplified` would change."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in sorted(_traditional_characters())) + "]"


def simplified_array(values):
    """:func:`to_simplified` over an Arrow string array: only values with a Traditional character pay OpenCC."""
    import pyarrow as pa
    import pyarrow.compute as pc

    needs = pc.fill_null(pc.match_substring_regex(values, _traditional_re2()), False)
    if not pc.any(needs).as_py():
        return values
    converted = [_t2s().convert(text) for text in values.filter(needs).to_pylist()]
    return pc.replace_with_mask(values, needs, pa.array(converted, type=pa.string()))


_CJK_RE2 = "[\\x{3400}-\\x{9fff}\\x{f900}-\\x{faff}]"


def cjk_array(values):
    """Which values of an Arrow string array contain a Chinese character (:func:`has_cjk`); false for null."""
    import pyarrow.compute as pc

    return pc.fill_null(pc.match_substring_regex(values, _CJK_RE2), False)


# --- text ---------------------------------------------------------------------------------------------------------
def normalize_text(value: object) -> str | None:
    """NFKC, zero-width characters removed, every kind of whitespace (incl. U+3000) collapsed to one space."""
    if is_missing(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).translate(_ZERO_WIDTH)
    text = _SPACES.sub(" ", text).strip()
    return text or None


#: What Python's ``str.split()`` and ``\\s`` take for whitespace, in RE2 (Arrow's regex engine).
_SPACES_RE2 = r"[\s\x{0b}\x{1c}-\x{1f}\x{85}\p{Z}]+"
_ZERO_WIDTH_RE2 = "[\u200b\u200c\u200d\u2060\ufeff]"
#: Text that :func:`normalize_text` may change: anything but printable ASCII and CJK Unified Ideographs (which
#: NFKC leaves alone and which hold no zero-width character or other space), a double space, an outer space.
_NOT_PLAIN_RE2 = r"[^\x{20}-\x{7e}\x{4e00}-\x{9fff}]|  |^ | $"


def arrow_text(values: pd.Series):
    """A column as one Arrow string array, null for missing (no copy when the column is Arrow-backed text)."""
    import pyarrow as pa

    array = pa.array(values.astype("str"), from_pandas=True)
    return (array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array).cast(pa.string())


def _text_array(values: pd.Series):
    """:func:`normalize_text` over a column in Arrow's C++ kernels (no Python call per value), as an Arrow array;
    null for missing and blank values."""
    import pyarrow.compute as pc

    array = arrow_text(values)
    odd = pc.fill_null(pc.match_substring_regex(array, _NOT_PLAIN_RE2), False)
    if pc.any(odd).as_py():  # only text the rules can change pays for them (NFKC costs most)
        part = pc.utf8_normalize(array.filter(odd), "NFKC")
        part = pc.replace_substring_regex(part, _ZERO_WIDTH_RE2, "")
        part = pc.utf8_trim(pc.replace_substring_regex(part, _SPACES_RE2, " "), " ")
        array = pc.replace_with_mask(array, odd, part)
    return blank_to_null(array)


def blank_to_null(array):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def text_column(array, index: pd.Index | None = None) -> pd.Series:
    """An Arrow text array as an Arrow-backed ``str`` column (no copy; null becomes missing)."""
    return pd.Series(pd.array(array, dtype="str"), index=index)


def text_series(values: pd.Series, *, simplified: bool = False) -> pd.Series:
    """:func:`normalize_text` over a column (Arrow's kernels), as Arrow-backed text, missing for missing and blank
    values. With ``simplified``, Traditional characters are also made Simplified (:func:`to_simplified`)."""
    array = _text_array(values)
    return text_column(simplified_array(array) if simplified else array, values.index)


def normalize_code(value: object) -> str | None:
    """Identifiers (member card, sku, order number): NFKC text without any whitespace."""
    text = normalize_text(value)
    return text.replace(" ", "") if text else None


# --- phone --------------------------------------------------------------------------------------------------------
def is_placeholder_number(national: str) -> bool:
    """Numbers people type when they will not give theirs: ``13800000000``, ``13888888888``, ``13912345678``."""
    tail = national[-8:]
    return len(set(tail)) == 1 or tail in PLACEHOLDER_TAILS or len(set(national)) <= 2


def normalize_phone(value: object, region: str = "CN") -> str | None:
    """E.164 (``+8613800138000``) via ``phonenumbers``; ``None`` for invalid or placeholder numbers."""
    digits = _phone_digits(value, region)
    return _e164(digits, region) if digits else None


def _phone_digits(value: object, region: str = "CN") -> str | None:
    """What :func:`normalize_phone` hands to ``phonenumbers``: the digits (``+86`` added to a bare ``86…``), or
    the text when it has none; ``None`` for nothing, or for a number masked with ``*`` (``138****8000``: carriers
    hide the middle digits, what is left is no phone number)."""
    text = normalize_text(value)
    if not text or "*" in text:
        return None
    digits = re.sub(r"[^\d+]", "", text)
    if region == "CN" and not digits.startswith("+"):
        bare = digits.lstrip("0")
        if bare.startswith("86") and len(bare) == 13:
            digits = "+" + bare
    return digits or text


@lru_cache(maxsize=1 << 20)
def _e164(digits: str, region: str) -> str | None:
    """One ``phonenumbers`` parse per distinct digit string (many raw spellings share one number)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if is_placeholder_number(str(number.national_number)):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# --- email --------------------------------------------------------------------------------------------------------
def normalize_email(value: object) -> str | None:
    """Lower-cased, whitespace removed, syntactically valid (``None`` otherwise)."""
    text = normalize_text(value)
    if not text:
        return None
    text = text.replace(" ", "").lower()
    return text if _EMAIL.match(text) else None


# --- names --------------------------------------------------------------------------------------------------------
def normalize_name(value: object) -> str | None:
    """A person's name: NFKC, Traditional → Simplified; Chinese names lose all whitespace and dots, Latin names
    keep single spaces between words, title-cased."""
    text = normalize_text(value)
    if not text:
        return None
    if has_cjk(text):
        compact = _PUNCT_NAME.sub("", text.replace(" ", ""))
        return to_simplified(compact) or None
    words = _PUNCT_NAME.sub(" ", text).split()
    return " ".join(w.capitalize() for w in words) or None


_PUNCT_NAME_RE2 = "[·•.\\-_'’,，()（）]"


def _by_script(values: pd.Series, chinese: str, latin: Callable[[str], str | None]) -> pd.Series:
    """Normalized text (:func:`_text_array`) whose Chinese values lose their spaces and the characters of the RE2
    class ``chinese`` and become Simplified, in Arrow's kernels; the other values go through ``latin`` once per
    distinct value."""
    import pyarrow.compute as pc

    text = _text_array(values)
    cjk = cjk_array(text)
    compact = pc.replace_substring(text, " ", "")
    if chinese:
        compact = pc.replace_substring_regex(compact, chinese, "")
    out = text_column(blank_to_null(pc.if_else(cjk, simplified_array(compact), text)), values.index)
    others = ~cjk.to_numpy(zero_copy_only=False) & out.notna().to_numpy()
    if others.any():
        out[others] = map_distinct(out[others], latin).to_numpy()
    return out


def name_series(values: pd.Series) -> pd.Series:
    """:func:`normalize_name` over a column: Chinese names in Arrow's kernels, Latin ones once per distinct value."""
    return _by_script(values, _PUNCT_NAME_RE2, normalize_name)


@lru_cache(maxsize=65536)
def _char_pinyin(char: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(char, style=Style.NORMAL, errors="ignore")[0] if has_cjk(char) else char.lower()


def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.findall(r"[a-z0-9]+", folded)


COMMON_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
                   "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
                   "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
                   "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司"
                   "卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁"
                   "沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝区朴萧")
HONORIFICS = ("先生", "女士", "小姐", "太太", "老师", "同学", "阿姨", "师傅")


@lru_cache(maxsize=1)
def surname_pinyins() -> tuple[str, ...]:
    """Pinyin of common surnames (every reading, compound surnames too), longest first."""
    readings = {r for c in COMMON_SURNAMES for r in SURNAME_READINGS.get(c, (_char_pinyin(c),))}
    readings |= {r for rs in SURNAME_READINGS.values() for r in rs}
    readings |= {"".join(_char_pinyin(c) for c in compound) for compound in COMPOUND_SURNAMES}
    return tuple(sorted(readings, key=lambda r: (-len(r), r)))


@lru_cache(maxsize=1)
def _surname_pinyin_set() -> frozenset[str]:
    return frozenset(surname_pinyins())


@lru_cache(maxsize=1)
def _surname_pinyin_sizes() -> tuple[int, ...]:
    return tuple(sorted({len(r) for r in surname_pinyins()}, reverse=True))


_HONORIFIC_SET = frozenset(HONORIFICS)
_HONORIFIC_SIZES = tuple(sorted({len(t) for t in HONORIFICS}, reverse=True))


def parse_name(name: object) -> tuple[tuple[str, ...], str] | None:
    """(every pinyin reading of the surname, the given name in pinyin) — Hanzi or Latin script alike.

    Honorifics (先生, 女士 …) are dropped, leaving a surname with an empty given name. A Latin name's surname is
    the word that is a Chinese surname (first word preferred), else its last word (Western order); a single word
    starting with a surname (``shanyuqiang``) is split after it.

    >>> parse_name("曾小明"), parse_name("Xiaoming ZENG"), parse_name("shanyuqiang"), parse_name("陈先生")
    ((('zeng', 'ceng'), 'xiaoming'), (('zeng',), 'xiaoming'), (('shan',), 'yuqiang'), (('chen',), ''))
    """
    text = normalize_name(name)
    return parse_clean_name(text) if text else None


def parse_clean_name(text: str) -> tuple[tuple[str, ...], str] | None:
    """:func:`parse_name` of a name :func:`normalize_name` has already cleaned (the merge's name features parse
    each distinct cleaned name once, and normalizing it again would double their cost)."""
    if has_cjk(text):
        chars = "".join(_CJK.findall(text))
        for size in _HONORIFIC_SIZES:
            if len(chars) > size and chars[-size:] in _HONORIFIC_SET:
                chars = chars[:-size]
                break
        if not chars:
            return None
        split = 2 if len(chars) > 2 and chars[:2] in COMPOUND_SURNAMES else 1
        head = chars[:split]
        readings = (SURNAME_READINGS.get(head, (_char_pinyin(head),)) if split == 1
                    else ("".join(_char_pinyin(c) for c in head),))
        return tuple(readings), "".join(_char_pinyin(c) for c in chars[split:])
    words = _ascii_words(text)
    if not words:
        return None
    known = _surname_pinyin_set()
    if len(words) == 1:
        word = words[0]
        for size in _surname_pinyin_sizes():  # longest reading first, as in surname_pinyins()
            if len(word) > size + 1 and word[:size] in known:
                return (word[:size],), word[size:]
        return (word,), ""
    if words[0] in known:
        return (words[0],), "".join(words[1:])
    return (words[-1],), "".join(words[:-1])


def name_keys(name: object) -> list[str]:
    """Comparable keys of a name: surname + given name in pinyin, one per reading of the surname.

    ``张小明``, ``Zhang Xiaoming``, ``Xiaoming ZHANG`` and ``zhangxiaoming`` share the key ``zhangxiaoming``; 曾
    gives ``zeng…`` and ``ceng…``. The first key is the usual reading (used for blocking).
    """
    parsed = parse_name(name)
    if parsed is None:
        return []
    readings, given = parsed
    return list(dict.fromkeys(r + given for r in readings))


def name_pinyin(name: object) -> str | None:
    """The name in pinyin, surname first (``zhang xiaoming``), for display and fuzzy comparison."""
    parsed = parse_name(name)
    if parsed is None:
        return None
    readings, given = parsed
    return f"{readings[0]} {given}".strip()


# --- national id ----------------------------------------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_checksum_ok(value: str) -> bool:
    """GB 11643-1999 check character of an 18-character resident id."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == value[17]


def normalize_national_id(value: object) -> str | None:
    """Upper-case letters and digits only. An 18-character Chinese resident id must pass its checksum; other ids
    (a social-security number, a passport) keep their letters and digits."""
    text = normalize_text(value)
    if not text:
        return None
    compact = _NON_ALNUM.sub("", text).upper()
    if len(compact) < 5:
        return None
    if len(compact) == 18 and compact[:17].isdigit():
        return compact if cn_id_checksum_ok(compact) else None
    if len(set(compact)) == 1:
        return None
    return compact


def normalize_gender(value: object) -> str | None:
    """``M`` / ``F`` from 男 / 女 / M / F / male / female / 先生 / 女士 / 1 / 2."""
    text = normalize_text(value)
    return GENDER_WORDS.get(text.lower()) if text else None


def normalize_postcode(value: object) -> str | None:
    text = normalize_text(value)
    compact = _NON_ALNUM.sub("", text).upper() if text else ""
    return compact or None


def normalize_street(value: object) -> str | None:
    """Street and street number: NFKC, Simplified, lower-case Latin, single spaces (no spaces in Chinese)."""
    text = normalize_text(value)
    if not text:
        return None
    if has_cjk(text):
        return to_simplified(text.replace(" ", ""))
    return " ".join(_ascii_words(text)) or None


def street_series(values: pd.Series) -> pd.Series:
    """:func:`normalize_street` over a column: Chinese streets in Arrow's kernels, Latin ones once per distinct
    value."""
    return _by_script(values, "", lambda v: " ".join(_ascii_words(v)) or None)


# --- dates and amounts --------------------------------------------------------------------------------------------
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
    naive = _fullmatch(values, ISO_NAIVE)
    zoned = np.zeros(len(values), dtype=bool)
    if not naive.all():  # the usual column has no offset: one regex pass
        zoned[~naive] = _fullmatch(values[~naive], ISO_ZONED)
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
    trimmed, no space before a UTC offset (Arrow kernels, no Python call per value)."""
    import pyarrow.compute as pc

    array = _text_array(values)
    array = pc.replace_substring_regex(array, r"(:[0-9]{2})\.([0-9])", rf"\1{_POINT}\2")
    array = pc.replace_substring_regex(array, r"^([0-9]{5})\.([0-9]+)$", rf"\1{_POINT}\2")
    for pattern, repl in (("[年月/.]", "-"), ("[日号]", " "), ("[时点]", ":"), ("分", ":"), ("秒", ""),
                          (_POINT, ".")):
        array = pc.replace_substring_regex(array, pattern, repl)
    array = pc.utf8_trim(pc.replace_substring_regex(array, _SPACES_RE2, " "), " :-T")
    array = pc.replace_substring_regex(array, r"([0-9]) ([+-][0-9]{2}(:?[0-9]{2})?|Z)$", r"\1\2")
    return text_column(blank_to_null(array), values.index)


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


#: Money is stored exactly as ``decimal128(18, 2)``: at most this many digits before the point.
AMOUNT_DIGITS = 16
#: The largest whole number a count (``quantity``) is stored as (``int64``).
MAX_WHOLE = 2**63 - 1
_CURRENCY = re.compile(r"(?i)[¥$]|rmb|cny|元")
_SCIENTIFIC = re.compile(r"(?i)[0-9]*[.,]?[0-9]+e[+-]?[0-9]+")
CENT = Decimal("0.01")
#: ``thousands_separator`` of a source that writes no thousands separator.
NO_SEPARATOR = "none"


@lru_cache(maxsize=64)
def _number_pattern(decimal: str, thousands: str) -> re.Pattern:
    """A number without sign as a source writes it: digits, or groups of three after the first one to three
    digits (``1,234,567``) when it has a thousands separator, then the decimal separator and the fraction."""
    whole = r"[0-9]+"
    if thousands != NO_SEPARATOR:
        whole += rf"|[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}})+"
    return re.compile(rf"(?P<whole>{whole})?(?:{re.escape(decimal)}(?P<fraction>[0-9]*))?")


def number_format(decimal: str = ".", thousands: str = ",") -> str:
    """How a source writes numbers, in words (for a quarantine reason).

    >>> number_format(",", NO_SEPARATOR)
    "decimal separator ',', no thousands separator"
    """
    grouping = ("no thousands separator" if thousands == NO_SEPARATOR
                else f"thousands separator '{thousands}' between groups of 3 digits")
    return f"decimal separator '{decimal}', {grouping}"


def read_amount(value: object, decimal: str = ".", thousands: str = ",") -> tuple[Decimal | None, str | None]:
    """Exact money as a source writes it: ``(amount, None)``, ``(None, what is wrong)``, or ``(None, None)`` for no
    value.

    Full-width digits and ``¥`` / ``￥`` / ``元`` / ``RMB`` / ``CNY`` before or after the number are fine; ``(12.50)``
    and ``−12.5`` are negative. The number must be written as the source declares (``decimal`` separator,
    ``thousands`` separator or :data:`NO_SEPARATOR`; groups of three digits): an amount that does not fit is not
    guessed. Cents are rounded half up; more than :data:`AMOUNT_DIGITS` digits before the point do not fit the
    stored type, and a number in scientific notation has lost digits in a spreadsheet.

    >>> read_amount("￥1,299.5"), read_amount("1.234,50", ",", ".")
    ((Decimal('1299.50'), None), (Decimal('1234.50'), None))
    >>> read_amount("1,23")[1].startswith("does not match the source's number format"), read_amount("1e30")[1][:25]
    (True, 'is in scientific notation')
    """
    text = normalize_text(value)
    if not text:
        return None, None
    body = _CURRENCY.sub("", text.replace("−", "-")).strip()
    negative = len(body) > 2 and body[0] == "(" and body[-1] == ")"
    body = body[1:-1].strip() if negative else body
    if body[:1] in ("-", "+"):
        if negative:  # "(-5)": which sign is meant?
            return None, None
        negative = body[0] == "-"
        body = _CURRENCY.sub("", body[1:]).strip()
    if thousands == "'":
        body = body.replace("’", "'")
    found = _number_pattern(decimal, thousands).fullmatch(body)
    if found is None or not (found["whole"] or found["fraction"]):
        if _SCIENTIFIC.fullmatch(body):
            return None, "is in scientific notation (digits may have been lost in a spreadsheet; export the number " \
                         "in full)"
        if re.fullmatch(r"[0-9]+([.,' ][0-9]+)*[.,]?[0-9]*", body):
            return None, f"does not match the source's number format ({number_format(decimal, thousands)})"
        return None, None
    whole = (found["whole"] or "0").replace(thousands, "").lstrip("0") or "0"
    if len(whole) > AMOUNT_DIGITS:
        return None, f"does not fit {AMOUNT_DIGITS} digits before the point"
    amount = Decimal(f"{whole}.{found['fraction'] or '0'}").quantize(CENT, rounding=ROUND_HALF_UP)
    if amount >= Decimal(10) ** AMOUNT_DIGITS:  # 9999999999999999.995 rounds up to 17 digits
        return None, f"does not fit {AMOUNT_DIGITS} digits before the point"
    return (-amount if negative else amount), None


def normalize_amount(value: object, decimal: str = ".", thousands: str = ",") -> Decimal | None:
    """Exact money: ``¥1,299.00`` → ``Decimal('1299.00')``; ``(12.50)`` and ``−12.5`` are negative; ``None`` for
    what :func:`read_amount` cannot read."""
    return read_amount(value, decimal, thousands)[0]


def read_whole(value: object, decimal: str = ".", thousands: str = ",") -> tuple[int | None, str | None]:
    """A count (``quantity``) as :func:`read_amount` reads numbers: ``(count, None)``, ``(None, what is wrong)`` or
    ``(None, None)`` for no value. It must be whole and fit ``int64``.

    >>> read_whole("1,000"), read_whole("1.5"), read_whole("9" * 20)[1]
    ((1000, None), (None, 'is not a whole number'), 'does not fit a 64-bit whole number')
    """
    text = normalize_text(value)
    if not text:
        return None, None
    body = text.replace("−", "-").strip()
    sign = -1 if body[:1] == "-" else 1
    digits = body.lstrip("+-").strip()
    if thousands == "'":
        digits = digits.replace("’", "'")
    found = _number_pattern(decimal, thousands).fullmatch(digits)
    if found is not None and found["whole"] and not (found["fraction"] or "").strip("0"):
        number = sign * int(found["whole"].replace(thousands, ""))
        return (number, None) if abs(number) <= MAX_WHOLE else (None, "does not fit a 64-bit whole number")
    amount, problem = read_amount(value, decimal, thousands)
    if amount is not None:
        return (int(amount), None) if amount == amount.to_integral_value() else (None, "is not a whole number")
    return None, problem


def normalize_int(value: object, decimal: str = ".", thousands: str = ",") -> int | None:
    return read_whole(value, decimal, thousands)[0]


def number_series(values: pd.Series, read: Callable[..., tuple[object, str | None]], decimal: str = ".",
                  thousands: str = ",") -> tuple[pd.Series, pd.Series]:
    """``read`` (:func:`read_amount`, :func:`read_whole`) over a column, once per distinct value: the values
    (Python objects, ``None`` for missing or unreadable) and what is wrong with each (``None`` when nothing is,
    or nothing said)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    found = [read(u, decimal, thousands) for u in uniques]
    numbers = np.empty(len(uniques) + 1, dtype=object)
    problems = np.empty(len(uniques) + 1, dtype=object)
    numbers[:-1] = [n for n, _ in found]
    problems[:-1] = [p for _, p in found]
    numbers[-1] = problems[-1] = None
    return (pd.Series(numbers[codes], index=values.index, dtype=object),
            pd.Series(problems[codes], index=values.index, dtype=object))


def today() -> dt.date:
    return dt.date.today()


# --- series versions ----------------------------------------------------------------------------------------------
def code_series(values: pd.Series) -> pd.Series:
    """:func:`normalize_code` over a column (plain ASCII codes, the usual case, are taken as they are)."""
    return map_distinct_except(values, normalize_code, PLAIN_ASCII)


@lru_cache(maxsize=1)
def _cn_mobile_pattern() -> str:
    import phonenumbers

    return phonenumbers.PhoneMetadata.metadata_for_region("CN").mobile.national_number_pattern


#: RE2 for :func:`is_placeholder_number` over digit strings: the last eight digits all one digit or a run, or
#: at most two distinct digits in the whole number.
_PLACEHOLDER_RE2 = "|".join([*(f"{d}{{8}}$" for d in "0123456789"), *(f"{t}$" for t in PLACEHOLDER_TAILS),
                             *(f"^[{a}{b}]+$" for i, a in enumerate("0123456789") for b in "0123456789"[i + 1:])])


def phone_series(values: pd.Series, region: str = "CN") -> pd.Series:
    """:func:`normalize_phone` over a column, vectorized where it can be (Arrow text in and out).

    Digits are extracted in one pass for plainly written numbers (digits, spaces, ``+ - ( )``) and per distinct
    value otherwise; Chinese mobile numbers are then checked against ``phonenumbers``' own CN mobile pattern and
    the placeholder rule in one pass, and every other digit string is parsed by ``phonenumbers`` once per
    distinct value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def where(mask, then, otherwise):
        return pc.if_else(pc.fill_null(mask, False), then, otherwise)

    nothing = pa.scalar(None, pa.string())
    text = arrow_text(values)
    masked = pc.match_substring_regex(text, "[*＊]")
    plain = pc.fill_null(pc.match_substring_regex(text, r"^[0-9+ ()\-]*[0-9][0-9+ ()\-]*$"), False)
    digits = where(plain, pc.replace_substring_regex(text, "[^0-9+]", ""), nothing)
    if region == "CN":
        bare = pc.utf8_ltrim(digits, "0")
        prefixed = pc.and_(pc.invert(pc.starts_with(digits, "+")), pc.match_substring_regex(bare, "^86[0-9]{11}$"))
        digits = where(prefixed, pc.binary_join_element_wise("+", bare, ""), digits)
    other = pc.and_(pc.is_valid(text), pc.invert(pc.or_(plain, pc.fill_null(masked, False))))
    if pc.any(other).as_py():
        found = map_distinct(text_column(text.filter(other)), lambda v: _phone_digits(v, region))
        digits = pc.replace_with_mask(digits, other, arrow_text(found))
    out = pa.nulls(len(text), pa.string())
    mobile = pa.array(np.zeros(len(text), dtype=bool))
    if region == "CN":
        national = where(pc.starts_with(digits, "+86"), pc.utf8_slice_codeunits(digits, 3), digits)
        mobile = pc.fill_null(pc.match_substring_regex(national, f"^(?:{_cn_mobile_pattern()})$"), False)
        placeholder = pc.match_substring_regex(national, _PLACEHOLDER_RE2)
        out = where(pc.and_(mobile, pc.invert(placeholder)), pc.binary_join_element_wise("+86", national, ""),
                    nothing)
    rest = pc.and_(pc.invert(mobile), pc.is_valid(digits))
    if pc.any(rest).as_py():
        found = map_distinct(text_column(digits.filter(rest)), lambda d: _e164(d, region))
        out = pc.replace_with_mask(out, rest, arrow_text(found))
    return text_column(out, values.index)


def name_keys_series(names: pd.Series) -> pd.Series:
    return map_distinct(names, name_keys)
