"""The engine setting and what engines.py gives for DuckDB (no Spark needed: runs everywhere)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from digiops import engines, manifest
from digiops.engagement import parse_engagement
from digiops.engines import EngineSettings, _local_cores, sql_session, to_spark_sql
from digiops.errors import EngagementError

MINIMAL = """
client: {id: acme, name_zh: 示例, name_en: Acme}
engagement: test
period: {start: 2026-01-01, end: 2026-06-30}
stages: [inventory]
"""


def test_engine_defaults_to_duckdb():
    engagement = parse_engagement(MINIMAL)
    assert engagement.engine.kind == "duckdb" and not engagement.engine.is_spark


def test_spark_engine_setting_is_parsed():
    engagement = parse_engagement(MINIMAL + "engine: {kind: spark, master: 'spark://host:7077', "
                                            "options: {spark.driver.memory: 8g, spark.sql.shuffle.partitions: 64}}\n")
    assert engagement.engine.is_spark
    assert engagement.engine.master == "spark://host:7077"
    assert engagement.engine.options == {"spark.driver.memory": "8g", "spark.sql.shuffle.partitions": 64}


@pytest.mark.parametrize("body, problem", [("engine: {kind: flink}\n", "engine.kind"),
                                           ("engine: {kind: spark, mastr: local}\n", "engine.mastr")])
def test_bad_engine_setting_names_the_field(body, problem):
    from digiops.errors import EngagementError

    with pytest.raises(EngagementError, match=problem):
        parse_engagement(MINIMAL + body)


def test_secret_looking_options_are_left_out_of_the_manifest():
    engagement = parse_engagement(MINIMAL + "engine: {kind: spark, options: {spark.hadoop.fs.s3a.secret.key: x, "
                                            "spark.hadoop.fs.s3a.session.token: y, spark.ssl.keyStorePassword: z, "
                                            "spark.executor.memory: 4g}}\n")
    dumped = manifest.strip_secrets(engagement.model_dump(mode="json"))
    assert dumped["engine"]["options"] == {"spark.executor.memory": "4g"}


def test_local_cores():
    assert (_local_cores("local"), _local_cores("local[2]"), _local_cores("local[4,3]")) == (1, 2, 4)
    assert _local_cores("local[*]") >= 1


@pytest.mark.parametrize("duckdb_sql, spark_sql", [
    ('l."phone" = r."phone"', "l.`phone` = r.`phone`"),
    ("len(list_intersect(name_keys_l, name_keys_r)) > 0", "SIZE(ARRAY_INTERSECT(name_keys_l, name_keys_r)) > 0"),
    ("list_has_any(surnames_l, surnames_r)", "ARRAYS_OVERLAP(surnames_l, surnames_r)"),
    ("jaro_winkler_similarity(given_py_l, given_py_r) >= 0.88", "JARO_WINKLER(given_py_l, given_py_r) >= 0.88"),
    ("damerau_levenshtein(phone_l, phone_r) <= 1", "DAMERAU_LEVENSHTEIN(phone_l, phone_r) <= 1"),
    ("date_diff('day', o, DATE '2026-01-01')", "DATEDIFF(DAY, o, CAST('2026-01-01' AS DATE))"),
    ("CAST(a / n AS DECIMAL(18, 2))", "CAST(CAST(a AS DOUBLE) / n AS DECIMAL(18, 2))"),
])
def test_duckdb_sql_is_rewritten_for_spark(duckdb_sql, spark_sql):
    assert to_spark_sql(duckdb_sql) == spark_sql


def test_duckdb_sql_session_registers_frames_and_parquet(tmp_path):
    path = tmp_path / "orders.parquet"
    pd.DataFrame({"customer_id": ["C1", "C1", "C2"], "amount": [1.0, 2.0, 5.0]}).to_parquet(path)
    session = sql_session(EngineSettings())
    session.register("orders", path)
    session.register("names", pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["a", "b"]}))
    table = session.arrow("SELECT n.name, sum(o.amount) AS total FROM orders o JOIN names n USING (customer_id) "
                          "GROUP BY n.name ORDER BY n.name")
    session.close()
    assert table.to_pylist() == [{"name": "a", "total": 3.0}, {"name": "b", "total": 5.0}]


def test_duckdb_splink_api_applies_settings_and_closes():
    db_api = engines.splink_db_api(duckdb_settings={"threads": "1"})
    assert type(db_api).__name__ == "DuckDBAPI"
    assert db_api._con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
    engines.close_db_api(db_api)


def test_duckdb_users_never_import_pyspark():
    code = ("import sys; from digiops.engagement import parse_engagement; import digiops.engines; "
            "import digiops.merge.pipeline, digiops.labels.evaluate; print('pyspark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- checks before a Spark run (issue 25): real sockets, a fake SPARK_HOME, mounts as text; no Spark started -----
SPARK = EngineSettings(kind="spark", master="spark://127.0.0.1:7077")
MOUNTS = ("/dev/vda / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n"
          "nas:/exports/reports /mnt/shared\\040reports nfs4 rw,vers=4.2 0 0\n"
          "sshfs#ana@nas: /mnt/sshfs fuse.sshfs rw 0 0\ntmpfs /mnt/shared\\040reports/scratch tmpfs rw 0 0\n")


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def listening_port():
    """A port on 127.0.0.1 with a real listening socket (connections queue in its backlog)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def spark_home(folder: Path, release: str | None = None, jar: str | None = None) -> Path:
    (folder / "jars").mkdir(parents=True)
    if release is not None:
        (folder / "RELEASE").write_text(release, encoding="utf-8")
    if jar is not None:
        (folder / "jars" / jar).write_bytes(b"")
    return folder


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "mesos://somewhere:5050", "yarn-ish"])
def test_local_and_unknown_masters_pass(master):
    assert engines.master_problem(master, environ={}) is None


