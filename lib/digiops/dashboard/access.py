"""Access codes to a client's dashboard: issued, rotated and expiring, stored as a hash beside the client's runs.

A code is what the consultant sends the client (``ABCD-EFGH-JKMN``: 12 letters and digits without look-alikes,
60 bits). Only its SHA-256 is kept, in ``<reports>/<client>/.dashboard-access.json`` (mode 0600) with a generation
number and an expiry. Issuing a code replaces the previous one: every session signed in with an older generation
ends at its next request, which is how a code is rotated while the dashboard is served.

Example:
    >>> import datetime as dt, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    >>> code = issue(folder, valid_for=dt.timedelta(days=7), now=now)
    >>> grant = check(folder, code.lower().replace("-", " "), now=now)
    >>> grant.generation, grant.expires_at.isoformat()
    (1, '2026-12-08T00:00:00+00:00')
    >>> check(folder, code, now=now + dt.timedelta(days=8)) is None  # expired
    True
    >>> second = issue(folder, valid_for=dt.timedelta(hours=1), now=now)
    >>> check(folder, code, now=now) is None, check(folder, second, now=now).generation  # rotated
    (True, 2)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from digiops.errors import ArchiveError

ACCESS_FILE = ".dashboard-access.json"
#: letters and digits a client cannot misread (no 0/O, 1/I/L, 5/S, 2/Z, 8/B)
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
GROUPS, GROUP_LENGTH = 3, 4
DEFAULT_VALID_FOR = dt.timedelta(days=7)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class Grant:
    """What a valid code opens: one client's dashboard until ``expires_at``, for one generation of codes."""

    generation: int
    expires_at: dt.datetime


def parse_duration(text: str) -> dt.timedelta:
    """``30m``, ``12h``, ``7d``, ``2w`` → a timedelta; anything else is a clear error.

    >>> parse_duration("36h"), parse_duration("2w").days
    (datetime.timedelta(days=1, seconds=43200), 14)
    """
    match = _DURATION.match(str(text))
    if not match or float(match.group(1)) <= 0:
        raise ArchiveError("--code-valid-for", f"'{text}' is not a duration",
                           fix="give a number and a unit: 30m, 12h, 7d or 2w")
    return dt.timedelta(**{_UNITS[match.group(2).lower()]: float(match.group(1))})


def normalize(code: str) -> str:
    """A code as typed (any case, spaces, dashes) → the letters it stands for."""
    return re.sub(r"[^0-9A-Z]", "", str(code).upper())


def _digest(code: str) -> str:
    return hashlib.sha256(normalize(code).encode("ascii")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def access_file(client_reports: Path) -> Path:
    return Path(client_reports) / ACCESS_FILE


def read_record(client_reports: Path) -> dict | None:
    """The stored record (generation, hash, expiry), or ``None`` when no code was ever issued or it is unreadable."""
    try:
        record = json.loads(access_file(client_reports).read_text(encoding="utf-8"))
        return record if {"generation", "sha256", "expires_at"} <= set(record) else None
    except (OSError, ValueError):
        return None


def issue(client_reports: Path, valid_for: dt.timedelta = DEFAULT_VALID_FOR, now: dt.datetime | None = None) -> str:
    """A new code for the client, replacing (rotating) the previous one; returns the code (never stored)."""
    now = now or _now()
    code = "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    previous = read_record(client_reports) or {"generation": 0}
    record = {"generation": int(previous["generation"]) + 1, "sha256": _digest(code),
              "issued_at": now.isoformat(), "expires_at": (now + valid_for).isoformat()}
    path = access_file(client_reports)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    os.replace(temporary, path)
    return code


def _grant(record: dict, now: dt.datetime | None) -> Grant | None:
    expires = dt.datetime.fromisoformat(record["expires_at"])
    return Grant(int(record["generation"]), expires) if (now or _now()) < expires else None


def current(client_reports: Path, now: dt.datetime | None = None) -> Grant | None:
    """The grant of the client's current code while it has not expired."""
    record = read_record(client_reports)
    return None if record is None else _grant(record, now)


def check(client_reports: Path, code: str, now: dt.datetime | None = None) -> Grant | None:
    """The grant a typed code opens, or ``None`` (wrong, rotated away or expired)."""
    record = read_record(client_reports)
    if record is None or not normalize(code) or not hmac.compare_digest(record["sha256"], _digest(code)):
        return None
    return _grant(record, now)
