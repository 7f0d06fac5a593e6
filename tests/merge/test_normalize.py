"""Normalizers: exact examples and properties (hypothesis)."""

from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digiops.merge import normalize as nz


@pytest.mark.parametrize("raw", ["+86 138-0013-8000", "8613800138000", "138 0013 8000", "＋８６\u3000１３８００１３８０００",
                                 "0086 13800138000", "138-0013-8000"])
def test_phone_variants_become_e164(raw):
    assert nz.normalize_phone(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["13800000000", "13888888888", "无", "-", "NULL", "1380013800", "138****8000", ""])
def test_placeholder_and_broken_phones_are_rejected(raw):
    assert nz.normalize_phone(raw) is None


def test_text_handles_ideographic_space_and_fullwidth():
    assert nz.normalize_text("\u3000ＡＢＣ\u3000 １２\u200b ") == "ABC 12"


def test_names_traditional_whitespace_and_latin():
    assert nz.normalize_name("張\u3000偉") == "张伟"
    assert nz.normalize_name("  xiaoming   ZHANG ") == "Xiaoming Zhang"


@pytest.mark.parametrize("surname, readings", [("曾", ("zeng", "ceng")), ("单", ("shan", "dan")), ("解", ("xie", "jie")),
                                               ("区", ("ou", "qu")), ("仇", ("qiu", "chou")), ("朴", ("piao", "pu")),
                                               ("查", ("zha", "cha"))])
def test_polyphonic_surnames_keep_every_reading(surname, readings):
    assert nz.name_keys(surname + "明") == [r + "ming" for r in readings]


def test_hanzi_and_pinyin_spellings_share_a_key():
    keys = {k for name in ("张小明", "Zhang Xiaoming", "Xiaoming ZHANG", "zhangxiaoming") for k in [nz.name_keys(name)[0]]}
    assert keys == {"zhangxiaoming"}
    assert "cengwei" in nz.name_keys("曾伟") and nz.name_keys("Ceng Wei") == ["cengwei"]


def test_honorific_leaves_the_surname():
    assert nz.parse_name("陈先生") == (("chen",), "")
    assert nz.parse_name("王女士") == (("wang",), "")


@pytest.mark.parametrize("name, parsed", [("张总", (("zhang",), "")), ("李姐", (("li",), "")), ("张*", (("zhang",), "")),
                                          ("张某", (("zhang",), "")), ("欧阳先生", (("ouyang",), "")),
                                          ("王建哥", (("wang",), "jiange")), ("张小明", (("zhang",), "xiaoming")),
                                          ("*伟", None)])
def test_titles_and_masks_leave_the_surname_but_spare_given_names(name, parsed):
    assert nz.parse_name(name) == parsed


@pytest.mark.parametrize("text, number", [("十", 10), ("十八", 18), ("二十一", 21), ("一百零五", 105), ("一二零一", 1201),
                                          ("两", 2), ("三百", 300)])
def test_chinese_numerals(text, number):
    assert nz.chinese_number(text) == number


@pytest.mark.parametrize("word, pinyin", [("xiaoming", True), ("zhangwei", True), ("lv", True), ("lily", False),
                                          ("mary", False), ("john", False), ("", False)])
def test_pinyin_words(word, pinyin):
    assert nz.is_pinyin(word) is pinyin


def test_email():
    assert nz.normalize_email(" Li.Na@Example.COM ") == "li.na@example.com"
    assert nz.normalize_email("li.na@") is None


def test_national_id_checksum():
    assert nz.normalize_national_id("11010519491231002x") == "11010519491231002X"
    assert nz.normalize_national_id("110105194912310021") is None
    assert nz.normalize_national_id("123-45-6789") == "123456789"


@pytest.mark.parametrize("raw, value", [("¥1,299.00", "1299.00"), ("￥12,345.5", "12345.50"), ("-8.80", "-8.80"),
                                        ("(12.50)", "-12.50"), ("1299元", "1299.00"), ("RMB 3", "3.00")])
def test_amounts_are_exact(raw, value):
    assert nz.normalize_amount(raw) == Decimal(value)


def test_amount_rejects_text():
    assert nz.normalize_amount("abc") is None


