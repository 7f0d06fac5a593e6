"""Where the merge and labels stages run their SQL: the embedded DuckDB (default) or Apache Spark (issue 10).

The engagement file's ``engine:`` section (:class:`EngineSettings`) chooses. This module is the one place that knows
how to get, for either engine,

* a Splink database API (:func:`splink_db_api`): ``DuckDBAPI`` on a fresh in-memory connection, or ``SparkAPI`` on
  the stage's Spark session with Splink's Scala similarity UDFs (``jaro_winkler``, ``damerau_levenshtein``) and a
  checkpoint directory;
* a SQL session (:func:`sql_session`) that registers tables (DataFrames, Arrow tables or Parquet paths) as views,
  runs statements and returns results as Arrow tables;
* DuckDB SQL rewritten for Spark SQL (:func:`to_spark_sql`, sqlglot plus the few functions sqlglot does not map);
* the checks a Spark stage makes before it reads any source (:func:`check_spark`, issue 25): pyspark installed,
  SPARK_HOME's Spark of pyspark's version, the master reachable, the run folder on storage the executors reach.

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
import re
import shutil
import socket
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from digiops.errors import DigiopsError, EngagementError
from digiops.sql import literal, scan

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
                                          "`spark.driver.memory: 8g`, `spark.sql.shuffle.partitions: 64`, "
                                          "`spark.pyspark.python: /opt/digiops/bin/python` (the executors' Python, "
                                          "which must run digiops; on `local[N]` this one's by default) (keys "
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


def _require_pyspark(location: str = "engagement.yaml"):
    """The pyspark module; an engagement error naming the fix when it is not installed."""
    try:
        import pyspark
    except ImportError:
        raise EngagementError(location, "engine.kind is `spark` but pyspark is not installed",
                              field="engine.kind", fix=f"install the Spark extra ({SPARK_EXTRA}) and Java 17, "
                                                       "or set engine.kind: duckdb") from None
    return pyspark


def _local_cores(master: str) -> int:
    """Cores of a ``local[N]`` master (``local`` = 1, ``local[*]`` = every core of the machine)."""
    inside = master[master.find("[") + 1:master.find("]")] if "[" in master else "1"
    inside = inside.split(",")[0]
    if inside == "*":
        return os.cpu_count() or 1
    return max(1, int(inside)) if inside.isdigit() else 1


def local_driver_memory() -> str:
    """The JVM heap of a ``local[N]`` session when ``spark.driver.memory`` is not given: three tenths of the
    machine's memory, between 1 and 8 GB (the stage's DuckDB takes up to four tenths beside it)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{max(1, min(8, int(0.3 * total)))}g"


def spark_session(engine: EngineSettings):
    """The process's Spark session for these settings (created on first use, then reused).

    Splink's similarity UDF jar (shipped inside the splink wheel) is added to ``spark.jars``, the session time zone
    is UTC (Parquet timestamps of the archive are naive), and the checkpoint directory is set. On a ``local[N]``
    master, shuffles use 2·N partitions unless ``spark.sql.shuffle.partitions`` is given. A session whose JVM runs
    another Spark major.minor than pyspark is stopped and refused (:func:`version_problem`).
    """
    pyspark = _require_pyspark()
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
                   # the tables it writes have microsecond timestamps, as DuckDB's (not Spark's default INT96)
                   "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
                   **{k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in engine.options.items()}}
        if engine.master.startswith("local"):
            # Spark's default of 200 shuffle partitions is for clusters; on one machine it is mostly overhead
            options.setdefault("spark.sql.shuffle.partitions", str(2 * _local_cores(engine.master)))
            # the local executor lives in the driver's JVM, whose default heap of 1 GB fails Splink's blocking
            # at the demo's 20 000 people ("Java heap space")
            options.setdefault("spark.driver.memory", local_driver_memory())
            # the executors' Python workers run digiops' own code (preparing the sources): this environment's
            options.setdefault("spark.pyspark.python", sys.executable)
        if "spark.pyspark.python" in options:
            # pyspark names the workers' Python from the environment only (a session started from a kernel)
            os.environ["PYSPARK_PYTHON"] = options["spark.pyspark.python"]
        jars = [similarity_jar_location(), *[j for j in str(options.pop("spark.jars", "")).split(",") if j]]
        builder = SparkSession.builder.master(engine.master).appName("digiops").config("spark.jars", ",".join(jars))
        for name, value in options.items():
            builder = builder.config(name, value)
        spark = builder.getOrCreate()
        # pyspark talks to its own Spark version only: another one (SPARK_HOME's) fails later, and obscurely
        mismatch = version_problem(pyspark.__version__, spark.version, "the Spark session's JVM")
        if mismatch is not None:
            spark.stop()
            _SESSION.pop("spark", None)
            _SESSION.pop("key", None)
            raise mismatch
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


