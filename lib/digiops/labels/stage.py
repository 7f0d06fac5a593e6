"""The labels stage end to end, as the notebook calls it: load, evaluate, measure, write.

Outputs (``outputs/labels/``): ``tags.parquet`` (one row per customer, one column per tag plus the RFM columns),
``tag_matrix.csv`` / ``tag_matrix.parquet`` (the CDP import: customer id and tag values, no personal field),
``catalog.xlsx`` and ``catalog.html`` (the catalog as business readers see it), ``coverage.parquet``,
``conflicts.parquet``, ``low_coverage.parquet``, ``segments.parquet``, ``migration.parquet`` (when a previous run
exists) and ``candidates.parquet`` (the design aid).
"""

from __future__ import annotations

import datetime as dt

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from digiops.labels.catalog import CATEGORIES, CATEGORY_NAMES, Catalog, load_catalog
from digiops.labels.design import candidate_tags
from digiops.labels.evaluate import TagRun, evaluate, features_frame
from digiops.labels.features import FEATURES, RFM_COLUMNS, Segment, load_segment_map
from digiops.labels.quality import coverage, low_coverage, migration, segment_summary, tagged
from digiops.labels.settings import LabelSettings
from digiops.masking import PERSONAL_FIELDS

MERGE_TABLES = ("customers", "orders", "shipments", "products")


@dataclass
class LabelStage:
    run: TagRun
    segments: list[Segment]
    coverage: pd.DataFrame
    low_coverage: pd.DataFrame
    segment_summary: pd.DataFrame
    migration: pd.DataFrame | None
    candidates: pd.DataFrame
    settings: LabelSettings

    @property
    def tags(self) -> pd.DataFrame:
        return self.run.tags

    @property
    def catalog(self) -> Catalog:
        return self.run.catalog

    def headline(self) -> dict[str, object]:
        """The figures the summary and the dashboard show, recorded once here (they recompute none of them).

        ``tags`` counts the catalog's tags (RFM is one more, its own columns); ``tagged_customers`` holds at least
        one catalog tag; ``scored_customers`` has an RFM segment (customers with a purchase).
        """
        tags = self.tags
        return {"customers": len(tags), "tags": len(self.catalog.tags),
                "tagged_customers": int(tagged(tags, self.catalog).sum()),
                "scored_customers": int(tags["rfm_segment"].notna().sum()), "as_of": self.run.as_of.isoformat(),
                "conflicts": int(self.run.conflicts["customers"].sum()),
                "low_coverage_tags": int((self.low_coverage["value"] == "*").sum())}


def catalog_path(ctx) -> Path:
    return (ctx.engagement.folder / ctx.settings.catalog).resolve()


def catalog_table(catalog: Catalog, language: str = "zh") -> pd.DataFrame:
    """The catalog as a business reader sees it: definition first, then values, owner, rule, sources."""
    zh = language == "zh"
    rows = []
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for tag in sorted(catalog.tags, key=lambda t: order[t.category]):
        if tag.values:
            values = "；".join(f"{v.name.zh if zh else v.name.en}（{v.value}）: {v.rule}" for v in tag.values)
        else:
            values = ("标记: " if zh else "flag: ") + tag.rule if tag.output == "flag" else \
                ("取值: " if zh else "value of: ") + tag.rule
        rows.append({
            ("类别" if zh else "category"): CATEGORY_NAMES[tag.category][0 if zh else 1],
            ("标签" if zh else "tag"): tag.name.zh if zh else tag.name.en,
            ("业务口径" if zh else "business definition"): tag.definition,
            ("取值与规则" if zh else "values and rules"): values,
            ("负责人" if zh else "owner"): tag.owner,
            ("业务场景" if zh else "scenario"): tag.scenario,
            ("来源字段" if zh else "source fields"): ", ".join(tag.source_fields),
            ("更新频率" if zh else "refresh"): tag.refresh,
            ("版本" if zh else "version"): tag.version,
            "id": tag.id,
        })
    return pd.DataFrame(rows)


