"""The stage registry: every built-in stage in one place, and the dependency order of a run.

A stage is a parameterized notebook under ``notebooks/`` (a custom stage: the engagement's own notebook, run as
``<name>.ipynb`` and rendered as ``<name>.html``). ``depends_on`` names the stages whose outputs it reads;
a stage whose dependency failed or was skipped is skipped with that reason. ``optional`` dependencies are read when
present (the summary reads whatever stages ran).

``outputs`` are the files a stage always writes under ``outputs/<stage>/``: the runner fails a stage whose notebook
finished without writing one of them. Files a stage writes only under a condition are left out (each stage's
comment names them); the manifest lists every file a stage wrote. A custom stage declares none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from digiops import paths
from digiops.engagement import Engagement
from digiops.errors import EngagementError
from digiops.text import in_language
from digiops.runfolder import METRICS


DELIVER = "deliver"
#: The stages that run on the engagement's engine (``engine:``, :mod:`digiops.engines`): DuckDB or Spark.
ENGINE_STAGES = ("merge", "labels")


@dataclass(frozen=True)
class Stage:
    name: str
    notebook: str
    depends_on: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    #: the kinds of source the stage reads (``None``: any); what decides whether its outputs can be reused
    #: (:mod:`digiops.reuse`)
    reads: tuple[str, ...] | None = None
    title_zh: str = ""
    title_en: str = ""
    notebook_path: Path | None = field(default=None, compare=False)

    def path(self) -> Path:
        return self.notebook_path or paths.notebooks_dir() / self.notebook

    def title(self, language: str) -> str:
        return in_language(language, self.title_zh, self.title_en) or self.name


# Every built-in stage records its headline figures (ctx.record), so each declares metrics.json.
BUILTIN: dict[str, Stage] = {s.name: s for s in (
    Stage("inventory", "00_inventory.ipynb", outputs=("inventory.parquet", "columns.parquet", METRICS),
          title_zh="数据盘点", title_en="Data inventory"),
    Stage("merge", "01_clean_merge.ipynb",
          reads=("customers", "leads", "orders", "shipments", "products", "stores"),
          outputs=("crosswalk.parquet", "customers.parquet", "orders.parquet", "shipments.parquet",
                   "products.parquet", "quarantine.parquet", "data_quality.parquet", "id_changes.parquet",
                   "review_pairs.xlsx", METRICS),
          title_zh="数据清洗与客户合并", title_en="Data cleaning and customer merge"),
    # Not declared: migration.parquet, written only when the client has a previous run with tags.
    Stage("labels", "02_labels.ipynb", depends_on=("merge",), reads=(),
          outputs=("tags.parquet", "tag_matrix.parquet", "tag_matrix.csv", "catalog.xlsx", "catalog.html",
                   "coverage.parquet", "low_coverage.parquet", "segment_summary.parquet", "candidates.parquet",
                   "conflicts.parquet", "plays.parquet", "audiences.csv", "audiences.xlsx", "event_links.parquet",
                   "behaviour_tags.parquet", METRICS),
          title_zh="标签体系", title_en="Tag system"),
    Stage("maturity", "03_maturity.ipynb", optional=("merge", "labels", "kpi"),
          reads=("questionnaire", "indicators", "value_stream", "initiatives"),
          outputs=("scores.csv", "scores.parquet", "department_scores.parquet", "respondent_scores.parquet",
                   "question_stats.parquet", "indicators.parquet", "benchmark.parquet", "value_stream.parquet",
                   "bottlenecks.parquet", "handoff_chains.parquet", "roadmap.parquet", "roadmap.csv",
                   "budget.parquet", "sensitivity.parquet", "evidence.parquet", "evidence_indicators.parquet",
                   "progress.parquet", "initiatives.parquet", "decisions.parquet", METRICS),
          title_zh="数字化成熟度诊断", title_en="Digital maturity"),
    Stage("kpi", "04_kpi.ipynb", depends_on=("merge",),
          outputs=("attainment.parquet", "variance.parquet", "funnel.parquet", "smart_checks.parquet",
                   "runrate.parquet", "actions.parquet", "tree.parquet", "cascade.parquet", "kpi_names.json",
                   "actions_next.parquet", "actions_next.xlsx",
                   "spend.parquet", "spend_summary.parquet",
                   METRICS),
          title_zh="KPI 复盘", title_en="KPI review"),
    Stage("summary", "05_summary.ipynb", optional=("inventory", "merge", "labels", "maturity", "kpi"), reads=(),
          outputs=("summary.json", "figures.json", METRICS),
          title_zh="管理层摘要", title_en="Executive summary"),
    # Writes outputs/deliver/: the client version of every report (rendered by the runner), their PDFs (when
    # Chromium is there and deliver.pdf is on), deck.pptx and workbook.xlsx (when their settings are on).
    Stage(DELIVER, "06_deliver.ipynb", depends_on=("summary",),
          optional=("inventory", "merge", "labels", "maturity", "kpi"), reads=(), outputs=(METRICS,),
          title_zh="交付文件", title_en="Deliverables"),
)}


def plan(engagement: Engagement, only: list[str] | None = None) -> list[Stage]:
    """The stages to run, in dependency order (built-in order first, custom stages after their dependencies).

    ``only`` restricts the run to some of the engagement's stages; their dependencies are not added: a stage
    whose dependency is not in the run reads it from nowhere and is skipped with a reason.
    """
    selected = list(engagement.stages)
    if only:
        unknown = [s for s in only if s not in selected]
        if unknown:
            raise EngagementError(engagement.file.name, f"--stages names {', '.join(unknown)}, not in this "
                                  f"engagement's stages ({', '.join(selected)})", field="stages",
                                  fix="add them to stages: in the engagement file, or drop them from --stages")
        selected = [s for s in selected if s in only]
    catalog = dict(BUILTIN)
    for custom in engagement.custom_stages:
        # The executed copy is named after the stage, not the notebook file: two stages may run one notebook, or
        # notebooks of one name from two folders, and each keeps its own copy in the run folder. The name is
        # validated (digiops.engagement.STAGE_NAME, unique, not reserved), so it cannot leave the run folder.
        catalog[custom.name] = Stage(custom.name, f"{custom.name}.ipynb", depends_on=tuple(custom.depends_on),
                                     notebook_path=(engagement.folder / custom.notebook).resolve(),
                                     title_zh=custom.name, title_en=custom.name)
    ordered: list[Stage] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in (s.name for s in ordered):
            return
        if name in visiting:
            raise EngagementError(engagement.file.name, f"stage '{name}' depends on itself through "
                                  f"{', '.join(sorted(visiting))}", field="custom_stages",
                                  fix="remove the cycle in depends_on")
        visiting.add(name)
        for dep in catalog[name].depends_on + catalog[name].optional:
            if dep in selected:
                visit(dep)
        visiting.discard(name)
        ordered.append(catalog[name])

    for name in selected:
        visit(name)
    return ordered