@pytest.mark.parametrize("raw, value", [("１，２９９．５０", "1299.50"), ("￥１２３", "123.00"), ("¥ 1,299.00 元", "1299.00"),
                                        ("RMB1,234,567.8", "1234567.80"), ("-¥8.80", "-8.80"), ("¥-8.80", "-8.80"),
                                        ("1,234", "1234.00"), ("9999999999999999.99", "9999999999999999.99")])
def test_full_width_digits_and_currency_marks_still_read_under_the_default_format(raw, value):
    assert nz.read_amount(raw) == (Decimal(value), None)


@pytest.mark.parametrize("raw", ["1,23", "1.234,50", "12,34,567", "1,2345.00", "1 299.00"])
def test_an_amount_not_in_the_declared_format_is_refused_with_the_reason_not_guessed(raw):
    amount, problem = nz.read_amount(raw)
    assert amount is None
    assert problem == ("does not match the source's number format (decimal separator '.', thousands separator ',' "
                       "between groups of 3 digits)")


@pytest.mark.parametrize("raw, decimal, thousands, value", [
    ("1.234,50", ",", ".", "1234.50"), ("1,5", ",", ".", "1.50"), ("¥1.234.567", ",", ".", "1234567.00"),
    ("1 234,50", ",", " ", "1234.50"), ("1\u00a0234,50", ",", " ", "1234.50"), ("1'234.50", ".", "'", "1234.50"),
    ("1’234.50", ".", "'", "1234.50"), ("1234,5", ",", "none", "1234.50"), ("1234.5", ".", "none", "1234.50")])
def test_a_source_declares_how_it_writes_numbers(raw, decimal, thousands, value):
    assert nz.read_amount(raw, decimal, thousands) == (Decimal(value), None)


@pytest.mark.parametrize("raw, decimal, thousands", [("1,234.50", ",", "."), ("1,234", ".", "none"),
                                                     ("1.234,5", ",", " "), ("1,23", ".", ",")])
def test_a_number_written_another_way_than_declared_is_refused(raw, decimal, thousands):
    amount, problem = nz.read_amount(raw, decimal, thousands)
    assert amount is None and problem.startswith("does not match the source's number format")


@pytest.mark.parametrize("raw", ["12345678901234567890123456789", "12345678901234567", "9999999999999999.995",
                                 "-12345678901234567890"])
def test_an_amount_too_large_for_its_column_is_refused_not_raised(raw):
    assert nz.read_amount(raw) == (None, "does not fit 16 digits before the point")
    assert nz.normalize_amount(raw) is None


@pytest.mark.parametrize("raw", ["1e30", "1.23457E+11", "5E-3"])
def test_an_amount_in_scientific_notation_is_refused(raw):
    amount, problem = nz.read_amount(raw)
    assert amount is None and problem.startswith("is in scientific notation")


@pytest.mark.parametrize("raw, value, problem", [("12", 12, None), ("1,000", 1000, None), ("３", 3, None),
                                                 ("1.0", 1, None), ("1.5", None, "is not a whole number"),
                                                 ("9" * 29, None, "does not fit a 64-bit whole number"),
                                                 ("abc", None, None), ("", None, None)])
def test_quantities_are_whole_and_fit_their_column(raw, value, problem):
    assert nz.read_whole(raw) == (value, problem)


def test_number_series_reads_each_distinct_value_once_and_says_what_is_wrong():
    numbers, problems = nz.number_series(pd.Series(["1,5", "2,00", None, "1,5", "9" * 20], dtype=object),
                                         nz.read_amount, ",", ".")
    assert numbers.tolist() == [Decimal("1.50"), Decimal("2.00"), None, Decimal("1.50"), None]
    assert problems.tolist()[:4] == [None, None, None, None]
    assert problems.iloc[4] == "does not fit 16 digits before the point"


@given(st.text(max_size=30))
def test_text_normalization_is_idempotent(raw):
    once = nz.normalize_text(raw)
    assert nz.normalize_text(once) == once


@given(st.integers(min_value=-10**12, max_value=10**12))
def test_formatted_amounts_round_trip(cents):
    yuan, fen = divmod(abs(cents), 100)
    text = ("-" if cents < 0 else "") + f"¥{yuan:,}.{fen:02d}"
    assert nz.normalize_amount(text) == Decimal(cents) / 100


