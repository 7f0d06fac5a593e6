"""Masking of personal data for anything shown in a report or dashboard.

The unmasked values stay in the client's folder and the run's Parquet outputs; every table, chart label and example
profile a person reads goes through these helpers first.

Example:
    >>> mask_phone("+8613800138000"), mask_phone("138 0013 8000")
    ('138****8000', '138****8000')
    >>> mask_email("Li.Lei@Example.com"), mask_name("张三丰"), mask_name("Zhang San")
    ('l***@example.com', '张**', 'Z*** S***')
    >>> mask_id("110101199003078888"), mask_address("北京市朝阳区建国路88号")
    ('1101**********8888', '北京市朝阳区***')
    >>> mask_birth_date("1973-04-24"), mask_birth_date("19730424"), mask_birth_date("unknown")
    ('1973', '1973', '****')
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

_DIGITS = re.compile(r"\d")
_ADMIN = re.compile(r"^(.{0,12}?(?:省|自治区|市|特别行政区))?(.{0,10}?(?:市|自治州|地区|盟))?(.{0,10}?(?:区|县|旗|市))?")


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def mask_phone(value: object) -> str | None:
    """Keep the first three and last four digits of a mobile number: ``138****8000``."""
    text = _text(value)
    if text is None:
        return None
    digits = "".join(_DIGITS.findall(text))
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(value: object) -> str | None:
    """Keep the first letter of the local part and the domain: ``l***@example.com``."""
    text = _text(value)
    if text is None:
        return None
    local, _, domain = text.lower().partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_name(value: object) -> str | None:
    """Keep the first character (a Chinese surname) or the initial of each word; the mask has a fixed width, so
    it does not tell how long the name is."""
    text = _text(value)
    if text is None:
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return re.sub(r"\s+", "", text)[0] + "**"
    return " ".join(word[0] + "***" for word in text.split())


def mask_owner(value: object) -> str | None:
    """Keep an owner's role, mask the person's name: ``华东大区经理 张伟`` → ``华东大区经理 张**``.

    >>> mask_owner("华东大区经理 张伟"), mask_owner("李明"), mask_owner(None)
    ('华东大区经理 张**', '李**', None)
    """
    text = _text(value)
    if text is None:
        return None
    role, _, person = text.strip().rpartition(" ")
    return f"{role} {mask_name(person)}" if role else mask_name(person)


def mask_id(value: object) -> str | None:
    """National id and similar: first four and last four characters."""
    text = _text(value)
    if text is None:
        return None
    compact = re.sub(r"\s+", "", text)
    if len(compact) <= 8:
        return "*" * len(compact)
    return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")
_COMPACT_DATE = re.compile(r"^(1[89]\d\d|20\d\d)\d{4}$")  # 19730424


def mask_birth_date(value: object) -> str | None:
    """A birth date shows its year at most: ``1973`` (month and day, with the year, identify a person). Dates,
    timestamps and text in any order (``24/04/1973``, ``1973年4月24日``) keep the year alone; text without a year
    shows nothing of itself."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    if hasattr(value, "year"):
        return f"{value.year:04d}"
    text = _text(value)
    if text is None:
        return None
    found = _YEAR.search(text) or _COMPACT_DATE.match(text)
    return found.group(1) if found else "****"


def mask_address(value: object) -> str | None:
    """Keep province / city / district; hide street and number."""
    text = _text(value)
    if text is None:
        return None
    head = _ADMIN.match(text).group(0) if any("\u4e00" <= ch <= "\u9fff" for ch in text) else ""
    if not head and "," in text:  # western style: keep the last two parts (suburb/city, state)
        return "***, " + ", ".join(p.strip() for p in text.split(",")[-2:])
    return (head or "") + "***"


# Personal data inside free text (notes, comments): e-mails, 18-digit national ids, then mobile numbers written with
# or without +86 and separators. Digits next to the match are not part of it (an order number is no phone).
_IN_TEXT = re.compile(
    r"(?P<email>[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+)"
    r"|(?<![\dA-Za-z])(?P<id>[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx])(?![\dA-Za-z])"
    r"|(?<![\d])(?P<phone>(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d){8})(?!\d)")


_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}


def mask_text(value: object) -> str | None:
    """Free text with the e-mails, national ids and mobile numbers in it masked (action notes, comments).

    >>> mask_text("回访 张先生 138-0013-8000，邮箱 li.lei@example.com，订单 20260412138001380001")
    '回访 张先生 138****8000，邮箱 l***@example.com，订单 20260412138001380001'
    >>> mask_text("身份证 110101199003078888；电话 １３９００１３９００２")
    '身份证 1101**********8888；电话 139****9002'
    """
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    text = str(value)
    folded = text.translate(_HALF_WIDTH)  # one character for one: spans found in it hold in the text itself
    pieces, end = [], 0
    for hit in _IN_TEXT.finditer(folded):
        masker = {"email": mask_email, "id": mask_id, "phone": mask_phone}[hit.lastgroup]
        pieces += [text[end:hit.start()], masker(hit.group())]
        end = hit.end()
    return "".join(pieces) + text[end:]


MASKERS = {"phone": mask_phone, "email": mask_email, "name": mask_name, "national_id": mask_id,
           "address": mask_address, "birth_date": mask_birth_date, "text": mask_text}

#: canonical field → masker kind; applied by :func:`mask_frame` when no explicit mapping is given.
PERSONAL_FIELDS = {
    "phone": "phone", "email": "email", "full_name": "name", "given_name": "name", "family_name": "name",
    "national_id": "national_id", "address": "address", "address_extra": "address", "street": "address",
    "street_number": "national_id", "birth_date": "birth_date", "name_pinyin": "name",
}


def mask_frame(frame: pd.DataFrame, fields: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with personal columns masked (canonical names by default)."""
    fields = fields if fields is not None else {c: k for c, k in PERSONAL_FIELDS.items() if c in frame.columns}
    out = frame.copy()
    for column, kind in fields.items():
        if column in out.columns:
            out[column] = out[column].map(MASKERS[kind]).astype("object")
    return out