# --- checks before a Spark run (issue 25) ------------------------------------------------------------------------
#: Seconds to wait for a Spark master (or the Kubernetes API server) to accept a TCP connection.
MASTER_TIMEOUT_S = 3.0
#: File system types (``/proc/mounts``) of storage other machines reach: network file systems (NFS, SMB / CIFS),
#: cluster file systems (CephFS, GlusterFS, Lustre, GPFS / Spectrum Scale, BeeGFS, OCFS2, GFS2, AFS, …), 9p and FUSE
#: mounts (``fuse`` or ``fuse.<kind>``: sshfs, s3fs, gcsfuse, JuiceFS, …; a local FUSE file system passes too, the
#: check gives it the benefit of the doubt). A run folder on any other type (ext4, xfs, btrfs, overlay, tmpfs, …) is
#: on this machine only.
SHARED_FILE_SYSTEMS = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "ncpfs", "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "ocfs2",
    "gfs2", "afs", "orangefs", "pvfs2", "wekafs", "panfs", "9p", "fuse", "fuseblk"})
#: Run folder addresses of shared storage Spark reads by itself (HDFS, S3, Azure, Google Cloud Storage, Databricks).
SHARED_URI_PREFIXES = ("hdfs://", "s3a://", "s3n://", "s3://", "abfs://", "abfss://", "wasb://", "wasbs://",
                       "gs://", "dbfs:/")
#: Where Linux lists every mounted file system with its type.
MOUNTS_FILE = Path("/proc/mounts")
SPARK_STANDALONE_PORT = 7077
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.\d+)?")


def _safe(master: str) -> str:
    """The master URL as a message may show it (a password in it masked)."""
    from digiops.manifest import redact

    return redact(master)


def _is_local(master: str) -> bool:
    return master.startswith("local")


def master_addresses(master: str) -> list[tuple[str, int]]:
    """The (host, port) pairs to reach for a master URL: each master of ``spark://h1:p1,h2:p2`` (port 7077 when not
    given), the API server of ``k8s://https://host:port`` (443 for https, 80 for http); none for any other master.

    >>> master_addresses("spark://m1:7077,m2")
    [('m1', 7077), ('m2', 7077)]
    >>> master_addresses("k8s://https://10.0.0.1:6443"), master_addresses("k8s://api.example.com")
    ([('10.0.0.1', 6443)], [('api.example.com', 443)])
    >>> master_addresses("local[4]"), master_addresses("yarn")
    ([], [])
    """
    try:  # a malformed port (``host:abc``) is Spark's to refuse
        if master.startswith("spark://"):
            urls = [urlsplit(f"spark://{part.strip()}") for part in master.removeprefix("spark://").split(",")]
            return [(url.hostname, url.port or SPARK_STANDALONE_PORT) for url in urls if url.hostname]
        if master.startswith("k8s://"):
            server = master.removeprefix("k8s://")
            url = urlsplit(server if "://" in server else f"https://{server}")
            return [(url.hostname, url.port or (80 if url.scheme == "http" else 443))] if url.hostname else []
    except ValueError:
        return []
    return []


def _tcp_connect(address: tuple[str, int], timeout: float) -> None:
    socket.create_connection(address, timeout=timeout).close()


def _reason(error: OSError) -> str:
    """Why a connection failed, in the words a consultant searches for."""
    if isinstance(error, socket.gaierror):
        return "name not resolved"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, (TimeoutError, socket.timeout)):
        return "timed out"
    return (error.strerror or str(error) or type(error).__name__).lower()