def test_a_master_nothing_listens_on_is_refused_with_the_os_reason(closed_port):
    master = f"spark://127.0.0.1:{closed_port}"

    problem = engines.master_problem(master)

    assert isinstance(problem, EngagementError) and problem.field == "engine.master"
    assert f"cannot reach the Spark master of {master} (127.0.0.1:{closed_port}: connection refused)" in str(problem)
    assert "master: local[N]" in problem.fix


def test_a_listening_master_is_reached(listening_port):
    assert engines.master_problem(f"spark://127.0.0.1:{listening_port}") is None


def test_one_reachable_master_of_several_is_enough(closed_port, listening_port):
    assert engines.master_problem(f"spark://127.0.0.1:{closed_port},127.0.0.1:{listening_port}") is None


def test_every_unreachable_master_is_named_with_its_reason(closed_port):
    def connect(address, timeout):
        if address[0] == "nowhere.invalid":
            raise socket.gaierror(-2, "Name or service not known")
        return socket.create_connection(address, timeout=timeout).close()

    problem = engines.master_problem(f"spark://nowhere.invalid:7077,127.0.0.1:{closed_port}", connect=connect)

    assert f"(nowhere.invalid:7077: name not resolved; 127.0.0.1:{closed_port}: connection refused)" in str(problem)


def test_a_silent_kubernetes_api_server_times_out():
    seen = []

    def connect(address, timeout):
        seen.append((address, timeout))
        raise TimeoutError("timed out")

    problem = engines.master_problem("k8s://https://10.0.0.1:6443", connect=connect)

    assert seen == [(("10.0.0.1", 6443), engines.MASTER_TIMEOUT_S)]
    assert "cannot reach the Kubernetes API server of k8s://https://10.0.0.1:6443 (10.0.0.1:6443: timed out)" \
        in str(problem)


def test_a_password_in_the_master_is_not_shown(closed_port):
    problem = engines.master_problem(f"spark://etl:s3cret@127.0.0.1:{closed_port}")
    assert "s3cret" not in str(problem) and "connection refused" in str(problem)


def test_yarn_needs_the_hadoop_configuration_folder(tmp_path):
    missing = engines.master_problem("yarn", environ={})
    wrong = engines.master_problem("yarn", environ={"YARN_CONF_DIR": str(tmp_path / "nope")})

    assert "neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set" in str(missing) and "HADOOP_CONF_DIR=" in missing.fix
    assert f"YARN_CONF_DIR={tmp_path / 'nope'} is not a folder" in str(wrong)
    assert engines.master_problem("yarn", environ={"HADOOP_CONF_DIR": str(tmp_path)}) is None


def test_spark_home_version_is_read_from_release_then_from_the_core_jar(tmp_path):
    released = spark_home(tmp_path / "a", release="Spark 3.5.1 built for Hadoop 3.3.4\nBuild flags: -B\n",
                          jar="spark-core_2.12-3.5.0.jar")
    jar_only = spark_home(tmp_path / "b", jar="spark-core_2.13-4.0.1.jar")
    unreadable = spark_home(tmp_path / "c", release="built by someone\n")

    assert engines.spark_home_version(released) == "3.5.1"
    assert engines.spark_home_version(jar_only) == "4.0.1"
    assert engines.spark_home_version(unreadable) is None
    assert engines.spark_home_version(tmp_path / "absent") is None


