"""Headline figures of one run, read from its outputs and manifest (never recomputed), in typed sections.

Every section is ``None`` when its stage did not produce usable outputs; :meth:`Summary.note` then gives the plain
sentence a reader sees instead (the stage did not run, failed, was skipped, or left no outputs).

Example:
    >>> stage_sentence(StageState("kpi", "skipped", "needs stage 'merge', which failed"), "en")
    "KPI review was skipped: needs stage 'merge', which failed."
    >>> stage_sentence(None, "zh", "kpi")
    '本次运行未包含「KPI 复盘」阶段。'
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from digiops import archive
from digiops.manifest import Manifest
from digiops.masking import mask_owner
from digiops.merge.clean import REASON_DETAIL
from digiops.merge.quality import QUALITY_MEASURES
from digiops.text import in_language
from digiops.runfolder import RunFolder

#: The summary stage's record of this run's headline figures (:func:`headline_numbers`), read by later runs.
FIGURES = "figures.json"
STAGE_TITLES = {"inventory": ("数据盘点", "Data inventory"),
                "merge": ("数据清洗与客户合并", "Data cleaning and customer merge"),
                "labels": ("标签体系", "Tag system"), "maturity": ("数字化成熟度诊断", "Digital maturity"),
                "kpi": ("KPI 复盘", "KPI review"), "summary": ("管理层摘要", "Executive summary"),
                "deliver": ("交付文件", "Deliverables")}



def stage_title(name: str, language: str) -> str:
    zh, en = STAGE_TITLES.get(name, (name, name))
    return in_language(language, zh, en)


def _num(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) or math.isinf(number) else number


@dataclass
class StageState:
    name: str
    status: str
    reason: str | None = None
    error: str | None = None
    report: str | None = None


@dataclass
class Gap:
    dimension: str
    name_zh: str
    name_en: str
    level: float | None
    target: float | None
    gap: float | None
    severity: str | None


@dataclass
class Disagreement:
    """A dimension where the run's own evidence and the questionnaire differ by more than the margin."""

    dimension: str
    name_zh: str
    name_en: str
    questionnaire: float | None
    evidence: float | None


@dataclass
class LevelChange:
    """A dimension's (or a department's) questionnaire level at the previous and the latest assessment."""

    key: str  # dimension key, or the department as the client names it
    name_zh: str
    name_en: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else round(self.after - self.before, 1)


@dataclass
class ProgressFacts:
    """Progress between the questionnaire's two latest waves (progress.parquet)."""

    previous_wave: str
    latest_wave: str
    overall: LevelChange
    dimensions: list[LevelChange]  # model order
    departments: list[LevelChange]  # overall level per department, largest change first


@dataclass
class MaturityFacts:
    overall_level: float | None
    overall_band: int | None
    gaps: list[Gap]  # largest first
    levels: dict[str, float] = field(default_factory=dict)  # dimension → level, as the maturity stage recorded
    disagreements: list[Disagreement] = field(default_factory=list)  # evidence beside opinion (evidence.parquet)
    progress: ProgressFacts | None = None


@dataclass
class Trend:
    """One headline figure across the client's reviews: run id → value, oldest run first."""

    figure: str
    values: dict[str, float | None]


@dataclass
class Finding:
    source: str
    field: str
    measure: str
    value: float


@dataclass
class DataFacts:
    records: int | None  # customer-bearing source records
    customers: int | None  # real customers they merge into
    quarantined: int | None
    worst: list[Finding]  # the lowest quality scores after cleaning, worst first
    quarantine_reasons: list[tuple[str, int]]


@dataclass
class SegmentFacts:
    segment: str
    name_zh: str
    name_en: str
    customers: int
    share: float
    value: float
    value_share: float


@dataclass
class PlayFacts:
    """A segment's play sized by the labels stage (plays.parquet): who, how many, what it may bring."""

    segment: str
    name_zh: str
    name_en: str
    play: str
    customers: int
    expected_value: float
    channel_zh: str
    channel_en: str


@dataclass
class BehaviourFacts:
    """Event data linked to customers and the behaviour it shows, as the labels stage recorded it."""

    events: int
    linked: int
    customers: int
    cart_abandoners: int
    browse_never_buy: int


def behaviour_facts(recorded: dict[str, Any]) -> BehaviourFacts | None:
    if not recorded.get("events_linked"):
        return None
    count = lambda key: int(recorded.get(key) or 0)  # noqa: E731
    return BehaviourFacts(count("events"), count("events_linked"), count("event_customers"),
                          count("cart_abandoners"), count("browse_never_buy"))


