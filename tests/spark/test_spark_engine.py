"""Merge and labels on Spark (``local[2]``) give the DuckDB run's customers and tags (issue 10).

A 400-person demo client is generated, both stages run through their library entry points and write the archive
layout (``outputs/<stage>/*.parquet``) once per engine; labels read the merge stage's Parquet outputs of the same
engine. Cluster ids may differ between engines, so customers are compared as partitions of the source records, and
the tag matrix is compared with each customer named by its smallest record.

Runs in CI (``make test`` installs the ``spark`` extra); skip locally with ``-m "not spark"``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from digiops.context import StageContext
from digiops.demo import generate
from digiops.engagement import load_engagement
from digiops.engines import EngineSettings, stop_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow]
ROOT = Path(__file__).parents[2]
PEOPLE = 400


def _need_spark() -> None:
    """Fail in CI (the extra is part of `make test`), skip elsewhere when pyspark or Java is missing."""
    missing = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        missing = "pyspark is not installed (pip install -e '.[spark]')"
    if missing is None and shutil.which("java") is None:
        missing = "Java is not installed (Spark needs Java 17)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def small_client(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spark_client")
    generate(folder, people=PEOPLE, seed=11)
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml"):
        shutil.copy(ROOT / "data" / "clients" / "demo" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def runs(small_client, tmp_path_factory):
    """engine kind → (run folder, merge result, seconds per stage)."""
    _need_spark()
    from digiops import labels, merge

    engagement = load_engagement(small_client)
    out = {}
    try:
        for kind in ("duckdb", "spark"):
            engine = EngineSettings(kind=kind, master="local[2]")
            client = engagement.model_copy(update={"engine": engine})
            run_dir = tmp_path_factory.mktemp(f"run_{kind}")
            clock = time.perf_counter()
            result = merge.run(StageContext(client, "merge", run_dir))
            merged = time.perf_counter() - clock
            labels.run(StageContext(client, "labels", run_dir))
            out[kind] = (run_dir, result, {"merge": merged, "labels": time.perf_counter() - clock - merged})
    finally:
        from digiops import engines

        checkpoints = engines._SESSION.get("own_checkpoint")
        stop_spark()
    out["checkpoints"] = checkpoints
    print({k: {s: round(t, 1) for s, t in v[2].items()} for k, v in out.items() if k != "checkpoints"})
    return out


def _partitions(crosswalk: pd.DataFrame) -> set[frozenset]:
    return {frozenset(zip(g["source"], g["record_id"])) for _, g in crosswalk.groupby("customer_id")}


def _named_by_records(table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """customer_id replaced by the customer's smallest `source:record_id` (the same on both engines)."""
    key = (crosswalk["source"] + ":" + crosswalk["record_id"]).groupby(crosswalk["customer_id"]).min()
    named = table.assign(customer_id=table["customer_id"].map(key))
    assert named["customer_id"].notna().all()
    return named.sort_values("customer_id").reset_index(drop=True)


def test_spark_crosswalk_has_the_duckdb_partitions(runs):
    duck = pd.read_parquet(runs["duckdb"][0] / "outputs" / "merge" / "crosswalk.parquet")
    spark = pd.read_parquet(runs["spark"][0] / "outputs" / "merge" / "crosswalk.parquet")
    assert len(duck) == len(spark) > PEOPLE
    assert set(zip(duck["source"], duck["record_id"])) == set(zip(spark["source"], spark["record_id"]))
    assert _partitions(spark) == _partitions(duck)
    assert duck["customer_id"].nunique() < len(duck)  # records were merged, not left single
    assert type(runs["spark"][1].model.linker._db_api).__name__ == "SparkAPI"


def test_spark_executors_prepare_the_sources_into_the_run_folder(runs):
    """Reading, cleaning and measuring ran in the executors' Python, not the driver's, and wrote the files into
    the run folder (which a cluster's executors reach); the results are the DuckDB engine's."""
    run_dir, result, _ = runs["spark"]
    duck = runs["duckdb"][1]
    here = f"{socket.gethostname()}:{os.getpid()}"
    assert result.prepared and all(s.worker and s.worker != here for s in result.prepared.values())
    assert all(s.worker == here for s in duck.prepared.values())  # small: prepared in-process
    assert all(s.clean_file.is_relative_to(run_dir / "work") for s in result.prepared.values())
    for name, source in result.prepared.items():
        other = duck.prepared[name]
        assert (source.rows_in, source.rows_clean, source.columns) == (other.rows_in, other.rows_clean, other.columns)
        pd.testing.assert_frame_equal(pd.read_parquet(source.clean_file), pd.read_parquet(other.clean_file))
    pd.testing.assert_frame_equal(result.quarantine, duck.quarantine)
    pd.testing.assert_frame_equal(result.data_quality, duck.data_quality)
    pd.testing.assert_frame_equal(result.accounting, duck.accounting)


