"""The `labels:` section of the engagement file."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator


class RfmThresholds(BaseModel):
    """Fixed RFM cut points that replace the equal-count fifths, per measure (each optional).

    Four ascending numbers per measure. Recency (days): R = 5 − (number of cut points the recency exceeds), so
    ``[30, 60, 120, 240]`` gives R5 for 1–30 days, R4 for 31–60 …, R1 beyond 240. Frequency and monetary:
    score = 1 + (number of cut points the value reaches), so ``[2, 3, 5, 8]`` gives F1 for one order, F5 from 8.
    """

    model_config = ConfigDict(extra="forbid")

    recency: list[float] | None = Field(None, description="Four ascending recency cut points in days; "
                                        "empty = equal-count fifths")
    frequency: list[float] | None = Field(None, description="Four ascending order counts (a score is reached "
                                          "at the count); empty = equal-count fifths")
    monetary: list[float] | None = Field(None, description="Four ascending amounts in yuan (a score is reached "
                                         "at the amount); empty = equal-count fifths")

    @field_validator("recency", "frequency", "monetary")
    @classmethod
    def _four_ascending(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if len(value) != 4 or any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError(f"give four strictly ascending cut points (got {value})")
        return value


class PlayResponseRates(BaseModel):
    """Expected response rate of each segment play: the share of a play's audience expected to buy again after it
    (the consultant's assumption, e.g. from the client's past campaigns; digiops cannot measure it yet)."""

    model_config = ConfigDict(extra="forbid")

    win_back: float = Field(0.05, ge=0, le=1, description="Share of lapsed customers a win-back campaign brings "
                            "back to buy")
    upgrade: float = Field(0.10, ge=0, le=1, description="Share of active customers an upgrade offer moves to buy "
                           "more")
    nurture: float = Field(0.08, ge=0, le=1, description="Share of new customers a nurture journey brings to their "
                           "next purchase")
    retain: float = Field(0.15, ge=0, le=1, description="Share of the best customers a retention benefit brings to "
                          "buy again")


class PlaySettings(BaseModel):
    """Segment plays (the play, channel and offer of each segment are in the segment map); the opportunity sizing."""

    model_config = ConfigDict(extra="forbid")

    response_rates: PlayResponseRates = Field(default_factory=PlayResponseRates, description="Expected response "
                                              "rate per play (0–1): expected responders = customers × rate")


class EventCustomerKey(BaseModel):
    """Which person source's field the events' logged-in key (canonical ``customer_key``) equals."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(description="Person source whose records the key names (e.g. `miniprogram`); its records "
                        "reach the unified customer through the merge stage's crosswalk")
    field: str = Field("member_id", description="Canonical field of that source the key equals (`member_id`, "
                       "`openid`, `buyer_id` …, or `record_id` for its id column)")


class EventStages(BaseModel):
    """The funnel stage names the behaviour features read (as the events source writes them)."""

    model_config = ConfigDict(extra="forbid")

    visit: str = Field("visit", description="Stage of a visit (a session entering the shop)")
    cart: str = Field("add_to_cart", description="Stage of an add-to-cart")
    order: list[str] = Field(["order", "repurchase"], min_length=1, description="Stages that are an order")


class EventSettings(BaseModel):
    """Behaviour features from event data (the funnel events): visits, carts and browsing without buying."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field("funnel_events", description="Source (kind `funnel`) of the events; its `customer_key` "
                        "column carries the logged-in key (empty for anonymous visitors)")
    customer_key: EventCustomerKey = Field(description="What the events' customer_key names: a person source and "
                                           "its field, e.g. {source: miniprogram, field: member_id}")
    conversion_window_days: int = Field(30, ge=1, le=365, description="Days after an add-to-cart in which an order "
                                        "(an order event or a purchase in the orders table) keeps it from counting "
                                        "as abandoned")
    complete: bool = Field(False, description="true = the events cover every customer (a customer without events "
                           "never visited: zero visits); false (default) = customers without linked events have "
                           "no behaviour features and no behaviour tag")
    stages: EventStages = Field(default_factory=EventStages, description="Funnel stage names: visit, cart, order")


class LabelSettings(BaseModel):
    """Settings of the labels stage (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")

    catalog: str = Field("tag_catalog.yaml", description="Tag catalog (YAML), relative to the engagement file")
    as_of: dt.date | None = Field(None, description="Reference date of recency and time windows (YYYY-MM-DD); "
                                  "empty = the day after the latest order. Orders on or after it are ignored")
    rfm_thresholds: RfmThresholds | None = Field(None, description="Fixed RFM cut points per measure; empty = "
                                                 "equal-count fifths of the customers (DOMAIN.md §2)")
    segment_map: str | None = Field(None, description="R×F segment map (YAML) relative to the engagement file; "
                                    "empty = the default map shipped in digiops/resources/rfm_segments.yaml")
    min_coverage: float = Field(0.05, ge=0, le=1, description="Tags (and values) covering a smaller share of "
                                "customers are flagged as too rare to be useful")
    example_profiles: int = Field(5, ge=0, le=50, description="How many example customer profiles (masked) the "
                                  "report shows")
    candidate_quantiles: list[float] = Field([0.2, 0.4, 0.6, 0.8], description="Quantiles the design aid uses "
                                             "to propose bands of numeric fields")
    candidate_top: int = Field(5, ge=1, le=50, description="How many top values of a categorical field the design "
                               "aid proposes as tag values")
    plays: PlaySettings = Field(default_factory=PlaySettings, description="Segment plays: expected response rate "
                                "per play (win_back, upgrade, nurture, retain) for the opportunity sizing")
    events: EventSettings | None = Field(None, description="Event data linked to customers for the behaviour "
                                         "features (recency of visit, cart abandonment, browse without buying); "
                                         "empty = no event data is linked and the behaviour features stay empty")
