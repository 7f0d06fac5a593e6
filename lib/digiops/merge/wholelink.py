"""The whole link (seed 002): orders re-keyed to the unified customer, joined to shipments and the product master,
so one commodity can be followed from channel to order to delivery.

Every order gets a ``state`` from its status (:func:`status_state` over the engagement's ``merge.order_states``)
and ``in_gmv``, whether its amount counts toward GMV:

* ``test`` — a staff test order (a test marker in its status, sku, note or buyer name): out of GMV;
* ``refund`` — a refund row, with a negative amount or a ``refund_of``: in GMV, as the negative amount it is;
* ``refunded`` — a status saying the money went back (已退款, 退款成功) on a row that is no refund row: out;
* ``cancelled`` — a status saying the order was never paid or was closed (交易关闭, 已取消): out;
* ``paid`` — a paid status, an empty one, or one no marker knows (reported by :func:`unknown_statuses`): in.

A platform that writes a negative refund row *and* marks the original refunded would take the money off twice:
map that platform's refunded status to ``paid`` in the engagement file.

Example:
    >>> channel_of("pos_receipts", None), channel_of("mall_orders", None), channel_of("tmall", None)
    ('store', 'mall', 'online')
"""

from __future__ import annotations

import datetime as dt
import math
import re

import pandas as pd

from digiops import engines, tables
from digiops.settings.merge import ORDER_STATES
from digiops.sql import column, literal


ORDER_COLUMNS = tables.columns("orders")
_ORDER_TYPES = {"order_time": "TIMESTAMP", "amount": "DECIMAL(18, 2)", "quantity": "BIGINT", "is_refund": "BOOLEAN",
                "is_test": "BOOLEAN", "in_gmv": "BOOLEAN", "line": "BIGINT"}
#: States whose orders' amounts count toward GMV (paid orders and the negative refund rows).
GMV_STATES = ("paid", "refund")
UNKNOWN_STATUS_COLUMNS = ["source", "status", "orders", "amount"]
SHIPMENT_COLUMNS = tables.columns("shipments")
PRODUCT_COLUMNS = tables.columns("products")
MONEY = tables.MONEY


def channel_of(source: str, configured: str | None) -> str:
    """``mall`` / ``online`` / ``store`` for an orders source: configured, else from its name."""
    if configured:
        return configured
    name = source.lower()
    if re.search(r"pos|store|shop_?receipt|门店", name):
        return "store"
    if re.search(r"(?<![a-z])mall|商城", name):
        return "mall"
    return "online"


