"""Marketing spend and its return: CAC, ROAS, ROI and marginal return per channel and campaign (issue 23).

Seed 000 asks to "avoid spending a lot of marketing expenses without seeing the effect"; seed 003's later phase
optimises 投入产出比. The definitions (DOMAIN.md §4, spend and return), all on **first-touch attribution**:

* **New customer** — a customer is new in the month of their first paid order (in the orders the review reads:
  the engagement period up to the data cut). Their channel and campaign are the merge's ``first_touch_channel`` /
  ``first_touch_campaign``; a customer without a first touch is not attributed to any channel.
* **Attributed revenue** of a channel × campaign × month — the GMV (orders counted in GMV: paid orders and refunds
  as negative amounts) of the customers acquired there in that month, from their first order to
  ``attribution_window_days`` days after it (and before the data cut). A cohort whose window runs past the data
  cut is flagged ``window_open``: its revenue is still growing.
* **CAC** = spend ÷ new customers; **ROAS** = attributed revenue ÷ spend; **ROI** = (attributed revenue × gross
  margin − spend) ÷ spend, with the margin from ``kpi.gross_margin`` (1 = revenue ROI, the DOMAIN default).
* **Marginal return** between consecutive months = Δ attributed revenue ÷ Δ spend (undefined when spend did not
  change), per channel and per campaign: what the last yuan added or cut brought.
* **Spend with no measurable effect** — the spend of the campaigns (channel × campaign, over the engagement
  period) whose attributed revenue is 0 (``no_return``: not one acquired customer bought) or whose ROAS is below 1
  (``below_break_even``: revenue does not even cover the spend). Its share = that spend ÷ all spend.

Spend on a channel no customer came from is kept (zero new customers, zero revenue), and every yuan of the spend
source is in the tables: Σ ``spend`` of ``spend.parquet`` = the source total, to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from digiops.dates import parse_dates
from digiops.errors import SourceError
from digiops.kpi.attainment import parse_period
from digiops.kpi.loop import next_month
from digiops.merge.normalize import normalize_amount

#: the grain of ``spend.parquet``
SPEND_COLUMNS = ["channel", "campaign", "month", "spend", "new_customers", "revenue", "cac", "roas", "roi",
                 "marginal_return", "window_open", "has_spend"]
SUMMARY_COLUMNS = ["scope", "level", "channel", "campaign", "spend", "spend_share", "new_customers", "revenue",
                   "cac", "roas", "roi", "marginal_return", "effect", "window_open"]
#: KPI-tree metrics this module computes (``source: {metric: …}``), all at unit ``all``
SPEND_METRICS = ("marketing_spend", "new_customers", "cac", "roas")
#: ``effect`` codes of a campaign
EFFECTS = ("effective", "below_break_even", "no_return", "no_spend")


@dataclass
class SpendAnalysis:
    """Spend and return of a review: the monthly table, the summaries, and the headline shares."""

    table: pd.DataFrame  # spend.parquet: channel × campaign × month
    summary: pd.DataFrame  # spend_summary.parquet: per channel / campaign / total, review month and engagement
    total_spend: Decimal  # the source total, to the cent
    gross_margin: float
    window_days: int
    review: str
    comparison: str

    def figures(self) -> dict[str, object]:
        """Headline figures for the manifest and the executive summary (engagement period unless named)."""
        total = self.summary[(self.summary["level"] == "total")].set_index("scope")
        out: dict[str, object] = {"spend_total": str(self.total_spend), "spend_gross_margin": self.gross_margin,
                                  "spend_window_days": self.window_days}
        for scope in ("engagement", "review"):
            if scope in total.index:
                row = total.loc[scope]
                out.update({f"spend_{scope}_{k}": _num(row[k]) for k in ("spend", "new_customers", "revenue", "cac",
                                                                         "roas", "roi")})
        out["spend_no_effect_share"] = self.no_effect_share()
        out["spend_no_return_share"] = self.no_effect_share(("no_return",))
        campaigns = self.no_effect_campaigns()
        out["spend_no_effect_campaigns"] = [f"{c} · {k}" if k else c for c, k in
                                            zip(campaigns["channel"], campaigns["campaign"], strict=True)]
        channels = self.summary[(self.summary["scope"] == "engagement") & (self.summary["level"] == "channel")]
        ranked = channels.dropna(subset=["roas"]).sort_values("roas", ascending=False)
        if len(ranked):
            out["spend_best_channel"], out["spend_best_channel_roas"] = ranked["channel"].iloc[0], _num(
                ranked["roas"].iloc[0])
        return out

    def no_effect_campaigns(self) -> pd.DataFrame:
        """Campaigns (engagement period) with no measurable effect, largest spend first."""
        s = self.summary
        rows = s[(s["scope"] == "engagement") & (s["level"] == "campaign")
                 & s["effect"].isin(("no_return", "below_break_even"))]
        return rows.sort_values(["spend", "channel", "campaign"], ascending=[False, True, True], ignore_index=True)

    def no_effect_share(self, effects: tuple[str, ...] = ("no_return", "below_break_even")) -> float | None:
        """Share of the engagement period's spend on campaigns whose ``effect`` is one of ``effects``."""
        s = self.summary
        campaigns = s[(s["scope"] == "engagement") & (s["level"] == "campaign")]
        total = campaigns["spend"].sum()
        if not total:
            return None
        return float(campaigns.loc[campaigns["effect"].isin(effects), "spend"].sum() / total)


