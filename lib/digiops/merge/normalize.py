"""Normalizers: one raw text value in, one canonical value (or ``None`` when it is not valid) out.

Each ``normalize_*`` function takes one value; each ``*_series`` function applies it to the *distinct* values of a
column once and maps the result back, so a million rows cost as many calls as there are distinct values.

Seed 002 ("dirty data"): exports from Chinese systems carry full-width characters, ideographic spaces (U+3000),
phones as ``+86 138-0013-8000`` / ``8613800138000`` / ``138 0013 8000``, Traditional characters and amounts like
``¥1,299.00``. NFKC comes first everywhere. (Their several date formats are read by :mod:`digiops.dates`, which
every stage shares.)

What platform exports carry besides (keeping partial evidence rather than nulling it, and saying what each value
was): phones a spreadsheet made numbers of (``13812345678.0``, ``1.3812345678E+10``) or prefixed (``'…``,
``="…"``), masked (``138****5678``: its visible key is kept) and virtual or privacy numbers (``170…``,
``…转1234``) — :func:`phone_columns`; surname-only, masked, nickname, placeholder and proxy-receiver names —
:func:`name_columns`; house numbers written many ways, masked and placeholder addresses — :func:`street_parts`.

Examples:
    >>> normalize_text("　张 三\\u200b ")
    '张 三'
    >>> normalize_phone("＋８６ １３８-００１３-８０００"), normalize_phone("13800000000")
    ('+8613800138000', None)
    >>> normalize_name("張 偉"), name_keys("曾小明")
    ('张伟', ['zengxiaoming', 'cengxiaoming'])
    >>> normalize_amount("¥1,299.50")
    Decimal('1299.50')
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

from digiops.text_columns import (arrow_text, blank_to_null, fullmatch, normalized_array, normalized_text,
                                 text_column)

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


#: Printable ASCII without spaces: NFKC, whitespace collapsing and zero-width removal leave such text unchanged.
PLAIN_ASCII = r"[!-~]+"


def map_distinct_except(values: pd.Series, func: Callable[[str], object], plain: str, *,
                        plain_func: Callable[[pd.Series], pd.Series] | None = None) -> pd.Series:
    """:func:`map_distinct`, except that values matching the regex ``plain`` are known to normalize to themselves
    (or to ``plain_func`` of themselves, a vectorized function): only the others pay a Python call each."""
    fast = fullmatch(values, plain)
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


def text_series(values: pd.Series, *, simplified: bool = False) -> pd.Series:
    """:func:`normalize_text` over a column (Arrow's kernels), as Arrow-backed text, missing for missing and blank
    values. With ``simplified``, Traditional characters are also made Simplified (:func:`to_simplified`)."""
    array = normalized_text(values)
    return text_column(simplified_array(array) if simplified else array, values.index)


def normalize_code(value: object) -> str | None:
    """Identifiers (member card, sku, order number): NFKC text without any whitespace."""
    text = normalize_text(value)
    return text.replace(" ", "") if text else None


# --- phone --------------------------------------------------------------------------------------------------------
#: What a phone value was (column ``phone_kind`` of :func:`phone_columns`): a usable ``number``; a usable number
#: ``recovered`` from what a spreadsheet made of it (``13812345678.0``, ``1.3812345678E+10``, ``'13812345678``,
#: ``="13812345678"``, a leading tab); ``masked`` (``138****5678``); ``virtual`` (a number with an extension, or a
#: mobile of a virtual operator's segment, :data:`VIRTUAL_SEGMENTS`); ``lost_digits`` (scientific notation that
#: rounded digits away: ``1.38123E+10``); ``placeholder`` (``13800000000``, or no digit at all: ``无``, ``-``);
#: ``invalid`` (anything else).
PHONE_KINDS = ("number", "recovered", "masked", "virtual", "lost_digits", "placeholder", "invalid")
#: Mobile segments of the virtual operators (MVNO) and privacy-number services: strangers share such numbers.
VIRTUAL_SEGMENTS = ("170", "171", "162", "165", "167")
#: The columns :func:`phone_columns` makes of a phone column.
PHONE_COLUMNS = ("phone", "phone_masked", "phone_virtual", "phone_kind")
_SCIENTIFIC_PHONE = re.compile(r"([0-9])(?:\.([0-9]*))?[eE]\+?([0-9]{1,2})")


def is_placeholder_number(national: str) -> bool:
    """Numbers people type when they will not give theirs: ``13800000000``, ``13888888888``, ``13912345678``."""
    tail = national[-8:]
    return len(set(tail)) == 1 or tail in PLACEHOLDER_TAILS or len(set(national)) <= 2


def normalize_phone(value: object, region: str = "CN") -> str | None:
    """E.164 (``+8613800138000``) of a usable number (via ``phonenumbers``); ``None`` for anything else — invalid,
    placeholder, masked or virtual numbers (:func:`phone_parts`)."""
    return phone_parts(value, region)[0]


def phone_parts(value: object, region: str = "CN") -> tuple[str | None, str | None, str | None, str | None]:
    """``(phone, phone_masked, phone_virtual, phone_kind)`` of one value: :func:`phone_columns` of a column of one.

    >>> phone_parts("+86 138-5724-6913"), phone_parts("13857246913.0")
    (('+8613857246913', None, None, 'number'), ('+8613857246913', None, None, 'recovered'))
    >>> phone_parts("138****6913"), phone_parts("1.38572E+10"), phone_parts("13800000000")
    ((None, '138*6913', None, 'masked'), (None, None, None, 'lost_digits'), (None, None, None, 'placeholder'))
    >>> phone_parts("17057246913转1234"), phone_parts("17057246913")
    ((None, None, '+8617057246913#1234', 'virtual'), (None, None, '+8617057246913', 'virtual'))
    """
    row = phone_columns(pd.Series([value], dtype=object), region).iloc[0]
    return tuple(None if pd.isna(v) else v for v in row)


def _scientific_digits(text: str) -> tuple[str | None, str]:
    """(digits, kind) of a number a spreadsheet wrote in scientific notation. Every digit is there when the
    mantissa has as many decimals as the exponent says (``1.3812345678E+10``: ``recovered``); with fewer, digits
    were rounded away (``1.38123E+10``: ``lost_digits``) — a trailing zero dropped cannot be told from a lost digit.

    >>> _scientific_digits("1.3812345678e10"), _scientific_digits("1.38123E+10")
    (('13812345678', 'recovered'), (None, 'lost_digits'))
    """
    found = _SCIENTIFIC_PHONE.fullmatch(text)
    if found is None:
        return None, "invalid"
    lead, decimals, exponent = found[1], found[2] or "", int(found[3])
    if len(decimals) < exponent:
        return None, "lost_digits"
    if decimals[exponent:].strip("0"):  # not a whole number
        return None, "invalid"
    return lead + decimals[:exponent], "recovered"


@lru_cache(maxsize=1 << 20)
def _e164_kind(digits: str, region: str) -> tuple[str | None, str]:
    """(E.164 or ``None``, ``number`` / ``placeholder`` / ``invalid``): one ``phonenumbers`` parse per distinct
    digit string (many raw spellings share one number)."""
    import phonenumbers

    try:
        number = phonenumbers.parse(digits, region)
    except phonenumbers.NumberParseException:
        return None, "invalid"
    if not phonenumbers.is_valid_number(number):
        return None, "invalid"
    if is_placeholder_number(str(number.national_number)):
        return None, "placeholder"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), "number"


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
    """Normalized text (:func:`~digiops.text_columns.normalized_text`) whose Chinese values lose their spaces and
    the characters of the RE2 class ``chinese`` and become Simplified, in Arrow's kernels; the other values go
    through ``latin`` once per distinct value."""
    import pyarrow.compute as pc

    text = normalized_text(values)
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


def ascii_words(text: str) -> list[str]:
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
#: Titles after a bare surname (张总, 李姐, 刘经理, 陈老板, 赵哥): only the surname is known. Unlike
#: :data:`HONORIFICS` they are dropped only when what is left is a surname (王大哥 is 王, 王建哥 stays a name).
SURNAME_TITLES = ("总", "总监", "经理", "老板", "老板娘", "董", "主任", "工", "姐", "大姐", "姐姐", "哥", "大哥", "哥哥",
                  "叔", "医生", "律师")
_TITLE_SET = frozenset(SURNAME_TITLES)
_TITLE_SIZES = tuple(sorted({len(t) for t in SURNAME_TITLES}, reverse=True))
#: Every single-character surname the name rules know.
_SURNAME_CHARS = frozenset(COMMON_SURNAMES) | frozenset(SURNAME_READINGS)
#: Where a masked Chinese name hides its given name: ``张*``, ``张**``, ``张某``, ``张*明``, ``张xx``.
_MASKED_NAME = re.compile(r"[*某]|(?<=[\u3400-\u9fff])[xX]+$")


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
    each distinct cleaned name once, and normalizing it again would double their cost).

    A masked name (``张*``, ``张某``, ``张*明``) and a surname with a title (:data:`SURNAME_TITLES`: ``张总``) give
    the surname with an empty given name.

    >>> parse_clean_name("张*"), parse_clean_name("张总"), parse_clean_name("欧阳某"), parse_clean_name("*伟")
    ((('zhang',), ''), (('zhang',), ''), (('ouyang',), ''), None)
    """
    if has_cjk(text):
        masked = _MASKED_NAME.search(text)
        chars = "".join(_CJK.findall(text if masked is None else text[:masked.start()]))
        for size in _HONORIFIC_SIZES:
            if len(chars) > size and chars[-size:] in _HONORIFIC_SET:
                chars = chars[:-size]
                break
        bare = masked is not None or chars in COMPOUND_SURNAMES or _bare_surname(chars) is not None
        chars = _bare_surname(chars) or chars
        if not chars:
            return None
        if bare:
            chars = chars[:2] if chars[:2] in COMPOUND_SURNAMES else chars[:1]
        split = 2 if (len(chars) > 2 or bare) and chars[:2] in COMPOUND_SURNAMES else 1
        head = chars[:split]
        readings = (SURNAME_READINGS.get(head, (_char_pinyin(head),)) if split == 1
                    else ("".join(_char_pinyin(c) for c in head),))
        return tuple(readings), "".join(_char_pinyin(c) for c in chars[split:])
    words = ascii_words(text)
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


def _is_surname(chars: str) -> bool:
    return chars in COMPOUND_SURNAMES or (len(chars) == 1 and chars in _SURNAME_CHARS)


def _bare_surname(chars: str) -> str | None:
    """The surname of a surname with a title after it (``张总`` → ``张``), else ``None``."""
    for size in _TITLE_SIZES:
        if len(chars) > size and chars[-size:] in _TITLE_SET and _is_surname(chars[:-size]):
            return chars[:-size]
    return None


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


# --- what a name is -------------------------------------------------------------------------------------------------
#: What a full name was (column ``name_kind`` of :func:`name_columns`): a ``name``; only a ``surname`` (王先生, 张总,
#: 李姐, or masked with its surname visible: 张*, 张**, 张某); ``masked`` with no surname left (*伟, **); a
#: ``nickname`` (小鱼儿🐟, 抖音用户3381, 微信用户, Lily); a ``placeholder`` (无, 客户, 收货人, test, -); a ``proxy``
#: receiver who is not the buyer (前台代收, 门卫, 快递柜, 丰巢, 驿站, 物业, 保安).
NAME_KINDS = ("name", "surname", "masked", "nickname", "placeholder", "proxy")
#: The kinds that are evidence of who a person is: the others leave ``full_name`` empty.
NAME_EVIDENCE = ("name", "surname")
#: Names that stand for no one (compared lower-case): a bare title is one too (先生, 女士).
PLACEHOLDER_NAMES = frozenset({"无", "空", "客户", "顾客", "买家", "卖家", "收货人", "收件人", "联系人", "本人", "用户",
                               "测试", "未知", "不详", "匿名", "无名", "暂无", "test", "n/a", "na", "none", "null",
                               "unknown", "customer", "buyer", "-", ".", *HONORIFICS, *SURNAME_TITLES})
#: Receivers who take the parcel for the buyer.
PROXY_NAMES = ("代收", "代签", "前台", "门卫", "门岗", "快递柜", "丰巢", "驿站", "菜鸟", "物业", "保安", "收发室", "传达室")
#: A proxy word that is also a given name (王保安): a surname before it alone makes it a name.
_PROXY_GIVEN_NAMES = frozenset({"保安"})
#: What platforms call an account without a name (微信用户, 抖音用户3381, 淘宝会员).
PLATFORM_NAMES = ("用户", "网友", "会员", "粉丝", "游客", "访客", "买家")
_NICKNAME_CN = re.compile(r"的|宝宝|宝贝|[儿酱君吖呀哒喵]$|^(.)\1$")
_TEST_NAME = re.compile(r"(?:test|测试)[ _-]?[0-9]*")


@lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (``zhong``, ``lv``), from pypinyin's dictionary; the bare nasals (m, n, ng,
    hm) are left out, since they make almost any word pinyin."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found = {to_normal(r) for readings in pinyin_dict.values() for r in readings.split(",")}
    return frozenset(r for r in found if r.isascii() and r.isalpha() and r not in {"m", "n", "ng", "hm", "hng"})