def test_a_spark_home_of_another_version_than_pyspark_is_refused(tmp_path):
    home = spark_home(tmp_path / "spark", release="Spark 3.5.1 built for Hadoop 3.3.4\n")

    problem = engines.spark_home_problem("4.0.1", environ={"SPARK_HOME": str(home)})

    assert isinstance(problem, EngagementError) and problem.field == "engine.kind"
    assert f"SPARK_HOME {home} is Spark 3.5.1 but the installed pyspark is 4.0.1" in str(problem)
    assert "pip install 'pyspark==3.5.*'" in problem.fix and "unset SPARK_HOME" in problem.fix


def test_a_spark_home_of_pyspark_s_version_or_of_no_known_version_passes(tmp_path):
    same = spark_home(tmp_path / "same", release="Spark 4.0.0 built for Hadoop 3.4.1\n")
    unknown = spark_home(tmp_path / "unknown")

    assert engines.spark_home_problem("4.0.1", environ={"SPARK_HOME": str(same)}) is None
    assert engines.spark_home_problem("4.0.1", environ={"SPARK_HOME": str(unknown)}) is None
    assert engines.spark_home_problem("4.0.1", environ={}) is None


def test_the_session_s_jvm_version_is_compared_by_major_minor():
    assert engines.version_problem("4.0.1", "4.0.0", "the Spark session's JVM") is None
    assert "the Spark session's JVM is Spark 4.1.0 but the installed pyspark is 4.0.1" in str(
        engines.version_problem("4.0.1", "4.1.0", "the Spark session's JVM"))


def test_file_system_type_is_the_longest_mount_point_holding_the_path():
    assert engines.file_system_type("/mnt/shared reports/acme/run1", MOUNTS) == "nfs4"
    assert engines.file_system_type("/mnt/shared reports/scratch/x", MOUNTS) == "tmpfs"
    assert engines.file_system_type("/mnt/shared reportsX", MOUNTS) == "ext4"
    assert engines.file_system_type("/home/ana", MOUNTS) == "ext4"
    assert engines.file_system_type("/home/ana", "") is None


@pytest.mark.parametrize("folder", ["/mnt/shared reports/acme/run1", "/mnt/sshfs/reports", "hdfs:///reports/acme",
                                    "s3a://bucket/reports", "s3://bucket/r", "abfss://c@a.dfs.core.windows.net/r",
                                    "gs://bucket/r", "dbfs:/reports"])
def test_a_run_folder_on_shared_storage_passes(folder):
    assert engines.run_folder_problem(folder, "spark://m:7077", mounts=MOUNTS) is None


def test_a_run_folder_on_this_machine_is_refused_for_a_cluster(tmp_path):
    folder = tmp_path / "reports" / "acme"

    problem = engines.run_folder_problem(folder, "spark://m:7077", mounts="/dev/vda / ext4 rw 0 0\n")

    assert isinstance(problem, EngagementError) and problem.field == "engine.master"
    assert f"the run folder {folder.resolve()} is on this machine only (file system ext4), where the executors " \
           "of spark://m:7077 cannot read it" in str(problem)
    assert "NFS" in problem.fix and "master: local[N]" in problem.fix


def test_a_run_folder_on_this_machine_is_fine_locally_or_without_mounts(tmp_path):
    assert engines.run_folder_problem(tmp_path, "local[2]", mounts="/dev/vda / ext4 rw 0 0\n") is None
    # no /proc/mounts (not Linux): nothing to go by, no error
    assert engines.run_folder_problem(tmp_path, "spark://m:7077", mounts_file=tmp_path / "no-mounts") is None


def test_the_mounts_are_read_from_the_mounts_file(tmp_path):
    mounts = f"/dev/vda / ext4 rw 0 0\nnas:/r {tmp_path.resolve()} nfs4 rw 0 0\n"
    (tmp_path / "mounts").write_text(mounts, encoding="utf-8")

    assert engines.run_folder_problem(tmp_path / "acme", "spark://m:7077", mounts_file=tmp_path / "mounts") is None


def test_spark_problems_gathers_every_check_and_check_spark_raises_the_first(tmp_path, closed_port):
    home = spark_home(tmp_path / "spark", release="Spark 3.5.1\n")
    engine = EngineSettings(kind="spark", master=f"spark://127.0.0.1:{closed_port}")
    given = dict(environ={"SPARK_HOME": str(home)}, mounts="/dev/vda / ext4 rw 0 0\n", pyspark_version="4.0.1",
                 location="client.yaml")

    problems = engines.spark_problems(engine, tmp_path / "reports", **given)

    assert [p.field for p in problems] == ["engine.kind", "engine.master", "engine.master", "engine.checkpoint_dir"]
    assert all(str(p).startswith("client.yaml: ") for p in problems)
    with pytest.raises(EngagementError, match="SPARK_HOME .* is Spark 3.5.1"):
        engines.check_spark(engine, tmp_path / "reports", **given)


