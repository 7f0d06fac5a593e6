"""Industry benchmark: where the client stands among peers, per dimension (seed 004 §1.1.2).

The default table (``resources/maturity/benchmarks.yaml``) is ILLUSTRATIVE: a rough calibration for discussion,
not survey results. :class:`Benchmark` carries that flag so every report can say so plainly.

Example:
    >>> bench = default_benchmark()
    >>> bench.illustrative, sorted(bench.industries)[:2]
    (True, ['apparel', 'consumer_goods'])
    >>> position(2.4, 1.8, 2.4, 3.1), position(1.7, 1.8, 2.4, 3.1)
    ('p50–p75', 'below p25')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from digiops import paths
from digiops.errors import QuestionBankError
from digiops.maturity.bank import _load_yaml
from digiops.settings.maturity import DIMENSION_KEYS, DIMENSIONS

BENCHMARK_RESOURCE = "maturity/benchmarks.yaml"
PERCENTILES = ("p25", "p50", "p75")


@dataclass(frozen=True)
class Benchmark:
    """Peer percentiles (levels 1–5) per industry and dimension."""

    table: pd.DataFrame  # industry, name_zh, name_en, dimension, p25, p50, p75
    illustrative: bool
    source: str
    label: str

    @property
    def industries(self) -> list[str]:
        return list(dict.fromkeys(self.table["industry"]))

    def of(self, industry: str) -> pd.DataFrame:
        """The rows of one industry; an unknown industry is an error listing the known ones."""
        rows = self.table[self.table["industry"] == industry]
        if rows.empty:
            raise QuestionBankError(self.label, f"has no industry '{industry}' (known: {', '.join(self.industries)})",
                                    field="industries", fix="set client.industry or maturity.industry to a known "
                                    "key, or add the industry to the benchmark table")
        return rows.reset_index(drop=True)


def load_benchmark(path: str | Path, label: str | None = None) -> Benchmark:
    """Read a benchmark YAML: ``illustrative``, ``source``, ``industries: {key: {dimension: {p25, p50, p75}}}``."""
    label = label or str(path)
    data = _load_yaml(Path(path), label)
    industries = data.get("industries")
    if not isinstance(industries, dict) or not industries:
        raise QuestionBankError(label, "has no `industries:` mapping", field="industries",
                                fix="see resources/maturity/benchmarks.yaml for the layout")
    rows = []
    for key, entry in industries.items():
        for dimension in DIMENSION_KEYS:
            cell = (entry or {}).get(dimension)
            if not isinstance(cell, dict) or any(p not in cell for p in PERCENTILES):
                raise QuestionBankError(label, f"industry {key}: {dimension} needs p25, p50 and p75",
                                        field=f"industries.{key}.{dimension}", fix="give the three percentiles")
            values = [float(cell[p]) for p in PERCENTILES]
            if not all(1 <= v <= 5 for v in values) or values != sorted(values):
                raise QuestionBankError(label, f"industry {key}: {dimension} percentiles {values} must be levels "
                                        "1–5 with p25 ≤ p50 ≤ p75", field=f"industries.{key}.{dimension}")
            rows.append({"industry": str(key), "name_zh": entry.get("name_zh", key),
                         "name_en": entry.get("name_en", key), "dimension": dimension,
                         **dict(zip(PERCENTILES, values))})
    return Benchmark(pd.DataFrame(rows), bool(data.get("illustrative", False)), str(data.get("source", "")), label)


def default_benchmark() -> Benchmark:
    return load_benchmark(paths.resource(BENCHMARK_RESOURCE), "default benchmark table")


def benchmark_for(settings, folder: Path | None = None) -> Benchmark:
    """The engagement's benchmark table (``maturity.benchmark``) or the default one."""
    if not settings.benchmark:
        return default_benchmark()
    path = Path(settings.benchmark)
    return load_benchmark(path if path.is_absolute() or folder is None else folder / path, settings.benchmark)


def position(value: float, p25: float, p50: float, p75: float) -> str:
    """Where a level falls among peers: below p25, p25–p50, p50–p75, above p75 (a boundary counts upward)."""
    if value != value:
        return "no data"
    if value < p25:
        return "below p25"
    if value < p50:
        return "p25–p50"
    if value < p75:
        return "p50–p75"
    return "above p75"


def compare(scores: pd.DataFrame, benchmark: Benchmark, industry: str) -> pd.DataFrame:
    """Per dimension: the client's level, the peers' percentiles, the position and the distance to the median."""
    peers = benchmark.of(industry).set_index("dimension")
    rows = []
    for record in scores[scores["dimension"].isin(DIMENSION_KEYS)].itertuples(index=False):
        p25, p50, p75 = (float(peers.at[record.dimension, p]) for p in PERCENTILES)
        rows.append({"dimension": record.dimension, "name_zh": DIMENSIONS[record.dimension][1],
                     "name_en": DIMENSIONS[record.dimension][2], "level": record.level, "p25": p25, "p50": p50,
                     "p75": p75, "position": position(record.level, p25, p50, p75),
                     "vs_median": round(record.level - p50, 6), "industry": industry,
                     "illustrative": benchmark.illustrative})
    return pd.DataFrame(rows)