def is_pinyin(word: str) -> bool:
    """Whether a lower-case ASCII word is a run of pinyin syllables (``xiaoming``, ``zhangwei``; not ``lily``).

    >>> is_pinyin("xiaoming"), is_pinyin("lily"), is_pinyin("mary")
    (True, False, False)
    """
    syllables, size = _pinyin_syllables(), len(word)
    ends = [True] + [False] * size  # ends[i]: word[:i] is a run of syllables
    for i in range(1, size + 1):
        ends[i] = any(ends[j] and word[j:i] in syllables for j in range(max(0, i - 6), i))
    return size > 0 and ends[size]


def name_kind(name: str | None) -> str | None:
    """What a cleaned full name (:func:`normalize_name`) is: one of :data:`NAME_KINDS`, ``None`` for no name.

    A Chinese name that starts with a surname stays a name (小明 too: a plain two to four Hanzi); one that does
    not is a nickname only with a nickname's mark (的, 儿 at the end, 宝宝, doubled characters 糖糖), digits,
    Latin letters or emoji. A single Latin word is a nickname unless it is pinyin (``Lily``, not ``Xiaoming``).

    >>> [name_kind(n) for n in ("张伟", "小明", "王先生", "张*", "*伟", "小鱼儿", "微信用户", "Lily", "客户", "丰巢")]
    ['name', 'name', 'surname', 'surname', 'masked', 'nickname', 'nickname', 'nickname', 'placeholder', 'proxy']
    """
    if not name:
        return None
    lower = name.lower()
    if lower in PLACEHOLDER_NAMES or _TEST_NAME.fullmatch(lower):
        return "placeholder"
    if not has_cjk(name):
        if "*" in name:
            return "masked"
        if not all(c.isalpha() or c == " " for c in name):
            return "nickname"
        words = ascii_words(name)
        if len(words) > 1:
            return "name"
        if not words or not is_pinyin(words[0]):
            return "nickname"
        return "surname" if words[0] in _surname_pinyin_set() else "name"
    if any(p in name for p in PROXY_NAMES) and not (
            len(name) == 3 and name[0] in _SURNAME_CHARS and name[1:] in _PROXY_GIVEN_NAMES):
        return "proxy"
    masked = _MASKED_NAME.search(name)
    if masked is not None:
        head = name[:masked.start()]
        return "surname" if head and (len(head) == 1 or head in COMPOUND_SURNAMES) and has_cjk(head) else "masked"
    chars = name
    for size in _HONORIFIC_SIZES:
        if len(chars) > size and chars[-size:] in _HONORIFIC_SET:
            chars = chars[:-size]
            break
    if _is_surname(chars) and (chars != name or chars in COMPOUND_SURNAMES) or _bare_surname(chars) is not None:
        return "surname"
    if any(unicodedata.category(c) != "Lo" and c != "〇" for c in name) or any(p in name for p in PLATFORM_NAMES):
        return "nickname"
    if name[0] in _SURNAME_CHARS or name[:2] in COMPOUND_SURNAMES:
        return "name"
    return "nickname" if _NICKNAME_CN.search(name) else "name"


