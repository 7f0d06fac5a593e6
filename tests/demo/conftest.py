"""A small demo client generated once per test session (5 000 people: enough for every dirt rate to show), shared
by the pytest-xdist workers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from digiops.demo import generate, sources_yaml
from digiops.demo.sources import SOURCE_BY_NAME
from digiops.io import read_table
from tests.conftest import shared_by_workers

PEOPLE = 5_000
SEED = 7


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    def make(out: Path) -> Path:
        generate(out, people=PEOPLE, seed=SEED)
        # only the sources block is the generator's; the rest of the demo engagement belongs to the stages
        (out / "engagement.yaml").write_text(
            "client: {id: demo, name_zh: 示例茶饮, name_en: Demo Tea Co.}\nengagement: test\n"
            "period: {start: 2025-05-01, end: 2026-10-31}\nstages: [inventory]\n" + sources_yaml(), encoding="utf-8")
        return out

    return shared_by_workers(tmp_path_factory, "demo_client", make)


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
