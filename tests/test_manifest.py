"""The run manifest: secrets never recorded, killed runs reported as incomplete."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

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


def test_unfinished_run_is_running_while_its_process_lives_and_incomplete_after():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    data = {"status": "incomplete", "pid": child.pid, "host": manifest.socket.gethostname()}

    assert manifest.effective_status(data) == "incomplete"
    assert manifest.effective_status({**data, "pid": manifest.os.getpid()}) == "running"
    assert manifest.effective_status({"status": "succeeded"}) == "succeeded"


def test_versions_name_the_stack():
    found = manifest.versions()

    assert {"python", "digiops", "papermill", "nbconvert", "pandas"} <= set(found)
