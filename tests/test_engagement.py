"""The engagement file: every validation error names the file, the field path and the fix."""

from __future__ import annotations

import pytest

from digiops.engagement import json_schema, load_engagement, parse_engagement
from digiops.errors import EngagementError, SourceError
from tests.conftest import write_engagement

VALID = """\
client: {id: acme, name_zh: 示例, name_en: Acme}
engagement: review
period: {start: 2026-01-01, end: 2026-06-30}
stages: [inventory]
"""


def error_of(text: str) -> str:
    with pytest.raises(EngagementError) as info:
        parse_engagement(text, "engagement.yaml")
    return str(info.value)


def test_valid_file_parses_with_defaults():
    engagement = parse_engagement(VALID)

    assert engagement.language == "zh"
    assert engagement.client.name_en == "Acme"
    assert engagement.sources == {}


def test_yaml_syntax_error_names_line():
    assert error_of(VALID + "sources: {crm: [\n") .startswith("engagement.yaml: line ")


def test_unknown_key_is_an_error_not_a_warning():
    message = error_of(VALID + "langauge: en\n")

    assert message == ("engagement.yaml: langauge: unknown key (check its spelling; `digiops schema` lists every "
                       "key)")


def test_unknown_nested_key_names_the_path():
    message = error_of(VALID.replace("name_en: Acme", "name_en: Acme, nmae: x"))

    assert message.startswith("engagement.yaml: client.nmae: unknown key")


def test_wrong_type_names_field():
    message = error_of(VALID.replace("start: 2026-01-01", "start: soon"))

    assert message.startswith("engagement.yaml: period.start: Input should be a valid date")


def test_missing_required_field():
    message = error_of(VALID.replace("engagement: review\n", ""))

    assert message == "engagement.yaml: engagement: required field is missing (see docs/engagement.md)"


def test_period_end_before_start():
    message = error_of(VALID.replace("end: 2026-06-30", "end: 2025-06-30"))

    assert "period: end 2025-06-30 is before start 2026-01-01" in message


def test_stage_listed_twice():
    message = error_of(VALID.replace("[inventory]", "[inventory, inventory]"))

    assert "stage 'inventory' is listed twice in stages; list it once" in message


def test_unknown_stage_lists_known_ones():
    message = error_of(VALID.replace("[inventory]", "[inventory, mrege]"))

    assert "unknown stage 'mrege' (known: inventory, kpi, labels, maturity, merge, summary)" in message


def test_column_mapped_to_unknown_canonical_field():
    text = VALID + "sources:\n  crm: {path: raw/c.csv, kind: customers, columns: {手机: mobile}}\n"

    assert "column '手机' maps to unknown field 'mobile' for kind 'customers'" in error_of(text)


def test_client_id_must_be_folder_safe():
    assert "use letters, digits" in error_of(VALID.replace("id: acme", "id: ../x"))


def test_not_a_mapping():
    assert error_of("- a\n- b\n") == ("engagement.yaml: must be a YAML mapping of keys (client, engagement, period, "
                                      "…) (fix: start from `digiops new-client NAME`)")


def test_source_outside_client_folder_refused(tmp_path):
    path = write_engagement(tmp_path / "acme", sources="{x: {path: ../../etc/passwd, kind: other, format: csv}}")

    with pytest.raises(EngagementError) as info:
        load_engagement(path)

    assert "sources.x.path: '../../etc/passwd' is outside the client folder" in str(info.value)
    assert "allow_outside_client: true" in str(info.value)


def test_symlink_out_of_client_folder_refused(tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("a,b\n1,2\n")
    folder = tmp_path / "acme"
    path = write_engagement(folder, sources="{x: {path: raw/link.csv, kind: other}}")
    (folder / "raw" / "link.csv").symlink_to(outside)

    with pytest.raises(EngagementError, match="is outside the client folder"):
        load_engagement(path)


def test_missing_source_file(tmp_path):
    path = write_engagement(tmp_path / "acme", sources="{crm: {path: raw/crm.csv, kind: customers}}")

    with pytest.raises(SourceError) as info:
        load_engagement(path)

    assert str(info.value) == ("raw/crm.csv: file not found (fix: check the path in the engagement file, or add the "
                               "file)")


def test_mapped_column_absent_lists_columns(client_dir):
    text = (client_dir / "engagement.yaml").read_text(encoding="utf-8").replace("手机号: phone", "手机: phone")
    (client_dir / "engagement.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(SourceError) as info:
        load_engagement(client_dir / "engagement.yaml")

    assert str(info.value).startswith("engagement.yaml: sources.crm.columns: '手机' is not a column of raw/crm.csv "
                                      "(columns: 客户编号, 姓名, 手机号, 城市)")


def test_client_name_lookup_and_unknown_client(client_dir, monkeypatch):
    loaded = load_engagement(client_dir)  # a folder works as well as a file
    assert loaded.client.id == "acme"

    with pytest.raises(EngagementError, match="no engagement file found"):
        load_engagement("no-such-client")


def test_json_schema_documents_every_top_level_key():
    schema = json_schema()

    assert {"client", "engagement", "period", "stages", "sources", "merge", "labels", "maturity", "kpi"} <= set(
        schema["properties"])
    assert schema["additionalProperties"] is False