def _both_named_by_records(runs, output: str) -> dict[str, pd.DataFrame]:
    """engine → its output ``stage/file.parquet`` with each customer named by its smallest record."""
    return {kind: _named_by_records(pd.read_parquet(runs[kind][0] / "outputs" / output), runs[kind][1].crosswalk)
            for kind in ("duckdb", "spark")}


def test_spark_golden_records_and_gmv_are_the_duckdb_ones(runs):
    named = _both_named_by_records(runs, "merge/customers.parquet")
    pd.testing.assert_frame_equal(named["spark"], named["duckdb"])
    gmv = {kind: pd.read_parquet(runs[kind][0] / "outputs" / "merge" / "orders.parquet")
           .query("state == 'paid'")["amount"].sum() for kind in ("duckdb", "spark")}
    assert gmv["spark"] == gmv["duckdb"] > 0


def test_spark_writes_the_large_outputs_row_for_row_as_the_duckdb_engine(runs):
    """The crosswalk, golden records, orders and shipments of a Spark run are written by Spark (its writer's mark
    in the file: the driver neither wrote nor rewrote them) in the documented columns and types, and hold the
    DuckDB run's rows in the same order (customers named by their smallest record)."""
    import pyarrow.parquet as pq

    from digiops import tables

    key = {kind: (runs[kind][1].crosswalk.assign(label=lambda x: x["source"] + ":" + x["record_id"])
                  .groupby("customer_id")["label"].min()) for kind in ("duckdb", "spark")}
    for name in ("crosswalk", "customers", "orders", "shipments"):
        files = {kind: runs[kind][0] / "outputs" / "merge" / f"{name}.parquet" for kind in ("duckdb", "spark")}
        writers = {kind: b"org.apache.spark.version" in (pq.read_metadata(f).metadata or {})
                   for kind, f in files.items()}
        assert writers == {"duckdb": False, "spark": True}, name
        documented = [(f.name, f.type) for f in tables.SCHEMAS[name]]
        assert all([(f.name, f.type) for f in pq.read_schema(f)] == documented for f in files.values()), name
        frames = {kind: pd.read_parquet(f) for kind, f in files.items()}
        if "customer_id" in frames["duckdb"]:
            frames = {kind: frame.assign(customer_id=frame["customer_id"].map(key[kind]))
                      for kind, frame in frames.items()}
        if name == "customers":  # numbered by cluster: ordered by customer id, so by another key on each engine
            frames = {kind: frame.sort_values("customer_id", ignore_index=True) for kind, frame in frames.items()}
        assert len(frames["duckdb"]) > 0, name
        if name == "crosswalk":  # Spark draws another u sample: the same links, probabilities a few thousandths off
            probability = {kind: frame.pop("match_probability") for kind, frame in frames.items()}
            assert (probability["spark"].isna() == probability["duckdb"].isna()).all()
            assert (probability["spark"] - probability["duckdb"]).abs().max() < 0.05
        pd.testing.assert_frame_equal(frames["spark"], frames["duckdb"], obj=name)


def test_the_spark_checkpoints_folder_leaves_with_the_session(runs):
    assert runs["checkpoints"] and "digiops-spark-checkpoints-" in runs["checkpoints"]
    assert not Path(runs["checkpoints"]).exists()


def test_spark_tag_matrix_is_the_duckdb_one(runs):
    frames = _both_named_by_records(runs, "labels/tag_matrix.parquet")
    duck, spark = frames["duckdb"], frames["spark"]
    assert list(spark.columns) == list(duck.columns) and len(duck) == runs["duckdb"][1].crosswalk["customer_id"].nunique()
    pd.testing.assert_frame_equal(spark, duck)
    assert duck["rfm_segment"].notna().any() and duck["lifecycle_stage"].notna().any()


