"""Synthetic merge-stage outputs (customers, orders, shipments, products) in the contract's shape, fast.

For tests and the benchmark of the labels stage only: numpy-generated, seeded, and shaped exactly as
docs/architecture.md specifies (``amount`` decimal128(18,2), refunds negative with ``is_refund``, ``is_test``
orders, anonymous orders without a customer id). Not the demo client's data (that is ``digiops demo-data``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

CHANNELS = np.array(["mall", "online", "store"])
SOCIAL = np.array(["小红书", "抖音", "微信公众号", "微博"])
LEVELS = np.array(["普通会员", "银卡会员", "金卡会员", "钻石会员"])
PROVINCES = np.array(["上海市", "浙江省", "江苏省", "广东省", "北京市", "四川省"])
CATEGORIES = np.array(["奶茶", "果茶", "原叶茶", "零食", "烘焙", "礼盒"])


def _band(price: np.ndarray) -> np.ndarray:
    return np.where(price < 15, "低", np.where(price < 30, "中", np.where(price < 100, "高", "礼品")))


def money_array(cents: np.ndarray) -> pa.Array:
    """Integer cents → decimal128(18,2), exactly (the unscaled 128-bit integers written directly)."""
    cents = np.asarray(cents, dtype="<i8")
    words = np.column_stack([cents, cents >> 63]).astype("<i8")  # low word, sign-extended high word
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(cents), [None, pa.py_buffer(words.tobytes())])


def contract_tables(n_customers: int = 2_000, orders_per_customer: float = 7.5, *, seed: int = 7,
                    end: dt.date = dt.date(2026, 10, 31), days: int = 540) -> dict[str, pa.Table]:
    """Customers, orders, shipments and products as Arrow tables of the merge contract."""
    rng = np.random.default_rng(seed)
    n = n_customers
    ids = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    end_ts = np.datetime64(end, "s") + np.timedelta64(1, "D")
    start_ts = end_ts - np.timedelta64(days, "D")
    registered = start_ts - rng.integers(0, 400 * 86400, n).astype("timedelta64[s]")
    birth = (np.datetime64("1965-01-01") + rng.integers(0, 40 * 365, n).astype("timedelta64[D]"))
    has_lead = rng.random(n) < 0.45
    touch = start_ts + rng.integers(0, days * 86400, n).astype("timedelta64[s]")
    n_sources = rng.integers(1, 4, n)
    customers = pa.table({
        "customer_id": ids,
        "full_name": np.char.add("客户", np.arange(n).astype(str)),
        "name_pinyin": np.char.add("kehu", np.arange(n).astype(str)),
        "gender": pa.array(np.where(rng.random(n) < 0.1, None, np.where(rng.random(n) < 0.6, "F", "M"))),
        "birth_date": pa.array(birth.astype("datetime64[D]")),
        "phone": pa.array(np.where(rng.random(n) < 0.15, None,
                                   np.char.add("+86138", np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)))),
        "email": pa.array(np.where(rng.random(n) < 0.6, None, np.char.add(ids, "@qq.com"))),
        "national_id": pa.array([None] * n, type=pa.string()),
        "province": PROVINCES[rng.integers(0, len(PROVINCES), n)],
        "city": pa.array([None] * n, type=pa.string()),
        "district": pa.array([None] * n, type=pa.string()),
        "adcode": pa.array([None] * n, type=pa.string()),
        "address": pa.array([None] * n, type=pa.string()),
        "member_level": LEVELS[rng.choice(4, n, p=[0.55, 0.25, 0.15, 0.05])],
        "registered_at": pa.array(registered.astype("datetime64[us]")),
        "first_touch_channel": pa.array(np.where(has_lead, SOCIAL[rng.choice(4, n, p=[.4, .3, .2, .1])], None)),
        "first_touch_campaign": pa.array(np.where(has_lead, "新品试喝官", None)),
        "first_touch_at": pa.array(np.where(has_lead, touch, np.datetime64("NaT")).astype("datetime64[us]")),
        "sources": np.array([",".join(["crm", "miniprogram", "pos_members"][:k]) for k in range(4)])[n_sources],
        "n_records": n_sources.astype("int64"),
    })
    # products: 60 SKUs
    skus = np.char.add("SKU", np.char.zfill(np.arange(1, 61).astype(str), 3))
    price_cents = np.concatenate([rng.integers(800, 3000, 52), rng.integers(6800, 30000, 8)]) // 100 * 100
    products = pa.table({"sku": skus, "product_name": np.char.add("商品", skus),
                         "category": CATEGORIES[np.minimum(np.arange(60) // 10, 5)],
                         "price": money_array(price_cents), "price_band": _band(price_cents / 100)})
    # orders: customers buy with skewed intensity; 3 % anonymous, 1 % test, 4 % refunds
    m = int(n * orders_per_customer)
    weights = rng.pareto(1.5, n) + 0.2
    buyer = rng.choice(n, m, p=weights / weights.sum())
    seconds = rng.integers(0, days * 86400, m)
    order_time = start_ts + seconds.astype("timedelta64[s]")
    sku_index = rng.integers(0, 60, m)
    quantity = rng.integers(1, 4, m)
    amount_cents = price_cents[sku_index] * quantity
    is_refund = rng.random(m) < 0.04
    amount_cents = np.where(is_refund, -amount_cents, amount_cents)
    order_time = np.where(is_refund, order_time + np.timedelta64(2, "D"), order_time)
    anonymous = rng.random(m) < 0.03
    channel = CHANNELS[rng.choice(3, m, p=[0.35, 0.25, 0.40])]
    order_ids = np.char.add(np.char.add(channel, ":"), np.arange(m).astype(str))
    orders = pa.table({
        "order_id": order_ids, "source": channel, "channel": channel,
        "customer_id": pa.array(np.where(anonymous, None, ids[buyer])),
        "order_time": pa.array(order_time.astype("datetime64[us]")),
        "amount": money_array(amount_cents), "quantity": quantity.astype("int64"),
        "sku": skus[sku_index], "store_id": pa.array(np.where(channel == "store", "S01", None)),
        "region": pa.array(np.where(channel == "store", "华东", None)),
        "province": PROVINCES[rng.integers(0, len(PROVINCES), m)],
        "status": np.where(is_refund, "refunded", "completed"),
        "is_refund": is_refund, "is_test": rng.random(m) < 0.01,
    })
    shipped = np.flatnonzero((channel != "store") & ~is_refund)
    k = len(shipped)
    shipped_at = order_time[shipped] + np.timedelta64(1, "D")
    promised = shipped_at + np.timedelta64(3, "D")
    failed = rng.random(k) < 0.02
    late = ~failed & (rng.random(k) < 0.08)
    signed = np.where(failed, np.datetime64("NaT"), promised + np.where(late, 1, -1).astype("timedelta64[D]"))
    shipments = pa.table({
        "shipment_id": np.char.add("SH", np.arange(k).astype(str)), "order_id": order_ids[shipped],
        "carrier": np.full(k, "顺丰速运"), "tracking_no": np.char.add("SF", np.arange(k).astype(str)),
        "status": np.where(failed, "failed", "signed"),
        "shipped_at": pa.array(shipped_at.astype("datetime64[us]")),
        "signed_at": pa.array(signed.astype("datetime64[us]")),
        "promised_at": pa.array(promised.astype("datetime64[us]")), "is_late": late, "is_failed": failed,
    })
    return {"customers": customers, "orders": orders, "shipments": shipments, "products": products}


def write_merge_outputs(run_dir: str | Path, tables: dict[str, pa.Table]) -> Path:
    """Write the tables as ``<run_dir>/outputs/merge/<name>.parquet`` (a run folder the labels notebook can read)."""
    import pyarrow.parquet as pq

    folder = Path(run_dir) / "outputs" / "merge"
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def as_frames(tables: dict[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """The same tables as pandas DataFrames (decimals as Python Decimal objects)."""
    return {name: table.to_pandas() for name, table in tables.items()}
