"""The whole link (seed 002): orders re-keyed to the unified customer, joined to shipments and the product master,
so one commodity can be followed from channel to order to delivery.

Example:
    >>> channel_of("pos_receipts", None), channel_of("mall_orders", None), channel_of("tmall", None)
    ('store', 'mall', 'online')
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pyarrow as pa

from digiops.sql import column, literal


ORDER_COLUMNS = ["order_id", "source", "channel", "customer_id", "order_time", "amount", "quantity", "sku",
                 "store_id", "region", "province", "status", "is_refund", "is_test"]
SHIPMENT_COLUMNS = ["shipment_id", "order_id", "carrier", "tracking_no", "status", "shipped_at", "signed_at",
                    "promised_at", "is_late", "is_failed"]
PRODUCT_COLUMNS = ["sku", "product_name", "category", "price", "price_band"]
MONEY = pa.decimal128(18, 2)


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


def _mentions(expression: str, markers: list[str]) -> str:
    """SQL: the text contains one of the markers, case-insensitively (false for null text)."""
    if not markers:
        return "false"
    return "(" + " OR ".join(f"contains(lower(coalesce({expression}, '')), {literal(m.lower())})"
                             for m in markers) + ")"


def orders_sql(con, sources: dict[str, tuple[str, list[str]]], crosswalk: str, stores: pd.DataFrame | None, *,
               order_channels: dict[str, str], region_by_province: dict[str, str],
               refund_markers: list[str]) -> str:
    """The query of every usable order, re-keyed to ``customer_id`` (null when anonymous), refunds and tests
    flagged (:data:`ORDER_COLUMNS`).

    Args:
        sources: orders source name → (SQL that reads its cleaned rows, its columns).
        crosswalk: a table in ``con`` with ``source, _row, customer_id`` (``_row``: the record's row in its file).
        stores: the cleaned store master (region and province of a store's orders), or ``None``.
    """
    store_rows = pd.DataFrame({"store_id": pd.Series(dtype=object), "region": pd.Series(dtype=object),
                               "province": pd.Series(dtype=object)})
    if stores is not None and len(stores) and "store_id" in stores:
        store_rows = stores.dropna(subset=["store_id"]).drop_duplicates("store_id").reindex(
            columns=["store_id", "region", "province"]).astype(object)
    con.register("_stores", store_rows)
    con.execute("CREATE OR REPLACE TEMP TABLE store_master AS SELECT CAST(store_id AS VARCHAR) AS store_id, "
                "CAST(region AS VARCHAR) AS region, CAST(province AS VARCHAR) AS province FROM _stores")
    con.unregister("_stores")
    regions = pd.DataFrame({"province": list(region_by_province), "region": list(region_by_province.values())},
                           dtype=object)
    con.register("_regions", regions)
    con.execute("CREATE OR REPLACE TEMP TABLE province_region AS SELECT CAST(province AS VARCHAR) AS province, "
                "CAST(region AS VARCHAR) AS region FROM _regions")
    con.unregister("_regions")
    parts = []
    for position, (name, (scan, columns)) in enumerate(sources.items()):
        has = lambda c, kind="VARCHAR": column(columns, c, kind, "o")  # noqa: E731
        parts.append(f"""
            SELECT {literal(name + ":")} || o.record_id AS order_id, {literal(name)} AS source,
                   {literal(channel_of(name, order_channels.get(name)))} AS channel, x.customer_id,
                   {has("order_time", "TIMESTAMP")} AS order_time, {has("amount", "DECIMAL(18, 2)")} AS amount,
                   {has("quantity", "BIGINT")} AS quantity, {has("sku")} AS sku, {has("store_id")} AS store_id,
                   {has("province")} AS own_province, {has("status")} AS status,
                   {_mentions(has("status"), refund_markers)} OR coalesce({has("amount", "DECIMAL(18, 2)")} < 0,
                   false) OR {has("refund_of")} IS NOT NULL AS is_refund,
                   coalesce(o._test, false) AS is_test, {position} AS _position, o._row
            FROM {scan} o
            LEFT JOIN {crosswalk} x ON x.source = {literal(name)} AND x._row = o._row""")
    if not parts:
        return ("SELECT " + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in ORDER_COLUMNS) + " WHERE false")
    return f"""
        WITH o AS ({" UNION ALL ".join(parts)})
        SELECT o.order_id, o.source, o.channel, o.customer_id, o.order_time, o.amount, o.quantity, o.sku,
               o.store_id, coalesce(s.region, r_prov.region) AS region,
               coalesce(o.own_province, s.province) AS province, o.status, o.is_refund, o.is_test
        FROM o
        LEFT JOIN store_master s ON s.store_id = o.store_id
        LEFT JOIN province_region r_prov ON r_prov.province = coalesce(o.own_province, s.province)
        ORDER BY o._position, o._row"""


def shipments_sql(con, shipment_sources: dict[str, tuple[str, list[str]]],
                  order_sources: dict[str, tuple[str, list[str]]], *, as_of: dt.date,
                  failed_markers: list[str]) -> tuple[str, str]:
    """Queries of the shipments joined to their order (``order_id`` as in orders, :data:`SHIPMENT_COLUMNS` plus
    ``_source``) and of the quarantine rows of shipments whose order is in no orders source."""
    lookups = [f"SELECT record_id AS raw_order, {literal(name + ':')} || record_id AS order_id, {i} AS _position, "
               f"_row FROM {scan}"
               for i, (name, (scan, columns)) in enumerate(order_sources.items())
               if channel_of(name, None) != "store"]
    lookup = (" UNION ALL ".join(lookups) if lookups
              else "SELECT CAST(NULL AS VARCHAR) AS raw_order, CAST(NULL AS VARCHAR) AS order_id, 0 AS _position, "
                   "0 AS _row WHERE false")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE order_lookup AS
        SELECT raw_order, arg_min(order_id, (_position, _row)) AS order_id FROM ({lookup}) GROUP BY raw_order""")
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
        empty = ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in SHIPMENT_COLUMNS + ["_source"])
        return f"SELECT {empty} WHERE false", ("SELECT CAST(NULL AS VARCHAR) AS source, 0 AS \"row\", "
                                              "CAST(NULL AS VARCHAR) AS record_id, '' AS field, '' AS reason "
                                              "WHERE false")
    shipments = (f"SELECT {', '.join(SHIPMENT_COLUMNS)}, _source FROM ({' UNION ALL '.join(kept)}) "
                 "ORDER BY _position, _row")
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
    before display."""
    order = orders[orders["order_id"] == order_id].iloc[0]
    steps = [("channel", order["channel"]), ("source", order["source"]), ("order_id", order_id),
             ("order_time", order["order_time"]), ("amount", order["amount"]), ("sku", order["sku"])]
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
