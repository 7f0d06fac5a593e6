"""Benchmark of the merge stage: wall time, peak memory and accuracy at a given number of people.

Usage::

    .venv/bin/python bench/bench_merge.py --people 100000 [--people 1000000] [--repeat 3] [--workdir /tmp/digiops-bench]

For each size it generates a demo client (``python -m digiops.demo --people N --out DIR``, copying the demo
engagement file), then runs :func:`digiops.merge.pipeline.run_merge` in a fresh process ``--repeat`` times and
reports, per run and as the median, wall time (per step too), CPU seconds (worker processes included), the peak
resident memory of the whole process tree (sampled every 0.2 s, until the stage returns; also split into the
prepare step and the steps after it) and pairwise / B³ accuracy against the generated truth.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, threading, time
import pandas as pd
import psutil
from digiops.engagement import load_engagement
from tests.merge.accuracy import accuracy
from digiops.merge.pipeline import run_merge
folder = sys.argv[1]
samples, running = [], [True]
def sample():  # the whole process tree: the stage prepares sources in worker processes
    me = psutil.Process()
    while running[0]:
        total = 0
        for process in [me, *me.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.Error:
                pass
        samples.append((time.perf_counter(), total))
        time.sleep(0.2)
threading.Thread(target=sample, daemon=True).start()
start = time.perf_counter()
engagement = load_engagement(folder + "/engagement.yaml")
result = run_merge(engagement)
wall = time.perf_counter() - start
running[0] = False
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
scores = accuracy(result.crosswalk, pd.read_csv(folder + "/truth/identity.csv", dtype=str))
prepared = start + result.timings["prepare"]
peak = lambda kept: round(max([rss for t, rss in samples if kept(t)], default=0) / 1e9, 2)
print(json.dumps({"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_gb": peak(lambda t: True),
                  "peak_prepare_gb": peak(lambda t: t <= prepared), "peak_after_gb": peak(lambda t: t > prepared),
                  "load": round(os.getloadavg()[0], 1), "steps": {k: round(v, 1) for k, v in
                  result.timings.items()},
                  "prepare_s": {n: [round(s.seconds, 1), round(s.cpu_seconds, 1)] for n, s in result.prepared.items()},
                  **result.counts(), **{k: round(v, 4) for k, v in scores.items()}}))
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
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (the median is printed last)")
    parser.add_argument("--workdir", default="/tmp/digiops-bench")
    args = parser.parse_args()
    for people in args.people or [100_000]:
        folder = Path(args.workdir) / f"people-{people}"
        generated = generate(people, folder)
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", CHILD, str(folder)], check=True, capture_output=True,
                                 text=True, cwd=ROOT)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(json.dumps({"people": people, "generate_s": round(generated, 1), **runs[-1]}, ensure_ascii=False),
                  flush=True)
        if len(runs) > 1:
            median = {k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "peak_gb")}
            print(json.dumps({"people": people, "median_of": len(runs), **median}), flush=True)


if __name__ == "__main__":
    main()
