"""Dates and times in source values: every spelling an export uses, offsets converted to the engagement's time
zone, impossible dates missing; the one-pass Arrow path agrees with the per-value parser (hypothesis)."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from digiops.dates import _parse_dates_distinct, parse_dates


def test_dates_of_several_formats():
    values = pd.Series(["2025-05-03 14:22:01", "2025/5/3 14:22", "20250503142201", "2025年5月3日 14:22", "2025/5/3",
                        "20250503", "2025年5月3日", "45780", "bad", None])
    parsed = parse_dates(values)
    assert parsed.iloc[0] == pd.Timestamp("2025-05-03 14:22:01")
    assert parsed.iloc[1] == parsed.iloc[3] == pd.Timestamp("2025-05-03 14:22")
    assert parsed.iloc[2] == pd.Timestamp("2025-05-03 14:22:01")
    assert parsed.iloc[4] == parsed.iloc[5] == parsed.iloc[6] == parsed.iloc[7] == pd.Timestamp("2025-05-03")
    assert parsed.iloc[8:].isna().all()


def test_dates_with_lone_digits_and_dates_out_of_range():
    parsed = parse_dates(pd.Series(["2025/5/3 9:5:1", "2025.12.3", "9999-12-31", "1600/1/1", "2025-02-30"]))
    assert parsed.iloc[0] == pd.Timestamp("2025-05-03 09:05:01")
    assert parsed.iloc[1] == pd.Timestamp("2025-12-03")
    assert parsed.iloc[2:].isna().all()  # not wrapped around into a date that looks real


ZONED = ["2025-05-05T14:54:04+08:00", "2025-05-05T06:54:04Z", "2025-05-05 01:54:04-05:00", "2025-05-05T14:54:04+0800",
         "2025/5/5 14:54:04+08:00", "２０２５－０５－０５Ｔ０６：５４：０４Ｚ", "2025-05-05 14:54:04 +08:00"]


@pytest.mark.parametrize("path", ["arrow", "pandas"])
def test_times_with_offsets_become_the_engagements_wall_clock_time_mixed_with_naive_ones(path):
    values = pd.Series([*ZONED, "2025-05-05 10:00:00", "2025/5/5 9:05", None], dtype=object)
    parse = parse_dates if path == "arrow" else _parse_dates_distinct
    parsed = parse(values, "Asia/Shanghai")
    assert parsed.iloc[:len(ZONED)].tolist() == [pd.Timestamp("2025-05-05 14:54:04")] * len(ZONED)
    assert parsed.iloc[len(ZONED):-1].tolist() == [pd.Timestamp("2025-05-05 10:00"), pd.Timestamp("2025-05-05 09:05")]
    assert pd.isna(parsed.iloc[-1]) and parsed.dtype == "datetime64[ns]"  # naive, like every other time
    assert parse(values, "Europe/London").iloc[0] == pd.Timestamp("2025-05-05 07:54:04")  # BST


def test_fractional_seconds_are_no_offset_and_an_excel_serial_keeps_its_time():
    parsed = parse_dates(pd.Series(["2025-05-05 14:54:04.123", "2025/5/5 14:54:04.5", "45778.5",
                                       "2025-05-05T14:54:04.123456789", "2025-05-05T14:54:04.25+08:00"]))
    assert parsed.tolist() == [pd.Timestamp("2025-05-05 14:54:04.123"), pd.Timestamp("2025-05-05 14:54:04.5"),
                               pd.Timestamp("2025-05-01 12:00"), pd.Timestamp("2025-05-05 14:54:04.123456789"),
                               pd.Timestamp("2025-05-05 14:54:04.25")]


def test_an_offset_time_out_of_range_is_no_time():
    assert parse_dates(pd.Series(["9999-12-31T00:00:00Z", "2025-02-30T10:00:00+08:00"])).isna().all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["2025-05-01", "2025-05-01 09:05:00", "2025-13-01", "2025/5/1 9:05",
                                           "2025年5月1日", "20250501", "45778", "", None, "2025-02-30 10:00",
                                           "2025-05-01T09:05:00.5", "2025-05-01 09:05:00.123", *ZONED]),
                          st.from_regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]( [0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?",
                                        fullmatch=True)), min_size=1, max_size=30))
def test_parse_dates_equals_normalize_date(values):
    parsed = parse_dates(pd.Series(values, dtype=object))
    expected = [_parse_dates_distinct(pd.Series([v], dtype=object)).iloc[0] for v in values]
    assert [None if pd.isna(p) else p for p in parsed] == [None if pd.isna(e) else e for e in expected]