def _num(value: object) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), 6)


def read_spend(frame: pd.DataFrame, label: str = "spend source", *, online_unit: str = "online") -> pd.DataFrame:
    """Validate the canonical spend frame: ``channel, campaign, unit, month, cents`` (integer cents), one row per
    source row.

    ``month`` comes from the ``month`` field (``2026-03``, ``2026/3``, ``2026年3月``) or else from ``date``; an
    empty campaign is ``""`` (spend on the channel as a whole), an empty unit ``all``. A row without a channel, a
    month that is not one, or an amount that is not a number of yuan (or is negative) raises a
    :class:`~digiops.errors.SourceError` naming the file, the row and the field: every yuan must be accounted for.

    >>> frame = pd.DataFrame({"channel": ["抖音"], "campaign": [None], "month": ["2026年3月"],
    ...                       "amount": ["¥12,000.50"], "_row": [2]})
    >>> read_spend(frame).to_dict("records")
    [{'channel': '抖音', 'campaign': '', 'unit': 'all', 'month': '2026-03', 'cents': 1200050}]
    """
    if "amount" not in frame.columns:
        raise SourceError(label, "no column maps to `amount`", field="columns", fix="map the spend amount column "
                          "(yuan) to `amount`")
    if "month" not in frame.columns and "date" not in frame.columns:
        raise SourceError(label, "no column maps to `month` or `date`", field="columns",
                          fix="map the month (YYYY-MM) or the date of the spend")
    dates = parse_dates(frame["date"].astype("string")) if "date" in frame.columns else None
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        row = int(record["_row"]) if "_row" in record and pd.notna(record["_row"]) else None
        channel = _text(record.get("channel"))
        if not channel:
            raise SourceError(label, "spend without a channel", field="channel", row=row,
                              fix="name the channel the money was spent on (抖音, 小红书 …)")
        month = parse_period(record["month"]) if _text(record.get("month")) else None
        if month is None and dates is not None and pd.notna(dates.iloc[i]):
            month = dates.iloc[i].strftime("%Y-%m")
        if month is None:
            shown = record.get("month", record.get("date"))
            raise SourceError(label, f"'{shown}' is not a month", field="month" if "month" in record else "date",
                              row=row, fix="write the month as YYYY-MM (or a date YYYY-MM-DD)")
        amount = normalize_amount(record.get("amount"))  # exact, as the merge reads order amounts
        if amount is None or amount < 0:
            raise SourceError(label, f"amount '{record.get('amount')}' is not a spend in yuan", field="amount",
                              row=row, fix="write a number of yuan ≥ 0 (e.g. 12000 or 12,000.50); a credit note "
                              "reduces the month's row instead")
        rows.append({"channel": channel, "campaign": _text(record.get("campaign")),
                     "unit": _text(record.get("unit")) or "all", "month": month,
                     "cents": int((amount * 100).to_integral_value())})
    return pd.DataFrame(rows, columns=["channel", "campaign", "unit", "month", "cents"]).astype(
        {"cents": "int64"})


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def acquisitions(orders: pd.DataFrame, customers: pd.DataFrame | None, *, window_days: int,
                 cut: pd.Timestamp) -> pd.DataFrame:
    """One row per customer with a paid order: ``customer_id, month`` (of the first paid order), ``channel``,
    ``campaign`` (first touch, ``None`` without one), ``revenue_cents`` (GMV from the first order to
    ``window_days`` days after it, before ``cut``) and ``window_open`` (the window runs past ``cut``)."""
    from digiops.kpi.actuals import order_states, to_cents

    placed = order_states(orders)
    placed = placed[placed["in_gmv"].fillna(False).astype(bool) & placed["customer_id"].notna()]
    time = pd.to_datetime(placed["order_time"])
    placed = placed.assign(time=time, cents=to_cents(placed["amount"]))[time < cut]
    paid = placed[(placed["state"] == "paid").fillna(False).astype(bool)]
    first = paid.groupby("customer_id")["time"].min().rename("first")
    keyed = placed.join(first, on="customer_id", how="inner")
    inside = (keyed["time"] >= keyed["first"]) & (keyed["time"] < keyed["first"] + pd.Timedelta(days=window_days))
    revenue = keyed[inside].groupby("customer_id")["cents"].sum()
    out = first.to_frame()
    out["revenue_cents"] = revenue.reindex(out.index).fillna(0).astype("int64")
    out["month"] = out["first"].dt.strftime("%Y-%m")
    out["window_open"] = out["first"] + pd.Timedelta(days=window_days) > cut
    touch = {"first_touch_channel": "channel", "first_touch_campaign": "campaign"}
    if customers is not None and "first_touch_channel" in customers.columns:
        known = customers.drop_duplicates("customer_id").set_index("customer_id")
        for column, name in touch.items():
            values = known[column].reindex(out.index) if column in known.columns else None
            out[name] = ([_text(v) or None for v in values] if values is not None else None)
    else:
        out["channel"], out["campaign"] = None, None
    out["campaign"] = [c if ch else None for ch, c in zip(out["channel"], out["campaign"], strict=True)]
    return out.reset_index()[["customer_id", "month", "channel", "campaign", "revenue_cents", "window_open"]]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    den = denominator.astype("float64")
    return (numerator.astype("float64") / den).where(den > 0)