def test_the_checks_pass_for_a_reachable_cluster_and_do_nothing_for_duckdb(tmp_path, listening_port):
    engine = EngineSettings(kind="spark", master=f"spark://127.0.0.1:{listening_port}",
                            checkpoint_dir="hdfs://nn/checkpoints")
    shared = "/dev/vda / ext4 rw 0 0\nnas:/r /mnt/nas nfs rw 0 0\n"

    engines.check_spark(engine, "/mnt/nas/reports/acme", environ={}, mounts=shared, pyspark_version="4.0.1")
    assert engines.spark_problems(EngineSettings(), tmp_path, mounts="/dev/vda / ext4 rw 0 0\n") == []


def test_the_client_folder_on_a_cluster_must_be_where_the_executors_read_the_exports(tmp_path, listening_port):
    engine = EngineSettings(kind="spark", master=f"spark://127.0.0.1:{listening_port}",
                            checkpoint_dir="hdfs://nn/checkpoints")
    mounts = "/dev/vda / ext4 rw 0 0\nnas:/r /mnt/nas nfs rw 0 0\n"
    given = dict(environ={}, mounts=mounts, pyspark_version="4.0.1")

    problems = engines.spark_problems(engine, "/mnt/nas/reports/acme", client_folder="/home/ana/acme", **given)

    assert [p.field for p in problems] == ["engine.master"]
    assert "the client folder (its exports are read by the executors) /home/ana/acme" in problems[0].problem
    assert "put the client folder on a mount every executor reaches" in problems[0].fix
    assert engines.spark_problems(engine, "/mnt/nas/reports/acme", client_folder="/mnt/nas/clients/acme",
                                  **given) == []


def test_splink_checkpoints_on_a_cluster_need_a_folder_every_node_reaches():
    mounts = "/dev/vda / ext4 rw 0 0\nnas:/r /mnt/nas nfs rw 0 0\n"
    cluster = dict(kind="spark", master="spark://m:7077")

    empty = engines.checkpoint_problem(EngineSettings(**cluster), mounts=mounts)
    local = engines.checkpoint_problem(EngineSettings(**cluster, checkpoint_dir="/var/tmp/ck"), mounts=mounts)

    assert empty.field == local.field == "engine.checkpoint_dir"
    assert "temporary folder of this machine" in empty.problem
    assert "the checkpoint folder /var/tmp/ck is on this machine only (file system ext4)" in local.problem
    for fine in (EngineSettings(**cluster, checkpoint_dir="/mnt/nas/ck"),
                 EngineSettings(**cluster, checkpoint_dir="s3a://bucket/ck"),
                 EngineSettings(kind="spark", master="local[2]")):
        assert engines.checkpoint_problem(fine, mounts=mounts) is None


def test_missing_pyspark_is_the_first_problem():
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "from digiops.engines import EngineSettings, spark_problems\n"
            "found = spark_problems(EngineSettings(kind='spark', master='local[2]'), '/tmp')\n"
            "print(len(found), found[0].field, found[0].problem)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1 engine.kind engine.kind is `spark` but pyspark is not installed"


def test_validate_names_an_unreachable_spark_master_without_a_traceback(client_dir, closed_port):
    from typer.testing import CliRunner

    from digiops.cli import app

    master = f"spark://127.0.0.1:{closed_port}"
    path = client_dir / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("stages: [inventory]", "stages: [inventory, merge]")
                    + f"engine: {{kind: spark, master: '{master}'}}\n", encoding="utf-8")

    result = CliRunner().invoke(app, ["validate", str(client_dir)])

    assert result.exit_code == 1, result.output
    assert f"error: engagement.yaml: engine.master: cannot reach the Spark master of {master} " \
           f"(127.0.0.1:{closed_port}: connection refused)" in result.output
    assert "Traceback" not in result.output and "valid —" not in result.output


def test_run_refuses_an_unreachable_spark_master_before_any_run_folder_or_source(client_dir, closed_port, tmp_path):
    from typer.testing import CliRunner

    from digiops.cli import app

    path = client_dir / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("stages: [inventory]", "stages: [inventory, merge]")
                    + f"engine: {{kind: spark, master: 'spark://127.0.0.1:{closed_port}'}}\n", encoding="utf-8")
    (client_dir / "raw" / "crm.csv").unlink()  # a source is read only after the check: its absence is not named

    result = CliRunner().invoke(app, ["run", str(client_dir), "--out", str(tmp_path / "reports")])

    assert result.exit_code == 2, result.output
    assert "engine.master: cannot reach the Spark master" in result.output and "crm.csv" not in result.output
    assert "Traceback" not in result.output and not (tmp_path / "reports").exists()
