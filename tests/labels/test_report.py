"""The labels report names the quality tables' codes in the report language."""

from __future__ import annotations

import pandas as pd
import pytest

from digiops.labels.catalog import Catalog
from digiops.labels.design import candidate_tags
from digiops.labels.report import (candidate_table, catalog_style, catalog_table, conflicts_table, coverage_table,
                                   coverage_view, indicator_names, segment_table, segment_view)
from digiops.labels.measures import coverage, low_coverage, segment_summary
from tests.labels.test_measures import CATALOG, SEGMENTS, TAGS


@pytest.mark.parametrize("language, tags, values", [
    ("zh", ["会员", "生命周期", "生命周期", "生命周期"], ["", "", "活跃", "沉默"]),
    ("en", ["Member", "Lifecycle", "Lifecycle", "Lifecycle"], ["", "", "Active", "Dormant"]),
])
def test_coverage_view_names_tags_and_values(language, tags, values):
    # Act
    view = coverage_view(coverage(TAGS, CATALOG), CATALOG, language=language)
    # Assert: the names beside the codes, where the report showed them before
    assert list(view.columns) == ["tag_id", "tag", "category", "value", "value_name", "customers", "share"]
    assert view["tag"].tolist() == tags and view["value_name"].tolist() == values


def test_coverage_view_of_rare_tags_and_of_values_the_catalog_does_not_declare():
    cover = coverage(TAGS, CATALOG)
    rare = coverage_view(low_coverage(cover, 0.3), CATALOG, language="en")
    observed = coverage_view(cover.assign(tag_id="city", value="上海"), CATALOG, language="zh")

    assert rare[["tag", "value_name"]].values.tolist() == [["Lifecycle", "Dormant"]]
    assert set(observed["tag"]) == {"city"} and set(observed["value_name"]) == {"上海"}  # unknown: shown as is


def test_segment_view_names_each_segment():
    summary = segment_summary(TAGS, SEGMENTS)

    assert segment_view(summary, SEGMENTS, language="zh")["name"].tolist() == ["重要价值", "流失预警"]
    assert list(segment_view(summary, SEGMENTS, language="en").columns[:3]) == ["segment", "name", "cells"]


def test_indicator_names_in_both_languages():
    assert indicator_names(CATALOG, language="en") == {"vip": "Member", "stage": "Lifecycle",
                                                       "stage=active": "Lifecycle=Active",
                                                       "stage=dormant": "Lifecycle=Dormant"}
    assert indicator_names(CATALOG, language="zh")["stage=dormant"] == "生命周期=沉默"


# --- the report as a reader sees it: page language, complete tables, readable columns -----------------------


@pytest.mark.parametrize("language, refresh, value", [("zh", "每周", "活跃（active）：recency_days <= 30"),
                                                      ("en", "weekly", "Active (active): recency_days <= 30")])
def test_catalog_table_words_the_refresh_code_and_brackets_values_in_the_page_language(language, refresh, value):
    catalog = Catalog(tags=[{**tag.model_dump(), "refresh": "weekly"} for tag in CATALOG.tags])

    table = catalog_table(catalog, language)

    refresh_column, values_column = table.columns[7], table.columns[3]
    assert set(table[refresh_column]) == {refresh}
    assert value in " ".join(table[values_column])


def test_catalog_columns_of_chinese_text_do_not_wrap_one_character_per_line():
    html = catalog_style(catalog_table(CATALOG, "zh")).to_html()

    # the definition (running text) has a minimum width, the category (short words) stays on one line
    assert "min-width: 12em" in html and "white-space: nowrap" in html
    assert "<script" not in html


def test_candidate_table_is_complete_with_its_yaml_column():
    features = pd.DataFrame({"customer_id": [f"C{i}" for i in range(40)], "age": list(range(20, 60)),
                             "city": ["上海", "北京"] * 20, "recency_days": list(range(0, 400, 10))})
    candidates = candidate_tags(features)

    table = candidate_table(candidates, language="zh")

    assert len(table) == len(candidates) > 10  # no silent head(60)
    assert "yaml" in table.columns and table["yaml"].str.startswith("- {value:").all()
    assert set(table["类型"]) <= {"分位数区间", "头部取值", "最近购买窗口", "标记"}
    assert table["含义"].iloc[0] == "截至 as_of 的周岁"


@pytest.mark.parametrize("language, headers, whole", [("zh", ["标签", "取值", "客户数", "占比"], "（整个标签）"),
                                                      ("en", ["Tag", "Value", "Customers", "Share"], "(whole tag)")])
def test_coverage_table_has_headers_in_the_page_language(language, headers, whole):
    table = coverage_table(coverage_view(coverage(TAGS, CATALOG), CATALOG, language=language), language=language)

    assert list(table.columns) == headers
    assert table.iloc[0, 1] == whole and not table.isna().any().any()


def test_segment_table_shows_names_not_codes():
    table = segment_table(segment_view(segment_summary(TAGS, SEGMENTS), SEGMENTS, language="zh"), language="zh")

    assert table["分群"].tolist() == ["重要价值", "流失预警"]
    assert not {"champions", "at_risk"} & set(table.astype(str).to_numpy().ravel())
    assert all(not c.isascii() for c in table.columns if c != "R × F 格")


def test_conflicts_table_names_tag_and_values():
    conflicts = pd.DataFrame({"tag_id": ["stage"], "value_a": ["active"], "value_b": ["dormant"], "customers": [3]})

    assert conflicts_table(conflicts, CATALOG, language="zh").values.tolist() == [["生命周期", "活跃", "沉默", 3]]
