"""The KPI report as a reader sees it: headings and tables in the page language, no ``nan``, no codes on a Chinese
page, KPI tree labels that fit their boxes."""

from __future__ import annotations

from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from digiops.charts import setup_charts  # noqa: E402
from digiops.kpi.charts import draw_tree, format_value, wrap_label  # noqa: E402
from digiops.context import escaped_styler  # noqa: E402
from digiops.kpi.report import (action_table, changes_table, funnel_table, mix_table, runrate_table,  # noqa: E402
                                status_name, status_style)
from digiops.text import STATUS_COLOURS  # noqa: E402
from digiops.kpi.tree import parse_tree  # noqa: E402

TREE = parse_tree({"strategic_goals": [{"id": "growth", "name_zh": "全渠道销售增长与会员经营", "name_en":
                                        "Omni-channel sales growth and membership"}],
                   "kpis": [{"id": "gmv", "name_zh": "成交总额", "name_en": "Gross merchandise value", "goal": "growth",
                             "combine": "product", "children": ["traffic", "conversion_rate"]},
                            {"id": "traffic", "name_zh": "客流（访客数）", "name_en": "Traffic (visitors)"},
                            {"id": "conversion_rate", "name_zh": "转化率", "name_en": "Conversion rate",
                             "measure": "%"}]}, "t.yaml")


def test_a_status_cell_is_coloured_by_its_status_and_nothing_else_is():
    frame = pd.DataFrame({"指标": ["成交总额", "转化率"], "全部": ["31.0万 / 36.0万 ■", "5.0% / 5.1% ▲"],
                          "状态": [status_name("green", "zh"), status_name("none", "zh")]})

    html = escaped_styler(frame.style.map(status_style)).to_html()

    styles = [status_style(cell) for cell in frame.to_numpy().ravel()]  # row by row
    assert styles[0] == styles[3] == styles[5] == ""  # names and "– 无目标"
    red, green, amber = styles[1], styles[2], styles[4]
    assert len({red, green, amber}) == 3 and all(s.startswith("background-color: #") for s in (red, green, amber))
    assert red != f"background-color: {STATUS_COLOURS['red']}"  # a tint: black text stays readable
    assert red in html and "■" in html  # the mark stays text, the colour is CSS


def test_values_read_in_the_page_language():
    assert format_value(309_672.0, "CNY", language="zh") == "31.0万"
    assert format_value(309_672.0, "CNY", language="en") == "309.7k"  # no 万 on an English page
    assert format_value(np.nan, "CNY", language="en") == "–"


def test_changes_table_shows_no_nan_and_words_the_whole_business():
    changes = pd.DataFrame({"kpi": ["gmv", "conversion_rate"], "level": ["all", "region"], "unit": ["all", "华东"],
                            "period_previous": ["2026-08", "2026-08"], "status_previous": ["red", "none"],
                            "period": ["2026-09", "2026-09"], "status": ["amber", "none"],
                            "status_change": ["better", "n/a"], "actual_previous": [350_000.0, np.nan],
                            "actual": [309_672.0, np.nan], "actual_change": [-40_328.0, np.nan]})
    review = SimpleNamespace(tree=TREE, changes=changes)

    table = changes_table(review, "zh")

    cells = table.astype(str).to_numpy().ravel().tolist()
    assert not {"nan", "None", "NaN", "<NA>"} & set(cells)
    assert table["单元"].tolist() == ["全部", "华东"]
    assert table["本次实际"].tolist() == ["31.0万", "–"]


def test_action_table_names_the_kpi_without_its_code_and_heads_every_column():
    actions = pd.DataFrame({"action_id": ["A01"], "action": ["社群拉新"], "owner": ["华南大区经理 梁小明"],
                            "kpi": ["traffic"], "due": ["2026-09-30"], "status": ["已完成"], "overdue": [True],
                            "period_from": ["2026-08"], "period_to": ["2026-09"], "value_from": [187_000.0],
                            "value_to": [166_000.0], "improved": [False]})

    table = action_table(SimpleNamespace(tree=TREE, actions=actions), "zh")

    assert table["KPI"].tolist() == ["客流（访客数）"]  # not "客流（访客数） (traffic)"
    assert all(table.columns) and table["逾期"].tolist() == ["逾期"]
    assert "梁小明" not in table.to_string()


