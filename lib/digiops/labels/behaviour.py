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

import pandas as pd
import pyarrow as pa

from digiops import engines
from digiops.dates import DEFAULT_TIMEZONE, parse_dates
from digiops.merge.keys import key_sql
from digiops.sql import literal
from digiops.text_columns import arrow_text

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
#: columns of the events view the feature SQL reads (:data:`EVENTS_SQL`)
EVENT_COLUMNS = ("_event", "customer_id", "stage", "event_time")
#: the views the linking reads (the events as written, the crosswalk, the target source's records) and makes
RAW, CROSSWALK, RECORDS, LINKED = "event_rows", "event_crosswalk", "event_records", "linked_events"


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


def event_table(events: pd.DataFrame, timezone: str = DEFAULT_TIMEZONE) -> pa.Table:
    """The canonical frame of the events source as the linking reads it (the view :data:`RAW`): ``_event`` (the
    event's position in the source), ``visitor_id``, ``customer_key`` and ``stage`` as written (text; empty when
    the source maps no such column) and ``event_time`` read in the client's formats
    (:func:`digiops.dates.parse_dates`, a time with a UTC offset converted to ``timezone``; empty when unreadable),
    in microseconds, which Spark reads."""
    def text(name: str) -> pa.Array:
        return arrow_text(events[name]) if name in events else pa.nulls(len(events), pa.string())

    moments = parse_dates(events["event_time"], timezone) if "event_time" in events and len(events) \
        else pd.Series(pd.NaT, index=events.index, dtype="datetime64[ns]")
    return pa.table({"_event": pa.array(range(len(events)), pa.int64()), "visitor_id": text("visitor_id"),
                     "customer_key": text("customer_key"), "stage": text("stage"),
                     "event_time": pa.Array.from_pandas(moments.astype("datetime64[ns]")).cast(
                         pa.timestamp("us"), safe=False)})


def record_table(records: pd.DataFrame, field: str) -> pa.Table:
    """The target source's records as the linking reads them (the view :data:`RECORDS`): ``record_id`` and
    ``raw``, the key field as written."""
    return pa.table({"record_id": arrow_text(records["record_id"]), "raw": arrow_text(records[field])})


def link_events(con, source: str, *, through_records: bool = False, engine=None) -> None:
    """Make the view :data:`LINKED`: every event of the view :data:`RAW` with ``key`` (its normalized
    ``customer_key``), ``customer_id`` and ``link_status`` (:data:`LINK_STATUSES`), none left out.

    The key is looked up among the rows of ``source`` in the view :data:`CROSSWALK` (the merge stage's crosswalk):
    the normalized ``record_id`` itself, or, ``through_records``, the normalized key field of the source's records
    (the view :data:`RECORDS`, :func:`record_table`). A key that names several customers is ambiguous and links
    to none. DuckDB SQL over ``con``'s views; on Spark a Spark view of the same query over Spark's views
    (:func:`digiops.engines.make_view`), so the events never reach the driver."""
    own = (f"SELECT record_id, min(customer_id) AS customer_id FROM {CROSSWALK} WHERE source = {literal(source)} "
           "AND record_id IS NOT NULL AND customer_id IS NOT NULL GROUP BY record_id")
    keyed = (f"SELECT {key_sql('r.raw')} AS key, o.customer_id FROM {RECORDS} r JOIN ({own}) o "
             "ON o.record_id = r.record_id" if through_records
             else f"SELECT {key_sql('o.record_id')} AS key, o.customer_id FROM ({own}) o")
    lookup = ("SELECT key, CASE WHEN count(DISTINCT customer_id) = 1 THEN min(customer_id) END AS customer_id "
              f"FROM ({keyed}) k WHERE key IS NOT NULL GROUP BY key")
    engines.make_view(con, LINKED, f"""
SELECT e._event, e.visitor_id, e.customer_key, e.stage, e.event_time, e.key, l.customer_id,
       CASE WHEN e.key IS NULL THEN 'anonymous' WHEN l.key IS NULL THEN 'unknown_key'
            WHEN l.customer_id IS NULL THEN 'ambiguous' ELSE 'linked' END AS link_status
FROM (SELECT *, {key_sql('customer_key')} AS key FROM {RAW}) e LEFT JOIN ({lookup}) l ON l.key = e.key""", engine)


def link_summary(con, engine=None) -> pd.DataFrame:
    """Events, distinct visitors and customers per link status of the view :data:`LINKED` (every status, in
    :data:`LINK_STATUSES` order), with the share of all events; the events add up to every event of the source."""
    found = engines.fetch(con, f"SELECT link_status, count(*), count(DISTINCT visitor_id), "
                               f"count(DISTINCT customer_id) FROM {LINKED} GROUP BY link_status", engine)
    counts = {status: (int(events), int(visitors), int(customers)) for status, events, visitors, customers in found}
    total = sum(events for events, _, _ in counts.values())
    rows = []
    for status in LINK_STATUSES:
        events, visitors, customers = counts.get(status, (0, 0, 0))
        rows.append({"status": status, "events": events, "visitors": visitors, "customers": customers,
                     "share": events / total if total else 0.0})
    return pd.DataFrame(rows)


def no_event_links() -> pd.DataFrame:
    """:func:`link_summary`'s table without rows (an engagement without event data)."""
    return pd.DataFrame({"status": pd.Series([], dtype="str"), "events": pd.Series([], dtype="int64"),
                         "visitors": pd.Series([], dtype="int64"), "customers": pd.Series([], dtype="int64"),
                         "share": pd.Series([], dtype="float64")})


#: The linked events as the feature SQL reads them (:data:`EVENT_COLUMNS`): one row per event with a customer and
#: a readable time, ``_event`` its position in the source, ``stage`` trimmed.
EVENTS_SQL = (f"SELECT _event, customer_id, trim(stage, ' \t\r\n\u3000') AS stage, event_time FROM {LINKED} "
              "WHERE customer_id IS NOT NULL AND event_time IS NOT NULL")


def _days(later: str, earlier: str) -> str:
    return f"date_diff('day', {earlier}, {later})"


def behaviour_ctes(as_of: dt.date, events: EventFeatures | None) -> str:
    """CTEs (each followed by a comma) for the feature SQL: ``behaviour`` (one row per customer with linked events
    before ``as_of``) reading the views ``events`` (:data:`EVENTS_SQL`) and ``orders``; empty without events."""
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
