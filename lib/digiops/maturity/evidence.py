"""Evidence beside opinion (issue 23): what the run's own outputs say about each maturity dimension, next to what
the questionnaire's respondents answered.

Each evidence indicator is measured on a table another stage of the same run wrote, when that stage ran:

- ``data_silos`` (merge ``crosswalk``): the number of systems (sources) holding customer records — seed 004's
  "数据孤岛数量";
- ``cross_source_overlap`` (merge ``crosswalk``, ``customers``): the share of merged customers whose records were
  found in two or more of those systems;
- ``completeness_after_cleaning`` (merge ``data_quality``): the mean completeness after cleaning over every
  source × field it applies to — the share of values still usable once cleaning dropped what it could not repair;
- ``conformity_before_cleaning`` (merge ``data_quality``): the mean conformity of the raw values — the share the
  client's systems already write in the standard form (after cleaning it is 100 % by construction, so says nothing);
- ``online_order_share`` (merge ``orders``): the share of paid orders (distinct order ids, state ``paid``) placed
  through an online channel (the merge codes channels ``mall`` / ``online`` / ``store``: all but ``store``);
- ``tag_coverage`` (labels ``coverage``): the mean over the catalog's tags of the share of customers holding a value
  — how much of the catalog an average customer profile fills (every customer holds *some* tag, the lifecycle stage,
  so "at least one tag" would always be 100 %);
- ``actions_on_time`` (kpi ``actions``): of the review actions that are due (closed, or past their due date and
  open), the share closed — the log has no closing date, so a closed action counts as closed on time.

Each value is levelled 1–5 by its threshold table (``maturity.evidence``, defaults
:data:`~digiops.settings.maturity.DEFAULT_EVIDENCE`) exactly as the client's own indicators are
(:func:`~digiops.maturity.bank.indicator_level`). A dimension's **evidence level** is the weighted mean of its
indicators' levels (one decimal); its **questionnaire level** is ``1 + 4 × questionnaire score / 100`` from the
answers alone (before the client's indicators blend in). The **gap** is evidence − questionnaire (one decimal); a
dimension is flagged when ``|gap|`` exceeds ``maturity.evidence_margin`` (default 1 level).

Everything here is pure: :class:`RunTables` holds the tables (``None`` when the stage did not run), read by the
stage (:func:`digiops.maturity.stage.run_tables`).

Example:
    >>> import pandas as pd
    >>> crosswalk = pd.DataFrame({"source": ["crm", "mall", "crm"], "customer_id": ["C1", "C1", "C2"]})
    >>> data_silos(crosswalk), cross_source_overlap(crosswalk)
    (2, 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from digiops.kpi.loop import DONE_STATUSES
from digiops.maturity.bank import indicator_level
from digiops.maturity.scoring import level, round_half_up
from digiops.settings.maturity import DEFAULT_EVIDENCE, DIMENSION_KEYS, DIMENSIONS, IndicatorSpec

#: Order channels (``orders.channel``, coded by the merge) that are online: the own mini-program mall and platforms.
ONLINE_CHANNELS = ("mall", "online")
#: The order state whose orders count (not refund rows, test, cancelled or refunded orders).
PAID = "paid"
#: The value row of a tag in ``labels/coverage`` that counts customers holding any value of it.
ANY_VALUE = "*"

#: indicator → (stage, table) it is measured on; a second table, when given, refines it.
MEASURED_ON: dict[str, tuple[str, str]] = {
    "data_silos": ("merge", "crosswalk"),
    "cross_source_overlap": ("merge", "crosswalk"),
    "completeness_after_cleaning": ("merge", "data_quality"),
    "conformity_before_cleaning": ("merge", "data_quality"),
    "online_order_share": ("merge", "orders"),
    "tag_coverage": ("labels", "coverage"),
    "actions_on_time": ("kpi", "actions"),
}
#: What each table is read with (the columns the measures use).
TABLE_COLUMNS: dict[tuple[str, str], list[str]] = {
    ("merge", "crosswalk"): ["source", "customer_id"],
    ("merge", "customers"): ["customer_id"],
    ("merge", "data_quality"): ["phase", "completeness", "conformity"],
    ("merge", "orders"): ["order_id", "channel", "state"],
    ("labels", "coverage"): ["tag_id", "value", "share"],
    ("kpi", "actions"): ["status", "overdue"],
}
#: The stages evidence is read from, in run order.
EVIDENCE_STAGES = ("merge", "labels", "kpi")

INDICATOR_COLUMNS = ["indicator_id", "dimension", "name_zh", "name_en", "stage", "unit", "value", "direction",
                     "thresholds", "weight", "level"]
DIMENSION_COLUMNS = ["dimension", "name_zh", "name_en", "questionnaire_level", "evidence_level", "gap", "indicators",
                     "disagreement", "verdict"]
#: ``verdict`` codes of a dimension (words: :data:`digiops.maturity.report.VERDICTS`).
VERDICTS = ("agree", "evidence_higher", "evidence_lower", "no_evidence", "no_answers")


@dataclass(frozen=True)
class RunTables:
    """The tables of the same run evidence is measured on; ``None`` where the stage did not write it."""

    crosswalk: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    data_quality: pd.DataFrame | None = None
    orders: pd.DataFrame | None = None
    coverage: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None

    @property
    def empty(self) -> bool:
        """Whether no table is there (the maturity stage ran without merge, labels and kpi)."""
        return all(getattr(self, f.name) is None for f in fields(self))


# --- the measures ---------------------------------------------------------------------------------------------------
def _share(part: float, whole: float) -> float | None:
    return float(part) / float(whole) if whole else None


def data_silos(crosswalk: pd.DataFrame) -> int | None:
    """The number of systems (sources) that hold customer records; ``None`` when the crosswalk is empty."""
    sources = crosswalk["source"].dropna()
    return int(sources.nunique()) if len(sources) else None


def cross_source_overlap(crosswalk: pd.DataFrame, customers: pd.DataFrame | None = None) -> float | None:
    """The share of customers found in two or more sources.

    The customers are those of ``customers`` when given (one without a record in the crosswalk counts as found in
    fewer than two), else every customer id of the crosswalk.

    >>> crosswalk = pd.DataFrame({"source": ["a", "b", "a"], "customer_id": ["C1", "C1", "C2"]})
    >>> cross_source_overlap(crosswalk, pd.DataFrame({"customer_id": ["C1", "C2", "C3", "C4"]}))
    0.25
    """
    linked = crosswalk.dropna(subset=["customer_id"])
    per_customer = linked.groupby("customer_id")["source"].nunique()
    population = (pd.Index(customers["customer_id"].dropna().unique()) if customers is not None
                  else per_customer.index)
    return _share(per_customer.reindex(population).ge(2).sum(), len(population))


def _mean_measure(data_quality: pd.DataFrame, phase: str, measure: str) -> float | None:
    values = pd.to_numeric(data_quality.loc[data_quality["phase"] == phase, measure], errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


def completeness_after_cleaning(data_quality: pd.DataFrame) -> float | None:
    """Mean completeness after cleaning over the source × field rows where it applies (n/a rows left out)."""
    return _mean_measure(data_quality, "after", "completeness")


def conformity_before_cleaning(data_quality: pd.DataFrame) -> float | None:
    """Mean conformity of the raw values over the source × field rows where it applies (n/a rows left out)."""
    return _mean_measure(data_quality, "before", "conformity")


def online_order_share(orders: pd.DataFrame) -> float | None:
    """The share of paid orders (distinct order ids) placed through an online channel (:data:`ONLINE_CHANNELS`).

    >>> orders = pd.DataFrame({"order_id": ["o1", "o1", "o2", "o3", "o4"], "channel": ["mall"] * 2 + ["store"] * 3,
    ...                        "state": ["paid", "paid", "paid", "paid", "cancelled"]})
    >>> round(online_order_share(orders), 4)
    0.3333
    """
    paid = orders.loc[orders["state"] == PAID, ["order_id", "channel"]].drop_duplicates("order_id")
    return _share(paid["channel"].isin(ONLINE_CHANNELS).sum(), len(paid))


def tag_coverage(coverage: pd.DataFrame) -> float | None:
    """The mean, over the catalog's tags, of the share of customers holding a value of the tag."""
    shares = pd.to_numeric(coverage.loc[coverage["value"] == ANY_VALUE, "share"], errors="coerce").dropna()
    return float(shares.mean()) if len(shares) else None


