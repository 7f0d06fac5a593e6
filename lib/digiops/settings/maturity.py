"""The `maturity:` section of the engagement file.

Every key has a default, so an engagement file may leave the section out. Example::

    maturity:
      dimension_weights: {process_digitalization: 0.3, data_assetization: 0.3,
                          business_online: 0.2, decision_intelligence: 0.2}
      indicator_weight: 0.3
      targets: {data_assetization: 3.5}
      total_budget: 3000000

The maturity model's vocabulary (its dimensions, roadmap phases, budget categories and value-stream root causes,
seed 004) is defined here, where the section's keys are checked against it; the stage imports it from here.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: dimension key → (question-id prefix, name zh, name en), in report order (seed 004 §1.1.1).
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "process_digitalization": ("PD", "流程数字化", "Process digitalization"),
    "data_assetization": ("DA", "数据资产化", "Data assetization"),
    "business_online": ("BO", "业务在线化", "Business online-ization"),
    "decision_intelligence": ("DI", "决策智能化", "Decision intelligence"),
}
DIMENSION_KEYS = tuple(DIMENSIONS)

#: roadmap phase → (first month, last month, name zh, name en) (seed 004 §1.3.1).
PHASES: dict[str, tuple[int, int, str, str]] = {
    "pilot": (1, 6, "试点期", "Pilot"),
    "scale_up": (7, 18, "推广期", "Scale-up"),
    "deepening": (19, 36, "深化期", "Deepening"),
}
PHASE_KEYS = tuple(PHASES)

#: budget categories (seed 004 §1.3.2): technology (hardware, software, cloud), people (hiring, training),
#: operations (process improvement, data governance).
BUDGET_CATEGORIES = ("technology", "people", "operations")

#: value-stream root-cause categories (seed 004 §1.1.1 step 3).
ROOT_CAUSES: dict[str, tuple[str, str]] = {
    "technology": ("技术架构", "Technology"),
    "data_standards": ("数据标准", "Data standards"),
    "organisation": ("组织协同", "Organisation"),
    "unclassified": ("未归类", "Unclassified"),
}

Dimension = Literal[DIMENSION_KEYS]  # type: ignore[valid-type]
Phase = Literal[PHASE_KEYS]  # type: ignore[valid-type]
Category = Literal[BUDGET_CATEGORIES]  # type: ignore[valid-type]

DEFAULT_BUDGET_SPLIT: dict[str, dict[str, float]] = {
    # seed 004 §1.3.2: pilot technology ≈ 60 %; scale-up people and operations ≈ 30 % each.
    "pilot": {"technology": 0.6, "people": 0.2, "operations": 0.2},
    "scale_up": {"technology": 0.4, "people": 0.3, "operations": 0.3},
    "deepening": {"technology": 0.4, "people": 0.3, "operations": 0.3},
}
DEFAULT_PHASE_SHARE: dict[str, float] = {"pilot": 0.2, "scale_up": 0.45, "deepening": 0.35}
SHARE_TOLERANCE = 1e-6


class IndicatorSpec(BaseModel):
    """One quantitative indicator and its threshold table (levels 2–5)."""

    model_config = ConfigDict(extra="forbid")

    dimension: Dimension = Field(description="The dimension the indicator's level blends into")
    name_zh: str = Field("", description="Name in Chinese, shown in zh reports")
    name_en: str = Field("", description="Name in English, shown in en reports")
    unit: Literal["share", "count", "number"] = Field(
        "number", description="`share`: a value 0–1 (a cell `45%` reads as 0.45); `count` / `number`: as is")
    direction: Literal["higher", "lower"] = Field(
        "higher", description="`higher`: higher is better; `lower`: fewer is better (e.g. data silos)")
    thresholds: list[float] = Field(
        description="Four boundaries of levels 2, 3, 4, 5: ascending when higher is better, descending when lower")
    weight: float = Field(1.0, gt=0, description="Relative weight among the indicators of the same dimension")

    @model_validator(mode="after")
    def _ordered(self) -> "IndicatorSpec":
        t = self.thresholds
        if len(t) != 4:
            raise ValueError(f"thresholds needs 4 values (levels 2, 3, 4, 5), got {len(t)}")
        ascending = all(a < b for a, b in zip(t, t[1:]))
        descending = all(a > b for a, b in zip(t, t[1:]))
        if self.direction == "higher" and not ascending:
            raise ValueError(f"thresholds {t} must be strictly ascending when higher is better")
        if self.direction == "lower" and not descending:
            raise ValueError(f"thresholds {t} must be strictly descending when lower (fewer) is better")
        return self


#: Evidence indicators (issue 23, "evidence beside opinion"): what the run's own outputs say about each dimension,
#: measured by :mod:`digiops.maturity.evidence` and levelled by these threshold tables like the client's indicators
#: (boundaries of levels 2–5; a boundary belongs to the higher level). The dimension follows the question the
#: indicator answers in the default bank: DA1 one customer id (silos, overlap), DA3 and DA4 standards and quality,
#: DA5 the tag system, BO the share of business done online, DI6 reviews that close the loop.
DEFAULT_EVIDENCE: dict[str, IndicatorSpec] = {
    "data_silos": IndicatorSpec(
        dimension="data_assetization", name_zh="客户数据分散的系统数（数据孤岛）",
        name_en="Systems holding customer records (data silos)", unit="count", direction="lower",
        thresholds=[8, 5, 3, 1]),
    "cross_source_overlap": IndicatorSpec(
        dimension="data_assetization", name_zh="在两个及以上系统中出现的客户占比",
        name_en="Customers found in two or more systems", unit="share", thresholds=[0.2, 0.4, 0.6, 0.8]),
    "completeness_after_cleaning": IndicatorSpec(
        dimension="data_assetization", name_zh="清洗后字段完整率（可用值占比）",
        name_en="Completeness after cleaning (usable values)", unit="share", thresholds=[0.6, 0.75, 0.85, 0.95]),
    "conformity_before_cleaning": IndicatorSpec(
        dimension="data_assetization", name_zh="原始数据符合标准格式的占比",
        name_en="Raw values already in standard format", unit="share", thresholds=[0.5, 0.7, 0.85, 0.95]),
    "tag_coverage": IndicatorSpec(
        dimension="data_assetization", name_zh="标签平均覆盖率", name_en="Mean tag coverage", unit="share",
        thresholds=[0.3, 0.5, 0.7, 0.85]),
    "online_order_share": IndicatorSpec(
        dimension="business_online", name_zh="线上订单占比", name_en="Share of orders placed online", unit="share",
        thresholds=[0.2, 0.4, 0.6, 0.8]),
    "actions_on_time": IndicatorSpec(
        dimension="decision_intelligence", name_zh="复盘行动按期关闭率", name_en="Review actions closed on time",
        unit="share", thresholds=[0.5, 0.7, 0.85, 0.95]),
}
EVIDENCE_IDS = tuple(DEFAULT_EVIDENCE)
EvidenceId = Literal[EVIDENCE_IDS]  # type: ignore[valid-type]


class MaturitySettings(BaseModel):
    """Settings of the maturity stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    # --- inputs -------------------------------------------------------------------------------------------------
    answers_source: str = Field("maturity_answers", description="Source name (kind questionnaire) of the answers")
    indicators_source: str | None = Field(
        "maturity_indicators", description="Source name (kind indicators) of indicator values; null = none")
    value_stream_source: str | None = Field(
        "value_stream", description="Source name (kind value_stream) of the value-stream nodes; null = none")
    answers_form: Literal["auto", "long", "wide"] = Field(
        "auto", description="`long`: one row per respondent × question (question_id, answer mapped); `wide`: one "
        "column per question id; `auto`: long when question_id and answer are mapped")
    wide_ignore_columns: list[str] = Field(
        default_factory=list, description="Wide form: raw columns that are not questions (e.g. a note column)")
    question_bank: str | None = Field(
        None, description="A question-bank YAML (path relative to the engagement file) that extends or replaces "
        "the default bank")
    question_bank_mode: Literal["extend", "replace"] = Field(
        "extend", description="`extend`: add to the default bank (same id replaces a question); `replace`: use "
        "only the engagement's bank")
    indicators: dict[str, IndicatorSpec] = Field(
        default_factory=dict, description="Indicator threshold tables added to (or replacing, by id) the defaults")

    # --- assessment waves (progress between assessments) ---------------------------------------------------------
    waves: Literal["auto", "field", "answer_date", "none"] = Field(
        "auto", description="How the answers split into assessment waves: `field`: the mapped `wave` column (labels "
        "sort in time order, e.g. 2025-09, 2026-09, unless answer dates are mapped too); `answer_date`: from the "
        "mapped `answered_at` dates, a new wave starting where consecutive answer dates are more than "
        "wave_gap_days apart, named by the month of its first answer; `none`: one assessment; `auto`: `field` "
        "when `wave` is mapped, else `answer_date` when `answered_at` is, else `none`. The headline scores are "
        "the latest wave's")
    wave_gap_days: int = Field(
        45, ge=1, description="With waves from answer dates: a gap of more than this many days between two "
        "consecutive answer dates starts a new wave")

    # --- scoring ------------------------------------------------------------------------------------------------
    dimension_weights: dict[Dimension, float] = Field(
        default_factory=lambda: {d: 0.25 for d in DIMENSION_KEYS},
        description="Weight of each dimension in the overall score (re-normalized to sum 1; missing = 0.25)")
    indicator_weight: float = Field(
        0.3, ge=0, le=1, description="Share of a dimension's score that comes from its indicators (0 = answers "
        "only); applies to dimensions that have indicator values")
    targets: dict[Dimension, float] = Field(
        default_factory=dict, description="Target level (1–5) per dimension; missing dimensions use default_target")
    default_target: float = Field(4.0, ge=1, le=5, description="Target level of a dimension not in targets")
    disagreement_levels: float = Field(
        1.0, gt=0, description="Flag a dimension when respondents' levels differ by more than this many levels")
    sensitivity_change: float = Field(
        0.2, gt=0, lt=1, description="Relative change of each dimension weight in the sensitivity table (0.2 = ±20 %)")

    # --- evidence beside opinion ------------------------------------------------------------------------------
    evidence: dict[EvidenceId, IndicatorSpec] = Field(
        default_factory=lambda: dict(DEFAULT_EVIDENCE),
        description="Threshold tables of the evidence indicators measured on the run's own outputs (data_silos, "
        "cross_source_overlap, completeness_after_cleaning, conformity_before_cleaning, tag_coverage, "
        "online_order_share, actions_on_time): an entry replaces that indicator's default table (its dimension, "
        "direction, thresholds, weight)")
    evidence_margin: float = Field(
        1.0, gt=0, description="Flag a dimension when its evidence level and its questionnaire level differ by more "
        "than this many levels")

    # --- benchmark ----------------------------------------------------------------------------------------------
    industry: str | None = Field(None, description="Benchmark industry key; default the client's industry")
    benchmark: str | None = Field(
        None, description="A benchmark YAML (path relative to the engagement file) replacing the default table")

    # --- value stream -------------------------------------------------------------------------------------------
    slow_node_hours: float = Field(1.0, gt=0, description="A node taking at least this many hours is slow")
    error_rate_threshold: float = Field(
        0.05, gt=0, le=1, description="A node with at least this error rate (0–1) is error-prone")
    root_cause_keywords: dict[Literal[tuple(k for k in ROOT_CAUSES if k != "unclassified")], list[str]] = Field(  # type: ignore[misc]
        default_factory=dict, description="Extra words that put a free-text root cause in a category "
        "(technology, data_standards, organisation), added to the built-in ones")

    # --- roadmap ------------------------------------------------------------------------------------------------
    initiatives: str | None = Field(
        None, description="An initiative-library YAML (path relative to the engagement file) replacing the default")
    pilot_max_initiatives: int = Field(
        2, ge=1, description="At most this many pilot initiatives (seed: 1–2 high-value, easy scenarios); the rest "
        "move to scale-up")
    initiatives_per_severity: dict[Literal["critical", "moderate", "minor"], int] = Field(
        default_factory=lambda: {"critical": 3, "moderate": 2, "minor": 1},
        description="How many initiatives a dimension gets, by the severity of its gap")
    total_budget: float | None = Field(
        None, ge=0, description="Total programme budget (CNY) over 36 months; null = shares only")
    phase_budget_share: dict[Phase, float] = Field(
        default_factory=lambda: dict(DEFAULT_PHASE_SHARE), description="Share of the total budget per phase (sum 1)")
    budget_split: dict[Phase, dict[Category, float]] = Field(
        default_factory=lambda: {p: dict(s) for p, s in DEFAULT_BUDGET_SPLIT.items()},
        description="Per phase, the share of technology / people / operations (each phase sums to 1); a phase left "
        "out keeps the seed's default")

    # --- initiative register -------------------------------------------------------------------------------------
    initiatives_source: str | None = Field(
        None, description="Source name (kind initiatives) of the initiative register: one row per milestone with "
        "initiative_id, owner, milestone, due, status, budget (approved), spent, kpi_id, decision; null = none")
    initiatives_as_of: dt.date | None = Field(
        None, description="The date milestones are overdue against (a milestone due before it and not done); "
        "default kpi.as_of, else the end of the engagement period")

    @field_validator("targets")
    @classmethod
    def _targets_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for key, level in value.items():
            if not 1 <= level <= 5:
                raise ValueError(f"target of {key} is {level}; a target level is between 1 and 5")
        return value

    @field_validator("dimension_weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        merged = {d: 0.25 for d in DIMENSION_KEYS} | value
        if any(w < 0 for w in merged.values()) or sum(merged.values()) <= 0:
            raise ValueError("dimension weights must be >= 0 with a positive sum")
        return merged

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: dict[str, IndicatorSpec]) -> dict[str, IndicatorSpec]:
        return dict(DEFAULT_EVIDENCE) | value

    @field_validator("phase_budget_share")
    @classmethod
    def _phase_share(cls, value: dict[str, float]) -> dict[str, float]:
        merged = dict(DEFAULT_PHASE_SHARE) | value
        if any(v < 0 for v in merged.values()) or abs(sum(merged.values()) - 1) > SHARE_TOLERANCE:
            raise ValueError(f"phase shares {merged} must be >= 0 and sum to 1")
        return merged

    @field_validator("budget_split")
    @classmethod
    def _split(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        merged = {p: dict(s) for p, s in DEFAULT_BUDGET_SPLIT.items()}
        for phase, split in value.items():
            full = {c: split.get(c, 0.0) for c in BUDGET_CATEGORIES}
            if any(v < 0 for v in full.values()) or abs(sum(full.values()) - 1) > SHARE_TOLERANCE:
                raise ValueError(f"budget_split.{phase} {full} must be >= 0 and sum to 1")
            merged[phase] = full
        return merged

    def target(self, dimension: str) -> float:
        """The target level of a dimension."""
        return self.targets.get(dimension, self.default_target)
