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
    # Only the first character shows, then a fixed-width mask: nothing else of the local part, nor its length
    # (comparing text instead failed for a local part that itself holds a '*', such as `0*`).
    assert shown.split("@")[0] == local[:1].lower() + "***"


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


@given(mobiles, st.text(alphabet="回访客户备注 ，。", max_size=8), st.emails())
def test_free_text_shows_no_phone_or_email_in_full(number, words, email):
    from digiops.masking import mask_text

    shown = mask_text(f"{words}{number[:3]}-{number[3:7]}-{number[7:]}{words} {email}")

    assert number not in shown.replace("-", "") and email not in shown
    assert shown.startswith(words) and "****" in shown


def test_action_log_text_is_masked_in_the_kpi_review():
    from digiops.kpi.loop import action_effects
    from digiops.kpi.tree import parse_tree

    tree = parse_tree({"kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV"}]}, "kpi_tree.yaml")
    actions = pd.DataFrame([{"action_id": "A1", "action": "致电 13800138000 复购", "owner": "王经理",
                             "kpi_id": "gmv", "due": "2026-04-01", "status": "open", "created_at": "2026-03-02",
                             "note": "客户邮箱 li.lei@example.com"}])
    actuals = pd.DataFrame(columns=["kpi", "unit", "period", "actual"])

    row = action_effects(actions, tree, actuals, "2026-03", dt.date(2026, 4, 16)).iloc[0]

    assert row["action"] == "致电 138****8000 复购" and row["note"] == "客户邮箱 l***@example.com"
