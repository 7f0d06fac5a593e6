"""Where the merge and labels stages run their SQL: the embedded DuckDB (default) or Apache Spark (issue 10).

The engagement file's ``engine:`` section (:class:`EngineSettings`) chooses. This module is the one place that knows
how to get, for either engine,

* a Splink database API (:func:`splink_db_api`): ``DuckDBAPI`` on a fresh in-memory connection, or ``SparkAPI`` on
  the stage's Spark session with Splink's Scala similarity UDFs (``jaro_winkler``, ``damerau_levenshtein``) and a
  checkpoint directory;
* a SQL session (:func:`sql_session`) that registers tables (DataFrames, Arrow tables or Parquet paths) as views,
  runs statements and returns results as Arrow tables;
* DuckDB SQL rewritten for Spark SQL (:func:`to_spark_sql`, sqlglot plus the few functions sqlglot does not map).

The Spark session is created once per process (one stage notebook's kernel = one stage) with the configured master
and options; ``pyspark`` is imported only when the engine is ``spark``, so DuckDB users never need it.

Example:
    >>> EngineSettings().kind
    'duckdb'
    >>> to_spark_sql('l."phone" = r."phone" AND list_has_any(surnames_l, surnames_r)')
    'l.`phone` = r.`phone` AND ARRAYS_OVERLAP(surnames_l, surnames_r)'
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from digiops.sql import scan

SPARK_EXTRA = "pip install -e '.[spark]'"


class EngineSettings(BaseModel):
    """The ``engine:`` section of the engagement file (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["duckdb", "spark"] = Field(
        "duckdb", description="`duckdb` (embedded, default) or `spark` (Apache Spark: merge and labels run their "
                              "Splink model and SQL on a Spark cluster; needs the `spark` extra and Java 17)")
    master: str = Field("local[2]", description="Spark master URL: `local[N]` (N cores of this machine), "
                                                "`spark://host:7077` (a standalone cluster), `yarn`, `k8s://…`")
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Spark configuration passed to the session builder, e.g. "
                                          "`spark.driver.memory: 8g`, `spark.sql.shuffle.partitions: 64` (keys "
                                          "that look like secrets are left out of the run manifest)")
    checkpoint_dir: str | None = Field(
        None, description="Where Splink writes its intermediate tables on Spark; on a cluster a path every node "
                          "reaches (HDFS, S3, a shared mount); empty = a temporary folder of this machine")

    @property
    def is_spark(self) -> bool:
        return self.kind == "spark"


def _settings(engine: EngineSettings | None) -> EngineSettings:
    return engine if engine is not None else EngineSettings()


# --- Spark session ---------------------------------------------------------------------------------------------
_SESSION: dict[str, Any] = {}
_LOCK = threading.Lock()


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        from digiops.errors import EngagementError

        raise EngagementError("engagement.yaml", "engine.kind is `spark` but pyspark is not installed",
                              field="engine.kind", fix=f"install the Spark extra ({SPARK_EXTRA}) and Java 17, "
                                                       "or set engine.kind: duckdb") from None


def _local_cores(master: str) -> int:
    """Cores of a ``local[N]`` master (``local`` = 1, ``local[*]`` = every core of the machine)."""
    inside = master[master.find("[") + 1:master.find("]")] if "[" in master else "1"
    inside = inside.split(",")[0]
    if inside == "*":
        return os.cpu_count() or 1
    return max(1, int(inside)) if inside.isdigit() else 1


