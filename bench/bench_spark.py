"""Benchmark of the Spark engine against DuckDB on the same clients: merge + labels, per step, the driver's memory.

Usage::

    .venv/bin/python bench/bench_spark.py [--people 5000 ...] [--master 'local[2]'] [--workdir /tmp/digiops-bench]
        [--engines duckdb spark] [--repeat N]

For each size, generates a demo client (``python -m digiops.demo --people N``, the demo engagement and tag catalog
copied beside it), then for each engine runs, in a fresh process, :func:`digiops.merge.pipeline.run_merge` (its work
folder under the output folder, as a Spark stage's is under its run folder) and the labels evaluation on the merge
outputs, then the labels stage itself (``digiops.labels.run``: the tag table, every measure and every output, in
the run folder's layout). Reported per run:

* seconds per merge step (``MergeResult.timings``) and for labels, and the records (raw rows) per core-minute of
  each step: what the sizing table of ``docs/scale-out.md`` extrapolates from;
* the peak resident memory of the Python driver process alone (its ``ru_maxrss``: what issue 25 bounds — on Spark
  the JVM and the executors' Python workers are other processes) once the merge's outputs are written and at the
  end (after the labels stage), and of the whole process tree (Python, JVM and workers, sampled every 0.2 s);
* when both engines ran: how far Spark's customers are from DuckDB's (B³ F1 of the two crosswalks as partitions of
  the records), whether the golden records, GMV and the tag matrix are the same.

The last lines give the driver's peak at the largest size over its peak at the smallest, per engine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import psutil

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, shutil, sys, time
from pathlib import Path
from digiops import labels
from digiops.context import StageContext
from digiops.engagement import load_engagement
from digiops.engines import EngineSettings, stop_spark
from digiops.merge.pipeline import run_merge
from digiops import tables as contract
folder, kind, master, run_dir = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
engagement = load_engagement(folder + "/engagement.yaml")
engagement = engagement.model_copy(update={"engine": EngineSettings(kind=kind, master=master)})
out = run_dir / "outputs" / "merge"
out.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
result = run_merge(engagement, work_root=run_dir / "work")
merge_s = time.perf_counter() - start
for name in ("customers", "orders", "shipments", "crosswalk"):  # as the stage writes them (write_outputs)
    contract.conform_file(result.file(name), name)
    shutil.copyfile(result.file(name), out / f"{name}.parquet")
contract.conform(result.products, "products").to_pandas().to_parquet(out / "products.parquet", index=False)
merged_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # the merge stage, outputs written
clock = time.perf_counter()
stage = labels.run(StageContext(engagement, "labels", run_dir))  # the whole stage: measures and outputs
labels_s = time.perf_counter() - clock
stop_spark()
print(json.dumps({"merge_s": merge_s, "steps": result.timings, "labels_s": labels_s,
                  "labels_steps": stage.run.seconds,
                  "records": int(result.accounting["rows_in"].sum()),
                  "customers": result.counts()["customers"],
                  "driver_merge_gb": merged_peak,
                  "driver_peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6}))
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
    # the child's output goes to files: a pipe read only at the end fills up and blocks Spark's logging
    out_file, err_file = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    child = subprocess.Popen(command, stdout=out_file, stderr=err_file, text=True, cwd=ROOT)
    parent, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            rss = sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)])
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    out_file.seek(0), err_file.seek(0)
    out, err = out_file.read(), err_file.read()
    if child.returncode:
        raise SystemExit(f"{command} failed ({child.returncode}):\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1]), time.perf_counter() - start, peak / 1e9


def b_cubed_f1(left: pd.DataFrame, right: pd.DataFrame) -> float:
    """B³ F1 of two crosswalks as partitions of the same records (1.0: the same customers)."""
    joined = left.merge(right, on=["source", "record_id"], suffixes=("_l", "_r"), validate="one_to_one")
    both = joined.groupby(["customer_id_l", "customer_id_r"]).size()
    size_l = joined.groupby("customer_id_l").size()
    size_r = joined.groupby("customer_id_r").size()
    # each record's precision: the share of its right-hand customer that its left-hand customer also holds
    shared = both.reset_index(name="n")
    precision = (shared["n"] ** 2 / shared["customer_id_r"].map(size_r)).sum() / len(joined)
    recall = (shared["n"] ** 2 / shared["customer_id_l"].map(size_l)).sum() / len(joined)
    return 2 * precision * recall / (precision + recall)


def named_by_records(table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    key = (crosswalk["source"] + ":" + crosswalk["record_id"]).groupby(crosswalk["customer_id"]).min()
    return table.assign(customer_id=table["customer_id"].map(key)).sort_values("customer_id").reset_index(drop=True)


def compare(duck: Path, spark: Path) -> dict:
    """How Spark's outputs differ from DuckDB's (see the module docstring)."""
    folders = {k: f / "outputs" for k, f in (("duckdb", duck), ("spark", spark))}
    crosswalks = {k: pd.read_parquet(f / "merge" / "crosswalk.parquet") for k, f in folders.items()}
    same = {}
    for name in ("merge/customers", "labels/tag_matrix"):
        frames = [named_by_records(pd.read_parquet(f / f"{name}.parquet"), crosswalks[k]) for k, f in folders.items()]
        same[name.split("/")[1]] = frames[0].equals(frames[1])
    gmv = [pd.read_parquet(f / "merge" / "orders.parquet").query("state == 'paid'")["amount"].sum()
           for f in folders.values()]
    return {"b3_f1": b_cubed_f1(crosswalks["duckdb"], crosswalks["spark"]), "same_golden_records": same["customers"],
            "same_tags": same["tag_matrix"], "gmv_duckdb": str(gmv[0]), "gmv_spark": str(gmv[1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, nargs="+", default=[5000])
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    parser.add_argument("--workdir", default="/tmp/digiops-bench")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size and engine; the ratios use medians")
    args = parser.parse_args()
    cores = int(args.master[args.master.find("[") + 1:-1]) if args.master.startswith("local[") else 2
    steps = ("prepare", "features", "identity", "stable_ids", "survivorship", "whole_link", "quality")
    print(f"| people | engine | records | customers | {' | '.join(steps)} | labels | merge (s) | process wall (s) | "
          "driver peak after merge (GB) | driver peak (GB) | tree peak (GB) |")
    print("|" + " --- |" * (len(steps) + 10))
    peaks: dict[str, dict[int, list[tuple[float, float]]]] = {}
    for people in args.people:
        folder = Path(args.workdir) / f"people-{people}"
        generate(people, folder)
        for kind, _ in ((k, r) for k in args.engines for r in range(args.repeat)):
            out = folder / f"outputs-{kind}"
            shutil.rmtree(out, ignore_errors=True)
            line, wall, tree = run_measured([sys.executable, "-c", CHILD, str(folder), kind, args.master, str(out)])
            peaks.setdefault(kind, {}).setdefault(people, []).append(
                (line["driver_merge_gb"], line["driver_peak_gb"]))
            timings = line["steps"]
            rate = lambda s: line["records"] / (cores * s / 60) if s else float("nan")  # noqa: E731
            cells = [f"{timings.get(s, 0):.1f} ({rate(timings.get(s, 0)) / 1e3:,.0f}k)" for s in steps]
            print(f"| {people} | {kind}{' ' + args.master if kind == 'spark' else ''} | {line['records']} | "
                  f"{line['customers']} | {' | '.join(cells)} | {line['labels_s']:.1f} | {line['merge_s']:.1f} | "
                  f"{wall:.1f} | {line['driver_merge_gb']:.2f} | {line['driver_peak_gb']:.2f} | {tree:.2f} |",
                  flush=True)
        if {"duckdb", "spark"} <= set(args.engines):
            print(f"  {people} people, Spark against DuckDB: "
                  f"{json.dumps(compare(folder / 'outputs-duckdb', folder / 'outputs-spark'))}", flush=True)
    print("\nstep cells: seconds (thousand records per core-minute, cores of the master; DuckDB: the same count)")
    for kind, by_size in peaks.items():
        if len(by_size) > 1:
            low, high = min(by_size), max(by_size)
            median = {size: [statistics.median(run[i] for run in runs) for i in (0, 1)]
                      for size, runs in by_size.items()}
            merge, labels = (median[high][i] / median[low][i] for i in (0, 1))
            print(f"{kind}: median driver peak (GB) after merge {median[low][0]:.2f} at {low} people, "
                  f"{median[high][0]:.2f} at {high}; with labels {median[low][1]:.2f}, {median[high][1]:.2f}; "
                  f"ratio merge {merge:.2f}, merge and labels {labels:.2f} ({len(by_size[high])} runs per size)")


if __name__ == "__main__":
    main()
