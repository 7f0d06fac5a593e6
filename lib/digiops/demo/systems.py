"""The client's systems: how each one writes a person, an order or a shipment (with its dirt).

Every function takes a chunk of people (see :mod:`digiops.demo.people`) and returns the raw rows of one export
(raw column names, text cells) together with the truth rows that belong to them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.demo import dirt
from digiops.demo.accounts import (SECOND_ACCOUNT, STAFF_INDEX, buyer_ids, openids, privacy_pool, stream,
                                   unionids)
from digiops.demo.config import EXPORTED_AT, PERIOD_END, PERIOD_START, PLATFORM_MASKING_SINCE, DemoConfig
from digiops.demo.dirt import IDEOGRAPHIC_SPACE, text, where, zpad
from digiops.demo.people import phone_at
from digiops.demo.reference import (ADDRESS_PLACEHOLDERS, CARRIERS, COMMUNITIES, EMOJI, HONORIFICS,
                                    LEAD_NAME_PLACEHOLDERS, NICKNAME_WORDS, NICKNAMES, ORDER_NAME_PLACEHOLDERS,
                                    PRODUCTS, PROXY_RECEIVERS, STREETS, TYPO_PAIRS, chinese_numerals, given_table,
                                    surname_table, traditional_map)

_DAY = np.timedelta64(1, "D")
_SEC = np.timedelta64(1, "s")
_HOUR = np.timedelta64(3600, "s")
N_STORES = 30
GENDER_ZH = {"F": "女", "M": "男"}
#: online platforms, in the order of ``DemoConfig.platform_mix``
PLATFORMS = ("天猫", "京东", "抖音")
_MASKING_SINCE = np.datetime64(PLATFORM_MASKING_SINCE, "s")


def store_ids() -> np.ndarray:
    return np.asarray([f"S{i:03d}" for i in range(1, N_STORES + 1)], dtype=object)


def product_table() -> pd.DataFrame:
    rows = []
    for c, (category, items) in enumerate(PRODUCTS):
        for i, (name, price) in enumerate(items, 1):
            rows.append({"sku": f"SKU{c + 1}{i:03d}", "product_name": name, "category": category,
                         "price_cents": int(round(price * 100))})
    return pd.DataFrame(rows)


# --- how a system writes a person ---------------------------------------------------------------------------------
def render_name(people: dict, rows: np.ndarray, rng: np.random.Generator, rates, clean: np.ndarray) -> pd.Series:
    """Names of ``people[rows]`` in Hanzi; rows where ``clean`` is True stay exactly as the person's name (they
    are the ones whose phone is unusable, so the name must carry the match)."""
    surnames = surname_table()[0]
    given = given_table()[0]
    n = len(rows)
    g1, g2 = people["g1"][rows], people["g2"][rows]
    typo_of = np.asarray([TYPO_PAIRS.get(c, c) for c in given], dtype=object)
    typo = dirt.pick(rng, n, rates.name_typo) & ~clean
    last_is_g2 = g2 >= 0
    g1_char = np.where(typo & ~last_is_g2, typo_of[g1], given[g1])
    g2_char = np.where(last_is_g2, np.where(typo, typo_of[np.maximum(g2, 0)], given[np.maximum(g2, 0)]), "")
    surname = text(surnames[people["surname_i"][rows]])
    given_text = text(g1_char) + text(g2_char)
    traditional = dirt.pick(rng, n, rates.traditional) & ~clean
    table = str.maketrans(traditional_map())
    surname = dirt.patch(traditional, surname, lambda v: v.str.translate(table))
    given_text = dirt.patch(traditional, given_text, lambda v: v.str.translate(table))
    spaced = dirt.pick(rng, n, rates.ideographic_space) & ~clean
    where_space = rng.integers(0, 3, n)
    name = surname + given_text
    name = where(spaced & (where_space == 0), surname + IDEOGRAPHIC_SPACE + given_text, name)
    name = where(spaced & (where_space == 1), name + IDEOGRAPHIC_SPACE, name)
    name = where(spaced & (where_space == 2), IDEOGRAPHIC_SPACE + name, name)
    return name


def render_pinyin(people: dict, rows: np.ndarray, rng: np.random.Generator, rates) -> pd.Series:
    """Names in pinyin as a cashier types them: ``Zhang Wei``, ``ZHANG WEI``, ``zhangwei``, ``Wei Zhang``;
    polyphonic surnames often with their ordinary reading (曾 → ceng)."""
    n = len(rows)
    proper, naive = text(people["surname_pinyin"][rows]), text(people["surname_naive"][rows])
    surname = where(dirt.pick(rng, n, rates.polyphonic_naive_reading), naive, proper)
    given = text(people["given_pinyin"][rows])
    cap = lambda s: s.str.slice(0, 1).str.upper() + s.str.slice(1)  # noqa: E731
    styles = [cap(surname) + " " + cap(given), (surname + " " + given).str.upper(), surname + given,
              cap(given) + " " + cap(surname)]
    which = rng.integers(0, len(styles), n)
    out = styles[0]
    for k in range(1, len(styles)):
        out = where(which == k, styles[k], out)
    return out


def honorifics(people: dict, rows: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """张女士 / 王先生 mostly; 陈小姐, 李姐, 王哥, 张总, 刘老师 (suffixes of :data:`HONORIFICS`, by gender)."""
    n = len(rows)
    surname = text(surname_table()[0][people["surname_i"][rows]])
    female = people["gender"][rows] == "F"
    u = rng.random(n)
    suffix = np.empty(n, dtype=object)
    for gender, mask in (("F", female), ("M", ~female)):
        names = np.asarray([s for s, _ in HONORIFICS[gender]], dtype=object)
        cum = np.cumsum([w for _, w in HONORIFICS[gender]])
        suffix[mask] = names[np.minimum(np.searchsorted(cum / cum[-1], u[mask]), len(names) - 1)]
    return surname + text(suffix)


def nicknames(rng: np.random.Generator, n: int) -> pd.Series:
    """Nicknames people pick: word combinations with digits (茶喵07, LuckyCoco88), whole nicknames (小鱼儿🐟,
    Lily, 🌸), a word with an emoji (柠檬🍋)."""
    words = np.asarray(NICKNAME_WORDS, dtype=object)
    combined = (text(words[rng.integers(0, len(words), n)]) + text(words[rng.integers(0, len(words), n)])
                + zpad(rng.integers(0, 100, n), 2))
    whole = text(np.asarray(NICKNAMES, dtype=object)[rng.integers(0, len(NICKNAMES), n)])
    emoji = text(words[rng.integers(0, len(words), n)]) + text(np.asarray(EMOJI, dtype=object)[
        rng.integers(0, len(EMOJI), n)])
    kind = rng.choice(3, n, p=[0.5, 0.35, 0.15])
    return where(kind == 1, whole, where(kind == 2, emoji, combined))


def render_address(people: dict, rows: np.ndarray, rng: np.random.Generator, rates, *,
                   detail: bool = True, separator: str = "") -> tuple[pd.Series, np.ndarray]:
    """Full address (省 + 市 + 区 + street), or abbreviated at ``rates.address_abbreviated``:
    ``北京朝阳区…``, ``浙江杭州西湖区…`` or ``杭州市西湖区…``. Returns the text and the abbreviated mask."""
    n = len(rows)
    province, city = text(people["province"][rows]), text(people["city"][rows])
    district = text(people["district"][rows])
    municipality = (province == city).to_numpy()
    sep = separator
    full = where(municipality, province + sep + district, province + sep + city + sep + district)
    short_province = province.str.replace(r"[省市]$", "", regex=True)
    short_city = city.str.replace(r"市$", "", regex=True)
    stripped = where(municipality, short_province + sep + district, short_province + sep + short_city + sep + district)
    no_province = where(municipality, short_province + sep + district, city + sep + district)
    abbreviated = dirt.pick(rng, n, rates.address_abbreviated)
    which = rng.integers(0, 2, n)
    out = where(abbreviated & (which == 0), stripped, full)
    out = where(abbreviated & (which == 1), no_province, out)
    if detail:
        out = out + render_detail(people, rows, rng, rates)
    return out, abbreviated


def render_detail(people: dict, rows: np.ndarray, rng: np.random.Generator, rates) -> pd.Series:
    """The street part of the address as each clerk writes the house number: ``18号`` or (at
    ``rates.address_number_variant``) ``18弄`` / ``#18`` / ``十八号``; ``5栋`` or ``5幢`` / ``5号楼``
    (``address_building_variant``); ``5栋2单元1201室`` or ``5-2-1201`` (``address_compact_room``)."""
    n = len(rows)
    street = text(np.asarray(STREETS, dtype=object)[people["street_i"][rows]])
    number = text(people["street_no"][rows])
    community = text(np.asarray(COMMUNITIES, dtype=object)[people["community_i"][rows]])
    building, unit, room = (text(people[k][rows]) for k in ("building", "unit", "room"))
    has_unit = people["unit"][rows] > 0
    empty = pd.Series([""] * n, dtype="str")

    kind = np.where(dirt.pick(rng, n, rates.address_number_variant), rng.integers(1, 4, n), 0)
    house = where(kind == 1, number + "弄", number + "号")
    house = where(kind == 2, "#" + number, house)
    house = dirt.patch(kind == 3, house, lambda _: text(chinese_numerals()[people["street_no"][rows][kind == 3]])
                       + "号")
    u = rng.random(n)
    compact = u < rates.address_compact_room
    varied = ~compact & (u < rates.address_compact_room + rates.address_building_variant)
    tower = where(varied & (rng.random(n) < 0.5), pd.Series(["号楼"] * n, dtype="str"),
                  where(varied, pd.Series(["幢"] * n, dtype="str"), pd.Series(["栋"] * n, dtype="str")))
    long_form = building + tower + where(has_unit, unit + "单元", empty) + room + "室"
    short_form = building + "-" + where(has_unit, unit + "-", empty) + room
    return street + house + community + where(compact, short_form, long_form)


def _identity(source: str, record_ids: pd.Series, person_ids) -> pd.DataFrame:
    return pd.DataFrame({"source": source, "record_id": record_ids.to_numpy(),
                         "person_id": np.asarray(person_ids, dtype=object)})


def _reregistered(rows: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Some people register twice in one system (a second record with a new id): ER's bread and butter."""
    again = dirt.pick(rng, len(rows), rate)
    return np.sort(np.concatenate([rows, rows[again]]), kind="stable")


