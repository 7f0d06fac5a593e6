"""The labels report names the quality tables' codes in the report language."""

from __future__ import annotations

import pytest

from digiops.labels.report import coverage_view, indicator_names, segment_view
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
