"""The `kpi:` section of the engagement file."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class KpiSettings(BaseModel):
    """Settings of the kpi stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")
