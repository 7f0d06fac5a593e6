"""`digiops validate` speed on the demo client (goal: ≤ 2 s for the command).

Run: `python bench/bench_validate.py [--repeat 5] [client]`. Prints the median (and range) of ``repeat`` runs of

* the validation in-process (:func:`digiops.cli.validate_all`, imports done), each part timed on its own: the
  engagement file, the sources (every file read as `digiops validate` reads it), each stage's check;
* the command as a user runs it (`digiops validate demo`, a fresh process each time: Python start and imports
  included), with its user + system CPU time beside the wall time (the machine is shared: CPU time is steadier);
* the import of the package alone (`python -c "import digiops"`), the floor of every command.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from digiops import kpi, labels, maturity, merge
from digiops.cli import validate_all
from digiops.engagement import check_engagement
from digiops.sources import source_problems

CHECKS = {"merge": merge.check, "labels": labels.check, "maturity": maturity.check, "kpi": kpi.check}


def median(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def parts(client: str) -> dict[str, float]:
    """Seconds of each part of one validation."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    checked = check_engagement(client)
    seconds["engagement file"] = time.perf_counter() - start
    engagement = checked.engagement
    assert engagement is not None, checked.problems
    start = time.perf_counter()
    source_problems(engagement)
    seconds["sources"] = time.perf_counter() - start
    for stage, check in CHECKS.items():
        if stage in engagement.stages:
            start = time.perf_counter()
            check(engagement)
            seconds[f"{stage} check"] = time.perf_counter() - start
    return seconds


def in_process(client: str) -> float:
    start = time.perf_counter()
    problems = validate_all(client)
    assert problems == [], [str(p) for p in problems]
    return time.perf_counter() - start


def command(args: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("client", nargs="?", default="demo")
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    digiops = shutil.which("digiops", path=str(Path(sys.executable).parent)) or "digiops"

    in_process(options.client)  # first call: the stages' modules and the files are loaded once
    runs = [parts(options.client) for _ in range(options.repeat)]
    totals = [in_process(options.client) for _ in range(options.repeat)]
    cli = [command([digiops, "validate", options.client]) for _ in range(options.repeat)]
    imports = [command([sys.executable, "-c", "import digiops"]) for _ in range(options.repeat)]

    print(f"digiops validate {options.client}: median of {options.repeat} runs, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  in-process, whole (validate_all)   {median(totals)}")
    for name in runs[0]:
        print(f"    {name:<32} {median([r[name] for r in runs])}")
    print(f"  command, wall                      {median([wall for wall, _ in cli])}")
    print(f"  command, CPU (user + system)       {median([cpu for _, cpu in cli])}")
    print(f"  `import digiops` alone, wall       {median([wall for wall, _ in imports])}")


if __name__ == "__main__":
    main()
