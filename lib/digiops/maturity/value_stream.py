"""Value-stream diagnosis (seed 004 §1.1.1, steps 1 and 3).

Process nodes carry an owner, a duration, an error rate, the systems they touch and whether a person does them
(manual) or a system does (automatic). A node is flagged as

- a **manual cross-system hand-off** when it is manual and touches two or more systems, or touches other systems
  than the node before it in the same process (someone carries the data across by hand);
- **slow** when it takes at least ``slow_node_hours``; **error-prone** when its error rate is at least
  ``error_rate_threshold``.

Consecutive hand-off nodes of a process form a **chain** (the seed's example: inventory query → order allocation →
logistics, 3 systems by hand, 2 hours, 15 % errors). Each node's root cause is put in one category: technology,
data standards or organisation (step 3's fishbone), from the category name or keywords in the text.

Example:
    >>> root_cause_category("技术架构老旧，接口缺失"), root_cause_category("数据标准缺失")
    ('technology', 'data_standards')
    >>> root_cause_category("跨部门协同不足"), root_cause_category("")
    ('organisation', 'unclassified')
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pandas as pd

from digiops.errors import QuestionBankError
from digiops.io import ROW
from digiops.maturity.answers import checked_frame
from digiops.settings.maturity import ROOT_CAUSES

MANUAL = {"manual", "人工", "手工", "手动", "半自动", "semi-automatic", "semi", "m"}
AUTOMATIC = {"automatic", "auto", "自动", "系统自动", "automated", "a", "系统"}
KEYWORDS: dict[str, tuple[str, ...]] = {
    "technology": ("technology", "技术", "系统", "架构", "接口", "集成", "老旧", "工具", "自动化", "api", "legacy",
                   "system", "integration", "interface"),
    "data_standards": ("data_standards", "data standard", "数据标准", "标准", "口径", "编码", "主数据", "字典", "格式",
                       "数据质量", "standard", "definition", "master data", "format", "data quality"),
    "organisation": ("organisation", "organization", "组织", "协同", "部门", "职责", "权责", "人员", "培训", "沟通",
                     "审批", "coordination", "ownership", "role", "training", "people", "silo"),
}
NODE_COLUMNS = ["process", "sequence", "node", "owner", "duration_hours", "error_rate", "systems", "n_systems",
                "mode", "root_cause", "root_cause_category", "handoff", "slow", "error_prone", "bottleneck",
                "reasons", "chain", ROW]


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def root_cause_category(text: str, extra: dict[str, list[str]] | None = None) -> str:
    """The category whose keyword appears first in the text (category names in zh or en count too)."""
    lowered = _text(text).lower()
    if not lowered:
        return "unclassified"
    for key, (zh, en) in ROOT_CAUSES.items():
        if lowered in (key, zh.lower(), en.lower()):
            return key
    best, best_at = "unclassified", len(lowered) + 1
    for key, words in KEYWORDS.items():
        for word in (*words, *((extra or {}).get(key, []))):
            at = lowered.find(word.lower())
            if 0 <= at < best_at:
                best, best_at = key, at
    return best


def _number(raw: object, *, label: str, field: str, row: int, node: str, share: bool) -> float:
    text = _text(raw).replace(",", "")
    if not text:
        return float("nan")
    percent = text.endswith("%")
    text = re.sub(r"\s*(%|h|hours?|小时|时)$", "", text, flags=re.IGNORECASE)
    try:
        value = float(text)
    except ValueError:
        raise QuestionBankError(label, f"node '{node}': {field} '{raw}' is not a number", field=field, row=row,
                                fix="write hours as 2 or 0.5, error rates as 0.15 or 15%") from None
    if percent:
        value = round(value / 100, 12)
    if value < 0 or (share and value > 1):
        raise QuestionBankError(label, f"node '{node}': {field} '{raw}' is out of range", field=field, row=row,
                                fix="error rates are 0–1 (or 0–100 %), durations are >= 0")
    return value


def nodes_from_frame(frame: pd.DataFrame, *, label: str = "value_stream",
                     extra_keywords: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Validate and normalize value-stream nodes (one row per node, in process and sequence order)."""
    frame = checked_frame(frame, ("process", "node"), label, "map process and node in the engagement's sources")
    rows = []
    for position, record in enumerate(frame.to_dict("records")):
        row = int(record[ROW])
        node = _text(record.get("node"))
        mode_text = _text(record.get("mode", "")).lower()
        if mode_text in MANUAL:
            mode = "manual"
        elif mode_text in AUTOMATIC:
            mode = "automatic"
        else:
            raise QuestionBankError(label, f"node '{node}': mode '{record.get('mode', '')}' is neither manual nor "
                                    "automatic", field="mode", row=row, fix="write manual (人工) or automatic (自动)")
        systems = [s for s in (_text(p) for p in re.split(r"[;；,，、/]", _text(record.get("systems", "")))) if s]
        sequence_text = _text(record.get("sequence", ""))
        try:
            sequence = float(sequence_text) if sequence_text else float(position + 1)
        except ValueError:
            raise QuestionBankError(label, f"node '{node}': sequence '{sequence_text}' is not a number",
                                    field="sequence", row=row, fix="number the nodes 1, 2, 3 … per process") from None
        cause = _text(record.get("root_cause", ""))
        rows.append({
            "process": _text(record.get("process")), "sequence": sequence, "node": node,
            "owner": _text(record.get("owner", "")),
            "duration_hours": _number(record.get("duration_hours", ""), label=label, field="duration_hours", row=row,
                                      node=node, share=False),
            "error_rate": _number(record.get("error_rate", ""), label=label, field="error_rate", row=row, node=node,
                                  share=True),
            "systems": ";".join(systems), "n_systems": len(systems), "mode": mode, "root_cause": cause,
            "root_cause_category": root_cause_category(cause, extra_keywords), ROW: row,
        })
    nodes = pd.DataFrame(rows)
    if nodes.empty:
        return pd.DataFrame(columns=NODE_COLUMNS)
    order = {p: i for i, p in enumerate(dict.fromkeys(nodes["process"]))}
    return nodes.sort_values(["process", "sequence"], key=lambda s: s.map(order) if s.name == "process" else s,
                             kind="stable", ignore_index=True)