def master_problem(master: str, *, environ: Mapping[str, str] | None = None,
                   connect: Callable[[tuple[str, int], float], object] = _tcp_connect,
                   timeout: float = MASTER_TIMEOUT_S, location: str = "engagement.yaml") -> EngagementError | None:
    """Why the Spark master cannot be used from this machine, or ``None``.

    ``spark://`` (every master of a standalone cluster) and ``k8s://`` (the API server): one of the addresses must
    accept a TCP connection within ``timeout`` seconds (``connect(address, timeout)`` raises ``OSError`` when it
    does not). ``yarn``: ``HADOOP_CONF_DIR`` or ``YARN_CONF_DIR`` in ``environ`` must name a folder (Spark finds the
    ResourceManager there). ``local…`` and any other master: no problem here (Spark decides).

    >>> master_problem("local[*]") is None
    True
    >>> print(master_problem("yarn", environ={}))
    engagement.yaml: engine.master: master is `yarn` but neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set \
(fix: set HADOOP_CONF_DIR to the folder with the cluster's core-site.xml and yarn-site.xml, e.g. export \
HADOOP_CONF_DIR=/etc/hadoop/conf, before digiops runs; or run on this machine with master: local[N])
    """
    environ = os.environ if environ is None else environ
    local_fix = "or run on this machine with master: local[N]"
    if master == "yarn":
        named = {name: environ[name] for name in ("HADOOP_CONF_DIR", "YARN_CONF_DIR") if environ.get(name)}
        if not named:
            return EngagementError(location, "master is `yarn` but neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set",
                                   field="engine.master",
                                   fix="set HADOOP_CONF_DIR to the folder with the cluster's core-site.xml and "
                                       "yarn-site.xml, e.g. export HADOOP_CONF_DIR=/etc/hadoop/conf, before digiops "
                                       f"runs; {local_fix}")
        if not any(Path(folder).is_dir() for folder in named.values()):
            given = ", ".join(f"{name}={folder}" for name, folder in named.items())
            verb = "are not folders" if len(named) > 1 else "is not a folder"
            return EngagementError(location, f"master is `yarn` but {given} {verb}", field="engine.master",
                                   fix=f"point it at the folder with the cluster's yarn-site.xml; {local_fix}")
        return None
    addresses = master_addresses(master)
    if not addresses:
        return None
    failures = []
    for host, port in addresses:
        try:
            connect((host, port), timeout)
            return None
        except OSError as error:
            failures.append(f"{host}:{port}: {_reason(error)}")
    what = "Kubernetes API server" if master.startswith("k8s://") else "Spark master"
    return EngagementError(location, f"cannot reach the {what} of {_safe(master)} ({'; '.join(failures)})",
                           field="engine.master",
                           fix=f"start the {what}, check host and port in engine.master and that this machine may "
                               f"connect to it (firewall, VPN); {local_fix}")


def spark_home_version(spark_home: str | Path) -> str | None:
    """The version of the Spark installation in ``spark_home``: from the first line of its ``RELEASE`` file
    (``Spark 3.5.1 built for Hadoop 3.3.4``), else from its ``jars/spark-core_<scala>-<version>.jar``; ``None``
    when neither tells."""
    home = Path(spark_home)
    try:
        lines = (home / "RELEASE").read_text(encoding="utf-8", errors="replace").splitlines()
        found = re.match(r"\s*Spark\s+(\d+\.\d+\S*)", lines[0]) if lines else None
        if found:
            return found[1]
    except OSError:
        pass
    try:
        for jar in sorted((home / "jars").glob("spark-core_*-*.jar")):
            found = re.fullmatch(r"spark-core_[\d.]+-(\d+\.\d+\S*)\.jar", jar.name)
            if found:
                return found[1]
    except OSError:
        pass
    return None


def _major_minor(version: str) -> str | None:
    found = _VERSION.match(version.strip())
    return f"{found[1]}.{found[2]}" if found else None


def version_problem(pyspark_version: str, spark_version: str, where: str, *,
                    location: str = "engagement.yaml") -> EngagementError | None:
    """The error when ``spark_version`` (the Spark that ``where`` names) and ``pyspark_version`` differ in
    major.minor (pyspark talks to its own Spark version only), else ``None``.

    >>> version_problem("4.0.1", "4.0.0", "SPARK_HOME") is None
    True
    >>> print(version_problem("4.0.1", "3.5.1", "SPARK_HOME /opt/spark"))
    engagement.yaml: engine.kind: SPARK_HOME /opt/spark is Spark 3.5.1 but the installed pyspark is 4.0.1 (their \
major.minor versions must match) (fix: install the matching pyspark (pip install 'pyspark==3.5.*'), or unset \
SPARK_HOME to use the Spark inside pyspark)
    """
    spark, python = _major_minor(spark_version), _major_minor(pyspark_version)
    if spark is None or python is None or spark == python:
        return None
    return EngagementError(location, f"{where} is Spark {spark_version} but the installed pyspark is "
                                     f"{pyspark_version} (their major.minor versions must match)",
                           field="engine.kind", fix=f"install the matching pyspark (pip install 'pyspark=={spark}.*'),"
                                                    " or unset SPARK_HOME to use the Spark inside pyspark")


