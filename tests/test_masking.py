"""Masking helpers: what a report shows never contains the full personal value."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import datetime as dt

from digiops.masking import mask_address, mask_birth_date, mask_email, mask_frame, mask_id, mask_name, mask_phone

mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(mobiles, st.sampled_from(["{}", "+86 {}", "86{}", "{0[0]}{0[1]}{0[2]} {0[3]}{0[4]}{0[5]}{0[6]} {0[7]}{0[8]}{0[9]}{0[10]}"]))
def test_phone_mask_keeps_prefix_and_suffix_only(number, shape):
    shown = mask_phone(shape.format(number))

    assert shown == number[:3] + "****" + number[-4:]
    assert number not in shown


@given(st.emails())
def test_email_mask_hides_the_local_part(email):
    shown = mask_email(email)
    local = email.split("@")[0]

    assert shown.endswith("@" + email.split("@")[1].lower())
    assert len(local) < 2 or local.lower() not in shown.split("@")[0]


@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=2, max_size=4))
def test_chinese_name_mask_keeps_surname_only(name):
    shown = mask_name(name)

    assert shown[0] == name[0] and set(shown[1:]) == {"*"}


def test_id_address_and_missing_values():
    assert mask_id("110101199003078888") == "1101**********8888"
    assert mask_address("广东省深圳市南山区科技园路1号") == "广东省深圳市南山区***"
    assert mask_phone(None) is None and mask_name(float("nan")) is None


def test_mask_frame_masks_canonical_personal_columns_only():
    frame = pd.DataFrame({"customer_id": ["C1"], "phone": ["+8613800138000"], "full_name": ["王小明"],
                          "city": ["上海市"]})

    shown = mask_frame(frame)

    assert shown.iloc[0].tolist() == ["C1", "138****8000", "王**", "上海市"]
    assert frame.iloc[0]["phone"] == "+8613800138000"  # input not mutated


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2099, 12, 31)),
       st.sampled_from(["{:%Y-%m-%d}", "{:%d/%m/%Y}", "{:%Y年%m月%d日}", "{:%Y%m%d}", "date"]))
def test_birth_date_shows_the_year_at_most(day, shape):
    value = day if shape == "date" else shape.format(day)

    shown = mask_birth_date(value)

    assert shown == f"{day.year:04d}"


def test_mask_frame_shows_birth_dates_as_a_year():
    frame = pd.DataFrame({"birth_date": [dt.date(1973, 4, 24), "1973-04-24", None]})

    shown = mask_frame(frame)["birth_date"]

    assert shown[:2].tolist() == ["1973", "1973"] and pd.isna(shown[2])