@dataclass
class LabelFacts:
    customers: int
    tags: int  # tags in the catalog (RFM besides)
    coverage: float  # share of customers holding at least one catalog tag
    scored: int  # customers with an RFM segment (those who bought)
    segments: list[SegmentFacts]  # largest value first
    plays: list[PlayFacts] = field(default_factory=list)  # largest expected value first
    behaviour: BehaviourFacts | None = None


@dataclass
class KpiLine:
    kpi: str
    name_zh: str
    name_en: str
    actual: float | None
    target: float | None
    attainment: float | None
    status: str
    measure: str = ""
    definition: str = ""  # the KPI's business definition (口径) from the tree


@dataclass
class Driver:
    kpi: str
    item: str
    contribution: float
    change: float | None


@dataclass
class RunRate:
    kpi: str
    period: str
    projection: float | None
    target: float | None
    projected_attainment: float | None
    required_daily: float | None


@dataclass
class CascadeFacts:
    """The target cascade (cascade.parquet): targets derived from the top, and coherence checks failed."""

    derived: int
    rules: list[str]
    checks: int
    failed: int


@dataclass
class NextAction:
    """One action the review proposes for the next cycle (actions_next.parquet); the owner masked."""

    action_id: str
    trigger: str  # the first of ``triggers``, the one that ranked it
    kpi: str
    text_zh: str
    text_en: str
    owner: str | None
    due: str | None
    triggers: list[str] = field(default_factory=list)  # every finding merged into the action


@dataclass
class SpendFacts:
    """Marketing spend and its return over the engagement period, as the kpi stage recorded them (first-touch
    attribution; see kpi/spend.py)."""

    total: float
    new_customers: int | None
    cac: float | None
    roas: float | None
    roi: float | None
    no_effect_share: float | None
    no_effect_campaigns: list[str]
    best_channel: str | None
    best_roas: float | None


def spend_facts(recorded: dict[str, Any]) -> SpendFacts | None:
    total = _num(recorded.get("spend_total"))
    if not total:
        return None
    new = _num(recorded.get("spend_engagement_new_customers"))
    return SpendFacts(total, None if new is None else int(new), _num(recorded.get("spend_engagement_cac")),
                      _num(recorded.get("spend_engagement_roas")), _num(recorded.get("spend_engagement_roi")),
                      _num(recorded.get("spend_no_effect_share")),
                      [str(c) for c in recorded.get("spend_no_effect_campaigns") or []],
                      recorded.get("spend_best_channel"), _num(recorded.get("spend_best_channel_roas")))


@dataclass
class KpiFacts:
    review_period: str | None
    lines: list[KpiLine]
    driver: Driver | None
    runrate: RunRate | None
    cascade: CascadeFacts | None = None
    next_actions: list[NextAction] | None = None  # priority order
    spend: SpendFacts | None = None


@dataclass
class Initiative:
    initiative_id: str
    name_zh: str
    name_en: str
    dimension: str
    months: str | None
    budget: float | None


@dataclass
class Decision:
    """A decision the steering committee must take about a roadmap initiative (decisions.parquet); owner masked."""

    initiative_id: str
    name_zh: str
    name_en: str
    kind: str  # decision (the register's own words), overdue, over_budget, no_owner, kpi_red_on_track, …
    owner: str | None
    due: str | None
    text: str | None  # the register's words for a decision; a milestone for an overdue one
    amount: float | None  # the overspend of an over-budget initiative


@dataclass
class InitiativeFacts:
    """The initiative register against the roadmap (initiatives.parquet and the maturity stage's figures)."""

    late: int
    at_risk: int
    on_track: int
    over_budget: int
    milestones_overdue: int
    approved: float | None
    spent: float | None
    decisions: list[Decision]