@lru_cache(maxsize=1)
def _unsure_name_re2() -> str:
    """RE2 of the cleaned names :func:`name_kind` must look at: all but two to four Hanzi that start with a surname
    and hold no mark (a title, placeholder, proxy or platform word, 某) — those it surely calls ``name``. One
    pattern, so that the usual name costs one regex pass."""
    marks = {w for w in (*PLACEHOLDER_NAMES, *PROXY_NAMES, *PLATFORM_NAMES, *HONORIFICS, *SURNAME_TITLES, "某", "测试")
             if has_cjk(w)}
    return "|".join([*sorted(marks, key=len, reverse=True), "^[^" + "".join(sorted(_SURNAME_CHARS)) + "]",
                     "[^\\x{4e00}-\\x{9fff}]", "^.$", "^.{5}", *(f"^{c}$" for c in sorted(COMPOUND_SURNAMES))])


def name_columns(values: pd.Series) -> pd.DataFrame:
    """``full_name`` and ``name_kind`` of a raw full-name column (Arrow-backed text, same index).

    ``name_kind`` is :func:`name_kind` of the cleaned name (:func:`name_series`), ``placeholder`` for a value
    that cleaning leaves empty (``-``, ``.``), missing for no value; ``full_name`` is the cleaned name of the kinds
    in :data:`NAME_EVIDENCE` (a surname-only name is kept: :func:`parse_clean_name` gives its surname and an empty
    given name), missing for the others. Plain Chinese names (a surname and one to three Hanzi, no title or other
    mark: the usual case) are recognised in Arrow's kernels; the rest are judged once per distinct name.

    >>> name_columns(pd.Series(["張 偉", "张*", "微信用户", "-"])).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'full_name': ['张伟', '张*', nan, nan], 'name_kind': ['name', 'surname', 'nickname', 'placeholder']}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = name_series(values)
    text = arrow_text(names)
    sure = pc.invert(pc.fill_null(pc.match_substring_regex(text, _unsure_name_re2()), True))
    kind = _where(sure, "name", pa.scalar(None, pa.string()))
    todo = pc.and_(pc.is_valid(text), pc.invert(sure))
    if pc.any(todo).as_py():
        kind = pc.replace_with_mask(kind, todo, arrow_text(map_distinct(text_column(text.filter(todo)), name_kind)))
    gone = (names.isna() & values.notna()).to_numpy()
    if gone.any():  # text that cleaning took away entirely ("-", ".") stands for no one
        left = map_distinct(values[gone], normalize_text).notna().to_numpy()
        kind = pc.replace_with_mask(kind, pa.array(gone), pc.if_else(pa.array(left), "placeholder", None))
    kept = pc.fill_null(pc.is_in(kind, value_set=pa.array(NAME_EVIDENCE)), False)
    return pd.DataFrame({"full_name": text_column(_where(kept, text, pa.scalar(None, pa.string())), values.index),
                         "name_kind": text_column(kind, values.index)})


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


#: What an address was (column ``address_kind``): an ``address``; ``masked`` (``浙江省杭州市西湖区****``: its
#: district and city still count, its street does not); a ``placeholder`` (``同上``, ``不详``, ``见备注`` …).
ADDRESS_KINDS = ("address", "masked", "placeholder")
#: Street texts that stand for no address (compared lower-case, without spaces, punctuation and symbols).
PLACEHOLDER_STREETS = frozenset({"同上", "不详", "无", "未知", "见备注", "详见备注", "见附件", "暂无", "空", "略", "保密",
                                 "na", "none", "null", "unknown", "sameasabove", "tbd"})
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_HOUSE_UNITS = "号|弄|栋|幢|座|单元|室|层|楼"
_CN_HOUSE_NUMBER = re.compile(f"([零〇一二两三四五六七八九十百千]+)({_HOUSE_UNITS})")
#: House numbers in one form (on lower-case, compact Chinese street text, in this order): 18号 / 18弄 / #18 /
#: No.18 → 18号; 5栋 / 5幢 / 5号楼 / 5座 / 5#楼 → 5栋; 5-2-1201 and 5栋2单元1201(室) → 5栋2单元1201室.
HOUSE_NUMBER_RULES = (
    (r"no\.?([0-9])", r"#\1"),
    (r"([0-9a-z]+)(?:号楼|#楼|幢|座|栋)", r"\1栋"),
    (r"([0-9]+)[#号]([0-9]+)单元", r"\1栋\2单元"),
    (r"([0-9a-z]+)-([0-9]+)-([0-9]+)(?:室|号|房)?", r"\1栋\2单元\3室"),
    (r"栋([0-9]+)-([0-9]+)(?:室|号|房)?", r"栋\1单元\2室"),
    (r"单元([0-9]+)(?:室|号|房)?", r"单元\1室"),
    (r"栋([0-9]+)(?:号|房)", r"栋\1室"),
    (r"栋([0-9]+)$", r"栋\1室"),
    (r"(^|[^0-9a-z])#([0-9]+)", r"\1\2号"),
    (r"([0-9]+)[#弄]", r"\1号"),
)
#: What one of :data:`HOUSE_NUMBER_RULES` would change (a street already in the one form, ``文三路18号5栋2单元1201室``,
#: has none of it).
_HOUSE_NUMBER_WORK = (r"no\.?[0-9]|#|号楼|幢|座|弄|[0-9]号[0-9]+单元|[0-9a-z]-[0-9]|单元[0-9]+(?:$|[^0-9室])"
                      r"|栋[0-9]+(?:$|号|房)")
#: Placeholder streets are short: only texts up to this many characters are compared with them.
_PLACEHOLDER_STREET_LENGTH = max(map(len, PLACEHOLDER_STREETS)) + 4


def chinese_number(text: str) -> int:
    """A number in Chinese numerals: ``十八`` → 18, ``一百零五`` → 105, ``一二零一`` (digit by digit) → 1201."""
    if not any(c in _CN_UNITS for c in text):
        return int("".join(str(_CN_DIGITS[c]) for c in text))
    total = current = 0
    for c in text:
        if c in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[c]
            current = 0
        else:
            current = _CN_DIGITS[c]
    return total + current


def _house_numbers(array):
    """:data:`HOUSE_NUMBER_RULES` over lower-case compact Chinese street texts (Arrow); house numbers in Chinese
    numerals (``十八号``) are written in digits first, once per distinct text that has one."""
    import pyarrow.compute as pc

    spelled = pc.fill_null(pc.match_substring_regex(array, _CN_HOUSE_NUMBER.pattern), False)
    if pc.any(spelled).as_py():
        digits = map_distinct(text_column(array.filter(spelled)), lambda text: _CN_HOUSE_NUMBER.sub(
            lambda m: f"{chinese_number(m[1])}{m[2]}", text))
        array = pc.replace_with_mask(array, spelled, arrow_text(digits))
    work = pc.fill_null(pc.match_substring_regex(array, _HOUSE_NUMBER_WORK), False)
    if not pc.any(work).as_py():
        return array
    part = array.filter(work)
    for pattern, replacement in HOUSE_NUMBER_RULES:
        part = pc.replace_substring_regex(part, pattern, replacement)
    return pc.replace_with_mask(array, work, part)


def street_kind_array(array):
    """``masked`` (a ``*`` anywhere) or ``placeholder`` (:data:`PLACEHOLDER_STREETS`, or nothing but punctuation)
    for each normalized text of an Arrow string array, null otherwise (and for null)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nothing = pa.scalar(None, pa.string())
    masked = pc.fill_null(pc.match_substring_regex(array, r"\*"), False)
    short = pc.fill_null(pc.less_equal(pc.utf8_length(array), _PLACEHOLDER_STREET_LENGTH), False)
    kind = _where(masked, "masked", nothing)
    if pc.any(short).as_py():
        squeezed = pc.utf8_lower(pc.replace_substring_regex(array.filter(short), r"[\s\p{P}\p{S}_]+", ""))
        placeholder = pc.or_(pc.equal(squeezed, ""),
                             pc.is_in(squeezed, value_set=pa.array(sorted(PLACEHOLDER_STREETS))))
        found = _where(pc.and_(placeholder, pc.invert(masked.filter(short))), "placeholder", kind.filter(short))
        kind = pc.replace_with_mask(kind, short, found)
    return kind