def spark_home_problem(pyspark_version: str, *, environ: Mapping[str, str] | None = None,
                       location: str = "engagement.yaml") -> EngagementError | None:
    """:func:`version_problem` for the Spark installation ``SPARK_HOME`` names (pyspark starts that one's JVM), or
    ``None`` when SPARK_HOME is not set or its version cannot be read."""
    environ = os.environ if environ is None else environ
    home = environ.get("SPARK_HOME")
    version = spark_home_version(home) if home else None
    if version is None:
        return None
    return version_problem(pyspark_version, version, f"SPARK_HOME {home}", location=location)


def _unescape_mount(field: str) -> str:
    """A /proc/mounts field with its octal escapes (``\\040`` for a space) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), field)


def file_system_type(path: str | Path, mounts: str) -> str | None:
    """The file system type of ``path`` by the ``/proc/mounts`` text ``mounts``: the type of the longest mount point
    that contains the path (the last one mounted there when several are); ``None`` when none does.

    >>> file_system_type("/srv/reports/acme", "/dev/sda1 / ext4 rw 0 0\\nnas:/reports /srv/reports nfs4 rw 0 0\\n")
    'nfs4'
    >>> file_system_type("/srv/reports2", "/dev/sda1 / ext4 rw 0 0\\nnas:/reports /srv/reports nfs4 rw 0 0\\n")
    'ext4'
    """
    target = os.path.normpath(str(path))
    best, kind = -1, None
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = os.path.normpath(_unescape_mount(fields[1]))
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= best:
            best, kind = len(point), fields[2]
    return kind


def is_shared_file_system(kind: str) -> bool:
    """True for a type of :data:`SHARED_FILE_SYSTEMS` or a FUSE mount (``fuse.<kind>``)."""
    return kind in SHARED_FILE_SYSTEMS or kind.startswith("fuse.")


def run_folder_problem(run_folder: str | Path, master: str, *, mounts: str | None = None,
                       mounts_file: str | Path = MOUNTS_FILE, location: str = "engagement.yaml",
                       what: str = "the run folder", field: str = "engine.master",
                       fix: str = "put the reports folder on a mount every executor reaches, e.g. NFS (set "
                                  "DIGIOPS_REPORTS or --out to it)") -> EngagementError | None:
    """Why the executors of ``master`` cannot reach ``run_folder``, or ``None``.

    Spark reads the run folder's Parquet files where they lie, so on a cluster (any master but ``local…``) the run
    folder must be on shared storage: a URI of :data:`SHARED_URI_PREFIXES`, or a path on a mount of a type in
    :data:`SHARED_FILE_SYSTEMS`. ``mounts`` is the ``/proc/mounts`` text (read from ``mounts_file`` when not given;
    not Linux, or not readable: no problem found).

    >>> mounts = "/dev/vda / ext4 rw 0 0\\nnas:/exports /mnt/nas nfs4 rw 0 0\\n"
    >>> run_folder_problem("/mnt/nas/reports/acme", "spark://m:7077", mounts=mounts) is None
    True
    >>> print(run_folder_problem("/home/ana/reports/acme", "spark://m:7077", mounts=mounts))
    engagement.yaml: engine.master: the run folder /home/ana/reports/acme is on this machine only (file system \
ext4), where the executors of spark://m:7077 cannot read it (fix: put the reports folder on a mount every executor \
reaches, e.g. NFS (set DIGIOPS_REPORTS or --out to it), or run on this machine with master: local[N])
    """
    text = str(run_folder)
    if _is_local(master) or text.startswith(SHARED_URI_PREFIXES):
        return None
    if mounts is None:
        try:
            mounts = Path(mounts_file).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    folder = Path(text.removeprefix("file://")).expanduser().resolve()
    kind = file_system_type(folder, mounts)
    if kind is None or is_shared_file_system(kind):
        return None
    return EngagementError(location, f"{what} {folder} is on this machine only (file system {kind}), where "
                                     f"the executors of {_safe(master)} cannot read it", field=field,
                           fix=f"{fix}, or run on this machine with master: local[N]")


def checkpoint_problem(engine: EngineSettings, *, mounts: str | None = None, mounts_file: str | Path = MOUNTS_FILE,
                       location: str = "engagement.yaml") -> EngagementError | None:
    """Why Splink's checkpoints (``engine.checkpoint_dir``) would not reach the executors of a cluster, or ``None``:
    empty (a temporary folder of this machine), or a path on this machine only (:func:`run_folder_problem`).

    >>> print(checkpoint_problem(EngineSettings(kind="spark", master="yarn")))
    engagement.yaml: engine.checkpoint_dir: engine.checkpoint_dir is empty: Splink's checkpoints would go to a \
temporary folder of this machine, which the executors of yarn cannot reach (fix: set engine.checkpoint_dir to a \
path every node reaches (hdfs://…, s3a://…, a shared mount), or run on this machine with master: local[N])
    """
    fix = "set engine.checkpoint_dir to a path every node reaches (hdfs://…, s3a://…, a shared mount)"
    if _is_local(engine.master):
        return None
    if not engine.checkpoint_dir:
        return EngagementError(location, "engine.checkpoint_dir is empty: Splink's checkpoints would go to a "
                                         "temporary folder of this machine, which the executors of "
                                         f"{_safe(engine.master)} cannot reach", field="engine.checkpoint_dir",
                               fix=f"{fix}, or run on this machine with master: local[N]")
    return run_folder_problem(engine.checkpoint_dir, engine.master, mounts=mounts, mounts_file=mounts_file,
                              location=location, what="the checkpoint folder", field="engine.checkpoint_dir",
                              fix=fix)


def spark_problems(engine: EngineSettings, run_folder: str | Path, *, location: str = "engagement.yaml",
                   environ: Mapping[str, str] | None = None, mounts: str | None = None,
                   connect: Callable[[tuple[str, int], float], object] = _tcp_connect,
                   pyspark_version: str | None = None,
                   client_folder: str | Path | None = None) -> list[EngagementError]:
    """Every reason a Spark stage could not run with ``engine`` into ``run_folder``, found without starting Spark:
    pyspark missing, SPARK_HOME's Spark of another version than pyspark (:func:`spark_home_problem`), the master
    unreachable (:func:`master_problem`), the run folder, the client folder (whose exports the executors read: give
    it for the merge stage) or Splink's checkpoints out of the executors' reach (:func:`run_folder_problem`,
    :func:`checkpoint_problem`).
    Empty for DuckDB. ``pyspark_version`` defaults to the installed pyspark's."""
    if not engine.is_spark:
        return []
    problems: list[EngagementError] = []
    if pyspark_version is None:
        try:
            pyspark_version = _require_pyspark(location).__version__
        except EngagementError as missing:
            problems.append(missing)
    if pyspark_version is not None:
        problems.append(spark_home_problem(pyspark_version, environ=environ, location=location))
    problems.append(master_problem(engine.master, environ=environ, connect=connect, location=location))
    problems.append(run_folder_problem(run_folder, engine.master, mounts=mounts, location=location))
    if client_folder is not None:
        problems.append(run_folder_problem(client_folder, engine.master, mounts=mounts, location=location,
                                           what="the client folder (its exports are read by the executors)",
                                           fix="put the client folder on a mount every executor reaches, e.g. "
                                               "NFS, at the same path"))
    problems.append(checkpoint_problem(engine, mounts=mounts, location=location))
    return [p for p in problems if p is not None]


