"""Benchmark of the merge stage: wall time, peak memory and accuracy at a given number of people.

Usage::

    .venv/bin/python bench/bench_merge.py --people 100000 [--people 1000000] [--workdir /tmp/digiops-bench]

For each size it generates a demo client (``python -m digiops.demo --people N --out DIR``, copying the demo
engagement file), then runs :func:`digiops.merge.pipeline.run_merge` in a fresh process and reports wall time per
step, the process's peak resident memory and pairwise / B³ accuracy against the generated truth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
import pandas as pd
from digiops.engagement import load_engagement
from digiops.merge.evaluate import evaluate
from digiops.merge.pipeline import run_merge
folder = sys.argv[1]
start = time.perf_counter()
engagement = load_engagement(folder + "/engagement.yaml", check_sources=False)
result = run_merge(engagement)
wall = time.perf_counter() - start
scores = evaluate(result.crosswalk, pd.read_csv(folder + "/truth/identity.csv", dtype=str))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
print(json.dumps({"wall_s": round(wall, 1), "peak_gb": round(peak, 2), "steps": {k: round(v, 1) for k, v in
                  result.timings.items()}, **result.counts(), **{k: round(v, 4) for k, v in scores.items()}}))
"""


def generate(people: int, folder: Path) -> float:
    if (folder / "truth" / "identity.csv").exists():
        return 0.0
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "digiops.demo", "--people", str(people), "--out", str(folder), "--quiet"],
                   check=True, cwd=ROOT)
    if not (folder / "engagement.yaml").exists():
        shutil.copy(ROOT / "data" / "clients" / "demo" / "engagement.yaml", folder / "engagement.yaml")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, action="append", help="people to generate (repeatable)")
    parser.add_argument("--workdir", default="/tmp/digiops-bench")
    args = parser.parse_args()
    for people in args.people or [100_000]:
        folder = Path(args.workdir) / f"people-{people}"
        generated = generate(people, folder)
        out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], check=True, capture_output=True, text=True,
                             cwd=ROOT)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps({"people": people, "generate_s": round(generated, 1), **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
