"""Each kind of dirt is present in the generated files at its configured rate (DirtRates), measured on the files
themselves (and the truth where a clean value is needed)."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
import pytest

from digiops.demo import DirtRates
from digiops.demo.reference import PHONE_PLACEHOLDERS, POLYPHONIC_SURNAMES, traditional_map

RATES = DirtRates()
#: phones as the person wrote them (online orders' phones are the platform's: see test_platform_dirt.py)
PHONE_COLUMNS = {"crm": "手机号", "miniprogram": "手机号码", "pos_members": "手机", "social_leads": "手机号",
                 "mall_orders": "买家手机"}
NAME_COLUMNS = {"crm": "姓名", "mall_orders": "买家姓名"}
ID_COLUMNS = {"crm": "客户编号", "miniprogram": "会员ID", "pos_members": "会员卡号", "social_leads": "线索编号",
              "mall_orders": "订单编号", "online_orders": "订单号", "pos_receipts": "小票号", "shipments": "发货单号"}
#: what identifies a row: online orders are one row per order line
ROW_KEYS = {**{name: [column] for name, column in ID_COLUMNS.items()}, "online_orders": ["订单号", "子订单号"]}
VARIANT = re.compile(r"^(\+86 \d{3}-\d{4}-\d{4}|86\d{11}|\d{3} \d{4} \d{4}|\d{3}-\d{4}-\d{4}|\+86\d{11})$")


def assert_rate(measured: float, expected: float, n: int, label: str) -> None:
    """Within 4 standard errors of a binomial share, and within 35 % of the rate."""
    tolerance = max(4 * np.sqrt(expected * (1 - expected) / n), 0.35 * expected)
    assert abs(measured - expected) <= tolerance, f"{label}: measured {measured:.4f}, configured {expected:.4f} (n={n})"


def person_rows(raw, name: str) -> pd.DataFrame:
    """Distinct records (orders: the first line of each), test orders left out."""
    frame = raw(name).drop_duplicates(ID_COLUMNS[name])
    if name in ("mall_orders", "online_orders"):
        note = "备注" if name == "mall_orders" else "买家留言"
        frame = frame[~frame[note].str.contains("测试")]
    return frame


@pytest.fixture(scope="module")
def phones(raw) -> pd.Series:
    return pd.concat([person_rows(raw, n)[c] for n, c in PHONE_COLUMNS.items()], ignore_index=True)


def test_phone_variants(phones):
    nfkc = phones.map(lambda s: unicodedata.normalize("NFKC", s))
    assert_rate(nfkc.str.match(VARIANT).mean(), RATES.phone_variant * (1 - RATES.phone_placeholder
                                                                       - RATES.phone_missing_digit),
                len(phones), "phone_variant")


def test_fullwidth_phones(phones):
    full = phones.str.contains(r"[０-９]")
    usable = ~phones.isin(PHONE_PLACEHOLDERS)
    assert_rate(full[usable].mean(), RATES.fullwidth * (1 - RATES.phone_missing_digit), int(usable.sum()),
                "fullwidth")


def test_phone_missing_digit(phones):
    digits = phones.map(lambda s: re.sub(r"\D", "", unicodedata.normalize("NFKC", s)))
    digits = digits.where(~(digits.str.startswith("86") & (digits.str.len() >= 12)), digits.str.slice(2))
    assert_rate((digits.str.len() == 10).mean(), RATES.phone_missing_digit, len(phones), "phone_missing_digit")


def test_phone_placeholders(phones):
    assert_rate(phones.isin(PHONE_PLACEHOLDERS).mean(), RATES.phone_placeholder, len(phones), "phone_placeholder")
    assert set(phones[phones.isin(PHONE_PLACEHOLDERS)]) == set(PHONE_PLACEHOLDERS)


def test_names_with_ideographic_spaces(raw):
    names = pd.concat([person_rows(raw, n)[c] for n, c in NAME_COLUMNS.items()], ignore_index=True)
    kept = 1 - RATES.phone_placeholder - RATES.phone_missing_digit
    mall_share = len(person_rows(raw, "mall_orders")) / len(names)  # mall names: proxies and placeholders too
    expected = RATES.ideographic_space * kept * (1 - mall_share * (RATES.proxy_receiver + RATES.placeholder_name))
    assert_rate(names.str.contains("\u3000").mean(), expected, len(names), "ideographic_space")


@pytest.fixture(scope="module")
def crm_with_truth(raw, truth) -> pd.DataFrame:
    crm = person_rows(raw, "crm")
    identity = truth("identity")
    people = truth("people").set_index("person_id")
    person = crm["客户编号"].map(identity[identity["source"] == "crm"].set_index("record_id")["person_id"])
    return crm.assign(true_name=person.map(people["full_name"]).to_numpy(),
                      name=crm["姓名"].str.replace("\u3000", "", regex=False))


def test_traditional_names(crm_with_truth):
    table = str.maketrans(traditional_map())
    convertible = crm_with_truth[crm_with_truth["true_name"].str.translate(table) != crm_with_truth["true_name"]]
    written_traditional = convertible["name"] == convertible["true_name"].str.translate(table)
    assert_rate(written_traditional.mean(), RATES.traditional, len(convertible), "traditional")


def test_name_typos(crm_with_truth):
    table = str.maketrans({t: s for s, t in traditional_map().items()})
    simplified = crm_with_truth["name"].str.translate(table)
    typo = simplified != crm_with_truth["true_name"]
    assert_rate(typo.mean(), RATES.name_typo, len(crm_with_truth), "name_typo")


def test_pos_names_in_pinyin(raw):
    names = person_rows(raw, "pos_members")["姓名"]
    assert_rate(names.str.fullmatch(r"[A-Za-z ]+").mean(), RATES.pos_pinyin * (1 - RATES.phone_placeholder
                                                                                - RATES.phone_missing_digit),
                len(names), "pos_pinyin")


def test_polyphonic_surnames_with_their_ordinary_reading(raw, truth):
    pos = person_rows(raw, "pos_members")
    identity = truth("identity")
    people = truth("people").set_index("person_id")
    person = pos["会员卡号"].map(identity[identity["source"] == "pos_members"].set_index("record_id")["person_id"])
    surname = person.map(people["full_name"]).str[0]
    readings = {s: (proper, naive) for s, proper, naive, _ in POLYPHONIC_SURNAMES}
    pinyin = pos["姓名"].str.fullmatch(r"[A-Za-z ]+")
    rows = pos[pinyin & surname.isin(list(readings))]
    naive = [readings[s][1] in n.lower().split() or n.lower().startswith(readings[s][1])
             for s, n in zip(surname[rows.index], rows["姓名"])]
    assert len(rows) >= 20
    assert_rate(float(np.mean(naive)), RATES.polyphonic_naive_reading, len(rows), "polyphonic_naive_reading")


def test_abbreviated_addresses(raw, truth):
    mall = person_rows(raw, "mall_orders")
    full = ("^(?:北京市|上海市|天津市|浙江省杭州市|江苏省南京市|江苏省苏州市|广东省广州市|广东省深圳市|福建省厦门市|"
            "河北省石家庄市)")
    abbreviated = ~mall["收货地址"].str.contains(full)
    assert_rate(abbreviated.mean(), RATES.address_abbreviated, len(mall), "address_abbreviated")
    assert mall["收货地址"].str.startswith("北京朝阳区").any()


def test_shared_family_phones(truth):
    people = truth("people")
    took_family_phone = people["household_id"] != people["person_id"]
    assert_rate(took_family_phone.mean(), RATES.shared_family_phone, len(people), "shared_family_phone")
    family = people[people["household_id"].isin(people.loc[took_family_phone, "household_id"])]
    assert (family.groupby("household_id")["phone"].nunique() == 1).all()


def test_mixed_date_formats(raw):
    times = pd.concat([person_rows(raw, "mall_orders")["下单时间"], person_rows(raw, "pos_receipts")["交易时间"]])
    non_iso = ~times.str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
    assert_rate(non_iso.mean(), RATES.date_mixed, len(times), "date_mixed")
    assert times.str.contains("年").any() and times.str.fullmatch(r"\d{14}").any() and times.str.contains("/").any()


def test_formatted_amounts(raw):
    amounts = pd.concat([raw(n).drop_duplicates(ROW_KEYS[n])[c] for n, c in
                         (("mall_orders", "实付金额"), ("online_orders", "商品金额"), ("pos_receipts", "金额"))])
    formatted = amounts.str.contains(r"[¥￥]")
    assert_rate(formatted.mean(), RATES.amount_formatted, len(amounts), "amount_formatted")
    assert amounts.str.contains(r"^-?[¥￥]\d{1,3},\d{3}\.\d{2}$").any()


def test_refunds(raw):
    for name, ref in (("mall_orders", "退款原单号"), ("online_orders", "原订单号"), ("pos_receipts", "原小票号")):
        frame = person_rows(raw, name)
        refunds = (frame[ref] != "").sum()
        originals = (frame[ref] == "").sum()
        assert_rate(refunds / originals, RATES.refund, originals, f"refund {name}")


def test_test_orders(raw):
    orders = pd.concat([raw(name).drop_duplicates(ID_COLUMNS[name])[note]
                        for name, note in (("mall_orders", "备注"), ("online_orders", "买家留言"))])
    assert_rate(orders.str.contains("测试订单").mean(), RATES.test_order, len(orders), "test_order")


def test_status_only_outcomes_of_online_orders(raw, truth):
    # Arrange: online originals that could end by status alone (no refund row names them)
    frame = person_rows(raw, "online_orders")
    originals = frame[(frame["原订单号"] == "") & ~frame["订单号"].isin(frame["原订单号"])]
    status = originals["订单状态"]
    valid = truth("orders").set_index("order_id")["is_valid"]
    # Act / Assert: each outcome at its rate, and GMV truth follows the money
    for statuses, rate, label in ((["退款成功", "已退款"], RATES.status_refund, "status_refund"),
                                  (["交易关闭", "已关闭"], RATES.status_cancelled, "status_cancelled"),
                                  (["待审核"], RATES.unknown_status, "unknown_status")):
        assert_rate(status.isin(statuses).mean(), rate, len(originals), label)
    assert (valid[originals.loc[status.isin(["退款成功", "已退款", "交易关闭", "已关闭"]), "订单号"]] == "False").all()
    assert (valid[originals.loc[status.isin(["交易成功", "已完成", "待审核"]), "订单号"]] == "True").all()
    assert (originals.loc[status.isin(["退款成功", "已退款"]), "商品金额"].str.lstrip("¥￥").str[0] != "-").all()


def test_duplicate_rows(raw):
    for name, keys in ROW_KEYS.items():
        frame = raw(name)
        duplicated = frame.drop(columns="_row").duplicated()
        assert (frame.duplicated(keys) == duplicated).all(), f"{name}: a repeated id must repeat the row"
        assert_rate(duplicated.sum() / (~duplicated).sum(), RATES.duplicate_row, len(frame), f"duplicate {name}")


def test_masked_shipping_phones_of_mall_parcels(raw):
    shipments = raw("shipments").drop_duplicates("发货单号")
    phones = shipments.loc[shipments["订单来源"] == "微信商城", "收件电话"]
    assert_rate(phones.str.contains(r"\*\*\*\*").mean(), RATES.masked_phone, len(phones), "masked_phone")
