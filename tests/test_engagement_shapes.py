"""Engagements of other shapes than the demo's, end to end through the engine (issue 18): an orders-only client
(a public transaction log), a customers-only client (a CRM before any order system is connected), and a client
without traffic or funnel data. Each runs every stage that applies; every merge output keeps its documented
columns and types (``digiops.tables``); the figures the summary shows agree with the stage outputs.

The clients are cut from the demo client's raw exports (an even sample of rows of each file), so the shapes are real
ones.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from digiops import paths, tables
from digiops.runner import run_many

pytestmark = pytest.mark.slow

SHAPES = {  # name: (demo sources kept, stages)
    "orders_only": (["pos_receipts", "stores", "kpi_targets"], ["merge", "labels", "kpi", "summary"]),
    "customers_only": (["crm", "pos_members"], ["merge", "labels", "summary"]),
    "no_traffic": (["crm", "mall_orders", "online_orders", "pos_receipts", "shipments", "products", "stores",
                    "kpi_targets", "action_log"], ["merge", "labels", "kpi", "summary"]),
}
ROWS = 1500


def cut_client(folder: Path, sources: list[str], stages: list[str]) -> Path:
    """A client folder with the demo's engagement file reduced to ``sources`` and ``stages``, its tree and
    catalog, and every so many rows of each of those raw exports (about ROWS of each)."""
    demo = paths.demo_client_dir()
    spec = yaml.safe_load((demo / "engagement.yaml").read_text(encoding="utf-8"))
    spec["client"]["id"] = folder.name
    spec["stages"] = stages
    spec["sources"] = {name: spec["sources"][name] for name in sources}
    kpi = spec["kpi"]
    kpi.pop("as_of")  # the review date follows the data cut (the day after its latest order)
    for key in ("traffic_source", "funnel_source", "actions_source", "spend_source"):
        if kpi.get(key) not in spec["sources"]:
            kpi.pop(key, None)
    if (spec["labels"].get("events") or {}).get("source") not in spec["sources"]:
        spec["labels"].pop("events", None)  # a source named explicitly must exist, as in the kpi section
    spec["merge"]["customer_keys"] = {k: v for k, v in spec["merge"]["customer_keys"].items()
                                      if k in sources and v["source"] in sources}
    spec["merge"]["key_links"] = [link for link in spec["merge"].get("key_links", [])
                                  if all(link[end].split(".")[0] in sources for end in ("from", "to"))]
    (folder / "raw").mkdir(parents=True)
    for name in ("kpi_tree.yaml", "tag_catalog.yaml", "commentary.md", "logo.png"):
        shutil.copy(demo / name, folder / name)
    for name, source in spec["sources"].items():
        raw = demo / source["path"]
        if raw.suffix == ".csv":
            lines = raw.read_bytes().splitlines(keepends=True)
            header = source.get("header_row", 1)
            step = max(1, (len(lines) - header) // ROWS)  # every step-th row: the whole period, thinner
            (folder / source["path"]).write_bytes(b"".join(lines[:header] + lines[header::step]))
        else:
            shutil.copy(raw, folder / source["path"])
    path = folder / "engagement.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def shaped_runs(tmp_path_factory) -> dict:
    """Every shape run once, two at a time (the engine's --jobs: each run is mostly one busy kernel)."""
    from tests.conftest import ensure_demo_data

    ensure_demo_data()
    root = tmp_path_factory.mktemp("shapes")
    specs = [str(cut_client(root / shape.replace("_", "-"), *SHAPES[shape])) for shape in SHAPES]
    results = run_many(specs, out=tmp_path_factory.mktemp("shape-reports"), jobs=2, log=lambda _: None)
    return dict(zip(SHAPES, results, strict=True))


@pytest.fixture(params=list(SHAPES))
def shaped_run(request, shaped_runs):
    return request.param, shaped_runs[request.param]


def test_every_stage_that_applies_succeeds(shaped_run):
    shape, result = shaped_run
    failed = {s["name"]: s.get("error") or s.get("reason") for s in result.stages if s["status"] != "succeeded"}

    assert result.status == "succeeded", (shape, failed)
    assert [s["name"] for s in result.stages] == SHAPES[shape][1]


def test_merge_outputs_keep_their_documented_types(shaped_run):
    _, result = shaped_run
    merge = result.run_dir / "outputs" / "merge"

    # columns and types (a writer may mark a column it knows to be filled as not null: the same column)
    for name, schema in tables.SCHEMAS.items():
        found = pq.read_schema(merge / f"{name}.parquet")
        assert [(f.name, f.type) for f in found] == [(f.name, f.type) for f in schema], name


def test_summary_figures_match_the_stage_outputs(shaped_run):
    shape, result = shaped_run
    run = result.run_dir
    customers = pd.read_parquet(run / "outputs" / "merge" / "customers.parquet")
    tags = pd.read_parquet(run / "outputs" / "labels" / "tags.parquet")
    summary = json.loads((run / "outputs" / "summary" / "summary.json").read_text(encoding="utf-8"))

    assert summary["data"]["customers"] == customers["customer_id"].nunique() > 0
    assert summary["labels"]["customers"] == len(tags) == len(customers)
    if shape == "customers_only":
        assert summary["kpi"] is None
        assert not tags["rfm_segment"].notna().any()  # nobody bought: no RFM segment, and none invented
    else:
        orders = pd.read_parquet(run / "outputs" / "merge" / "orders.parquet")
        assert orders["customer_id"].notna().any()
        assert tags["rfm_segment"].notna().sum() == orders.loc[orders["in_gmv"] & ~orders["is_refund"],
                                                               "customer_id"].nunique()
