"""The feature view's SQL as it was before the one-pass rewrite (commit a362b3c), frozen as the reference the
optimized :func:`digiops.labels.features.feature_sql` must reproduce exactly. Test code only: do not "fix" it."""

from __future__ import annotations

import datetime as dt

from digiops.labels.features import Segment
from digiops.settings.labels import RfmThresholds


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


def reference_feature_sql(as_of: dt.date, segments: list[Segment], thresholds: RfmThresholds | None = None) -> str:
    """The SELECT that builds the feature view (one row per customer of ``customers``)."""
    day = f"DATE '{as_of.isoformat()}'"
    t = thresholds or RfmThresholds()
    return f"""
WITH counted AS (
    SELECT o.customer_id, o.order_id, o.channel, CAST(o.order_time AS DATE) AS order_date, o.amount,
           o.quantity, coalesce(o.is_refund, false) AS is_refund, p.category, p.price_band
    FROM orders o LEFT JOIN products p ON o.sku = p.sku
    WHERE o.customer_id IS NOT NULL AND NOT coalesce(o.is_test, false)
      AND o.order_time < CAST({day} AS TIMESTAMP)
),
per_customer AS (
    SELECT customer_id,
           sum(CASE WHEN is_refund THEN 0 ELSE 1 END) AS frequency,
           CAST(sum(amount) AS DECIMAL(18, 2)) AS monetary,
           max(CASE WHEN is_refund THEN NULL ELSE order_date END) AS last_order_date,
           min(CASE WHEN is_refund THEN NULL ELSE order_date END) AS first_order_date,
           CAST(sum(CASE WHEN is_refund THEN 0 ELSE amount END) AS DECIMAL(18, 2)) AS purchase_amount,
           CAST(max(CASE WHEN is_refund THEN NULL ELSE amount END) AS DECIMAL(18, 2)) AS max_order_amount,
           sum(CASE WHEN is_refund THEN 0 ELSE coalesce(quantity, 1) END) AS items,
           sum(CASE WHEN NOT is_refund AND {_days(day, 'order_date')} <= 30 THEN 1 ELSE 0 END) AS orders_30d,
           sum(CASE WHEN NOT is_refund AND {_days(day, 'order_date')} <= 90 THEN 1 ELSE 0 END) AS orders_90d,
           sum(CASE WHEN NOT is_refund AND {_days(day, 'order_date')} <= 365 THEN 1 ELSE 0 END) AS orders_365d,
           sum(CASE WHEN is_refund THEN 1 ELSE 0 END) AS refund_count,
           CAST(-sum(CASE WHEN is_refund THEN amount ELSE 0 END) AS DECIMAL(18, 2)) AS refund_amount,
           count(DISTINCT CASE WHEN is_refund THEN NULL ELSE channel END) AS n_channels,
           sum(CASE WHEN NOT is_refund AND channel = 'mall' THEN 1 ELSE 0 END) AS mall_orders,
           sum(CASE WHEN NOT is_refund AND channel = 'online' THEN 1 ELSE 0 END) AS online_orders,
           sum(CASE WHEN NOT is_refund AND channel = 'store' THEN 1 ELSE 0 END) AS store_orders,
           count(DISTINCT CASE WHEN is_refund THEN NULL ELSE category END) AS n_categories
    FROM counted GROUP BY customer_id
),
channel_rank AS (
    SELECT customer_id, channel, row_number() OVER (PARTITION BY customer_id ORDER BY n DESC, channel) AS k
    FROM (SELECT customer_id, channel, count(*) AS n FROM counted
          WHERE NOT is_refund AND channel IS NOT NULL GROUP BY customer_id, channel) c
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
),
delivery AS (
    SELECT c.customer_id, count(*) AS shipments,
           sum(CASE WHEN s.is_late THEN 1 ELSE 0 END) AS late_deliveries,
           sum(CASE WHEN s.is_failed THEN 1 ELSE 0 END) AS failed_deliveries
    FROM shipments s JOIN counted c ON s.order_id = c.order_id
    WHERE NOT c.is_refund GROUP BY c.customer_id
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
       ch.channel AS main_channel, cat.category AS top_category, coalesce(pc.n_categories, 0) AS n_categories,
       pb.price_band AS main_price_band,
       CASE WHEN pc.items > 0 THEN CAST(pc.purchase_amount / pc.items AS DECIMAL(18, 2)) END AS avg_unit_price,
       coalesce(d.shipments, 0) AS shipments, coalesce(d.late_deliveries, 0) AS late_deliveries,
       coalesce(d.failed_deliveries, 0) AS failed_deliveries,
       sc.rfm_r, sc.rfm_f, sc.rfm_m
FROM customers cu
LEFT JOIN per_customer pc ON pc.customer_id = cu.customer_id
LEFT JOIN channel_rank ch ON ch.customer_id = cu.customer_id AND ch.k = 1
LEFT JOIN category_rank cat ON cat.customer_id = cu.customer_id AND cat.k = 1
LEFT JOIN band_rank pb ON pb.customer_id = cu.customer_id AND pb.k = 1
LEFT JOIN delivery d ON d.customer_id = cu.customer_id
LEFT JOIN scored sc ON sc.customer_id = cu.customer_id
"""
