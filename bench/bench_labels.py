"""Benchmark of the labels stage: 1 M customers, ~7.5 M orders, the demo client's default catalog.

Measures, in one run (the synthetic tables are generated once):
1. DuckDB end to end: feature view (aggregates, RFM ranks, segments) + every catalog tag + conflict check, over the
   tables registered as Arrow (as before) and over Parquet files read in place (what the stage does); each
   ``--repeat`` times, median reported.
2. The feature view alone with the SQL it replaced (``tests/labels/reference_features.py``), interleaved with (1),
   for the before / after ratio; wall and CPU seconds (CPU is the steadier figure on a shared machine).
3. The tag rules alone in DuckDB (the SELECT over the materialized feature view).
4. The same tag rules evaluated row by row in pandas (tests/labels/baseline.py) on the same feature view (once).
Ratios: (4) / (3) compares like with like; (4) / (1) is conservative (the pandas side is not even charged for the
aggregates). Usage: python bench/bench_labels.py [customers] [orders_per_customer] [--repeat N] [--no-pandas]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.labels.baseline import evaluate_rows  # noqa: E402
from digiops.labels.catalog import load_catalog  # noqa: E402
from digiops.io import arrow_frame  # noqa: E402
from digiops.labels.evaluate import catalog_sql, evaluate  # noqa: E402
from digiops.labels.features import _segment_sql, build_features, connect, load_segment_map  # noqa: E402
from tests.labels.synthetic import contract_tables  # noqa: E402
from digiops.paths import demo_client_dir  # noqa: E402
from tests.labels.reference_features import reference_feature_sql  # noqa: E402


def _fmt(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} s ({', '.join(f'{v:.1f}' for v in values)})"


def main(customers: int = 1_000_000, per_customer: float = 7.5, repeat: int = 3, pandas: bool = True) -> None:
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    start = time.perf_counter()
    data = contract_tables(customers, per_customer, seed=42)
    print(f"generated {data['customers'].num_rows:,} customers, {data['orders'].num_rows:,} orders, "
          f"{data['shipments'].num_rows:,} shipments in {time.perf_counter() - start:.1f} s")
    catalog = load_catalog(demo_client_dir() / "tag_catalog.yaml")
    folder = Path(tempfile.mkdtemp(prefix="bench-labels-"))
    files = {}
    for name, table in data.items():
        files[name] = folder / f"{name}.parquet"
        pq.write_table(table, files[name])

    segments = load_segment_map()
    arrow_runs, parquet_runs, features_runs, features_only, reference, cpu_new, cpu_old = [], [], [], [], [], [], []
    for _ in range(repeat):  # interleaved, so the shared machine's load hits both SQL forms alike
        for source, runs in ((data, arrow_runs), (files, parquet_runs)):
            start, cpu = time.perf_counter(), time.process_time()
            run = evaluate(source, catalog)
            runs.append(time.perf_counter() - start)
            if source is files:
                features_runs.append(run.seconds["features"])
            print(f"  DuckDB end to end ({'Parquet' if source is files else 'Arrow'}): {runs[-1]:.1f} s  "
                  f"{ {k: round(v, 1) for k, v in run.seconds.items()} }", flush=True)
        con = connect(files)
        start, cpu = time.perf_counter(), time.process_time()
        build_features(con, run.as_of, segments)
        features_only.append(time.perf_counter() - start)
        cpu_new.append(time.process_time() - cpu)
        con.close()
        con = connect(files)
        start, cpu = time.perf_counter(), time.process_time()
        con.execute(f"CREATE TEMP TABLE customer_features AS SELECT *, {_segment_sql(segments)} AS rfm_segment "
                    f"FROM ({reference_feature_sql(run.as_of, segments)})")
        reference.append(time.perf_counter() - start)
        cpu_old.append(time.process_time() - cpu)
        con.close()
        print(f"  feature view only (Parquet): {features_only[-1]:.1f} s, {cpu_new[-1]:.1f} s CPU; previous SQL "
              f"{reference[-1]:.1f} s, {cpu_old[-1]:.1f} s CPU", flush=True)
    duck_total = statistics.median(arrow_runs)
    print(f"DuckDB end to end ({len(catalog.tags)} tags), Arrow tables: {_fmt(arrow_runs)}")
    print(f"DuckDB end to end ({len(catalog.tags)} tags), Parquet in place: {_fmt(parquet_runs)}; "
          f"of which feature view {_fmt(features_runs)}")
    print(f"feature view alone, Parquet: {_fmt(features_only)}; CPU {_fmt(cpu_new)}")
    print(f"feature view with the previous SQL (windows per preference), Parquet: {_fmt(reference)}; "
          f"CPU {_fmt(cpu_old)}; speed-up of the feature view: wall "
          f"{statistics.median(reference) / statistics.median(features_only):.1f}x, CPU "
          f"{statistics.median(cpu_old) / statistics.median(cpu_new):.1f}x")

    con = connect(data)
    build_features(con, run.as_of, segments)
    features = arrow_frame(con.sql("SELECT * FROM customer_features ORDER BY customer_id").to_arrow_table())
    start = time.perf_counter()
    arrow_frame(con.sql(catalog_sql(catalog)).to_arrow_table())
    duck_rules = time.perf_counter() - start
    print(f"DuckDB rules only: {duck_rules:.2f} s")
    if not pandas:
        return
    start = time.perf_counter()
    rows = evaluate_rows(features, catalog)
    pandas_rows = time.perf_counter() - start
    assert len(rows) == len(run.tags)
    print(f"pandas row by row, rules only: {pandas_rows:.1f} s")
    print(f"ratio rules vs rules: {pandas_rows / duck_rules:.0f}x; "
          f"ratio row-by-row rules vs DuckDB end to end (Arrow, median): {pandas_rows / duck_total:.1f}x")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", nargs="?", type=int, default=1_000_000)
    parser.add_argument("orders_per_customer", nargs="?", type=float, default=7.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pandas", action="store_true", help="skip the row-by-row pandas baseline")
    args = parser.parse_args()
    main(args.customers, args.orders_per_customer, args.repeat, not args.no_pandas)
