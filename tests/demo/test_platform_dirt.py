"""The dirt of real Chinese platform exports, each at its configured rate (DirtRates) and each with its truth:
platform desensitisation and privacy numbers, buyer ids and WeChat ids, nicknames and proxy receivers, phones
written as numbers, shared and recycled phones, order lines, receipt card keys, house-number variants."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from digiops.demo import DemoConfig, DirtRates
from digiops.demo.reference import (ADDRESS_PLACEHOLDERS, LEAD_NAME_PLACEHOLDERS, ORDER_NAME_PLACEHOLDERS,
                                    PROXY_RECEIVERS)

from .test_dirt_rates import assert_rate, person_rows

RATES = DirtRates()
CONFIG = DemoConfig()
#: share of rows whose phone the generator breaks (placeholder or missing digit): their names stay clean
BROKEN = RATES.phone_placeholder + RATES.phone_missing_digit
MASKED_PHONE = re.compile(r"^1\d{2}\*{4}\d{4}$")
PRIVACY = re.compile(r"^(1(?:70|71|65|67)\d{8})(?:-|转)(\d{4})$")
MASKED_NAME = r"^[^*]+\*{1,2}$"


def digits(phone: str) -> str:
    """A phone's digits as a careful reader would take them (NFKC, +86 dropped; numbers from floats)."""
    text = unicodedata.normalize("NFKC", phone).strip()
    if re.fullmatch(r"\d\.\d+E\+\d+|\d{11}\.0", text):
        return str(int(float(text)))
    out = re.sub(r"\D", "", text)
    return out[2:] if out.startswith("86") and len(out) == 13 else out


@pytest.fixture(scope="module")
def identity(truth) -> pd.DataFrame:
    return truth("identity")


def person_of(identity: pd.DataFrame, source: str) -> pd.Series:
    return identity[identity["source"] == source].set_index("record_id")["person_id"]


@pytest.fixture(scope="module")
def online(raw, identity) -> pd.DataFrame:
    """Online orders, one row per order (the first line), real customers only (no staff tests, no refunds)."""
    frame = person_rows(raw, "online_orders")
    frame = frame[frame["原订单号"] == ""]
    return frame.assign(person=frame["订单号"].map(person_of(identity, "online_orders")).to_numpy())


# --- platform desensitisation ----------------------------------------------------------------------------------------
def hidden_rates(frame: pd.DataFrame, phone: str, name: str, address: str, label: str) -> None:
    jd_douyin = frame["平台" if "平台" in frame else "订单来源"].isin(["京东", "抖音"])
    privacy = frame[phone].str.match(PRIVACY)
    masked = frame[phone].str.match(MASKED_PHONE)
    assert_rate(privacy[jd_douyin].mean(), RATES.privacy_number, int(jd_douyin.sum()), f"privacy_number {label}")
    assert not privacy[~jd_douyin].any(), "Tmall has no privacy numbers"
    assert_rate(masked[~privacy].mean(), RATES.platform_masked_phone, int((~privacy).sum()),
                f"platform_masked_phone {label}")
    hidden = privacy | masked
    masked_name = frame[name].str.match(MASKED_NAME)
    masked_address = frame[address].str.contains(r"\*\*\*\*", regex=True)
    assert_rate(masked_name[hidden].mean(), RATES.platform_masked_name, int(hidden.sum()), f"masked name {label}")
    assert_rate(masked_address[hidden].mean(), RATES.platform_masked_address, int(hidden.sum()),
                f"masked address {label}")
    assert not (masked_name | masked_address)[~hidden].any(), "a receiver shown in full is not masked in part"


def test_platform_orders_are_desensitised(online):
    assert set(online["平台"]) == {"天猫", "京东", "抖音"}
    for platform, share in zip(("天猫", "京东", "抖音"), CONFIG.platform_mix):
        assert_rate((online["平台"] == platform).mean(), share, len(online), f"platform {platform}")
    hidden_rates(online, "联系电话", "收货人", "收货地址", "online_orders")