def diagnose(nodes: pd.DataFrame, *, slow_hours: float = 1.0, error_rate: float = 0.05) -> pd.DataFrame:
    """Flag hand-offs, slow and error-prone nodes; number hand-off chains per process."""
    out = nodes.copy()
    handoff, chain = [], []
    chain_no = 0
    for _, group in out.groupby("process", sort=False):
        previous_systems: set[str] | None = None
        in_chain = False
        for record in group.itertuples(index=False):
            systems = set(filter(None, record.systems.split(";")))
            crosses = len(systems) >= 2 or (previous_systems is not None and bool(systems)
                                            and systems != previous_systems)
            flagged = record.mode == "manual" and crosses
            if flagged and not in_chain:
                chain_no += 1
            in_chain = flagged
            handoff.append(flagged)
            chain.append(chain_no if flagged else 0)
            previous_systems = systems or previous_systems
    out["handoff"] = handoff
    out["chain"] = chain
    out["slow"] = out["duration_hours"].fillna(0) >= slow_hours
    out["error_prone"] = out["error_rate"].fillna(0) >= error_rate
    out["bottleneck"] = out["handoff"] | out["slow"] | out["error_prone"]
    reasons = []
    for record in out.itertuples(index=False):
        parts = [name for name, flag in (("manual cross-system hand-off", record.handoff), ("slow", record.slow),
                                         ("error-prone", record.error_prone)) if flag]
        reasons.append("; ".join(parts))
    out["reasons"] = reasons
    return out[NODE_COLUMNS]


def bottlenecks(diagnosed: pd.DataFrame) -> pd.DataFrame:
    """The flagged nodes, most flags first, then longest."""
    flagged = diagnosed[diagnosed["bottleneck"]].copy()
    flagged["flags"] = flagged[["handoff", "slow", "error_prone"]].sum(axis=1).astype("int64")
    return flagged.sort_values(["flags", "duration_hours", "error_rate"], ascending=False, kind="stable",
                               ignore_index=True)


def handoff_chains(diagnosed: pd.DataFrame) -> pd.DataFrame:
    """Consecutive manual cross-system nodes: the path, the systems crossed, total hours, compound error rate."""
    rows = []
    for number, group in diagnosed[diagnosed["chain"] > 0].groupby("chain", sort=True):
        systems = list(dict.fromkeys(s for value in group["systems"] for s in value.split(";") if s))
        errors = group["error_rate"].fillna(0)
        rows.append({"chain": int(number), "process": group["process"].iloc[0],
                     "path": " → ".join(group["node"]), "nodes": len(group), "systems": ";".join(systems),
                     "n_systems": len(systems), "duration_hours": float(group["duration_hours"].fillna(0).sum()),
                     "error_rate": float(1 - np.prod(1 - errors.to_numpy())),
                     "owners": ";".join(dict.fromkeys(o for o in group["owner"] if o)),
                     "root_cause_category": group["root_cause_category"].mode().iloc[0]})
    return pd.DataFrame(rows, columns=["chain", "process", "path", "nodes", "systems", "n_systems", "duration_hours",
                                       "error_rate", "owners", "root_cause_category"])


def root_cause_summary(diagnosed: pd.DataFrame) -> pd.DataFrame:
    """Per root-cause category: bottleneck nodes, hand-offs, hours and mean error rate of the bottlenecks."""
    flagged = diagnosed[diagnosed["bottleneck"]]
    rows = []
    for key, (zh, en) in ROOT_CAUSES.items():
        group = flagged[flagged["root_cause_category"] == key]
        if key == "unclassified" and group.empty:
            continue
        rows.append({"category": key, "name_zh": zh, "name_en": en, "bottlenecks": int(len(group)),
                     "handoffs": int(group["handoff"].sum()),
                     "hours": float(group["duration_hours"].fillna(0).sum()),
                     "mean_error_rate": float(group["error_rate"].mean()) if len(group) else float("nan"),
                     "nodes": "、".join(group["node"])})
    return pd.DataFrame(rows)


def process_summary(diagnosed: pd.DataFrame) -> pd.DataFrame:
    """Per process: nodes, total hours, manual share of hours, systems touched, hand-offs and bottlenecks."""
    rows = []
    for process, group in diagnosed.groupby("process", sort=False):
        hours = group["duration_hours"].fillna(0)
        systems = {s for value in group["systems"] for s in value.split(";") if s}
        rows.append({"process": process, "nodes": len(group), "hours": float(hours.sum()),
                     "manual_hours_share": float(hours[group["mode"] == "manual"].sum() / hours.sum())
                     if hours.sum() > 0 else float("nan"),
                     "systems": len(systems), "handoffs": int(group["handoff"].sum()),
                     "bottlenecks": int(group["bottleneck"].sum())})
    return pd.DataFrame(rows)
