"""The labels notebook end to end on a synthetic run folder, twice (the second run shows a migration matrix)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pandas as pd
import pytest

from tests.labels.synthetic import contract_tables, write_merge_outputs
from digiops.paths import demo_client_dir, notebooks_dir


def demo_client_with_events(folder, customers: int) -> str:
    """The demo engagement and catalog in ``folder`` with a small funnel-events export: visitors V0…, every other
    one logged in as member MP<i> (customer C<i> through the crosswalk :func:`member_crosswalk` writes), a few with
    a member id nobody has."""
    demo = demo_client_dir()
    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml", "commentary.md", "logo.png"):
        if (demo / name).exists():
            shutil.copy(demo / name, folder / name)
    rows = []
    for i in range(1, customers + 1):
        key = f"MP{i:09d}" if i % 2 else ("MP999" if i % 10 == 0 else "")
        day = dt.date(2026, 10, 31) - dt.timedelta(days=(i * 7) % 200)
        rows.append((f"V{i}", key, "visit", f"{day} 10:00:00"))
        if i % 3 == 0:
            rows.append((f"V{i}", key, "add_to_cart", f"{day} 10:05:00"))
        if i % 9 == 0:
            rows.append((f"V{i}", key, "order", f"{day} 10:30:00"))
    raw = folder / "raw"
    raw.mkdir(exist_ok=True)
    pd.DataFrame([{"事件ID": f"E{k}", "访客ID": v, "会员ID": key, "环节": stage, "发生时间": when, "渠道": "mall"}
                  for k, (v, key, stage, when) in enumerate(rows)]).to_csv(raw / "funnel_events.csv", index=False)
    return str(folder / "engagement.yaml")


def member_crosswalk(run_dir, customers: int) -> None:
    pd.DataFrame({"source": "miniprogram", "record_id": [f"MP{i:09d}" for i in range(1, customers + 1)],
                  "customer_id": [f"C{i:07d}" for i in range(1, customers + 1)]}).to_parquet(
        run_dir / "outputs" / "merge" / "crosswalk.parquet")


@pytest.mark.slow
def test_labels_notebook_runs_and_records_results(tmp_path):
    import papermill as pm

    # Arrange
    first, second = tmp_path / "run1", tmp_path / "run2"
    write_merge_outputs(first, contract_tables(800, 6.0, seed=5, end=dt.date(2026, 8, 31)))
    write_merge_outputs(second, contract_tables(800, 6.0, seed=5))
    client = tmp_path / "client"
    client.mkdir()
    engagement = demo_client_with_events(client, 800)
    for run in (first, second):
        member_crosswalk(run, 800)
    notebook = str(notebooks_dir() / "02_labels.ipynb")
    # Act
    pm.execute_notebook(notebook, str(tmp_path / "a.ipynb"), progress_bar=False,
                        parameters={"run_dir": str(first), "engagement_path": engagement})
    pm.execute_notebook(notebook, str(tmp_path / "b.ipynb"), progress_bar=False,
                        parameters={"run_dir": str(second), "previous_run_dir": str(first),
                                    "engagement_path": engagement})
    # Assert
    out = second / "outputs" / "labels"
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    tags = pd.read_parquet(out / "tags.parquet")
    assert metrics["customers"] == 800 == len(tags) and metrics["tags"] == 42 and metrics["conflicts"] == 0
    assert metrics["as_of"] == "2026-11-01"
    assert {"rfm_r", "rfm_f", "rfm_m", "recency_days", "frequency", "monetary", "rfm_segment"} <= set(tags.columns)
    matrix = pd.read_csv(out / "tag_matrix.csv", encoding="utf-8-sig")
    assert "phone" not in matrix.columns and len(matrix) == 800
    migration = pd.read_parquet(out / "migration.parquet")
    assert int(migration.drop(columns=["previous"]).to_numpy().sum()) == 800
    assert "<script" not in (out / "catalog.html").read_text(encoding="utf-8")
    # behaviour: every event accounted for (400 logged in, 80 with an unknown member id, the rest anonymous)
    links = pd.read_parquet(out / "event_links.parquet").set_index("status")["events"]
    events = pd.read_csv(second.parent / "client" / "raw" / "funnel_events.csv")
    assert links.sum() == len(events) == metrics["events"]
    assert metrics["events_linked"] == links["linked"] == events["会员ID"].str.match(r"MP0").sum()
    assert metrics["events_unknown_key"] == (events["会员ID"] == "MP999").sum() > 0
    assert metrics["event_customers"] == 400
    behaviour = pd.read_parquet(out / "behaviour_tags.parquet")
    assert {"visit_recency", "visit_activity", "cart_abandonment", "browse_never_buy"} <= set(behaviour["tag_id"])
    assert tags["visit_recency"].notna().sum() == 400  # customers without events: no behaviour tag
