"""The demo client's knobs, in one place: size, period, channel mix and every dirt rate.

Each dirt kind has one rate here; the generator applies it and ``tests/demo/`` checks the generated files meet it
within tolerance. Change a rate here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

PERIOD_START = dt.date(2025, 5, 1)
PERIOD_END = dt.date(2026, 10, 31)
#: days in the period, both ends included (the rows of the daily totals the KPI inputs are drawn from)
N_DAYS = (PERIOD_END - PERIOD_START).days + 1
#: exports are dated the day after the period closes
EXPORTED_AT = dt.datetime(2026, 11, 2, 9, 15, 0)
DEFAULT_PEOPLE = 20_000
DEFAULT_SEED = 20260501
#: people are generated in fixed-size chunks, each from its own child seed, so a chunk's content does not depend on
#: the total size and memory stays bounded at any scale
CHUNK_PEOPLE = 50_000
#: Tmall, JD and Douyin desensitise the receiver of every order paid from this day on (the platforms' privacy rules of
#: 2021): exports and e-waybills carry a masked phone, often a masked name and street
PLATFORM_MASKING_SINCE = dt.date(2021, 1, 1)


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
    #: shipping phones masked by the carrier (138****8000) (shipments rows of mall orders)
    masked_phone: float = 0.10

    # --- platform privacy (Tmall / JD / Douyin orders paid since PLATFORM_MASKING_SINCE, and their waybills) -----
    #: JD / Douyin orders whose receiver phone is a privacy (virtual) number with an extension, 17012345678-1234 or
    #: 17012345678转1234: one per order, the base number shared by strangers (rows of those platforms)
    privacy_number: float = 0.20
    #: receiver phone masked 138****5678 (platform rows without a privacy number)
    platform_masked_phone: float = 0.70
    #: receiver name masked 张* / 张** / 欧阳* (surname kept) (desensitised rows: masked phone or privacy number)
    platform_masked_name: float = 0.50
    #: receiver address with the street masked: 浙江省杭州市西湖区**** or …西湖区文三路**** (desensitised rows)
    platform_masked_address: float = 0.30

    # --- names ----------------------------------------------------------------------------------------------------
    #: a platform's default nickname: 微信用户 (mini-program 微信昵称); 抖音用户3381, 小红薯5F3A1B, 用户… (leads'
    #: 平台昵称, by channel) (rows)
    default_nickname: float = 0.25
    #: the name field holds a nickname (小鱼儿🐟, Lily, 🌸🌸) (leads' 称呼, mini-program 真实姓名; rows with a usable
    #: phone)
    nickname_as_name: float = 0.06
    #: the name field holds an honorific only: 张女士 / 王先生 mostly, 张总, 李姐, 王哥, 刘老师, 陈小姐 (leads' 称呼;
    #: the mini-program's 真实姓名 at a tenth of it) (rows with a usable phone)
    honorific_name: float = 0.35
    #: the name field holds a placeholder: 无, 客户, 未知, test (leads) or 无, 客户, 亲, . (mall / online orders; never
    #: test, which marks staff test orders) (rows with a usable phone)
    placeholder_name: float = 0.02
    #: the receiver is a proxy: 前台代收, 门卫, 丰巢快递柜, 菜鸟驿站, 物业代收 (mall / online orders and shipments;
    #: the phone stays the buyer's)
    proxy_receiver: float = 0.02

    # --- phones ---------------------------------------------------------------------------------------------------
    #: phone exported as a float, 13812345678.0 (pos_members rows written as plain digits)
    phone_as_float: float = 0.08
    #: phone in scientific notation with every digit, 1.3812345678E+10 (pos_members, as above)
    phone_scientific: float = 0.04
    #: phone in scientific notation rounded to six digits, 1.38123E+10: not recoverable (pos_members, as above)
    phone_scientific_truncated: float = 0.01
    #: people who give up their number, which the carrier later hands to an unrelated person: the old records carry
    #: it for the first, the newer ones for the second (people; as many again receive a number)
    recycled_phone: float = 0.004

    # --- keys -----------------------------------------------------------------------------------------------------
    #: receipt's member card number with a tab prefix, "\t00012345" (an Excel text guard) (member receipts)
    receipt_key_tab: float = 0.03
    #: receipt's member card number as a float, 12345.0 (leading zeros lost) (member receipts)
    receipt_key_float: float = 0.03
    #: receipt's member card number without its leading zeros, 12345 for 00012345 (member receipts)
    receipt_key_unpadded: float = 0.08
    #: mini-program members with a unionid (the rest never authorised the open platform) (rows)
    unionid_present: float = 0.85

    # --- addresses ------------------------------------------------------------------------------------------------
    #: street number written 18弄, #18 or 十八号 for 18号 (cells of street addresses)
    address_number_variant: float = 0.12
    #: building written 5幢 or 5号楼 for 5栋 (cells of street addresses)
    address_building_variant: float = 0.12
    #: building, unit and room written 5-2-1201 for 5栋2单元1201室 (cells of street addresses)
    address_compact_room: float = 0.10
    #: street address replaced by a placeholder: 同上, 不详, 无, - (CRM 详细地址)
    address_placeholder: float = 0.02

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
    #: platform mix of online orders: 天猫, 京东, 抖音
    platform_mix: tuple[float, float, float] = (0.50, 0.30, 0.20)
    #: online orders export one row per order line: share of orders with 1, 2, 3, 4 lines (distinct SKUs)
    online_lines: tuple[float, ...] = (0.62, 0.24, 0.10, 0.04)
    dirt: DirtRates = field(default_factory=DirtRates)
