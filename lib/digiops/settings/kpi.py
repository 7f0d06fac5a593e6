"""The `kpi:` section of the engagement file."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class StatusBands(BaseModel):
    """Attainment thresholds of the traffic-light status (attainment is a share: 1.0 = 100 %)."""

    model_config = ConfigDict(extra="forbid")

    green: float = Field(1.0, description="Attainment at or above this is green (default 100 %)")
    amber: float = Field(0.9, description="Attainment at or above this (and below green) is amber; below is red")

    @model_validator(mode="after")
    def _ordered(self) -> "StatusBands":
        if self.amber > self.green:
            raise ValueError(f"amber ({self.amber}) must not exceed green ({self.green})")
        return self


class CascadeSettings(BaseModel):
    """How a target given at the top is split to regions, stores and months, and how closely targets given at
    every level must agree (DOMAIN.md §4, target cascade). Unknown units and negative weights are checked against
    the stores source when the review runs (and by ``digiops validate``)."""

    model_config = ConfigDict(extra="forbid")

    rule: Literal["history", "seasonality", "weights"] = Field(
        "history", description="How a unit's share of its parent's target is found: `history` (its share of the "
        "KPI's actuals over the last `history_months` months with actuals before the month), `seasonality` (its "
        "share in the same month last year) or `weights` (the explicit `weights`, normalised among siblings)")
    weights: dict[str, float] = Field(default_factory=dict, description="Rule `weights`: a weight per region, store "
                                      "and online unit (unit → number ≥ 0); siblings' weights are normalised")
    history_months: int = Field(3, ge=1, description="Rule `history`: how many months of actuals before the "
                                "target's month make a unit's share")
    tolerance: float = Field(0.005, ge=0, description="Targets agree when |Σ children − parent| (or |product of "
                             "the factors' targets − parent|) is at most this share of the parent (0.005 = 0.5 %)")
    apply: bool = Field(True, description="Derived targets count as targets in attainment, run-rate and SMART "
                        "checks (false: they are only reported in outputs/kpi/cascade.parquet)")


#: What can propose an action for the next cycle (:mod:`digiops.kpi.register`), in the order the register takes
#: them in turn.
NEXT_ACTION_TRIGGERS = ("red_kpi", "variance", "funnel_step", "overdue")


class NextActionsSettings(BaseModel):
    """The register of actions proposed for the next cycle (``outputs/kpi/actions_next.parquet`` / ``.xlsx``) and
    its read-back by the next review (:mod:`digiops.kpi.register`)."""

    model_config = ConfigDict(extra="forbid")

    max_actions: int = Field(10, ge=0, description="At most this many proposed actions, most important first "
                             "(each trigger's worst in turn); 0 writes an empty register")
    triggers: list[Literal[NEXT_ACTION_TRIGGERS]] = Field(  # type: ignore[valid-type]
        list(NEXT_ACTION_TRIGGERS), description="What proposes an action: `red_kpi` (status red in the review "
        "month), `variance` (a factor or region that pulled the headline KPI down), `funnel_step` (the funnel step "
        "that fell most against the previous month or its benchmark), `overdue` (overdue actions carried over)")
    red_levels: list[Literal["all", "region", "store"]] = Field(
        ["all", "region"], description="Levels whose red KPIs propose an action (add `store` for store-level "
        "actions)")
    min_driver_share: float = Field(0.01, ge=0, description="A variance driver proposes an action only when it "
                                    "took at least this share of the KPI's comparison-month value (0.01 = 1 %)")
    funnel_benchmarks: dict[str, float] = Field(default_factory=dict, description="Funnel stage → benchmark step "
                                                "conversion (0–1) it is judged against instead of the previous month")
    funnel_kpis: dict[str, str] = Field(default_factory=dict, description="Funnel stage → the KPI id an action on "
                                        "that step should move (default: conversion_rate for add_to_cart and "
                                        "order, repurchase_rate for repurchase, traffic for visit, where the tree "
                                        "has them; else the headline KPI)")
    unit_owners: dict[str, str] = Field(default_factory=dict, description="Region or store → who answers for an "
                                        "action on that unit (e.g. the regional manager); default the KPI's owner "
                                        "in the tree")
    due_days: int | None = Field(None, ge=1, description="A proposed action is due this many days after `as_of`; "
                                 "empty = the last day of the month after the review month")
    carry: bool = Field(True, description="The next review reads this register back: the previous run's proposals "
                        "join its action log (status `proposed` unless the action source updates them) and their "
                        "effect is measured from the baseline stored here")


class KpiSettings(BaseModel):
    """Settings of the kpi stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    tree: str = Field("kpi_tree.yaml", description="The KPI tree (YAML), path relative to the engagement file")
    targets_source: str = Field("kpi_targets", description="Source name (kind `targets`) of the monthly targets")
    traffic_source: str = Field("traffic", description="Source name (kind `traffic`) of daily visitors per unit")
    funnel_source: str = Field("funnel_events", description="Source name (kind `funnel`) of the funnel events")
    actions_source: str = Field("action_log", description="Source name (kind `actions`) of the previous review's "
                                "action log")
    stores_source: str = Field("stores", description="Source name (kind `stores`) mapping each store to its region")
    as_of: dt.date | None = Field(None, description="Review date; default the day after the latest order")
    review_period: str | None = Field(None, pattern=_PERIOD, description="Month reviewed (YYYY-MM); default the "
                                      "last complete month before `as_of`")
    comparison_period: str | None = Field(None, pattern=_PERIOD, description="Month the review period is compared "
                                          "with in the variance attribution (YYYY-MM); default the month before")
    runrate_period: str | None = Field(None, pattern=_PERIOD, description="Month projected by the run-rate "
                                       "(YYYY-MM); default the month holding the day before `as_of`")
    status_bands: StatusBands = Field(default_factory=StatusBands, description="Green / amber thresholds")
    funnel_stages: list[str] = Field(["visit", "add_to_cart", "order", "repurchase"],
                                     description="Funnel stages in order (values of the funnel source's `stage`)")
    conversion_window_days: int = Field(30, ge=1, description="A visitor counts at a later stage only when it is "
                                        "reached within this many days of the first stage")
    achievable_bound: float = Field(0.3, gt=0, description="Largest month-over-month target growth (share) judged "
                                    "achievable when the KPI has too little history for its own spread")
    achievable_min_history: int = Field(3, ge=1, description="Historical month-over-month growth figures needed "
                                        "before the Achievable check uses the KPI's own spread instead of the bound")
    online_unit: str = Field("online", description="Unit name of orders and traffic without a store (online "
                             "channels); it counts as a region and as a store so that Σ regions = Σ stores = all")
    cascade: CascadeSettings = Field(default_factory=CascadeSettings, description="Target cascade: how a top "
                                     "target is split to regions, stores and months, and the coherence tolerance")
    next_actions: NextActionsSettings = Field(default_factory=NextActionsSettings, description="The register of "
                                              "actions proposed for the next cycle and its read-back")
    spend_source: str | None = Field(None, description="Source name (kind `spend`) of the marketing spend per "
                                     "channel, campaign, unit and month; empty = no spend and return analysis")
    gross_margin: float = Field(1.0, gt=0, le=1, description="Gross margin of attributed revenue in ROI = (revenue × "
                                "margin − spend) ÷ spend; 1 = revenue ROI (the default), e.g. 0.6 for a 60 % margin")
    attribution_window_days: int = Field(30, ge=1, description="A new customer's revenue counts for the channel and "
                                         "campaign of their first touch from their first order to this many days "
                                         "after it (first-touch attribution)")

    @field_validator("funnel_stages")
    @classmethod
    def _two_stages(cls, value: list[str]) -> list[str]:
        if len(value) < 2 or len(set(value)) != len(value):
            raise ValueError("list at least two distinct funnel stages, in order")
        return value