def _second(rows: np.ndarray) -> np.ndarray:
    """Rows that repeat the person of the row before (the second registration of :func:`_reregistered`)."""
    return np.concatenate([[False], rows[1:] == rows[:-1]]) if len(rows) else np.zeros(0, bool)


def _given_length(people: dict, rows: np.ndarray) -> np.ndarray:
    return 1 + (people["g2"][rows] >= 0)


def _choice(rng: np.random.Generator, options: tuple[str, ...], n: int) -> pd.Series:
    return text(np.asarray(options, dtype=object)[rng.integers(0, len(options), n)])


REREGISTRATION_RATE = 0.02


def crm_records(people: dict, rng: np.random.Generator, config: DemoConfig, first_id: int):
    rates = config.dirt
    rows = _reregistered(np.flatnonzero(people["presence"][:, 0]), rng, REREGISTRATION_RATE)
    n = len(rows)
    ids = "KH" + zpad(np.arange(first_id, first_id + n), 8)
    extra = stream(config.seed, first_id, 0xC1)
    phone, broken = dirt.format_phone(phone_at(people, rows, people["registered"][rows]), rng, rates)
    detail = render_detail(people, rows, extra, rates)
    detail = where(dirt.pick(extra, n, rates.address_placeholder),
                   _choice(extra, ADDRESS_PLACEHOLDERS, n), detail)
    email = text(people["email"][rows])
    email = dirt.patch(dirt.pick(rng, n, rates.fullwidth), email, dirt.to_fullwidth)
    province, city = text(people["province"][rows]), text(people["city"][rows])
    frame = pd.DataFrame({
        "客户编号": ids,
        "姓名": render_name(people, rows, rng, rates, broken),
        "性别": text(pd.Series(people["gender"][rows]).map(GENDER_ZH)),
        "出生日期": dirt.format_datetime(people["birth"][rows], rng, rates.date_mixed, date_only=True),
        "手机号": phone,
        "电子邮箱": email,
        "省份": where(dirt.pick(rng, n, rates.address_abbreviated), province.str.replace(r"[省市]$", "", regex=True),
                    province),
        "城市": city,
        "区县": text(people["district"][rows]),
        "详细地址": detail,
        "会员等级": text(people["member_level"][rows]),
        "注册时间": dirt.format_datetime(people["registered"][rows], rng, rates.date_mixed),
    })
    return frame, _identity("crm", ids, people["person_id"][rows])


