"""A small demo client generated once per test session (5 000 people: enough for every dirt rate to show)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from digiops import paths
from digiops.demo import generate
from digiops.demo.sources import SOURCE_BY_NAME
from digiops.io import read_table

PEOPLE = 5_000
SEED = 7


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_client")
    generate(out, people=PEOPLE, seed=SEED)
    shutil.copy(paths.demo_client_dir() / "engagement.yaml", out / "engagement.yaml")
    return out


@pytest.fixture(scope="session")
def raw(demo_dir):
    """Raw source name → its rows as text cells (raw column names), as the stages' reader sees them."""
    cache: dict[str, pd.DataFrame] = {}

    def read(name: str) -> pd.DataFrame:
        if name not in cache:
            spec = SOURCE_BY_NAME[name]
            fmt = "xlsx" if spec.path.endswith(".xlsx") else "csv"
            cache[name] = read_table(demo_dir / spec.path, fmt=fmt, encoding=spec.encoding or "auto",
                                     sheet=spec.sheet, header_row=spec.header_row).frame
        return cache[name]

    return read


@pytest.fixture(scope="session")
def truth(demo_dir):
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(demo_dir / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)

    return read
