"""Benchmark of the Spark engine against DuckDB on the same client: merge + labels, wall time and peak memory.

Usage::

    .venv/bin/python bench/bench_spark.py --people 5000 [--master 'local[2]'] [--workdir /tmp/digiops-bench]

Generates a demo client (``python -m digiops.demo --people N --out DIR``, the demo engagement and tag catalog copied
beside it), then for each engine runs, in a fresh process, :func:`digiops.merge.pipeline.run_merge` and the labels
evaluation on the merge outputs written as Parquet. Peak memory is the peak of the process tree's summed resident
memory (Python plus, on Spark, the JVM it starts), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
from pathlib import Path
from digiops.engagement import load_engagement
from digiops.engines import EngineSettings, stop_spark
from digiops.labels.catalog import load_catalog
from digiops.labels.evaluate import evaluate
from digiops.merge.pipeline import run_merge
folder, kind, master, out = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
engagement = load_engagement(folder + "/engagement.yaml")
engagement = engagement.model_copy(update={"engine": EngineSettings(kind=kind, master=master)})
start = time.perf_counter()
result = run_merge(engagement)
merge_s = time.perf_counter() - start
out.mkdir(parents=True, exist_ok=True)
tables = {}
for name in ("customers", "orders", "shipments", "products"):
    getattr(result, name).to_parquet(out / f"{name}.parquet", index=False)
    tables[name] = str(out / f"{name}.parquet")
clock = time.perf_counter()
run = evaluate(tables, load_catalog(engagement.folder / engagement.labels.catalog), engine=engagement.engine)
labels_s = time.perf_counter() - clock
stop_spark()
print(json.dumps({"engine": kind, "merge_s": round(merge_s, 1), "identity_s": round(result.timings["identity"], 1),
                  "labels_s": round(labels_s, 1), "records": len(result.crosswalk),
                  "customers": int(result.crosswalk["customer_id"].nunique()), "tagged": len(run.tags)}))
"""


def generate(people: int, folder: Path) -> None:
    if not (folder / "truth" / "identity.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "digiops.demo", "--people", str(people), "--out", str(folder),
                        "--quiet"], check=True, cwd=ROOT)
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml"):
        if not (folder / name).exists():
            shutil.copy(ROOT / "data" / "clients" / "demo" / name, folder / name)


def run_measured(command: list[str]) -> tuple[dict, float, float]:
    """(the child's JSON line, wall seconds, peak summed RSS of its process tree in GB)."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    parent, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out = child.stdout.read()
    if child.returncode:
        raise SystemExit(f"{command} failed ({child.returncode})")
    return json.loads(out.strip().splitlines()[-1]), time.perf_counter() - start, peak / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--workdir", default="/tmp/digiops-bench")
    args = parser.parse_args()
    folder = Path(args.workdir) / f"people-{args.people}"
    generate(args.people, folder)
    print("| engine | records | customers | merge (s) | of which identity (s) | labels (s) | process wall (s) | "
          "peak RSS (GB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind in ("duckdb", "spark"):
        out = folder / f"outputs-{kind}"
        line, wall, peak = run_measured([sys.executable, "-c", CHILD, str(folder), kind, args.master, str(out)])
        print(f"| {kind}{' ' + args.master if kind == 'spark' else ''} | {line['records']} | {line['customers']} | "
              f"{line['merge_s']} | {line['identity_s']} | {line['labels_s']} | {wall:.1f} | {peak:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