def miniprogram_records(people: dict, rng: np.random.Generator, config: DemoConfig, first_id: int):
    """Mini-program members with their WeChat openid (and unionid when authorised); a second registration is a
    second WeChat account. Nicknames: 微信用户 (WeChat's default since 2022) or the member's own; 真实姓名 is
    sometimes empty, the nickname again, or an honorific."""
    rates = config.dirt
    rows = _reregistered(np.flatnonzero(people["presence"][:, 1]), rng, REREGISTRATION_RATE)
    n = len(rows)
    ids = "MP" + zpad(np.arange(first_id, first_id + n), 9)
    extra = stream(config.seed, first_id, 0xC2)
    phone, broken = dirt.format_phone(phone_at(people, rows, people["registered"][rows]), rng, rates)
    name = render_name(people, rows, rng, rates, broken)
    name = where(dirt.pick(rng, n, 0.08) & ~broken, pd.Series([""] * n, dtype="str"), name)  # 未填写真实姓名
    words = np.asarray(NICKNAME_WORDS, dtype=object)
    nickname = text(words[rng.integers(0, len(words), n)]) + text(words[rng.integers(0, len(words), n)]) + zpad(
        rng.integers(0, 100, n), 2)
    nickname = where(extra.random(n) < 0.5, nicknames(extra, n), nickname)
    nickname = where(dirt.pick(extra, n, rates.default_nickname), pd.Series(["微信用户"] * n, dtype="str"), nickname)
    u = extra.random(n)
    as_nickname = ~broken & (u < rates.nickname_as_name)
    as_honorific = ~broken & ~as_nickname & (u < rates.nickname_as_name + rates.honorific_name / 10)
    name = where(as_nickname, nickname, name)
    name = where(as_honorific, honorifics(people, rows, extra), name)
    region, _ = render_address(people, rows, rng, rates, detail=False, separator=" ")
    account = people["index"][rows] + np.where(_second(rows), SECOND_ACCOUNT, 0)
    unionid = where(dirt.pick(extra, n, rates.unionid_present), text(unionids(account, config.seed)),
                    pd.Series([""] * n, dtype="str"))
    frame = pd.DataFrame({
        "会员ID": ids, "openid": text(openids(account, config.seed)), "unionid": unionid, "微信昵称": nickname,
        "真实姓名": name, "手机号码": phone,
        "性别": text(pd.Series(people["gender"][rows]).map(GENDER_ZH)),
        "生日": dirt.format_datetime(people["birth"][rows], rng, rates.date_mixed, date_only=True),
        "所在地区": region,
        "注册时间": dirt.format_datetime(people["registered"][rows], rng, rates.date_mixed),
        "会员等级": text(people["member_level"][rows]),
        "积分": text(rng.integers(0, 20000, n)),
    })
    return frame, _identity("miniprogram", ids, people["person_id"][rows])


def pos_member_records(people: dict, rng: np.random.Generator, config: DemoConfig, first_id: int):
    """POS members, and each member's card number (for receipts)."""
    rates = config.dirt
    rows = np.flatnonzero(people["presence"][:, 2])
    n = len(rows)
    # all-digit card numbers with leading zeros (00012345): spreadsheets and receipts drop them
    ids = zpad(np.arange(first_id, first_id + n), 8)
    extra = stream(config.seed, first_id, 0xC3)
    opened = np.maximum(people["registered"][rows], np.datetime64(PERIOD_START, "s") - 365 * 86400 * _SEC)
    true_phone = phone_at(people, rows, opened)
    phone, broken = dirt.format_phone(true_phone, rng, rates)
    # the member table went through a spreadsheet: numbers written as plain digits became floats
    u = extra.random(n)
    edges = np.cumsum([rates.phone_as_float, rates.phone_scientific, rates.phone_scientific_truncated])
    kind = np.where(u < edges[0], 1, np.where(u < edges[1], 2, np.where(u < edges[2], 3, 0)))
    kind = np.where(phone.str.fullmatch(r"[0-9]{11}").to_numpy(), kind, 0)
    phone = where(kind > 0, dirt.phone_as_number(true_phone, kind), phone)
    broken = broken | (kind == 3)
    hanzi = render_name(people, rows, rng, rates, broken)
    pinyin = render_pinyin(people, rows, rng, rates)
    name = where(dirt.pick(rng, n, rates.pos_pinyin) & ~broken, pinyin, hanzi)
    has_birth = rng.random(n) < 0.7
    birth = where(has_birth, dirt.format_datetime(people["birth"][rows], rng, rates.date_mixed, date_only=True),
                  pd.Series([""] * n, dtype="str"))
    frame = pd.DataFrame({
        "会员卡号": ids, "姓名": name, "手机": phone, "生日": birth,
        "开卡门店": text(store_ids()[people["home_store"][rows]]),
        "开卡日期": dirt.format_datetime(opened, rng, rates.date_mixed, date_only=True),
    })
    card = np.full(len(people["index"]), "", dtype=object)
    card[rows] = ids.to_numpy(dtype=object)
    return frame, _identity("pos_members", ids, people["person_id"][rows]), card


