"""Rerunning one stage of the demo client: ``digiops run demo --stages labels`` takes merge from the run before
(digiops.reuse) instead of redoing it. Prints the wall time of one full run and the median of ``--repeat`` labels
reruns, all through the CLI, in one temporary reports folder.

    .venv/bin/python bench/bench_rerun.py [--repeat 3] [--stages labels]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [str(Path(sys.executable).with_name("digiops"))]


def timed(arguments: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(CLI + arguments, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stages", default="labels")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        full = timed(["run", "demo", "--out", out])
        reruns = [timed(["run", "demo", "--stages", args.stages, "--out", out]) for _ in range(args.repeat)]
    print(f"full demo run {full:.1f} s; `--stages {args.stages}` rerun median {statistics.median(reruns):.1f} s "
          f"({', '.join(f'{s:.1f}' for s in reruns)}); ratio {statistics.median(reruns) / full:.2f}")


if __name__ == "__main__":
    main()
