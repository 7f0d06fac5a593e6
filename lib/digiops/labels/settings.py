"""The `labels:` section of the engagement file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LabelSettings(BaseModel):
    """Settings of the labels stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")