def catalog_html(table: pd.DataFrame, title: str) -> str:
    """A standalone HTML page of the catalog table; every cell escaped, nothing fetched or run (the reports' CSP)."""
    from digiops.context import CONTENT_SECURITY_POLICY  # context → engagement → labels.settings: import late

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False, name=None))
    return (f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(CONTENT_SECURITY_POLICY)}\">"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px 8px;vertical-align:top;text-align:left}th{background:#f0f0f0}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</body></html>\n")


def tag_matrix(tags: pd.DataFrame) -> pd.DataFrame:
    """The CDP import: customer id and tag values, personal fields excluded, flags as 1/0-free booleans."""
    personal = set(PERSONAL_FIELDS) | {"phone", "email", "full_name", "national_id", "address", "birth_date"}
    keep = [c for c in tags.columns if c not in personal]
    return tags[keep]


def run_stage(ctx, *, tables: dict[str, object] | None = None) -> LabelStage:
    """Evaluate the engagement's catalog on this run's merge outputs and compute the quality tables."""
    settings: LabelSettings = ctx.settings
    catalog = load_catalog(catalog_path(ctx))
    segment_map = (ctx.engagement.folder / settings.segment_map).resolve() if settings.segment_map else None
    tables = tables or {name: ctx.stage_output("merge", f"{name}.parquet") for name in MERGE_TABLES}
    engine = ctx.engagement.engine
    run = evaluate(tables, catalog, as_of=settings.as_of, thresholds=settings.rfm_thresholds,
                   segment_map=segment_map, engine=engine,
                   fallback_as_of=ctx.engagement.period.end + dt.timedelta(days=1))
    segments = load_segment_map(segment_map)
    cover = coverage(run.tags, catalog, ctx.language)
    features = features_frame(tables, as_of=run.as_of, thresholds=settings.rfm_thresholds, segment_map=segment_map,
                              engine=engine)
    return LabelStage(
        run=run, segments=segments, coverage=cover, low_coverage=low_coverage(cover, settings.min_coverage),
        segment_summary=segment_summary(run.tags, segments, ctx.language),
        migration=migration(ctx.previous_table("labels", "tags"), run.tags),
        candidates=candidate_tags(features, settings.candidate_quantiles, settings.candidate_top),
        settings=settings)


def write_outputs(ctx, stage: LabelStage) -> dict[str, Path]:
    """Write every output of the stage through the StageContext (atomic, Excel-safe)."""
    written = {"tags": ctx.write_table("tags", stage.tags)}
    matrix = tag_matrix(stage.tags)
    written["tag_matrix.parquet"] = ctx.write_table("tag_matrix", matrix)
    written["tag_matrix.csv"] = ctx.write_csv("tag_matrix.csv", matrix)
    table = catalog_table(stage.catalog, ctx.language)
    fields = pd.DataFrame([{"field": k, "type": t, "description": d} for k, (t, d) in FEATURES.items()])
    written["catalog.xlsx"] = ctx.write_xlsx("catalog.xlsx", {"catalog": table, "fields": fields,
                                                              "coverage": stage.coverage})
    from digiops import io

    written["catalog.html"] = io.write_text(ctx.output("catalog.html"),
                                            catalog_html(table, ctx.t("标签目录", "Tag catalog")))
    for name in ("coverage", "low_coverage", "segment_summary", "candidates"):
        written[name] = ctx.write_table(name, getattr(stage, name))
    written["conflicts"] = ctx.write_table("conflicts", stage.run.conflicts)
    if stage.migration is not None:
        written["migration"] = ctx.write_table("migration", stage.migration.reset_index())
    return written


__all__ = ["LabelStage", "RFM_COLUMNS", "catalog_html", "catalog_table", "run_stage", "tag_matrix", "write_outputs"]
