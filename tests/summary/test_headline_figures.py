"""Every headline figure of the executive summary and the dashboard, recomputed independently on the demo run
(issue 18): from the stage outputs, the engagement's own files or the demo's truth — never through the code that
produced the figure. A figure the summary or the dashboard shows must be the one the stage recorded, and right.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pandas as pd
import pytest
import yaml

from digiops import paths
from digiops.dashboard import Dashboard, kpi_views, load_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(demo_run):
    def table(stage: str, name: str) -> pd.DataFrame:
        return pd.read_parquet(demo_run / "outputs" / stage / f"{name}.parquet")

    summary = json.loads((demo_run / "outputs" / "summary" / "summary.json").read_text(encoding="utf-8"))
    return demo_run, table, summary


def test_merge_figures(run):
    _, table, summary = run

    assert summary["data"]["records"] == len(table("merge", "crosswalk"))
    assert summary["data"]["customers"] == table("merge", "customers")["customer_id"].nunique()
    assert summary["data"]["quarantined"] == len(table("merge", "quarantine"))
    for finding in summary["data"]["worst"]:  # a finding is a measured figure, never a field it does not apply to
        assert finding["measure"] != "uniqueness" or finding["field"].endswith("_id") or finding["field"] in (
            "tracking_no", "national_id", "sku")
        assert finding["field"] not in ("refund_of", "note", "signed_at")


def test_maturity_figures(run):
    _, table, summary = run
    scores = table("maturity", "scores").set_index("dimension")
    roadmap = table("maturity", "roadmap")

    assert summary["maturity"]["overall_level"] == pytest.approx(scores.loc["overall", "level"])
    gaps = scores.drop("overall")["gap"].astype(float)
    assert [g["dimension"] for g in summary["maturity"]["gaps"]] == list(gaps[gaps > 0].sort_values(
        ascending=False, kind="stable").index[:3])
    assert [p["initiative_id"] for p in summary["pilots"]] == roadmap.loc[roadmap["phase"] == "pilot",
                                                                          "initiative_id"].tolist()


def test_label_figures(run):
    _, table, summary = run
    tags = table("labels", "tags")
    catalog = yaml.safe_load((paths.demo_client_dir() / "tag_catalog.yaml").read_text(encoding="utf-8"))
    ids = [tag["id"] for tag in catalog["tags"]]
    held = tags[ids].notna() & ~tags[ids].astype(object).isin([False])
    orders = table("merge", "orders")
    buyers = orders.loc[orders["in_gmv"] & ~orders["is_refund"], "customer_id"].dropna().unique()

    assert summary["labels"]["tags"] == len(ids)
    assert summary["labels"]["coverage"] == pytest.approx(held.any(axis=1).mean())
    assert summary["labels"]["scored"] == len(buyers) == tags["rfm_segment"].notna().sum()
    segments = {s["segment"]: s for s in summary["labels"]["segments"]}
    assert sum(s["customers"] for s in segments.values()) == len(tags)
    assert "—" not in segments and segments["no_purchase"]["customers"] == len(tags) - len(buyers)


def test_kpi_figures_reconcile_with_the_raw_truth(run):
    run_dir, table, summary = run
    truth = pd.read_csv(paths.demo_client_dir() / "truth" / "orders.csv")
    orders = table("merge", "orders").assign(key=lambda o: o["order_id"])
    month = summary["kpi"]["review_period"]
    in_month = orders[pd.to_datetime(orders["order_time"]).dt.strftime("%Y-%m") == month]
    valid = truth.assign(key=truth["source"] + ":" + truth["order_id"].astype(str))
    valid = valid[valid["is_valid"].astype(bool) & valid["key"].isin(in_month["order_id"])]
    gmv = next(line for line in summary["kpi"]["lines"] if line["kpi"] == "gmv")

    assert Decimal(int(valid["amount_cents"].sum())) / 100 == pytest.approx(Decimal(str(gmv["actual"])))
    assert sum(in_month.loc[in_month["in_gmv"], "amount"], Decimal(0)) == Decimal(int(valid["amount_cents"].sum())) / 100


def test_runrate_uses_one_data_cut_for_every_source(run):
    run_dir, table, summary = run
    metrics = json.loads((run_dir / "outputs" / "kpi" / "metrics.json").read_text(encoding="utf-8"))
    runrate = table("kpi", "runrate")
    as_of = pd.Timestamp(runrate["as_of"].iloc[0])
    period = metrics["runrate_period"]
    traffic = pd.read_csv(paths.demo_client_dir() / "raw" / "traffic.csv")
    day = pd.to_datetime(traffic["日期"])
    seen = traffic.loc[(day.dt.strftime("%Y-%m") == period) & (day < as_of), "访客数"].sum()
    row = runrate[(runrate["kpi"] == "traffic") & (runrate["unit"] == "all")].iloc[0]
    elapsed, days = int(row["days_elapsed"]), pd.Period(period).days_in_month

    assert row["actual_to_date"] == pytest.approx(seen)
    assert row["projection"] == pytest.approx(seen + seen / elapsed * (days - elapsed))
    assert summary["kpi"]["runrate"]["projection"] == pytest.approx(metrics["runrate_projection"])


def test_dashboard_shows_the_recorded_figures(run):
    run_dir, table, summary = run
    board = Dashboard(load_run(run_dir), "en")
    attainment = table("kpi", "attainment")
    month = summary["kpi"]["review_period"]
    board.period.value = month
    gmv = attainment[(attainment["kpi"] == "gmv") & (attainment["unit"] == "all") & (attainment["period"] == month)]

    assert f"{gmv['actual'].iloc[0]:,.0f}" in board.kpi_out.value
    assert "nan" not in board.quality_out.value.lower()
    board.unit.value = next(unit for unit, level in kpi_views.units(attainment) if level == "store")
    counts = re.findall(r"data-kpi='orders'.*?class='dg-actual'>([^<]*)<", board.kpi_out.value)
    assert counts and all(re.fullmatch(r"[\d,]+", c) for c in counts), counts  # a store's orders: "66", not "66.00"
