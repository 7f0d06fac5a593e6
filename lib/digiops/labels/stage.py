"""The labels stage end to end, as the notebook calls it: load, evaluate, measure, write.

Outputs (``outputs/labels/``): ``tags.parquet`` (one row per customer, one column per tag plus the RFM columns),
``tag_matrix.csv`` / ``tag_matrix.parquet`` (the CDP import: customer id and tag values, no personal field),
``catalog.xlsx`` and ``catalog.html`` (the catalog as business readers see it), ``coverage.parquet``,
``conflicts.parquet``, ``low_coverage.parquet``, ``segments.parquet``, ``migration.parquet`` (when a previous run
exists), ``candidates.parquet`` (the design aid), ``plays.parquet`` (each segment's play sized,
:mod:`digiops.labels.plays`), ``audiences.csv`` / ``audiences.xlsx`` (the plays' audience list for the client's
CRM / CDP: customer id, segment, play, channel, offer — no personal field), ``event_links.parquet`` (the events
source's events per link status: linked / unknown key / ambiguous / anonymous) and ``behaviour_tags.parquet`` (each
behaviour tag's values and holders), both without rows when ``labels.events`` is not set
(:mod:`digiops.labels.behaviour`).

The tag table stays where the engine keeps it (:class:`~digiops.labels.tagtable.TagTable`): every measure is a query
whose result — a few rows — reaches the driver, the tag table, the tag matrix and the audience list are written by
the engine (on Spark by one executor task each), and their CSV and XLSX exports are streamed from those files one
batch at a time, so the driver's memory does not grow with the client.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from digiops import engines, io, sources
from digiops.labels.behaviour import (CROSSWALK, EVENTS_SQL, RAW, RECORDS, EventFeatures, event_table, link_events,
                                      link_summary, no_event_links, record_table)
from digiops.labels.catalog import Catalog, load_catalog
from digiops.labels.check import event_problems
from digiops.labels.design import candidate_tags
from digiops.labels.evaluate import TagRun, evaluate
from digiops.labels.features import FEATURE_VIEW_FIELDS, RFM_COLUMNS, Segment, load_segment_map
from digiops.labels.measures import (cooccurrence, coverage, low_coverage, migration, segment_summary,
                                     tag_distribution, tagged_count)
from digiops.labels.plays import AUDIENCE_ORDER, audience_sql, largest_opportunity, size_plays
from digiops.labels.report import catalog_html, catalog_table, coverage_view, example_profiles
from digiops.labels.tagtable import TagTable, count_of
from digiops.masking import PERSONAL_FIELDS
from digiops.runfolder import RunFolder
from digiops.settings.labels import LabelSettings
from digiops.sql import identifier, literal

MERGE_TABLES = ("customers", "orders", "shipments", "products")
COOCCURRENCE_TAGS = 24  # tag values in the co-occurrence matrix, the most held first
#: The stage's work folder on Spark (in the run folder, which the executors reach), named like the merge's.
WORK, WORKSPACE_PREFIX = "work", "digiops-labels-"


@dataclass
class LabelStage:
    run: TagRun
    segments: list[Segment]
    coverage: pd.DataFrame
    low_coverage: pd.DataFrame
    segment_summary: pd.DataFrame
    migration: pd.DataFrame | None
    candidates: pd.DataFrame
    cooccurrence: pd.DataFrame  # share of holders of the row tag who hold the column tag (the most held 24)
    plays: pd.DataFrame  # one row per segment with a play, sized (digiops.labels.plays.size_plays)
    settings: LabelSettings
    #: events per link status (digiops.labels.behaviour.link_summary); None without labels.events
    event_links: pd.DataFrame | None = None
    #: behaviour tags' values and holders (digiops.labels.measures.tag_distribution); None without labels.events
    behaviour: pd.DataFrame | None = None
    #: customers with linked events, with an abandoned cart, browsing without buying (from the feature view)
    behaviour_figures: dict[str, int] = field(default_factory=dict)
    #: customers, customers holding a catalog tag, customers with an RFM segment
    counts: dict[str, int] = field(default_factory=dict)
    #: a few customers' tags in words, personal data masked (:func:`digiops.labels.report.example_profiles`)
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame)
    written: dict[str, Path] = field(default_factory=dict)

    @property
    def tags(self) -> pd.DataFrame:
        """The whole tag table as a frame (from ``tags.parquet`` once written): for tests and small clients; the
        stage itself never collects it."""
        if "tags" in self.written:
            return io.arrow_frame(pq.read_table(self.written["tags"]))
        return self.run.tags

    @property
    def catalog(self) -> Catalog:
        return self.run.catalog

    def headline(self) -> dict[str, object]:
        """The figures the summary and the dashboard show, recorded once here (they recompute none of them).

        ``tags`` counts the catalog's tags (RFM is one more, its own columns); ``tagged_customers`` holds at least
        one catalog tag; ``scored_customers`` has an RFM segment (customers with a purchase); ``play_customers``
        are in a segment with a play, ``play_expected_value`` the plays' expected value in yuan and
        ``largest_play_segment`` the segment whose play has the largest (``None`` when none has any). With event
        data: ``events`` of the events source, ``events_linked`` / ``events_unknown_key`` / ``events_ambiguous`` /
        ``events_anonymous`` (they add up to ``events``), ``event_customers`` (customers with linked events),
        ``cart_abandoners`` (customers with an abandoned cart) and ``browse_never_buy`` (visited, never ordered).
        """
        largest = largest_opportunity(self.plays)
        return {"customers": self.counts["customers"], "tags": len(self.catalog.tags),
                "tagged_customers": self.counts["tagged"], "scored_customers": self.counts["scored"],
                "as_of": self.run.as_of.isoformat(),
                "conflicts": int(self.run.conflicts["customers"].sum()),
                "low_coverage_tags": int((self.low_coverage["value"] == "*").sum()),
                "play_customers": int(self.plays["customers"].sum()),
                "play_expected_value": round(float(self.plays["expected_value"].sum()), 2),
                "largest_play_segment": None if largest is None else str(largest["segment"]),
                **self.behaviour_headline()}

    def behaviour_headline(self) -> dict[str, object]:
        """The event figures of :meth:`headline` (empty without ``labels.events``)."""
        if self.event_links is None:
            return {}
        counts = dict(zip(self.event_links["status"], self.event_links["events"], strict=True))
        return {"events": int(self.event_links["events"].sum()),
                **{f"events_{status}": int(n) for status, n in counts.items()}, **self.behaviour_figures}


def catalog_path(ctx) -> Path:
    return (ctx.engagement.folder / ctx.settings.catalog).resolve()


def tag_matrix_columns(columns: list[str]) -> list[str]:
    """The CDP import's columns: customer id and tag values, personal fields excluded."""
    personal = set(PERSONAL_FIELDS) | {"phone", "email", "full_name", "national_id", "address", "birth_date"}
    return [c for c in columns if c not in personal]


