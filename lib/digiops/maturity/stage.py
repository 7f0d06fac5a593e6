"""The maturity stage end to end: read the engagement's sources, score, benchmark, diagnose, plan.

:func:`run_maturity` is pure apart from reading the client's files; :func:`write_outputs` writes the stage's
outputs through a :class:`~digiops.context.StageContext`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from digiops import sources
from digiops.engagement import Engagement
from digiops.errors import QuestionBankError
from digiops.maturity import answers as answers_mod
from digiops.maturity import benchmark as benchmark_mod
from digiops.maturity import evidence as evidence_mod
from digiops.maturity import initiatives as initiatives_mod
from digiops.maturity import progress as progress_mod
from digiops.maturity import roadmap as roadmap_mod
from digiops.maturity import scoring
from digiops.maturity import value_stream as vs
from digiops.maturity.bank import QuestionBank, bank_for, indicators_for
from digiops.maturity.evidence import Evidence, RunTables
from digiops.maturity.progress import Progress
from digiops.runfolder import RunFolder
from digiops.settings.maturity import DIMENSION_KEYS


@dataclass
class MaturityResult:
    """Everything the report shows and the stage writes."""

    bank: QuestionBank
    answers: pd.DataFrame
    scores: pd.DataFrame
    respondents: pd.DataFrame
    departments: pd.DataFrame
    questions: pd.DataFrame
    indicators: pd.DataFrame
    benchmark: pd.DataFrame
    benchmark_illustrative: bool
    benchmark_source: str
    industry: str
    nodes: pd.DataFrame
    bottlenecks: pd.DataFrame
    chains: pd.DataFrame
    root_causes: pd.DataFrame
    processes: pd.DataFrame
    roadmap: pd.DataFrame
    budget: pd.DataFrame
    sensitivity: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    #: the run's own outputs beside the questionnaire (:mod:`digiops.maturity.evidence`)
    evidence: Evidence | None = None
    #: every assessment wave and the latest against the previous (:mod:`digiops.maturity.progress`)
    progress: Progress | None = None
    #: the initiative register joined to the roadmap, and the decisions needed (:mod:`digiops.maturity.initiatives`)
    initiatives: pd.DataFrame | None = None
    decisions: pd.DataFrame | None = None
    #: whether the engagement has an initiative register
    has_register: bool = False
    #: the date milestones are overdue against
    as_of: object = None
    #: KPI id → {"zh": name, "en": name} from the run's KPI review (empty when it did not run)
    kpi_names: dict = field(default_factory=dict)

    @property
    def overall(self) -> pd.Series:
        return self.scores.set_index("dimension").loc[scoring.OVERALL]

    @property
    def largest_gap(self) -> pd.Series | None:
        dims = self.scores[self.scores["dimension"].isin(DIMENSION_KEYS) & self.scores["gap"].notna()]
        if dims.empty:
            return None
        return dims.sort_values("gap", ascending=False, kind="stable").iloc[0]


def _label(engagement: Engagement, name: str) -> str:
    try:
        return str(engagement.source_path(name).relative_to(engagement.folder))
    except ValueError:
        return str(engagement.source_path(name))


def read_answers(engagement: Engagement, bank: QuestionBank) -> tuple[pd.DataFrame, progress_mod.WaveDates | None]:
    """The answers source, long or wide, validated against the bank, every wave (a ``wave`` column when there are
    waves: :func:`digiops.maturity.progress.assign_waves`), and each wave's answer dates when mapped."""
    settings = engagement.maturity
    name = settings.answers_source
    if name not in engagement.sources:
        raise QuestionBankError(engagement.file.name, f"no source named '{name}' for the questionnaire answers",
                                field="maturity.answers_source",
                                fix="add the answers file under sources: (kind questionnaire) or set "
                                "maturity.answers_source to its name")
    source = engagement.sources[name]
    label = _label(engagement, name)
    mapped = set(source.columns.values())
    form = settings.answers_form
    if form == "auto":
        form = "long" if {"question_id", "answer"} <= mapped else "wide"
    if form == "long":
        frame, dates = progress_mod.assign_waves(sources.canonical_frame(engagement, name), settings.waves,
                                                 settings.wave_gap_days, label)
        return answers_mod.answers_from_frame(frame, bank, form="long", label=label), dates
    table = sources.read_source(engagement, name)
    raw = table.frame.rename(columns=source.columns)
    if source.id_column and "respondent_id" not in raw.columns:
        raw = raw.rename(columns={source.id_column: "respondent_id"})
    raw, dates = progress_mod.assign_waves(raw, settings.waves, settings.wave_gap_days, label)
    return answers_mod.answers_from_frame(raw, bank, form="wide", label=label,
                                          ignore_columns=settings.wide_ignore_columns), dates