def test_platform_waybills_are_desensitised_and_keep_the_orders_privacy_number(raw, online):
    shipments = raw("shipments").drop_duplicates("发货单号")
    platform = shipments[shipments["订单来源"] != "微信商城"]
    hidden_rates(platform, "收件电话", "收件人", "收件地址", "shipments")
    order_phone = online.set_index("订单号")["联系电话"]
    shipped = platform[platform["订单号"].isin(order_phone.index)]
    privacy = shipped["收件电话"].str.match(PRIVACY)
    assert privacy.any()
    assert (shipped.loc[privacy, "收件电话"].to_numpy() == order_phone[shipped.loc[privacy, "订单号"]].to_numpy()).all()
    assert not shipments.loc[shipments["订单来源"] == "微信商城", "收件人"].str.match(MASKED_NAME).any()


def test_mall_orders_are_not_desensitised(raw):
    mall = person_rows(raw, "mall_orders")
    assert not mall["买家手机"].str.match(MASKED_PHONE).any()
    assert not mall["买家姓名"].str.match(MASKED_NAME).any()


def test_privacy_numbers_are_one_per_order_and_strangers_share_the_base(online):
    privacy = online[online["联系电话"].str.match(PRIVACY)]
    base = privacy["联系电话"].str.extract(PRIVACY)[0]
    assert privacy["联系电话"].nunique() >= 0.95 * len(privacy)
    people_per_base = privacy.groupby(base.to_numpy())["person"].nunique()
    assert (people_per_base >= 2).mean() > 0.5, "a privacy base number is shared by strangers"
    assert privacy["联系电话"].str.contains("转").any() and privacy["联系电话"].str.contains("-").any()


# --- account ids ---------------------------------------------------------------------------------------------------
def test_buyer_ids_are_stable_per_person_and_platform(raw, identity):
    frame = raw("online_orders").drop_duplicates("订单号")
    frame = frame.assign(person=frame["订单号"].map(person_of(identity, "online_orders")).to_numpy())
    shape = {"天猫": r"tb_\d{10}", "京东": r"jd_[0-9a-f]{16}", "抖音": r"dy_[0-9a-f]{16}"}
    for platform, pattern in shape.items():
        assert frame.loc[frame["平台"] == platform, "买家ID"].str.fullmatch(pattern).all(), platform
    real = frame[frame["person"] != "TEST"]
    assert (real.groupby(["person", "平台"])["买家ID"].nunique() == 1).all()
    assert (real.groupby("买家ID")["person"].nunique() == 1).all()
    on_two = real.groupby("person")["平台"].nunique()
    several = real[real["person"].isin(on_two[on_two >= 2].index)]
    assert len(several) and (several.groupby("person")["买家ID"].nunique() == several.groupby("person")["平台"]
                             .nunique()).all()


def test_wechat_ids_of_members_and_mall_orders(raw, identity):
    members = raw("miniprogram").drop_duplicates("会员ID")
    assert members["openid"].str.fullmatch(r"o[A-Za-z0-9_-]{27}").all()
    assert members["openid"].is_unique  # a second registration is a second WeChat account
    assert members["openid"].str.slice(0, 6).nunique() == 1  # one prefix per mini-program
    has_union = members["unionid"] != ""
    assert_rate(has_union.mean(), RATES.unionid_present, len(members), "unionid_present")
    assert members.loc[has_union, "unionid"].is_unique
    mall = raw("mall_orders").drop_duplicates("订单编号")
    mall = mall.assign(person=mall["订单编号"].map(person_of(identity, "mall_orders")).to_numpy())
    assert (mall.groupby("openid")["person"].nunique() == 1).all()
    member_person = members.set_index("openid")["会员ID"].map(person_of(identity, "miniprogram"))
    known = mall[mall["openid"].isin(member_person.index)]
    assert len(known) > 0.5 * len(mall[mall["person"] != "TEST"])
    assert (member_person[known["openid"]].to_numpy() == known["person"].to_numpy()).all()