def _keyed_by_id(target, field: str) -> bool:
    """True when the events' key is the target source's own id (its crosswalk ``record_id``)."""
    return field == "record_id" or bool(target.id_column and target.columns.get(target.id_column) == field)


def prepare_events(engagement, settings, work: Path) -> tuple[Path, Path | None]:
    """Read the events source and, when the key is not the target source's id, the target source's key field,
    and write them as the linking reads them (:func:`digiops.labels.behaviour.event_table`,
    :func:`~digiops.labels.behaviour.record_table`) to ``work``: in this process, or on Spark as one executor
    task (:func:`digiops.engines.run_tasks`), like the merge's sources. Returns the two files (the second
    ``None`` when the key is the id)."""
    target, field = engagement.sources[settings.customer_key.source], settings.customer_key.field
    through_records = not _keyed_by_id(target, field)

    def task(_: object) -> tuple[Path, Path | None]:
        events = work / "events.raw.parquet"
        pq.write_table(event_table(sources.canonical_frame(engagement, settings.source),
                                   engagement.merge.timezone), events)
        if not through_records:
            return events, None
        records = work / "events.records.parquet"
        pq.write_table(record_table(sources.canonical_frame(engagement, settings.customer_key.source), field),
                       records)
        return events, records

    if not engagement.engine.is_spark:
        return task(None)
    return engines.run_tasks(engagement.engine, [None], task, location=engagement.file.name,
                             description="digiops labels: read the events")[0]


