"""The phased roadmap (seed 004 §1.3): initiatives chosen by the largest gaps, and the budget split.

Phases: pilot (months 1–6: 1–2 high-value, easy scenarios as an MVP), scale-up (7–18: copy to other modules,
integrate core systems), deepening (19–36: close the data–decision–action loop).

Selection: the dimensions with a gap (target − level > 0), largest gap first, each take the first initiatives of
the library for that dimension that still apply at the dimension's current band (``max_band``), in phase order —
as many as its severity allows (``initiatives_per_severity``). A phase left empty takes its first applicable
initiative of the dimension with the largest gap (reason ``phase coverage``). At most ``pilot_max_initiatives`` stay in the pilot
(those of the largest gaps); the others move to scale-up.

Budget: the total (when given) is split by phase (``phase_budget_share``), within a phase across its initiatives by
effort, and per phase across technology / people / operations (``budget_split``; seed: pilot technology 60 %,
scale-up people and operations 30 % each).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from digiops import paths
from digiops.maturity.bank import load_items
from digiops.settings.maturity import BUDGET_CATEGORIES, DIMENSION_KEYS, PHASE_KEYS, PHASES

INITIATIVES_RESOURCE = "maturity/initiatives.yaml"
ROADMAP_COLUMNS = ["phase", "phase_zh", "phase_en", "months", "order", "initiative_id", "dimension", "name_zh",
                   "name_en", "gap", "severity", "effort", "budget_share", "budget", "moved_from_pilot", "reason"]


class Initiative(BaseModel):
    """One entry of the initiative library."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="Initiative id, e.g. `DA-01`")
    dimension: Literal[DIMENSION_KEYS] = Field(description="The dimension it lifts")  # type: ignore[valid-type]
    phase: Literal[PHASE_KEYS] = Field(description="pilot, scale_up or deepening")  # type: ignore[valid-type]
    max_band: int = Field(5, ge=1, le=5, description="Relevant while the dimension's band is at most this")
    effort: float = Field(1.0, gt=0, description="Relative size; a phase's budget is split by effort")
    name_zh: str = Field(description="Name in Chinese")
    name_en: str = Field(description="Name in English")


def load_initiatives(path: str | Path, label: str | None = None) -> list[Initiative]:
    return load_items(path, label or str(path), "initiatives", Initiative, "initiative",
                      list_fix="see resources/maturity/initiatives.yaml for the layout",
                      item_fix="see resources/maturity/initiatives.yaml")


def default_initiatives() -> list[Initiative]:
    return load_initiatives(paths.resource(INITIATIVES_RESOURCE), "default initiative library")


def initiatives_for(settings, folder: Path | None = None) -> list[Initiative]:
    if not settings.initiatives:
        return default_initiatives()
    path = Path(settings.initiatives)
    return load_initiatives(path if path.is_absolute() or folder is None else folder / path, settings.initiatives)


def select_initiatives(scores: pd.DataFrame, library: list[Initiative], *,
                       per_severity: dict[str, int], pilot_max: int) -> pd.DataFrame:
    """The initiatives for the dimensions with a gap, in phase order, with the pilot capped."""
    rows = scores[scores["dimension"].isin(DIMENSION_KEYS) & (scores["gap"] > 0)]
    model_order = {d: i for i, d in enumerate(DIMENSION_KEYS)}
    rows = rows.assign(_order=rows["dimension"].map(model_order)).sort_values(
        ["gap", "_order"], ascending=[False, True], kind="stable")
    phase_order = {p: i for i, p in enumerate(PHASE_KEYS)}
    chosen = []
    for rank, record in enumerate(rows.itertuples(index=False)):
        current_band = int(record.band)
        candidates = [i for i in library if i.dimension == record.dimension and i.max_band >= current_band]
        candidates.sort(key=lambda i: phase_order[i.phase])  # stable: library order within a phase
        for initiative in candidates[: per_severity.get(record.severity, 0)]:
            chosen.append({"initiative": initiative, "gap": float(record.gap), "severity": record.severity,
                           "rank": rank})
    # every phase gets work while a gap remains: an empty phase takes its first applicable initiative of the
    # dimension with the largest gap (the seed's deepening phase closes the loop even when no gap is critical)
    taken = {c["initiative"].id for c in chosen}
    for phase in PHASE_KEYS:
        if any(c["initiative"].phase == phase for c in chosen):
            continue
        for rank, record in enumerate(rows.itertuples(index=False)):
            extra = next((i for i in library if i.dimension == record.dimension and i.phase == phase
                          and i.max_band >= int(record.band) and i.id not in taken), None)
            if extra is not None:
                chosen.append({"initiative": extra, "gap": float(record.gap), "severity": record.severity,
                               "rank": rank, "coverage": True})
                taken.add(extra.id)
                break
    pilots = [c for c in chosen if c["initiative"].phase == "pilot"]
    keep = {id(c) for c in sorted(pilots, key=lambda c: c["rank"])[:pilot_max]}
    out = []
    for c in chosen:
        initiative = c["initiative"]
        moved = initiative.phase == "pilot" and id(c) not in keep
        phase = "scale_up" if moved else initiative.phase
        out.append({"phase": phase, "initiative_id": initiative.id, "dimension": initiative.dimension,
                    "name_zh": initiative.name_zh, "name_en": initiative.name_en, "gap": c["gap"],
                    "severity": c["severity"], "effort": initiative.effort, "moved_from_pilot": moved,
                    "reason": "phase coverage" if c.get("coverage") else "gap", "_rank": c["rank"]})
    frame = pd.DataFrame(out, columns=["phase", "initiative_id", "dimension", "name_zh", "name_en", "gap",
                                       "severity", "effort", "moved_from_pilot", "reason", "_rank"])
    frame["_phase"] = frame["phase"].map(phase_order)
    return frame.sort_values(["_phase", "_rank"], kind="stable", ignore_index=True).drop(columns=["_phase", "_rank"])


def build_roadmap(scores: pd.DataFrame, library: list[Initiative], settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The roadmap (one row per initiative) and the budget table (one row per phase × category).

    ``budget_share`` is the initiative's share of the whole programme; ``budget`` is that share of
    ``settings.total_budget`` (empty when no total is set).
    """
    chosen = select_initiatives(scores, library, per_severity=settings.initiatives_per_severity,
                                pilot_max=settings.pilot_max_initiatives)
    total = settings.total_budget
    rows = []
    for phase, group in chosen.groupby("phase", sort=False):
        start, end, zh, en = PHASES[phase]
        phase_share = settings.phase_budget_share[phase]
        for order, record in enumerate(group.to_dict("records"), start=1):
            share = phase_share * record["effort"] / group["effort"].sum()
            rows.append({**record, "phase_zh": zh, "phase_en": en, "months": f"{start}–{end}", "order": order,
                         "budget_share": share, "budget": share * total if total is not None else float("nan")})
    roadmap = pd.DataFrame(rows, columns=ROADMAP_COLUMNS)
    budget_rows = []
    for phase in PHASE_KEYS:
        start, end, zh, en = PHASES[phase]
        for category in BUDGET_CATEGORIES:
            share = settings.phase_budget_share[phase] * settings.budget_split[phase][category]
            budget_rows.append({"phase": phase, "phase_zh": zh, "phase_en": en, "months": f"{start}–{end}",
                                "category": category, "phase_share": settings.budget_split[phase][category],
                                "programme_share": share,
                                "budget": share * total if total is not None else float("nan"),
                                "initiatives": int((roadmap["phase"] == phase).sum())})
    return roadmap, pd.DataFrame(budget_rows)