def social_lead_records(people: dict, rng: np.random.Generator, config: DemoConfig, first_id: int,
                        first_order: np.ndarray):
    """Leads: the form asks for a 称呼 and a phone; captured before the first order. The 称呼 is often an honorific
    (张女士, 王先生, 李姐, 张总), sometimes the platform nickname or a placeholder; the 平台昵称 is often the
    platform's default (抖音用户3381, 小红薯5F3A1B2C, 微信用户, 用户5930284715)."""
    rates = config.dirt
    rows = np.flatnonzero(people["presence"][:, 3])
    n = len(rows)
    ids = "XS" + zpad(np.arange(first_id, first_id + n), 8)
    extra = stream(config.seed, first_id, 0xC4)
    first = first_order[rows]
    start = np.datetime64(PERIOD_START, "s")
    # a lead that never buys was captured any time in the period (not all at its end: marketing spend follows the
    # leads, and the months' CAC would not compare)
    end = np.datetime64(PERIOD_END, "s")
    anytime = start + (extra.random(n) * (end - start).astype(np.int64)).astype(np.int64) * _SEC
    latest = np.where(np.isnat(first), anytime, first)
    captured = np.maximum(latest - rng.integers(1, 45 * 86400, n) * _SEC, start - 60 * 86400 * _SEC)
    phone, broken = dirt.format_phone(phone_at(people, rows, captured), rng, rates)
    full = render_name(people, rows, rng, rates, broken)
    words = np.asarray(NICKNAME_WORDS, dtype=object)
    nickname = text(words[rng.integers(0, len(words), n)]) + zpad(rng.integers(0, 1000, n), 3)
    nickname = where(extra.random(n) < 0.5, nicknames(extra, n), nickname)
    channel = people["lead_channel"][rows]
    serial = extra.integers(0, 10**10, n)
    default = np.select(
        [channel == "抖音", channel == "小红书", channel == "微信公众号"],
        [("抖音用户" + text(serial % 10**4)).to_numpy(dtype=object),
         ("小红薯" + pd.Series(serial % 16**8).map("{:08X}".format).astype("str")).to_numpy(dtype=object),
         np.full(n, "微信用户", dtype=object)],
        ("用户" + zpad(serial, 10)).to_numpy(dtype=object))
    nickname = where(dirt.pick(extra, n, rates.default_nickname), text(default), nickname)
    u = extra.random(n)
    edges = np.cumsum([rates.honorific_name, rates.nickname_as_name, rates.placeholder_name])
    name = where(~broken & (u < edges[0]), honorifics(people, rows, extra), full)
    name = where(~broken & (u >= edges[0]) & (u < edges[1]), nickname, name)
    name = where(~broken & (u >= edges[1]) & (u < edges[2]), _choice(extra, LEAD_NAME_PLACEHOLDERS, n), name)
    frame = pd.DataFrame({
        "线索编号": ids, "平台昵称": nickname, "称呼": name, "手机号": phone, "城市": text(people["city"][rows]),
        "来源渠道": text(channel), "活动名称": text(people["lead_campaign"][rows]),
        "留资时间": dirt.format_datetime(captured, rng, rates.date_mixed),
    })
    return frame, _identity("social_leads", ids, people["person_id"][rows])


# --- orders -------------------------------------------------------------------------------------------------------
def day_weights(n_days: int) -> np.ndarray:
    """Demand by day: slow growth, weekends, promotions (618, 双11, 双12) and a weak Spring Festival month."""
    days = np.datetime64(PERIOD_START) + np.arange(n_days) * _DAY
    stamps = pd.DatetimeIndex(days)
    weight = 1.0 + 0.25 * np.arange(n_days) / n_days
    weight = weight * np.where(stamps.day_of_week >= 5, 1.3, 1.0)
    month = stamps.strftime("%Y-%m").to_numpy()
    boosts = {"2025-06": 1.25, "2025-11": 1.55, "2025-12": 1.15, "2026-02": 0.65, "2026-06": 1.3,
              "2026-07": 1.1, "2026-08": 1.1}
    for period, factor in boosts.items():
        weight = np.where(month == period, weight * factor, weight)
    return weight / weight.sum()


def order_skus(rng: np.random.Generator, channel: np.ndarray, products: pd.DataFrame) -> np.ndarray:
    """SKU index per order: drinks dominate stores; snacks and gift boxes sell online."""
    category = products["category"].to_numpy()
    store_w = np.where(np.isin(category, ["奶茶", "果茶", "原叶茶"]), 3.0, np.where(category == "礼盒", 0.1, 1.0))
    online_w = np.where(np.isin(category, ["零食", "烘焙"]), 2.5, np.where(category == "礼盒", 0.5, 1.0))
    out = np.empty(len(channel), dtype=np.int64)
    for ch, w in ((0, online_w), (1, online_w), (2, store_w)):
        mask = channel == ch
        out[mask] = rng.choice(len(products), int(mask.sum()), p=w / w.sum())
    return out