def test_spark_writes_the_labels_outputs_and_measures_them_as_the_duckdb_engine(runs):
    """The tag table and the tag matrix of a Spark run are written by Spark (its writer's mark), the CSV and XLSX
    exports hold the DuckDB run's rows (customers named by their smallest record), and every measure the report
    shows — computed by the executors over the tag table, never collected — is the DuckDB engine's."""
    import pyarrow.parquet as pq

    from digiops.runfolder import RunFolder

    folders = {kind: runs[kind][0] / "outputs" / "labels" for kind in ("duckdb", "spark")}
    for name in ("tags.parquet", "tag_matrix.parquet"):
        writers = {kind: b"org.apache.spark.version" in (pq.read_metadata(f / name).metadata or {})
                   for kind, f in folders.items()}
        assert writers == {"duckdb": False, "spark": True}, name
    key = {kind: (runs[kind][1].crosswalk.assign(label=lambda x: x["source"] + ":" + x["record_id"])
                  .groupby("customer_id")["label"].min()) for kind in ("duckdb", "spark")}
    for name in ("tag_matrix.csv", "audiences.csv", "audiences.xlsx"):
        frames = {kind: (pd.read_csv(f / name, dtype=str, encoding="utf-8-sig", keep_default_na=False)
                         if name.endswith(".csv") else pd.read_excel(f / name, dtype=str).fillna(""))
                  for kind, f in folders.items()}
        frames = {kind: frame.assign(customer_id=frame["customer_id"].map(key[kind]))
                  .sort_values(list(frame.columns), ignore_index=True) for kind, frame in frames.items()}
        assert len(frames["duckdb"]) > 0, name
        pd.testing.assert_frame_equal(frames["spark"], frames["duckdb"], obj=name)
    for name in ("coverage", "low_coverage", "segment_summary", "candidates", "plays", "conflicts",
                 "behaviour_tags", "event_links"):
        frames = {kind: pd.read_parquet(f / f"{name}.parquet") for kind, f in folders.items()}
        pd.testing.assert_frame_equal(frames["spark"], frames["duckdb"], obj=name, check_dtype=False)
    figures = {kind: RunFolder(runs[kind][0]).metrics("labels") for kind in ("duckdb", "spark")}
    assert figures["spark"] == figures["duckdb"] and figures["duckdb"]["tagged_customers"] > 0


def test_a_second_run_on_spark_carries_every_customer_id_and_migrates_segments_as_on_duckdb(runs, small_client,
                                                                                           tmp_path_factory):
    """The client's next run on the same data, its previous run named: the customer ids are carried forward (on
    Spark the new crosswalk is made by Spark from the driver's id table), and the segment migration — a query over
    this run's and the previous run's tag tables — is the DuckDB engine's: everyone stays in their segment."""
    from digiops import labels, merge

    engagement = load_engagement(small_client)
    migrations = {}
    try:
        for kind in ("duckdb", "spark"):
            client = engagement.model_copy(update={"engine": EngineSettings(kind=kind, master="local[2]")})
            first, run_dir = runs[kind][0], tmp_path_factory.mktemp(f"second_{kind}")
            result = merge.run(StageContext(client, "merge", run_dir, previous_run_dir=first))
            labels.run(StageContext(client, "labels", run_dir, previous_run_dir=first))
            before = runs[kind][1].crosswalk.set_index(["source", "record_id"])["customer_id"].sort_index()
            after = result.crosswalk.set_index(["source", "record_id"])["customer_id"].sort_index()
            pd.testing.assert_series_equal(after, before, obj=kind)
            migrations[kind] = pd.read_parquet(run_dir / "outputs" / "labels" / "migration.parquet")
    finally:
        stop_spark()
    pd.testing.assert_frame_equal(migrations["spark"], migrations["duckdb"])
    matrix = migrations["duckdb"].set_index("previous")
    assert matrix.to_numpy().sum() == runs["duckdb"][1].crosswalk["customer_id"].nunique()
    assert all(matrix.at[s, c] == 0 for s in matrix.index for c in matrix.columns if s != c)


def test_executors_without_digiops_python_are_one_clear_error_before_any_source_is_read(small_client, tmp_path,
                                                                                       monkeypatch):
    """An executor Python that cannot run digiops (here: one that does not exist) stops the merge at its first
    Spark job, naming engine.options and the fix; no source is prepared."""
    _need_spark()
    from digiops import merge
    from digiops.errors import EngagementError

    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)  # restored afterwards: the session sets it
    engine = EngineSettings(kind="spark", master="local[1]", options={"spark.pyspark.python": "/nowhere/python3"})
    client = load_engagement(small_client).model_copy(update={"engine": engine})
    try:
        with pytest.raises(EngagementError) as raised:
            merge.run(StageContext(client, "merge", tmp_path / "run"))
    finally:
        stop_spark()
    message = str(raised.value)
    assert "engine.options" in message and "Spark executors cannot run" in message and "/nowhere/python3" in message
    assert "Cannot run program" in message
    assert "spark.pyspark.python" in message
    assert not list((tmp_path / "run").rglob("*.clean.parquet"))