def link_stage_events(ctx, settings, work: Path) -> tuple[pd.DataFrame, Path]:
    """The events source (``labels.events.source``) linked to the merge's customers
    (:func:`digiops.labels.behaviour.link_events`) where the engine keeps its tables: the export read by
    :func:`prepare_events`, the key looked up through the merge stage's crosswalk, directly when it is the target
    source's id column, else through the target source's records. Returns the events per link status and the
    linked events the feature SQL reads (:data:`~digiops.labels.behaviour.EVENTS_SQL`, Parquet in ``work``);
    only the summary reaches the driver."""
    engagement = ctx.engagement
    engine = engagement.engine
    problems = event_problems(engagement)  # what `validate` says, before any data is read
    if problems:
        raise problems[0]
    events, records = prepare_events(engagement, settings, work)
    con = duckdb.connect()
    try:
        con.execute(f"SET temp_directory = {literal(str(work))}")
        engines.read_view(con, RAW, events, engine)
        engines.read_view(con, CROSSWALK, ctx.stage_output("merge", "crosswalk.parquet"), engine)
        if records is not None:
            engines.read_view(con, RECORDS, records, engine)
        link_events(con, settings.customer_key.source, through_records=records is not None, engine=engine)
        summary = link_summary(con, engine)
        path = work / "events.parquet"
        engines.write_parquet(con, EVENTS_SQL, path, engine)
    finally:
        con.close()
    return summary, path


def run_stage(ctx, *, work: Path) -> LabelStage:
    """Evaluate the engagement's catalog on this run's merge outputs and compute the quality tables (on Spark,
    after :func:`digiops.engines.check_spark`: a cluster it cannot use fails before any table is read; the
    executors write the tag table and the linked events in ``work``). Every measure is a query over the tag table
    where the engine keeps it (:class:`~digiops.labels.tagtable.TagTable`): only results reach the driver.
    ``stage.run.close()`` when done (:func:`run` does)."""
    engine = ctx.engagement.engine
    if engine.is_spark:
        engines.check_spark(engine, ctx.run_dir, location=ctx.engagement.file.name)
    settings: LabelSettings = ctx.settings
    catalog = load_catalog(catalog_path(ctx))
    segment_map = (ctx.engagement.folder / settings.segment_map).resolve() if settings.segment_map else None
    tables = {name: ctx.stage_output("merge", f"{name}.parquet") for name in MERGE_TABLES}
    events, event_links = None, None
    if settings.events is not None:
        event_links, tables["events"] = link_stage_events(ctx, settings.events, work)
        events = EventFeatures.from_settings(settings.events)
    run = evaluate(tables, catalog, as_of=settings.as_of, thresholds=settings.rfm_thresholds,
                   segment_map=segment_map, engine=engine,
                   fallback_as_of=ctx.engagement.period.end + dt.timedelta(days=1), events=events, work=work)
    try:
        return _measure(ctx, run, settings, segment_map, events, event_links)
    except BaseException:
        run.close()
        raise


def _measure(ctx, run: TagRun, settings: LabelSettings, segment_map: Path | None, events: EventFeatures | None,
             event_links: pd.DataFrame | None) -> LabelStage:
    """The stage's tables from the evaluated tags (:func:`run_stage`)."""
    table, catalog = run.table, run.catalog
    segments = load_segment_map(segment_map)
    cover = coverage(table, catalog)
    behaviour, figures = None, {}
    if events is not None:
        with_events, abandoners, browsers = table.counts(
            ["count(cart_adds)", count_of("abandoned_carts > 0"), count_of("CAST(browse_never_buy AS BOOLEAN)")],
            "customer_features")
        figures = {"event_customers": with_events if not events.complete
                   else int(event_links.loc[event_links["status"] == "linked", "customers"].sum()),
                   "cart_abandoners": abandoners, "browse_never_buy": browsers}
        # customers with linked events before as_of: the ones the behaviour features describe
        behaviour = tag_distribution(table, catalog, with_events=None if events.complete else with_events)
    # the previous run's tag table, when it has one (its labels stage may not have run)
    previous = RunFolder(ctx.previous_run_dir).output("labels", "tags.parquet") if ctx.previous_run_dir else None
    customers, scored = table.counts(["count(*)", "count(rfm_segment)"])
    counts = {"customers": customers, "tagged": tagged_count(table, catalog), "scored": scored}
    return LabelStage(
        run=run, segments=segments, coverage=cover, low_coverage=low_coverage(cover, settings.min_coverage),
        segment_summary=segment_summary(table, segments),
        migration=migration(previous if previous is not None and previous.exists() else None, table),
        candidates=candidate_tags(table, settings.candidate_quantiles, settings.candidate_top),
        cooccurrence=cooccurrence(table, catalog, COOCCURRENCE_TAGS),
        plays=size_plays(table, segments, settings.plays.response_rates), settings=settings,
        event_links=event_links, behaviour=behaviour, behaviour_figures=figures, counts=counts,
        profiles=example_profiles(ctx, table, catalog, settings.example_profiles, segments))