@dataclass
class Change:
    figure: str
    before: float | None
    after: float | None

    @property
    def delta(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before


@dataclass
class Summary:
    client: str
    client_name: dict[str, str]
    run_id: str
    language: str
    stages: dict[str, StageState]
    maturity: MaturityFacts | None = None
    data: DataFacts | None = None
    labels: LabelFacts | None = None
    kpi: KpiFacts | None = None
    pilots: list[Initiative] | None = None
    initiatives: InitiativeFacts | None = None  # None: no initiative register
    previous_run: str | None = None
    changes: list[Change] | None = None
    trends: list[Trend] | None = None  # every headline figure across the client's successful runs, this one last
    problems: dict[str, str] = field(default_factory=dict)  # stage → why its outputs could not be read

    def name(self, language: str | None = None) -> str:
        language = language or self.language
        return self.client_name.get(language) or self.client_name.get("zh") or self.client

    def note(self, stage: str, language: str | None = None) -> str | None:
        """The plain sentence shown instead of a section, or ``None`` when the section has figures."""
        language = language or self.language
        section = {"maturity": self.maturity, "merge": self.data, "labels": self.labels, "kpi": self.kpi}
        if section.get(stage) is not None:
            return None
        state = self.stages.get(stage)
        if state is not None and state.status == "succeeded":
            problem = self.problems.get(stage, "")
            return in_language(language,
                               f"「{stage_title(stage, 'zh')}」阶段已完成，但其输出无法读取{('：' + problem) if problem else ''}。",
                               f"{stage_title(stage, 'en')} succeeded but its outputs cannot be read"
                               f"{(': ' + problem) if problem else ''}.")
        return stage_sentence(state, language, stage)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def stage_sentence(state: StageState | None, language: str, name: str | None = None) -> str:
    """Why a stage has no figures, in one sentence."""
    name = state.name if state else name or "?"
    title = stage_title(name, language)
    if state is None:
        return in_language(language, f"本次运行未包含「{title}」阶段。", f"{title} was not part of this run.")
    if state.status == "failed":
        detail = f" ({state.error})" if state.error else ""
        return in_language(language, f"「{title}」阶段运行失败{detail}，详见其报告。", f"{title} failed{detail}; see its report.")
    if state.status == "skipped":
        return in_language(language, f"「{title}」阶段被跳过：{state.reason}。", f"{title} was skipped: {state.reason}.")
    return in_language(language, f"「{title}」阶段尚未完成（{state.status}）。", f"{title} has not finished ({state.status}).")


# --- reading a run ------------------------------------------------------------------------------------------------
def stage_states(manifest: Manifest, run: RunFolder) -> dict[str, StageState]:
    states = {}
    for entry in manifest.stages:
        error = entry.error
        states[entry.name] = StageState(
            name=entry.name, status=entry.status, reason=entry.reason,
            error=f"{error.ename}: {error.evalue[:200]}" if error else None,
            report=run.report(entry.name).name if run.report(entry.name).exists() else None)
    return states


# --- sections (pure: frames in, facts out) ----------------------------------------------------------------------
def maturity_facts(scores: pd.DataFrame, top: int = 3) -> MaturityFacts:
    """Overall level and the largest gaps (dimension rows with a gap > 0, largest first)."""
    by_dimension = scores.set_index("dimension")
    overall = by_dimension.loc["overall"] if "overall" in by_dimension.index else None
    dims = scores[(scores["dimension"] != "overall") & scores["gap"].notna()]
    dims = dims[dims["gap"].astype(float) > 0].sort_values("gap", ascending=False, kind="stable")
    gaps = [Gap(r["dimension"], str(r.get("name_zh", r["dimension"])), str(r.get("name_en", r["dimension"])),
                _num(r.get("level")), _num(r.get("target")), _num(r["gap"]),
                None if pd.isna(r.get("severity")) else str(r.get("severity"))) for _, r in dims.head(top).iterrows()]
    band = _num(overall["band"]) if overall is not None and "band" in by_dimension.columns else None
    return MaturityFacts(overall_level=_num(overall["level"]) if overall is not None else None,
                         overall_band=int(band) if band is not None else None, gaps=gaps)


def data_facts(crosswalk: pd.DataFrame | None, customers: pd.DataFrame | None, quality: pd.DataFrame | None,
               quarantine: pd.DataFrame | None, top: int = 3) -> DataFacts:
    """How many records hide how many real customers, and the worst quality findings after cleaning."""
    records = int(len(crosswalk)) if crosswalk is not None else None
    if customers is not None:
        real = int(customers["customer_id"].nunique())
    elif crosswalk is not None:
        real = int(crosswalk["customer_id"].nunique())
    else:
        real = None
    worst: list[Finding] = []
    if quality is not None and len(quality):
        phase = quality[quality["phase"] == "after"] if "phase" in quality.columns else quality
        phase = phase if len(phase) else quality
        measures = [m for m in QUALITY_MEASURES if m in phase.columns]
        long = phase.melt(id_vars=["source", "field"], value_vars=measures, var_name="measure").dropna(
            subset=["value"])
        long = long.sort_values(["value", "source", "field"], kind="stable").head(top)
        worst = [Finding(str(r.source), str(r.field), str(r.measure), float(r.value)) for r in long.itertuples()]
    reasons: list[tuple[str, int]] = []
    if quarantine is not None and len(quarantine):
        # "duplicate id (first on row 12)", "unreadable amount: abc" → one kind of reason each
        kinds = quarantine["reason"].astype(str).str.replace(REASON_DETAIL, "", regex=True)
        counts = kinds.value_counts().head(top)
        reasons = [(str(k), int(v)) for k, v in counts.items()]
    return DataFacts(records=records, customers=real, worst=worst, quarantine_reasons=reasons,
                     quarantined=int(len(quarantine)) if quarantine is not None else None)


def segment_names() -> dict[str, tuple[str, str]]:
    """RFM segment id → (zh, en) from the default segment map; empty when it cannot be read."""
    try:
        from digiops.labels.features import load_segment_map

        return {s.id: (s.name_zh, s.name_en) for s in load_segment_map()}
    except Exception:  # noqa: BLE001 - names are a nicety, the ids still show
        return {}


#: Customers without a purchase have no RFM segment: named as such, never a blank row.
NO_SEGMENT = "no_purchase"
NO_SEGMENT_NAMES = ("未消费（无 RFM 分群）", "No purchase yet (no RFM segment)")


def segment_table(tags: pd.DataFrame, names: dict[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """Per RFM segment: customers, share, value (sum of ``monetary``), value share; largest value first."""
    names = names if names is not None else segment_names()
    frame = pd.DataFrame({"segment": tags["rfm_segment"].fillna(NO_SEGMENT).astype(str),
                          "value": pd.to_numeric(tags.get("monetary", 0), errors="coerce").astype(float)})
    table = frame.groupby("segment", sort=False).agg(customers=("segment", "size"), value=("value", "sum"))
    table = table.reset_index()
    table["share"] = table["customers"] / max(len(frame), 1)
    total = table["value"].sum()
    table["value_share"] = table["value"] / total if total else 0.0
    names = {**names, NO_SEGMENT: NO_SEGMENT_NAMES}
    table["name_zh"] = table["segment"].map(lambda s: names.get(s, (s, s))[0])
    table["name_en"] = table["segment"].map(lambda s: names.get(s, (s, s))[1])
    return table.sort_values(["value", "segment"], ascending=[False, True], ignore_index=True)


def label_facts(tags: pd.DataFrame, recorded: dict[str, Any]) -> LabelFacts:
    """The labels stage's recorded figures (``LabelStage.headline``) and its segments."""
    customers = int(recorded.get("customers", len(tags)))
    segments = [SegmentFacts(r.segment, r.name_zh, r.name_en, int(r.customers), float(r.share), float(r.value),
                             float(r.value_share)) for r in segment_table(tags).itertuples()]
    return LabelFacts(customers=customers, tags=int(recorded["tags"]),
                      coverage=int(recorded["tagged_customers"]) / customers if customers else 0.0,
                      scored=int(recorded["scored_customers"]), segments=segments)


def disagreements(evidence: pd.DataFrame) -> list[Disagreement]:
    """The dimensions evidence.parquet flags (opinion and evidence further apart than the margin)."""
    flagged = evidence[evidence["disagreement"].fillna(False).astype(bool)]
    return [Disagreement(str(r.dimension), str(r.name_zh), str(r.name_en), _num(r.questionnaire_level),
                         _num(r.evidence_level)) for r in flagged.itertuples()]


def play_facts(plays: pd.DataFrame, names: dict[str, tuple[str, str]] | None = None) -> list[PlayFacts]:
    """Every sized play, largest expected value first."""
    names = names if names is not None else segment_names()
    ordered = plays.sort_values("expected_value", ascending=False, kind="stable")
    return [PlayFacts(str(r.segment), *names.get(str(r.segment), (str(r.segment), str(r.segment))), str(r.play),
                      int(r.customers), float(r.expected_value), str(r.channel_zh), str(r.channel_en))
            for r in ordered.itertuples()]


def progress_facts(progress: pd.DataFrame) -> ProgressFacts | None:
    """The company's and each department's level change between the two latest waves; ``None`` with one wave."""
    if not len(progress):
        return None

    def change(row, key: str, zh: str, en: str) -> LevelChange:
        return LevelChange(key, zh, en, _num(row.level_previous), _num(row.level_latest))

    company = progress[progress["scope"] == "company"]
    overall = company[company["dimension"] == "overall"]
    if not len(overall):
        return None
    first = overall.iloc[0]
    dimensions = [change(r, str(r.dimension), str(r.name_zh), str(r.name_en))
                  for r in company[company["dimension"] != "overall"].itertuples()]
    rows = progress[(progress["scope"] == "department") & (progress["dimension"] == "overall")]
    departments = sorted((change(r, str(r.department), str(r.department), str(r.department))
                          for r in rows.itertuples()), key=lambda c: -(c.change if c.change is not None else -99))
    return ProgressFacts(str(first["wave_previous"]), str(first["wave_latest"]),
                         change(first, "overall", "总体", "Overall"), dimensions, departments)


def _text_or_none(value: Any) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value) \
        else str(value)


def initiative_facts(recorded: dict[str, Any], decisions: pd.DataFrame | None) -> InitiativeFacts | None:
    """The register's counts the maturity stage recorded, and every decision the committee must take (owners
    masked: the summary is client-facing)."""
    if not recorded.get("initiative_register"):
        return None
    listed = []
    for r in (decisions.itertuples() if decisions is not None else ()):
        text = _text_or_none(r.text) if r.kind == "decision" else _text_or_none(getattr(r, "milestone", None))
        listed.append(Decision(str(r.initiative_id), str(r.name_zh), str(r.name_en), str(r.kind),
                               mask_owner(_text_or_none(r.owner)), _text_or_none(r.due), text,
                               _num(getattr(r, "amount", None))))
    count = lambda key: int(recorded.get(key) or 0)  # noqa: E731
    return InitiativeFacts(late=count("initiatives_late"), at_risk=count("initiatives_at_risk"),
                           on_track=count("initiatives_on_track"), over_budget=count("initiatives_over_budget"),
                           milestones_overdue=count("milestones_overdue"),
                           approved=_num(recorded.get("initiative_budget_approved")),
                           spent=_num(recorded.get("initiative_spent")), decisions=listed)


def next_actions(actions: pd.DataFrame) -> list[NextAction]:
    """The proposed actions in priority order, owners masked."""
    ordered = actions.sort_values("priority", kind="stable") if "priority" in actions.columns else actions
    def owner(r) -> str | None:  # a role the KPI tree names is no person's name
        text = _text_or_none(r.owner)
        return text if getattr(r, "owner_source", None) == "kpi_tree" else mask_owner(text)

    return [NextAction(str(r.action_id), str(r.trigger), str(r.kpi), str(r.action_zh), str(r.action_en),
                       owner(r), _text_or_none(r.due),
                       str(getattr(r, "triggers", None) or r.trigger).split(",")) for r in ordered.itertuples()]


def cascade_facts(cascade: pd.DataFrame) -> CascadeFacts:
    derived = cascade[cascade["source"] == "derived"]
    checked = cascade["coherent"].dropna()
    return CascadeFacts(derived=len(derived), rules=sorted(derived["rule"].dropna().astype(str).unique()),
                        checks=len(checked), failed=int((~checked.astype(bool)).sum()))


def review_rows(attainment: pd.DataFrame) -> pd.DataFrame:
    """The company-level rows (unit ``all``) of the reviewed month."""
    rows = attainment[attainment["unit"].astype(str) == "all"]
    if "reviewed" in rows.columns and rows["reviewed"].fillna(False).astype(bool).any():
        return rows[rows["reviewed"].fillna(False).astype(bool)]
    with_target = rows[rows["target"].notna()] if "target" in rows.columns else rows
    if not len(with_target):
        return with_target
    return with_target[with_target["period"] == with_target["period"].max()]


def kpi_facts(attainment: pd.DataFrame, runrate: pd.DataFrame | None, recorded: dict[str, Any],
              names: dict[str, dict[str, str]] | None = None) -> KpiFacts:
    """Attainment of every KPI for the whole company, the main variance driver the kpi stage recorded for its
    headline KPI, and the run-rate outlook."""
    names = names or {}
    rows = review_rows(attainment)
    lines = [KpiLine(str(r.kpi), names.get(r.kpi, {}).get("zh", r.kpi), names.get(r.kpi, {}).get("en", r.kpi),
                     _num(r.actual), _num(r.target), _num(r.attainment), str(r.status),
                     names.get(r.kpi, {}).get("measure", ""), names.get(r.kpi, {}).get("definition", ""))
             for r in rows.itertuples()]
    kpis = [line.kpi for line in lines]
    focus = recorded.get("headline_kpi") or ("gmv" if "gmv" in kpis or not kpis else kpis[0])
    driver = None
    if recorded.get("main_driver") is not None:
        driver = Driver(focus, str(recorded["main_driver"]), float(recorded["main_driver_contribution"]),
                        _num(recorded.get(f"{focus}_change")))
    outlook = None
    if runrate is not None and len(runrate):
        rr = runrate[(runrate["kpi"] == focus) & (runrate["unit"].astype(str) == "all")]
        if len(rr):
            r = rr.iloc[0]
            outlook = RunRate(focus, str(r["period"]), _num(r["projection"]), _num(r["target"]),
                              _num(r["projected_attainment"]), _num(r["required_daily"]))
    period = str(rows["period"].iloc[0]) if len(rows) else None
    return KpiFacts(review_period=period, lines=lines, driver=driver, runrate=outlook)


def pilot_initiatives(roadmap: pd.DataFrame) -> list[Initiative]:
    pilots = roadmap[roadmap["phase"] == "pilot"]
    return [Initiative(str(r["initiative_id"]), str(r.get("name_zh", r["initiative_id"])),
                       str(r.get("name_en", r["initiative_id"])), str(r.get("dimension", "")),
                       None if pd.isna(r.get("months")) else str(r.get("months")), _num(r.get("budget")))
            for _, r in pilots.iterrows()]


def read_kpi_names(run_dir: Path) -> dict[str, dict[str, str]]:
    """KPI id → names, measure and definition, as the kpi stage recorded them from its tree."""
    return RunFolder(run_dir).json("kpi", "kpi_names.json") or {}


def _maybe(table: pd.DataFrame | None, build) -> Any:
    return None if table is None else build(table)


# --- the whole run ------------------------------------------------------------------------------------------------
def collect(run_dir: str | Path, previous_run_dir: str | Path | None = None,
            kpi_names: dict[str, dict[str, str]] | None = None, *, with_trends: bool = True) -> Summary:
    """Read a run folder's manifest and outputs into a :class:`Summary` (and compare with the previous run)."""
    run_dir = Path(run_dir)
    run = RunFolder(run_dir)
    metrics = functools.cache(run.metrics)  # each stage's metrics.json is read once, whatever reads it
    manifest = run.read_manifest()
    summary = Summary(client=manifest.client, client_name=dict(manifest.client_name), run_id=manifest.run_id,
                      language=str(manifest.parameters.get("language", "zh")),
                      stages=stage_states(manifest, run))
    names = kpi_names if kpi_names is not None else read_kpi_names(run_dir)

    def ran(stage: str) -> bool:
        state = summary.stages.get(stage)
        return state is not None and state.status == "succeeded"

    def attempt(stage: str, build) -> Any:
        try:
            return build()
        except Exception as exc:  # noqa: BLE001 - a broken output must not sink the whole summary
            summary.problems[stage] = f"{type(exc).__name__}: {exc}"[:200]
            return None

    if ran("maturity"):
        summary.maturity = attempt("maturity", lambda: _maybe(
            run.first_table("maturity", "scores.parquet", "scores.csv"), maturity_facts))
        if summary.maturity is not None:
            summary.maturity.levels = {key.removeprefix("level_"): value for key, value in
                                       metrics("maturity").items() if key.startswith("level_")}
            summary.maturity.disagreements = attempt("maturity", lambda: _maybe(
                run.table("maturity", "evidence.parquet"), disagreements)) or []
            summary.maturity.progress = attempt("maturity", lambda: _maybe(
                run.table("maturity", "progress.parquet"), progress_facts))
        summary.initiatives = attempt("maturity", lambda: initiative_facts(
            metrics("maturity"), run.table("maturity", "decisions.parquet")))
        summary.pilots = attempt("maturity", lambda: _maybe(
            run.first_table("maturity", "roadmap.parquet", "roadmap.csv"), pilot_initiatives))
    if ran("merge"):
        def merge_facts() -> DataFacts | None:
            tables = {n: run.table("merge", f"{n}.parquet")
                      for n in ("crosswalk", "customers", "data_quality", "quarantine")}
            if all(t is None for t in tables.values()):
                return None
            return data_facts(tables["crosswalk"], tables["customers"], tables["data_quality"], tables["quarantine"])
        summary.data = attempt("merge", merge_facts)
    if ran("labels"):
        summary.labels = attempt("labels", lambda: _maybe(run.table("labels", "tags.parquet"),
                                                          lambda t: label_facts(t, metrics("labels"))))
        if summary.labels is not None:
            summary.labels.plays = attempt("labels", lambda: _maybe(run.table("labels", "plays.parquet"),
                                                                    play_facts)) or []
            summary.labels.behaviour = attempt("labels", lambda: behaviour_facts(metrics("labels")))
    if ran("kpi"):
        summary.kpi = attempt("kpi", lambda: _maybe(
            run.table("kpi", "attainment.parquet"),
            lambda a: kpi_facts(a, run.table("kpi", "runrate.parquet"), metrics("kpi"), names)))
        if summary.kpi is not None:
            summary.kpi.cascade = attempt("kpi", lambda: _maybe(run.table("kpi", "cascade.parquet"), cascade_facts))
            summary.kpi.spend = attempt("kpi", lambda: spend_facts(metrics("kpi")))
            summary.kpi.next_actions = attempt("kpi", lambda: _maybe(run.table("kpi", "actions_next.parquet"),
                                                                     next_actions))
    if previous_run_dir:
        previous_dir = Path(previous_run_dir)
        if RunFolder(previous_dir).is_run:
            previous = collect(previous_dir, None, kpi_names=names, with_trends=False)
            summary.previous_run = previous.run_id
            summary.changes = compare(previous, summary)
    if with_trends:
        summary.trends = client_trends(run_dir, headline_numbers(summary))
    return summary


def client_trends(run_dir: Path, current: dict[str, float | None], runs: int = 8) -> list[Trend]:
    """Every headline figure across the client's successful runs before this one that recorded their figures
    (``outputs/summary/figures.json``, the summary stage's), oldest first, then this run: ``runs`` at most."""
    earlier = []
    for entry in reversed(archive.list_runs(run_dir.parent)):  # newest first → oldest first
        if entry["run_id"] >= run_dir.name or entry["status"] != "succeeded":
            continue
        figures = RunFolder(entry["path"]).json("summary", FIGURES)
        if isinstance(figures, dict):
            earlier.append((entry["run_id"], figures))
    shown = earlier[-(runs - 1):] + [(run_dir.name, current)] if runs > 1 else [(run_dir.name, current)]
    keys = dict.fromkeys([*current, *(key for _, figures in shown for key in figures)])
    return [Trend(key, {run_id: figures.get(key) for run_id, figures in shown}) for key in keys]


def headline_numbers(summary: Summary) -> dict[str, float | None]:
    """The figures compared between two runs, by a stable key."""
    out: dict[str, float | None] = {}
    if summary.maturity:
        out["maturity.overall_level"] = summary.maturity.overall_level
        for dimension, level in summary.maturity.levels.items():
            out[f"maturity.level.{dimension}"] = level
    if summary.data:
        out["merge.records"] = summary.data.records
        out["merge.customers"] = summary.data.customers
        out["merge.quarantined"] = summary.data.quarantined
    if summary.labels:
        out["labels.coverage"] = summary.labels.coverage
        for segment in summary.labels.segments:
            out[f"labels.segment.{segment.segment}"] = segment.customers
    if summary.kpi:
        for line in summary.kpi.lines:
            out[f"kpi.{line.kpi}.attainment"] = line.attainment
        if summary.kpi.runrate:
            out["kpi.runrate.projected_attainment"] = summary.kpi.runrate.projected_attainment
    return out


def compare(previous: Summary, current: Summary, tolerance: float = 1e-9) -> list[Change]:
    """Headline figures that changed between two runs (figures present in only one run included)."""
    before, after = headline_numbers(previous), headline_numbers(current)
    changes = []
    for key in list(after) + [k for k in before if k not in after]:
        a, b = before.get(key), after.get(key)
        if a is None and b is None:
            continue
        if a is not None and b is not None and abs(float(b) - float(a)) <= tolerance:
            continue
        changes.append(Change(key, None if a is None else float(a), None if b is None else float(b)))
    return changes