def check_spark(engine: EngineSettings, run_folder: str | Path, **given: Any) -> None:
    """Raise the first of :func:`spark_problems` (same arguments): what a Spark stage calls before it reads any
    source, so that a cluster it cannot use is one clear error instead of a JVM stack trace minutes later. Does
    nothing for DuckDB."""
    problems = spark_problems(engine, run_folder, **given)
    if problems:
        raise problems[0]


# --- Splink -----------------------------------------------------------------------------------------------------
def splink_db_api(engine: EngineSettings | None = None, *, duckdb_settings: dict[str, str] | None = None,
                  connection=None):
    """A Splink database API for the engine.

    DuckDB: ``DuckDBAPI`` on ``connection`` when given (a stage's own, with its settings), else on a new in-memory
    connection, after ``SET name = value`` for each of ``duckdb_settings``. Spark: ``SparkAPI`` on the stage's
    session, lineage broken by Parquet files in the checkpoint directory (Splink's default outside Databricks).
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
    ``size(array_intersect(…))``, ``jaro_winkler_similarity`` → ``jaro_winkler`` (Splink's Scala UDF);
    ``regexp_full_match(x, 'p')`` → ``x RLIKE '^(?:p)$'``, ``hash(…)`` (64 bits) → ``xxhash64(…)``; a
    ``regexp_replace`` replacement's group references ``\\1`` → ``$1`` (Java's syntax; a literal ``$`` escaped),
    ``quantile_cont(x, q)`` → ``percentile(x, q)`` (both exact, interpolated linearly).
    Spark replaces every match: a DuckDB ``regexp_replace`` without ``'g'`` must match once at most (anchored).

    >>> to_spark_sql("SELECT regexp_full_match(phone, '[0-9]{11}') AS ok, hash(a, b) AS h FROM t")
    "SELECT phone RLIKE '^(?:[0-9]{11})$' AS ok, XXHASH64(a, b) AS h FROM t"
    >>> to_spark_sql("SELECT regexp_replace(x, '^0+([0-9])', '\\\\1')")
    "SELECT REGEXP_REPLACE(x, '^0+([0-9])', '$1')"
    >>> to_spark_sql("SELECT quantile_cont(CAST(age AS DOUBLE), 0.2) FROM f")
    'SELECT PERCENTILE(CAST(age AS DOUBLE), 0.2) FROM f'
    """
    import sqlglot
    from sqlglot import exp

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div) and not getattr(node.this, "_digiops_double", False):
            # DuckDB's `/` always gives DOUBLE; Spark keeps DECIMAL for decimals: divide in DOUBLE as DuckDB does
            numerator = exp.Cast(this=node.this, to=exp.DataType.build("double"))
            numerator._digiops_double = True  # type: ignore[attr-defined]
            return exp.Div(this=numerator, expression=node.expression)
        if isinstance(node, exp.RegexpFullMatch) and isinstance(node.expression, exp.Literal):
            # Spark has no full match: anchor the pattern
            return exp.RegexpLike(this=node.this, expression=exp.Literal.string(f"^(?:{node.expression.this})$"))
        if isinstance(node, exp.RegexpReplace) and isinstance(node.args.get("replacement"), exp.Literal):
            text = re.sub(r"\\([0-9])", r"$\1", node.args["replacement"].this.replace("$", "\\$"))
            return exp.RegexpReplace(this=node.this, expression=node.expression,
                                     replacement=exp.Literal.string(text))
        if isinstance(node, exp.Anonymous) and str(node.this).lower() == "hash":
            # DuckDB's hash is 64 bits, Spark's 32: xxhash64 keeps collisions as rare as on DuckDB
            return exp.Anonymous(this="xxhash64", expressions=list(node.expressions))
        if isinstance(node, exp.PercentileCont) and not isinstance(node.parent, exp.WithinGroup):
            # quantile_cont(x, q): Spark's exact percentile, interpolated linearly as DuckDB's
            return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
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


