"""Catalog validation: each error names the tag and the fix."""

from __future__ import annotations

import pytest

from digiops.errors import CatalogError
from digiops.labels.catalog import load_catalog, parse_catalog
from digiops.labels.evaluate import check_catalog
from digiops.paths import demo_client_dir

TAG = """
  - id: {id}
    name: {{zh: 标签, en: Tag}}
    category: {category}
    definition: 口径
    {owner}
    {body}
"""


def catalog_text(*tags: dict) -> str:
    parts = []
    for tag in tags:
        parts.append(TAG.format(id=tag.get("id", "t1"), category=tag.get("category", "behaviour"),
                                owner=tag.get("owner", "owner: 会员运营部"), body=tag["body"]))
    return "tags:" + "".join(parts)


def check(text: str) -> None:
    check_catalog(parse_catalog(text, "cat.yaml"))


def test_demo_catalog_is_valid_and_covers_every_category():
    catalog = load_catalog(demo_client_dir() / "tag_catalog.yaml")
    check_catalog(catalog)
    assert len(catalog.tags) >= 30
    assert {t.category for t in catalog.tags} == {"basic", "channel", "behaviour", "consumption", "lifecycle",
                                                  "value", "predictive"}


def test_rule_naming_a_missing_field():
    with pytest.raises(CatalogError) as err:
        check(catalog_text({"body": 'rule: "recency_dayz <= 30"'}))
    with pytest.raises(CatalogError) as far:
        check(catalog_text({"body": 'rule: "loyalty_points > 3"'}))
    assert str(err.value) == ("cat.yaml: tag 't1': rule `recency_dayz <= 30` names field 'recency_dayz', which "
                              "does not exist (fix: did you mean `recency_days`?)")
    assert str(far.value).startswith("cat.yaml: tag 't1': rule `loyalty_points > 3` names field 'loyalty_points', "
                                     "which does not exist (fix: use one of the feature fields: abandoned_carts, age, avg_interval_days")


def test_two_tags_with_one_id():
    text = catalog_text({"id": "dup", "body": 'rule: "frequency >= 2"'}, {"id": "dup", "body": 'rule: "frequency >= 3"'})
    with pytest.raises(CatalogError) as err:
        check(text)
    assert str(err.value) == ("cat.yaml: tag 'dup': the id is used by tags #1 and #2 (fix: give each tag its own id "
                              "(ids are the column names of the tag matrix))")


def test_statically_overlapping_values():
    body = """values:
      - {value: active, name: {zh: 活跃, en: Active}, rule: "recency_days <= 30"}
      - {value: dormant, name: {zh: 沉默, en: Dormant}, rule: "recency_days >= 30 AND recency_days <= 90"}"""
    with pytest.raises(CatalogError) as err:
        check(catalog_text({"id": "stage", "body": body}))
    assert str(err.value) == ("cat.yaml: tag 'stage': values 'active' (`recency_days <= 30`) and 'dormant' "
                              "(`recency_days >= 30 AND recency_days <= 90`) overlap by definition (fix: make the "
                              "value rules mutually exclusive (e.g. make one bound strict: `<` instead of `<=`))")


def test_missing_owner():
    with pytest.raises(CatalogError) as err:
        check(catalog_text({"id": "orphan", "owner": "", "body": 'rule: "frequency >= 2"'}))
    assert str(err.value) == ("cat.yaml: tag 'orphan': has no owner (fix: add `owner:` — the department or person "
                              "answerable for its definition)")


def test_rule_outside_the_portable_subset():
    with pytest.raises(CatalogError) as err:
        check(catalog_text({"body": "rule: \"regexp_matches(province, '上海')\""}))
    assert "outside the portable SQL subset" in str(err.value) and "tag 't1'" in str(err.value)


def test_unknown_category_lists_the_allowed_ones():
    with pytest.raises(CatalogError) as err:
        check(catalog_text({"category": "vibes", "body": 'rule: "frequency >= 2"'}))
    assert str(err.value).startswith("cat.yaml: tag 't1': category:")
    assert "fix: use one of: basic, channel, behaviour, consumption, lifecycle, value, predictive" in str(err.value)


def test_rule_and_values_together():
    body = 'rule: "frequency >= 2"\n    values: [{value: a, name: {zh: a, en: a}, rule: "frequency = 1"}]'
    with pytest.raises(CatalogError, match="tag 't1': needs either one `rule` or a list of `values`"):
        check(catalog_text({"body": body}))


def test_tag_shadowing_an_rfm_column():
    with pytest.raises(CatalogError, match="tag 'rfm_r': the id 'rfm_r' is a field the engine computes"):
        check(catalog_text({"id": "rfm_r", "body": 'rule: "frequency >= 2"'}))
