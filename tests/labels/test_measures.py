"""Tag quality tables hold codes and numbers: the same table whatever the engagement's language."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from digiops.labels.catalog import Catalog
from digiops.labels.features import Segment
from digiops.labels.measures import COVERAGE_COLUMNS, coverage, indicators, segment_summary

CATALOG = Catalog(tags=[
    {"id": "vip", "name": {"zh": "会员", "en": "Member"}, "category": "value", "definition": "three orders or more",
     "rule": "frequency >= 3"},
    {"id": "stage", "name": {"zh": "生命周期", "en": "Lifecycle"}, "category": "lifecycle",
     "definition": "days since the last order",
     "values": [{"value": "active", "name": {"zh": "活跃", "en": "Active"}, "rule": "recency_days <= 30"},
                {"value": "dormant", "name": {"zh": "沉默", "en": "Dormant"}, "rule": "recency_days > 30"}]},
])
TAGS = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"], "vip": [True, None, False, True],
                     "stage": ["active", "dormant", "active", None], "rfm_segment": ["champions", "at_risk", None,
                                                                                     "champions"],
                     "monetary": [300.0, 50.0, None, 100.0], "recency_days": [3, 60, None, 10],
                     "frequency": [5, 1, 0, 3]})
SEGMENTS = [Segment("champions", "重要价值", "Champions", (5,), (5,)), Segment("at_risk", "流失预警", "At risk", (1,), (1,))]


@pytest.mark.parametrize("function", [coverage, indicators, segment_summary])
def test_quality_tables_take_no_language(function):
    assert "language" not in inspect.signature(function).parameters


def test_coverage_counts_tags_and_values_by_code():
    # Act
    cover = coverage(TAGS, CATALOG)
    # Assert: codes and numbers only (a false flag holds no tag)
    assert list(cover.columns) == COVERAGE_COLUMNS
    assert cover[["tag_id", "value", "customers"]].values.tolist() == [
        ["vip", "*", 2], ["stage", "*", 3], ["stage", "active", 2], ["stage", "dormant", 1]]
    assert cover["share"].tolist() == [0.5, 0.75, 0.5, 0.25]


def test_indicators_are_named_by_tag_and_value_codes():
    flags = indicators(TAGS, CATALOG)

    assert set(flags.columns) == {"vip", "stage=active", "stage=dormant"}
    assert flags["stage=active"].tolist() == [True, False, True, False]


def test_segment_summary_is_by_segment_id():
    summary = segment_summary(TAGS, SEGMENTS)

    assert "name" not in summary.columns
    assert summary[["segment", "customers"]].values.tolist() == [["champions", 2], ["at_risk", 1]]