def _optional_source(engagement: Engagement, name: str | None, what: str, notes: list[str]) -> pd.DataFrame | None:
    if not name:
        return None
    if name not in engagement.sources:
        notes.append(f"no source '{name}' ({what}); that part of the diagnosis is left out")
        return None
    return sources.canonical_frame(engagement, name)


def run_tables(folder: RunFolder) -> RunTables:
    """The tables of this run the evidence is measured on (:data:`digiops.maturity.evidence.TABLE_COLUMNS`), read
    with the columns it uses; a table the run has not written, or one without those columns, is ``None``."""
    import pyarrow.parquet as pq

    found: dict[str, pd.DataFrame] = {}
    for (stage, name), columns in evidence_mod.TABLE_COLUMNS.items():
        file = f"{name}.parquet"
        if not folder.has_output(stage, file):
            continue
        path = folder.output(stage, file)
        if set(columns) <= set(pq.read_schema(path).names):
            found[name] = pd.read_parquet(path, columns=columns)
    return RunTables(**found)


#: the KPI review's table the initiatives read (the KPI each should move, its attainment in the review month)
ATTAINMENT_COLUMNS = ["kpi", "level", "period", "attainment", "status", "reviewed"]


def run_attainment(folder: RunFolder) -> pd.DataFrame | None:
    """This run's ``kpi/attainment`` with the columns the initiatives use; ``None`` when the KPI review did not run."""
    import pyarrow.parquet as pq

    if not folder.has_output("kpi", "attainment.parquet"):
        return None
    path = folder.output("kpi", "attainment.parquet")
    if not set(ATTAINMENT_COLUMNS) <= set(pq.read_schema(path).names):
        return None
    return pd.read_parquet(path, columns=ATTAINMENT_COLUMNS)


def read_register(engagement: Engagement, notes: list[str]) -> pd.DataFrame | None:
    """The initiative register (``maturity.initiatives_source``), validated; ``None`` when there is none."""
    name = engagement.maturity.initiatives_source
    frame = _optional_source(engagement, name, "initiative register", notes)
    if frame is None:
        return None
    return initiatives_mod.register_from_frame(frame, label=_label(engagement, name))


