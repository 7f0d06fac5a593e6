"""The run manifest: secrets never recorded, killed runs reported as incomplete, its typed shape."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from digiops import manifest


def test_secrets_removed_at_any_depth():
    parameters = {"kpi": {"source": {"password": "p", "user": "u"}}, "Token": "t", "spark": {"options": [
        {"spark.access_key": "a", "spark.master": "local[2]"}]}, "client_secret": "s"}

    assert manifest.strip_secrets(parameters) == {"kpi": {"source": {"user": "u"}},
                                                  "spark": {"options": [{"spark.master": "local[2]"}]}}


def test_cloud_storage_keys_are_secrets_and_ordinary_words_are_not():
    options = {"fs.azure.account.key.acct.blob.core.windows.net": "k1", "fs.s3a.access.key": "k2",
               "fs.s3a.secret.key": "k3", "spark.hadoop.fs.gs.auth.service.account.private.key": "k4",
               "keyword": "kept", "monkey": "kept", "customer_key_column": "kept?", "spark.executor.memory": "4g"}

    assert manifest.strip_secrets(options) == {"keyword": "kept", "monkey": "kept", "spark.executor.memory": "4g"}


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(), max_size=5))
def test_parameter_hash_ignores_key_order(parameters):
    reordered = dict(reversed(list(parameters.items())))

    assert manifest.parameter_hash(parameters) == manifest.parameter_hash(reordered)


def run_manifest(**fields) -> manifest.Manifest:
    return manifest.Manifest(**{"client": "acme", "run_id": "20260416T120000-000000-aaaaaa", "stages": [], **fields})


def test_unfinished_run_is_running_while_its_process_lives_and_incomplete_after():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host = manifest.socket.gethostname()

    assert run_manifest(status="incomplete", pid=child.pid, host=host).effective_status == "incomplete"
    assert run_manifest(status="incomplete", pid=manifest.os.getpid(), host=host).effective_status == "running"
    assert run_manifest(status="running", pid=child.pid, host=host).effective_status == "incomplete"
    assert run_manifest(status="succeeded").effective_status == "succeeded"


def test_keys_of_what_has_not_happened_are_left_out_and_the_rest_always_written():
    entry = manifest.StageEntry(name="merge", notebook="01_clean_merge.ipynb")

    assert entry.to_json() == {"name": "merge", "notebook": "01_clean_merge.ipynb", "status": "pending",
                               "depends_on": [], "duration_s": None}
    written = run_manifest(stages=[entry]).to_json()
    assert "interrupted" not in written and written["ended_at"] is None and written["previous_run"] is None
    assert written["schema_version"] == 1


def test_a_status_outside_the_vocabulary_is_refused_on_assignment():
    entry = manifest.StageEntry(name="merge", notebook="01_clean_merge.ipynb")

    with pytest.raises(ValidationError, match="status"):
        entry.status = "done"


def test_a_failure_outside_a_cell_has_no_cell():
    failure = manifest.StageFailure(ename="StageError", evalue="stage 'kpi': finished without writing …")

    assert failure.to_json() == {"cell": None, "cell_index": None, "ename": "StageError",
                                 "evalue": "stage 'kpi': finished without writing …"}


def test_versions_name_the_stack():
    found = manifest.versions()

    assert {"python", "digiops", "papermill", "nbconvert", "pandas"} <= set(found)


@pytest.mark.parametrize("value, shown", [
    ("spark://etl:s3cret@head:7077", "spark://etl:***@head:7077"),
    ("jdbc:mysql://etl:pw@db:3306/crm?useSSL=true", "jdbc:mysql://etl:***@db:3306/crm?useSSL=true"),
    ("jdbc:postgresql://db/crm?user=etl&password=pw&ssl=true",
     "jdbc:postgresql://db/crm?user=etl&password=***&ssl=true"),
    ("jdbc:sqlserver://db:1433;databaseName=crm;password=p@ss;encrypt=true",
     "jdbc:sqlserver://db:1433;databaseName=crm;password=***;encrypt=true"),
    ("https://a.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=Ab%2B",
     "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=***"),
    ("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2026&X-Amz-Signature=ff&X-Amz-Date=1",
     "https://b.s3.amazonaws.com/k?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Date=1"),
    ("s3a://AKIAIOSFODNN7EXAMPLE:wJalr/XUtn@bucket/raw", "s3a://***@bucket/raw"),
    ("AccountName=acct;AccountKey=abc==;EndpointSuffix=core.windows.net",
     "AccountName=acct;AccountKey=***;EndpointSuffix=core.windows.net"),
    ("https://api.example.com/v1?token=t0k&page=2", "https://api.example.com/v1?token=***&page=2"),
    # ordinary values stay as they are
    ("local[2]", "local[2]"), ("raw/crm.csv", "raw/crm.csv"), ("https://user@host/x", "https://user@host/x"),
    ("?keyword=a&monkey=b", "?keyword=a&monkey=b"), ("客户编号", "客户编号"),
])
def test_secrets_inside_values_are_masked_and_the_rest_stays_readable(value, shown):
    assert manifest.redact(value) == shown
    assert manifest.strip_secrets({"v": [value]}) == {"v": [shown]}
