"""Engagement files, runs and the manifest, round two (issue 24): encodings, impossible dates, duplicate and
unquoted keys, alias bombs, configuration paths out of the client folder, custom stage names, secrets inside
values, an unwritable reports folder and a batch with a bad engagement. Every case goes through the real loader or
the real CLI, and no case may end in a Python traceback.

Run alone with ``pytest -m hardening``; listed in docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import pathlib
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digiops import manifest
from digiops.cli import app
from digiops.engagement import load_engagement
from digiops.errors import EngagementError
from digiops.runner import Run
from digiops.sources import check_sources
from tests.conftest import write_engagement

pytestmark = pytest.mark.hardening
#: Every setting that names a configuration file (digiops.engagement.CONFIG_PATHS).
CONFIG_PATHS = (("labels", "catalog"), ("labels", "segment_map"), ("kpi", "tree"), ("maturity", "question_bank"),
                ("maturity", "benchmark"), ("maturity", "initiatives"), ("merge", "review_file"))

ENGAGEMENT = """\
client: {id: acme, name_zh: 示例客户, name_en: Acme Foods}
engagement: 测试项目
language: zh
period: {start: 2026-01-01, end: 2026-06-30}
stages: [inventory]
sources:
  crm:
    path: raw/crm.csv
    kind: customers
    columns: {姓名: full_name, 手机号: phone}
"""


@pytest.fixture
def client(tmp_path) -> Path:
    folder = tmp_path / "acme"
    (folder / "raw").mkdir(parents=True)
    (folder / "raw" / "crm.csv").write_text("客户编号,姓名,手机号\nA1,张三,13800138001\n", encoding="utf-8")
    (folder / "engagement.yaml").write_text(ENGAGEMENT, encoding="utf-8")
    return folder


def cli(*args: str):
    """The CLI in-process; an exception escaping a command would be a traceback for the consultant."""
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def refusal(folder: Path) -> str:
    with pytest.raises(EngagementError) as info:
        load_engagement(folder / "engagement.yaml")
    return str(info.value)


def rewrite(folder: Path, text: str, encoding: str = "utf-8") -> None:
    (folder / "engagement.yaml").write_bytes(text.encode(encoding))


# --- encodings ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["gb18030", "utf-16", "utf-8-sig", "utf-32"])
def test_engagement_file_in_gb18030_or_with_a_bom_is_read(client, encoding):
    rewrite(client, ENGAGEMENT, encoding)  # Python's utf-16 / utf-32 codecs write the byte-order mark

    engagement = load_engagement(client)

    assert engagement.client.name_zh == "示例客户"
    assert engagement.sources["crm"].columns == {"姓名": "full_name", "手机号": "phone"}


@pytest.mark.parametrize("data, message", [
    (ENGAGEMENT.encode("utf-16-le"), "engagement.yaml: holds NUL bytes: it looks like UTF-16 or UTF-32 text without "
                                     "a byte-order mark (fix: save it as UTF-8"),
    (ENGAGEMENT.encode("utf-8").replace("测试项目".encode(), "测试项目".encode()[:-1]),
     "engagement.yaml: is UTF-8 text with bytes that are not UTF-8 (offset "),
    ("client:\n  id: acme\n  name_zh: Café\n".encode("cp1252"),
     "engagement.yaml: is neither UTF-8 nor GB18030 text"),
])
def test_undecodable_engagement_file_is_refused_with_the_encoding_fix(client, data, message):
    (client / "engagement.yaml").write_bytes(data)

    result = cli("run", str(client), "--out", str(client.parent / "reports"))

    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "UTF-8" in result.output


# --- impossible dates ------------------------------------------------------------------------------------------
def test_impossible_date_is_located_by_file_line_and_field(client):
    rewrite(client, ENGAGEMENT.replace("end: 2026-06-30", "end: 2026-02-30"))

    result = cli("validate", str(client))

    assert result.exit_code == 1  # validate: 1 when it finds a problem
    assert ("engagement.yaml: period.end: Input should be a valid date or datetime, day value is outside expected "
            "range (line 4)") in " ".join(result.output.split())


# --- duplicate keys ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("addition, message", [
    ("language: en\n", "engagement.yaml: 'language' is given twice, on lines 3 and 11"),
    ("  crm:\n    path: raw/other.csv\n    kind: customers\n",
     "engagement.yaml: sources: 'crm' is given twice, on lines 7 and 11"),
], ids=["setting", "source"])
def test_a_key_given_twice_is_an_error_naming_both_lines(client, addition, message):
    rewrite(client, ENGAGEMENT + addition)

    assert refusal(client).startswith(message + " (fix: keep one of them; YAML would silently use the last)")


def test_a_column_mapped_twice_is_an_error_naming_both_lines(client):
    rewrite(client, ENGAGEMENT.replace("columns: {姓名: full_name, 手机号: phone}",
                                       "columns:\n      姓名: full_name\n      姓名: given_name"))

    assert refusal(client).startswith("engagement.yaml: sources.crm.columns: '姓名' is given twice, on lines 11 "
                                      "and 12")


# --- unquoted keys that YAML would turn into booleans or numbers -------------------------------------------------
def test_unquoted_column_and_source_names_keep_their_text(client):
    (client / "raw" / "members.csv").write_text("NO,是否,on,1\nM1,是,x,13800138001\n", encoding="utf-8")
    rewrite(client, ENGAGEMENT + """\
  yes:
    path: raw/members.csv
    kind: customers
    columns: {NO: member_id, on: full_name, 1: phone}
  2026:
    path: raw/members.csv
    kind: other