def run_maturity(engagement: Engagement, run_outputs: RunTables | None = None,
                 attainment: pd.DataFrame | None = None) -> MaturityResult:
    """Score the engagement's questionnaire (its latest wave) and indicators, benchmark, diagnose the value stream,
    plan; set the evidence of ``run_outputs`` (the same run's outputs; none given: no evidence) beside the
    questionnaire, the progress since the previous wave, and the initiative register beside the roadmap with the
    KPI review's ``attainment`` (when it ran)."""
    settings = engagement.maturity
    notes: list[str] = []
    bank = bank_for(settings, engagement.folder)
    every_wave, wave_dates = read_answers(engagement, bank)
    progress = progress_mod.assess(every_wave, settings, wave_dates)
    answers = progress_mod.latest_wave(every_wave, wave_dates)
    tables = indicators_for(settings)
    raw_indicators = _optional_source(engagement, settings.indicators_source, "indicators", notes)
    indicator_values = (answers_mod.indicators_from_frame(raw_indicators, tables,
                                                          label=_label(engagement, settings.indicators_source))
                        if raw_indicators is not None else None)
    indicators = scoring.indicator_scores(indicator_values, tables) if indicator_values is not None else \
        scoring.indicator_scores(pd.DataFrame(columns=["indicator_id", "value"]), tables)
    targets = {d: settings.target(d) for d in DIMENSION_KEYS}
    scores = scoring.score_dimensions(answers, indicators, indicator_weight=settings.indicator_weight,
                                      dimension_weights=settings.dimension_weights, targets=targets,
                                      disagreement_levels=settings.disagreement_levels)
    respondents = scoring.respondent_scores(answers)
    departments = scoring.department_scores(answers, scores, settings.disagreement_levels)
    questions = scoring.question_statistics(answers, bank)
    industry = settings.industry or engagement.client.industry
    bench = benchmark_mod.benchmark_for(settings, engagement.folder)
    comparison = benchmark_mod.compare(scores, bench, industry)

    raw_nodes = _optional_source(engagement, settings.value_stream_source, "value stream", notes)
    if raw_nodes is not None:
        nodes = vs.nodes_from_frame(raw_nodes, label=_label(engagement, settings.value_stream_source),
                                    extra_keywords=settings.root_cause_keywords)
    else:
        nodes = vs.nodes_from_frame(pd.DataFrame(columns=["process", "node"]))
    diagnosed = vs.diagnose(nodes, slow_hours=settings.slow_node_hours, error_rate=settings.error_rate_threshold)
    library = roadmap_mod.initiatives_for(settings, engagement.folder)
    roadmap, budget = roadmap_mod.build_roadmap(scores, library, settings)
    register = read_register(engagement, notes)
    as_of = initiatives_mod.as_of_date(settings, engagement)
    milestones = register if register is not None else initiatives_mod.register_from_frame(
        pd.DataFrame(columns=["initiative_id"]))
    joined = initiatives_mod.join(roadmap, milestones, as_of,
                                  {i.id: {"name_zh": i.name_zh, "name_en": i.name_en, "dimension": i.dimension}
                                   for i in library}, attainment)
    needed = initiatives_mod.decisions(joined, milestones, as_of)
    sensitivity = scoring.sensitivity(scores, settings.dimension_weights, settings.sensitivity_change)
    evidence = evidence_mod.assess(run_outputs or RunTables(), scores, settings.evidence, settings.evidence_margin)
    return MaturityResult(
        bank=bank, answers=answers, scores=scores, respondents=respondents, departments=departments,
        questions=questions, indicators=indicators, benchmark=comparison, benchmark_illustrative=bench.illustrative,
        benchmark_source=bench.source, industry=industry, nodes=diagnosed, bottlenecks=vs.bottlenecks(diagnosed),
        chains=vs.handoff_chains(diagnosed), root_causes=vs.root_cause_summary(diagnosed),
        processes=vs.process_summary(diagnosed), roadmap=roadmap, budget=budget, sensitivity=sensitivity,
        notes=notes, evidence=evidence, progress=progress, initiatives=joined, decisions=needed,
        has_register=register is not None, as_of=as_of)


SCORES_CSV_COLUMNS = ["dimension", "name_zh", "name_en", "score", "level", "band", "target", "gap", "severity",
                      "respondent_spread", "questionnaire_score", "indicator_score", "weight", "respondents",
                      "disagreement"]


def run(ctx) -> MaturityResult:
    """The stage: score the engagement's questionnaire and indicators, set the evidence of the run's merge, labels
    and kpi outputs (those that ran before it) beside them, write every output, record the headline."""
    result = run_maturity(ctx.engagement, run_tables(ctx.folder), run_attainment(ctx.folder))
    if ctx.folder.has_output("kpi", "kpi_names.json"):
        import json

        result.kpi_names = json.loads(ctx.folder.output("kpi", "kpi_names.json").read_text(encoding="utf-8"))
    write_outputs(ctx, result)
    return result