# --- tables between the stage's DuckDB and Spark (issue 25) -----------------------------------------------------
def _exchange_path(con) -> Path:
    """A new path in ``con``'s temporary directory (the merge stage's work folder: on Spark one the executors
    reach), or in the system's temporary directory when the connection has none of its own."""
    folder = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
    root = Path(folder) if folder and folder != ".tmp" else Path(tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="spark-exchange-", dir=root)) / "part"


def duckdb_to_spark(con, sql: str, spark):
    """The rows of the DuckDB query ``sql`` as a Spark DataFrame, handed over as a Parquet file (see
    :func:`_exchange_path`) that the executors read: the driver's Python never holds them."""
    path = _exchange_path(con)
    con.execute(f"COPY ({sql}) TO {literal(str(path))} (FORMAT parquet)")
    return spark.read.parquet(str(path))


def spark_to_duckdb(con, frame, name: str) -> None:
    """The rows of the Spark DataFrame ``frame`` as ``name``, written by the executors as Parquet (see
    :func:`_exchange_path`): a DuckDB view in ``con`` and a Spark view of that name over the files. Nothing is
    collected into the driver's Python; DuckDB reads the files when a later step asks."""
    path = _exchange_path(con)
    frame.write.parquet(str(path))
    frame.sparkSession.read.parquet(str(path)).createOrReplaceTempView(name)
    drop_table(con, name)
    con.execute(f"CREATE VIEW {name} AS SELECT * FROM {scan(str(path / '*.parquet'))}")


def make_view(con, name: str, sql: str, engine: EngineSettings | None = None) -> None:
    """View ``name`` of the DuckDB query ``sql`` in ``con`` and, on Spark, an unmaterialised Spark view of its
    translation (:func:`to_spark_sql`): a query read once by a later step, never written."""
    con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    if engine is not None and engine.is_spark:
        spark_session(engine).sql(to_spark_sql(sql)).createOrReplaceTempView(name)