def _contains_any(values: pd.Series, markers: list[str]) -> pd.Series:
    if not markers:
        return pd.Series(False, index=values.index)
    pattern = "|".join(re.escape(m) for m in markers)
    return values.fillna("").astype(str).str.contains(pattern, case=False, regex=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(None, index=frame.index, dtype=object)


def test_records(frame: pd.DataFrame, markers: list[str]) -> pd.Series:
    """Records a client's staff made to test a system: a marker in the status, sku, note or buyer name, or a true
    ``is_test`` column. They are flagged, never dropped; the merge puts them under one test account."""
    text = _column(frame, "status").fillna("").astype(str)
    for name in ("sku", "note", "full_name"):
        text = text + " " + _column(frame, name).fillna("").astype(str)
    is_test = _contains_any(text, markers)
    if "is_test" in frame:
        is_test = is_test | frame["is_test"].fillna(False).astype(bool)
    return is_test.astype(bool)


def money(values: pd.Series) -> pd.Series:
    """Decimal values as an exact ``decimal128(18, 2)`` column."""
    return pd.Series(pd.array(values.astype(object).where(values.notna(), None).tolist(),
                              dtype=pd.ArrowDtype(MONEY)), index=values.index)


def status_state(status: object, states: dict[str, list[str]]) -> str | None:
    """The state an order's status names (``states``: state → markers, as ``merge.order_states``), or ``None``
    when no marker matches.

    Compared trimmed and case-insensitively: a status equal to a marker takes that marker's state; else the longest
    marker the status contains wins (between equally long ones: test, refunded, cancelled, then paid). An empty
    status is ``paid``.

    >>> states = {"paid": ["完成", "paid"], "refunded": ["退款完成"], "cancelled": ["unpaid"], "test": []}
    >>> [status_state(s, states) for s in ("退款完成", "部分退款完成", "交易完成", " UNPAID", "", "待审核")]
    ['refunded', 'refunded', 'paid', 'cancelled', 'paid', None]
    """
    if status is None or (isinstance(status, float) and math.isnan(status)):
        return "paid"
    text = str(status).strip().lower()
    if not text:
        return "paid"
    markers = [(state, marker.strip().lower()) for state in ORDER_STATES for marker in states.get(state, ())]
    exact = next((state for state, marker in markers if marker == text), None)
    if exact is not None:
        return exact
    best, length = None, 0
    for state, marker in markers:
        if marker and len(marker) > length and marker in text:
            best, length = state, len(marker)
    return best


def unknown_statuses(counts: pd.DataFrame, states: dict[str, list[str]]) -> pd.DataFrame:
    """The rows of ``counts`` (``source, status, orders, amount`` of the orders counted as paid, per status) whose
    status no state's markers match: they count as paid, and the consultant decides whether they should."""
    known = [status_state(s, states) is not None for s in counts["status"]]
    unknown = counts.loc[~pd.Series(known, index=counts.index, dtype=bool), UNKNOWN_STATUS_COLUMNS]
    return unknown.sort_values(["orders", "source", "status"], ascending=[False, True, True]).reset_index(drop=True)


def order_number(columns: list[str], alias: str = "") -> str:
    """SQL: the order number of a cleaned orders row — the one the lines of a line-grain source share (``_order``),
    else its record id."""
    prefix = f"{alias}." if alias else ""
    return f"coalesce({prefix}_order, {prefix}record_id)" if "_order" in columns else f"{prefix}record_id"


def _status_states(con, sources: dict[str, tuple[str, list[str]]], states: dict[str, list[str]],
                   engine: engines.EngineSettings | None = None) -> None:
    """Table ``status_states`` (status, state): every distinct status of the orders sources and the state it names
    (null when unknown). A few dozen values at most, so Python classifies them and SQL joins the result."""
    seen: set[str] = set()
    for scan, columns in sources.values():
        if "status" in columns:
            rows = engines.fetch(con, f"SELECT DISTINCT {column(columns, 'status', alias='o')} FROM {scan} o", engine)
            seen.update(value for value, in rows if value is not None)
    values = sorted(seen)
    engines.register(con, "_status_states", pd.DataFrame({
        "status": pd.Series(values, dtype=object),
        "state": pd.Series([status_state(v, states) for v in values], dtype=object)}), engine)
    engines.make_table(con, "status_states", "SELECT CAST(status AS VARCHAR) AS status, "
                       "CAST(state AS VARCHAR) AS state FROM _status_states", engine)
    con.unregister("_status_states")


def _mentions(expression: str, markers: list[str]) -> str:
    """SQL: the text contains one of the markers, case-insensitively (false for null text)."""
    if not markers:
        return "false"
    return "(" + " OR ".join(f"contains(lower(coalesce({expression}, '')), {literal(m.lower())})"
                             for m in markers) + ")"


def orders_sql(con, sources: dict[str, tuple[str, list[str]]], crosswalk: str, stores: pd.DataFrame | None, *,
               order_channels: dict[str, str], region_by_province: dict[str, str],
               order_states: dict[str, list[str]], engine: engines.EngineSettings | None = None) -> str:
    """The query of every usable order, re-keyed to ``customer_id`` (null when anonymous), with its state and
    whether it counts toward GMV (:data:`ORDER_COLUMNS`; the states are in the module's docstring).

    ``is_refund`` is true for refund rows and for refunded statuses, ``is_test`` for test orders (as before the
    states: older readers keep working).

    A line-grain source (``grain``: one row per order line) gives one row per line: the lines of one order share
    ``order_id`` (``source:order number``), each keeps its own amount, quantity and sku, and ``line`` numbers it
    within its order (null for an order-grain source). Whoever counts orders counts distinct ``order_id``.
    ``_position`` and ``_row`` (the source's position and the row in its file) give the rows' order.

    Args:
        sources: orders source name → (SQL that reads its cleaned rows, its columns).
        crosswalk: a table in ``con`` with ``source, _row, customer_id`` (``_row``: the record's row in its file).
        stores: the cleaned store master (region and province of a store's orders), or ``None``.
        order_states: state → status markers (``merge.order_states``).
        engine: where the query runs (its small tables are made there, :func:`digiops.engines.make_table`).
    """
    store_rows = pd.DataFrame({"store_id": pd.Series(dtype=object), "region": pd.Series(dtype=object),
                               "province": pd.Series(dtype=object)})
    if stores is not None and len(stores) and "store_id" in stores:
        store_rows = stores.dropna(subset=["store_id"]).drop_duplicates("store_id").reindex(
            columns=["store_id", "region", "province"]).astype(object)
    engines.register(con, "_stores", store_rows, engine)
    engines.make_table(con, "store_master", "SELECT CAST(store_id AS VARCHAR) AS store_id, "
                       "CAST(region AS VARCHAR) AS region, CAST(province AS VARCHAR) AS province FROM _stores", engine)
    con.unregister("_stores")
    regions = pd.DataFrame({"province": list(region_by_province), "region": list(region_by_province.values())},
                           dtype=object)
    engines.register(con, "_regions", regions, engine)
    engines.make_table(con, "province_region", "SELECT CAST(province AS VARCHAR) AS province, "
                       "CAST(region AS VARCHAR) AS region FROM _regions", engine)
    con.unregister("_regions")
    _status_states(con, sources, order_states, engine)
    parts = []
    for position, (name, (scan, columns)) in enumerate(sources.items()):
        has = lambda c, kind="VARCHAR": column(columns, c, kind, "o")  # noqa: E731
        refund_row = (f"(coalesce({has('amount', 'DECIMAL(18, 2)')} < 0, false) "
                      f"OR {has('refund_of')} IS NOT NULL)")
        test = "(coalesce(o._test, false) OR coalesce(st.state = 'test', false))"
        parts.append(f"""
            SELECT {literal(name + ":")} || {order_number(columns, "o")} AS order_id, {literal(name)} AS source,
                   {literal(channel_of(name, order_channels.get(name)))} AS channel, x.customer_id,
                   {has("order_time", "TIMESTAMP")} AS order_time, {has("amount", "DECIMAL(18, 2)")} AS amount,
                   {has("quantity", "BIGINT")} AS quantity, {has("sku")} AS sku, {has("store_id")} AS store_id,
                   {has("province")} AS own_province, {has("status")} AS status,
                   {refund_row} OR coalesce(st.state = 'refunded', false) AS is_refund, {test} AS is_test,
                   CASE WHEN {test} THEN 'test' WHEN {refund_row} THEN 'refund' ELSE coalesce(st.state, 'paid')
                   END AS state, {has("line", "BIGINT")} AS line, {position} AS _position, o._row
            FROM {scan} o
            LEFT JOIN {crosswalk} x ON x.source = {literal(name)} AND x._row = o._row
            LEFT JOIN status_states st ON st.status = {has("status")}""")
    if not parts:
        return ("SELECT " + ", ".join(f"CAST(NULL AS {_ORDER_TYPES.get(c, 'VARCHAR')}) AS {c}" for c in ORDER_COLUMNS)
                + ", 0 AS _position, 0::BIGINT AS _row WHERE false")
    gmv_states = ", ".join(literal(s) for s in GMV_STATES)
    return f"""
        WITH o AS ({" UNION ALL ".join(parts)})
        SELECT o.order_id, o.source, o.channel, o.customer_id, o.order_time, o.amount, o.quantity, o.sku,
               o.store_id, coalesce(s.region, r_prov.region) AS region,
               coalesce(o.own_province, s.province) AS province, o.status, o.is_refund, o.is_test, o.state,
               o.state IN ({gmv_states}) AS in_gmv, o.line, o._position, o._row
        FROM o
        LEFT JOIN store_master s ON s.store_id = o.store_id
        LEFT JOIN province_region r_prov ON r_prov.province = coalesce(o.own_province, s.province)"""


def shipments_sql(con, shipment_sources: dict[str, tuple[str, list[str]]],
                  order_sources: dict[str, tuple[str, list[str]]], *, as_of: dt.date,
                  failed_markers: list[str], engine: engines.EngineSettings | None = None) -> tuple[str, str]:
    """Queries of the shipments joined to their order (``order_id`` as in orders, :data:`SHIPMENT_COLUMNS` plus
    ``_source``, ``_position`` and ``_row``, which give the rows' order) and of the quarantine rows of shipments
    whose order is in no orders source; table ``order_lookup`` is made where they run (``engine``)."""
    lookups = [f"SELECT {order_number(columns)} AS raw_order, {literal(name + ':')} || {order_number(columns)} "
               f"AS order_id, {i} AS _position, _row FROM {scan}"
               for i, (name, (scan, columns)) in enumerate(order_sources.items())
               if channel_of(name, None) != "store"]
    lookup = (" UNION ALL ".join(lookups) if lookups
              else "SELECT CAST(NULL AS VARCHAR) AS raw_order, CAST(NULL AS VARCHAR) AS order_id, 0 AS _position, "
                   "0 AS _row WHERE false")
    engines.make_table(con, "order_lookup", f"""
        SELECT raw_order, arg_min(order_id, (_position, _row)) AS order_id FROM ({lookup}) GROUP BY raw_order""",
                       engine)
    now = literal((pd.Timestamp(as_of) + pd.Timedelta(days=1)).isoformat())
    kept, lost = [], []
    for position, (name, (scan, columns)) in enumerate(shipment_sources.items()):
        has = lambda c, kind="VARCHAR": column(columns, c, kind, "s")  # noqa: E731
        failed = _mentions(has("status"), failed_markers)
        joined = (f"FROM {scan} s "
                  f"LEFT JOIN order_lookup l ON l.raw_order = {has('order_id')}")
        kept.append(f"""
            SELECT {literal(name + ":")} || s.record_id AS shipment_id, l.order_id, {has("carrier")} AS carrier,
                   {has("tracking_no")} AS tracking_no, {has("status")} AS status,
                   {has("shipped_at", "TIMESTAMP")} AS shipped_at, {has("signed_at", "TIMESTAMP")} AS signed_at,
                   {has("promised_at", "TIMESTAMP")} AS promised_at,
                   coalesce({has("signed_at", "TIMESTAMP")} > {has("promised_at", "TIMESTAMP")}
                            OR ({has("signed_at", "TIMESTAMP")} IS NULL AND {has("promised_at", "TIMESTAMP")}
                                < CAST({now} AS TIMESTAMP) AND NOT {failed}), false) AS is_late,
                   {failed} AS is_failed, {literal(name)} AS _source, {position} AS _position, s._row
            {joined} WHERE l.order_id IS NOT NULL""")
        lost.append(f"""
            SELECT {literal(name)} AS source, s._row AS "row", s.record_id, 'order_id' AS field,
                   'order ' || {has('order_id')} || ' is in no orders source' AS reason
            {joined} WHERE l.order_id IS NULL""")
    if not kept:
        empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in SHIPMENT_COLUMNS + ["_source"]) + \
            ", 0 AS _position, 0::BIGINT AS _row"
        return f"SELECT {empty} WHERE false", ("SELECT CAST(NULL AS VARCHAR) AS source, 0 AS \"row\", "
                                              "CAST(NULL AS VARCHAR) AS record_id, '' AS field, '' AS reason "
                                              "WHERE false")
    shipments = f"SELECT {', '.join(SHIPMENT_COLUMNS)}, _source, _position, _row FROM ({' UNION ALL '.join(kept)})"
    return shipments, " UNION ALL ".join(lost)


