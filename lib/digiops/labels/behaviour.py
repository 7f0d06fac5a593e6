"""Behaviour features from event data: visits, carts and browsing without buying (issue 23).

Where a client has event data (the funnel events: visit → add_to_cart → order → repurchase), part of the visitors
are logged in and their events carry a key (canonical ``customer_key``: a mini-program member id or openid, a
platform buyer id). The key is linked to the unified customer the way the merge links key fields:

* normalized with :func:`digiops.merge.keys.key_sql` (whitespace, a tab, apostrophe or ``="…"`` prefix and a
  float's ``.0`` go; case ignored; an all-digit key's leading zeros dropped; placeholders are no key);
* looked up in the merge stage's crosswalk (``source``, ``record_id`` → ``customer_id``): directly when the key is
  the target source's id column, else through the target source's records (``record_id`` → the key field).

Every event ends in exactly one :data:`LINK_STATUSES` bucket: ``linked`` (its key names one customer),
``unknown_key`` (a key no record of the target source has), ``ambiguous`` (a key that names several customers:
linked to none) or ``anonymous`` (no key). Nothing is dropped silently; :func:`link_summary` counts each.

Features per customer (:data:`BEHAVIOUR_FIELDS`, beside the order-based ones of
:mod:`digiops.labels.features`), from the customer's linked events before ``as_of``:

* ``visit_recency_days`` = days from the date of the last visit to ``as_of`` (as ``recency_days`` for orders);
* ``visits``, ``visits_30d``, ``visits_90d``: visit events, all and within 30 / 90 days before ``as_of``
  (a visit 30 days before counts, as ``orders_30d`` does);
* ``cart_adds``: add-to-cart events; ``abandoned_carts``: those followed by no order — an order event of the
  customer or a purchase (paid order) of the customer in the orders table — from the cart's moment up to
  ``conversion_window_days`` after it. Only what happened before ``as_of`` is known, so a cart of the last days
  with no order yet counts as abandoned (the audience a reminder is for);
* ``event_orders``: order events (any of the order stages);
* ``browse_never_buy``: visited, and never ordered — no order event and no purchase in the orders table.

Customers without linked events have no behaviour features (empty, so they get no behaviour tag) — a customer
the events do not see may well visit as an anonymous visitor. When the client says the events cover every
customer (``labels.events.complete: true``) they get zero visits, zero carts and ``browse_never_buy`` false.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from digiops.merge.keys import key_sql
from digiops.sql import literal

#: field → (type, description), the event features rules may name (joined into the feature view).
BEHAVIOUR_FIELDS: dict[str, tuple[str, str]] = {
    "visit_recency_days": ("number", "最近一次访问距 as_of 天数 / days from the last visit to as_of"),
    "visits": ("number", "访问次数（已关联客户的访问事件） / visits (linked visit events)"),
    "visits_30d": ("number", "近 30 天访问次数 / visits in the last 30 days"),
    "visits_90d": ("number", "近 90 天访问次数 / visits in the last 90 days"),
    "cart_adds": ("number", "加购次数 / add-to-carts"),
    "abandoned_carts": ("number", "弃购次数：加购后转化窗口内没有下单（行为数据或订单表） / add-to-carts with no "
                                  "order within the conversion window (events or orders table)"),
    "event_orders": ("number", "行为数据中的下单次数 / orders in the events"),
    "browse_never_buy": ("flag", "只逛不买：有访问，行为数据和订单表中都从未下单 / visited, never ordered in the "
                                 "events nor in the orders table"),
}
#: the fields' SQL types when no event data is linked (every value empty)
_TYPES = {"visit_recency_days": "BIGINT", "visits": "BIGINT", "visits_30d": "BIGINT", "visits_90d": "BIGINT",
          "cart_adds": "BIGINT", "abandoned_carts": "BIGINT", "event_orders": "BIGINT", "browse_never_buy": "BOOLEAN"}
#: where an event ends, in the order reports list them
LINK_STATUSES = ("linked", "unknown_key", "ambiguous", "anonymous")
#: columns of the events view the feature SQL reads (:func:`events_view`)
EVENT_COLUMNS = ("_event", "customer_id", "stage", "event_time")


@dataclass(frozen=True)
class EventFeatures:
    """What the feature SQL needs to know of the events: stage names, the conversion window, completeness."""

    visit: str = "visit"
    cart: str = "add_to_cart"
    order: tuple[str, ...] = ("order", "repurchase")
    window_days: int = 30
    complete: bool = False

    @classmethod
    def from_settings(cls, settings) -> EventFeatures:
        """From :class:`digiops.settings.labels.EventSettings`."""
        return cls(visit=settings.stages.visit, cart=settings.stages.cart, order=tuple(settings.stages.order),
                   window_days=settings.conversion_window_days, complete=settings.complete)


def normalize_keys(values: pd.Series, *, strip_leading_zeros: bool = True, ignore_case: bool = True) -> pd.Series:
    """Keys normalized as the merge normalizes key links (:func:`digiops.merge.keys.key_sql`); ``None`` for a
    missing or placeholder key. Same index as ``values``.

    >>> normalize_keys(pd.Series(["\\t00123", "123.0", " MP0042 ", "-", None])).tolist()
    ['123', '123', 'mp0042', None, None]
    """
    frame = pd.DataFrame({"k": values.astype("object").where(values.notna(), None).map(
        lambda v: None if v is None else str(v))})
    con = duckdb.connect()
    try:
        con.register("raw_keys", frame)
        out = con.execute(f"SELECT {key_sql('k', strip_leading_zeros=strip_leading_zeros, ignore_case=ignore_case)}"
                          " AS k FROM raw_keys").fetchdf()["k"]
    finally:
        con.close()
    return pd.Series(out.astype("object").where(out.notna(), None).to_numpy(), index=values.index, dtype="object")


def key_lookup(crosswalk: pd.DataFrame, source: str, records: pd.DataFrame | None = None,
               field: str | None = None) -> pd.DataFrame:
    """Normalized key → customer of one person source.

    Args:
        crosswalk: the merge stage's crosswalk (``source``, ``record_id``, ``customer_id``).
        source: the person source the events' key names.
        records: ``None`` when the key is the source's id column (``record_id``); else the source's canonical
            frame with ``record_id`` and ``field``.
        field: the column of ``records`` the key equals.

    Returns one row per normalized key: ``key``, ``customer_id`` (empty when ambiguous) and ``customers`` (how
    many distinct customers the key names).
    """
    own = crosswalk.loc[crosswalk["source"] == source, ["record_id", "customer_id"]].dropna()
    if records is None:
        keyed = own.rename(columns={"record_id": "raw"})
    else:
        keyed = records[["record_id", field]].rename(columns={field: "raw"}).merge(
            own.drop_duplicates("record_id"), on="record_id")[["raw", "customer_id"]]
    keyed = keyed.assign(key=normalize_keys(keyed["raw"])).dropna(subset=["key"])
    grouped = keyed.groupby("key", sort=True)["customer_id"].agg(["nunique", "min"]).reset_index()
    return pd.DataFrame({"key": grouped["key"].to_numpy(dtype=object),
                         "customer_id": grouped["min"].where(grouped["nunique"] == 1, None).to_numpy(dtype=object),
                         "customers": grouped["nunique"].to_numpy(dtype="int64")})


def link_events(events: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """The events (canonical frame of the events source) with ``key`` (normalized ``customer_key``),
    ``customer_id`` and ``link_status`` (:data:`LINK_STATUSES`), in their order, none left out."""
    raw = events["customer_key"] if "customer_key" in events else pd.Series(None, index=events.index, dtype=object)
    keys = normalize_keys(raw)
    found = dict(zip(lookup["key"], lookup["customer_id"], strict=True))
    known = set(lookup["key"])
    customer = pd.Series([found.get(k) if k is not None else None for k in keys], index=events.index, dtype=object)
    customer = pd.Series([c if isinstance(c, str) else None for c in customer], index=events.index, dtype=object)
    status = pd.Series(["anonymous"] * len(keys), index=events.index, dtype="object")
    has_key = keys.notna()
    status[has_key] = "unknown_key"
    status[has_key & keys.isin(known)] = "ambiguous"
    status[customer.notna()] = "linked"
    return events.assign(key=keys, customer_id=customer, link_status=status)


def link_summary(linked: pd.DataFrame) -> pd.DataFrame:
    """Events, distinct visitors and customers per link status (every status, in :data:`LINK_STATUSES` order),
    with the share of all events; the events add up to every event of the source."""
    total = len(linked)
    rows = []
    for status in LINK_STATUSES:
        part = linked[linked["link_status"] == status]
        rows.append({"status": status, "events": len(part),
                     "visitors": int(part["visitor_id"].nunique()) if "visitor_id" in part else 0,
                     "customers": int(part["customer_id"].nunique()), "share": len(part) / total if total else 0.0})
    return pd.DataFrame(rows)


def events_view(linked: pd.DataFrame) -> pd.DataFrame:
    """The linked events as the feature SQL reads them (:data:`EVENT_COLUMNS`): one row per event with a
    customer and a readable time, ``_event`` its position in the source, ``stage`` trimmed."""
    from digiops.dates import parse_dates

    moments = parse_dates(linked["event_time"]) if len(linked) else pd.Series([], dtype="datetime64[ns]")
    frame = pd.DataFrame({"_event": range(len(linked)), "customer_id": linked["customer_id"].to_numpy(dtype=object),
                          "stage": linked["stage"].astype("str").str.strip().to_numpy(dtype=object),
                          "event_time": pd.to_datetime(moments).to_numpy()})
    return frame[frame["customer_id"].notna() & frame["event_time"].notna()].reset_index(drop=True)


def empty_events() -> pd.DataFrame:
    """A zero-row events view (to check a catalog's rules before any data exists)."""
    return pd.DataFrame({"_event": pd.Series([], dtype="int64"), "customer_id": pd.Series([], dtype="object"),
                         "stage": pd.Series([], dtype="object"),
                         "event_time": pd.Series([], dtype="datetime64[ns]")})


def _days(later: str, earlier: str) -> str:
    return f"date_diff('day', {earlier}, {later})"


def behaviour_ctes(as_of: dt.date, events: EventFeatures | None) -> str:
    """CTEs (each followed by a comma) for the feature SQL: ``behaviour`` (one row per customer with linked events
    before ``as_of``) reading the views ``events`` (:func:`events_view`) and ``orders``; empty without events."""
    if events is None:
        return ""
    moment = f"CAST(DATE '{as_of.isoformat()}' AS TIMESTAMP)"
    day = f"DATE '{as_of.isoformat()}'"
    orders = ", ".join(literal(s) for s in events.order)
    visit, cart = literal(events.visit), literal(events.cart)
    return f"""
seen AS (
    SELECT _event, customer_id, stage, event_time, CAST(event_time AS DATE) AS event_date FROM events
    WHERE customer_id IS NOT NULL AND event_time < {moment}
),
conversions AS (
    SELECT customer_id, event_time AS converted_at FROM seen WHERE stage IN ({orders})
    UNION ALL
    SELECT customer_id, CAST(order_time AS TIMESTAMP) AS converted_at FROM orders
    WHERE customer_id IS NOT NULL AND state = 'paid' AND order_time < {moment}
),
cart_outcomes AS (
    SELECT c.customer_id, c._event, max(CASE WHEN v.customer_id IS NULL THEN 0 ELSE 1 END) AS converted
    FROM seen c LEFT JOIN conversions v
      ON v.customer_id = c.customer_id AND v.converted_at >= c.event_time
     AND v.converted_at <= c.event_time + INTERVAL {int(events.window_days)} DAY
    WHERE c.stage = {cart}
    GROUP BY c.customer_id, c._event
),
abandoned AS (
    SELECT customer_id, sum(1 - converted) AS abandoned_carts FROM cart_outcomes GROUP BY customer_id
),
behaviour AS (
    SELECT s.customer_id,
           max(CASE WHEN s.stage = {visit} THEN s.event_date END) AS last_visit_date,
           sum(CASE WHEN s.stage = {visit} THEN 1 ELSE 0 END) AS visits,
           sum(CASE WHEN s.stage = {visit} AND {_days(day, 's.event_date')} <= 30 THEN 1 ELSE 0 END) AS visits_30d,
           sum(CASE WHEN s.stage = {visit} AND {_days(day, 's.event_date')} <= 90 THEN 1 ELSE 0 END) AS visits_90d,
           sum(CASE WHEN s.stage = {cart} THEN 1 ELSE 0 END) AS cart_adds,
           sum(CASE WHEN s.stage IN ({orders}) THEN 1 ELSE 0 END) AS event_orders
    FROM seen s GROUP BY s.customer_id
),"""


def behaviour_columns(as_of: dt.date, events: EventFeatures | None, frequency: str) -> str:
    """The SELECT list of :data:`BEHAVIOUR_FIELDS` in the feature view's final SELECT (``bh``: the ``behaviour``
    CTE, ``ab``: ``abandoned``; ``frequency``: the customer's purchases in the orders table, never null)."""
    if events is None:
        return ", ".join(f"CAST(NULL AS {_TYPES[name]}) AS {name}" for name in BEHAVIOUR_FIELDS)
    day = f"DATE '{as_of.isoformat()}'"
    # a customer without linked events: empty, or zero when the events cover every customer
    zero = "0" if events.complete else "NULL"
    never = "false" if events.complete else "NULL"

    def count(column: str, source: str = "bh") -> str:
        return (f"CASE WHEN bh.customer_id IS NULL THEN CAST({zero} AS BIGINT) "
                f"ELSE CAST(coalesce({source}.{column}, 0) AS BIGINT) END AS {column}")

    return ", ".join([
        f"CASE WHEN bh.visits > 0 THEN CAST({_days(day, 'bh.last_visit_date')} AS BIGINT) END AS visit_recency_days",
        count("visits"), count("visits_30d"), count("visits_90d"), count("cart_adds"),
        count("abandoned_carts", "ab"), count("event_orders"),
        f"CASE WHEN bh.customer_id IS NULL THEN CAST({never} AS BOOLEAN) "
        f"ELSE bh.visits > 0 AND bh.event_orders = 0 AND {frequency} = 0 END AS browse_never_buy"])


BEHAVIOUR_JOINS = ("\nLEFT JOIN behaviour bh ON bh.customer_id = cu.customer_id"
                   "\nLEFT JOIN abandoned ab ON ab.customer_id = cu.customer_id")
