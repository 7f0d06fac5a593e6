"""A fake run folder with outputs in the documented shapes (docs/architecture.md and the stages' column lists).

:func:`make_run` writes ``manifest.json`` and ``outputs/<stage>/…`` for merge, labels, maturity and kpi (every table
the dashboard shows: attainment, variance, funnel, run-rate, actions, the tree; roadmap and budget), so the
summary and the dashboard can be tested without running the stages. ``scale`` multiplies every KPI figure (a
"previous" run differs from the current one); ``failed`` / ``skipped`` mark stages that left no outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from digiops.kpi.loop import ACTION_COLUMNS
from digiops.kpi.review import tree_table
from digiops.kpi.tree import parse_tree

CLIENT_NAME = {"zh": "示例<script>alert(1)</script>零售", "en": "Demo <b>Retail</b>"}
SEGMENTS = ["champions", "loyal", "new", "hibernating"]
UNITS = {"all": "all", "华东": "region", "华南": "region", "S01": "store", "S02": "store"}
PERIODS = ["2026-02", "2026-03"]
PHONE = "+8613812345678"


def attainment_frame(scale: float = 1.0) -> pd.DataFrame:
    rows = []
    for kpi, base, target in (("gmv", 1_000_000.0, 1_100_000.0), ("traffic", 50_000.0, 48_000.0),
                              ("conversion", 0.031, 0.035)):
        for p, period in enumerate(PERIODS):
            for u, (unit, level) in enumerate(UNITS.items()):
                share = 1.0 if unit == "all" else (0.5 if level == "region" else 0.2 + 0.05 * u)
                actual = base * share * (1 + 0.1 * p) * scale if kpi != "conversion" else base * (1 + 0.05 * u) * scale
                goal = target * share if kpi != "conversion" else target
                rows.append({"kpi": kpi, "level": level, "unit": unit, "period": period, "actual": round(actual, 4),
                             "actual_exact": None, "target": goal, "attainment": actual / goal,
                             "status": "green" if actual / goal >= 1 else ("amber" if actual / goal >= 0.9 else "red"),
                             "reviewed": period == PERIODS[-1]})
    return pd.DataFrame(rows)


#: What the kpi stage records for its headline KPI (the main driver of variance_frame's factor rows).
KPI_METRICS = {"headline_kpi": "gmv", "review_period": PERIODS[1], "gmv_change": 100_000.0, "main_driver": "traffic",
               "main_driver_contribution": 70_000.0, "main_region": "华东"}


def variance_frame() -> pd.DataFrame:
    rows = [{"kpi": "gmv", "period_from": PERIODS[0], "period_to": PERIODS[1], "unit": "all", "breakdown": "factor",
             "item": item, "effect": "lmdi", "value_from": 1.0, "value_to": 1.1, "contribution": c, "change": 100_000.0,
             "method": "lmdi"} for item, c in (("traffic", 70_000.0), ("conversion", -20_000.0), ("aov", 50_000.0))]
    rows.append({**rows[0], "breakdown": "region", "item": "华东", "contribution": 60_000.0})
    return pd.DataFrame(rows)


def runrate_frame() -> pd.DataFrame:
    gmv = {"kpi": "gmv", "level": "all", "unit": "all", "period": "2026-04", "as_of": "2026-04-16",
           "days_elapsed": 15, "days_left": 15, "actual_to_date": 560_000.0, "average_daily": 37_333.3,
           "projection": 1_120_000.0, "target": 1_200_000.0, "gap": 80_000.0,
           "required_daily": 42_666.7, "projected_attainment": 1_120_000.0 / 1_200_000.0}
    traffic = {**gmv, "kpi": "traffic", "actual_to_date": 30_000.0, "average_daily": 2_000.0, "projection": 60_000.0,
               "target": np.nan, "gap": np.nan, "required_daily": np.nan, "projected_attainment": np.nan}
    region = {**gmv, "level": "region", "unit": "华东", "actual_to_date": 300_000.0, "average_daily": 20_000.0,
              "projection": 600_000.0, "target": 550_000.0, "gap": 250_000.0, "required_daily": 16_666.7,
              "projected_attainment": 600_000.0 / 550_000.0}
    return pd.DataFrame([gmv, traffic, region])


#: The KPI tree of the fake run: GMV = traffic × conversion × AOV (AOV has no figures in :func:`attainment_frame`).
TREE = {"strategic_goals": [{"id": "growth", "name_zh": "增长", "name_en": "Growth"}],
        "kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "measure": "元", "goal": "growth",
                  "combine": "product", "children": ["traffic", "conversion", "aov"], "owner": "销售VP"},
                 {"id": "traffic", "name_zh": "客流", "name_en": "Traffic", "measure": "人次"},
                 {"id": "conversion", "name_zh": "转化率", "name_en": "Conversion", "measure": "%"},
                 {"id": "aov", "name_zh": "客单价", "name_en": "Average order value", "measure": "元/单"}]}


def tree_frame() -> pd.DataFrame:
    return tree_table(parse_tree(TREE, "kpi_tree.yaml"))


def kpi_names() -> dict[str, dict[str, str]]:
    """``kpi_names.json`` as the kpi stage writes it from :data:`TREE`."""
    return {k["id"]: {"zh": k["name_zh"], "en": k["name_en"], "measure": k.get("measure", ""), "definition": ""}
            for k in TREE["kpis"]}


#: A channel name as a client's export may spell it: markup that must show as text.
CHANNEL = "<b>抖音</b>"


def funnel_frame() -> pd.DataFrame:
    rows = []
    for period in PERIODS:
        for channel, entered in (("all", 1_000), ("小程序", 600), (CHANNEL, 400)):
            before = entered
            for step, (stage, keep) in enumerate((("visit", 1.0), ("add_to_cart", 0.3), ("order", 0.5)), start=1):
                count = int(round(before * keep))
                rows.append({"period": period, "channel": channel, "step": step, "stage": stage, "visitors": count,
                             "step_conversion": count / before, "overall_conversion": count / entered,
                             "drop_off": before - count if step > 1 else 0,
                             "drop_off_rate": 1 - count / before if step > 1 else 0.0})
                before = count
    return pd.DataFrame(rows)


def actions_frame() -> pd.DataFrame:
    """Two actions as ``kpi.loop.action_effects`` records them: one done, one overdue whose KPI has no figure in
    the month it was agreed (its move shows "–")."""
    return pd.DataFrame([
        {"action_id": "A1", "action": "华东门店午市套餐", "owner": "华东大区经理 张伟", "kpi": "gmv", "due": "2026-03-31",
         "status": "done", "created_at": "2026-03-02", "overdue": False, "period_from": PERIODS[0],
         "period_to": PERIODS[1], "value_from": 1_000_000.0, "value_to": 1_100_000.0, "change": 100_000.0,
         "change_pct": 0.1, "improved": True, "note": None},
        {"action_id": "A2", "action": f"回访 {PHONE[3:]} 的投诉", "owner": "李明", "kpi": "traffic",
         "due": "2026-03-15", "status": "in progress", "created_at": "2026-01-20", "overdue": True,
         "period_from": "2025-12", "period_to": PERIODS[1], "value_from": np.nan, "value_to": 55_000.0,
         "change": np.nan, "change_pct": np.nan, "improved": None, "note": "延期"}], columns=ACTION_COLUMNS)


def scores_frame() -> pd.DataFrame:
    dims = [("process_digitalization", "流程数字化", "Process digitalization", 2.4, 3.5),
            ("data_assetization", "数据资产化", "Data assetization", 1.8, 3.5),
            ("business_online", "业务在线化", "Business online-ization", 3.1, 3.5),
            ("decision_intelligence", "决策智能化", "Decision intelligence", 2.0, 3.0)]
    rows = [{"dimension": d, "name_zh": zh, "name_en": en, "score": lv * 20, "level": lv, "band": int(lv),
             "target": t, "gap": round(t - lv, 2), "severity": "critical" if t - lv > 1.2 else "major"}
            for d, zh, en, lv, t in dims]
    rows.append({"dimension": "overall", "name_zh": "总体", "name_en": "Overall", "score": 46.0, "level": 2.3,
                 "band": 2, "target": 3.4, "gap": 1.1, "severity": "major"})
    return pd.DataFrame(rows)


def budget_frame() -> pd.DataFrame:
    return pd.DataFrame([{"phase": phase, "phase_zh": zh, "phase_en": en, "months": months, "category": category,
                          "phase_share": share, "programme_share": share * total / 1_000_000.0,
                          "budget": share * total, "initiatives": 1}
                         for phase, zh, en, months, total in (("pilot", "试点期", "Pilot", "1–6", 300_000.0),
                                                              ("scale_up", "推广期", "Scale-up", "7–18", 700_000.0))
                         for category, share in (("technology", 0.6), ("people", 0.2), ("operations", 0.2))])


def department_frame() -> pd.DataFrame:
    rows = []
    for d, dept in enumerate(["市场部", "IT部"]):
        for i, dim in enumerate(scores_frame()["dimension"][:4]):
            rows.append({"department": dept, "dimension": dim, "respondents": 3, "score": 40.0 + 10 * i + 15 * d,
                         "level": 1.5 + 0.5 * i + 1.0 * d})
    return pd.DataFrame(rows)


def roadmap_frame() -> pd.DataFrame:
    return pd.DataFrame([
        {"phase": "pilot", "phase_zh": "试点期", "phase_en": "Pilot", "months": "1–6", "order": 1,
         "initiative_id": "DA-1", "dimension": "data_assetization", "name_zh": "统一客户主数据",
         "name_en": "Unified customer master data", "gap": 1.7, "severity": "critical", "effort": "medium",
         "budget_share": 0.3, "budget": 300_000.0, "moved_from_pilot": False},
        {"phase": "scale_up", "phase_zh": "推广期", "phase_en": "Scale-up", "months": "7–18", "order": 2,
         "initiative_id": "PD-2", "dimension": "process_digitalization", "name_zh": "流程线上化",
         "name_en": "Online processes", "gap": 1.1, "severity": "major", "effort": "high",
         "budget_share": 0.7, "budget": 700_000.0, "moved_from_pilot": False}])


#: What the labels stage records (LabelStage.headline) for :func:`tags_frame`: 2 catalog tags, 14 of 40 tagged.
LABEL_METRICS = {"customers": 40, "tags": 2, "tagged_customers": 14, "scored_customers": 40}


def tags_frame(customers: int = 40, shift: int = 0) -> pd.DataFrame:
    ids = [f"C{i:07d}" for i in range(1, customers + 1)]
    return pd.DataFrame({"customer_id": ids,
                         "rfm_segment": [SEGMENTS[(i + shift) % len(SEGMENTS)] for i in range(customers)],
                         "monetary": [100.0 * (1 + i % 7) for i in range(customers)],
                         "frequency": [1 + i % 5 for i in range(customers)],
                         "高价值": ["是" if i % 3 == 0 else None for i in range(customers)],
                         "<img src=x onerror=alert(1)>": [None] * customers})


def customers_frame(customers: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:07d}" for i in range(1, customers + 1)],
                         "full_name": ["张三丰"] * customers, "phone": [PHONE] * customers,
                         "email": ["li.lei@example.com"] * customers, "city": ["上海"] * customers})


def quality_frame() -> pd.DataFrame:
    rows = []
    for source, base in (("crm", 0.9), ("pos_members", 0.6), ("miniprogram", 0.8)):
        for field in ("phone", "email"):
            for phase, lift in (("before", 0.0), ("after", 0.15)):
                value = min(base + lift - (0.1 if field == "email" else 0.0), 1.0)
                rows.append({"source": source, "field": field, "phase": phase, "completeness": value,
                             "validity": min(value + 0.05, 1.0), "uniqueness": 0.99, "consistency": 0.97})
    return pd.DataFrame(rows)


def make_run(root: Path, run_id: str = "20260416T120000-000000-aaaaaa", *, client: str = "acme",
             scale: float = 1.0, failed: tuple[str, ...] = (), skipped: tuple[str, ...] = (),
             absent: tuple[str, ...] = (), shift: int = 0, language: str = "zh",
             previous_run: str | None = None) -> Path:
    """Write a run folder ``root/<client>/<run_id>`` and return its path."""
    run = Path(root) / client / run_id
    out = run / "outputs"
    stages = [s for s in ("merge", "labels", "maturity", "kpi", "summary") if s not in absent]
    writers = {
        "merge": lambda d: (pd.DataFrame({"source": ["crm"] * 60 + ["pos_members"] * 40,
                                          "record_id": [str(i) for i in range(100)],
                                          "customer_id": [f"C{1 + i % 40:07d}" for i in range(100)],
                                          "match_probability": 0.99}).to_parquet(d / "crosswalk.parquet"),
                            customers_frame().to_parquet(d / "customers.parquet"),
                            quality_frame().to_parquet(d / "data_quality.parquet"),
                            pd.DataFrame({"source": ["crm"] * 3, "row": [4, 9, 12], "record_id": ["a", "b", "c"],
                                          "field": ["phone"] * 3,
                                          "reason": ["invalid phone", "invalid phone", "test account"]}
                                         ).to_parquet(d / "quarantine.parquet")),
        "labels": lambda d: (tags_frame(shift=shift).to_parquet(d / "tags.parquet"),
                             (d / "metrics.json").write_text(json.dumps(LABEL_METRICS), encoding="utf-8")),
        "maturity": lambda d: (scores_frame().to_csv(d / "scores.csv", index=False),
                               scores_frame().to_parquet(d / "scores.parquet"),
                               department_frame().to_parquet(d / "department_scores.parquet"),
                               roadmap_frame().to_csv(d / "roadmap.csv", index=False),
                               roadmap_frame().to_parquet(d / "roadmap.parquet"),
                               budget_frame().to_parquet(d / "budget.parquet")),
        "kpi": lambda d: (attainment_frame(scale).to_parquet(d / "attainment.parquet"),
                          variance_frame().to_parquet(d / "variance.parquet"),
                          (d / "metrics.json").write_text(json.dumps(KPI_METRICS), encoding="utf-8"),
                          runrate_frame().to_parquet(d / "runrate.parquet"),
                          funnel_frame().to_parquet(d / "funnel.parquet"),
                          actions_frame().to_parquet(d / "actions.parquet"),
                          tree_frame().to_parquet(d / "tree.parquet"),
                          (d / "kpi_names.json").write_text(json.dumps(kpi_names(), ensure_ascii=False),
                                                            encoding="utf-8"),
                          pd.DataFrame({"kpi": ["gmv"], "criterion": ["measurable"], "passed": [True],
                                        "reason": ["actuals"], "months": [12]}).to_parquet(d / "smart_checks.parquet")),
    }
    entries = []
    for stage in stages:
        entry = {"name": stage, "notebook": f"{stage}.ipynb", "status": "succeeded", "depends_on": [],
                 "duration_s": 1.0}
        if stage in failed:
            entry.update(status="failed", error={"cell": 3, "cell_index": 3, "ename": "ValueError",
                                                 "evalue": "bad <input>"})
        elif stage in skipped:
            entry.update(status="skipped", reason="needs stage 'merge', which failed")
        elif stage == "summary":
            entry["status"] = "running"
        else:
            folder = out / stage
            folder.mkdir(parents=True, exist_ok=True)
            writers[stage](folder)
        if entry["status"] in ("succeeded", "failed"):
            run.mkdir(parents=True, exist_ok=True)
            (run / f"{stage}.html").write_text(f"<html>{stage}</html>", encoding="utf-8")
        entries.append(entry)
    run.mkdir(parents=True, exist_ok=True)
    manifest = {"schema_version": 1, "client": client, "client_name": CLIENT_NAME, "engagement": "test",
                "run_id": run_id, "status": "running", "pid": None, "host": None, "previous_run": previous_run,
                "parameters": {"language": language, "client": {"id": client}}, "stages": entries}
    (run / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return run


def finish(run: Path, status: str = "succeeded") -> Path:
    """Mark a fake run finished (the dashboard serves the latest succeeded run)."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["status"] = status
    for entry in manifest["stages"]:
        if entry["status"] == "running":
            entry["status"] = "succeeded"
    (run / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return run