def build_products(products: list[pd.DataFrame]) -> pd.DataFrame:
    """The product master from the cleaned products sources (first row of each sku)."""
    if not products:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PRODUCT_COLUMNS})
    frame = pd.concat(products, ignore_index=True)
    out = pd.DataFrame({c: _column(frame, c) for c in PRODUCT_COLUMNS})
    out["price"] = money(out["price"])
    return out.drop_duplicates("sku").reset_index(drop=True)


def order_journey(orders: pd.DataFrame, shipments: pd.DataFrame, products: pd.DataFrame,
                  customers: pd.DataFrame, order_id: str) -> pd.DataFrame:
    """One order from channel to delivery, as a two-column table (step, value) — personal fields unmasked: mask
    before display. An order of several lines shows its total amount, its number of lines and its first line's
    sku and product."""
    lines = orders[orders["order_id"] == order_id]
    order = lines.iloc[0]
    amount = order["amount"] if len(lines) == 1 else lines["amount"].sum()
    steps = [("channel", order["channel"]), ("source", order["source"]), ("order_id", order_id),
             ("order_time", order["order_time"]), ("amount", amount), ("sku", order["sku"])]
    if len(lines) > 1:
        steps.insert(5, ("lines", len(lines)))
    product = products[products["sku"] == order["sku"]]
    if len(product):
        steps += [("product_name", product.iloc[0]["product_name"]), ("category", product.iloc[0]["category"])]
    customer = customers[customers["customer_id"] == order["customer_id"]]
    if len(customer):
        row = customer.iloc[0]
        steps += [("customer_id", row["customer_id"]), ("full_name", row.get("full_name")),
                  ("phone", row.get("phone")), ("sources", row.get("sources")),
                  ("first_touch_channel", row.get("first_touch_channel"))]
    shipment = shipments[shipments["order_id"] == order_id]
    if len(shipment):
        row = shipment.iloc[0]
        steps += [("carrier", row["carrier"]), ("tracking_no", row["tracking_no"]), ("shipped_at", row["shipped_at"]),
                  ("signed_at", row["signed_at"]), ("delivery_status", row["status"]), ("is_late", row["is_late"])]
    return pd.DataFrame(steps, columns=["step", "value"]).astype({"value": str})
