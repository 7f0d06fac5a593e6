"""`digiops validate`: everything a run will need, every problem in one pass, each with file, field or row and fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digiops import paths
from digiops.cli import app, validate_all
from digiops.engagement import load_engagement
from tests.conftest import ensure_demo_data, write_engagement

runner = CliRunner()

ORDERS = ("订单号,下单时间,实付金额,手机\nO1,2026-01-03 10:00:00,35.00,13800138001\n"
          "O2,2026-02-04 11:00:00,42.00,13800138002\n")
TREE = """\
strategic_goals: [{id: growth, name_zh: 增长, name_en: Growth}]
kpis:
  - {id: gmv, name_zh: 成交额, name_en: GMV, goal: growth, source: {metric: gmv}}
"""


def broken_client(folder: Path) -> Path:
    """A client with a misspelt key, a misspelt canonical field, no tag catalog, no KPI tree, a targets source
    named but absent, and a review file with three bad decisions."""
    write_engagement(folder, sources="""
          orders:
            path: raw/orders.csv
            kind: orders
            id_column: 订单号
            columns: {下单时间: order_time, 实付金额: amount, 手机: phnoe}""", body="""\
        kpi:
          targets_source: kpi_targets
        merge:
          review_file: reviewed.csv
        """)
    path = folder / "engagement.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("stages: [inventory]",
                                                             "stagse: [inventory, merge, labels, kpi]"))
    (folder / "raw" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (folder / "reviewed.csv").write_text("unique_id_l,unique_id_r,decision\nA,B,match\nA,C,maybe\nB,C,perhaps\n"
                                         "C,D,dunno\nD,E,not-match\n", encoding="utf-8")
    return folder


def test_every_problem_of_a_client_is_named_in_one_validate(tmp_path):
    folder = broken_client(tmp_path / "acme")

    result = runner.invoke(app, ["validate", str(folder)])

    shown = result.output.splitlines()
    assert result.exit_code == 1

    def line_with(*parts: str) -> str:
        found = [line for line in shown if all(part in line for part in parts)]
        assert found, f"no line with {parts} in:\n{result.output}"
        return found[0]

    line_with("engagement.yaml: stagse: unknown key", "(line 5)", "(fix: did you mean `stages`?)")
    line_with("engagement.yaml: sources.orders: column '手机' maps to unknown field 'phnoe' for kind 'orders' "
              "(allowed: ", "(line 7) (fix: did you mean `phone`?)")
    assert line_with("tag_catalog.yaml: labels.catalog: file not found", "fix: create it").startswith(
        "error: tag_catalog.yaml: ")  # named as the engagement file names it
    line_with("error: kpi_tree.yaml: kpi.tree: the KPI tree file does not exist", "fix: create it")
    line_with("engagement.yaml: kpi.targets_source: names source 'kpi_targets', which is not in sources",
              "(fix: add the client's targets file under sources: (kind targets), or remove kpi.targets_source)")
    review = line_with("reviewed.csv: decision: 3 ")
    assert all(f"row {row}: decision '{word}'" in review for row, word in ((3, "maybe"), (4, "perhaps"), (5, "dunno")))
    assert shown[-1].startswith(f"{len(shown) - 1} problems found")
    assert "valid" not in result.output and "Traceback" not in result.output


def test_the_problems_are_the_library_s_errors_with_file_field_and_fix(tmp_path):
    problems = validate_all(str(broken_client(tmp_path / "acme")))

    assert all(p.location and p.fix for p in problems), [str(p) for p in problems if not p.fix]
    assert {p.field for p in problems} >= {"stagse", "sources.orders", "labels.catalog", "kpi.tree",
                                           "kpi.targets_source", "decision"}


def test_the_demo_validates_clean():
    ensure_demo_data()

    result = runner.invoke(app, ["validate", "demo"])

    sources = len(load_engagement(paths.demo_client_dir() / "engagement.yaml").sources)
    assert validate_all("demo") == []
    assert result.exit_code == 0 and f"engagement.yaml: valid — {sources} sources" in result.output


def _client_with_tree(folder: Path, tree: str, sources: str, kpi: str = "") -> Path:
    write_engagement(folder, stages="[inventory, merge, kpi]", sources=sources,
                     body="kpi:\n  tree: kpi_tree.yaml\n" + textwrap.indent(textwrap.dedent(kpi), "  "))
    (folder / "kpi_tree.yaml").write_text(textwrap.dedent(tree), encoding="utf-8")
    (folder / "raw" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    return folder


ORDERS_SOURCE = """
      orders: {path: raw/orders.csv, kind: orders, columns: {下单时间: order_time, 实付金额: amount}}"""


def test_the_kpi_tree_s_sources_must_exist_and_map_what_it_reads(tmp_path):
    (tmp_path / "acme" / "raw").mkdir(parents=True)
    (tmp_path / "acme" / "raw" / "visits.csv").write_text("日期,访客\n2026-01-01,5\n", encoding="utf-8")
    folder = _client_with_tree(tmp_path / "acme", TREE + textwrap.dedent("""\
          - {id: traffic, name_zh: 客流, name_en: Traffic, source: {file: visits, column: visitors}}
          - {id: leads, name_zh: 线索, name_en: Leads, source: {file: leads, column: lead_id}}
          - {id: aov, name_zh: 客单价, name_en: AOV, source: {metric: avo}}
          - {id: conv, name_zh: 转化率, name_en: Conversion, source: {metric: conversion}}
        """).replace("- {", "  - {"), ORDERS_SOURCE + """
      visits: {path: raw/visits.csv, kind: traffic, columns: {日期: date, 访客: visitor}}""")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems == [
        "engagement.yaml: sources.visits: column '访客' maps to unknown field 'visitor' for kind 'traffic' (allowed: "
        "date, unit, visitors, channel) (line 8) (fix: did you mean `visitors`?)",
        "kpi_tree.yaml: kpis.traffic.source.column: column 'visitors' is not a field source 'visits' maps (it maps: "
        "date) (fix: map the column to that field, or name a field it maps)",
        "kpi_tree.yaml: kpis.leads.source.file: source 'leads' is not in the engagement's sources (fix: add it under "
        "sources:, or give the KPI a metric instead)",
        "kpi_tree.yaml: kpis.aov.source: unknown metric 'avo' (fix: did you mean `aov`?)",
        "kpi_tree.yaml: kpis.conv.source: metric 'conversion' counts visitors from the traffic source 'traffic' "
        "(kpi.traffic_source), which is not in sources (fix: add the daily visitors under sources: (kind traffic), "
        "or remove the KPI)",
    ]


def test_a_targets_source_must_map_what_the_review_reads_and_name_known_kpis(tmp_path):
    folder = _client_with_tree(tmp_path / "acme", TREE, ORDERS_SOURCE + """
      kpi_targets: {path: raw/targets.csv, kind: targets, columns: {指标: kpi_id, 月份: period, 目标: target}}
      plan: {path: raw/targets.csv, kind: targets, columns: {指标: kpi_id}}""", kpi="funnel_source: plan\n")
    (folder / "raw" / "targets.csv").write_text("指标,月份,目标\ngmv,2026-01,100\nnps,2026-01,5\ngvm,2026-02,7\n"
                                               "gmv,2026-13,9\n", encoding="utf-8")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems == [
        "engagement.yaml: kpi.funnel_source: source 'plan' is of kind targets, not funnel (line 12) (fix: set kind: "
        "funnel on that source, or name a source of kind funnel)",
        "raw/targets.csv: kpi_id: row 3: target for unknown KPI 'nps' (fix: use a KPI id of the tree (gmv))",
        "raw/targets.csv: kpi_id: row 4: target for unknown KPI 'gvm' (fix: use a KPI id of the tree (gmv))",
        "raw/targets.csv: period: row 5: period '2026-13' of KPI 'gmv' is not a month (fix: write it as YYYY-MM "
        "(or YYYY for a year's target, which is split to months))",
    ]


def test_every_source_and_every_missing_column_is_named(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, sources="""
          a: {path: raw/a.csv, kind: customers, columns: {姓名: full_name, 手机: phone, 城市: city}}
          b: {path: raw/b.csv, kind: customers, columns: {姓名: full_name}}""")
    (folder / "raw" / "a.csv").write_text("姓名,电话\n张三,1\n", encoding="utf-8")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems == [
        "engagement.yaml: sources.a.columns: '手机' is not a column of raw/a.csv (columns: 姓名, 电话) (fix: map a "
        "column that exists, or correct header_row / sheet)",
        "engagement.yaml: sources.a.columns: '城市' is not a column of raw/a.csv (columns: 姓名, 电话) (fix: map a "
        "column that exists, or correct header_row / sheet)",
        "raw/b.csv: file not found (fix: check the path in the engagement file, or add the file)",
    ]


def test_every_problem_of_a_tag_catalog_is_named(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, stages="[inventory, merge, labels]")
    (folder / "tag_catalog.yaml").write_text(textwrap.dedent("""\
        tags:
          - {id: a, name: {zh: 甲, en: A}, category: value, definition: x, owner: 运营, rule: "frequncy >= 2"}
          - {id: b, name: {zh: 乙, en: B}, category: value, definition: x, rule: "monetary > 1"}
          - {id: c, name: {zh: 丙, en: C}, category: valeu, definition: x, owner: 运营, rule: "monetary > 1",
             refreshh: daily}
        """), encoding="utf-8")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems[0] == ("tag_catalog.yaml: tag 'b': has no owner (fix: add `owner:` — the department or person "
                           "answerable for its definition)")
    assert problems[1].startswith("tag_catalog.yaml: tag 'c': category: Input should be ")
    assert problems[1].endswith("did you mean `value`?)")
    assert problems[2] == "tag_catalog.yaml: tag 'c': refreshh: unknown key (fix: did you mean `refresh`?)"
    assert len(problems) == 3  # rules are checked once the catalog's structure is right


def test_a_catalog_rule_naming_a_misspelt_field_gets_the_field_meant(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, stages="[inventory, merge, labels]")
    (folder / "tag_catalog.yaml").write_text(textwrap.dedent("""\
        tags:
          - {id: a, name: {zh: 甲, en: A}, category: value, definition: x, owner: 运营, rule: "frequncy >= 2"}
          - {id: b, name: {zh: 乙, en: B}, category: value, definition: x, owner: 运营, rule: "recency_dys < 9"}
        """), encoding="utf-8")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems == [
        "tag_catalog.yaml: tag 'a': rule `frequncy >= 2` names field 'frequncy', which does not exist (fix: did you "
        "mean `frequency`?)",
        "tag_catalog.yaml: tag 'b': rule `recency_dys < 9` names field 'recency_dys', which does not exist (fix: did "
        "you mean `recency_days`?)",
    ]


def test_a_stage_that_does_not_run_is_not_checked(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, stages="[inventory]", body="merge: {review_file: missing.xlsx}\n")

    assert validate_all(str(folder)) == []


def test_a_missing_review_file_is_named(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, stages="[inventory, merge]", body="merge: {review_file: reviewed.xlsx}\n")

    assert [str(p) for p in validate_all(str(folder))] == [
        "engagement.yaml: merge.review_file: review file 'reviewed.xlsx' does not exist (line 7) (fix: give the path "
        "of a reviewed review_pairs.xlsx, or remove merge.review_file)"]


def test_maturity_files_and_the_answers_source_are_checked(tmp_path):
    folder = tmp_path / "acme"
    write_engagement(folder, stages="[inventory, maturity]",
                     body="maturity: {answers_source: answers, question_bank: bank.yaml}\n")
    (folder / "bank.yaml").write_text("questions: []\n", encoding="utf-8")

    problems = [str(p) for p in validate_all(str(folder))]

    assert problems == [
        "engagement.yaml: maturity.answers_source: no source named 'answers' for the questionnaire answers (line 7) "
        "(fix: add the answers file under sources: (kind questionnaire) or set maturity.answers_source to its name)",
        "bank.yaml: questions: has no `questions:` list (fix: list the questions under `questions:` (id, dimension, "
        "text_zh, text_en, weight))",
    ]


@pytest.mark.parametrize("spec", ["no-such-client", "nowhere/engagement.yaml"])
def test_an_engagement_that_cannot_be_found_is_one_problem(spec):
    problems = validate_all(spec)

    assert len(problems) == 1 and "no " in problems[0].problem
