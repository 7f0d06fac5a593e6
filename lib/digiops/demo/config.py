"""The demo client's knobs, in one place: size, period, channel mix and every dirt rate.

Each dirt kind has one rate here; the generator applies it and ``tests/demo/`` checks the generated files meet it
within tolerance. Change a rate here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

PERIOD_START = dt.date(2025, 5, 1)
PERIOD_END = dt.date(2026, 10, 31)
#: exports are dated the day after the period closes
EXPORTED_AT = dt.datetime(2026, 11, 2, 9, 15, 0)
DEFAULT_PEOPLE = 20_000
DEFAULT_SEED = 20260501
#: people are generated in fixed-size chunks, each from its own child seed, so a chunk's content does not depend on
#: the total size and memory stays bounded at any scale
CHUNK_PEOPLE = 50_000


@dataclass(frozen=True)
class DirtRates:
    """Share of cells (or rows, or people) that carry each kind of dirt.

    Rates are per eligible cell of the named fields, unless the comment says rows or people.
    """

    #: phone written as +86 138-0013-8000, 8613800138000, 138 0013 8000, 138-0013-8000, +8613800138000
    phone_variant: float = 0.18
    #: phone digits (and letters of e-mails) in full-width forms (１３８…)
    fullwidth: float = 0.04
    #: phone with one digit dropped (10 digits, not recoverable)
    phone_missing_digit: float = 0.01
    #: phone replaced by a placeholder: 无, -, NULL, 13800000000, or left empty
    phone_placeholder: float = 0.03
    #: U+3000 ideographic space inside or around a name
    ideographic_space: float = 0.04
    #: name in Traditional characters (where it differs)
    traditional: float = 0.04
    #: one character of the given name replaced by a look-alike / homophone (typo)
    name_typo: float = 0.01
    #: POS member names typed in pinyin rather than Hanzi (rows of pos_members)
    pos_pinyin: float = 0.60
    #: pinyin of a polyphonic surname written with its ordinary (non-surname) reading, e.g. 曾 → ceng
    polyphonic_naive_reading: float = 0.60
    #: address without the 省 / 市 suffixes or without the province (北京朝阳区 vs 北京市朝阳区)
    address_abbreviated: float = 0.30
    #: people who share a family member's phone (people)
    shared_family_phone: float = 0.04
    #: date/time written in a non-ISO format (2025/5/3 14:22, 20250503142201, 2025年5月3日 14:22)
    date_mixed: float = 0.20
    #: amount written with ¥ and/or thousands separators
    amount_formatted: float = 0.15
    #: orders later refunded, the refund a separate negative row referencing the original (orders)
    refund: float = 0.03
    #: test orders by staff (orders)
    test_order: float = 0.005
    #: online orders refunded by their status alone (已退款 / 退款成功, positive amount, no refund row): not GMV
    status_refund: float = 0.01
    #: online orders closed unpaid (交易关闭): not GMV
    status_cancelled: float = 0.008
    #: online orders with a status the default vocabulary does not know (待审核): GMV, reported by the merge
    unknown_status: float = 0.002
    #: rows repeated exactly (same id) within a source (rows)
    duplicate_row: float = 0.01
    #: shipping phones masked by the carrier (138****8000) (shipments rows)
    masked_phone: float = 0.10

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DemoConfig:
    """Size and shape of the generated client."""

    people: int = DEFAULT_PEOPLE
    seed: int = DEFAULT_SEED
    #: average orders per person (identified orders; anonymous store receipts come on top)
    orders_per_person: float = 6.3
    #: anonymous store receipts per identified order
    anonymous_receipt_share: float = 0.19
    #: probability a person is in each customer-bearing system (each person is in at least one)
    presence: dict[str, float] = field(default_factory=lambda: {
        "crm": 0.55, "miniprogram": 0.45, "pos_members": 0.35, "social_leads": 0.25})
    #: channel mix of a person's orders: mall (WeChat mini-program mall), online (Tmall / JD), store
    channel_mix: tuple[float, float, float] = (0.27, 0.23, 0.50)
    dirt: DirtRates = field(default_factory=DirtRates)
