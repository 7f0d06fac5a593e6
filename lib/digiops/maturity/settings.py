"""The `maturity:` section of the engagement file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class MaturitySettings(BaseModel):
    """Settings of the maturity stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")
