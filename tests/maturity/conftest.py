"""Fixtures of the maturity tests (the fixture client itself is in fixture_client.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .fixture_client import make_client


@pytest.fixture
def client_file(tmp_path: Path) -> Path:
    return make_client(tmp_path / "fixture")