def _measures(frame: pd.DataFrame, gross_margin: float) -> pd.DataFrame:
    """Add CAC, ROAS and ROI to a frame with ``spend`` (yuan), ``new_customers`` and ``revenue`` (yuan)."""
    return frame.assign(cac=_ratio(frame["spend"], frame["new_customers"]).where(frame["spend"] > 0),
                        roas=_ratio(frame["revenue"], frame["spend"]),
                        roi=_ratio(frame["revenue"] * gross_margin - frame["spend"], frame["spend"]))


def _marginal(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Δ revenue ÷ Δ spend against the previous calendar month of the same ``keys`` (a month without a row counts
    as zero spend and revenue); undefined when the spend did not change."""
    ordered = frame.sort_values(keys + ["month"])
    previous = ordered.assign(month=[next_month(m) for m in ordered["month"]])
    merged = ordered[keys + ["month"]].merge(previous[keys + ["month", "spend", "revenue"]], on=keys + ["month"],
                                             how="left", suffixes=("", "_prev"))
    merged.index = ordered.index
    merged = merged.fillna({"spend": 0.0, "revenue": 0.0})
    d_spend = ordered["spend"] - merged["spend"]
    d_revenue = ordered["revenue"] - merged["revenue"]
    return (d_revenue / d_spend.where(d_spend.abs() > 0.005)).reindex(frame.index)


def _campaign_keys(spend: pd.DataFrame, acquired: pd.DataFrame) -> pd.DataFrame:
    """The acquired customers keyed to the spend's campaigns: a first-touch campaign the spend does not name, on a
    channel whose spend has a channel-wide row (no campaign), goes to that row."""
    named = set(zip(spend["channel"], spend["campaign"], strict=True))
    wide = {c for c, k in named if k == ""}
    campaign = [k if (c, k) in named or c not in wide else "" for c, k in
                zip(acquired["channel"], acquired["campaign"].fillna(""), strict=True)]
    return acquired.assign(campaign=pd.Series(campaign, index=acquired.index, dtype="object"))


def spend_analysis(spend: pd.DataFrame, acquired: pd.DataFrame, *, review: str, comparison: str,
                   gross_margin: float = 1.0, window_days: int = 30) -> SpendAnalysis:
    """Spend and return per channel × campaign × month, and the summaries (``spend``: :func:`read_spend`;
    ``acquired``: :func:`acquisitions`).

    Months: every month with spend, and every month of the acquisitions of a channel that has spend in some month,
    within the months the spend source covers (its first to its last month): customers of a lead channel never
    paid for, or acquired before or after the spend data, are not attributed to it.
    """
    if spend.empty:  # an empty spend file: nothing spent, nothing attributed
        return SpendAnalysis(table=pd.DataFrame(columns=SPEND_COLUMNS), summary=pd.DataFrame(columns=SUMMARY_COLUMNS),
                             total_spend=Decimal("0.00"), gross_margin=gross_margin, window_days=window_days,
                             review=review, comparison=comparison)
    paid_channels = set(spend["channel"])
    covered = acquired["month"].between(spend["month"].min(), spend["month"].max()) if len(spend) else False
    attributed = _campaign_keys(spend, acquired[acquired["channel"].isin(paid_channels) & covered])
    keys = ["channel", "campaign", "month"]
    money = spend.groupby(keys, as_index=False)["cents"].sum()
    gained = attributed.groupby(keys, as_index=False).agg(new_customers=("customer_id", "size"),
                                                           revenue_cents=("revenue_cents", "sum"),
                                                           window_open=("window_open", "any"))
    table = money.merge(gained, on=keys, how="outer")
    table["has_spend"] = table["cents"].notna()
    table["cents"] = table["cents"].fillna(0).astype("int64")
    table["new_customers"] = table["new_customers"].fillna(0).astype("int64")
    table["revenue_cents"] = table["revenue_cents"].fillna(0).astype("int64")
    table["window_open"] = table["window_open"].astype("boolean").fillna(False).astype(bool)
    table = table.assign(spend=table["cents"] / 100, revenue=table["revenue_cents"] / 100)
    table = _measures(table, gross_margin).sort_values(keys, ignore_index=True)
    table["marginal_return"] = _marginal(table, ["channel", "campaign"])
    # a campaign stopped in the review month shows there with zeros: its marginal return is the effect of stopping
    stopped = table[(table["month"] == comparison)].set_index(["channel", "campaign"]).index.difference(
        table[table["month"] == review].set_index(["channel", "campaign"]).index)
    zeros = pd.DataFrame({"channel": stopped.get_level_values(0) if len(stopped) else [],
                          "campaign": stopped.get_level_values(1) if len(stopped) else [], "month": review,
                          "spend": 0.0, "new_customers": 0, "revenue": 0.0, "window_open": False})
    summary = pd.concat([_summary(frame, scope, months, gross_margin) for scope, months, frame in
                         (("review", [review], pd.concat([table, zeros], ignore_index=True) if len(zeros) else table),
                          ("comparison", [comparison], table),
                          ("engagement", sorted(set(table["month"])), table))], ignore_index=True)
    # the review month's marginal return per channel and in total: against the comparison month
    for level, group in (("channel", ["channel"]), ("campaign", ["channel", "campaign"]), ("total", [])):
        now = summary[(summary["scope"] == "review") & (summary["level"] == level)]
        before = summary[(summary["scope"] == "comparison") & (summary["level"] == level)]
        on = group or ["level"]
        joined = now[on + ["spend", "revenue"]].merge(before[on + ["spend", "revenue"]], on=on, how="left",
                                                      suffixes=("", "_0")).fillna({"spend_0": 0.0, "revenue_0": 0.0})
        d_spend = joined["spend"] - joined["spend_0"]
        summary.loc[now.index, "marginal_return"] = (
            (joined["revenue"] - joined["revenue_0"]) / d_spend.where(d_spend.abs() > 0.005)).to_numpy()
    total = (Decimal(int(spend["cents"].sum())) / 100).quantize(Decimal("0.01"))
    return SpendAnalysis(table=table[SPEND_COLUMNS], summary=summary[SUMMARY_COLUMNS], total_spend=total,
                         gross_margin=gross_margin, window_days=window_days, review=review, comparison=comparison)


def _summary(table: pd.DataFrame, scope: str, months: list[str], gross_margin: float) -> pd.DataFrame:
    """Per campaign, per channel and in total over ``months``: spend, its share, new customers, revenue, CAC, ROAS,
    ROI, and each campaign's ``effect``."""
    rows = table[table["month"].isin(months)]
    parts = []
    for level, keys in (("campaign", ["channel", "campaign"]), ("channel", ["channel"]), ("total", [])):
        if keys:
            grouped = rows.groupby(keys, as_index=False).agg(spend=("spend", "sum"), new_customers=(
                "new_customers", "sum"), revenue=("revenue", "sum"), window_open=("window_open", "any"))
        else:
            grouped = pd.DataFrame([{"spend": rows["spend"].sum(), "new_customers": rows["new_customers"].sum(),
                                     "revenue": rows["revenue"].sum(), "window_open": bool(rows["window_open"].any())}])
        parts.append(grouped.assign(level=level, scope=scope))
    out = pd.concat(parts, ignore_index=True)
    for column in ("channel", "campaign"):
        out[column] = out[column].astype("object").where(out[column].notna(), None)
    total = rows["spend"].sum()
    out["spend_share"] = out["spend"] / total if total else np.nan
    out = _measures(out, gross_margin)
    out["marginal_return"] = np.nan
    out["effect"] = [_effect(level, s, r) for level, s, r in zip(out["level"], out["spend"], out["revenue"],
                                                                   strict=True)]
    return out


def _effect(level: str, spend: float, revenue: float) -> str | None:
    """A campaign's effect code (:data:`EFFECTS`); ``None`` above the campaign level."""
    if level != "campaign":
        return None
    if spend <= 0:
        return "no_spend"
    if revenue <= 0:
        return "no_return"
    return "below_break_even" if revenue / spend < 1 else "effective"


def spend_metrics(analysis: SpendAnalysis, acquired: pd.DataFrame) -> pd.DataFrame:
    """The KPI-tree metrics of :data:`SPEND_METRICS` per month at unit ``all`` (``level, unit, period, metric,
    value, exact``): ``marketing_spend`` (yuan, exact to the cent), ``new_customers`` (every customer whose first
    paid order is in the month, whatever their first touch), ``cac`` = spend ÷ the month's new customers whose first
    touch is a channel with spend (paid CAC; organic customers would flatter it) and ``roas`` = attributed revenue ÷
    spend."""
    by_month = analysis.table.groupby("month").agg(spend=("spend", "sum"), revenue=("revenue", "sum"),
                                                   paid_new=("new_customers", "sum"))
    cents = analysis.table.assign(c=(analysis.table["spend"] * 100).round().astype("int64")).groupby("month")["c"].sum()
    new = acquired.groupby("month").size().astype("float64")
    months = sorted(set(by_month.index) | set(new.index))
    by_month = by_month.reindex(months).fillna(0.0)
    new = new.reindex(months).fillna(0.0)
    values = {"marketing_spend": by_month["spend"], "new_customers": new,
              "cac": _ratio(by_month["spend"], by_month["paid_new"]),
              "roas": _ratio(by_month["revenue"], by_month["spend"])}
    parts = []
    for metric, value in values.items():
        part = pd.DataFrame({"level": "all", "unit": "all", "period": months, "metric": metric,
                             "value": value.to_numpy(dtype="float64"), "exact": None})
        if metric == "marketing_spend":
            part["exact"] = [(Decimal(int(cents.get(m, 0))) / 100).quantize(Decimal("0.01")) for m in months]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
