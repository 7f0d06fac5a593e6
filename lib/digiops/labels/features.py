"""The customer feature view: one row per customer, the fields tag rules may name.

Built in DuckDB from the merge stage's ``customers``, ``orders``, ``shipments`` and ``products`` (registered as
views of those names). Definitions (DOMAIN.md §2, docs/architecture.md):

* Orders counted: a customer id, ``order_time`` before ``as_of``, and ``state`` (``digiops.merge.wholelink``)
  ``paid``, ``refund`` (a refund row, negative) or ``refunded`` (a status-only refund, positive amount); test and
  cancelled orders never happened. A *purchase* is a ``paid`` order; a *refund* is a refund row or a status-only
  refund (``refund_count``; ``refund_amount`` is the money that went back, positive either way).
* An order is an ``order_id``: the lines of an order from a line-grain source (one row per order line, sharing
  ``order_id``) count once wherever orders are counted (frequency, the 30/90/365-day counts, refunds, orders per
  channel, shipments), and ``max_order_amount`` is the largest order's total; amounts, items and the category and
  price-band preferences add up the lines. Without a line (``orders.line`` absent or never above 1) the SQL is
  the one-row-per-order SQL unchanged.
* ``as_of`` (default): the day after the latest purchase in the orders table.
* ``recency_days`` = days from the date of the customer's last purchase to ``as_of``; ``frequency`` = number of
  purchases; ``monetary`` = sum of the amounts of the customer's counted orders with ``in_gmv`` (purchases plus
  the negative refund rows, as GMV counts them). Customers without a purchase have no recency and no RFM score.
* Orders written before the merge stage had states (no ``state`` / ``in_gmv`` columns) get them from ``is_test``
  and ``is_refund`` (:func:`connect`).
* RFM scores, among customers with a purchase: rank by the measure ascending, ties by ``customer_id`` ascending
  (rank 1…n), and cut the rank into five equal-width bins (what ``pandas.qcut(rank, 5)`` does): bin 0 for rank 1,
  else ``ceil(5·(rank−1)/(n−1)) − 1``. F and M score ``bin + 1`` (5 = highest fifth); R scores ``5 − bin``
  (5 = the most recent fifth). Fixed thresholds (:class:`~digiops.settings.labels.RfmThresholds`) replace the
  fifths per measure.
* ``rfm_segment`` from the R × F segment map (``resources/rfm_segments.yaml``).
* Behaviour features from event data (:data:`digiops.labels.behaviour.BEHAVIOUR_FIELDS`: recency of visit,
  visits, cart abandonment, browse-but-never-buy) when an ``events`` view of linked events is given
  (:func:`connect`); empty otherwise (:mod:`digiops.labels.behaviour`).

The SQL is plain (CASE, window functions, GROUP BY, greatest); only :func:`_days` is dialect-specific. On Spark
(:func:`build_features_spark`) the same SQL runs transpiled by :func:`digiops.engines.to_spark_sql`.

Speed (issue 5, docs/PERFORMANCE.md): :func:`build_features` first reads the distinct channels, categories and price
bands (:func:`value_domains`), so every per-customer aggregate, the three preferences included, comes from one
GROUP BY over the orders (a conditional count or sum per value, the top value picked by ``greatest`` with ties to
the smallest value); shipments are counted in a second, narrow join. Without domains (Spark, or more than
:data:`MAX_DOMAIN` values) each preference takes its own GROUP BY and ``row_number()`` window. Both forms give the
feature view of the original SQL exactly (``tests/labels/test_features_one_pass.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from digiops import paths
from digiops.errors import CatalogError
from digiops.labels.behaviour import (BEHAVIOUR_FIELDS, BEHAVIOUR_JOINS, EventFeatures, behaviour_columns,
                                      behaviour_ctes)
from digiops.labels.plays import Play, parse_play
from digiops.settings.labels import RfmThresholds
from digiops.sql import literal, scan

#: field → (type, description). Rules may name exactly these.
FEATURE_VIEW_FIELDS: dict[str, tuple[str, str]] = {
    "customer_id": ("text", "统一客户 ID / unified customer id"),
    "gender": ("text", "性别 M/F / gender"),
    "age": ("number", "截至 as_of 的周岁 / age in full years at as_of"),
    "province": ("text", "省份 / province"),
    "city": ("text", "城市 / city"),
    "member_level": ("text", "会员等级 / member level"),
    "days_since_registration": ("number", "注册距 as_of 天数 / days from registration to as_of"),
    "first_touch_channel": ("text", "首次触达渠道（社交线索） / first-touch channel from the social leads"),
    "first_touch_campaign": ("text", "首次触达活动 / first-touch campaign"),
    "days_since_first_touch": ("number", "首次触达距 as_of 天数 / days from first touch to as_of"),
    "n_sources": ("number", "客户出现的系统数 / number of source systems holding the customer"),
    "has_phone": ("flag", "有手机号 / has a phone number"),
    "has_email": ("flag", "有邮箱 / has an email"),
    "recency_days": ("number", "最近一次购买距 as_of 天数 / days from last purchase to as_of"),
    "frequency": ("number", "购买订单数 / number of purchases"),
    "monetary": ("number", "消费金额（计入 GMV 的订单：含退款冲减，不含测试、取消、已退款订单） / "
                           "amount counted in GMV: refunds netted, test, cancelled and refunded orders out"),
    "first_order_days": ("number", "首次购买距 as_of 天数 / days from first purchase to as_of"),
    "purchase_amount": ("number", "购买金额（不含退款） / amount of purchases (before refunds)"),
    "avg_order_value": ("number", "客单价 = 购买金额 / 购买单数 / purchase amount per purchase"),
    "max_order_amount": ("number", "单笔最高金额 / largest purchase"),
    "avg_interval_days": ("number", "平均回购间隔天数（≥2 单） / mean days between purchases (2+ purchases)"),
    "orders_30d": ("number", "近 30 天购买数 / purchases in the last 30 days"),
    "orders_90d": ("number", "近 90 天购买数 / purchases in the last 90 days"),
    "orders_365d": ("number", "近 365 天购买数 / purchases in the last 365 days"),
    "refund_count": ("number", "退款笔数（退款单与仅状态为已退款的订单） / refunds (refund rows and "
                               "refunded statuses)"),
    "refund_amount": ("number", "退款金额（正数） / refunded amount (positive)"),
    "refund_rate": ("number", "退款笔数 / 购买数 / refunds per purchase"),
    "n_channels": ("number", "购买渠道数 / number of channels bought in"),
    "mall_orders": ("number", "商城购买数 / purchases in the mall"),
    "online_orders": ("number", "电商平台购买数 / purchases in online shops"),
    "store_orders": ("number", "门店购买数 / purchases in stores"),
    "main_channel": ("text", "购买最多的渠道 / channel with most purchases"),
    "top_category": ("text", "消费金额最高的品类 / category with the highest spend"),
    "n_categories": ("number", "购买过的品类数 / number of categories bought"),
    "main_price_band": ("text", "购买最多的价格带 / price band bought most"),
    "avg_unit_price": ("number", "平均件单价 / purchase amount per item"),
    "shipments": ("number", "包裹数 / shipments"),
    "late_deliveries": ("number", "超时送达包裹数 / late shipments"),
    "failed_deliveries": ("number", "配送失败包裹数 / failed shipments"),
    "rfm_r": ("number", "R 分 1–5 / recency score"),
    "rfm_f": ("number", "F 分 1–5 / frequency score"),
    "rfm_m": ("number", "M 分 1–5 / monetary score"),
    "rfm_segment": ("text", "RFM 分群 / RFM segment (R × F map)"),
    **BEHAVIOUR_FIELDS,
}
#: columns every tags.parquet carries, whatever the catalog says.
RFM_COLUMNS = ("recency_days", "frequency", "monetary", "rfm_r", "rfm_f", "rfm_m", "rfm_segment")
TABLES = ("customers", "orders", "shipments", "products")


@dataclass(frozen=True)
class Segment:
    id: str
    name_zh: str
    name_en: str
    r: tuple[int, ...]
    f: tuple[int, ...]
    play: Play | None = None  # what to do with the segment (digiops.labels.plays)


def load_segment_map(path: str | Path | None = None) -> list[Segment]:
    """The R × F segment map, each segment with its play (:func:`digiops.labels.plays.parse_play`); raises
    CatalogError unless it covers each of the 25 cells exactly once and every play is a known play with its channel
    and offer."""
    path = Path(path) if path else paths.resource("rfm_segments.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    segments = [Segment(s["id"], s["name"]["zh"], s["name"]["en"], tuple(s["r"]), tuple(s["f"]),
                        parse_play(s, path.name))
                for s in data["segments"]]
    owners: dict[tuple[int, int], list[str]] = {(r, f): [] for r in range(1, 6) for f in range(1, 6)}
    for segment in segments:
        for r in segment.r:
            for f in segment.f:
                if (r, f) not in owners:
                    raise CatalogError(path.name, f"cell R{r} F{f} is outside 1–5", field=f"segment '{segment.id}'",
                                       fix="use scores 1 to 5")
                owners[(r, f)].append(segment.id)
    for (r, f), ids in owners.items():
        if len(ids) != 1:
            problem = "belongs to no segment" if not ids else f"belongs to {' and '.join(ids)}"
            raise CatalogError(path.name, f"cell R{r} F{f} {problem}", field="segments",
                               fix="each of the 25 R × F cells must belong to exactly one segment")
    return segments


def connect(tables: dict[str, object], threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``customers``, ``orders``, ``shipments``, ``products`` as views, and ``events``
    (:func:`digiops.labels.behaviour.events_view`) when ``tables`` has it.

    Values are DataFrames / Arrow tables (registered) or Parquet paths (read in place).
    """
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in TABLES + (("events",) if tables.get("events") is not None else ()):
        source = tables[name]
        if isinstance(source, (str, Path)):
            relation = scan(source)
        else:
            con.register(f"_{name}_frame", source)
            relation = f"_{name}_frame"
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {relation}")
        if name == "orders" and not {"state", "in_gmv"} <= {c for c, *_ in con.execute("DESCRIBE orders").fetchall()}:
            con.execute(f"CREATE OR REPLACE VIEW orders AS SELECT *, {_OLD_STATE} AS state, "
                        f"NOT coalesce(is_test, false) AS in_gmv FROM {relation}")
    return con