def make_orders(people: dict, rng: np.random.Generator, weights: np.ndarray, products: pd.DataFrame) -> dict:
    """Identified orders of a chunk: owner (row in the chunk), channel 0 mall / 1 online / 2 store, time, sku,
    quantity, amount in cents, store."""
    counts = people["n_orders"]
    owner = np.repeat(np.arange(len(counts)), counts)
    m = len(owner)
    u = rng.random(m)
    cum = people["channel_cum"][owner]
    channel = (u > cum[:, 0]).astype(np.int64) + (u > cum[:, 1])
    moment = order_moments(rng, m, weights, channel)
    sku = order_skus(rng, channel, products)
    quantity = np.where(channel == 2, rng.choice([1, 2, 3], m, p=[0.72, 0.23, 0.05]),
                        rng.choice([1, 2, 3, 4], m, p=[0.45, 0.3, 0.15, 0.1]))
    amount = products["price_cents"].to_numpy()[sku] * quantity
    coupon = (rng.random(m) < 0.2) & (amount > 3000)
    amount = amount - np.where(coupon, 300, 0)
    home = people["home_store"][owner]
    roam = rng.random(m) < 0.15
    store = np.where(roam, (home // 3) * 3 + rng.integers(0, 3, m), home) % N_STORES
    return {"owner": owner, "channel": channel, "moment": moment, "sku": sku, "quantity": quantity,
            "amount": amount, "store": store}


def order_moments(rng: np.random.Generator, m: int, weights: np.ndarray, channel: np.ndarray) -> np.ndarray:
    day = rng.choice(len(weights), m, p=weights)
    store_second = rng.integers(10 * 3600, 21 * 3600 + 1800, m)
    online_second = np.clip(rng.normal(15.5 * 3600, 4.5 * 3600, m), 0, 86399).astype(np.int64)
    second = np.where(channel == 2, store_second, online_second)
    return np.datetime64(PERIOD_START, "s") + day * 86400 * _SEC + second * _SEC


def refund_moments(rng: np.random.Generator, moment: np.ndarray) -> np.ndarray:
    later = moment + rng.integers(2 * 3600, 7 * 86400, len(moment)) * _SEC
    return np.minimum(later, np.datetime64(EXPORTED_AT, "s") - 86400 * _SEC)


def _order_status(n: int, refund: np.ndarray, zh_done: str, zh_refund: str) -> pd.Series:
    return pd.Series(np.where(refund, zh_refund, zh_done), dtype="str")


#: status outcomes of online orders: none, refunded by status alone, closed unpaid, a status nobody mapped
STATUS_PLAIN, STATUS_REFUNDED, STATUS_CANCELLED, STATUS_UNKNOWN = range(4)


def status_outcomes(eligible: np.ndarray, config: DemoConfig, first_id: int) -> np.ndarray:
    """Which ``eligible`` rows (originals without a refund row, not tests) Tmall / JD close through their status
    alone (:data:`STATUS_REFUNDED`, :data:`STATUS_CANCELLED`, :data:`STATUS_UNKNOWN`; else :data:`STATUS_PLAIN`).

    Drawn from a stream of their own (the seed and the chunk's first order number), so every other value of the
    client is what it was before this dirt existed.
    """
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([config.seed, first_id, 18])))
    rates = config.dirt
    u = rng.random(len(eligible))
    edges = np.cumsum([rates.status_refund, rates.status_cancelled, rates.unknown_status])
    outcome = np.where(u < edges[0], STATUS_REFUNDED, np.where(u < edges[1], STATUS_CANCELLED,
                                                               np.where(u < edges[2], STATUS_UNKNOWN, STATUS_PLAIN)))
    return np.where(eligible, outcome, STATUS_PLAIN)


def _desensitise(platform: np.ndarray, placed: np.ndarray, eligible: np.ndarray, rng: np.random.Generator,
                 rates, seed: int, privacy_phone: pd.Series | None = None) -> dict:
    """What a platform hides of a receiver (rows of Tmall / JD / Douyin orders paid since
    :data:`~digiops.demo.config.PLATFORM_MASKING_SINCE`; ``platform`` indexes :data:`PLATFORMS`, -1 for none):
    a privacy number with an extension (JD / Douyin; drawn here, or the order's ``privacy_phone`` where given),
    else often a masked phone; a masked name and street on many of those."""
    n = len(platform)
    on_platform = eligible & (platform >= 0) & (placed >= _MASKING_SINCE)
    if privacy_phone is None:
        privacy = on_platform & (platform >= 1) & dirt.pick(rng, n, rates.privacy_number)
        pool = privacy_pool(seed)

        def numbers(v: pd.Series) -> pd.Series:
            k = len(v)
            return dirt.privacy_phone(pool[rng.integers(0, len(pool), k)], rng.integers(0, 10_000, k),
                                      np.where(rng.random(k) < 0.6, "-", "转"))

        privacy_phone = dirt.patch(privacy, pd.Series([""] * n, dtype="str"), numbers)
    else:
        privacy = on_platform & (privacy_phone != "").to_numpy()
    masked_phone = on_platform & ~privacy & dirt.pick(rng, n, rates.platform_masked_phone)
    hidden = privacy | masked_phone
    return {"privacy": privacy, "privacy_phone": privacy_phone, "masked_phone": masked_phone, "hidden": hidden,
            "masked_name": hidden & dirt.pick(rng, n, rates.platform_masked_name),
            "masked_address": hidden & dirt.pick(rng, n, rates.platform_masked_address),
            "street_kept": rng.random(n) < 0.5}


def _receiver(people: dict, persons: np.ndarray, placed: np.ndarray, hidden: dict, real: np.ndarray,
              rng: np.random.Generator, rates, placeholders: tuple[str, ...] = ()) -> dict:
    """Receiver name, phone and address of order / waybill rows, with the platform's desensitisation (``hidden``)
    applied; a proxy receiver (前台代收, 丰巢快递柜) or a placeholder name on a few rows whose phone is usable.
    ``real``: rows of real customers (not staff test orders)."""
    n = len(persons)
    true_phone = phone_at(people, persons, placed)
    phone, broken = dirt.format_phone(true_phone, rng, rates)
    name = render_name(people, persons, rng, rates, broken | hidden["hidden"])
    region, _ = render_address(people, persons, rng, rates, detail=False)
    street = render_detail(people, persons, rng, rates)
    masked_street = where(hidden["street_kept"], text(np.asarray(STREETS, dtype=object)[people["street_i"][persons]])
                          + "****", pd.Series(["****"] * n, dtype="str"))
    surname = text(surname_table()[0][people["surname_i"][persons]])
    name = where(hidden["masked_name"], dirt.mask_name(surname, _given_length(people, persons)), name)
    usable = real & ~broken & ~hidden["hidden"]
    u = rng.random(n)
    proxy = usable & (u < rates.proxy_receiver)
    name = where(proxy, _choice(rng, PROXY_RECEIVERS, n), name)
    if placeholders:
        placeholder = usable & (u >= rates.proxy_receiver) & (u < rates.proxy_receiver + rates.placeholder_name)
        name = where(placeholder, _choice(rng, placeholders, n), name)
    phone = where(hidden["masked_phone"], dirt.mask_phone(text(true_phone)), phone)
    phone = where(hidden["privacy"], hidden["privacy_phone"], phone)
    address = region + where(hidden["masked_address"], masked_street, street)
    return {"name": name, "phone": phone, "address": address}