def _write_parquet(table: TagTable, sql: str, path: Path, order_by: tuple[str, ...] = (),
                   drop: tuple[str, ...] = ()) -> Path:
    """The rows of ``sql`` as the Parquet file ``path``, written by DuckDB or by one Spark task."""
    engines.write_parquet(table.con, sql, path, table.engine, order_by=order_by, drop=drop)
    return path


def write_outputs(ctx, stage: LabelStage, work: Path) -> dict[str, Path]:
    """Write every output of the stage: the tag table, the tag matrix and the audience list by the engine
    (Parquet), their CSV and XLSX streamed from those files batch by batch (``work`` holds the audience's Parquet);
    the small tables through the StageContext (atomic, Excel-safe)."""
    table = stage.run.table
    written = {"tags": _write_parquet(table, "SELECT * FROM tags", ctx.output("tags.parquet"), ("customer_id",))}
    matrix = ", ".join(identifier(c) for c in tag_matrix_columns(list(table.booleans())))
    written["tag_matrix.parquet"] = _write_parquet(table, f"SELECT {matrix} FROM tags",
                                                   ctx.output("tag_matrix.parquet"), ("customer_id",))
    written["tag_matrix.csv"] = io.export_csv_parquet(ctx.output("tag_matrix.csv"), written["tag_matrix.parquet"])
    catalog = catalog_table(stage.catalog, ctx.language)
    fields = pd.DataFrame([{"field": k, "type": t, "description": d} for k, (t, d) in FEATURE_VIEW_FIELDS.items()])
    cover = coverage_view(stage.coverage, stage.catalog, language=ctx.language)  # the export names the codes
    written["catalog.xlsx"] = ctx.write_xlsx("catalog.xlsx", {"catalog": catalog, "fields": fields, "coverage": cover})
    written["catalog.html"] = io.write_text(ctx.output("catalog.html"),
                                            catalog_html(catalog, ctx.t("标签目录", "Tag catalog")))
    for name in ("coverage", "low_coverage", "segment_summary", "candidates"):
        written[name] = ctx.write_table(name, getattr(stage, name))
    written["conflicts"] = ctx.write_table("conflicts", stage.run.conflicts)
    written["plays"] = ctx.write_table("plays", stage.plays)
    audiences = _write_parquet(table, audience_sql(table, stage.segments, ctx.language), work / "audiences.parquet",
                               AUDIENCE_ORDER, drop=("position",))
    written["audiences.csv"] = io.export_csv_parquet(ctx.output("audiences.csv"), audiences)
    written["audiences.xlsx"] = io.export_xlsx_parquet(ctx.output("audiences.xlsx"), "audiences", audiences)
    written["event_links"] = ctx.write_table("event_links", stage.event_links if stage.event_links is not None
                                             else no_event_links())
    written["behaviour_tags"] = ctx.write_table("behaviour_tags", stage.behaviour if stage.behaviour is not None
                                                else tag_distribution(table, stage.catalog).iloc[:0])
    if stage.migration is not None:
        written["migration"] = ctx.write_table("migration", stage.migration.reset_index())
    return written


def work_folder(ctx) -> tempfile.TemporaryDirectory:
    """The stage's work folder, removed when done: on Spark in the run folder (:data:`WORK`), which the executors
    reach; on DuckDB in the system's temporary directory."""
    root = None
    if ctx.engagement.engine.is_spark:
        root = ctx.run_dir / WORK
        root.mkdir(parents=True, exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-", dir=root)


def run(ctx) -> LabelStage:
    """The stage: evaluate the catalog, write every output, record the headline figures (``stage.written`` lists
    the files)."""
    with work_folder(ctx) as work:
        stage = run_stage(ctx, work=Path(work))
        try:
            stage.written = write_outputs(ctx, stage, Path(work))
            ctx.record(**stage.headline())
        finally:
            stage.run.close()
    return stage


__all__ = ["LabelStage", "RFM_COLUMNS", "run", "run_stage", "tag_matrix_columns", "write_outputs"]