# --- names ---------------------------------------------------------------------------------------------------------
def test_lead_names_are_honorifics_nicknames_or_placeholders(raw):
    leads = person_rows(raw, "social_leads")
    name = leads["称呼"]
    honorific = name.str.fullmatch(r"(欧阳|司马)?\w(女士|先生|小姐|姐|哥|总|老师)")
    assert_rate(honorific.mean(), RATES.honorific_name * (1 - BROKEN), len(leads), "honorific_name")
    assert name.str.endswith("总").any() and name.str.endswith("姐").any()
    assert_rate((name == leads["平台昵称"]).mean(), RATES.nickname_as_name * (1 - BROKEN), len(leads),
                "nickname_as_name (leads)")
    placeholder = name.isin(LEAD_NAME_PLACEHOLDERS)
    assert_rate(placeholder.mean(), RATES.placeholder_name * (1 - BROKEN), len(leads), "placeholder_name (leads)")
    assert (name == "test").any()


def test_platform_default_nicknames(raw):
    leads = person_rows(raw, "social_leads")
    for channel, pattern in (("抖音", r"抖音用户\d{1,4}"), ("小红书", r"小红薯[0-9A-F]{8}"), ("微信公众号", r"微信用户"),
                             ("微博", r"用户\d{10}")):
        nick = leads.loc[leads["来源渠道"] == channel, "平台昵称"]
        assert_rate(nick.str.fullmatch(pattern).mean(), RATES.default_nickname, len(nick), f"default {channel}")
    members = person_rows(raw, "miniprogram")
    assert_rate((members["微信昵称"] == "微信用户").mean(), RATES.default_nickname, len(members), "微信用户")
    emoji = members["微信昵称"].map(lambda s: any(ord(c) > 0x1F000 for c in s))
    assert emoji.mean() > 0.02


def test_member_real_names_hold_nicknames_and_honorifics(raw):
    members = person_rows(raw, "miniprogram")
    as_nickname = (members["真实姓名"] == members["微信昵称"]) & (members["真实姓名"] != "")
    assert_rate(as_nickname.mean(), RATES.nickname_as_name * (1 - BROKEN), len(members), "nickname_as_name (mp)")
    honorific = members["真实姓名"].str.fullmatch(r"\w(女士|先生|小姐|姐|哥|总|老师)")
    assert_rate(honorific.mean(), RATES.honorific_name / 10 * (1 - BROKEN), len(members), "honorific (mp)")


def test_proxy_receivers_and_placeholder_names_on_orders(raw):
    mall = person_rows(raw, "mall_orders")
    name = mall["买家姓名"]
    assert_rate(name.isin(PROXY_RECEIVERS).mean(), RATES.proxy_receiver * (1 - BROKEN), len(mall), "proxy (mall)")
    assert_rate(name.isin(ORDER_NAME_PLACEHOLDERS).mean(), RATES.placeholder_name * (1 - BROKEN), len(mall),
                "placeholder (mall)")
    assert not name.str.contains("test", case=False).any(), "a real order never carries a test marker"
    shipments = raw("shipments").drop_duplicates("发货单号")
    shown = ~shipments["收件电话"].str.match(MASKED_PHONE) & ~shipments["收件电话"].str.match(PRIVACY)
    assert_rate(shipments.loc[shown, "收件人"].isin(PROXY_RECEIVERS).mean(), RATES.proxy_receiver * (1 - BROKEN),
                int(shown.sum()), "proxy (shipments)")


