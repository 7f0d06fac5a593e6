"""Actuals per KPI × unit (all / region / store) × month, from the merge stage's outputs and the client's files.

Units: ``all``; each region (the store's region); each store. Orders and traffic without a store (online channels)
form one more unit (``online`` by default) counted both as a region and as a store, so that at every level the
units partition the whole: GMV = Σ regions = Σ stores, to the cent.

Named metrics (DOMAIN.md §4):

* ``gmv`` — sum of ``amount`` over orders with ``in_gmv`` (paid orders, and refund rows as negative amounts; not
  test, cancelled or status-refunded orders: ``digiops.merge.wholelink``); kept as exact integer cents (``Decimal``
  in outputs), so it reconciles to the cent with the raw exports.
* ``orders`` — paid orders (``state = 'paid'``: not refund rows, refunded, cancelled or test orders), counted as
  distinct ``order_id``: the lines of an order from a line-grain source (one row per line) are one order for the
  order count, AOV, repurchase and on-time rates; ``customers`` — distinct customers among them.
* ``traffic`` — visitors from the traffic source; ``conversion`` = orders / traffic; ``aov`` = GMV / orders, so that
  GMV = traffic × conversion × AOV holds exactly at every unit.
* ``repurchase_rate`` (复购率) — share of the month's buying customers who placed two or more paid orders in that
  month (in that unit). It does not grow with the length of the order history, as "bought in any earlier month"
  does: over 18 months of a tea chain that share is 96 % and says nothing about the month.
* ``returning_rate`` (老客占比) — share of the month's buying customers who had bought in an earlier month.
* ``member_share`` — share of GMV from customers with a member level in the merged customer table.
* ``marketing_spend``, ``new_customers``, ``cac``, ``roas`` — from the spend source (``kpi.spend_source``), at
  unit ``all`` only: :func:`digiops.kpi.spend.spend_metrics`.
* ``on_time_rate`` — share of the month's finished shipments (signed or failed) signed on time (not late, not failed),
  over the shipments of every non-test order.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from digiops.dates import parse_dates
from digiops.errors import KpiTreeError
from digiops.kpi.tree import KpiTree

METRICS = ("gmv", "orders", "customers", "traffic", "conversion", "aov", "repurchase_rate", "returning_rate",
           "member_share",
           "on_time_rate", "marketing_spend", "new_customers", "cac", "roas")
#: metrics whose monthly value is a sum over days and units (a run-rate applies to them)
ADDITIVE = ("gmv", "orders", "traffic")
MONEY = ("gmv",)


def to_cents(values: pd.Series) -> pd.Series:
    """Exact integer cents of decimal amounts (``Decimal``, text or numbers with at most two decimals).

    >>> to_cents(pd.Series([Decimal("12.30"), "-0.05", 3])).tolist()
    [1230, -5, 300]
    """
    def cents(value: object) -> int:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return 0
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        return int((amount * 100).to_integral_value())

    return values.map(cents).astype("int64")


def cents_to_decimal(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def store_regions(stores: pd.DataFrame | None) -> dict[str, str]:
    """store_id → region, from the canonical stores frame."""
    if stores is None or stores.empty:
        return {}
    frame = stores.dropna(subset=["store_id"])
    return {str(s).strip(): str(r).strip() for s, r in zip(frame["store_id"], frame["region"], strict=True)}


def unit_table(regions: dict[str, str], online_unit: str = "online") -> pd.DataFrame:
    """Every unit with its level and parent: ``all``, regions, stores and the online unit."""
    rows = [{"unit": "all", "level": "all", "parent": None}]
    for region in sorted(set(regions.values())):
        rows.append({"unit": region, "level": "region", "parent": "all"})
    rows.append({"unit": online_unit, "level": "region", "parent": "all"})
    for store, region in sorted(regions.items()):
        rows.append({"unit": store, "level": "store", "parent": region})
    rows.append({"unit": online_unit, "level": "store", "parent": online_unit})
    return pd.DataFrame(rows)


def _assign_units(frame: pd.DataFrame, regions: dict[str, str], online_unit: str) -> pd.DataFrame:
    """Add ``store_unit`` (the store, or the online unit) and ``region_unit`` (the store's region from the stores
    source, else the row's own ``region``; the online unit for rows without a store)."""
    store = [None if s is None or pd.isna(s) or not str(s).strip() else str(s).strip() for s in frame["store_id"]]
    fallback = frame["region"] if "region" in frame.columns else pd.Series(None, index=frame.index, dtype="object")
    region = [online_unit if s is None else regions.get(s, f if isinstance(f, str) and f.strip() else online_unit)
              for s, f in zip(store, fallback, strict=True)]
    return frame.assign(store_unit=[online_unit if s is None else s for s in store], region_unit=region)


def _by_levels(frame: pd.DataFrame, aggregate) -> pd.DataFrame:
    """Apply ``aggregate(grouped)`` per (unit, period) at the three levels and stack the results."""
    parts = []
    for level, column in (("all", None), ("region", "region_unit"), ("store", "store_unit")):
        keyed = frame.assign(unit="all" if column is None else frame[column], level=level)
        parts.append(aggregate(keyed.groupby(["level", "unit", "period"], sort=True)))
    return pd.concat(parts).reset_index()


def order_states(orders: pd.DataFrame) -> pd.DataFrame:
    """``orders`` with ``state`` and ``in_gmv`` as the merge stage writes them; orders written before the merge had
    states get them from ``is_test`` and ``is_refund`` (test / refund / paid: every non-test amount in GMV).

    >>> old = pd.DataFrame({"is_test": [False, True, False], "is_refund": [False, False, True]})
    >>> order_states(old)[["state", "in_gmv"]].values.tolist()
    [['paid', True], ['test', False], ['refund', True]]
    """
    if "state" in orders.columns and "in_gmv" in orders.columns:
        return orders
    is_test = orders["is_test"].fillna(False).astype(bool)
    is_refund = orders["is_refund"].fillna(False).astype(bool)
    state = np.where(is_test, "test", np.where(is_refund, "refund", "paid"))
    return orders.assign(state=state, in_gmv=~is_test)


def base_metrics(orders: pd.DataFrame, *, regions: dict[str, str], traffic: pd.DataFrame | None = None,
                 shipments: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                 online_unit: str = "online") -> pd.DataFrame:
    """Named metrics per level × unit × month: columns ``level, unit, period, metric, value, exact``.

    ``exact`` holds the ``Decimal`` value of money metrics (``None`` otherwise).
    """
    placed = order_states(orders)
    placed = placed[~placed["is_test"].fillna(False).astype(bool)].copy()
    placed["period"] = pd.to_datetime(placed["order_time"]).dt.strftime("%Y-%m")
    placed = _assign_units(placed, regions, online_unit)
    valid = placed[placed["in_gmv"].fillna(False).astype(bool)].copy()
    valid["cents"] = to_cents(valid["amount"])
    buying = valid[(valid["state"] == "paid").fillna(False).astype(bool)]
    first_month = buying.dropna(subset=["customer_id"]).groupby("customer_id")["period"].min()
    buying = buying.assign(returning=buying["customer_id"].map(first_month) < buying["period"])
    members: set[str] = set()
    if customers is not None and "member_level" in customers.columns:
        members = set(customers.loc[customers["member_level"].notna()
                                    & customers["member_level"].astype("str").str.strip().ne(""), "customer_id"])
    valid["member_cents"] = valid["cents"].where(valid["customer_id"].isin(members), 0)

    money = _by_levels(valid, lambda g: g.agg(gmv=("cents", "sum"), member_cents=("member_cents", "sum")))
    counts = _by_levels(buying, lambda g: g.agg(orders=("order_id", "nunique")))
    known = buying.dropna(subset=["customer_id"]).drop_duplicates(["order_id", "customer_id"])
    known = known.assign(returning_id=known["customer_id"].where(known["returning"]))
    people = _by_levels(known, lambda g: g.agg(customers=("customer_id", "nunique"),
                                               returning=("returning_id", "nunique"),
                                               repeat=("customer_id", _repeat_buyers)))
    table = money.merge(counts, how="outer", on=["level", "unit", "period"]).merge(
        people, how="outer", on=["level", "unit", "period"])
    if traffic is not None and len(traffic):
        table = table.merge(_traffic_by_levels(traffic, regions, online_unit), how="outer",
                            on=["level", "unit", "period"])
    else:
        table["traffic"] = np.nan
    if shipments is not None and len(shipments):
        table = table.merge(_on_time(shipments, placed), how="left", on=["level", "unit", "period"])
    else:
        table["on_time_rate"] = np.nan
    for column in ("gmv", "member_cents", "orders"):
        table[column] = table[column].fillna(0)
    gmv = table["gmv"].astype("float64") / 100
    with np.errstate(divide="ignore", invalid="ignore"):
        values = {
            "gmv": gmv,
            "orders": table["orders"].astype("float64"),
            "customers": table["customers"].astype("float64"),
            "traffic": table["traffic"].astype("float64"),
            "conversion": _div(table["orders"], table["traffic"]),
            "aov": _div(gmv, table["orders"]),
            "repurchase_rate": _div(table["repeat"], table["customers"]),
            "returning_rate": _div(table["returning"], table["customers"]),
            "member_share": _div(table["member_cents"], table["gmv"]),
            "on_time_rate": table["on_time_rate"].astype("float64"),
        }
    long = []
    for metric, value in values.items():
        part = table[["level", "unit", "period"]].assign(metric=metric, value=value.to_numpy(), exact=None)
        if metric == "gmv":
            part["exact"] = [cents_to_decimal(c) for c in table["gmv"]]
        long.append(part)
    return pd.concat(long, ignore_index=True).sort_values(["metric", "level", "unit", "period"],
                                                          ignore_index=True)


def _repeat_buyers(customer_ids: pd.Series) -> int:
    """How many customers appear on two or more of these orders."""
    return int((customer_ids.value_counts() >= 2).sum())


def _div(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    den = denominator.astype("float64")
    return (numerator.astype("float64") / den).where(den > 0)


def _traffic_by_levels(traffic: pd.DataFrame, regions: dict[str, str], online_unit: str) -> pd.DataFrame:
    frame = traffic.copy()
    frame["period"] = parse_dates(frame["date"]).dt.strftime("%Y-%m")
    unit = frame["unit"].astype("str").str.strip()
    store = unit.where(unit.isin(regions.keys()), None)
    frame = frame.assign(store_id=store, visitors=pd.to_numeric(frame["visitors"], errors="coerce").fillna(0))
    frame = _assign_units(frame.drop(columns=[c for c in ("region",) if c in frame.columns]), regions, online_unit)
    return _by_levels(frame, lambda g: g.agg(traffic=("visitors", "sum")))


def _on_time(shipments: pd.DataFrame, valid_orders: pd.DataFrame) -> pd.DataFrame:
    orders = valid_orders[["order_id", "period", "region_unit", "store_unit"]].drop_duplicates("order_id")
    keyed = shipments.merge(orders, on="order_id", how="inner")  # one row per shipment, whatever its order's lines
    failed = keyed["is_failed"].fillna(False).astype(bool)
    finished = keyed["signed_at"].notna() | failed
    keyed = keyed[finished]
    keyed = keyed.assign(on_time=(~keyed["is_late"].fillna(False).astype(bool) & ~failed[finished]).astype(float))
    return _by_levels(keyed, lambda g: g.agg(on_time_rate=("on_time", "mean")))


def file_metric(frame: pd.DataFrame, column: str, *, regions: dict[str, str], online_unit: str = "online",
                label: str = "source") -> pd.DataFrame:
    """Sum a column of a source file per level × unit × month (``date`` or ``event_time`` gives the month, ``unit``
    or ``store_id`` the unit; a file without a unit column counts for ``all`` only)."""
    if column not in frame.columns:
        raise KpiTreeError(label, f"has no column '{column}'", field="source.column",
                           fix=f"use one of: {', '.join(c for c in frame.columns if not c.startswith('_'))}")
    date_column = next((c for c in ("date", "event_time", "created_at") if c in frame.columns), None)
    if date_column is None:
        raise KpiTreeError(label, "has no date column (date / event_time)", field="source.file",
                           fix="map a date column of the file")
    work = pd.DataFrame({"period": parse_dates(frame[date_column]).dt.strftime("%Y-%m"),
                         "value": pd.to_numeric(frame[column], errors="coerce").fillna(0)})
    unit_column = "unit" if "unit" in frame.columns else "store_id" if "store_id" in frame.columns else None
    if unit_column is None:
        grouped = work.groupby("period")["value"].sum().reset_index()
        return grouped.assign(level="all", unit="all")[["level", "unit", "period", "value"]]
    unit = frame[unit_column].astype("str").str.strip()
    work = work.assign(store_id=unit.where(unit.isin(regions.keys()), None))
    work = _assign_units(work, regions, online_unit)
    return _by_levels(work, lambda g: g.agg(value=("value", "sum")))


_NO_VALUES = pd.DataFrame({"level": pd.Series(dtype=object), "unit": pd.Series(dtype=object),
                           "period": pd.Series(dtype=object), "value": pd.Series(dtype="float64"),
                           "exact": pd.Series(dtype=object)})


def node_actuals(tree: KpiTree, metrics: pd.DataFrame, units: pd.DataFrame,
                 file_values: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """Actual of every KPI node per unit and month: ``kpi, level, unit, period, actual, actual_exact``.

    A node with a source takes it; a node without one is computed from its children (product, sum or ratio).
    Each node keeps the rows of its own unit and, with ``split_by``, of the units below it at those levels.
    """
    file_values = file_values or {}
    values: dict[str, pd.DataFrame] = {}
    for node_id in tree.order():
        node = tree.nodes[node_id]
        if node.source and node.source.metric:
            if node.source.metric not in METRICS:
                raise KpiTreeError(tree.file, f"unknown metric '{node.source.metric}'", field=f"kpis.{node_id}.source",
                                   fix=f"use one of: {', '.join(METRICS)}")
            part = metrics[metrics["metric"] == node.source.metric][["level", "unit", "period", "value", "exact"]]
        elif node.source and node.source.file:
            # a file the engagement does not have (a client without traffic data) leaves the node without
            # actuals; the review says so in its notes
            key = f"{node.source.file}.{node.source.column}"
            part = file_values[key].assign(exact=None) if key in file_values else _NO_VALUES
        elif node.children:
            part = _combine(node.combine, [values[c] for c in node.children])
        else:
            part = _NO_VALUES
        values[node_id] = part
    rows = []
    for node_id, part in values.items():
        node = tree.nodes[node_id]
        scope = _scope(node.unit, node.split_by, units)
        kept = part.merge(scope, on=["level", "unit"], how="inner")
        rows.append(kept.assign(kpi=node_id))
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    out = out.rename(columns={"value": "actual", "exact": "actual_exact"})
    return out[["kpi", "level", "unit", "period", "actual", "actual_exact"]].reset_index(drop=True)


def _scope(unit: str, split_by: list[str], units: pd.DataFrame) -> pd.DataFrame:
    """(level, unit) rows a node reports: its own unit, and the units at ``split_by`` levels inside it."""
    own = units[units["unit"] == unit].head(1)
    keep = [{"level": own["level"].iloc[0] if len(own) else "all", "unit": unit}]
    for row in units.itertuples(index=False):
        if row.level not in split_by or (row.level, row.unit) == (keep[0]["level"], unit):
            continue
        if unit == "all" or row.parent == unit:
            keep.append({"level": row.level, "unit": row.unit})
    return pd.DataFrame(keep).drop_duplicates()


def _combine(how: str | None, parts: list[pd.DataFrame]) -> pd.DataFrame:
    keys = ["level", "unit", "period"]
    merged = parts[0][keys + ["value"]].rename(columns={"value": "v0"})
    for index, part in enumerate(parts[1:], start=1):
        merged = merged.merge(part[keys + ["value"]].rename(columns={"value": f"v{index}"}), on=keys, how="outer")
    columns = [f"v{i}" for i in range(len(parts))]
    if how == "product":
        value = merged[columns].prod(axis=1, min_count=len(columns))
    elif how == "sum":
        value = merged[columns].sum(axis=1, min_count=1)
    else:
        value = _div(merged["v0"], merged["v1"])
    return merged[keys].assign(value=value.to_numpy(), exact=None)