def _order_lines(orders: dict, sel: np.ndarray, base: np.ndarray, kind: np.ndarray, rng: np.random.Generator,
                 config: DemoConfig, products: pd.DataFrame) -> dict:
    """Line items of online orders: each original order has 1–4 lines (``config.online_lines``) of distinct SKUs,
    the first its own SKU, quantity and (coupon-reduced) amount; a refund row repeats its original's lines
    negated; a test order has one line. Returns, per line, the row it belongs to, its number, sku, quantity and
    signed cents."""
    n, width = len(sel), len(config.online_lines)
    counts = 1 + rng.choice(width, n, p=np.asarray(config.online_lines) / sum(config.online_lines))
    sku = np.zeros((n, width), dtype=np.int64)
    sku[:, 0] = orders["sku"][sel]
    for j in range(1, width):
        sku[:, j] = order_skus(rng, np.ones(n, np.int64), products)
        clash = (sku[:, j:j + 1] == sku[:, :j]).any(axis=1)
        while clash.any():
            sku[clash, j] = order_skus(rng, np.ones(int(clash.sum()), np.int64), products)
            clash = (sku[:, j:j + 1] == sku[:, :j]).any(axis=1)
    quantity = rng.choice([1, 2, 3], (n, width), p=[0.7, 0.22, 0.08])
    quantity[:, 0] = orders["quantity"][sel]
    cents = products["price_cents"].to_numpy()[sku] * quantity
    cents[:, 0] = orders["amount"][sel]
    lines = np.where(kind == 2, 1, counts[base]) if n else np.ones(len(kind), np.int64)
    row = np.repeat(np.arange(len(kind)), lines)
    number = np.arange(len(row)) - np.repeat(np.cumsum(lines) - lines, lines)
    origin = base[row]
    if n:
        line_sku, line_qty, line_cents = sku[origin, number], quantity[origin, number], cents[origin, number]
    else:
        line_sku = line_qty = line_cents = np.zeros(len(row), np.int64)
    line_cents = np.where(kind[row] == 1, -line_cents, line_cents)
    return {"row": row, "number": number, "sku": line_sku, "quantity": line_qty, "cents": line_cents}


def person_order_rows(source: str, people: dict, orders: dict, sel: np.ndarray, rng: np.random.Generator,
                      config: DemoConfig, first_id: int, products: pd.DataFrame):
    """Mall or online orders of the chunk (``sel``: which orders), plus refunds and test orders.

    Mall orders are one row per order and carry the buyer's mini-program openid. Online orders (天猫 / 京东 / 抖音)
    are one row per order line, carry the buyer's platform id (买家ID) and the platform's desensitisation.

    Returns the raw frame, identity truth, order truth, line truth (None for the mall), the shipment basis
    (original orders) and the daily stats.
    """
    rates = config.dirt
    online = source == "online_orders"
    extra = stream(config.seed, first_id, 0xD2 if online else 0xD1)
    owner = orders["owner"][sel]
    n = len(owner)
    refunded = dirt.pick(rng, n, rates.refund)
    n_test = rng.binomial(n, rates.test_order)
    # rows: originals, then their refunds, then test orders; sorted by time as the system exports them
    moment = np.concatenate([orders["moment"][sel], refund_moments(rng, orders["moment"][sel][refunded]),
                             np.datetime64(PERIOD_START, "s") + rng.integers(0, 548 * 86400, n_test) * _SEC])
    kind = np.concatenate([np.zeros(n, np.int8), np.ones(int(refunded.sum()), np.int8), np.full(n_test, 2, np.int8)])
    base = np.concatenate([np.arange(n), np.flatnonzero(refunded), np.zeros(n_test, np.int64)])
    order = np.lexsort((np.arange(len(moment)), moment))
    moment, kind, base = moment[order], kind[order], base[order]
    total = len(moment)
    test = kind == 2
    # a refund row repeats its order's receiver: as of the order's time
    placed = np.where(test, moment, orders["moment"][sel][base] if n else moment)
    serial = np.arange(first_id, first_id + total)
    day_text = pd.Series(np.datetime_as_string(moment.astype("datetime64[D]")), dtype="str").str.replace(
        "-", "", regex=False)
    if online:
        per_order = extra.choice(len(PLATFORMS), n, p=np.asarray(config.platform_mix) / sum(config.platform_mix))
        platform_code = np.where(test, extra.integers(0, len(PLATFORMS), total), per_order[base] if n else 0)
        platform = np.asarray(PLATFORMS, dtype=object)[platform_code]
        ids = where(platform_code == 0, "TM" + zpad(serial, 14), "JD" + zpad(serial, 14))
        ids = where(platform_code == 2, "69" + zpad(serial, 17), ids)  # Douyin: 19 digits
        hidden_order = _desensitise(per_order, orders["moment"][sel], np.ones(n, bool), extra, rates, config.seed)
        # what the platform hides is per order: a refund row shows its order's receiver as the order does
        hidden = {k: v.iloc[base].reset_index(drop=True) if isinstance(v, pd.Series) else v[base] & ~test
                  for k, v in hidden_order.items()}
    else:
        ids = "WX" + day_text + zpad(serial, 8)
        hidden = _desensitise(np.full(total, -1), placed, ~test, extra, rates, config.seed)
    original_id = pd.Series(np.full(n, "", dtype=object), dtype="str")
    original_id.iloc[base[kind == 0]] = ids[kind == 0].to_numpy()
    refund_of = where(kind == 1, original_id.iloc[base].reset_index(drop=True), pd.Series([""] * total, dtype="str"))
    persons = owner[base]
    receiver = _receiver(people, persons, placed, hidden, ~test, extra, rates, ORDER_NAME_PLACEHOLDERS)
    name, phone, address = receiver["name"], receiver["phone"], receiver["address"]
    testers = np.asarray(["测试", "test", "内部测试", "测试账号"], dtype=object)[rng.integers(0, 4, total)]
    name = where(test, text(testers), name)
    phone = where(test, pd.Series(np.where(rng.random(total) < 0.5, "13800000000", "13900000000"), dtype="str"),
                  phone)
    note = pd.Series(np.where(test, "测试订单 勿发货", np.where(rng.random(total) < 0.05, "少冰少糖", "")), dtype="str")
    test_cents = rng.choice([1, 100], total)
    when = dirt.format_datetime(moment, rng, rates.date_mixed)
    account = np.where(test, STAFF_INDEX, people["index"][persons])
    valid = ~test
    if source == "mall_orders":
        sku = orders["sku"][sel][base]
        quantity = np.where(test, 1, orders["quantity"][sel][base])
        cents = np.where(kind == 1, -orders["amount"][sel][base], orders["amount"][sel][base])
        cents = np.where(test, test_cents, cents)
        frame = pd.DataFrame({
            "订单编号": ids, "下单时间": when, "openid": text(openids(account, config.seed)), "买家姓名": name,
            "买家手机": phone, "收货地址": address, "商品编码": text(products["sku"].to_numpy()[sku]),
            "商品名称": text(products["product_name"].to_numpy()[sku]), "数量": text(quantity),
            "实付金额": dirt.format_amount(cents, dirt.pick(rng, total, rates.amount_formatted)),
            "订单状态": _order_status(total, kind == 1, "已完成", "退款成功"), "退款原单号": refund_of, "备注": note})
        line_truth = None
    else:
        lines = _order_lines(orders, sel, base, kind, extra, config, products)
        row = lines["row"]
        line_test = test[row]
        line_cents = np.where(line_test, test_cents[row], lines["cents"])
        cents = np.zeros(total, np.int64)
        np.add.at(cents, row, line_cents)
        outcome = status_outcomes((kind == 0) & ~(refunded[base] if n else False) & ~test, config, first_id)
        done = text(np.asarray(["交易成功", "交易成功", "已完成"], dtype=object)[platform_code])
        status = where(kind == 1, pd.Series(["已退款"] * total, dtype="str"), done)
        # Tmall and Douyin say 退款成功, JD 已退款: the money went back, no refund row follows
        status = where(outcome == STATUS_REFUNDED, text(np.where(platform_code == 1, "已退款", "退款成功")), status)
        closed = text(np.where(platform_code == 2, "已关闭", "交易关闭"))
        status = where(outcome == STATUS_CANCELLED, closed, status)
        status = where(outcome == STATUS_UNKNOWN, pd.Series(["待审核"] * total, dtype="str"), status)
        valid = valid & ~np.isin(outcome, [STATUS_REFUNDED, STATUS_CANCELLED])
        buyer = np.empty(total, dtype=object)
        for code, name_zh in enumerate(PLATFORMS):
            mine = platform_code == code
            buyer[mine] = buyer_ids(account[mine], name_zh, config.seed)
        line_ids = ids.iloc[row].reset_index(drop=True) + zpad(lines["number"] + 1, 2)

        def per_line(values) -> pd.Series:
            values = values if isinstance(values, pd.Series) else text(values)
            return values.iloc[row].reset_index(drop=True)

        line_qty = np.where(line_test, 1, lines["quantity"])
        frame = pd.DataFrame({
            "订单号": per_line(ids), "子订单号": line_ids, "平台": per_line(platform), "付款时间": per_line(when),
            "买家ID": per_line(buyer), "收货人": per_line(name), "联系电话": per_line(phone),
            "收货地址": per_line(address), "商品编码": text(products["sku"].to_numpy()[lines["sku"]]),
            "购买数量": text(line_qty),
            "商品金额": dirt.format_amount(line_cents, dirt.pick(rng, len(row), rates.amount_formatted)),
            "订单状态": per_line(status), "原订单号": per_line(refund_of), "买家留言": per_line(note)})
        line_truth = pd.DataFrame({"source": source, "order_id": frame["订单号"].to_numpy(),
                                   "line_id": line_ids.to_numpy(), "sku": frame["商品编码"].to_numpy(),
                                   "quantity": line_qty, "amount_cents": line_cents})
    person_ids = np.where(test, "TEST", people["person_id"][persons])
    identity = _identity(source, ids, person_ids)
    truth = pd.DataFrame({"source": source, "order_id": ids.to_numpy(), "amount_cents": cents, "is_valid": valid})
    originals = kind == 0
    basis = {"order_id": ids[originals].reset_index(drop=True), "person": persons[originals],
             "moment": moment[originals], "refunded": refunded[base[originals]],
             "platform": (np.full(int(originals.sum()), -1) if not online else platform_code[originals]),
             "privacy_phone": hidden["privacy_phone"][originals].reset_index(drop=True),
             "channel": (np.full(int(originals.sum()), "微信商城", dtype=object) if not online
                         else platform[originals])}
    stats = {"moment": moment, "cents": cents, "valid": valid, "refund": kind == 1}
    return frame, identity, truth, line_truth, basis, stats