def write_outputs(ctx, result: MaturityResult) -> dict[str, object]:
    """Write ``outputs/maturity/`` and record the headline figures; returns what was recorded."""
    ctx.write_csv("scores.csv", result.scores[SCORES_CSV_COLUMNS])
    ctx.write_table("scores", result.scores)
    ctx.write_table("department_scores", result.departments)
    ctx.write_table("respondent_scores", result.respondents)
    ctx.write_table("question_stats", result.questions)
    ctx.write_table("indicators", result.indicators)
    ctx.write_table("benchmark", result.benchmark)
    ctx.write_table("value_stream", result.nodes)
    ctx.write_table("bottlenecks", result.bottlenecks)
    ctx.write_table("handoff_chains", result.chains)
    ctx.write_table("roadmap", result.roadmap)
    ctx.write_csv("roadmap.csv", result.roadmap)
    ctx.write_table("budget", result.budget)
    ctx.write_table("sensitivity", result.sensitivity)
    ctx.write_table("evidence", result.evidence.dimensions)
    ctx.write_table("evidence_indicators", result.evidence.indicators)
    ctx.write_table("progress", result.progress.table)
    ctx.write_table("initiatives", result.initiatives)
    ctx.write_table("decisions", result.decisions)
    overall = result.overall
    largest = result.largest_gap
    metrics = {
        "overall_level": float(overall["level"]), "overall_band": int(overall["band"]),
        "overall_score": round(float(overall["score"]), 4), "respondents": int(result.answers["respondent_id"].nunique()),
        "largest_gap_dimension": None if largest is None else largest["dimension"],
        "largest_gap": None if largest is None else float(largest["gap"]),
        "largest_gap_severity": None if largest is None else largest["severity"],
        "critical_gaps": int((result.scores["severity"] == "critical").sum()),
        "disagreements": int(result.scores["disagreement"].sum()),
        "bottlenecks": int(len(result.bottlenecks)), "handoffs": int(result.nodes["handoff"].sum()),
        "initiatives": int(len(result.roadmap)), "benchmark_illustrative": result.benchmark_illustrative,
        "evidence_indicators": int(len(result.evidence.indicators)),
        "evidence_disagreements": int(result.evidence.dimensions["disagreement"].sum()),
        **progress_metrics(result.progress), **initiative_metrics(result),
    }
    for record in result.scores.itertuples(index=False):
        if record.dimension in DIMENSION_KEYS and not math.isnan(record.level):
            metrics[f"level_{record.dimension}"] = float(record.level)
    return ctx.record(**metrics)


def progress_metrics(progress: Progress) -> dict[str, object]:
    """The headline of the progress since the previous assessment (empty values with one wave)."""
    waves = progress.waves
    out: dict[str, object] = {"assessment_waves": int(len(waves)),
                              "assessment_wave": None if waves.empty else waves["wave"].iloc[-1],
                              "previous_wave": waves["wave"].iloc[-2] if progress.compared else None}
    if progress.compared:
        company = progress.company
        overall = progress.overall
        dims = company[company["dimension"].isin(DIMENSION_KEYS)]
        out |= {"overall_level_previous": float(overall["level_previous"]),
                "overall_level_change": float(overall["change"]),
                "dimensions_improved": int((dims["trend"] == "up").sum()),
                "dimensions_declined": int((dims["trend"] == "down").sum()),
                "gaps_narrowed": int(dims["gap_narrowed"].fillna(False).astype(bool).sum())}
    return out


def initiative_metrics(result: MaturityResult) -> dict[str, object]:
    """The headline of the initiative register and the decisions needed (nothing without a register)."""
    if not result.has_register:
        return {"initiative_register": False}
    table = result.initiatives
    approved = table["budget_approved"].sum(min_count=1)
    spent = table["spent"].sum(min_count=1)
    return {"initiative_register": True,
            "initiatives_late": int((table["status"] == "late").sum()),
            "initiatives_at_risk": int((table["status"] == "at_risk").sum()),
            "initiatives_on_track": int(table["status"].isin(["on_track", "done"]).sum()),
            "initiatives_without_register": int((~table["in_register"]).sum()),
            "initiatives_outside_roadmap": int((~table["in_roadmap"]).sum()),
            "milestones_overdue": int(table["overdue"].sum()),
            "initiatives_over_budget": int(table["over_budget"].sum()),
            "initiative_budget_approved": None if pd.isna(approved) else float(approved),
            "initiative_spent": None if pd.isna(spent) else float(spent),
            "decisions_needed": int(len(result.decisions))}
