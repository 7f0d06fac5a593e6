"""Benchmark the demo-client generator: wall time, CPU time and peak RSS at several sizes.

Each size runs in a fresh subprocess (``python -m digiops.demo``) so peak RSS is that run's own.

    .venv/bin/python bench/bench_demo_data.py                    # 20 000, 100 000 and 1 000 000 people
    .venv/bin/python bench/bench_demo_data.py --people 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run_once(people: int, seed: int) -> dict[str, float]:
    out = Path(tempfile.mkdtemp(prefix=f"bench_demo_{people}_"))
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "digiops.demo", "--people", str(people), "--seed", str(seed),
                        "--out", str(out), "--quiet"], check=True)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        orders = sum(1 for _ in open(out / "truth" / "orders.csv", "rb")) - 1
        return {"people": people, "wall_s": wall,
                "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
                "peak_rss_mb": after.ru_maxrss / 1024, "orders": orders, "size_mb": size / 1e6}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="*", default=[20_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=1, help="runs per size (the median is reported)")
    parser.add_argument("--seed", type=int, default=20260501)
    args = parser.parse_args()
    print(f"{'people':>10} {'orders':>10} {'wall s':>8} {'cpu s':>8} {'peak RSS MB':>12} {'files MB':>9}")
    for people in args.people:
        runs = sorted((run_once(people, args.seed) for _ in range(args.repeat)), key=lambda r: r["wall_s"])
        r = runs[len(runs) // 2]
        print(f"{r['people']:>10,} {r['orders']:>10,} {r['wall_s']:>8.1f} {r['cpu_s']:>8.1f} "
              f"{r['peak_rss_mb']:>12,.0f} {r['size_mb']:>9,.0f}", flush=True)


if __name__ == "__main__":
    main()
