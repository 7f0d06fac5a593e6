"""The stable-id step (digiops.merge.stable_ids) on a crosswalk of a 1 000 000-people client.

The demo client's merge writes 261 245 crosswalk records of 21 564 customers at 20 000 people, so at 1 000 000
people about 13 M records of 1.08 M customers. This builds a crosswalk of that shape without running the merge,
and a previous run's crosswalk in which 1 % of the clusters were split in two and 1 % merged into a neighbour, 5 %
of the records are new and the rows are in another order. It times ``carry_forward`` (median of ``--repeat`` runs,
in a fresh in-memory connection made as the merge makes its own each time) and the peak memory of this process, and counts how
many previously seen records kept their id.

    .venv/bin/python bench/bench_stable_ids.py [--records 13100000] [--clusters 1080000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from digiops.merge.pipeline import _connect
from digiops.merge.stable_ids import PreviousIds, carry_forward
from digiops.sql import literal


def build(con, records: int, clusters: int, folder: Path) -> Path:
    """Table ``current`` (this run) and the previous run's crosswalk as Parquet; returns its path."""
    con.execute(f"""
        CREATE TABLE base AS
        SELECT 'src' || (i % 7)::VARCHAR AS source, 'R' || i::VARCHAR AS record_id,
               -- skewed cluster sizes: many singletons, some large clusters
               (hash(i) % {clusters})::BIGINT AS cluster, i
        FROM range({records}) t(i)""")
    # previous run: 5 % of the records not there yet; 1 % of the clusters split (odd records apart), 1 % merged
    con.execute(f"""
        COPY (SELECT source, record_id,
                     printf('C%07d', CASE WHEN cluster % 100 = 0 AND i % 2 = 1 THEN cluster + {clusters}
                                          WHEN cluster % 100 = 1 THEN cluster - 1 ELSE cluster END + 1) AS customer_id
              FROM base WHERE hash(i * 7) % 100 >= 5 ORDER BY hash(i * 13))
        TO '{folder / "previous.parquet"}' (FORMAT parquet)""")
    con.execute("""CREATE TABLE current AS SELECT source, record_id, printf('C%07d', dense_rank() OVER (ORDER BY
                   cluster)) AS customer_id, 1.0 AS match_probability FROM base ORDER BY hash(i * 17)""")
    con.execute("DROP TABLE base")
    return folder / "previous.parquet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=13_100_000)
    parser.add_argument("--clusters", type=int, default=1_080_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        database = folder / "bench.duckdb"
        with duckdb.connect(str(database), config={"threads": 2, "temp_directory": str(folder / "spill")}) as con:
            previous = build(con, args.records, args.clusters, folder)
            con.execute("CREATE TABLE pristine AS SELECT * FROM current")
        seconds, counts = [], {}
        for _ in range(args.repeat):
            # the merge's own connection: in memory, its memory limit, spilling to the work folder
            with _connect(folder) as con:
                con.execute(f"ATTACH {literal(str(database))} AS built (READ_ONLY)")
                con.execute("CREATE TABLE crosswalk_all AS SELECT * FROM built.pristine")
                con.execute("DETACH built")
                started = time.perf_counter()
                counts = carry_forward(con, PreviousIds(previous, 0))
                seconds.append(time.perf_counter() - started)
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    kept = 1 - counts["records_changed_id"] / counts["records_seen_before"]
    print(f"records {args.records:,}, clusters {args.clusters:,}: carry_forward median {statistics.median(seconds):.1f} s "
          f"({', '.join(f'{s:.1f}' for s in seconds)}), peak RSS {peak_gb:.2f} GB; {counts}; "
          f"previously seen records that kept their id: {kept:.4%}")


if __name__ == "__main__":
    main()
