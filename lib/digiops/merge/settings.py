"""The `merge:` section of the engagement file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MergeSettings(BaseModel):
    """Settings of the merge stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")
