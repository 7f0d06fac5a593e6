"""The engagement file: every validation error names the file, the field path and the fix."""

from __future__ import annotations

import pytest

from digiops.engagement import json_schema, load_engagement, parse_engagement
from digiops.errors import EngagementError
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
                       "key) (line 5) (fix: did you mean `language`?)")


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

    assert "unknown stage 'mrege' (known: deliver, inventory, kpi, labels, maturity, merge, summary)" in message


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


def source_with(setting: str) -> str:
    return VALID + f"sources:\n  crm: {{path: raw/c.csv, kind: customers, {setting}}}\n"


@pytest.mark.parametrize("setting, delimiter", [
    ("format: csv", "auto"), ("delimiter: auto", "auto"), ("delimiter: tab", "tab"), (r"delimiter: \t", "tab"),
    (r"delimiter: '\t'", "tab"), (r'delimiter: "\t"', "tab"), ("delimiter: ;", "semicolon"),
    ("delimiter: semicolon", "semicolon"), ("delimiter: ','", "comma"), ("delimiter: comma", "comma"),
    ("delimiter: '|'", "pipe"), ("delimiter: pipe", "pipe"),
    ("delimiter: whitespace", "whitespace"), ("delimiter: fixed", "fixed"),
    ("delimiter: fixed, widths: [6, 10, 8]", "fixed"),
])
def test_delimiter_spellings(setting, delimiter):
    source = parse_engagement(source_with(setting)).sources["crm"]

    assert source.delimiter == delimiter


@pytest.mark.parametrize("setting, message", [
    ("delimiter: space", "engagement.yaml: sources.crm.delimiter: 'space' is not a delimiter (accepted: auto, comma or "
                         r"',', semicolon or ';', tab or '\t', pipe or '|', whitespace, fixed)"),
    ("delimiter: ''", "engagement.yaml: sources.crm.delimiter: an empty value (in YAML, quote `|` and `,`) is not a "
                      "delimiter"),
    ("widths: [6, 10]", "engagement.yaml: sources.crm: widths applies to delimiter: fixed only (this source has "
                        "delimiter: auto); set delimiter: fixed or remove widths"),
    ("delimiter: fixed, widths: [6, 0]", "engagement.yaml: sources.crm.widths.1: Input should be greater than or "
                                         "equal to 1"),
])
def test_bad_delimiter_settings_name_source_field_and_accepted_values(setting, message):
    assert error_of(source_with(setting)).startswith(message)


def test_unquoted_pipe_in_yaml_is_explained():
    text = VALID + "sources:\n  crm:\n    path: raw/c.csv\n    kind: customers\n    delimiter: |\n"

    assert "an empty value (in YAML, quote `|` and `,`)" in error_of(text)


@pytest.mark.parametrize("suffix", ["tsv", "txt", "csv"])
def test_text_suffixes_are_read_as_delimited_text(suffix):
    source = parse_engagement(VALID + f"sources: {{x: {{path: raw/x.{suffix}, kind: other}}}}\n").sources["x"]

    assert source.file_format == "csv"


def test_tab_separated_gb18030_source_with_title_rows_loads_and_checks(tmp_path):
    folder = tmp_path / "acme"
    path = write_engagement(folder, sources="""
          crm:
            path: raw/crm.tsv
            kind: customers
            header_row: 3
            id_column: 客户编号
            columns: {姓名: full_name, 手机号: phone}""")
    (folder / "raw" / "crm.tsv").write_bytes("客户导出\n导出时间：2026-07-01\n客户编号\t姓名\t手机号\nA1\t张三\t138\n"
                                             .encode("gb18030"))

    engagement = load_engagement(path)

    assert engagement.sources["crm"].delimiter == "auto"


def test_validation_errors_carry_the_line_of_the_setting():
    text = VALID + "sources:\n  crm:\n    path: raw/c.csv\n    kind: customers\n    header_row: third\n"

    assert error_of(text).startswith("engagement.yaml: sources.crm.header_row: Input should be a valid integer, "
                                     "unable to parse string as an integer (line 9)")


def test_key_given_twice_in_a_nested_mapping_names_both_lines():
    text = VALID + "merge:\n  max_review_pairs: 10\n  max_review_pairs: 20\n"

    assert error_of(text) == ("engagement.yaml: merge: 'max_review_pairs' is given twice, on lines 6 and 7 (fix: keep "
                              "one of them; YAML would silently use the last)")


def test_a_list_as_a_key_is_refused():
    assert "a key is a list or a mapping; keys are names (line 5)" in error_of(VALID + "? [a, b]\n: x\n")


def test_deeply_nested_file_is_refused_without_a_recursion_traceback():
    assert "is nested too deeply" in error_of(VALID + "merge: " + "[" * 5000 + "]" * 5000 + "\n")


