"""Fixtures of the merge tests: small engagements written to a temporary client folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from people import make_people  # noqa: E402

from digiops.engagement import load_engagement  # noqa: E402


def write_engagement(folder: Path, sources: dict[str, tuple[pd.DataFrame, dict]], merge: dict | None = None):
    """Write each frame as ``raw/<name>.csv`` (UTF-8) and an engagement file mapping its columns 1:1 (or as given
    in the spec: keys ``kind``, ``columns``, ``id_column`` and any other Source field)."""
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    spec_sources = {}
    for name, (frame, spec) in sources.items():
        path = folder / "raw" / f"{name}.csv"
        if "_bytes" in spec:
            path.write_bytes(spec["_bytes"])
        else:
            frame.to_csv(path, index=False, encoding="utf-8")
        entry = {"path": f"raw/{name}.csv", **{k: v for k, v in spec.items() if not k.startswith("_")}}
        spec_sources[name] = entry
    document = {"client": {"id": "fixture", "name_zh": "测试", "name_en": "Fixture"}, "engagement": "test",
                "period": {"start": "2025-01-01", "end": "2026-10-31"}, "stages": ["merge"],
                "sources": spec_sources, "merge": {"as_of": "2026-11-01", **(merge or {})}}
    (folder / "engagement.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return load_engagement(folder / "engagement.yaml")


def person_sources(n: int = 150, seed: int = 7):
    frames, truth = make_people(n, seed)
    mapping = {"record_id": "member_id", "full_name": "full_name", "phone": "phone", "birth_date": "birth_date",
               "address": "address", "email": "email"}
    sources = {name: (frame.drop(columns=["source", "_row"]),
                      {"kind": "customers", "id_column": "record_id", "columns": mapping})
               for name, frame in frames.items()}
    return sources, truth


@pytest.fixture(scope="session")
def people_engagement(tmp_path_factory):
    sources, truth = person_sources()
    folder = tmp_path_factory.mktemp("people")
    return write_engagement(folder, sources), truth
