"""Customer ids that last between runs: the previous run's crosswalk carried forward.

A run numbers its clusters ``C0000001…`` afresh (:mod:`digiops.merge.pipeline`). Given the client's previous run,
each cluster takes a previous id instead, by this rule:

1. Every record seen in the previous run (the same ``source`` and ``record_id``) votes for the id it had there.
2. Ids are handed out greedily, the largest vote first (ties: the smaller cluster id, then the smaller previous
   id): each previous id goes to one cluster at most and each cluster takes one previous id at most. A cluster that
   only grew keeps its id; when clusters merge, the id with the most prior records survives and the others retire;
   when a cluster splits, the part holding most of its prior records keeps the id.
3. A cluster without a previous id (new people, or the smaller part of a split) gets a new id numbered after the
   highest the client has used (the previous run records it as ``last_customer_number``), so no retired id is
   ever given to someone else.

Every previously seen record whose id changed is listed in ``id_changes`` with the reason: ``merged`` (its id
retired; the cluster it joined kept another) or ``split`` (its id lives on with another part of its old cluster).
Records are known by ``(source, record_id)``: a source without an id column numbers its rows, so its records keep
their ids when rows are appended to an export, not when the export is re-sorted (map the id column).

Example:
    >>> import duckdb, pandas as pd, tempfile, pathlib
    >>> con = duckdb.connect()
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"source": ["crm"] * 3, "record_id": ["1", "2", "3"],
    ...               "customer_id": ["C0000001", "C0000002", "C0000002"]}).to_parquet(folder / "before.parquet")
    >>> con.execute("CREATE TABLE crosswalk_all AS SELECT * FROM (VALUES ('crm', '1', 'C0000002'), "
    ...             "('crm', '2', 'C0000001'), ('crm', '3', 'C0000001'), ('crm', '4', 'C0000003')) "
    ...             "t(source, record_id, customer_id)")  # doctest: +ELLIPSIS
    <...>
    >>> counts = carry_forward(con, PreviousIds(folder / "before.parquet", last_number=2))
    >>> con.sql("SELECT record_id, customer_id FROM crosswalk_all ORDER BY record_id").fetchall()
    [('1', 'C0000001'), ('2', 'C0000002'), ('3', 'C0000002'), ('4', 'C0000003')]
    >>> counts["ids_kept"], counts["ids_new"], counts["records_changed_id"], counts["last_customer_number"]
    (2, 1, 0, 3)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digiops import engines

ID_CHANGE_COLUMNS = ("source", "record_id", "previous_customer_id", "customer_id", "reason")
_NUMBER = r"TRY_CAST(regexp_extract({}, '^C([0-9]+)$', 1) AS BIGINT)"


@dataclass(frozen=True)
class PreviousIds:
    """What a run carries forward: the previous run's crosswalk and the highest customer number used so far."""

    crosswalk: Path
    last_number: int = 0


