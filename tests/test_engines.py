"""The engine setting and what engines.py gives for DuckDB (no Spark needed: runs everywhere)."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from digiops import engines, manifest
from digiops.engagement import parse_engagement
from digiops.engines import EngineSettings, _local_cores, sql_session, to_spark_sql

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