def test_funnel_and_runrate_tables_have_no_english_codes_on_a_chinese_page():
    funnel = pd.DataFrame({"period": ["2026-09"] * 2, "channel": ["all"] * 2, "step": [1, 2],
                           "stage": ["visit", "add_to_cart"], "visitors": [100, 30], "step_conversion": [1.0, 0.3],
                           "overall_conversion": [1.0, 0.3], "drop_off": [0, 70], "drop_off_rate": [0.0, 0.7]})
    runrate = pd.DataFrame({"kpi": ["gmv", "gmv", "gmv"], "level": ["all", "region", "store"],
                            "unit": ["all", "华东", "S01"], "period": ["2026-10"] * 3, "as_of": ["2026-10-16"] * 3,
                            "days_elapsed": [15] * 3, "days_left": [16] * 3, "actual_to_date": [100.0] * 3,
                            "average_daily": [6.7] * 3, "projection": [206.7] * 3, "target": [300.0, np.nan, np.nan],
                            "gap": [200.0, np.nan, np.nan], "required_daily": [12.5, np.nan, np.nan],
                            "projected_attainment": [0.69, np.nan, np.nan]})

    steps = funnel_table(funnel, "zh")
    rates = runrate_table(SimpleNamespace(tree=TREE, runrate=runrate), "zh")

    assert steps["阶段"].tolist() == ["访问", "加购"] and steps["渠道"].tolist() == ["全部", "全部"]
    assert rates["指标"].tolist() == ["成交总额", "成交总额"] and rates["层级"].tolist() == ["全部", "大区"]
    for table in (steps, rates):
        assert all(not c.isascii() for c in table.columns)


def test_mix_table_shows_each_kpi_in_its_measure_with_words_for_the_effects():
    variance = pd.DataFrame({"kpi": ["conversion_rate", "conversion_rate"], "breakdown": ["region_mix"] * 2,
                             "item": ["华东", "华东"], "effect": ["inner", "mix"], "contribution": [-0.0017, 0.0001]})

    table = mix_table(SimpleNamespace(tree=TREE, variance=variance), "zh")

    assert list(table.columns) == ["指标", "大区", "自身变化", "结构变化", "合计"]
    assert table.iloc[0].tolist() == ["转化率", "华东", "-0.17%", "+0.01%", "-0.16%"]


def test_wrap_label_fits_a_width_in_half_width_units():
    assert wrap_label("Omni-channel sales growth", 14).split("\n") == ["Omni-channel", "sales growth"]
    assert all(len(line) <= 5 for line in wrap_label("全渠道销售增长与会员经营", 10).split("\n"))


@pytest.mark.parametrize("language", ["zh", "en"])
def test_kpi_tree_labels_fit_their_boxes_and_are_readable(language):
    attainment = pd.DataFrame({"kpi": ["gmv", "traffic", "conversion_rate"], "unit": ["all"] * 3,
                               "period": ["2026-09"] * 3, "status": ["red", "amber", "green"],
                               "actual": [309_672.0, 165_636.0, 0.05], "attainment": [0.86, 0.92, 1.01]})
    setup_charts()  # the CJK font the reports use, so widths are measured as drawn
    # Act
    figure = draw_tree(TREE, attainment, "2026-09", language=language)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    ax = figure.axes[0]
    # Assert: every box's text lies inside its box (no "mnichannel sales growt"), at a readable size
    boxes = [p.get_window_extent(renderer) for p in ax.patches]
    texts = [t for t in ax.texts]
    assert len(texts) == len(boxes) == 4
    for text, box in zip(texts, boxes, strict=True):
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1 and box.y0 <= extent.y0 and extent.y1 <= box.y1, \
            text.get_text()
        assert text.get_fontsize() >= 10