def _latin_street(text: str) -> str | None:
    """A Latin-script street as lower-case ASCII words, ``No`` / ``Nr`` before a number dropped (``No. 18`` is 18)."""
    words = ascii_words(text)
    words = [w for i, w in enumerate(words) if not (w in ("no", "nr") and words[i + 1:i + 2] and
                                                     words[i + 1].isdigit())]
    return " ".join(words) or None


def street_parts(values: pd.Series, *, chinese: bool = False) -> tuple[pd.Series, pd.Series]:
    """(street key, kind) of a column of streets and street numbers (Arrow-backed text, same index).

    The key is :func:`normalize_text` of the street, then Chinese streets lose their spaces, become Simplified
    and lower-case and get their house numbers in one form (:func:`_house_numbers`: ``文三路十八号`` and
    ``文三路#18`` are both ``文三路18号``); Latin streets become lower-case ASCII words. A masked street
    (``****``) or a placeholder (``同上``, ``见备注``) has no key: a hidden street is missing, never shared. The kind
    is ``masked`` / ``placeholder`` (:func:`street_kind_array`), missing otherwise. With ``chinese``, every street
    is taken as Chinese (the street part of a Chinese address may be ``5-2-1201`` alone).

    >>> street_parts(pd.Series(["文三路十八号", "文三路#18", "文三路5-2-1201", "文三路5幢2单元1201室", "同上", "****"]))[0].tolist()
    ['文三路18号', '文三路18号', '文三路5栋2单元1201室', '文三路5栋2单元1201室', nan, nan]
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = normalized_text(values)
    kind = street_kind_array(text)
    text = _where(pc.is_valid(kind), pa.scalar(None, pa.string()), text)
    cjk = pc.is_valid(text) if chinese else cjk_array(text)
    if pc.any(cjk).as_py():
        chinese = _house_numbers(pc.utf8_lower(simplified_array(pc.replace_substring(text.filter(cjk), " ", ""))))
        text = pc.replace_with_mask(text, cjk, chinese)
    out = text_column(blank_to_null(text), values.index)
    others = ~cjk.to_numpy(zero_copy_only=False) & out.notna().to_numpy()
    if others.any():
        out[others] = map_distinct(out[others], _latin_street).to_numpy()
    return out, text_column(kind, values.index)


def normalize_street(value: object) -> str | None:
    """Street and street number as a key (:func:`street_parts` of one value); ``None`` for a masked street or a
    placeholder.

    >>> normalize_street("文三路No.18"), normalize_street("18 No. 5 Road"), normalize_street("见备注")
    ('文三路18号', '18 5 road', None)
    """
    found = street_parts(pd.Series([value], dtype=object))[0].iloc[0]
    return None if pd.isna(found) else found


def street_series(values: pd.Series) -> pd.Series:
    """:func:`normalize_street` over a column: the key of :func:`street_parts` (Chinese streets in Arrow's kernels,
    Latin ones once per distinct value)."""
    return street_parts(values)[0]


# --- amounts ------------------------------------------------------------------------------------------------------
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
    """:func:`normalize_phone` over a column: the ``phone`` column of :func:`phone_columns`."""
    return phone_columns(values, region)["phone"]


#: A plainly written number: digits, spaces, ``+ - ( )``.
_PLAIN_PHONE_RE2 = r"^[0-9+ ()\-]*[0-9][0-9+ ()\-]*$"
#: What an export puts around a number it keeps as text (before normalizing): an apostrophe, ``=``, quotes, a tab.
_WRAPPED_RE2 = "^\\s*[\\t'‘’＇\"＂=＝]|[\\t'’＇\"＂]\\s*$"
_UNWRAP_RE2 = "^=?\\s*[\"'‘’]+|^=|[\"'‘’]+$"
#: A number and its extension: ``-`` or ``_`` only after a whole mobile number (``138-0013-8000`` has none).
_EXTENSION_RE2 = ("(?i)^(?:(?P<mobile>(?:\\+?86[ -]?)?1[0-9]{10}) ?[-_]|(?P<main>[0-9+ ()-]*[0-9]) ?"
                  "(?:转|分机|ext\\.?|x|#|,)) ?(?P<extension>[0-9]{1,6})$")
#: A masked mobile number with its first three and last four digits visible (after ``+86``, spaces and dashes).
_MASKED_KEY_RE2 = r"^(?P<head>1[0-9]{2})[0-9]*\*+[0-9]*?(?P<tail>[0-9]{4})$"
_VIRTUAL_RE2 = "^\\+861(?:" + "|".join(segment[1:] for segment in VIRTUAL_SEGMENTS) + ")"


def _where(mask, then, otherwise):
    import pyarrow.compute as pc

    return pc.if_else(pc.fill_null(mask, False), then, otherwise)


def _per_distinct(array, func: Callable[[str], tuple], width: int) -> list:
    """``func`` (a tuple of ``width`` texts or ``None``) once per distinct value of an Arrow string array, as
    ``width`` Arrow string arrays (null for null)."""
    import pyarrow as pa

    encoded = array.dictionary_encode()
    found = [func(value) for value in encoded.dictionary.to_pylist()]
    return [pa.array([f[i] for f in found], type=pa.string()).take(encoded.indices) for i in range(width)]


def phone_columns(values: pd.Series, region: str = "CN") -> pd.DataFrame:
    """The phone columns of a raw phone column (:data:`PHONE_COLUMNS`, Arrow-backed text, same index):

    - ``phone``: E.164 of a usable number (``+8613800138000``), else missing;
    - ``phone_masked``: a masked mobile number's visible key, its first three and last four national digits
      (``138****5678`` → ``138*5678``), else missing;
    - ``phone_virtual``: a number with an extension as ``<E.164>#<extension>`` (``17012345678转1234`` →
      ``+8617012345678#1234``), or a mobile of :data:`VIRTUAL_SEGMENTS` as E.164 (strangers share these: they
      are no ``phone``), else missing;
    - ``phone_kind``: :data:`PHONE_KINDS`, missing for no value.

    Vectorized: plainly written Chinese mobile numbers (the usual case) are decided in Arrow's kernels against
    ``phonenumbers``' own CN mobile pattern and the placeholder rule; only the other values are looked at
    further (:func:`_dirty_phone_parts`, Arrow kernels over that slice), and ``phonenumbers`` parses each distinct
    digit string that is no CN mobile once.

    >>> phone_columns(pd.Series(["138****6913", "'13857246913"])).to_dict("list")  # doctest: +NORMALIZE_WHITESPACE
    {'phone': [nan, '+8613857246913'], 'phone_masked': ['138*6913', nan], 'phone_virtual': [nan, nan],
     'phone_kind': ['masked', 'recovered']}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = arrow_text(values)
    plain = pc.fill_null(pc.match_substring_regex(text, _PLAIN_PHONE_RE2), False)
    digits = _where(plain, pc.replace_substring_regex(text, "[^0-9+]", ""), pa.scalar(None, pa.string()))
    phone, virtual, kind = _phone_digit_kinds(digits, region, parse=False)
    masked = pa.nulls(len(text), pa.string())
    todo = pc.and_(pc.is_valid(text), pc.is_null(kind))
    if pc.any(todo).as_py():
        found = _dirty_phone_parts(text.filter(todo), region)
        phone, masked, virtual, kind = (pc.replace_with_mask(column, todo, part)
                                        for column, part in zip((phone, masked, virtual, kind), found))
    return pd.DataFrame({name: text_column(column, values.index)
                         for name, column in zip(PHONE_COLUMNS, (phone, masked, virtual, kind))})