def test_a_bad_export_prepared_by_an_executor_is_the_usual_located_error(small_client, tmp_path):
    """A source that fails on an executor is raised on the driver as its SourceError (file, field, fix), and the
    client's raw file is left as it was."""
    _need_spark()
    from digiops import merge
    from digiops.errors import SourceError

    client_dir = tmp_path / "client"
    shutil.copytree(small_client, client_dir)
    raw = client_dir / "raw" / "crm_customers.csv"
    raw.write_bytes(b"".join(raw.read_bytes().splitlines(keepends=True)[:3]))  # title rows and header only
    before = raw.read_bytes()
    client = load_engagement(client_dir).model_copy(update={"engine": EngineSettings(kind="spark",
                                                                                     master="local[2]")})
    try:
        with pytest.raises(SourceError) as raised:
            merge.run(StageContext(client, "merge", tmp_path / "run"))
    finally:
        stop_spark()
    assert raised.value.location == "raw/crm_customers.csv" and raised.value.field == "sources.crm"
    assert "no data rows below the header (row 3)" in raised.value.problem
    assert raw.read_bytes() == before


def test_an_orders_only_client_and_a_reviewed_not_match_give_the_duckdb_results_on_spark(tmp_path):
    """Paths the demo's client does not take, on Spark as on DuckDB: an orders-only client (each customer named by
    its member card), and three records linked by exact rules whose reviewer's not-match splits their customer
    (the decisions joined as a Spark table, the cluster split on Spark)."""
    _need_spark()
    from tests.merge.conftest import write_engagement

    from digiops.merge.pipeline import run_merge

    receipts = pd.DataFrame({"order_id": ["O1", "O2", "O3", "O4"], "amount": ["10", "-10", "7", "5"],
                             "order_time": ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"],
                             "member": ["K1", "k1 ", "", "K2"]})
    orders_only = write_engagement(tmp_path / "orders_only", {"receipts": (receipts, {
        "kind": "orders", "id_column": "order_id",
        "columns": {"order_time": "order_time", "amount": "amount", "member": "customer_key"}})})
    person = {"name": "full_name", "phone": "phone", "email": "email"}
    chain = {"crm": ["A", "13800138001", ""], "shop": ["B", "13800138001", "zw@example.com"],
             "app": ["C", "", "zw@example.com"]}  # A–B share a phone, B–C an e-mail
    folder = tmp_path / "chain"
    folder.mkdir()
    pd.DataFrame({"unique_id_l": ["crm:A"], "unique_id_r": ["app:C"], "decision": ["not-match"]}).to_csv(
        folder / "reviewed.csv", index=False)
    reviewed = write_engagement(folder, {
        name: (pd.DataFrame({"id": [i], "name": ["张伟"], "phone": [p], "email": [e]}),
               {"kind": "customers", "id_column": "id", "columns": person}) for name, (i, p, e) in chain.items()},
        merge={"review_file": "reviewed.csv"})
    found = {}
    try:
        for kind in ("duckdb", "spark"):
            engine = EngineSettings(kind=kind, master="local[2]")
            for name, engagement in (("orders_only", orders_only), ("reviewed", reviewed)):
                result = run_merge(engagement.model_copy(update={"engine": engine}), work_root=tmp_path / kind)
                found[kind, name] = (result.crosswalk, result.customers, result.orders, result.model)
    finally:
        stop_spark()
    for name in ("orders_only", "reviewed"):
        duck, spark = found["duckdb", name], found["spark", name]
        assert _partitions(spark[0]) == _partitions(duck[0]), name
        pd.testing.assert_frame_equal(_named_by_records(spark[1], spark[0]), _named_by_records(duck[1], duck[0]))
        pd.testing.assert_frame_equal(spark[2].drop(columns="customer_id"), duck[2].drop(columns="customer_id"))
    assert found["spark", "orders_only"][1]["customer_id"].tolist() == ["K1", "K2"]
    crosswalk = found["spark", "reviewed"][0].set_index("source")["customer_id"]
    assert crosswalk["crm"] != crosswalk["app"]
    assert found["spark", "reviewed"][3].decisions["applied"].tolist() == ["cannot_link"]