# --- phones --------------------------------------------------------------------------------------------------------
def test_pos_member_phones_written_as_numbers(raw, truth, identity):
    members = person_rows(raw, "pos_members")
    phone = members["手机"]
    as_float = phone.str.fullmatch(r"\d{11}\.0")
    scientific = phone.str.fullmatch(r"\d\.\d+E\+10")
    truncated = scientific & (phone.str.extract(r"\.(\d+)E")[0].str.len() <= 5)
    full = scientific & ~truncated
    plain = phone.str.fullmatch(r"\d{11}") | as_float | scientific
    n = int(plain.sum())
    assert_rate(as_float[plain].mean(), RATES.phone_as_float, n, "phone_as_float")
    assert_rate(full[plain].mean(), RATES.phone_scientific, n, "phone_scientific")
    assert_rate(truncated[plain].mean(), RATES.phone_scientific_truncated, n, "phone_scientific_truncated")
    # Float and full scientific numbers keep every digit: the person's phone (or their earlier one)
    people = truth("people").set_index("person_id")
    person = members["会员卡号"].map(person_of(identity, "pos_members"))
    known = ("+86" + phone[as_float | full].map(digits))
    own = (known == person[known.index].map(people["phone"])) | (known == person[known.index].map(
        people["previous_phone"]))
    assert own.all()


# --- shared and recycled phones ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def phone_records(raw, identity) -> pd.DataFrame:
    """Every record of a person source with its normalised phone and its true person."""
    columns = {"crm": ("客户编号", "手机号"), "miniprogram": ("会员ID", "手机号码"), "pos_members": ("会员卡号", "手机"),
               "social_leads": ("线索编号", "手机号"), "mall_orders": ("订单编号", "买家手机"),
               "online_orders": ("订单号", "联系电话"), "shipments": ("发货单号", "收件电话")}
    parts = []
    for source, (id_column, phone_column) in columns.items():
        frame = raw(source).drop_duplicates(id_column)
        parts.append(pd.DataFrame({"source": source, "record_id": frame[id_column].to_numpy(),
                                   "phone": frame[phone_column].map(digits).to_numpy(),
                                   "person": frame[id_column].map(person_of(identity, source)).to_numpy()}))
    return pd.concat(parts, ignore_index=True)


def test_families_share_a_phone_but_are_other_people(truth, phone_records):
    people = truth("people").set_index("person_id")
    member = people[people["household_id"] != people.index]
    head = people.loc[member["household_id"]]
    assert len(member) > 0
    assert (member["phone"].to_numpy() == head["phone"].to_numpy()).all()
    assert (member["address"].to_numpy() == head["address"].to_numpy()).all()
    assert (member["full_name"].to_numpy() != head["full_name"].to_numpy()).all()
    assert (member["birth_date"].to_numpy() != head["birth_date"].to_numpy()).all()
    # both members of a household appear in the exports with the shared number
    household = people["household_id"]
    family = household[household.isin(member["household_id"])]
    carrying = phone_records[phone_records["person"].isin(family.index)]
    carrying = carrying[("+86" + carrying["phone"]).to_numpy() == people.loc[carrying["person"], "phone"].to_numpy()]
    shown = carrying.groupby(family[carrying["person"]].to_numpy())["person"].nunique()
    assert (shown.reindex(family.unique(), fill_value=0) >= 2).mean() > 0.8


def test_recycled_numbers_belong_to_two_unrelated_people(truth, phone_records):
    people = truth("people")
    changed = people[people["previous_phone"] != ""]
    givers = changed[~changed["phone"].isin(changed["previous_phone"])]
    takers = changed[changed["phone"].isin(changed["previous_phone"])]
    assert_rate(len(takers) / len(people), RATES.recycled_phone, len(people), "recycled_phone")
    pairs = takers.merge(givers, left_on="phone", right_on="previous_phone", suffixes=("_b", "_a"))
    assert len(pairs) == len(takers)
    assert (pairs["person_id_a"] != pairs["person_id_b"]).all()
    assert (pairs["household_id_a"] != pairs["household_id_b"]).all()
    assert (pairs["phone_since_a"] < pairs["phone_since_b"]).all()  # the carrier hands it on later
    # the records carrying a recycled number are A's (older) and B's (newer), and nobody else's
    holders = phone_records[phone_records["phone"].isin(pairs["phone_b"].str.slice(3))]
    owners = holders.groupby("phone")["person"].agg(set)
    expected = pairs.set_index(pairs["phone_b"].str.slice(3))[["person_id_a", "person_id_b"]].apply(set, axis=1)
    assert all(owners[p] <= expected[p] for p in owners.index)
    assert sum(owners[p] == expected[p] for p in owners.index) >= 0.5 * len(pairs)