def card_keys(key: pd.Series, rng: np.random.Generator, rates) -> pd.Series:
    """Member card numbers as the store tills wrote them on receipts: ``\\t00012345`` (a tab typed to keep the
    zeros), ``12345.0`` (a float) or ``12345`` (zeros dropped) at their rates; empty keys stay empty."""
    n = len(key)
    u = rng.random(n)
    edges = np.cumsum([rates.receipt_key_tab, rates.receipt_key_float, rates.receipt_key_unpadded])
    member = (key != "").to_numpy()
    unpadded = key.str.lstrip("0")
    out = where(member & (u < edges[0]), "\t" + key, key)
    out = where(member & (u >= edges[0]) & (u < edges[1]), unpadded + ".0", out)
    return where(member & (u >= edges[1]) & (u < edges[2]), unpadded, out)


def pos_receipt_rows(people: dict, orders: dict, sel: np.ndarray, card: np.ndarray, n_anonymous: int,
                     rng: np.random.Generator, config: DemoConfig, first_id: int, products: pd.DataFrame,
                     weights: np.ndarray):
    """Store receipts: members' orders (card number when the buyer is a POS member) and walk-in receipts."""
    rates = config.dirt
    owner = orders["owner"][sel]
    anon_channel = np.full(n_anonymous, 2)
    anon_sku = order_skus(rng, anon_channel, products)
    anon_qty = rng.choice([1, 2, 3], n_anonymous, p=[0.72, 0.23, 0.05])
    anon_store = rng.integers(0, N_STORES, n_anonymous)
    moment0 = np.concatenate([orders["moment"][sel], order_moments(rng, n_anonymous, weights, anon_channel)])
    sku0 = np.concatenate([orders["sku"][sel], anon_sku])
    qty0 = np.concatenate([orders["quantity"][sel], anon_qty])
    cents0 = np.concatenate([orders["amount"][sel], products["price_cents"].to_numpy()[anon_sku] * anon_qty])
    store0 = np.concatenate([orders["store"][sel], anon_store])
    person0 = np.concatenate([owner, np.full(n_anonymous, -1)])
    n = len(moment0)
    refunded = dirt.pick(rng, n, rates.refund)
    moment = np.concatenate([moment0, refund_moments(rng, moment0[refunded])])
    kind = np.concatenate([np.zeros(n, np.int8), np.ones(int(refunded.sum()), np.int8)])
    base = np.concatenate([np.arange(n), np.flatnonzero(refunded)])
    order = np.lexsort((np.arange(len(moment)), moment))
    moment, kind, base = moment[order], kind[order], base[order]
    total = len(moment)
    serial = np.arange(first_id, first_id + total)
    stores = store_ids()[store0[base]]
    ids = text(stores) + "-" + zpad(serial, 10)
    original_id = pd.Series(np.full(n, "", dtype=object), dtype="str")
    original_id.iloc[base[kind == 0]] = ids[kind == 0].to_numpy()
    refund_of = where(kind == 1, original_id.iloc[base].reset_index(drop=True), pd.Series([""] * total, dtype="str"))
    person = person0[base]
    key = np.where(person >= 0, card[np.maximum(person, 0)], "")
    cents = np.where(kind == 1, -cents0[base], cents0[base])
    frame = pd.DataFrame({
        "小票号": ids, "门店编号": text(stores),
        "交易时间": dirt.format_datetime(moment, rng, rates.date_mixed),
        "会员卡号": card_keys(text(key), stream(config.seed, first_id, 0xE1), rates),
        "商品编码": text(products["sku"].to_numpy()[sku0[base]]),
        "数量": text(qty0[base]), "金额": dirt.format_amount(cents, dirt.pick(rng, total, rates.amount_formatted)),
        "交易类型": pd.Series(np.where(kind == 1, "退货", "销售"), dtype="str"), "原小票号": refund_of})
    member = key != ""
    identity = _identity("pos_receipts", ids[member].reset_index(drop=True),
                         people["person_id"][person[member]])
    truth = pd.DataFrame({"source": "pos_receipts", "order_id": ids.to_numpy(), "amount_cents": cents,
                          "is_valid": True})
    stats = {"moment": moment, "cents": cents, "valid": np.ones(total, bool), "refund": kind == 1,
             "store": store0[base]}
    return frame, identity, truth, stats