#: the state of an order written before the merge stage had states: test, refund row or paid
_OLD_STATE = ("CASE WHEN coalesce(is_test, false) THEN 'test' WHEN coalesce(is_refund, false) THEN 'refund' "
              "ELSE 'paid' END")
#: orders that happened: purchases, refund rows and status-only refunds (not test, not cancelled)
_COUNTED_STATES = "('paid', 'refund', 'refunded')"


def default_as_of(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The day after the latest purchase (paid order) in the orders table."""
    latest = con.execute("SELECT max(CAST(order_time AS DATE)) FROM orders WHERE state = 'paid'").fetchone()[0]
    if latest is None:
        raise CatalogError("orders.parquet", "has no purchase to date the run from", field="order_time",
                           fix="set labels.as_of in the engagement file")
    return latest + dt.timedelta(days=1)


def _days(later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (dates). DuckDB; Spark: ``datediff(later, earlier)``."""
    return f"date_diff('day', {earlier}, {later})"


def _score_sql(measure: str, rank: str, cuts: list[float] | None, *, recency: bool) -> str:
    if cuts:
        if recency:
            return "5 - (" + " + ".join(f"CASE WHEN {measure} > {c!r} THEN 1 ELSE 0 END" for c in cuts) + ")"
        return "1 + " + " + ".join(f"CASE WHEN {measure} >= {c!r} THEN 1 ELSE 0 END" for c in cuts)
    bin_ = f"CASE WHEN {rank} = 1 THEN 0 ELSE CAST(ceil(5.0 * ({rank} - 1) / (n_scored - 1)) AS INTEGER) - 1 END"
    return f"5 - ({bin_})" if recency else f"1 + ({bin_})"


def _segment_sql(segments: list[Segment]) -> str:
    branches = " ".join(
        f"WHEN rfm_r IN ({', '.join(map(str, s.r))}) AND rfm_f IN ({', '.join(map(str, s.f))}) THEN '{s.id}'"
        for s in segments)
    return f"CASE {branches} END"


#: a preference column (main channel, top category, main price band) is computed in the single per-customer pass
#: when its column has at most this many distinct values; otherwise by a GROUP BY and a window per column.
MAX_DOMAIN = 64


@dataclass(frozen=True)
class Domains:
    """The distinct non-null values of ``orders.channel``, ``products.category`` and ``products.price_band``,
    ascending (the order that breaks ties of the preference columns)."""

    channel: tuple[str, ...]
    category: tuple[str, ...]
    price_band: tuple[str, ...]
    textual: bool = True  # False when a column is not text: its SQL order is not Python's string order

    def small(self) -> bool:
        return self.textual and max(len(self.channel), len(self.category), len(self.price_band)) <= MAX_DOMAIN


def value_domains(con) -> Domains:
    """The :class:`Domains` of the tables behind ``con`` (a DuckDB connection)."""
    def distinct(table: str, column: str) -> tuple:
        rows = con.execute(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()
        return tuple(sorted(value for value, in rows))  # code-point order = UTF-8 byte order, as SQL sorts text
    columns = distinct("orders", "channel"), distinct("products", "category"), distinct("products", "price_band")
    return Domains(*columns, textual=all(isinstance(v, str) for values in columns for v in values))


def _top_sql(measure: str, count: str, values: tuple[str, ...]) -> str:
    """The value with the largest ``measure<i>`` (ties: the smallest value), as ``ORDER BY measure DESC NULLS LAST,
    value`` then the first row would pick among the values with a purchase (``count<i>`` not null)."""
    if not values:
        return "CAST(NULL AS VARCHAR)"
    top = measure + "0" if len(values) == 1 else f"greatest({', '.join(f'{measure}{i}' for i in range(len(values)))})"
    best = " ".join(f"WHEN {measure}{i} = {top} THEN {literal(v)}" for i, v in enumerate(values))
    # all measures null (only possible with null amounts): NULLS LAST leaves the smallest value bought
    fallback = " ".join(f"WHEN {count}{i} IS NOT NULL THEN {literal(v)}" for i, v in enumerate(values))
    return f"CASE {best} ELSE CASE {fallback} END END"


def _distinct_sql(count: str, values: tuple[str, ...]) -> str:
    terms = " + ".join(f"CASE WHEN {count}{i} IS NULL THEN 0 ELSE 1 END" for i in range(len(values)))
    return f"CAST({terms or '0'} AS BIGINT)"  # BIGINT as count(DISTINCT …) gives


def has_order_lines(columns: list[str], max_line: object) -> bool:
    """Whether an orders table holds orders of several rows (a line-grain source's ``line`` above 1)."""
    return "line" in columns and max_line is not None and max_line > 1


def _order_lines(con: duckdb.DuckDBPyConnection) -> bool:
    columns = [c for c, *_ in con.execute("DESCRIBE orders").fetchall()]
    return has_order_lines(columns, con.execute("SELECT max(line) FROM orders").fetchone()[0]
                           if "line" in columns else None)


def _preferences_one_pass(domains: Domains, first: str = "") -> tuple[str, str, str]:
    """(extra aggregates of the per-customer GROUP BY, the derived columns, extra CTEs) when domains are small:
    per value a conditional count or sum, null when the customer has no purchase of that value (``first``: the
    condition that counts an order once, with order lines)."""
    aggregates = []
    for i, value in enumerate(domains.channel):
        aggregates.append(f"sum(CASE WHEN NOT is_refund{first} AND channel = {literal(value)} THEN 1 END) "
                          f"AS channel_n{i}")
    for i, value in enumerate(domains.category):
        aggregates.append(f"sum(CASE WHEN NOT is_refund AND category = {literal(value)} THEN 1 END) AS category_n{i}")
        aggregates.append(f"sum(CASE WHEN NOT is_refund AND category = {literal(value)} THEN amount END) "
                          f"AS category_spend{i}")
    for i, value in enumerate(domains.price_band):
        aggregates.append(f"sum(CASE WHEN NOT is_refund AND price_band = {literal(value)} THEN 1 END) AS band_n{i}")
    derived = (f"{_top_sql('channel_n', 'channel_n', domains.channel)} AS main_channel, "
               f"{_top_sql('category_spend', 'category_n', domains.category)} AS top_category, "
               f"{_top_sql('band_n', 'band_n', domains.price_band)} AS main_price_band, "
               f"{_distinct_sql('channel_n', domains.channel)} AS n_channels, "
               f"{_distinct_sql('category_n', domains.category)} AS n_categories")
    return ("".join(f",\n           {a}" for a in aggregates), derived, "")


def _preferences_windows(first: str = "") -> tuple[str, str, str]:
    """The same columns for any number of values: a GROUP BY per column and a row_number() window."""
    aggregates = (",\n           count(DISTINCT CASE WHEN is_refund THEN NULL ELSE channel END) AS n_channels,"
                  "\n           count(DISTINCT CASE WHEN is_refund THEN NULL ELSE category END) AS n_categories")
    derived = "ch.channel AS main_channel, cat.category AS top_category, pb.price_band AS main_price_band"
    ctes = f"""
channel_rank AS (
    SELECT customer_id, channel, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, channel) AS k
    FROM (SELECT customer_id, channel, count(*) AS n FROM counted
          WHERE NOT is_refund{first} AND channel IS NOT NULL GROUP BY customer_id, channel) c
),
category_rank AS (
    SELECT customer_id, category,
           row_number() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS k
    FROM (SELECT customer_id, category, sum(amount) AS spend FROM counted
          WHERE NOT is_refund AND category IS NOT NULL GROUP BY customer_id, category) c
),
band_rank AS (
    SELECT customer_id, price_band, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, price_band) AS k
    FROM (SELECT customer_id, price_band, count(*) AS n FROM counted
          WHERE NOT is_refund AND price_band IS NOT NULL GROUP BY customer_id, price_band) c
),"""
    return aggregates, derived, ctes


def feature_sql(as_of: dt.date, segments: list[Segment], thresholds: RfmThresholds | None = None,
                domains: Domains | None = None, lines: bool = False, events: EventFeatures | None = None) -> str:
    """The SELECT that builds the feature view (one row per customer of ``customers``).

    With ``domains`` (:func:`value_domains`) small enough, orders are aggregated in one GROUP BY per customer
    (preferences as conditional aggregates, shipments counted per order first); without, the preferences take a
    GROUP BY and a window each. Both give the same result.

    ``lines``: some orders have several rows (:func:`has_order_lines`). Then a window marks one row of each order
    (per customer, purchase or refund) as ``first_line`` and gives each row its order's total (``order_amount``),
    so orders are counted once; without lines the SQL is exactly the one-row-per-order SQL.

    ``events``: the behaviour features read the ``events`` view (:mod:`digiops.labels.behaviour`); without, they
    are empty columns.
    """
    day = f"DATE '{as_of.isoformat()}'"
    t = thresholds or RfmThresholds()
    one_pass = domains is not None and domains.small()
    first, later = (" AND first_line", " OR NOT first_line") if lines else ("", "")
    aggregates, derived, preference_ctes = (_preferences_one_pass(domains, first) if one_pass
                                            else _preferences_windows(first))
    # with order lines, a shipment joins its order once, not once per line
    paid_orders = ("(SELECT DISTINCT customer_id, order_id, state, order_time FROM orders WHERE state = 'paid')"
                   if lines else "orders")
    if one_pass:
        per_customer_from = """aggregates a
    LEFT JOIN delivery d ON d.customer_id = a.customer_id"""
        # the purchases' shipments from a second, narrow read of orders: cheaper than carrying shipment counts
        # through the wide per-customer pass (a hash join keyed on order_id with every order column as payload)
        delivery_cte = f"""
delivery AS (
    SELECT o.customer_id, count(*) AS shipments,
           sum(CASE WHEN s.is_late THEN 1 ELSE 0 END) AS late_deliveries,
           sum(CASE WHEN s.is_failed THEN 1 ELSE 0 END) AS failed_deliveries
    FROM shipments s JOIN {paid_orders} o ON s.order_id = o.order_id
    WHERE o.customer_id IS NOT NULL AND o.state = 'paid' AND o.order_time < CAST({day} AS TIMESTAMP)
    GROUP BY o.customer_id
),"""
    else:
        per_customer_from = """aggregates a
    LEFT JOIN channel_rank ch ON ch.customer_id = a.customer_id AND ch.k = 1
    LEFT JOIN category_rank cat ON cat.customer_id = a.customer_id AND cat.k = 1
    LEFT JOIN band_rank pb ON pb.customer_id = a.customer_id AND pb.k = 1
    LEFT JOIN delivery d ON d.customer_id = a.customer_id"""
        delivery_cte = f"""
delivery AS (
    SELECT c.customer_id, count(*) AS shipments,
           sum(CASE WHEN s.is_late THEN 1 ELSE 0 END) AS late_deliveries,
           sum(CASE WHEN s.is_failed THEN 1 ELSE 0 END) AS failed_deliveries
    FROM shipments s JOIN counted c ON s.order_id = c.order_id
    WHERE NOT c.is_refund{" AND c.first_line" if lines else ""} GROUP BY c.customer_id
),"""
    derived += ", d.shipments, d.late_deliveries, d.failed_deliveries"
    counted = f"""
    SELECT o.customer_id, o.order_id, o.channel, CAST(o.order_time AS DATE) AS order_date, o.amount,
           o.quantity, o.state <> 'paid' AS is_refund, coalesce(o.in_gmv, false) AS in_gmv, p.category,
           p.price_band
    FROM orders o LEFT JOIN products p ON o.sku = p.sku
    WHERE o.customer_id IS NOT NULL AND o.state IN {_COUNTED_STATES}
      AND o.order_time < CAST({day} AS TIMESTAMP)"""
    order_amount = "amount"
    if lines:
        counted = f"""
    SELECT *, row_number() OVER w = 1 AS first_line, sum(amount) OVER w AS order_amount
    FROM ({counted}
    ) l
    WINDOW w AS (PARTITION BY customer_id, order_id, is_refund ORDER BY order_date, amount, category)"""
        order_amount = "order_amount"
    return f"""
WITH counted AS ({counted}
),{behaviour_ctes(as_of, events)}
aggregates AS (
    SELECT customer_id,
           sum(CASE WHEN is_refund{later} THEN 0 ELSE 1 END) AS frequency,
           CAST(sum(CASE WHEN in_gmv THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS monetary,
           max(CASE WHEN is_refund THEN NULL ELSE order_date END) AS last_order_date,
           min(CASE WHEN is_refund THEN NULL ELSE order_date END) AS first_order_date,
           CAST(sum(CASE WHEN is_refund THEN 0 ELSE amount END) AS DECIMAL(18, 2)) AS purchase_amount,
           CAST(max(CASE WHEN is_refund THEN NULL ELSE {order_amount} END) AS DECIMAL(18, 2)) AS max_order_amount,
           sum(CASE WHEN is_refund THEN 0 ELSE coalesce(quantity, 1) END) AS items,
           sum(CASE WHEN NOT is_refund{first} AND {_days(day, 'order_date')} <= 30 THEN 1 ELSE 0 END) AS orders_30d,
           sum(CASE WHEN NOT is_refund{first} AND {_days(day, 'order_date')} <= 90 THEN 1 ELSE 0 END) AS orders_90d,
           sum(CASE WHEN NOT is_refund{first} AND {_days(day, 'order_date')} <= 365 THEN 1 ELSE 0 END)
               AS orders_365d,
           sum(CASE WHEN is_refund{first} THEN 1 ELSE 0 END) AS refund_count,
           CAST(sum(CASE WHEN NOT is_refund THEN 0 WHEN in_gmv THEN -amount ELSE amount END)
                AS DECIMAL(18, 2)) AS refund_amount,
           sum(CASE WHEN NOT is_refund{first} AND channel = 'mall' THEN 1 ELSE 0 END) AS mall_orders,
           sum(CASE WHEN NOT is_refund{first} AND channel = 'online' THEN 1 ELSE 0 END) AS online_orders,
           sum(CASE WHEN NOT is_refund{first} AND channel = 'store' THEN 1 ELSE 0 END) AS store_orders{aggregates}
    FROM counted GROUP BY customer_id
),{preference_ctes}{delivery_cte}
per_customer AS (
    SELECT a.*, {derived}
    FROM {per_customer_from}
),
measures AS (
    SELECT customer_id, frequency, monetary, {_days(day, 'last_order_date')} AS recency_days
    FROM per_customer WHERE frequency > 0
),
ranked AS (
    SELECT *, row_number() OVER (ORDER BY recency_days, customer_id) AS r_rank,
           row_number() OVER (ORDER BY frequency, customer_id) AS f_rank,
           row_number() OVER (ORDER BY monetary, customer_id) AS m_rank,
           count(*) OVER () AS n_scored
    FROM measures
),
scored AS (
    SELECT customer_id,
           {_score_sql('recency_days', 'r_rank', t.recency, recency=True)} AS rfm_r,
           {_score_sql('frequency', 'f_rank', t.frequency, recency=False)} AS rfm_f,
           {_score_sql('monetary', 'm_rank', t.monetary, recency=False)} AS rfm_m
    FROM ranked
)
SELECT cu.customer_id, cu.gender,
       CASE WHEN cu.birth_date IS NULL THEN NULL
            ELSE {as_of.year} - year(cu.birth_date)
                 - CASE WHEN month(cu.birth_date) > {as_of.month}
                          OR (month(cu.birth_date) = {as_of.month} AND day(cu.birth_date) > {as_of.day})
                        THEN 1 ELSE 0 END END AS age,
       cu.province, cu.city, cu.member_level,
       {_days(day, 'CAST(cu.registered_at AS DATE)')} AS days_since_registration,
       cu.first_touch_channel, cu.first_touch_campaign,
       {_days(day, 'CAST(cu.first_touch_at AS DATE)')} AS days_since_first_touch,
       CASE WHEN cu.sources IS NULL OR cu.sources = '' THEN 0
            ELSE length(cu.sources) - length(replace(cu.sources, ',', '')) + 1 END AS n_sources,
       cu.phone IS NOT NULL AS has_phone, cu.email IS NOT NULL AS has_email,
       CASE WHEN pc.frequency > 0 THEN {_days(day, 'pc.last_order_date')} END AS recency_days,
       coalesce(pc.frequency, 0) AS frequency,
       coalesce(pc.monetary, CAST(0 AS DECIMAL(18, 2))) AS monetary,
       CASE WHEN pc.frequency > 0 THEN {_days(day, 'pc.first_order_date')} END AS first_order_days,
       coalesce(pc.purchase_amount, CAST(0 AS DECIMAL(18, 2))) AS purchase_amount,
       CASE WHEN pc.frequency > 0 THEN CAST(pc.purchase_amount / pc.frequency AS DECIMAL(18, 2)) END
           AS avg_order_value,
       pc.max_order_amount,
       CASE WHEN pc.frequency >= 2
            THEN {_days('pc.last_order_date', 'pc.first_order_date')} * 1.0 / (pc.frequency - 1) END
           AS avg_interval_days,
       coalesce(pc.orders_30d, 0) AS orders_30d, coalesce(pc.orders_90d, 0) AS orders_90d,
       coalesce(pc.orders_365d, 0) AS orders_365d,
       coalesce(pc.refund_count, 0) AS refund_count,
       coalesce(pc.refund_amount, CAST(0 AS DECIMAL(18, 2))) AS refund_amount,
       CASE WHEN pc.frequency > 0 THEN pc.refund_count * 1.0 / pc.frequency END AS refund_rate,
       coalesce(pc.n_channels, 0) AS n_channels, coalesce(pc.mall_orders, 0) AS mall_orders,
       coalesce(pc.online_orders, 0) AS online_orders, coalesce(pc.store_orders, 0) AS store_orders,
       pc.main_channel, pc.top_category, coalesce(pc.n_categories, 0) AS n_categories,
       pc.main_price_band,
       CASE WHEN pc.items > 0 THEN CAST(pc.purchase_amount / pc.items AS DECIMAL(18, 2)) END AS avg_unit_price,
       coalesce(pc.shipments, 0) AS shipments, coalesce(pc.late_deliveries, 0) AS late_deliveries,
       coalesce(pc.failed_deliveries, 0) AS failed_deliveries,
       sc.rfm_r, sc.rfm_f, sc.rfm_m,
       {behaviour_columns(as_of, events, 'coalesce(pc.frequency, 0)')}
FROM customers cu
LEFT JOIN per_customer pc ON pc.customer_id = cu.customer_id
LEFT JOIN scored sc ON sc.customer_id = cu.customer_id{BEHAVIOUR_JOINS if events is not None else ""}
"""


def build_features(con: duckdb.DuckDBPyConnection, as_of: dt.date, segments: list[Segment],
                   thresholds: RfmThresholds | None = None, *, one_pass: bool = True,
                   events: EventFeatures | None = None) -> None:
    """Materialize the feature view as the temp table ``customer_features`` (with ``rfm_segment``).

    ``one_pass`` (default) reads the value domains first so the orders are aggregated in one GROUP BY
    (:func:`feature_sql`); ``False`` forces the GROUP BY + window form (same result, slower). ``events``: the
    behaviour features from the ``events`` view (registered by :func:`connect`).
    """
    domains = value_domains(con) if one_pass else None
    body = (f"SELECT *, {_segment_sql(segments)} AS rfm_segment "
            f"FROM ({feature_sql(as_of, segments, thresholds, domains, lines=_order_lines(con), events=events)})")
    types = con.execute(f"DESCRIBE {body}").fetchall()
    # SUM of integers is HUGEINT in DuckDB; plain BIGINT keeps Parquet, pandas and Spark simple
    columns = ", ".join(f"CAST({name} AS BIGINT) AS {name}" if kind == "HUGEINT" else name
                        for name, kind, *_ in types)
    con.execute(f"CREATE OR REPLACE TEMP TABLE customer_features AS SELECT {columns} FROM ({body})")


def session_default_as_of(session) -> dt.date:
    """:func:`default_as_of` on a :class:`digiops.engines.SqlSession` (DuckDB or Spark)."""
    from digiops.engines import to_spark_sql

    sql = "SELECT max(CAST(order_time AS DATE)) AS latest FROM orders WHERE state = 'paid'"
    latest = session.arrow(to_spark_sql(sql) if session.dialect == "spark" else sql).column(0)[0].as_py()
    if latest is None:
        raise CatalogError("orders.parquet", "has no purchase to date the run from", field="order_time",
                           fix="set labels.as_of in the engagement file")
    return latest + dt.timedelta(days=1)


def build_features_spark(session, as_of: dt.date, segments: list[Segment],
                         thresholds: RfmThresholds | None = None, events: EventFeatures | None = None) -> None:
    """:func:`build_features` on Spark: the same SQL transpiled to Spark SQL, cached as the temp view
    ``customer_features`` (Spark's sums are already BIGINT)."""
    from digiops.engines import to_spark_sql

    columns = session.arrow("SELECT * FROM orders LIMIT 0").schema.names
    lines = has_order_lines(columns, session.arrow("SELECT max(line) AS m FROM orders").column(0)[0].as_py()
                            if "line" in columns else None)
    body = (f"SELECT *, {_segment_sql(segments)} AS rfm_segment "
            f"FROM ({feature_sql(as_of, segments, thresholds, lines=lines, events=events)}) AS features")
    session.execute(f"CREATE OR REPLACE TEMP VIEW customer_features AS {to_spark_sql(body)}")
    session.execute("CACHE TABLE customer_features")


def empty_tables() -> dict[str, object]:
    """Zero-row tables of the merge contract (``digiops.tables``), to check a catalog's rules before any data
    exists."""
    from digiops import tables

    return {name: tables.empty(name) for name in TABLES}
