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

from digiops.merge.clean import CleanSource

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
    for column in ("sku", "note", "full_name"):
        text = text + " " + _column(frame, column).fillna("").astype(str)
    is_test = _contains_any(text, markers)
    if "is_test" in frame:
        is_test = is_test | frame["is_test"].fillna(False).astype(bool)
    return is_test.astype(bool)


def money(values: pd.Series) -> pd.Series:
    """Decimal values as an exact ``decimal128(18, 2)`` column."""
    return pd.Series(pd.array(values.astype(object).where(values.notna(), None).tolist(),
                              dtype=pd.ArrowDtype(MONEY)), index=values.index)


def build_orders(order_sources: dict[str, CleanSource], crosswalk: pd.DataFrame, stores: pd.DataFrame | None,
                 *, order_channels: dict[str, str], region_by_province: dict[str, str], test_markers: list[str],
                 refund_markers: list[str]) -> pd.DataFrame:
    """Every usable order, re-keyed to ``customer_id`` (null when anonymous), refunds and tests flagged."""
    frames = []
    store_region = store_province = {}
    if stores is not None and len(stores) and "store_id" in stores:
        indexed = stores.dropna(subset=["store_id"]).drop_duplicates("store_id").set_index("store_id")
        store_region = indexed["region"].to_dict() if "region" in indexed else {}
        store_province = indexed["province"].to_dict() if "province" in indexed else {}
    keys = crosswalk[["source", "record_id", "customer_id"]]
    for name, cleaned in order_sources.items():
        frame = cleaned.clean
        linked = frame[["record_id"]].merge(keys[keys["source"] == name][["record_id", "customer_id"]],
                                            on="record_id", how="left")
        store_id = _column(frame, "store_id")
        province = _column(frame, "province").where(_column(frame, "province").notna(), store_id.map(store_province))
        region = store_id.map(store_region)
        region = region.where(region.notna(), province.map(region_by_province))
        status = _column(frame, "status")
        amount = _column(frame, "amount")
        is_test = test_records(frame, test_markers)
        is_refund = _contains_any(status, refund_markers) | amount.map(lambda a: a is not None and a < 0) | \
            _column(frame, "refund_of").notna()
        frames.append(pd.DataFrame({
            "order_id": name + ":" + frame["record_id"].astype(str), "source": name,
            "channel": channel_of(name, order_channels.get(name)), "customer_id": linked["customer_id"].to_numpy(),
            "order_time": pd.to_datetime(_column(frame, "order_time")), "amount": amount,
            "quantity": pd.array(_column(frame, "quantity").tolist(), dtype="Int64"),
            "sku": _column(frame, "sku"), "store_id": store_id, "region": region, "province": province,
            "status": status, "is_refund": is_refund.astype(bool), "is_test": is_test.astype(bool)}))
    if not frames:
        orders = pd.DataFrame({c: pd.Series(dtype=object) for c in ORDER_COLUMNS})
    else:
        orders = pd.concat(frames, ignore_index=True)
    orders["amount"] = money(orders["amount"])
    orders["order_time"] = pd.to_datetime(orders["order_time"])
    return orders[ORDER_COLUMNS]


def build_shipments(shipment_sources: dict[str, CleanSource], order_sources: dict[str, CleanSource], *,
                    as_of: dt.date, failed_markers: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Shipments joined to their order (``order_id`` as in orders). Returns shipments and the quarantine rows of
    shipments whose order is in no orders source."""
    lookup = []
    for name, cleaned in order_sources.items():
        if channel_of(name, None) == "store" or "record_id" not in cleaned.clean:
            continue
        lookup.append(pd.DataFrame({"raw_order": cleaned.clean["record_id"].astype(str),
                                    "order_id": name + ":" + cleaned.clean["record_id"].astype(str)}))
    lookup_frame = (pd.concat(lookup).drop_duplicates("raw_order") if lookup
                    else pd.DataFrame(columns=["raw_order", "order_id"]))
    frames, lost = [], []
    now = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    for name, cleaned in shipment_sources.items():
        frame = cleaned.clean
        joined = frame.assign(raw_order=_column(frame, "order_id").astype(str)).merge(
            lookup_frame, on="raw_order", how="left", suffixes=("_raw", ""))
        missing = joined["order_id"].isna()
        if missing.any():
            lost.append(pd.DataFrame({"source": name, "row": joined.loc[missing, "_row"].astype("int64"),
                                      "record_id": joined.loc[missing, "record_id"], "field": "order_id",
                                      "reason": "order " + joined.loc[missing, "raw_order"] + " is in no orders "
                                                "source"}))
        joined = joined[~missing]
        signed = pd.to_datetime(_column(joined, "signed_at"))
        promised = pd.to_datetime(_column(joined, "promised_at"))
        is_failed = _contains_any(_column(joined, "status"), failed_markers)
        late = (signed > promised) | (signed.isna() & promised.notna() & (promised < now) & ~is_failed)
        frames.append(pd.DataFrame({
            "shipment_id": name + ":" + joined["record_id"].astype(str), "order_id": joined["order_id"],
            "carrier": _column(joined, "carrier"), "tracking_no": _column(joined, "tracking_no"),
            "status": _column(joined, "status"), "shipped_at": pd.to_datetime(_column(joined, "shipped_at")),
            "signed_at": signed, "promised_at": promised, "is_late": late.fillna(False).astype(bool),
            "is_failed": is_failed.astype(bool), "_row": joined["_row"]}))
    shipments = (pd.concat(frames, ignore_index=True) if frames
                 else pd.DataFrame({c: pd.Series(dtype=object) for c in SHIPMENT_COLUMNS + ["_row"]}))
    quarantine = pd.concat(lost, ignore_index=True) if lost else None
    return shipments, quarantine


def build_products(product_sources: dict[str, CleanSource]) -> pd.DataFrame:
    frames = [s.clean for s in product_sources.values()]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PRODUCT_COLUMNS})
    frame = pd.concat(frames, ignore_index=True)
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
