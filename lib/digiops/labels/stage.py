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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from digiops import io
from digiops.engines import check_spark
from digiops.errors import EngagementError
from digiops.labels.behaviour import EventFeatures, events_view, key_lookup, link_events, link_summary
from digiops.labels.catalog import Catalog, load_catalog
from digiops.labels.design import candidate_tags
from digiops.labels.evaluate import TagRun, evaluate, features_frame
from digiops.labels.features import FEATURE_VIEW_FIELDS, RFM_COLUMNS, Segment, load_segment_map
from digiops.labels.measures import (cooccurrence, coverage, indicators, low_coverage, migration, segment_summary,
                                     tag_distribution, tagged)
from digiops.labels.plays import audience, largest_opportunity, size_plays
from digiops.labels.report import catalog_html, catalog_table, coverage_view
from digiops.masking import PERSONAL_FIELDS
from digiops.settings.labels import LabelSettings

MERGE_TABLES = ("customers", "orders", "shipments", "products")
COOCCURRENCE_TAGS = 24  # tag values in the co-occurrence matrix, the most held first


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
    written: dict[str, Path] = field(default_factory=dict)

    @property
    def tags(self) -> pd.DataFrame:
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
        tags = self.tags
        largest = largest_opportunity(self.plays)
        return {"customers": len(tags), "tags": len(self.catalog.tags),
                "tagged_customers": int(tagged(tags, self.catalog).sum()),
                "scored_customers": int(tags["rfm_segment"].notna().sum()), "as_of": self.run.as_of.isoformat(),
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


def tag_matrix(tags: pd.DataFrame) -> pd.DataFrame:
    """The CDP import: customer id and tag values, personal fields excluded, flags as 1/0-free booleans."""
    personal = set(PERSONAL_FIELDS) | {"phone", "email", "full_name", "national_id", "address", "birth_date"}
    keep = [c for c in tags.columns if c not in personal]
    return tags[keep]


def linked_events(ctx, settings) -> pd.DataFrame:
    """The events source (``labels.events.source``) with each event's customer and link status
    (:func:`digiops.labels.behaviour.link_events`): the key looked up through the merge stage's crosswalk, directly
    when it is the target source's id column, else through the target source's records."""
    engagement = ctx.engagement
    for name, key in ((settings.source, "labels.events.source"), (settings.customer_key.source,
                                                                   "labels.events.customer_key.source")):
        if name not in engagement.sources:
            raise EngagementError(engagement.file.name, f"names source '{name}', which the engagement does not have",
                                  field=key, fix=f"use one of: {', '.join(engagement.sources)}")
    events = ctx.canonical(settings.source)
    if "customer_key" not in events:
        raise EngagementError(engagement.file.name, f"source '{settings.source}' maps no column to customer_key",
                              field=f"sources.{settings.source}.columns",
                              fix="map the logged-in visitor's key column (member id, openid, buyer id) to "
                                  "customer_key, or remove labels.events")
    target = engagement.sources[settings.customer_key.source]
    field = settings.customer_key.field
    crosswalk = ctx.read_table("merge", "crosswalk")
    if field == "record_id" or (target.id_column and target.columns.get(target.id_column) == field):
        lookup = key_lookup(crosswalk, settings.customer_key.source)
    else:
        records = ctx.canonical(settings.customer_key.source)
        if field not in records:
            raise EngagementError(engagement.file.name, f"source '{settings.customer_key.source}' maps no column to "
                                  f"{field}", field="labels.events.customer_key.field",
                                  fix="name a canonical field the source maps (e.g. member_id, openid)")
        lookup = key_lookup(crosswalk, settings.customer_key.source, records, field)
    return link_events(events, lookup)


def run_stage(ctx, *, tables: dict[str, object] | None = None) -> LabelStage:
    """Evaluate the engagement's catalog on this run's merge outputs and compute the quality tables (on Spark,
    after :func:`digiops.engines.check_spark`: a cluster it cannot use fails before any table is read)."""
    if ctx.engagement.engine.is_spark:
        check_spark(ctx.engagement.engine, ctx.run_dir, location=ctx.engagement.file.name)
    settings: LabelSettings = ctx.settings
    catalog = load_catalog(catalog_path(ctx))
    segment_map = (ctx.engagement.folder / settings.segment_map).resolve() if settings.segment_map else None
    tables = dict(tables or {name: ctx.stage_output("merge", f"{name}.parquet") for name in MERGE_TABLES})
    engine = ctx.engagement.engine
    events, event_links = None, None
    if settings.events is not None:
        linked = linked_events(ctx, settings.events)
        event_links = link_summary(linked)
        tables["events"] = events_view(linked)
        events = EventFeatures.from_settings(settings.events)
    run = evaluate(tables, catalog, as_of=settings.as_of, thresholds=settings.rfm_thresholds,
                   segment_map=segment_map, engine=engine,
                   fallback_as_of=ctx.engagement.period.end + dt.timedelta(days=1), events=events)
    segments = load_segment_map(segment_map)
    cover = coverage(run.tags, catalog)
    features = features_frame(tables, as_of=run.as_of, thresholds=settings.rfm_thresholds, segment_map=segment_map,
                              engine=engine, events=events)
    behaviour, figures = None, {}
    if events is not None:
        figures = {"event_customers": int(features["cart_adds"].notna().sum()) if not events.complete
                   else int(event_links.loc[event_links["status"] == "linked", "customers"].sum()),
                   "cart_abandoners": int((features["abandoned_carts"] > 0).fillna(False).sum()),
                   "browse_never_buy": int(features["browse_never_buy"].fillna(False).astype(bool).sum())}
        # customers with linked events before as_of: the ones the behaviour features describe
        with_events = run.tags["customer_id"].isin(set(features.loc[features["cart_adds"].notna(), "customer_id"]))
        behaviour = tag_distribution(run.tags, catalog, with_events=None if events.complete else with_events)
    return LabelStage(
        run=run, segments=segments, coverage=cover, low_coverage=low_coverage(cover, settings.min_coverage),
        segment_summary=segment_summary(run.tags, segments),
        migration=migration(ctx.previous_table("labels", "tags"), run.tags),
        candidates=candidate_tags(features, settings.candidate_quantiles, settings.candidate_top),
        cooccurrence=cooccurrence(indicators(run.tags, catalog, COOCCURRENCE_TAGS)),
        plays=size_plays(run.tags, segments, settings.plays.response_rates), settings=settings,
        event_links=event_links, behaviour=behaviour, behaviour_figures=figures)


def write_outputs(ctx, stage: LabelStage) -> dict[str, Path]:
    """Write every output of the stage through the StageContext (atomic, Excel-safe)."""
    written = {"tags": ctx.write_table("tags", stage.tags)}
    matrix = tag_matrix(stage.tags)
    written["tag_matrix.parquet"] = ctx.write_table("tag_matrix", matrix)
    written["tag_matrix.csv"] = ctx.write_csv("tag_matrix.csv", matrix)
    table = catalog_table(stage.catalog, ctx.language)
    fields = pd.DataFrame([{"field": k, "type": t, "description": d} for k, (t, d) in FEATURE_VIEW_FIELDS.items()])
    cover = coverage_view(stage.coverage, stage.catalog, language=ctx.language)  # the export names the codes
    written["catalog.xlsx"] = ctx.write_xlsx("catalog.xlsx", {"catalog": table, "fields": fields, "coverage": cover})
    written["catalog.html"] = io.write_text(ctx.output("catalog.html"),
                                            catalog_html(table, ctx.t("标签目录", "Tag catalog")))
    for name in ("coverage", "low_coverage", "segment_summary", "candidates"):
        written[name] = ctx.write_table(name, getattr(stage, name))
    written["conflicts"] = ctx.write_table("conflicts", stage.run.conflicts)
    written["plays"] = ctx.write_table("plays", stage.plays)
    audiences = audience(stage.tags, stage.segments, ctx.language)
    written["audiences.csv"] = ctx.write_csv("audiences.csv", audiences)
    written["audiences.xlsx"] = ctx.write_xlsx("audiences.xlsx", {"audiences": audiences})
    written["event_links"] = ctx.write_table("event_links", stage.event_links if stage.event_links is not None
                                             else link_summary(pd.DataFrame(columns=["link_status", "visitor_id",
                                                                                     "customer_id"])).iloc[:0])
    written["behaviour_tags"] = ctx.write_table("behaviour_tags", stage.behaviour if stage.behaviour is not None
                                                else tag_distribution(stage.tags.iloc[:0], stage.catalog).iloc[:0])
    if stage.migration is not None:
        written["migration"] = ctx.write_table("migration", stage.migration.reset_index())
    return written


def run(ctx) -> LabelStage:
    """The stage: evaluate the catalog, write every output, record the headline figures (``stage.written`` lists
    the files)."""
    stage = run_stage(ctx)
    stage.written = write_outputs(ctx, stage)
    ctx.record(**stage.headline())
    return stage


__all__ = ["LabelStage", "RFM_COLUMNS", "run", "run_stage", "tag_matrix", "write_outputs"]