def actions_on_time(actions: pd.DataFrame) -> float | None:
    """Of the actions due (closed, or overdue), the share closed; ``None`` when none is due yet.

    >>> actions = pd.DataFrame({"status": ["已完成", "进行中", "Done", "未开始"], "overdue": [False, True, False, False]})
    >>> round(actions_on_time(actions), 4)
    0.6667
    """
    closed = actions["status"].fillna("").astype(str).str.strip().str.lower().isin(DONE_STATUSES)
    overdue = actions["overdue"].fillna(False).astype(bool) & ~closed
    return _share(closed.sum(), closed.sum() + overdue.sum())


def measure(tables: RunTables) -> dict[str, float]:
    """Every evidence indicator the run's tables allow, by id; an indicator whose table is missing (or that has
    nothing to count) is left out."""
    values: dict[str, float | None] = {}
    if tables.crosswalk is not None:
        values["data_silos"] = data_silos(tables.crosswalk)
        values["cross_source_overlap"] = cross_source_overlap(tables.crosswalk, tables.customers)
    if tables.data_quality is not None:
        values["completeness_after_cleaning"] = completeness_after_cleaning(tables.data_quality)
        values["conformity_before_cleaning"] = conformity_before_cleaning(tables.data_quality)
    if tables.orders is not None:
        values["online_order_share"] = online_order_share(tables.orders)
    if tables.coverage is not None:
        values["tag_coverage"] = tag_coverage(tables.coverage)
    if tables.actions is not None:
        values["actions_on_time"] = actions_on_time(tables.actions)
    return {key: float(value) for key, value in values.items() if value is not None and np.isfinite(value)}