def test_keys_keep_their_text_and_impossible_dates_stay_text():
    from digiops.engagement import load_yaml

    data, lines = load_yaml("columns: {NO: a, yes: b, 1: c, 1.5: d, ~: e, 2026-01-01: f}\nday: 2026-02-30\n")

    assert list(data["columns"]) == ["NO", "yes", "1", "1.5", "~", "2026-01-01"]
    assert data["day"] == "2026-02-30" and lines[("day",)] == 2


def test_line_of_a_setting(tmp_path):
    path = write_engagement(tmp_path / "acme", sources="{}", body="kpi:\n  tree: kpi_tree.yaml\n")

    engagement = load_engagement(path)

    assert engagement.line_of("kpi", "tree") == 8 and engagement.line_of("kpi", "tree", "deeper") == 8
    assert engagement.line_of("labels") is None
    assert engagement.config_path("kpi", "tree") == (tmp_path / "acme" / "kpi_tree.yaml").resolve()
    assert engagement.config_path("merge", "review_file") is None


# --- every problem at once (`digiops validate`) --------------------------------------------------------------------
def test_a_misspelt_nested_key_gets_the_key_meant():
    text = VALID + "sources:\n  crm: {path: raw/c.csv, kind: customers, sheeet: 1}\nkpi: {treee: t.yaml}\n"

    message = error_of(text)

    assert "sources.crm.sheeet: unknown key (check its spelling; `digiops schema` lists every key) (line 6) (fix: " \
           "did you mean `sheet`?)" in message
    assert "kpi.treee: unknown key (check its spelling; `digiops schema` lists every key) (line 7) (fix: did you " \
           "mean `tree`?)" in message


def test_a_misspelt_canonical_field_and_stage_get_the_one_meant():
    text = VALID.replace("[inventory]", "[inventory, mrege]") + \
        "sources:\n  crm: {path: raw/c.csv, kind: customers, columns: {手机: phnoe}}\n"

    message = error_of(text)

    assert "stages: unknown stage 'mrege' (known: deliver, inventory, kpi, labels, maturity, merge, summary) (line 4) (fix: " \
           "did you mean `merge`?)" in message
    assert "column '手机' maps to unknown field 'phnoe' for kind 'customers' (allowed: full_name" in message
    assert message.endswith("unionid) (line 6) (fix: did you mean `phone`?)")


def test_check_engagement_reports_every_problem_and_keeps_what_it_can_read(tmp_path):
    from digiops.engagement import check_engagement

    write_engagement(tmp_path / "acme", stages="[inventory, labels, mrege]", sources="""
          crm: {path: raw/c.csv, kind: customers, columns: {手机: phnoe, 姓名: full_name}, sheeet: 1}
          pos: {path: raw/p.csv, kind: orders, grain: line, columns: {金额: amount}}""",
                     body="stagse: [kpi]\nkpi: {review_period: 2026-13}\n")

    checked = check_engagement(tmp_path / "acme")

    assert [(p.field, p.line) for p in checked.problems] == [
        ("stages", 5), ("sources.crm.sheeet", 7), ("sources.crm", 7), ("sources.pos", 8), ("stagse", 9),
        ("kpi.review_period", 10)]
    engagement = checked.engagement
    assert engagement is not None and engagement.stages == ["inventory", "labels"]
    assert engagement.sources["crm"].columns == {"姓名": "full_name"}  # still checked against its file
    assert engagement.sources["pos"].columns == {"金额": "amount"}  # still seen by the stages' checks
    assert checked.unchecked == {"sources.pos", "kpi"}  # its reading settings, and a section reset to defaults


def test_a_problem_the_model_checks_only_once_its_fields_are_valid_is_found_too(tmp_path):
    from digiops.engagement import check_engagement

    write_engagement(tmp_path / "acme", sources="{crm: {path: raw/c.csv, kind: customers, columns: {号: member_id}}}",
                     body="langauge: en\nmerge:\n  key_links: [{from: crm.member_id, to: nope.member_id}]\n")

    problems = [str(p) for p in check_engagement(tmp_path / "acme").problems]

    assert problems[0].startswith("engagement.yaml: langauge: unknown key")
    assert problems[1].startswith("engagement.yaml: merge.key_links 0 (crm.member_id → nope.member_id): its 'to' end "
                                  "names source 'nope', which is not in sources")
    assert len(problems) == 2


def test_a_wrong_required_setting_stops_the_deeper_checks(tmp_path):
    from digiops.engagement import check_engagement

    write_engagement(tmp_path / "acme", body="langauge: en\n")
    path = tmp_path / "acme" / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("start: 2026-01-01", "start: soon"), encoding="utf-8")

    checked = check_engagement(path)

    assert checked.engagement is None
    assert [p.field for p in checked.problems] == ["period.start", "langauge"]