def spark_session(engine: EngineSettings):
    """The process's Spark session for these settings (created on first use, then reused).

    Splink's similarity UDF jar (shipped inside the splink wheel) is added to ``spark.jars``, the session time zone
    is UTC (Parquet timestamps of the archive are naive), and the checkpoint directory is set. On a ``local[N]``
    master, shuffles use 2·N partitions unless ``spark.sql.shuffle.partitions`` is given.
    """
    _require_pyspark()
    key = engine.model_dump_json()
    with _LOCK:
        if _SESSION.get("key") == key and _SESSION.get("spark") is not None:
            return _SESSION["spark"]
        if _SESSION.get("spark") is not None:
            _SESSION["spark"].stop()
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location

        options = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false",
                   # no spark-warehouse/ folder in whatever directory the kernel started in
                   "spark.sql.warehouse.dir": os.path.join(tempfile.gettempdir(), "digiops-spark-warehouse"),
                   "spark.sql.execution.arrow.pyspark.enabled": "true",
                   **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in engine.options.items()}}
        if engine.master.startswith("local") and "spark.sql.shuffle.partitions" not in options:
            # Spark's default of 200 shuffle partitions is for clusters; on one machine it is mostly overhead
            options["spark.sql.shuffle.partitions"] = str(2 * _local_cores(engine.master))
        jars = [similarity_jar_location(), *[j for j in str(options.pop("spark.jars", "")).split(",") if j]]
        builder = SparkSession.builder.master(engine.master).appName("digiops").config("spark.jars", ",".join(jars))
        for name, value in options.items():
            builder = builder.config(name, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")
        checkpoint = engine.checkpoint_dir
        if not checkpoint:  # ours: removed with the session, or when the process ends
            checkpoint = tempfile.mkdtemp(prefix="digiops-spark-checkpoints-")
            _SESSION["own_checkpoint"] = checkpoint
            atexit.register(shutil.rmtree, checkpoint, True)
        spark.sparkContext.setCheckpointDir(checkpoint)
        _SESSION.update(key=key, spark=spark)
        return spark


def stop_spark() -> None:
    """Stop the process's Spark session, if any (the next :func:`spark_session` starts a new one)."""
    with _LOCK:
        spark = _SESSION.pop("spark", None)
        _SESSION.pop("key", None)
        if spark is not None:
            spark.stop()
        checkpoint = _SESSION.pop("own_checkpoint", None)
        if checkpoint:
            shutil.rmtree(checkpoint, ignore_errors=True)


# --- Splink -----------------------------------------------------------------------------------------------------
def splink_db_api(engine: EngineSettings | None = None, *, duckdb_settings: dict[str, str] | None = None,
                  connection=None):
    """A Splink database API for the engine.

    DuckDB: ``DuckDBAPI`` on ``connection`` when given (a stage's own, with its settings), else on a new in-memory
    connection, after ``SET name = value`` for each of ``duckdb_settings``. Spark: ``SparkAPI`` on the stage's session, lineage broken by Parquet files in the
    checkpoint directory (Splink's default outside Databricks).
    """
    engine = _settings(engine)
    if engine.is_spark:
        from splink.backends.spark import SparkAPI

        return SparkAPI(spark_session=spark_session(engine))
    import duckdb
    from splink import DuckDBAPI

    if connection is not None:
        return DuckDBAPI(connection)
    con = duckdb.connect()
    for name, value in (duckdb_settings or {}).items():
        con.execute(f"SET {name} = {value}")
    return DuckDBAPI(con)


def close_db_api(db_api) -> None:
    """Release what :func:`splink_db_api` opened (the DuckDB connection; a Spark session lives on)."""
    con = getattr(db_api, "_con", None)
    if con is not None and hasattr(con, "close") and type(db_api).__name__ == "DuckDBAPI":
        con.close()


# --- DuckDB SQL → Spark SQL -------------------------------------------------------------------------------------
def to_spark_sql(sql: str) -> str:
    """DuckDB SQL (an expression or a query) as Spark SQL.

    sqlglot transpiles identifiers, literals, casts and date arithmetic (``date_diff('day', a, b)`` becomes
    ``DATEDIFF(DAY, a, b)``), ``a / b`` divides in DOUBLE as DuckDB does (Spark would keep decimals exact and
    give other digits); the list functions and string similarities that sqlglot leaves alone are renamed to
    their Spark (or Splink-UDF) names: ``list_has_any`` → ``arrays_overlap``, ``len(list_intersect(…))`` →
    ``size(array_intersect(…))``, ``jaro_winkler_similarity`` → ``jaro_winkler`` (Splink's Scala UDF).
    """
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div) and not getattr(node.this, "_digiops_double", False):
            # DuckDB's `/` always gives DOUBLE; Spark keeps DECIMAL for decimals: divide in DOUBLE as DuckDB does
            numerator = exp.Cast(this=node.this, to=exp.DataType.build("double"))
            numerator._digiops_double = True  # type: ignore[attr-defined]
            return exp.Div(this=numerator, expression=node.expression)
        if isinstance(node, exp.ArrayOverlaps):
            return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
        if isinstance(node, exp.JarowinklerSimilarity):
            return exp.Anonymous(this="jaro_winkler", expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "list_intersect":
            return exp.Anonymous(this="array_intersect", expressions=list(node.expressions))
        if isinstance(node, exp.Length) and isinstance(node.this, exp.Anonymous) and \
                str(node.this.this).lower() in ("list_intersect", "array_intersect"):
            inner = exp.Anonymous(this="array_intersect", expressions=list(node.this.expressions))
            return exp.Anonymous(this="size", expressions=[inner])
        return node

    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(rewrite).sql(dialect="spark")


# --- SQL sessions (the labels stage) ------------------------------------------------------------------------------
class SqlSession:
    """Tables as views, statements, results as Arrow: the same calls on DuckDB and on Spark."""

    dialect = "duckdb"

    def register(self, name: str, source: object) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def execute(self, sql: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def arrow(self, sql: str):  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class DuckDBSession(SqlSession):
    """An in-memory DuckDB connection."""

    dialect = "duckdb"

    def __init__(self, threads: int | None = None):
        import duckdb

        self.con = duckdb.connect()
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def register(self, name: str, source: object) -> None:
        if isinstance(source, (str, Path)):
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {scan(source)}")
        else:
            self.con.register(f"_{name}_frame", source)
            self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM _{name}_frame")

    def execute(self, sql: str) -> None:
        self.con.execute(sql)

    def arrow(self, sql: str):
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def _nanosecond_parquet(path: str | Path) -> bool:
    """True for a Parquet file (not a folder) with a nanosecond timestamp column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not Path(path).is_file():
        return False
    return any(pa.types.is_timestamp(f.type) and f.type.unit == "ns" for f in pq.read_schema(path))


def _microseconds(table):
    """An Arrow table with nanosecond timestamps cast to microseconds (sub-microsecond digits dropped)."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.timestamp("us", f.type.tz)) if pa.types.is_timestamp(f.type) and
              f.type.unit == "ns" else f for f in table.schema]
    return table.cast(pa.schema(fields), safe=False)


class SparkSqlSession(SqlSession):
    """Spark SQL on the stage's session: Parquet paths are read by Spark (so a cluster reads them where they are,
    given a path every node reaches), except files with nanosecond timestamps (pandas writes them; Spark cannot
    read them), which go through Arrow like in-memory frames."""

    dialect = "spark"

    def __init__(self, engine: EngineSettings):
        self.spark = spark_session(engine)
        self._views: list[str] = []

    def register(self, name: str, source: object) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if isinstance(source, (str, Path)) and not _nanosecond_parquet(source):
            frame = self.spark.read.parquet(os.fspath(source))
        elif isinstance(source, (str, Path)):
            # Spark cannot read TIMESTAMP(NANOS) columns (what pandas writes): send the file through Arrow with
            # microsecond timestamps (Spark's own precision) instead
            frame = self.spark.createDataFrame(_microseconds(pq.read_table(source)))
        else:
            table = source if isinstance(source, pa.Table) else pa.Table.from_pandas(source, preserve_index=False)
            frame = self.spark.createDataFrame(_microseconds(table))
        frame.createOrReplaceTempView(name)
        self._views.append(name)

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def arrow(self, sql: str):
        return self.spark.sql(sql).toArrow()

    def close(self) -> None:
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views.clear()


def sql_session(engine: EngineSettings | None = None, *, threads: int | None = None) -> SqlSession:
    """A :class:`SqlSession` on the engine (``threads`` applies to DuckDB only)."""
    engine = _settings(engine)
    return SparkSqlSession(engine) if engine.is_spark else DuckDBSession(threads)


__all__ = ["EngineSettings", "SqlSession", "close_db_api", "spark_session", "splink_db_api", "sql_session",
           "stop_spark", "to_spark_sql"]