""")

    engagement = load_engagement(client)
    check_sources(engagement)  # every mapped column is in the file

    assert set(engagement.sources) == {"crm", "yes", "2026"}
    assert engagement.sources["yes"].columns == {"NO": "member_id", "on": "full_name", "1": "phone"}


# --- aliases -----------------------------------------------------------------------------------------------------
def billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"lol{level}: &lol{level} [" + ", ".join([f"*lol{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_quickly_with_a_message(client):
    rewrite(client, ENGAGEMENT + billion_laughs() + "merge:\n  source_priority: *lol9\n")
    started = time.perf_counter()

    result = cli("validate", str(client))

    assert time.perf_counter() - started < 10
    assert result.exit_code == 1  # validate: 1 when it finds a problem
    assert "engagement.yaml: its aliases (*name) repeat " in result.output
    assert "characters (at most 1,000,000 are allowed)" in " ".join(result.output.split())


def test_an_alias_that_contains_itself_is_refused(client):
    rewrite(client, ENGAGEMENT + "merge:\n  source_priority: &loop [a, *loop]\n")

    assert "an alias (*name) refers to a value that contains it" in refusal(client)


def test_ordinary_aliases_and_merge_keys_still_work(client):
    (client / "raw" / "pos.csv").write_text("姓名,手机号\n李四,13900139002\n", encoding="utf-8")
    rewrite(client, ENGAGEMENT.replace("  crm:\n    path: raw/crm.csv\n    kind: customers\n",
                                       "  crm: &person\n    path: raw/crm.csv\n    kind: customers\n")
            + "  pos:\n    <<: *person\n    path: raw/pos.csv\n")

    engagement = load_engagement(client)

    assert engagement.sources["pos"].path == "raw/pos.csv"
    assert engagement.sources["pos"].columns == {"姓名": "full_name", "手机号": "phone"}


# --- configuration files outside the client folder -------------------------------------------------------------
@pytest.mark.parametrize("section, key", CONFIG_PATHS, ids=[".".join(p) for p in CONFIG_PATHS])
@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd"])
def test_configuration_file_outside_the_client_folder_is_refused(client, section, key, path):
    rewrite(client, ENGAGEMENT + f"{section}:\n  {key}: {path}\n")

    message = refusal(client)

    assert message.startswith(f"engagement.yaml: {section}.{key}: '{path}' is outside the client folder")
    assert "(line 12)" in message and "a configuration file is part of the engagement" in message


def test_configuration_file_symlinked_out_of_the_client_folder_is_refused(client, tmp_path):
    (tmp_path / "shared_tree.yaml").write_text("kpis: []\n", encoding="utf-8")
    (client / "kpi_tree.yaml").symlink_to(tmp_path / "shared_tree.yaml")

    assert refusal(client).startswith("engagement.yaml: kpi.tree: 'kpi_tree.yaml' is outside the client folder")


# --- custom stage names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("names, message", [
    (["../../x"], "custom_stages.0.name: '../../x' cannot name a stage: start with a letter"),
    (["index"], "custom_stages.0.name: 'index' is reserved (the run folder's own"),
    (["run"], "custom_stages.0.name: 'run' is reserved (the run folder's own"),
    (["Manifest"], "custom_stages.0.name: 'Manifest' is reserved (the run folder's own"),
    (["Summary"], "custom_stages: custom stage 'Summary' has the name of a built-in stage"),
    (["extra", "Extra"], "custom_stages: custom stage 'Extra' is defined twice (custom_stages 0 and 1"),
], ids=["traversal", "index", "run", "manifest", "builtin-case", "twice"])
def test_unsafe_custom_stage_names_are_refused(client, names, message):
    (client / "extra.ipynb").write_text("{}", encoding="utf-8")
    stages = "".join(f"  - {{name: '{name}', notebook: extra.ipynb}}\n" for name in names)
    rewrite(client, ENGAGEMENT.replace("stages: [inventory]", "stages: [inventory]\ncustom_stages:\n" + stages))

    assert message in refusal(client)


# --- secrets inside values ---------------------------------------------------------------------------------------
SECRETS = ("s3cretPw", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMIK7MDENG", "sv-signature-value", "jdbcPassw0rd",
           "AccountKeyValue==")


def test_secrets_inside_setting_values_never_reach_the_manifest(client, tmp_path):
    rewrite(client, ENGAGEMENT + """\
