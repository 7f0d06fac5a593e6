"""The tag table of a labels run where the engine keeps it, and the queries the measures share.

The labels stage never collects the tag table: the coverage, the segment figures, the plays and the audience are
queries over the views ``tags`` and ``customer_features`` (:class:`TagTable`), computed by DuckDB on one machine and
by the executors on Spark; only their results reach the driver.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from digiops import engines
from digiops.sql import identifier


class TagTable:
    """The views ``tags`` and ``customer_features`` of a labels run, and the engine that computes queries over them.

    ``con`` is a DuckDB connection holding them (on Spark: DuckDB views over the files the executors wrote, beside
    Spark views of the same names); :meth:`frame` runs a DuckDB query on the engine (:func:`digiops.engines.fetch_frame`).
    """

    def __init__(self, con, engine: engines.EngineSettings | None = None):
        self.con, self.engine = con, engine
        self._booleans: dict[str, dict[str, bool]] = {}

    @classmethod
    def of(cls, tags: TagTable | pd.DataFrame, name: str = "tags") -> TagTable:
        """``tags`` itself, or a pandas frame as view ``name`` of a new in-memory DuckDB."""
        if isinstance(tags, TagTable):
            return tags
        con = duckdb.connect()
        con.register(name, tags)
        return cls(con)

    def frame(self, sql: str) -> pd.DataFrame:
        """The result of the DuckDB query ``sql``: a few rows, computed where the engine runs."""
        return engines.fetch_frame(self.con, sql, self.engine)

    def row(self, sql: str) -> tuple:
        """The one row of an aggregate query."""
        return engines.fetch(self.con, sql, self.engine)[0]

    def counts(self, expressions: list[str], name: str = "tags") -> list[int]:
        """One aggregate query over view ``name``: the value of every expression (a count), 0 for a null."""
        if not expressions:
            return []
        return [int(v or 0) for v in self.row(f"SELECT {', '.join(expressions)} FROM {name}")]

    def booleans(self, name: str = "tags") -> dict[str, bool]:
        """Each column of view ``name``, and whether it is a boolean (asked of the engine once per view: the views
        do not change)."""
        if name not in self._booleans:
            empty = self.frame(f"SELECT * FROM {name} LIMIT 0")
            self._booleans[name] = {column: pd.api.types.is_bool_dtype(empty[column]) for column in empty.columns}
        return self._booleans[name]

    def close(self) -> None:
        self.con.close()


def count_of(condition: str) -> str:
    """SQL counting the rows where ``condition`` holds (0 over no rows, on DuckDB and Spark alike)."""
    return f"count(CASE WHEN {condition} THEN 1 END)"


def held_sql(column: str, boolean: bool) -> str:
    """SQL: the customer holds the tag in ``column`` (a value, or a true flag: a false flag is no tag)."""
    return f"coalesce({identifier(column)}, false)" if boolean else f"{identifier(column)} IS NOT NULL"


def segment_figures(tags: TagTable | pd.DataFrame, *, means: bool = True) -> pd.DataFrame:
    """Per RFM segment (index): ``customers``, ``value`` (Σ monetary, summed exactly, then in yuan as a float),
    ``purchases`` (Σ frequency) and, with ``means``, ``avg_recency_days`` and ``avg_frequency``."""
    table = TagTable.of(tags)
    averages = ", avg(recency_days) AS avg_recency_days, avg(frequency) AS avg_frequency" if means else ""
    figures = table.frame(f"""
        SELECT rfm_segment, count(*) AS customers, CAST(sum(monetary) AS DOUBLE) AS value,
               sum(frequency) AS purchases{averages}
        FROM tags WHERE rfm_segment IS NOT NULL GROUP BY rfm_segment""")
    return figures.set_index("rfm_segment")