def read_view(con, name: str, path: str | Path, engine: EngineSettings | None = None) -> None:
    """View ``name`` over the Parquet file ``path`` (another stage's or run's output) in ``con`` and, on Spark, a
    Spark view reading it (the executors read it: a path every node reaches)."""
    con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {scan(str(path))}")
    if engine is not None and engine.is_spark:
        spark_session(engine).read.parquet(str(path)).createOrReplaceTempView(name)


def make_table(con, name: str, sql: str, engine: EngineSettings | None = None) -> None:
    """Table ``name`` from the DuckDB query ``sql``: made by DuckDB in ``con``, or on Spark by the executors
    (``sql`` translated by :func:`to_spark_sql`; the tables it reads must be Spark views of the same names, as this
    function leaves them), written as Parquet, with a DuckDB view and a Spark view over the files
    (:func:`spark_to_duckdb`): the driver holds none of its rows."""
    if engine is None or not engine.is_spark:  # (the query may read the table it replaces)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        return
    spark = spark_session(engine)
    spark.sparkContext.setJobDescription(f"digiops: {name}")
    spark_to_duckdb(con, spark.sql(to_spark_sql(sql)), name)


def write_parquet(con, sql: str, path: str | Path, engine: EngineSettings | None = None, *,
                  order_by: tuple[str, ...] = (), drop: tuple[str, ...] = ()) -> None:
    """Write the rows of the DuckDB query ``sql`` to the Parquet file ``path``, sorted by ``order_by`` and without
    the columns ``drop``: by DuckDB, or on Spark by one executor task (one file, where the stage's outputs are
    files; the tables it reads are Spark views of :func:`make_table`)."""
    if engine is None or not engine.is_spark:
        order = f" ORDER BY {', '.join(order_by)}" if order_by else ""
        kept = f" EXCLUDE ({', '.join(drop)})" if drop else ""
        con.execute(f"COPY (SELECT *{kept} FROM ({sql}){order}) TO {literal(str(path))} (FORMAT parquet)")
        return
    spark = spark_session(engine)
    spark.sparkContext.setJobDescription(f"digiops: {Path(path).name}")
    frame = spark.sql(to_spark_sql(sql))
    # naive timestamps, as DuckDB writes them (the session's time zone is UTC: the wall clock is kept)
    frame = frame.select(*[frame[f.name].cast("timestamp_ntz").alias(f.name) if f.dataType.typeName() == "timestamp"
                           else frame[f.name] for f in frame.schema.fields]).repartition(1)
    if order_by:
        frame = frame.sortWithinPartitions(*order_by)
    folder = _exchange_path(con)
    frame.drop(*drop).write.parquet(str(folder))
    parts = sorted(folder.glob("part-*.parquet"))
    if len(parts) != 1:  # one partition writes one file
        raise RuntimeError(f"Spark wrote {len(parts)} files for {path}, not one")
    shutil.move(str(parts[0]), str(path))
    shutil.rmtree(folder, ignore_errors=True)


def fetch(con, sql: str, engine: EngineSettings | None = None) -> list[tuple]:
    """The rows of the DuckDB query ``sql``, a few (counts, the rows a report shows): computed by DuckDB, or on
    Spark by the executors over the Spark views of :func:`make_table`; only the result reaches the driver."""
    if engine is None or not engine.is_spark:
        return con.execute(sql).fetchall()
    return [tuple(row) for row in spark_session(engine).sql(to_spark_sql(sql)).collect()]


def fetch_frame(con, sql: str, engine: EngineSettings | None = None):
    """:func:`fetch` as a pandas DataFrame (a few rows: the quarantine of a step, a report's aggregates)."""
    if engine is None or not engine.is_spark:
        return con.execute(sql).df()
    return spark_session(engine).sql(to_spark_sql(sql)).toArrow().to_pandas()


def register(con, name: str, frame, engine: EngineSettings | None = None) -> None:
    """A small pandas table (review decisions, the pairs a report shows) as ``name`` in ``con`` (until
    ``con.unregister(name)``) and, on Spark, as a Spark view of that name, so that :func:`make_table` and
    :func:`fetch` can join it on either engine."""
    con.register(name, frame)
    if engine is not None and engine.is_spark:  # typed as DuckDB reads it (an empty column of objects included)
        spark_session(engine).createDataFrame(con.sql(f"SELECT * FROM {name}").to_arrow_table()) \
            .createOrReplaceTempView(name)


def drop_table(con, name: str) -> None:
    """Drop ``name`` from ``con``, a table or a view (:func:`spark_to_duckdb`), if it is there."""
    found = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()
    if found:
        con.execute(f"DROP {'VIEW' if found[0][0] == 'VIEW' else 'TABLE'} {name}")


