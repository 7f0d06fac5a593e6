"""The dashboard's widgets on a run folder: tabs, selectors that re-render their own views, both languages, the
sentence of a stage without outputs, and no ``nan`` / ``None`` in any view, on the small fake run and on a run whose
KPI tables the real kpi computation made."""

from __future__ import annotations

import json
import re

import pytest

from digiops import paths
from digiops.dashboard import Dashboard, load_run
from digiops.kpi.review import build_review
from digiops.kpi.tree import load_tree
from tests.kpi import kpi_fixtures as fx
from tests.summary.summary_fixtures import CHANNEL, PHONE, make_run

VIEWS = ("header", "kpi_out", "tree_out", "trend_out", "bridge_out", "runrate_out", "funnel_out", "actions_out",
         "maturity_out", "roadmap_out", "segments_out", "_sample", "quality_out", "trends_out")
SELECTORS = ("kpi", "unit", "period", "funnel_period", "channel", "department", "segment", "phase")
SHOWN_MISSING = re.compile(r"\bnan\b|\bNaN\b|\bNone\b|&lt;NA&gt;|\{'")


def demo_like_run(tmp_path):
    """The fake run with the kpi outputs the kpi stage computes from the fixture client (demo tree, four months of
    orders, targets, funnel events and the action log)."""
    run = make_run(tmp_path)
    tree = load_tree(paths.demo_client_dir() / "kpi_tree.yaml", known_units={"all", "online", "华东", "华南",
                                                                            *fx.STORES})
    traffic = fx.traffic_rows()
    review = build_review(tree, fx.orders_frame(), stores=fx.stores_frame(), targets=fx.target_rows(),
                          traffic=traffic, file_sources={"traffic": traffic}, funnel_events=fx.funnel_rows(),
                          actions=fx.action_rows(), customers=fx.customers_frame())
    folder = run / "outputs" / "kpi"
    for name, table in review.tables().items():
        table.to_parquet(folder / f"{name}.parquet", index=False)
    (folder / "kpi_names.json").write_text(json.dumps(review.kpi_names(), ensure_ascii=False), encoding="utf-8")
    return run


def walk(board: Dashboard) -> int:
    """Choose every option of every selector in turn; check every view after each choice. Returns the checks."""
    checked = 0

    def check(where: object) -> None:
        nonlocal checked
        for name in VIEWS:
            html = getattr(board, name).value
            found = SHOWN_MISSING.search(html)
            assert not found, (where, name, html[max(found.start() - 120, 0):found.end() + 40])
            checked += 1

    check("first render")
    for selector in SELECTORS:
        control = getattr(board, selector)
        for _, value in list(control.options):
            control.value = value
            check((selector, value))
    return checked


def test_dashboard_widgets_change_with_selectors_and_language(tmp_path):
    board = Dashboard(load_run(make_run(tmp_path)))

    before = board.maturity_out.value
    board.department.value = "IT部"
    board.unit.value = "华东"
    board.set_language("en")

    assert board.maturity_out.value != before and "Decision intelligence" in board.maturity_out.value
    assert "550,000" in board.kpi_out.value and "Attainment" in board.kpi_out.value
    assert "&lt;b&gt;Retail" in board.header.value and "<b>Retail" not in board.header.value
    assert PHONE not in board._sample.value and "138****5678" in board._sample.value
    assert "张三丰" not in board._sample.value


def test_stages_without_outputs_show_a_sentence(tmp_path):
    board = Dashboard(load_run(make_run(tmp_path, failed=("kpi",), absent=("labels",))), "en")

    assert "KPI review failed" in board.kpi_out.value
    assert "KPI review failed" in board.funnel_out.value and "KPI review failed" in board.actions_out.value
    assert "Tag system was not part of this run." in board.segments_out.value
    assert "Data assetization" in board.maturity_out.value


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("made", [make_run, demo_like_run], ids=["small run", "demo-like kpi tables"])
def test_every_tab_renders_every_choice_without_nan_or_none(tmp_path, language, made):
    board = Dashboard(load_run(made(tmp_path)), language)

    titles = [board.tabs.get_title(i) for i in range(len(board.tabs.children))]
    checked = walk(board)

    assert titles == (["KPI", "漏斗", "行动", "成熟度", "客户分群", "数据质量", "历次趋势"] if language == "zh" else
                      ["KPI", "Funnel", "Actions", "Maturity", "Segments", "Data quality", "Across reviews"])
    assert checked > 100 and len(board.unit.options) >= 5 and len(board.channel.options) >= 3
    for name in VIEWS:  # every view shows something: figures or the sentence saying why not
        assert getattr(board, name).value, name
    board.kpi.value, board.unit.value, board.channel.value = "gmv", "all", "all"
    assert "<svg" in board.trend_out.value and "<svg" in board.bridge_out.value and "<svg" in board.funnel_out.value
    assert "dg-tree" in board.tree_out.value and "dg-pace" in board.runrate_out.value
    assert ("行动" if language == "zh" else "actions") in board.actions_out.value