engine:
  master: spark://etl:s3cretPw@spark-head:7077
  checkpoint_dir: s3a://AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMIK7MDENG@bucket/checkpoints
  options:
    spark.hadoop.javax.jdo.option.ConnectionURL: jdbc:postgresql://meta:5432/hive?user=etl&password=jdbcPassw0rd
    spark.sql.catalog.lake.uri: https://acct.blob.core.windows.net/lake?sv=2022-11-02&sp=r&sig=sv-signature-value
    spark.azure.connection: DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=AccountKeyValue==
""")
    engagement = load_engagement(client)

    run = Run(engagement, [], tmp_path / "reports", log=lambda _: None)  # writes the run's first manifest

    text = (run.run_dir / "manifest.json").read_text(encoding="utf-8")
    assert [s for s in SECRETS if s in text] == []
    engine = json.loads(text)["parameters"]["engine"]
    assert engine["master"] == "spark://etl:***@spark-head:7077"
    assert engine["checkpoint_dir"] == "s3a://***:***@bucket/checkpoints"
    assert engine["options"]["spark.sql.catalog.lake.uri"].endswith("?sv=2022-11-02&sp=r&sig=***")
    assert "user=etl&password=***" in engine["options"]["spark.hadoop.javax.jdo.option.ConnectionURL"]


# --- the reports folder and batches ----------------------------------------------------------------------------
def test_read_only_reports_folder_is_a_clear_error(client, tmp_path, monkeypatch):
    reports = tmp_path / "reports"
    reports.mkdir()
    reports.chmod(0o555)
    real_mkdir = pathlib.Path.mkdir

    def mkdir(self, *args, **kwargs):  # root ignores the mode bits: refuse as a read-only folder would
        if self.is_relative_to(reports):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    if os.geteuid() == 0:
        monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    try:
        result = cli("run", str(client), "--out", str(reports))
    finally:
        reports.chmod(0o755)

    assert result.exit_code == 2
    shown = " ".join(result.output.split())
    assert f"error: {reports}: cannot create the run folder {reports / 'acme'}/… (Permission denied)" in shown
    assert "--out FOLDER" in shown


def test_a_bad_engagement_does_not_stop_the_batch(client, tmp_path):
    bad = tmp_path / "bad"
    write_engagement(bad, body="period: {start: 2026-01-01, end: 2026-02-30}\n")

    result = cli("run", str(bad), str(client), "--out", str(tmp_path / "reports"))

    assert result.exit_code == 2
    shown = " ".join(result.output.split())
    assert f"error: {bad}: engagement.yaml: 'period' is given twice" in shown
    assert "acme: succeeded — " in shown
    assert f"2 engagements: 1 refused ({bad}); 1 succeeded (acme)" in shown
    assert (tmp_path / "reports" / "acme" / "index.html").exists()


def test_debug_shows_the_traceback_and_only_then(client):
    rewrite(client, ENGAGEMENT.replace("end: 2026-06-30", "end: 2026-02-30"))

    plain = cli("validate", str(client))
    debug = CliRunner().invoke(app, ["--debug", "validate", str(client)])

    assert "Traceback" not in plain.output
    assert debug.exit_code == 1 and "Traceback (most recent call last)" in debug.output
    assert "period.end: Input should be a valid date" in debug.output


def test_secret_in_a_failing_stage_message_is_redacted():
    from digiops.runner import _error_text

    error = _error_text(ConnectionError("cannot reach spark://etl:s3cretPw@spark-head:7077"))

    assert error.evalue == "cannot reach spark://etl:***@spark-head:7077"
    assert manifest.redact("plain text, local[2]") == "plain text, local[2]"
