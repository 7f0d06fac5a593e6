"""Tag quality tables hold codes and numbers: the same table whatever the engagement's language."""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

from digiops.labels.catalog import Catalog
from digiops.labels.features import Segment
from digiops.labels.measures import (COVERAGE_COLUMNS, cooccurrence, coverage, indicators, migration,
                                     segment_summary, tagged_count)

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


def test_indicators_are_named_by_tag_and_value_codes_the_most_held_first():
    flags = indicators(TAGS, CATALOG)

    assert list(flags) == ["vip", "stage=active", "stage=dormant"]  # 2, 2 (catalog order), 1 holders


def test_cooccurrence_is_the_share_of_the_row_tags_holders_holding_the_column_tag():
    matrix = cooccurrence(TAGS, CATALOG)

    # vip: C1 (active), C4 (no stage); active: C1 (vip), C3 (a false flag: not vip); dormant: C2
    assert matrix.loc["vip", "stage=active"] == 0.5 and matrix.loc["stage=active", "vip"] == 0.5
    assert matrix.loc["stage=dormant", "vip"] == 0 and matrix.loc["vip", "vip"] == 1


def test_segment_summary_is_by_segment_id():
    summary = segment_summary(TAGS, SEGMENTS)

    assert "name" not in summary.columns
    assert summary[["segment", "customers"]].values.tolist() == [["champions", 2], ["at_risk", 1]]


VALUE_CATALOG = Catalog(tags=[
    {"id": "tier", "name": {"zh": "层级", "en": "Tier"}, "category": "value", "definition": "orders, capped at 3",
     "output": "value", "rule": "least(frequency, 3)"},
    {"id": "vip", "name": {"zh": "会员", "en": "Member"}, "category": "value", "definition": "three orders or more",
     "rule": "frequency >= 3"},
])


def test_a_value_tag_lists_its_observed_values_the_most_held_first_ties_by_value():
    tags = pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4", "C5"], "tier": pd.array([3, 1, 2, None, 1], dtype="Int64"),
                         "vip": [True, False, None, None, False]})

    cover = coverage(tags, VALUE_CATALOG)

    assert cover[["tag_id", "value", "customers"]].values.tolist() == [
        ["tier", "*", 4], ["tier", "1", 2], ["tier", "2", 1], ["tier", "3", 1], ["vip", "*", 1]]
    assert tagged_count(tags, VALUE_CATALOG) == 4  # C4 holds nothing; C2's false flag is no tag


def test_migration_reads_the_previous_runs_tag_file_and_counts_customers_who_came_and_went(tmp_path):
    previous = pd.DataFrame({"customer_id": ["C1", "C2", "C9"], "rfm_segment": ["at_risk", "champions", "at_risk"]})
    previous.to_parquet(tmp_path / "tags.parquet")

    matrix = migration(tmp_path / "tags.parquet", TAGS)

    assert matrix.loc["at_risk", "champions"] == 1 and matrix.loc["champions", "at_risk"] == 1
    assert matrix.loc["at_risk", "(none)"] == 1  # C9 is gone
    assert matrix.loc["(none)", "(none)"] == 1 and matrix.loc["(none)", "champions"] == 1  # C3 unscored, C4 new
    assert int(matrix.to_numpy().sum()) == 5
    assert migration(None, TAGS) is None
    previous.drop(columns="rfm_segment").to_parquet(tmp_path / "old.parquet")
    assert migration(tmp_path / "old.parquet", TAGS) is None  # a run from before RFM segments
