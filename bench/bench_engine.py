"""Engine overhead: one stage run through the engine (papermill + kernel + nbconvert + manifest) against the same
stage code in one plain Python process. Prints medians of N repetitions, measured in one run.

    .venv/bin/python bench/bench_engine.py [--repeat 5] [--client demo]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLAIN = """
import sys, pandas as pd
from digiops import load_engagement
from digiops.inventory import inventory
from digiops.io import write_parquet
from digiops.sources import check_sources
engagement = load_engagement(sys.argv[1])
check_sources(engagement)
sources, columns = inventory(engagement)
write_parquet(__import__("pathlib").Path(sys.argv[2]) / "inventory.parquet", sources)
write_parquet(__import__("pathlib").Path(sys.argv[2]) / "columns.parquet", columns)
"""


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--client", default="demo")
    args = parser.parse_args()
    from digiops.runner import run_engagement

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        engine, plain = [], []
        for _ in range(args.repeat):  # interleaved, so both see the same load on a shared machine
            engine.append(timed(lambda: run_engagement(args.client, stages=["inventory"], out=out / "reports",
                                                       log=lambda _: None)))
            plain.append(timed(lambda: subprocess.run([sys.executable, "-c", PLAIN, args.client, tmp], check=True)))
    e, p = statistics.median(engine), statistics.median(plain)
    print(f"inventory stage, client {args.client}, {args.repeat} repetitions (medians):")
    print(f"  engine (papermill kernel + nbconvert render + manifest + indexes): {e:6.2f} s")
    print(f"  plain Python process running the same stage code:                  {p:6.2f} s")
    print(f"  engine overhead per notebook:                                      {e - p:6.2f} s  (ratio {e / p:.1f}x)")


if __name__ == "__main__":
    main()