# --- levels and the comparison ---------------------------------------------------------------------------------------
def threshold_text(spec: IndicatorSpec) -> str:
    """The four boundaries as stored in the table (``0.2, 0.4, 0.6, 0.8``), like the client's indicators."""
    return ", ".join(f"{t:g}" for t in spec.thresholds)


def indicator_levels(values: dict[str, float], specs: dict[str, IndicatorSpec]) -> pd.DataFrame:
    """One row per measured indicator (in :data:`MEASURED_ON` order): its dimension, value and level 1–5.

    A table given without names takes the default indicator's names.
    """
    rows = []
    for key in MEASURED_ON:
        if key not in values or key not in specs:
            continue
        spec, default = specs[key], DEFAULT_EVIDENCE.get(key)
        rows.append({"indicator_id": key, "dimension": spec.dimension,
                     "name_zh": spec.name_zh or (default.name_zh if default else key),
                     "name_en": spec.name_en or (default.name_en if default else key),
                     "stage": MEASURED_ON[key][0], "unit": spec.unit, "value": values[key],
                     "direction": spec.direction, "thresholds": threshold_text(spec), "weight": spec.weight,
                     "level": indicator_level(spec, values[key])})
    return pd.DataFrame(rows, columns=INDICATOR_COLUMNS).astype({"value": float, "weight": float, "level": "Int64"})


def compare(scores: pd.DataFrame, indicators: pd.DataFrame, margin: float) -> pd.DataFrame:
    """Per dimension (report order): questionnaire level, evidence level, gap, flag and verdict.

    ``scores`` is the stage's scores table (``questionnaire_score`` per dimension); ``indicators`` the output of
    :func:`indicator_levels`. The flag is set when both levels exist and ``|gap| > margin``.

    >>> scores = pd.DataFrame({"dimension": ["business_online"], "questionnaire_score": [25.0]})
    >>> ind = pd.DataFrame({"dimension": ["business_online"], "level": [4], "weight": [1.0]})
    >>> row = compare(scores, ind, 1.0).set_index("dimension").loc["business_online"]
    >>> float(row["questionnaire_level"]), float(row["evidence_level"]), float(row["gap"]), row["verdict"]
    (2.0, 4.0, 2.0, 'evidence_higher')
    """
    answers = scores.set_index("dimension")["questionnaire_score"]
    rows = []
    for dimension in DIMENSION_KEYS:
        _, name_zh, name_en = DIMENSIONS[dimension]
        own = indicators[indicators["dimension"] == dimension]
        score = answers.get(dimension, np.nan)
        opinion = level(score) if pd.notna(score) else np.nan
        if len(own):
            weights = own["weight"].astype(float)
            evidence = round_half_up(float((own["level"].astype(float) * weights).sum() / weights.sum()))
        else:
            evidence = np.nan
        gap = round_half_up(evidence - opinion) if pd.notna(evidence) and pd.notna(opinion) else np.nan
        flagged = bool(pd.notna(gap) and abs(gap) > margin)
        if pd.isna(evidence):
            verdict = "no_evidence"
        elif pd.isna(opinion):
            verdict = "no_answers"
        elif flagged:
            verdict = "evidence_higher" if gap > 0 else "evidence_lower"
        else:
            verdict = "agree"
        rows.append({"dimension": dimension, "name_zh": name_zh, "name_en": name_en, "questionnaire_level": opinion,
                     "evidence_level": evidence, "gap": gap, "indicators": int(len(own)), "disagreement": flagged,
                     "verdict": verdict})
    return pd.DataFrame(rows, columns=DIMENSION_COLUMNS)


def missing_stages(tables: RunTables) -> list[str]:
    """The stages (:data:`EVIDENCE_STAGES`) none of whose evidence tables is in the run."""
    present = {stage for (stage, name) in TABLE_COLUMNS
               if getattr(tables, name, None) is not None}
    return [stage for stage in EVIDENCE_STAGES if stage not in present]


@dataclass(frozen=True)
class Evidence:
    """The evidence of one run: per indicator, per dimension, and the stages whose outputs were missing."""

    indicators: pd.DataFrame
    dimensions: pd.DataFrame
    missing_stages: tuple[str, ...]

    @property
    def disagreements(self) -> pd.DataFrame:
        return self.dimensions[self.dimensions["disagreement"]]


def assess(tables: RunTables, scores: pd.DataFrame, specs: dict[str, IndicatorSpec], margin: float) -> Evidence:
    """Measure, level and compare: the whole evidence of a run."""
    indicators = indicator_levels(measure(tables), specs)
    return Evidence(indicators=indicators, dimensions=compare(scores, indicators, margin),
                    missing_stages=tuple(missing_stages(tables)))