@given(st.integers(min_value=-10**18 + 1, max_value=10**18 - 1), st.sampled_from([(".", ","), (",", "."), (",", " "),
                                                                               (".", "'"), (".", "none")]))
def test_amounts_written_in_any_declared_format_round_trip(cents, separators):
    decimal, thousands = separators
    yuan, fen = divmod(abs(cents), 100)
    grouped = f"{yuan:,}".replace(",", "" if thousands == "none" else thousands)
    text = ("-" if cents < 0 else "") + f"{grouped}{decimal}{fen:02d}"
    assert nz.read_amount(text, decimal, thousands) == (Decimal(cents) / 100, None)


@settings(max_examples=60)
@given(st.sampled_from("3456789"), st.integers(min_value=0, max_value=10**9 - 1))
def test_phone_is_none_or_e164(second, rest):
    national = f"1{second}{rest:09d}"
    for written in (national, f"+86 {national[:3]}-{national[3:7]}-{national[7:]}", "86" + national):
        result = nz.normalize_phone(written)
        assert result is None or result == "+86" + national


@settings(max_examples=60)
@given(st.sampled_from("王李张刘陈曾单解区仇朴查"), st.text(alphabet="伟芳娜敏静丽强", min_size=1, max_size=2))
def test_hanzi_name_and_its_pinyin_share_a_key(surname, given_name):
    name = surname + given_name
    spelled = nz.name_pinyin(name)
    assert set(nz.name_keys(name)) & set(nz.name_keys(spelled))


# --- the vectorized column versions agree with the one-value normalizers ------------------------------------------
def _values(column: pd.Series) -> list:
    """A normalized column's values, ``None`` for missing (columns of text are Arrow-backed, missing as NaN)."""
    return [None if pd.isna(v) else v for v in column]


PHONE_SPELLINGS = ["+86 138-0013-8000", "8613800138000", "138 0013 8000", "＋８６\u3000１３８００１３８０００",
                   "0086 13800138000", "13800000000", "138****8000", "无", "-", "", None, "1380013800", "(021) 6234 5678",
                   "+1 415 555 2671", "+86 10 6552 9988", "17400001234", "16100001234", "19912345678", " 15012345678 ",
                   "13857246913.0", "1.3857246913E+10", "1.38572E+10", "'13857246913", '="13857246913"',
                   "17057246913转1234", "17057246913-1234", "17057246913", "138＊＊＊＊6913", "13857246913 ext 12"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PHONE_SPELLINGS), st.from_regex(r"\+?(86)?1[0-9]{10}", fullmatch=True),
                          st.text(alphabet="0123456789+- ()*", max_size=16)), min_size=1, max_size=30))
def test_phone_series_equals_normalize_phone(values):
    column = pd.Series(values, dtype=object)
    assert _values(nz.phone_series(column)) == [nz.normalize_phone(v) for v in values]


@given(st.lists(st.one_of(st.none(), st.text(max_size=12), st.from_regex(r"[A-Z]{2}[0-9]{6}", fullmatch=True)),
                min_size=1, max_size=30))
def test_code_series_equals_normalize_code(values):
    assert _values(nz.code_series(pd.Series(values, dtype=object))) == [nz.normalize_code(v) for v in values]


TEXT_PIECES = st.sampled_from(["　", " ", "\t", "\u200b", "\u2028", "\xa0", "\x1c", "ａ", "Ｂ", "張", "张", "區", "市",
                               "路", "1", "号", "é", "Rose", "St.", "-"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(TEXT_PIECES, max_size=8).map("".join)), min_size=1, max_size=30))
def test_column_versions_equal_the_value_versions(values):
    column = pd.Series(values, dtype=object)
    assert _values(nz.text_series(column)) == [nz.normalize_text(v) for v in values]
    assert _values(nz.street_series(column)) == [nz.normalize_street(v) for v in values]
    assert _values(nz.name_series(column)) == [nz.normalize_name(v) for v in values]
    texts = [v for v in values if v]
    if texts:
        array = pa.array(texts, type=pa.string())
        assert nz.simplified_array(array).to_pylist() == [nz.to_simplified(v) for v in texts]
        assert nz.cjk_array(array).to_pylist() == [nz.has_cjk(v) for v in texts]
