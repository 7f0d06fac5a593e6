"""docs/engagement.md documents every field of the engagement file and is current with the code."""

from __future__ import annotations

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
