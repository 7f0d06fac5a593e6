"""Access codes: what a client types opens its dashboard until the code expires or is replaced, and nothing of the
code itself is kept on disk."""

from __future__ import annotations

import datetime as dt
import stat

import pytest

from digiops.dashboard import access
from digiops.errors import ArchiveError

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)


def test_a_code_opens_until_it_expires_as_typed_in_any_case_or_spacing(tmp_path):
    code = access.issue(tmp_path, dt.timedelta(hours=12), now=NOW)

    assert access.check(tmp_path, code, now=NOW) == access.Grant(1, NOW + dt.timedelta(hours=12))
    assert access.check(tmp_path, " " + code.lower().replace("-", " ") + " ", now=NOW) is not None
    assert access.check(tmp_path, code, now=NOW + dt.timedelta(hours=12)) is None
    assert access.current(tmp_path, now=NOW + dt.timedelta(hours=13)) is None
    assert access.check(tmp_path, code[:-1] + ("A" if code[-1] != "A" else "C"), now=NOW) is None
    assert access.check(tmp_path, "", now=NOW) is None


def test_issuing_a_code_replaces_the_previous_one(tmp_path):
    first = access.issue(tmp_path, now=NOW)
    second = access.issue(tmp_path, now=NOW)

    assert first != second
    assert access.check(tmp_path, first, now=NOW) is None
    assert access.check(tmp_path, second, now=NOW).generation == 2


def test_only_a_hash_of_the_code_is_kept_and_only_its_owner_can_read_it(tmp_path):
    code = access.issue(tmp_path, now=NOW)
    path = access.access_file(tmp_path)

    assert access.normalize(code) not in path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(access.normalize(code)) == 12 and set(access.normalize(code)) <= set(access.ALPHABET)


def test_no_code_or_an_unreadable_record_opens_nothing(tmp_path):
    assert access.check(tmp_path, "ABCD-EFGH-JKMN") is None
    access.access_file(tmp_path).write_text("{not json", encoding="utf-8")
    assert access.current(tmp_path) is None


@pytest.mark.parametrize("text", ["7", "seven days", "0d", "-1h", "3y"])
def test_a_duration_that_is_not_one_says_how_to_write_one(text):
    with pytest.raises(ArchiveError, match="30m, 12h, 7d or 2w"):
        access.parse_duration(text)


def test_durations_in_minutes_hours_days_and_weeks():
    assert [access.parse_duration(t) for t in ("30m", "12h", "7d", "2w", "1.5d")] == [
        dt.timedelta(minutes=30), dt.timedelta(hours=12), dt.timedelta(days=7), dt.timedelta(weeks=2),
        dt.timedelta(hours=36)]
