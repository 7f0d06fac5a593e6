"""Benchmark of the labels stage: 1 M customers, ~7.5 M orders, the demo client's default catalog.

Measures, in one run:
1. DuckDB end to end: feature view (aggregates, RFM ranks, segments) + every catalog tag + conflict check.
2. The tag rules alone in DuckDB (the SELECT over the materialized feature view).
3. The same tag rules evaluated row by row in pandas (digiops.labels.baseline) on the same feature view.
Ratios: (3) / (2) compares like with like; (3) / (1) is conservative (the pandas side is not even charged for the
aggregates). Usage: python bench/bench_labels.py [customers] [orders_per_customer]
"""

from __future__ import annotations

import sys
import time

from digiops.labels.baseline import evaluate_rows
from digiops.labels.catalog import load_catalog
from digiops.labels.evaluate import _to_pandas, catalog_sql, evaluate
from digiops.labels.features import build_features, connect, load_segment_map
from digiops.labels.synthetic import contract_tables
from digiops.paths import demo_client_dir


def main(customers: int = 1_000_000, per_customer: float = 7.5) -> None:
    start = time.perf_counter()
    data = contract_tables(customers, per_customer, seed=42)
    print(f"generated {data['customers'].num_rows:,} customers, {data['orders'].num_rows:,} orders, "
          f"{data['shipments'].num_rows:,} shipments in {time.perf_counter() - start:.1f} s")
    catalog = load_catalog(demo_client_dir() / "tag_catalog.yaml")

    start = time.perf_counter()
    run = evaluate(data, catalog)
    duck_total = time.perf_counter() - start
    print(f"DuckDB end to end ({len(catalog.tags)} tags): {duck_total:.1f} s  {run.seconds}")

    con = connect(data)
    build_features(con, run.as_of, load_segment_map())
    features = _to_pandas(con.sql("SELECT * FROM customer_features ORDER BY customer_id").to_arrow_table())
    start = time.perf_counter()
    _to_pandas(con.sql(catalog_sql(catalog)).to_arrow_table())
    duck_rules = time.perf_counter() - start
    print(f"DuckDB rules only: {duck_rules:.2f} s")

    start = time.perf_counter()
    rows = evaluate_rows(features, catalog)
    pandas_rows = time.perf_counter() - start
    assert len(rows) == len(run.tags)
    print(f"pandas row by row, rules only: {pandas_rows:.1f} s")
    print(f"ratio rules vs rules: {pandas_rows / duck_rules:.0f}x; "
          f"ratio row-by-row rules vs DuckDB end to end: {pandas_rows / duck_total:.1f}x")


if __name__ == "__main__":
    main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *(float(sys.argv[2]),) if len(sys.argv) > 2 else ())