def carry_forward(con, previous: PreviousIds | None, table: str = "crosswalk_all", *,
                  engine: engines.EngineSettings | None = None) -> dict[str, int]:
    """Give ``table``'s clusters (``customer_id``) the previous run's ids by the module's rule, in place; create
    table ``id_changes`` (:data:`ID_CHANGE_COLUMNS`). Returns the counts the run records.

    Every table is made by the engine (:func:`digiops.engines.make_table`): on Spark (``table`` made by
    :func:`~digiops.engines.make_table` too) the votes, the greedy rounds (one small job each) and the new ``table``
    are the executors' work, and only counts reach the driver."""
    def make(name: str, sql: str) -> None:
        engines.make_table(con, name, sql, engine)

    def one(sql: str) -> int:
        return int(engines.fetch(con, sql, engine)[0][0])

    empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in ID_CHANGE_COLUMNS)
    if previous is None:  # the first run: this run's numbering stands
        make("id_changes", f"SELECT {empty} WHERE false")
        number = _NUMBER.format("customer_id")
        clusters, last = engines.fetch(con, f"SELECT count(DISTINCT customer_id), coalesce(max({number}), 0) "
                                            f"FROM {table}", engine)[0]
        return {"ids_kept": 0, "ids_new": int(clusters), "ids_retired": 0, "records_seen_before": 0,
                "records_changed_id": 0, "last_customer_number": int(last)}
    make("_current", f"SELECT source, record_id, min(customer_id) AS cur FROM {table} "
                     "WHERE customer_id IS NOT NULL GROUP BY source, record_id")
    engines.read_view(con, "_previous_crosswalk", previous.crosswalk, engine)
    make("_previous", "SELECT source, CAST(record_id AS VARCHAR) AS record_id, min(customer_id) AS prev_id "
                      "FROM _previous_crosswalk WHERE customer_id IS NOT NULL "
                      "GROUP BY source, CAST(record_id AS VARCHAR)")
    make("_votes", "SELECT c.cur, p.prev_id, count(*) AS n FROM _current c "
                   "JOIN _previous p ON p.source = c.source AND p.record_id = c.record_id GROUP BY c.cur, p.prev_id")
    make("_kept", "SELECT CAST(NULL AS VARCHAR) AS cur, CAST(NULL AS VARCHAR) AS prev_id WHERE false")
    # Greedy matching in rounds: a pair first in the order (n DESC, cur, prev_id) among both its cluster's and its
    # previous id's pairs is taken; the first pair overall always is, so every round takes one at least.
    while True:
        make("_round", """
            SELECT cur, prev_id FROM (
                SELECT cur, prev_id,
                       row_number() OVER (PARTITION BY prev_id ORDER BY n DESC, cur) AS by_id,
                       row_number() OVER (PARTITION BY cur ORDER BY n DESC, prev_id) AS by_cluster
                FROM _votes) ranked
            WHERE by_id = 1 AND by_cluster = 1""")
        if not one("SELECT count(*) FROM _round"):
            break
        make("_kept", "SELECT cur, prev_id FROM _kept UNION ALL SELECT cur, prev_id FROM _round")
        make("_votes", "SELECT * FROM _votes WHERE cur NOT IN (SELECT cur FROM _round) "
                       "AND prev_id NOT IN (SELECT prev_id FROM _round)")
    last = max(int(previous.last_number), one(f"SELECT coalesce(max({_NUMBER.format('prev_id')}), 0) FROM _previous"))
    make("_ids", f"""
        WITH clusters AS (SELECT DISTINCT cur FROM _current)
        SELECT c.cur, coalesce(k.prev_id, printf('C%07d', {last} + row_number() OVER (
                   PARTITION BY k.prev_id IS NULL ORDER BY c.cur))) AS customer_id, k.prev_id IS NULL AS new
        FROM clusters c LEFT JOIN _kept k ON k.cur = c.cur""")
    columns = [c for c in con.sql(f"SELECT * FROM {table} LIMIT 0").columns]
    replaced = ", ".join("coalesce(i.customer_id, x.customer_id) AS customer_id" if c == "customer_id" else f"x.{c}"
                         for c in columns)
    make(table, f"SELECT {replaced} FROM {table} x LEFT JOIN _ids i ON i.cur = x.customer_id")
    make("id_changes", """
        SELECT p.source, p.record_id, p.prev_id AS previous_customer_id, i.customer_id,
               CASE WHEN p.prev_id IN (SELECT prev_id FROM _kept) THEN 'split' ELSE 'merged' END AS reason
        FROM _previous p JOIN _current c ON c.source = p.source AND c.record_id = p.record_id
        JOIN _ids i ON i.cur = c.cur
        WHERE i.customer_id <> p.prev_id""")
    counts = engines.fetch(con, f"""
        SELECT (SELECT count(*) FROM _kept), (SELECT count(*) FROM _ids WHERE new),
               (SELECT count(DISTINCT prev_id) FROM _previous WHERE prev_id NOT IN (SELECT prev_id FROM _kept)),
               (SELECT count(*) FROM _previous p JOIN _current c ON c.source = p.source AND c.record_id = p.record_id),
               (SELECT count(*) FROM id_changes),
               greatest({last}, (SELECT coalesce(max({_NUMBER.format('customer_id')}), 0) FROM _ids))""", engine)[0]
    for name in ("_current", "_previous", "_previous_crosswalk", "_votes", "_kept", "_round", "_ids"):
        engines.drop_table(con, name)
    keys = ("ids_kept", "ids_new", "ids_retired", "records_seen_before", "records_changed_id", "last_customer_number")
    return dict(zip(keys, map(int, counts)))
