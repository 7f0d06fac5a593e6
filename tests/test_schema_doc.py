"""docs/engagement.md documents every field of the engagement file and every canonical field, and is current with the
code; docs/catalog-and-tree.md documents the tag catalog and the KPI tree whole."""

from __future__ import annotations

import re
from pathlib import Path

from digiops.schema_doc import markdown

DOC = Path(__file__).parents[1] / "docs" / "engagement.md"


def test_engagement_doc_is_current():
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/engagement.md is stale: run `digiops schema --markdown > docs/engagement.md`")


def test_every_field_has_a_description():
    undocumented = [line for line in markdown().splitlines()
                    if line.startswith("| `") and line.rstrip().endswith("|  |")]

    assert undocumented == []


def _canonical_section(kind: str) -> str:
    text = DOC.read_text(encoding="utf-8").split("## Canonical fields by kind of source", 1)[1]
    return text.split(f"### `{kind}`", 1)[1].split("\n#", 1)[0]


def test_every_canonical_field_of_every_kind_is_documented_with_its_meaning():
    from digiops.canonical import CANONICAL_FIELDS

    missing = [(kind, field) for kind, fields in CANONICAL_FIELDS.items() for field in fields
               if not re.search(rf"^\| `{field}` \| [^|]*\w[^|]* \|$", _canonical_section(kind), re.MULTILINE)]

    assert missing == []


CATALOG_AND_TREE = DOC.parent / "catalog-and-tree.md"


def test_the_catalog_and_tree_formats_are_documented_whole():
    from digiops.kpi.actuals import METRICS
    from digiops.kpi.tree import TREE_KEYS, DataSource, KpiNode, StrategicGoal
    from digiops.labels.catalog import Catalog, Tag, TagValue
    from digiops.labels.features import FEATURE_VIEW_FIELDS

    text = CATALOG_AND_TREE.read_text(encoding="utf-8")
    keys = {name for model in (Catalog, Tag, TagValue, StrategicGoal, KpiNode, DataSource)
            for name, field in model.model_fields.items() if not field.exclude}
    named = [*keys, *FEATURE_VIEW_FIELDS, *METRICS, *TREE_KEYS]

    assert [name for name in named if f"`{name}`" not in text] == []


def test_the_catalog_and_tree_doc_names_no_file_outside_the_repository():
    text = CATALOG_AND_TREE.read_text(encoding="utf-8")
    root = DOC.parents[1]

    linked = re.findall(r"\]\(([^)#]+)\)", text)
    named = re.findall(r"`((?:lib|templates|data|docs)/[^`*<>]+?)`", text) + re.findall(r"\b(docs/[\w.-]+\.md)", text)

    assert named and [p for p in linked if not (CATALOG_AND_TREE.parent / p).exists()] == []
    assert [p for p in named if not (root / p).exists()] == []
    assert "DOMAIN.md" not in text and "seed 0" not in text  # design notes that are not in the repository