def _phone_digit_kinds(digits, region: str, *, parse: bool) -> tuple:
    """(phone, phone_virtual, phone_kind) of digit strings (Arrow; ``+86`` added to a bare ``86…``): CN mobile
    numbers in Arrow's kernels; with ``parse``, every other digit string through ``phonenumbers`` once per distinct
    value (without, its kind stays null: undecided)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nothing = pa.scalar(None, pa.string())
    phone = kind = pa.nulls(len(digits), pa.string())
    mobile = pa.array(np.zeros(len(digits), dtype=bool))
    if region == "CN":
        bare = pc.utf8_ltrim(digits, "0")
        prefixed = pc.and_(pc.invert(pc.starts_with(digits, "+")), pc.match_substring_regex(bare, "^86[0-9]{11}$"))
        digits = _where(prefixed, pc.binary_join_element_wise("+", bare, ""), digits)
        national = _where(pc.starts_with(digits, "+86"), pc.utf8_slice_codeunits(digits, 3), digits)
        mobile = pc.fill_null(pc.match_substring_regex(national, f"^(?:{_cn_mobile_pattern()})$"), False)
        placeholder = pc.fill_null(pc.match_substring_regex(national, _PLACEHOLDER_RE2), False)
        phone = _where(pc.and_(mobile, pc.invert(placeholder)), pc.binary_join_element_wise("+86", national, ""),
                       nothing)
        kind = _where(mobile, pc.if_else(placeholder, "placeholder", "number"), nothing)
    rest = pc.and_(pc.invert(mobile), pc.is_valid(digits))
    if parse and pc.any(rest).as_py():
        found, found_kind = _per_distinct(digits.filter(rest), lambda d: _e164_kind(d, region), 2)
        phone = pc.replace_with_mask(phone, rest, found)
        kind = pc.replace_with_mask(kind, rest, found_kind)
    virtual = pc.fill_null(pc.match_substring_regex(phone, _VIRTUAL_RE2), False)
    if not pc.any(virtual).as_py():
        return phone, pa.nulls(len(phone), pa.string()), kind
    return _where(virtual, nothing, phone), _where(virtual, phone, nothing), _where(virtual, "virtual", kind)


def _dirty_phone_parts(raw, region: str) -> tuple:
    """(phone, phone_masked, phone_virtual, phone_kind) of raw phone texts that are no plainly written CN mobile
    (Arrow in and out): normalized (full-width digits, ``＊``), unwrapped (``'…``, ``="…"``), a spreadsheet's
    ``.0`` dropped and its scientific notation read (:func:`_scientific_digits`), a masked number's visible key
    and an extension taken apart."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nothing = pa.scalar(None, pa.string())
    wrapped = pc.fill_null(pc.match_substring_regex(raw, _WRAPPED_RE2), False)
    text = normalized_array(raw)
    text = blank_to_null(pc.utf8_trim(pc.replace_substring_regex(text, _UNWRAP_RE2, ""), " "))
    floating = pc.fill_null(pc.match_substring_regex(text, r"^\+?[0-9]+\.0+$"), False)
    text = pc.replace_substring_regex(text, r"^(\+?[0-9]+)\.0+$", r"\1")
    masked = pc.fill_null(pc.match_substring_regex(text, r"\*"), False)
    scientific = pc.fill_null(pc.match_substring_regex(text, r"(?i)^[0-9](?:\.[0-9]*)?e\+?[0-9]{1,2}$"), False)
    extension = pc.extract_regex(text, _EXTENSION_RE2)
    extended = pc.fill_null(pc.is_valid(extension), False)
    number = text
    if pc.any(extended).as_py():
        mobile = pc.struct_field(extension, "mobile")
        number = _where(extended, pc.if_else(pc.equal(mobile, ""), pc.struct_field(extension, "main"), mobile), text)
    digits = blank_to_null(pc.replace_substring_regex(number, "[^0-9+]", ""))
    scientific_kind = pa.nulls(len(text), pa.string())
    if pc.any(scientific).as_py():
        found, found_kind = _per_distinct(text.filter(scientific), _scientific_digits, 2)
        digits = pc.replace_with_mask(digits, scientific, found)
        scientific_kind = pc.replace_with_mask(scientific_kind, scientific, found_kind)
    phone, virtual, kind = _phone_digit_kinds(_where(masked, nothing, digits), region, parse=True)
    if pc.any(extended).as_py():  # a number with an extension is a relay (privacy) number: virtual when usable
        usable = pc.and_(extended, pc.is_in(kind, value_set=pa.array(["number", "virtual"])))
        joined = pc.binary_join_element_wise(pc.coalesce(phone, virtual), pc.struct_field(extension, "extension"),
                                             "#")
        virtual = _where(usable, joined, virtual)
        phone = _where(extended, nothing, phone)
        kind = _where(usable, "virtual", kind)
    kind = _where(pc.and_(scientific, pc.not_equal(scientific_kind, "recovered")), scientific_kind, kind)
    key = pa.nulls(len(text), pa.string())
    if pc.any(masked).as_py():
        compact = pc.replace_substring_regex(text.filter(masked), r"[ ()\-]", "")
        compact = pc.replace_substring_regex(compact, r"^(?:\+|00)?86(1)", r"\1")
        parts = pc.extract_regex(compact, _MASKED_KEY_RE2)
        found = pc.binary_join_element_wise(pc.struct_field(parts, "head"), pc.struct_field(parts, "tail"), "*")
        key = pc.replace_with_mask(key, masked, found)
        kind = _where(masked, "masked", kind)
    no_digit = pc.and_(pc.is_valid(text), pc.invert(pc.or_(masked, pc.match_substring_regex(text, "[0-9]"))))
    kind = _where(no_digit, "placeholder", kind)
    recovered = pc.and_(pc.or_(pc.or_(wrapped, floating), scientific), pc.fill_null(pc.equal(kind, "number"), False))
    return phone, key, virtual, _where(recovered, "recovered", kind)


def name_keys_series(names: pd.Series) -> pd.Series:
    return map_distinct(names, name_keys)