def test_the_demo_like_run_shows_the_review_month_and_the_action_log(tmp_path):
    board = Dashboard(load_run(demo_like_run(tmp_path)), "en")

    assert board.period.value == "2026-03" and board.kpi.value == "gmv"
    assert board.kpi.options[0] == ("GMV", "gmv")  # named, in the tree's order
    assert "2026-02 → 2026-03 · by factor" in board.bridge_out.value
    assert "2 actions, 1 overdue" in board.actions_out.value and "李**" in board.actions_out.value
    assert "2026-04: 15 days before 2026-04-16, 15 days left" in board.runrate_out.value


def test_each_selector_re_renders_only_its_views(tmp_path):
    board = Dashboard(load_run(make_run(tmp_path)), "en")
    expected = {"kpi": {"trend_out", "bridge_out", "runrate_out"},
                "unit": {"kpi_out", "tree_out", "trend_out", "bridge_out", "runrate_out"},
                "period": {"kpi_out", "tree_out", "trend_out"}, "funnel_period": {"funnel_out"},
                "channel": {"funnel_out"}, "department": {"maturity_out"}, "segment": {"_sample"},
                "phase": {"quality_out"}}
    choices = {"kpi": "traffic", "unit": "华东", "period": "2026-02", "funnel_period": "2026-02",
               "channel": CHANNEL, "department": "IT部", "segment": "loyal", "phase": "before"}

    for selector, value in choices.items():
        for name in VIEWS:
            getattr(board, name).value = ""  # a view rendered again is not empty
        getattr(board, selector).value = value

        assert {name for name in VIEWS if getattr(board, name).value} == expected[selector], selector


def test_a_language_switch_keeps_every_choice_and_names_the_options(tmp_path):
    board = Dashboard(load_run(make_run(tmp_path)), "zh")
    board.kpi.value, board.unit.value, board.channel.value, board.phase.value = "traffic", "华东", "all", "before"

    board.set_language("en")

    assert (board.kpi.value, board.unit.value, board.channel.value, board.phase.value) == (
        "traffic", "华东", "all", "before")
    assert board.language_toggle.value == "en"
    assert board.kpi.label == "Traffic" and dict(board.unit.options)["Company"] == "all"
    assert board.channel.label == "all channels" and board.department.options[0] == ("Company", "__company__")
    assert "Traffic · 华东" in board.trend_out.value and "Cleaning" in [w.value for w, _, _ in board._labels]
    assert (CHANNEL, CHANNEL) in board.channel.options  # a client's channel name, escaped where it is shown
    board.channel.value = CHANNEL
    assert "<b>抖音</b>" not in board.funnel_out.value


def test_a_run_written_before_the_tree_and_actions_were_recorded_says_what_to_do(tmp_path):
    run = make_run(tmp_path)
    for name in ("tree.parquet", "actions.parquet"):
        (run / "outputs" / "kpi" / name).unlink()

    board = Dashboard(load_run(run), "en")

    for view in (board.tree_out.value, board.actions_out.value):
        assert "run the stage again to see this view" in view
    assert "1,100,000" in board.kpi_out.value  # the rest still shows


def test_only_the_columns_the_views_show_are_read(tmp_path):
    data = load_run(make_run(tmp_path))

    assert list(data.tags.columns) == ["customer_id", "rfm_segment", "monetary"]  # not the tag matrix
    assert set(data.customers.columns) == {"customer_id", "full_name", "phone", "email", "city"}
