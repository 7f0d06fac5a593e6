"""The executive summary: figures read from a run's outputs, plain sentences for missing stages, escaping, and the
stage notebook run by the real engine as the run's landing page."""

from __future__ import annotations

import json

import pytest

from digiops.errors import ArchiveError
from digiops.summary import collect, headline_numbers, section_html, summary_html
from digiops.summary.collect import FIGURES
from tests.summary.summary_fixtures import CLIENT_NAME, finish, make_run


def test_collect_reads_headline_figures_from_the_outputs(tmp_path):
    run = make_run(tmp_path)

    summary = collect(run)

    assert summary.name("en") == CLIENT_NAME["en"] and summary.language == "zh"
    assert summary.maturity.overall_level == 2.3
    assert [g.dimension for g in summary.maturity.gaps][:2] == ["data_assetization", "process_digitalization"]
    assert (summary.data.records, summary.data.customers, summary.data.quarantined) == (100, 40, 3)
    assert summary.data.worst[0].source == "pos_members" and summary.data.worst[0].value == pytest.approx(0.65)
    assert summary.labels.customers == 40 and {s.segment for s in summary.labels.segments} == {
        "champions", "loyal", "new", "hibernating"}
    assert sum(s.customers for s in summary.labels.segments) == 40
    assert (summary.labels.tags, summary.labels.coverage) == (2, 14 / 40)  # as the labels stage recorded them
    gmv = next(line for line in summary.kpi.lines if line.kpi == "gmv")
    assert summary.kpi.review_period == "2026-03" and gmv.actual == pytest.approx(1_100_000.0)
    assert summary.kpi.driver.item == "traffic" and summary.kpi.driver.contribution == 70_000.0
    assert summary.kpi.runrate.projected_attainment == pytest.approx(1_120_000 / 1_200_000)
    assert [p.initiative_id for p in summary.pilots] == ["DA-1"]
    assert summary.previous_run is None and summary.changes is None


def test_sections_of_failed_skipped_and_absent_stages_are_plain_sentences(tmp_path):
    run = make_run(tmp_path, failed=("merge",), skipped=("kpi",), absent=("maturity",))

    summary = collect(run)
    page = summary_html(summary, "en")

    assert summary.data is None and summary.kpi is None and summary.maturity is None and summary.pilots is None
    assert "Data cleaning and customer merge failed (ValueError: bad &lt;input&gt;); see its report." in page
    assert "KPI review was skipped: needs stage &#x27;merge&#x27;, which failed." in page
    assert "Digital maturity was not part of this run." in page
    assert summary.labels is not None  # labels ran in this fake run, its section still shows


def test_a_stage_that_succeeded_without_readable_outputs_says_so(tmp_path):
    run = make_run(tmp_path)
    (run / "outputs" / "labels" / "tags.parquet").write_bytes(b"not parquet")

    summary = collect(run)

    assert summary.labels is None
    assert "succeeded but its outputs cannot be read" in summary.note("labels", "en")


def test_changes_since_the_previous_run(tmp_path):
    previous = make_run(tmp_path, "20260301T000000-000000-aaaaaa", scale=0.8, shift=1)
    run = make_run(tmp_path)

    summary = collect(run, previous)

    assert summary.previous_run == previous.name
    changed = {c.figure: c for c in summary.changes}
    assert changed["kpi.gmv.attainment"].before == pytest.approx(0.8)
    assert changed["kpi.gmv.attainment"].after == pytest.approx(1.0)
    assert "merge.customers" not in changed  # unchanged figures are not listed
    assert "Compared with the previous run" in summary_html(summary, "en")


def test_client_text_is_escaped_and_the_page_is_bilingual(tmp_path):
    run = make_run(tmp_path)
    summary = collect(run)

    zh, en = summary_html(summary, "zh"), summary_html(summary, "en")

    assert "<script>" not in zh and "<img src=x" not in zh
    assert "数字化成熟度与最大差距" in zh and "Digital maturity and the largest gaps" in en
    assert 'href="kpi.html"' in en and len(section_html(summary)) == 9


def test_a_folder_without_manifest_is_refused_with_a_fix(tmp_path):
    with pytest.raises(ArchiveError, match="not a run folder"):
        collect(tmp_path)


def test_summary_stage_is_the_landing_page_of_a_real_run(client_dir, tmp_path):
    from digiops.runner import run_engagement

    text = (client_dir / "engagement.yaml").read_text(encoding="utf-8")
    (client_dir / "engagement.yaml").write_text(text.replace("stages: [inventory]", "stages: [inventory, summary]"),
                                                encoding="utf-8")

    result = run_engagement(client_dir, out=tmp_path / "reports", log=lambda _: None)

    assert result.status == "succeeded", result.stages
    index = (result.run_dir / "index.html").read_text(encoding="utf-8")
    assert index == (result.run_dir / "summary.html").read_text(encoding="utf-8")
    assert "管理层摘要" in index and "示例客户" in index
    assert "本次运行未包含「KPI 复盘」阶段。" in index and 'href="inventory.html"' in index
    saved = json.loads((result.run_dir / "outputs" / "summary" / "summary.json").read_text(encoding="utf-8"))
    assert saved["client"] == "acme" and saved["kpi"] is None


def test_trends_show_each_headline_figure_across_the_clients_successful_reviews(tmp_path):
    earlier = [make_run(tmp_path, f"2026030{day}T000000-000000-aaaaaa", scale=scale)
               for day, scale in ((1, 0.7), (2, 0.8), (3, 0.9))]
    for run, status in zip(earlier, ("succeeded", "failed", "succeeded")):
        finish(run, status)
        collected = collect(run, with_trends=False)
        (run / "outputs" / "summary").mkdir(parents=True, exist_ok=True)
        (run / "outputs" / "summary" / FIGURES).write_text(json.dumps(headline_numbers(collected)))

    summary = collect(make_run(tmp_path))
    gmv = next(t for t in summary.trends if t.figure == "kpi.gmv.attainment")

    assert list(gmv.values) == [earlier[0].name, earlier[2].name, summary.run_id]  # the failed review is left out
    assert [round(v, 2) for v in gmv.values.values()] == [0.7, 0.9, 1.0]
    assert any(t.figure.startswith("labels.segment.") for t in summary.trends)
    page = summary_html(summary, "en")
    table = page.split("Across reviews")[1]
    assert "2026-03-01 00:00" in table and table.index("attainment") < table.index("Segment size: ")  # KPIs first
    assert "Segment size: champions" not in table  # segments by their names, not their codes
    assert "first successful run with a summary" in summary_html(collect(earlier[0]), "en")