# --- order lines ---------------------------------------------------------------------------------------------------
def test_online_orders_have_lines_at_the_configured_mix(truth, raw):
    lines = truth("order_lines")
    orders = truth("orders")
    online = orders[orders["source"] == "online_orders"]
    real = online[online["order_id"].isin(person_rows(raw, "online_orders")["订单号"])]
    per_order = lines.groupby("order_id").size()[real["order_id"]]
    shares = np.asarray(CONFIG.online_lines) / sum(CONFIG.online_lines)
    for k, share in enumerate(shares, start=1):
        assert_rate((per_order == k).mean(), share, len(per_order), f"orders with {k} lines")


# --- keys ----------------------------------------------------------------------------------------------------------
def test_receipt_card_numbers_as_tills_wrote_them(raw, identity):
    receipts = raw("pos_receipts").drop_duplicates("小票号")
    key = receipts.loc[receipts["会员卡号"] != "", "会员卡号"]
    tab = key.str.startswith("\t")
    as_float = key.str.endswith(".0")
    unpadded = ~tab & ~as_float & ~key.str.startswith("0")
    assert_rate(tab.mean(), RATES.receipt_key_tab, len(key), "receipt_key_tab")
    assert_rate(as_float.mean(), RATES.receipt_key_float, len(key), "receipt_key_float")
    assert_rate(unpadded.mean(), RATES.receipt_key_unpadded, len(key), "receipt_key_unpadded")
    members = raw("pos_members")["会员卡号"]
    assert members.str.fullmatch(r"0\d{7}").all()
    # every key still names its member once tab, .0 and leading zeros are put aside
    card = members.str.lstrip("0").to_numpy()
    by_card = pd.Series(members.map(person_of(identity, "pos_members")).to_numpy(), index=card)
    by_card = by_card[~by_card.index.duplicated()]
    normalised = key.str.strip().str.removesuffix(".0").str.lstrip("0")
    receipt_person = receipts.loc[key.index, "小票号"].map(person_of(identity, "pos_receipts"))
    assert (by_card[normalised].to_numpy() == receipt_person.to_numpy()).all()


# --- addresses -----------------------------------------------------------------------------------------------------
def test_house_number_variants_and_placeholders(raw, truth):
    crm = person_rows(raw, "crm")
    detail = crm["详细地址"]
    placeholder = detail.isin(ADDRESS_PLACEHOLDERS)
    assert_rate(placeholder.mean(), RATES.address_placeholder, len(crm), "address_placeholder")
    street = detail[~placeholder]
    number = street.str.contains(r"\d+弄|#\d+|[路街道][一二三四五六七八九十百零]+号")
    building = street.str.contains(r"\d+(?:幢|号楼)")
    compact = street.str.contains(r"\d+-\d+(?:-\d+)?$")
    assert_rate(number.mean(), RATES.address_number_variant, len(street), "address_number_variant")
    assert_rate(building.mean(), RATES.address_building_variant, len(street), "address_building_variant")
    assert_rate(compact.mean(), RATES.address_compact_room, len(street), "address_compact_room")
    for pattern in (r"\d+弄", r"#\d+", r"十", r"号楼", r"幢", r"\d+-\d+-\d+$"):
        assert street.str.contains(pattern).any(), pattern
    clean = truth("people")["address"]
    assert clean.str.fullmatch(r"\D+\d+号\D+\d+栋(?:\d单元)?\d+室").all()