def shipment_rows(people: dict, bases: list[dict], rng: np.random.Generator, config: DemoConfig, first_id: int):
    """One shipment per mall / online order (test orders are not shipped). A platform order's waybill is
    desensitised by the carrier's own export (the same rates as the platform's, drawn apart) and keeps the order's
    privacy number; a mall parcel's phone is masked by the carrier at ``rates.masked_phone``."""
    rates = config.dirt
    extra = stream(config.seed, first_id, 0xF1)
    order_id = pd.concat([b["order_id"] for b in bases], ignore_index=True)
    person = np.concatenate([b["person"] for b in bases])
    moment = np.concatenate([b["moment"] for b in bases])
    refunded = np.concatenate([b["refunded"] for b in bases])
    channel = np.concatenate([b["channel"] for b in bases])
    platform = np.concatenate([b["platform"] for b in bases])
    privacy_phone = pd.concat([b["privacy_phone"] for b in bases], ignore_index=True)
    order = np.lexsort((np.arange(len(moment)), moment))
    order_id, person, moment = order_id.iloc[order].reset_index(drop=True), person[order], moment[order]
    refunded, channel, platform = refunded[order], channel[order], platform[order]
    privacy_phone = privacy_phone.iloc[order].reset_index(drop=True)
    n = len(person)
    ids = "FH" + zpad(np.arange(first_id, first_id + n), 9)
    carriers = np.asarray([c for c, _ in CARRIERS], dtype=object)
    carrier = carriers[rng.choice(len(carriers), n, p=[p for _, p in CARRIERS])]
    carrier = np.where((channel == "京东") & (rng.random(n) < 0.8), "京东物流", carrier)
    carrier = np.where(people["index"][person] == 0, "顺丰速运", carrier)
    digits = zpad(rng.integers(0, 10**12, n, dtype=np.int64), 12)
    prefix = pd.Series(carrier, dtype="str").map({"顺丰速运": "SF", "中通快递": "ZT", "圆通速递": "YT",
                                                   "京东物流": "JDVA", "韵达快递": "YD"})
    tracking = prefix + digits
    shipped = moment + rng.integers(2 * 3600, 36 * 3600, n) * _SEC
    same_province = rng.random(n) < 0.5
    promised = shipped + np.where(same_province, 48, 72) * _HOUR
    transit = (rng.gamma(4.0, 10.0, n) * 3600).astype(np.int64) * _SEC
    signed = shipped + transit
    cutoff = np.datetime64(EXPORTED_AT, "s")
    failed = rng.random(n) < 0.015
    in_transit = signed > cutoff
    status = np.where(refunded, "已退回", np.where(in_transit, "运输中", np.where(failed, "派送失败", "已签收")))
    signed_ok = status == "已签收"
    hidden = _desensitise(platform, moment, np.ones(n, bool), extra, rates, config.seed, privacy_phone)
    carrier_masked = (platform < 0) & dirt.pick(extra, n, rates.masked_phone)  # mall parcels: the carrier masks
    hidden["masked_phone"] = hidden["masked_phone"] | carrier_masked
    hidden["hidden"] = hidden["hidden"] | carrier_masked
    receiver = _receiver(people, person, moment, hidden, np.ones(n, bool), extra, rates)
    empty = pd.Series([""] * n, dtype="str")
    frame = pd.DataFrame({
        "发货单号": ids, "订单号": order_id, "订单来源": text(channel), "快递公司": text(carrier), "运单号": tracking,
        "收件人": receiver["name"], "收件电话": receiver["phone"], "收件地址": receiver["address"],
        "物流状态": text(status),
        "发货时间": dirt.format_datetime(shipped, rng, rates.date_mixed),
        "签收时间": where(signed_ok, dirt.format_datetime(signed, rng, rates.date_mixed), empty),
        "承诺送达时间": dirt.format_datetime(promised, rng, rates.date_mixed),
    })
    return frame, _identity("shipments", ids, people["person_id"][person])
