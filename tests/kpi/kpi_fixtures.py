"""Fixture frames in the shapes the kpi stage reads (docs/architecture.md), small and deterministic.

Two regions of two stores each plus online orders, January to mid-April 2026 (so the run-rate month is open),
refunds and test orders included. :func:`write_client` writes a whole client folder (engagement file, tree and raw
CSVs) and a run folder holding the merge stage's Parquets, so the notebook can run without the demo client.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from digiops import paths

STORES = {"S01": "华东", "S02": "华东", "S03": "华南", "S04": "华南"}
UNITS = [*STORES, "online"]
LAST_DAY = dt.date(2026, 4, 15)


def stores_frame() -> pd.DataFrame:
    return pd.DataFrame({"store_id": list(STORES), "region": list(STORES.values()),
                         "store_name": [f"门店{s}" for s in STORES]})


def orders_frame(seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    day = dt.date(2026, 1, 1)
    number = 0
    while day <= LAST_DAY:
        for unit in UNITS:
            for _ in range(rng.randint(2, 5) + (day.month - 1)):
                number += 1
                cents = rng.randint(1500, 60000)
                customer = f"C{rng.randint(1, 120):07d}" if rng.random() < 0.8 else None
                rows.append({"order_id": f"{'pos' if unit != 'online' else 'mall'}:{number}",
                             "source": "pos_receipts" if unit != "online" else "mall_orders",
                             "channel": "store" if unit != "online" else "mall", "customer_id": customer,
                             "order_time": pd.Timestamp(day) + pd.Timedelta(minutes=rng.randint(0, 1439)),
                             "amount": Decimal(cents) / 100, "quantity": 1, "sku": "SKU1",
                             "store_id": unit if unit != "online" else None,
                             "region": STORES.get(unit, "华北"), "province": None, "status": "paid",
                             "is_refund": False, "is_test": rng.random() < 0.03})
                if rng.random() < 0.05:
                    number += 1
                    rows.append(dict(rows[-1], order_id=f"{rows[-1]['order_id']}R", amount=-rows[-1]["amount"],
                                     is_refund=True, is_test=False))
        day += dt.timedelta(days=1)
    return pd.DataFrame(rows)


def write_orders_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write orders with ``amount`` as decimal128(18,2), as the merge stage does."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    index = table.schema.get_field_index("amount")
    table = table.set_column(index, "amount", pa.array(frame["amount"].tolist(), type=pa.decimal128(18, 2)))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def customers_frame() -> pd.DataFrame:
    ids = [f"C{i:07d}" for i in range(1, 121)]
    return pd.DataFrame({"customer_id": ids, "member_level": ["金卡" if i % 3 == 0 else None for i in range(120)]})


def shipments_frame(orders: pd.DataFrame) -> pd.DataFrame:
    online = orders[(orders["channel"] == "mall") & ~orders["is_refund"]].reset_index(drop=True)
    late = [i % 7 == 0 for i in range(len(online))]
    failed = [i % 29 == 0 for i in range(len(online))]
    return pd.DataFrame({"shipment_id": [f"SH{i}" for i in range(len(online))], "order_id": online["order_id"],
                         "carrier": "顺丰", "tracking_no": "x", "status": "signed",
                         "shipped_at": online["order_time"], "signed_at": online["order_time"] + pd.Timedelta(days=2),
                         "promised_at": online["order_time"] + pd.Timedelta(days=3), "is_late": late,
                         "is_failed": failed})


def traffic_rows(seed: int = 11, last_day: dt.date = LAST_DAY) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    day = dt.date(2026, 1, 1)
    while day <= last_day:
        for unit in UNITS:
            rows.append({"date": day.isoformat(), "unit": unit, "visitors": str(rng.randint(40, 90))})
        day += dt.timedelta(days=1)
    return pd.DataFrame(rows)


def target_rows() -> pd.DataFrame:
    rows = []
    for period, gmv in (("2026-01", 120000), ("2026-02", 130000), ("2026-03", 150000), ("2026-04", 170000)):
        rows.append({"kpi_id": "gmv", "unit": "all", "period": period, "target": str(gmv)})
        for region in ("华东", "华南", "online"):
            rows.append({"kpi_id": "gmv", "unit": region, "period": period, "target": str(gmv // 3)})
        for store in STORES:
            rows.append({"kpi_id": "gmv", "unit": store, "period": period, "target": str(gmv // 6)})
        rows.append({"kpi_id": "conversion_rate", "unit": "all", "period": period, "target": "5%"})
        rows.append({"kpi_id": "on_time_rate", "unit": "all", "period": period, "target": "0.9"})
        rows.append({"kpi_id": "repurchase_rate", "unit": "all", "period": period, "target": "0.5"})
    return pd.DataFrame(rows)


def funnel_rows(seed: int = 5) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    number = 0
    for visitor in range(400):
        start = pd.Timestamp("2026-01-01") + pd.Timedelta(hours=rng.randint(0, 24 * 100))
        channel = rng.choice(["小程序", "天猫"])
        time = start
        for stage, keep in (("visit", 1.0), ("add_to_cart", 0.5), ("order", 0.6), ("repurchase", 0.3)):
            if rng.random() > keep:
                break
            number += 1
            rows.append({"event_id": f"E{number}", "visitor_id": f"V{visitor}", "stage": stage,
                         "event_time": time.isoformat(sep=" "), "channel": channel})
            time += pd.Timedelta(days=rng.randint(0, 20))
    return pd.DataFrame(rows)


def action_rows() -> pd.DataFrame:
    return pd.DataFrame([
        {"action_id": "A1", "action": "华南门店午市套餐", "owner": "王经理", "kpi_id": "gmv", "due": "2026-03-31",
         "status": "done", "created_at": "2026-03-02", "note": ""},
        {"action_id": "A2", "action": "顺丰加急线路", "owner": "李经理", "kpi_id": "on_time_rate",
         "due": "2026-03-15", "status": "in_progress", "created_at": "2026-03-02", "note": "延期"},
    ])


def with_row(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """As ``canonical_frame`` returns it: text cells, ``source``, ``record_id`` and ``_row``."""
    out = frame.astype("str")
    out.insert(0, "record_id", [str(i) for i in range(1, len(out) + 1)])
    out.insert(0, "source", source)
    out["_row"] = range(2, len(out) + 2)
    return out


ENGAGEMENT = """schema_version: 1
client: {id: kpifix, name_zh: 测试茶饮, name_en: Fixture Tea}
engagement: KPI fixture
language: zh
period: {start: 2026-01-01, end: 2026-12-31}
stages: [kpi]
sources:
  stores: {path: raw/stores.csv, kind: stores, columns: {store_id: store_id, region: region, store_name: store_name}}
  kpi_targets: {path: raw/kpi_targets.csv, kind: targets,
                columns: {kpi_id: kpi_id, unit: unit, period: period, target: target}}
  traffic: {path: raw/traffic.csv, kind: traffic, columns: {date: date, unit: unit, visitors: visitors}}
  funnel_events: {path: raw/funnel_events.csv, kind: funnel, id_column: event_id,
                  columns: {event_id: event_id, visitor_id: visitor_id, stage: stage, event_time: event_time,
                            channel: channel}}
  action_log: {path: raw/action_log.csv, kind: actions, id_column: action_id,
               columns: {action_id: action_id, action: action, owner: owner, kpi_id: kpi_id, due: due,
                         status: status, created_at: created_at, note: note}}
kpi:
  tree: kpi_tree.yaml
"""


def write_client(folder: Path, run_dir: Path) -> Path:
    """A fixture client folder (engagement, demo tree, raw CSVs) and a run folder with merge outputs."""
    raw = folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (folder / "engagement.yaml").write_text(ENGAGEMENT, encoding="utf-8")
    shutil.copy(paths.demo_client_dir() / "kpi_tree.yaml", folder / "kpi_tree.yaml")
    stores_frame().to_csv(raw / "stores.csv", index=False)
    target_rows().to_csv(raw / "kpi_targets.csv", index=False)
    traffic_rows().to_csv(raw / "traffic.csv", index=False)
    funnel_rows().to_csv(raw / "funnel_events.csv", index=False)
    action_rows().to_csv(raw / "action_log.csv", index=False)
    orders = orders_frame()
    merge = run_dir / "outputs" / "merge"
    write_orders_parquet(orders, merge / "orders.parquet")
    shipments_frame(orders).to_parquet(merge / "shipments.parquet", index=False)
    customers_frame().to_parquet(merge / "customers.parquet", index=False)
    return folder / "engagement.yaml"
