"""The ``merge:`` section of the engagement file.

Everything has a default, so an engagement with person sources and no ``merge:`` section runs as it is. The
defaults were chosen once, from the method (Fellegi–Sunter with EM, connected components at a high threshold),
and are not tuned to any client's truth.

Example:
    >>> settings = MergeSettings.model_validate({"match_threshold": 0.97, "source_priority": ["crm"]})
    >>> settings.match_threshold, settings.review_lower
    (0.97, 0.5)
    >>> custom = MergeSettings.model_validate({"order_states": {"cancelled": ["待审核", "交易成功"]}})
    >>> "待审核" in custom.order_states["cancelled"], "交易成功" in custom.order_states["paid"]
    (True, False)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SurvivorshipRule = Literal["source_priority", "most_recent", "most_complete", "most_frequent"]
OrderState = Literal["paid", "refunded", "cancelled", "test"]
#: The states an order's status can name, in the order that breaks a tie between two equally long markers a status
#: contains: the states that keep an order out of GMV first.
ORDER_STATES: tuple[str, ...] = ("test", "refunded", "cancelled", "paid")

#: Status values of common Chinese platforms (Tmall / Taobao and their API codes, JD, Douyin, Youzan, WeChat mall,
#: store POS) and English exports, by the state they mean. ``refunded``: the money went back without a negative
#: refund row; ``cancelled``: never paid or closed before it was fulfilled.
DEFAULT_ORDER_STATES: dict[str, list[str]] = {
    "paid": ["已付款", "买家已付款", "已支付", "支付成功", "付款成功", "待发货", "等待卖家发货", "等待商家发货",
             "等待出库", "备货中", "卖家已发货", "商家已发货", "已发货", "待收货", "等待确认收货", "等待买家确认收货",
             "已收货", "已签收", "待评价", "已评价", "交易成功", "交易完成", "订单完成", "已完成", "完成", "退款关闭",
             "销售", "消费", "已结账", "paid", "completed", "shipped", "delivered", "fulfilled", "sale",
             "trade_finished", "wait_seller_send_goods", "wait_buyer_confirm_goods", "trade_buyer_signed"],
    "refunded": ["已退款", "退款成功", "退款完成", "全额退款", "退货退款", "已退货", "退货成功", "退货完成",
                 "refunded", "returned"],
    "cancelled": ["交易关闭", "已关闭", "订单关闭", "超时关闭", "已取消", "订单取消", "取消订单", "买家取消",
                  "系统取消", "已作废", "未付款", "待付款", "等待付款", "等待买家付款", "cancelled", "canceled",
                  "closed", "unpaid", "void", "voided", "wait_buyer_pay", "trade_closed"],
    "test": ["测试", "test"],
}

#: The seven conventional regions of mainland China (华东 … 东北), by province as ``cpca`` names them.
DEFAULT_REGION_BY_PROVINCE: dict[str, str] = {
    **{p: "华东" for p in ("上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "台湾省")},
    **{p: "华南" for p in ("广东省", "广西壮族自治区", "海南省", "香港特别行政区", "澳门特别行政区")},
    **{p: "华北" for p in ("北京市", "天津市", "河北省", "山西省", "内蒙古自治区")},
    **{p: "华中" for p in ("河南省", "湖北省", "湖南省")},
    **{p: "西南" for p in ("重庆市", "四川省", "贵州省", "云南省", "西藏自治区")},
    **{p: "西北" for p in ("陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区")},
    **{p: "东北" for p in ("辽宁省", "吉林省", "黑龙江省")},
}


class StrictSection(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerKeyLink(StrictSection):
    """How an orders source that carries no personal fields finds its customer."""

    source: str | None = Field(None, description="The person source whose records the key names (e.g. "
                                                  "`pos_members`); empty = the key itself is the customer id")
    field: str = Field("member_id", description="Canonical field of that source the key equals "
                                                "(`member_id`, or `record_id` for its id column)")


class KeyLink(StrictSection):
    """A field of one source that names a record of another (a waybill's order number, a receipt's member card, an
    order's platform buyer id): records whose keys are equal are one customer, with certainty, whatever personal
    fields they also carry. Each end is ``source.field`` with a canonical field name (``record_id`` or the field the
    source's id column maps to names its own id)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from", description="`source.field` that holds the key (e.g. `shipments.order_id`)")
    to: str = Field(description="`source.field` the key names (e.g. `online_orders.order_id`, "
                                "`pos_members.member_id`)")
    strip_leading_zeros: bool = Field(True, description="An all-digit key loses its leading zeros on both ends "
                                                        "(`000123` = `123`, as a spreadsheet shows it)")
    ignore_case: bool = Field(True, description="Keys are compared case-insensitively")

    @field_validator("from_", "to")
    @classmethod
    def _dotted(cls, value: str) -> str:
        source, dot, name = value.strip().partition(".")
        if not dot or not source or not name:
            raise ValueError(f"'{value}' is not `source.field`: name the source and its canonical field, e.g. "
                             "`pos_receipts.customer_key`")
        return f"{source}.{name}"

    @property
    def ends(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """((source, field), (source, field)) of the two ends."""
        return tuple(tuple(end.split(".", 1)) for end in (self.from_, self.to))  # type: ignore[return-value]


class MergeSettings(StrictSection):
    """Settings of the merge stage (unknown keys are errors)."""

    link_fields: list[str] | None = Field(
        None, description="Matching features to compare (`name`, `phone`, `email`, `birth_date`, `national_id`, "
                          "`address`, `postcode`, `gender`); empty = every feature some source maps")
    blocking_rules: list[list[str] | str] | None = Field(
        None, description="Blocking rules that generate candidate pairs: a list of feature columns that must all "
                          "be equal (e.g. `[name_key, birth_date]`), or a SQL condition on `l.` / `r.`; "
                          "empty = the built-in rules for the features present")
    match_threshold: float = Field(0.95, gt=0, lt=1, description="Match probability at or above which two "
                                                                 "records are the same customer")
    review_lower: float = Field(0.5, gt=0, lt=1, description="Pairs from this probability up to the match "
                                                              "threshold go to `review_pairs.xlsx`")
    max_review_pairs: int = Field(1000, ge=0, description="At most this many borderline pairs are exported, "
                                                          "closest to the threshold first")
    review_file: str | None = Field(None, description="A reviewed `review_pairs.xlsx` (path relative to the "
                                                      "engagement file): its decisions (是 / 否 / 不确定, match / "
                                                      "not-match / unsure) are honoured by the next run, a "
                                                      "not-match even when other records connect the pair, and "
                                                      "carried into that run's file, which lists only undecided "
                                                      "pairs")
    review_full_values: bool = Field(False, description="`review_pairs.xlsx` shows names, phones, e-mails, birth "
                                                        "dates, id numbers and streets in full, for reviewers allowed "
                                                        "to see them (that internal file only: reports stay masked); "
                                                        "off = masked")
    source_priority: list[str] = Field(
        default_factory=list, description="Sources in order of trust for survivorship; sources not listed follow "
                                          "in engagement-file order")
    survivorship_default: SurvivorshipRule = Field(
        "source_priority", description="Rule for golden-record fields not named in `survivorship`")
    survivorship: dict[str, SurvivorshipRule] = Field(
        default_factory=lambda: {"phone": "most_recent", "address": "most_recent", "email": "most_recent",
                                 "full_name": "most_frequent"},
        description="Golden-record field → rule (`source_priority`, `most_recent`, `most_complete`, "
                    "`most_frequent`)")
    customer_keys: dict[str, CustomerKeyLink] = Field(
        default_factory=dict, description="Orders source → how its `customer_key` finds a customer (for sources "
                                          "without personal fields)")
    key_links: list[KeyLink] = Field(
        default_factory=list, description="Fields that name a record of another source (a waybill's order number, a "
                                          "receipt's member card, an order's buyer id that a member table also "
                                          "carries): equal keys link their records with certainty, before and "
                                          "whatever the probabilistic match says. A shipment's `order_id` and an "
                                          "order's `refund_of` link to their order without being declared")
    identity_keys: list[str] = Field(
        default_factory=lambda: ["unionid", "openid", "buyer_id"],
        description="Canonical fields whose equal values are one person in every person source that maps them "
                    "(a WeChat unionid, a mini-program openid, a platform buyer id)")
    order_channels: dict[str, Literal["mall", "online", "store"]] = Field(
        default_factory=dict, description="Orders source → channel; default from a mapped `channel` column, "
                                          "else from the source name (`pos`/`store` → store, `mall` → mall, "
                                          "else online)")
    region_by_province: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_REGION_BY_PROVINCE),
        description="Province (as `cpca` names it, e.g. `浙江省`) → sales region, for orders without a store")
    test_markers: list[str] = Field(default_factory=lambda: ["测试", "test", "TEST"],
                                    description="An order whose status, sku or buyer name contains one of these "
                                                "is a test order (flagged, not dropped)")
    order_states: dict[OrderState, list[str]] = Field(
        default_factory=lambda: {state: list(markers) for state, markers in DEFAULT_ORDER_STATES.items()},
        description="Order state (`paid`, `refunded`, `cancelled`, `test`) → the status values that mean it, "
                    "compared case-insensitively: a status equal to a marker takes its state, else the longest "
                    "marker it contains does. Markers given here join their state's defaults and leave every other "
                    "state (`{cancelled: [待审核]}` is enough). An empty status is paid; a status no marker "
                    "matches counts as paid and is reported. GMV counts paid orders and refund rows (a negative "
                    "amount or a `refund_of`); refunded orders with a positive amount, cancelled and test orders "
                    "are out")
    refund_markers: list[str] | None = Field(
        None, description="Older name of extra `order_states.refunded` markers (still accepted: they are added "
                          "to that state)")
    failed_markers: list[str] = Field(default_factory=lambda: ["拒收", "退回", "丢失", "失败", "failed", "returned"],
                                      description="A shipment whose status contains one of these failed")
    as_of: dt.date | None = Field(None, description="Dates after this day are in the future (quarantined); "
                                                    "empty = the day the stage runs")
    earliest_date: dt.date = Field(dt.date(1900, 1, 1), description="Dates before this day are invalid")
    timezone: str = Field("Asia/Shanghai", description="The engagement's time zone (an IANA name such as "
                                                       "`Asia/Shanghai`): a time written with a UTC offset or `Z` "
                                                       "(`2025-05-05T14:54:04+08:00`) is converted to it, and every "
                                                       "time is kept as the wall-clock time there")
    min_profiles_for_model: int = Field(
        50, ge=2, description="Fewer distinct person profiles than this and no model is trained (EM on so few pairs "
                              "estimates nothing): records are linked by exact rules instead — the same phone, "
                              "e-mail or national id unless the names disagree, or the same name and birth date — "
                              "and the run records `deterministic_linking: 1`")
    u_max_pairs: float = Field(2e6, gt=0, description="Random pairs sampled to estimate u probabilities")
    seed: int = Field(42, description="Seed of every random sample, so a run can be repeated exactly")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}': give an IANA name such as Asia/Shanghai, Asia/Hong_Kong "
                             "or Europe/Berlin") from None
        return value

    @model_validator(mode="after")
    def _band(self) -> "MergeSettings":
        if self.review_lower >= self.match_threshold:
            raise ValueError(f"review_lower {self.review_lower} must be below match_threshold "
                             f"{self.match_threshold}")
        return self

    @model_validator(mode="after")
    def _vocabulary(self) -> "MergeSettings":
        given_states = "order_states" in self.model_fields_set
        if given_states or self.refund_markers:
            given = dict(self.order_states) if given_states else {}
            if self.refund_markers:
                given["refunded"] = [*given.get("refunded", []), *self.refund_markers]
            self.order_states = order_vocabulary(given)
        return self


def order_vocabulary(given: dict[str, list[str]]) -> dict[str, list[str]]:
    """The markers of every state: the defaults, with each marker ``given`` moved to the state it is given for.

    Raises ValueError when a marker is empty or given for two states.

    >>> vocabulary = order_vocabulary({"paid": ["TRADE_CLOSED"]})
    >>> "trade_closed" in vocabulary["cancelled"], "TRADE_CLOSED" in vocabulary["paid"]
    (False, True)
    """
    owner: dict[str, str] = {}
    for state, markers in given.items():
        for marker in markers:
            key = marker.strip().lower()
            if not key:
                raise ValueError(f"order_states.{state} has an empty marker: give the status text it stands for")
            if owner.setdefault(key, state) != state:
                raise ValueError(f"status marker '{marker}' is given for both {owner[key]} and {state}: "
                                 f"keep it under one state")
    out = {}
    for state in DEFAULT_ORDER_STATES:
        kept = [m for m in DEFAULT_ORDER_STATES[state] if m.strip().lower() not in owner]
        added = [m.strip() for m in given.get(state, [])]
        out[state] = list(dict.fromkeys(kept + added))
    return out