# --- the executors' Python (issue 25) --------------------------------------------------------------------------
#: What an executor's Python must share with the driver's to run digiops' own code there (preparing the sources).
EXECUTOR_PACKAGES = ("digiops", "pandas", "pyarrow")
EXECUTOR_FIX = ("install this environment on every executor (pip install digiops with its dependencies, or ship a "
                "packed virtualenv with spark.archives) and point engine.options spark.pyspark.python at its python")


def python_environment() -> dict[str, str]:
    """This Python's version and the versions of :data:`EXECUTOR_PACKAGES` (``missing`` when not importable)."""
    import importlib

    found = {"python": ".".join(map(str, sys.version_info[:2]))}
    for name in EXECUTOR_PACKAGES:
        try:
            found[name] = str(importlib.import_module(name).__version__)
        except ImportError:
            found[name] = "missing"
    return found


def environment_problem(driver: Mapping[str, str], executor: Mapping[str, str], *,
                        location: str = "engagement.yaml") -> EngagementError | None:
    """An error naming every difference between the driver's and an executor's :func:`python_environment`.

    >>> print(environment_problem({"python": "3.11", "digiops": "0.1.0"}, {"python": "3.9", "digiops": "missing"}))
    engagement.yaml: engine.options: the Spark executors' Python differs from this one: python 3.9 (here 3.11), \
digiops missing (here 0.1.0) (fix: install this environment on every executor (pip install digiops with its \
dependencies, or ship a packed virtualenv with spark.archives) and point engine.options spark.pyspark.python at its \
python)
    """
    differences = [f"{name} {executor.get(name, 'missing')} (here {version})" for name, version in driver.items()
                   if executor.get(name) != version]
    if not differences:
        return None
    return EngagementError(location, "the Spark executors' Python differs from this one: " + ", ".join(differences),
                           field="engine.options", fix=EXECUTOR_FIX)


def _task_failure(error: Exception) -> str:
    """The line of a failed Spark job's error that says why its Python worker failed."""
    lines = [line.strip() for line in str(error).splitlines()]
    for marker in ("Cannot run program", "ModuleNotFoundError", "ImportError", "Error:"):
        found = next((line for line in lines if marker in line and not line.startswith("at ")), None)
        if found:
            return found[found.find(marker):] if marker == "Cannot run program" else found
    return lines[0] if lines else type(error).__name__


def check_executors(spark, *, location: str = "engagement.yaml") -> None:
    """Run one small task and raise an :class:`EngagementError` when the executors' Python cannot run digiops' code
    as the driver does (a Python that does not start, digiops not installed, another Python, pandas or pyarrow:
    :func:`environment_problem`), before any data is read. Checked once per session."""
    if _SESSION.get("executors_checked") is spark:
        return
    try:
        found = spark.sparkContext.parallelize([0], 1).map(lambda _: python_environment()).collect()[0]
    except Exception as error:  # noqa: BLE001 — the worker did not start, or could not import what it runs
        python = os.environ.get("PYSPARK_PYTHON", "python3")
        raise EngagementError(location, f"the Spark executors cannot run digiops' code with the Python '{python}': "
                                        f"{_task_failure(error)}", field="engine.options",
                              fix=EXECUTOR_FIX) from None
    problem = environment_problem(python_environment(), found, location=location)
    if problem is not None:
        raise problem
    _SESSION["executors_checked"] = spark


def run_tasks(engine: EngineSettings, items: list, task: Callable, *, location: str = "engagement.yaml",
              description: str = "digiops") -> list:
    """``task(item)`` for every item, each as one task of a Spark job run by the executors (digiops' own Python
    work: reading and cleaning an export); the results, small, come back in the items' order. The executors' Python
    is checked first (:func:`check_executors`). A :class:`~digiops.errors.DigiopsError` a task raises is raised
    here, on the driver, where it names file, row and field as usual (the first in the items' order)."""
    spark = spark_session(engine)
    check_executors(spark, location=location)

    def run(item):
        try:
            return task(item)
        except DigiopsError as error:
            return error

    spark.sparkContext.setJobDescription(description)
    done = spark.sparkContext.parallelize(items, max(len(items), 1)).map(run).collect()
    for result in done:
        if isinstance(result, DigiopsError):
            raise result
    return done


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


__all__ = ["EngineSettings", "SqlSession", "check_executors", "check_spark", "close_db_api", "run_tasks",
           "spark_problems", "spark_session", "splink_db_api", "sql_session", "stop_spark", "to_spark_sql"]
