"""The Excel workbook of a run's key tables, handed to the client (issue 21).

:func:`workbook_sheets` reads the key tables a run's stages wrote (``outputs/<stage>/``) and makes each ready for
a sheet: named in the language, codes in words, numbers kept as numbers, personal data masked. It never reads a
table that holds a person (customers, crosswalk, tags, orders, shipments, the quarantined rows themselves): the
quarantine is shown as counts per source, field and reason only. :func:`build_workbook` writes the sheets as XLSX
bytes (the caller writes them atomically): an *about* sheet first, then one sheet per table with a title, a
sentence on what it holds, a bold header row that stays in view (frozen) with a filter over the table, number
formats per column (``0.0%`` for shares, thousands separators, dates as dates), empty cells for missing values
and column widths that fit the content (a Chinese character counts as two).

**Formula injection.** A cell is never a formula: text that a spreadsheet would run (starting with ``= + - @``, a
tab or a carriage return) is prefixed with a quote (:func:`digiops.io.neutralize_formulas`), and every text cell
is written with the data type ``s`` (a string), whatever it holds.

**Names of the client's codes.** KPI names come from what the kpi stage recorded (``kpi_names.json``); tag, tag
value and strategic-goal names from the engagement's catalog and KPI tree, read only when the file still holds
what the run read (its SHA-256 in the manifest), else the codes are shown as they are.

Example:
    >>> from io import BytesIO
    >>> from openpyxl import load_workbook
    >>> sheet = Sheet("Shares", "Shares", "One share.", pd.DataFrame({"Share": [0.25]}), {"Share": "percent"})
    >>> book = load_workbook(BytesIO(build_workbook([sheet], language="en", about={"client": "Acme"})))
    >>> book.sheetnames, book["Shares"]["A4"].value, book["Shares"]["A4"].number_format, book["Shares"].freeze_panes
    (['About', 'Shares'], 0.25, '0.0%', 'A4')
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from digiops import io
from digiops.dashboard.kpi_views import BREAKDOWNS, EFFECTS, kpi_name
from digiops.dashboard.views import MIGRATION_NONE, MIGRATION_NONE_NAMES
from digiops.errors import ArchiveError, DigiopsError
from digiops.kpi.report import funnel_table, unit_name
from digiops.kpi.tree import load_tree
from digiops.labels.catalog import CATEGORY_NAMES, Catalog, load_catalog
from digiops.labels.features import Segment, load_segment_map
from digiops.labels.report import coverage_table, coverage_view, segment_table, segment_view
from digiops.manifest import Manifest
from digiops.masking import mask_owner, mask_text
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.report import budget_view, roadmap_view, scores_view
from digiops.merge.quality import MEASURE_NAMES, QUALITY_MEASURES
from digiops.merge.report import HEADLINE, quarantine_reasons
from digiops.merge.report import header as merge_header
from digiops.merge.report import view as merge_view
from digiops.runfolder import RunFolder, output_name
from digiops.text import FIELD_NAMES, KPI_LEVELS, KPI_STATUS, VARIANCE_METHODS, YES_NO, in_language, term

#: Number format of each kind of column.
NUMBER_FORMATS = {"percent": "0.0%", "integer": "#,##0", "decimal": "#,##0.00", "date": "yyyy-mm-dd"}

#: Each key table: sheet name, title and what it holds, (zh, en); in the workbook's order.
TABLES: dict[str, tuple[tuple[str, str], tuple[str, str], tuple[str, str]]] = {
    "attainment": (("KPI 达成", "KPI attainment"), ("KPI 达成情况", "KPI attainment"),
                   ("每个 KPI 在各单元、各月份的实际值、目标值与达成率。",
                    "Each KPI's actual, target and attainment per unit and month.")),
    "variance": (("变动归因", "Variance drivers"), ("KPI 变动归因", "What drove each KPI's change"),
                 ("复盘月相对比较月的变化，拆分到因子、大区和门店的贡献。",
                  "The change from the comparison month to the reviewed month, attributed to factors, regions and "
                  "stores.")),
    "runrate": (("月度推算", "Run-rate"), ("本月推算（run-rate）", "Run-rate of the current month"),
                ("本月至今的实际值、日均值，按当前速度推算的月末值与达成率。",
                 "The month so far: actual, daily average, and the month-end projection and attainment at the "
                 "current pace.")),
    "funnel": (("转化漏斗", "Funnel"), ("转化漏斗", "Conversion funnel"),
               ("每月进入的访客在各步骤的人数、转化率与流失。",
                "Visitors entering each month: how many reach each step, conversion and drop-off.")),
    "actions": (("行动跟踪", "Actions"), ("行动跟踪", "Action log"),
                ("改进行动的负责人（姓名已脱敏）、截止日期、状态，以及对应 KPI 自行动以来的变化。",
                 "Improvement actions with owner (name masked), due date and status, and how the KPI moved since.")),
    "tree": (("KPI 树", "KPI tree"), ("KPI 树", "KPI tree"),
             ("KPI 之间的拆解关系、计算方式、所服务的战略目标与负责人。",
              "How the KPIs break down into each other, how they combine, the strategic goal each serves and its "
              "owner.")),
    "scores": (("成熟度得分", "Maturity scores"), ("数字化成熟度得分", "Digital maturity scores"),
               ("各维度的得分、等级、目标、差距与严重度。",
                "Score, level, target, gap and severity of each dimension.")),
    "departments": (("部门得分", "Department scores"), ("各部门成熟度", "Maturity by department"),
                    ("各部门在每个维度上的得分与等级，并标出与公司整体相差较大的部门。",
                     "Each department's score and level per dimension, flagged where it departs from the company "
                     "level.")),
    "roadmap": (("转型路线图", "Roadmap"), ("转型路线图", "Transformation roadmap"),
                ("分阶段的举措、所弥补的差距与预算。",
                 "The initiatives by phase, the gap each closes and its budget.")),
    "budget": (("预算", "Budget"), ("分阶段预算", "Budget by phase"),
               ("各阶段按类别（技术、人才、运营）的预算。",
                "The budget of each phase by category (technology, people, operations).")),
    "segments": (("客户分群", "Segments"), ("RFM 客户分群", "RFM customer segments"),
                 ("各分群的客户数与占比、消费金额与占比、平均最近购买天数与购买次数。",
                  "Each segment's customers and share, spend and share of spend, mean recency and frequency.")),
    "migration": (("分群迁移", "Segment migration"), ("分群迁移", "Segment migration"),
                  ("上一次运行（行）与本次运行（列）各分群之间的客户数。",
                   "Customers by segment in the previous run (rows) and in this run (columns).")),
    "coverage": (("标签覆盖", "Tag coverage"), ("标签覆盖率", "Tag coverage"),
                 ("每个标签及其取值覆盖的客户数与占比。", "Customers each tag and tag value covers, and their share.")),
    "quality": (("数据质量", "Data quality"), ("数据质量（清洗前后）", "Data quality before and after cleaning"),
                ("每个来源每个字段在清洗前后的完整性、有效性、唯一性、一致性与标准格式（占比）。",
                 "Completeness, validity, uniqueness, consistency and standard format of each source's fields, "
                 "before and after cleaning (shares).")),
    "quarantine": (("隔离原因", "Quarantine reasons"), ("隔离的原始行", "Quarantined raw rows"),
                   ("无法使用而隔离的原始行数，按来源、字段与原因汇总（只有计数，不含行的内容）。",
                    "Raw rows set aside as unusable, counted by source, field and reason (counts only, never the "
                    "rows).")),
    "merge": (("合并概况", "Merge counts"), ("客户数据合并概况", "Customer data merge in figures"),
              ("读入、隔离的原始行数，以及合并后的客户、订单、运单数。",
               "Raw rows read and quarantined, and the customers, orders and shipments after the merge.")),
}

#: Column → header (zh, en) of the KPI, maturity and quality tables, in the words their reports use.
HEADERS = {
    "kpi": ("指标", "KPI"), "level": ("层级", "Level"), "unit": FIELD_NAMES["unit"], "period": FIELD_NAMES["period"],
    "actual": ("实际", "Actual"), "target": FIELD_NAMES["target"], "attainment": ("达成率", "Attainment"),
    "status": FIELD_NAMES["status"], "reviewed": ("复盘月", "Reviewed month"),
    "period_from": ("比较月", "From month"), "period_to": ("复盘月", "To month"), "breakdown": ("拆分", "Breakdown"),
    "item": ("项目", "Item"), "effect": ("效应", "Effect"), "value_from": ("起始值", "Value (from)"),
    "value_to": ("结束值", "Value (to)"), "contribution": ("贡献", "Contribution"), "change": ("总变化", "Total change"),
    "method": ("分解方法", "Method"), "as_of": ("截至", "As of"), "days_elapsed": ("已过天数", "Days elapsed"),
    "days_left": ("剩余天数", "Days left"), "actual_to_date": ("累计实际", "Actual to date"),
    "average_daily": ("日均", "Daily average"), "projection": ("推算月末", "Projection"), "gap": ("尚差", "Gap"),
    "required_daily": ("需日均", "Required daily"), "projected_attainment": ("推算达成率", "Projected attainment"),
    "action_id": FIELD_NAMES["action_id"], "action": FIELD_NAMES["action"], "owner": FIELD_NAMES["owner"],
    "due": FIELD_NAMES["due"], "created_at": FIELD_NAMES["created_at"], "overdue": ("逾期", "Overdue"),
    "change_pct": ("变化率", "Change (%)"), "improved": ("已改善", "Improved"), "note": FIELD_NAMES["note"],
    "parent": ("上级指标", "Parent KPI"), "position": ("顺序", "Position"), "combine": ("计算方式", "Combine"),
    "goal": ("战略目标", "Strategic goal"), "measure": ("计量单位", "Measure"), "direction": ("方向", "Direction"),
    "department": FIELD_NAMES["department"], "dimension": ("维度", "Dimension"),
    "respondents": ("受访人数", "Respondents"), "score": ("得分 (0–100)", "Score (0–100)"),
    "maturity_level": ("等级 L", "Level L"), "company_level": ("公司整体等级", "Company level"),
    "deviates": ("与整体差异大", "Departs from company"), "phase": ("清洗阶段", "Phase"),
    "applies_to": ("适用的行", "Applies to"), "category": ("类别", "Category"), "figure": ("指标", "Figure"),
    "count": ("数量", "Count"), "previous": ("上次分群 → 本次分群", "Previous segment → now"),
    **{measure: MEASURE_NAMES[measure] for measure in QUALITY_MEASURES if measure in MEASURE_NAMES},
}

#: Variance method (``variance.method``) → words: the usual methods briefly, the special cases as the KPI report
#: explains them.
METHODS = {"sum": ("加总", "sum"), "lmdi": ("LMDI 对数分解", "LMDI"), "ratio": ("比率拆分（组内与结构）", "ratio split"),
           **VARIANCE_METHODS}
#: How a KPI is made of its children (``tree.combine``) → words.
COMBINE = {"product": ("乘积（×）", "product (×)"), "sum": ("求和（+）", "sum (+)"), "ratio": ("比率（÷）", "ratio (÷)")}
#: Whether higher or lower is better (``tree.direction``) → words.
DIRECTIONS = {"higher": ("越高越好", "higher is better"), "lower": ("越低越好", "lower is better")}
#: The rows a quality figure counts (``data_quality.applies_to``, :data:`digiops.merge.quality.ROW_RULES`) → words.
APPLIES_TO = {"all": ("全部行", "all rows"), "refunds": ("退款单", "refunds"), "paid": ("未取消的订单", "orders not cancelled"),
              "shipped": ("已发货", "shipped"), "delivered": ("已签收", "delivered"), "optional": ("选填", "optional"),
              "undetermined": ("无法判断", "cannot tell")}
#: The about sheet's rows (``about`` keys) → words; any other key shows as it is.
ABOUT = {"client": ("客户", "Client"), "engagement": ("项目", "Engagement"), "period": ("期间", "Period"),
         "run": ("运行", "Run"), "generated": ("生成时间", "Generated")}

#: The tag holding each customer's RFM segment (``tags.rfm_segment``), whose values are segment ids.
RFM_SEGMENT = "rfm_segment"

_TITLE = Font(bold=True, size=14)
_NOTE = Font(italic=True, color="595959")
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOP = Alignment(vertical="top")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_CELL = 32767  # characters an Excel cell holds
_MAX_WIDTH = 60
_HEADER_ROW = 3  # below the title and the description


@dataclass(eq=False)
class Sheet:
    """One table ready for a sheet.

    Attributes:
        name: The sheet's tab (at most 31 characters, none of ``[]:*?/\\``); :func:`build_workbook` makes names
            safe and unique anyway.
        title: The line above the table.
        description: One sentence on what the table holds, in the language.
        frame: The table, its columns named in the language; numbers as numbers, dates as dates, missing values
            as NaN / None.
        formats: Column → ``percent`` / ``integer`` / ``decimal`` / ``date`` (:data:`NUMBER_FORMATS`).
        row_formats: Column → one kind per row, where rows differ (a rate KPI's actual is a percent, an amount's
            is not); overrides ``formats`` for that column.
    """

    name: str
    title: str
    description: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)
    row_formats: dict[str, list[str | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted({k for k in [*self.formats.values(), *(k for ks in self.row_formats.values() for k in ks)]
                          if k is not None and k not in NUMBER_FORMATS})
        if unknown:
            raise ValueError(f"sheet {self.name!r}: unknown number format {unknown} (use {sorted(NUMBER_FORMATS)})")


# --- reading the run --------------------------------------------------------------------------------------------
def workbook_sheets(run: RunFolder, language: str) -> list[Sheet]:
    """The key tables of a run, each ready for a sheet: title in the language, columns renamed to the language,
    values typed, personal data masked. Tables of stages that did not run are left out.

    A stage counts as run when it wrote its outputs and the manifest (when there is one) records it succeeded.

    Raises:
        ArchiveError: a table the stage wrote cannot be read, or lacks a column it should hold (names the file,
            the column, and the fix: run the stage again).
    """
    manifest = _manifest(run)
    ran = _stages_ran(run, manifest)
    sheets: list[Sheet] = []

    def add(stage: str, name: str, build: Callable[[pd.DataFrame], Sheet], needs: Sequence[str],
            columns: list[str] | None = None) -> None:
        if not ran(stage):
            return
        table = _table(run, stage, name, columns)
        if table is not None:
            _require(table, stage, name, needs)
            sheets.append(build(table))

    names = (run.json("kpi", "kpi_names.json") or {}) if ran("kpi") else {}
    add("kpi", "attainment.parquet", lambda t: _attainment(t, names, language),
        ["kpi", "level", "unit", "period", "actual", "target", "attainment", "status"])
    add("kpi", "variance.parquet", lambda t: _variance(t, names, language),
        ["kpi", "period_from", "period_to", "unit", "breakdown", "item", "value_from", "value_to", "contribution",
         "change", "method"])
    add("kpi", "runrate.parquet", lambda t: _runrate(t, names, language),
        ["kpi", "level", "unit", "period", "as_of", "actual_to_date", "projection", "target"])
    add("kpi", "funnel.parquet", lambda t: _funnel(t, language),
        ["period", "channel", "step", "stage", "visitors", "step_conversion", "overall_conversion", "drop_off",
         "drop_off_rate"])
    add("kpi", "actions.parquet", lambda t: _actions(t, names, language),
        ["action_id", "action", "owner", "kpi", "due", "status"])
    if ran("kpi"):
        goals = _goal_names(manifest)
        add("kpi", "tree.parquet", lambda t: _tree(t, names, goals, language), ["kpi", "parent"])
    add("maturity", "scores.parquet", lambda t: _scores(t, language),
        ["dimension", "name_zh", "name_en", "weight", "score", "level", "band", "target", "gap", "severity"])
    add("maturity", "department_scores.parquet", lambda t: _departments(t, language),
        ["department", "dimension", "score", "level"])
    add("maturity", "roadmap.parquet", lambda t: _roadmap(t, language),
        ["phase_zh", "phase_en", "months", "initiative_id", "dimension", "name_zh", "name_en", "gap", "severity",
         "budget_share", "budget"])
    add("maturity", "budget.parquet", lambda t: _budget(t, language),
        ["phase_zh", "phase_en", "months", "category", "programme_share", "budget"])
    if ran("labels"):
        segments = _segments_of(manifest)
        add("labels", "segment_summary.parquet", lambda t: _segment_summary(t, segments, language),
            ["segment", "cells", "customers", "share", "monetary"])
        add("labels", "migration.parquet", lambda t: _migration(t, segments, language), ["previous"])
        catalog = _catalog_of(manifest)
        add("labels", "coverage.parquet", lambda t: _coverage(t, catalog, segments, language),
            ["tag_id", "category", "value", "customers", "share"])
    add("merge", "data_quality.parquet", lambda t: _quality(t, language), ["source", "field", "phase"])
    add("merge", "quarantine.parquet", lambda t: _quarantine(t, language), ["source", "field", "reason"],
        columns=["source", "field", "reason"])  # the counts need no more: the rows' values are never read
    if ran("merge"):
        counts = run.json("merge", "metrics.json")
        if counts:
            sheets.append(_merge_counts(counts, language))
    return sheets


def _manifest(run: RunFolder) -> Manifest | None:
    """The run's manifest, ``None`` when there is none (a folder of outputs alone) or it cannot be read."""
    if not run.is_run:
        return None
    try:
        return run.read_manifest()
    except ArchiveError:
        return None


def _stages_ran(run: RunFolder, manifest: Manifest | None) -> Callable[[str], bool]:
    """Whether a stage ran: it has an outputs folder, and the manifest, if any, records it succeeded."""
    statuses = {stage.name: stage.status for stage in manifest.stages} if manifest else {}
    return lambda stage: run.stage_dir(stage).is_dir() and statuses.get(stage, "succeeded") == "succeeded"


def _table(run: RunFolder, stage: str, name: str, columns: list[str] | None = None) -> pd.DataFrame | None:
    path = run.output(stage, name)
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path, columns=columns) if columns else run.table(stage, name)
    except (OSError, ValueError, KeyError) as exc:  # pyarrow's errors are OSError / ValueError
        raise ArchiveError(output_name(stage, name), f"cannot be read as a table ({exc})",
                           fix=f"run the {stage} stage again") from None


def _require(table: pd.DataFrame, stage: str, name: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ArchiveError(output_name(stage, name), f"lacks the column{'s' if len(missing) > 1 else ''} "
                           f"{', '.join(missing)}", field=missing[0],
                           fix=f"run the {stage} stage again with this version of digiops")


def _run_input(manifest: Manifest | None, stage: str, setting: str) -> Path | None:
    """The file of the client folder a stage's ``setting`` names (relative to the engagement file), when it still
    holds what the run read (the SHA-256 the manifest recorded); ``None`` otherwise, and codes show as they are."""
    relative = ((manifest.parameters.get(stage) or {}).get(setting) if manifest else None)
    if not relative or not manifest.engagement_file:
        return None
    path = Path(manifest.engagement_file).parent / str(relative)
    recorded = {PurePosixPath(entry.path): entry.sha256 for entry in manifest.inputs}
    sha = recorded.get(PurePosixPath(Path(str(relative)).as_posix()))
    try:
        return path if sha and path.is_file() and io.sha256_file(path) == sha else None
    except OSError:
        return None


def _goal_names(manifest: Manifest | None) -> dict[str, tuple[str, str]]:
    """Strategic goal id → (zh, en) from the KPI tree the run read; empty when it cannot be read as it was."""
    path = _run_input(manifest, "kpi", "tree")
    try:
        tree = load_tree(path) if path else None
    except DigiopsError:
        tree = None
    return {goal.id: (goal.name_zh, goal.name_en) for goal in tree.goals.values()} if tree else {}


def _catalog_of(manifest: Manifest | None) -> Catalog:
    """The tag catalog the run read; an empty one (tags and values show as their codes) when it cannot be read."""
    path = _run_input(manifest, "labels", "catalog")
    try:
        return load_catalog(path) if path else Catalog(tags=[])
    except DigiopsError:
        return Catalog(tags=[])


def _segments_of(manifest: Manifest | None) -> list[Segment]:
    """The RFM segment map the run used: the engagement's own when it set one (and it is unchanged), else
    digiops' default; empty (segments show as their ids) when it cannot be read."""
    own = (manifest.parameters.get("labels") or {}).get("segment_map") if manifest else None
    try:
        if own:
            path = _run_input(manifest, "labels", "segment_map")
            return load_segment_map(path) if path else []
        return load_segment_map()
    except (DigiopsError, OSError, KeyError, TypeError, ValueError):
        return []


# --- one table each: codes in words, columns named, values typed ------------------------------------------------
def _cap(text: str, language: str) -> str:
    """An English header starts with a capital, like the reports' (``owner`` → ``Owner``)."""
    return text if language == "zh" or not text else text[:1].upper() + text[1:]


def _words(table: Mapping[str, tuple[str, str]], language: str) -> Callable[[object], object]:
    """A code → its word (an unknown code as it is; a missing value stays missing)."""
    return lambda code: term(language, table, code) if isinstance(code, str) else code


def _yes_no(language: str) -> Callable[[object], object]:
    return lambda flag: None if _missing(flag) else term(language, YES_NO, str(bool(flag)))


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _date(value: object) -> object:
    """A date written as text (``2026-09-30``) as a date; text that is not a date stays text."""
    if _missing(value) or isinstance(value, (dt.date, dt.datetime)):
        return None if _missing(value) else value
    text = str(value).strip()
    if not text:
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        return text
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    return stamp.date() if stamp == stamp.normalize() else stamp.to_pydatetime()


def _measure_kinds(kpis: pd.Series, names: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Per row, how the KPI's values read: a rate (measure ``%``) as a percent, anything else as a number."""
    return ["percent" if str(names.get(k, {}).get("measure", "")).strip() == "%" else "decimal" for k in kpis]


def _kind(series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return "integer"
    if pd.api.types.is_float_dtype(series):
        return "decimal"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if series.map(lambda v: isinstance(v, (dt.date, dt.datetime))).any():
        return "date"
    return None


def _sheet(key: str, language: str, frame: pd.DataFrame, headers: Mapping[str, tuple[str, str]] | None = None, *,
           percent: Sequence[str] = (), row_formats: Mapping[str, list[str]] | None = None) -> Sheet:
    """The sheet of table ``key`` (:data:`TABLES`): ``frame``'s columns named with ``headers`` (a column not in it
    keeps its name), formats from the columns' types, ``percent`` columns as shares, ``row_formats`` per row;
    ``percent`` and ``row_formats`` name the columns before they are renamed."""
    frame = frame.reset_index(drop=True)
    formats = {column: "percent" if column in percent else _kind(frame[column]) for column in frame.columns}
    names = {column: _cap(in_language(language, *headers[column]) if headers and column in headers
                          else str(column), language) for column in frame.columns}
    name, title, description = (in_language(language, *pair) for pair in TABLES[key])
    return Sheet(name=name, title=title, description=description, frame=frame.rename(columns=names),
                 formats={names[c]: kind for c, kind in formats.items() if kind},
                 row_formats={names[c]: list(kinds) for c, kinds in (row_formats or {}).items()})


def _kpi_names(values: pd.Series, names: Mapping[str, Mapping[str, str]], language: str) -> pd.Series:
    return values.map(lambda k: kpi_name(names, k, language) if isinstance(k, str) else None)


def _units(values: pd.Series, language: str) -> pd.Series:
    return values.map(lambda u: unit_name(u, language) if isinstance(u, str) else u)


def _attainment(attainment: pd.DataFrame, names: Mapping, language: str) -> Sheet:
    a = attainment
    frame = pd.DataFrame({
        "kpi": _kpi_names(a["kpi"], names, language), "level": a["level"].map(_words(KPI_LEVELS, language)),
        "unit": _units(a["unit"], language), "period": a["period"], "actual": a["actual"], "target": a["target"],
        "attainment": a["attainment"], "status": a["status"].map(_words(KPI_STATUS, language))})
    if "reviewed" in a:
        frame["reviewed"] = a["reviewed"].map(_yes_no(language))
    kinds = _measure_kinds(a["kpi"], names)
    return _sheet("attainment", language, frame, HEADERS, percent=["attainment"],
                  row_formats={"actual": kinds, "target": kinds})


def _variance(variance: pd.DataFrame, names: Mapping, language: str) -> Sheet:
    v = variance
    factor = v["breakdown"].eq("factor")
    item = [kpi_name(names, i, language) if f else unit_name(i, language) if isinstance(i, str) else i
            for i, f in zip(v["item"], factor, strict=True)]
    frame = pd.DataFrame({
        "kpi": _kpi_names(v["kpi"], names, language), "period_from": v["period_from"], "period_to": v["period_to"],
        "unit": _units(v["unit"], language), "breakdown": v["breakdown"].map(_words(BREAKDOWNS, language)),
        "item": item, "effect": v["effect"].map(_words(EFFECTS, language)) if "effect" in v else None,
        "value_from": v["value_from"], "value_to": v["value_to"], "contribution": v["contribution"],
        "change": v["change"], "method": v["method"].map(_words(METHODS, language))})
    kpi_kinds = _measure_kinds(v["kpi"], names)
    # a factor's own values are in the factor's measure; the contributions always in the KPI's
    value_kinds = [k if not f else m for k, m, f in zip(kpi_kinds, _measure_kinds(v["item"], names), factor,
                                                         strict=True)]
    return _sheet("variance", language, frame, HEADERS,
                  row_formats={"value_from": value_kinds, "value_to": value_kinds, "contribution": kpi_kinds,
                               "change": kpi_kinds})


def _runrate(runrate: pd.DataFrame, names: Mapping, language: str) -> Sheet:
    r = runrate
    columns = ["days_elapsed", "days_left", "actual_to_date", "average_daily", "projection", "target", "gap",
               "required_daily", "projected_attainment"]
    frame = pd.DataFrame({
        "kpi": _kpi_names(r["kpi"], names, language), "level": r["level"].map(_words(KPI_LEVELS, language)),
        "unit": _units(r["unit"], language), "period": r["period"], "as_of": r["as_of"].map(_date),
        **{c: r[c] for c in columns if c in r}})
    kinds = _measure_kinds(r["kpi"], names)
    return _sheet("runrate", language, frame, HEADERS, percent=["projected_attainment"],
                  row_formats={c: kinds for c in ("actual_to_date", "average_daily", "projection", "target", "gap",
                                                  "required_daily") if c in frame})


def _funnel(funnel: pd.DataFrame, language: str) -> Sheet:
    table = funnel_table(funnel, language)  # the KPI report's funnel columns and words
    table.insert(0, _cap(in_language(language, *HEADERS["period"]), language), funnel["period"].to_numpy())
    shares = [in_language(language, *pair) for pair in (("步骤转化率", "Step conversion"),
                                                        ("整体转化率", "Overall conversion"), ("流失率", "Drop-off rate"))]
    return _sheet("funnel", language, table, percent=shares)


def _actions(actions: pd.DataFrame, names: Mapping, language: str) -> Sheet:
    a = actions
    frame = pd.DataFrame({
        "action_id": a["action_id"], "action": a["action"].map(mask_text), "owner": a["owner"].map(mask_owner),
        "kpi": _kpi_names(a["kpi"], names, language), "due": a["due"].map(_date),
        "status": a["status"].map(mask_text)})
    if "created_at" in a:
        frame["created_at"] = a["created_at"].map(_date)
    for column in ("overdue", "improved"):
        if column in a:
            frame[column] = a[column].map(_yes_no(language))
    for column in ("period_from", "period_to", "value_from", "value_to", "change", "change_pct"):
        if column in a:
            frame[column] = a[column]
    if "note" in a:
        frame["note"] = a["note"].map(mask_text)
    order = ["action_id", "action", "owner", "kpi", "due", "status", "overdue", "created_at", "period_from",
             "period_to", "value_from", "value_to", "change", "change_pct", "improved", "note"]
    frame = frame[[c for c in order if c in frame]]
    kinds = _measure_kinds(a["kpi"], names)
    return _sheet("actions", language, frame, HEADERS, percent=["change_pct"],
                  row_formats={c: kinds for c in ("value_from", "value_to", "change") if c in frame})


def _tree_owner(owner: object) -> object:
    """A KPI's owner is usually a role (``市场总监``), shown as it is; a person after the role is masked
    (``市场总监 王强`` → ``市场总监 王**``), and phone numbers or e-mails in it too."""
    if not isinstance(owner, str):
        return owner
    return mask_owner(owner) if " " in owner.strip() else mask_text(owner)


def _tree(tree: pd.DataFrame, names: Mapping, goals: Mapping[str, tuple[str, str]], language: str) -> Sheet:
    t = tree
    frame = pd.DataFrame({"kpi": _kpi_names(t["kpi"], names, language),
                          "parent": _kpi_names(t["parent"], names, language)})
    if "position" in t:
        frame["position"] = pd.to_numeric(t["position"], errors="coerce").astype("Int64") + 1  # first is 1
    if "combine" in t:
        frame["combine"] = t["combine"].map(_words(COMBINE, language))
    if "goal" in t:
        frame["goal"] = t["goal"].map(_words(goals, language))
    if "measure" in t:
        frame["measure"] = t["measure"]
    if "direction" in t:
        frame["direction"] = t["direction"].map(_words(DIRECTIONS, language))
    if "owner" in t:
        frame["owner"] = t["owner"].map(_tree_owner)
    if "unit" in t:
        frame["unit"] = _units(t["unit"], language)
    return _sheet("tree", language, frame, HEADERS)


def _scores(scores: pd.DataFrame, language: str) -> Sheet:
    table = scores_view(scores, language)  # the maturity report's columns and words
    # the report shows the weight as text and the disagreement as ⚠; a workbook keeps a number and says yes / no
    table[in_language(language, "权重", "Weight")] = scores["weight"].to_numpy(dtype=float)
    if "disagreement" in scores:
        table[in_language(language, "意见分歧", "Disagreement")] = scores["disagreement"].map(_yes_no(language)).to_numpy()
    return _sheet("scores", language, table, percent=[in_language(language, "权重", "Weight")])


def _departments(departments: pd.DataFrame, language: str) -> Sheet:
    d = departments
    frame = pd.DataFrame({"department": d["department"],
                          "dimension": d["dimension"].map(lambda k: dimension_name(k, language))})
    if "respondents" in d:
        frame["respondents"] = d["respondents"]
    frame["score"] = d["score"]
    frame["maturity_level"] = d["level"]
    if "company_level" in d:
        frame["company_level"] = d["company_level"]
    if "deviates" in d:
        frame["deviates"] = d["deviates"].map(_yes_no(language))
    return _sheet("departments", language, frame, HEADERS)


def _roadmap(roadmap: pd.DataFrame, language: str) -> Sheet:
    table = roadmap_view(roadmap, language)  # the maturity report's columns and words
    return _sheet("roadmap", language, table, percent=[in_language(language, "预算占比", "Budget share")])


def _budget(budget: pd.DataFrame, language: str) -> Sheet:
    amounts = budget["budget"].notna().any()
    table = budget_view(budget, language, amounts=bool(amounts)).reset_index()
    shares = [] if amounts else [c for c in table.columns[1:]]
    return _sheet("budget", language, table, percent=shares)


def _segment_summary(summary: pd.DataFrame, segments: list[Segment], language: str) -> Sheet:
    table = segment_table(segment_view(summary, segments, language=language), language=language)
    shares = [in_language(language, *pair) for pair in (("客户占比", "Share of customers"),
                                                        ("金额占比", "Share of monetary"))]
    return _sheet("segments", language, table, percent=shares)


def _migration(migration: pd.DataFrame, segments: list[Segment], language: str) -> Sheet:
    words = {**{s.id: (s.name_zh, s.name_en) for s in segments}, MIGRATION_NONE: MIGRATION_NONE_NAMES}
    name = _words(words, language)
    frame = migration.assign(previous=migration["previous"].map(lambda s: _cap(name(s), language)))
    frame = frame.rename(columns={c: name(c) for c in frame.columns if c != "previous"})
    return _sheet("migration", language, frame, HEADERS)


def _coverage(coverage: pd.DataFrame, catalog: Catalog, segments: list[Segment], language: str) -> Sheet:
    view = coverage_view(coverage, catalog, language=language)
    # the RFM segment is a tag the catalog does not declare values for: its values are the segment map's
    segment = _words({s.id: (s.name_zh, s.name_en) for s in segments}, language)
    rfm = view["tag_id"].eq(RFM_SEGMENT) & view["value"].ne("*")
    view.loc[rfm, "value_name"] = view.loc[rfm, "value"].map(segment)
    table = coverage_table(view, language=language)  # the labels report's columns and words
    table.insert(1, _cap(in_language(language, *HEADERS["category"]), language),
                 coverage["category"].map(_words(CATEGORY_NAMES, language)).to_numpy())
    return _sheet("coverage", language, table, percent=[in_language(language, "占比", "Share")])


def _quality(quality: pd.DataFrame, language: str) -> Sheet:
    q = quality
    frame = merge_view(q[["source", "field", "phase"]], language)  # the merge report's words for fields and phases
    frame.columns = [merge_header("source", language), merge_header("field", language),
                     in_language(language, *HEADERS["phase"])]
    measures = [m for m in QUALITY_MEASURES if m in q]
    for measure in measures:
        frame[in_language(language, *HEADERS[measure])] = q[measure].to_numpy(dtype=float)
    if "applies_to" in q:
        rows = q["applies_to"].map(_words(APPLIES_TO, language))
        frame[in_language(language, *HEADERS["applies_to"])] = rows.to_numpy()
    return _sheet("quality", language, frame, percent=[in_language(language, *HEADERS[m]) for m in measures])


def _quarantine(quarantine: pd.DataFrame, language: str) -> Sheet:
    counts = quarantine_reasons(quarantine)  # the merge report's counts: source, field, kind of reason
    return _sheet("quarantine", language, merge_view(counts, language))


def _merge_counts(counts: Mapping[str, Any], language: str) -> Sheet:
    rows = [(_cap(term(language, HEADLINE, key), language), int(counts[key])) for key in HEADLINE
            if isinstance(counts.get(key), (int, float)) and not isinstance(counts.get(key), bool)]
    frame = pd.DataFrame(rows, columns=["figure", "count"]).astype({"count": "int64"})
    return _sheet("merge", language, frame, HEADERS)


# --- writing the workbook ---------------------------------------------------------------------------------------
def build_workbook(sheets: list[Sheet], *, language: str, about: dict[str, str]) -> bytes:
    """XLSX bytes: an 'about' sheet first (client, engagement, period, run, generated, what each sheet holds), then
    one sheet per table.

    Each table sheet: the title (row 1), what it holds (row 2), the header (row 3, bold on a fill, frozen with the
    rows above it, a filter over the table), then the rows. No cell is a formula (see the module's docstring).

    Args:
        sheets: The tables (:func:`workbook_sheets`), in the order of their sheets. Names are made Excel-safe and
            unique (a clash gets `` (2)``).
        language: ``zh`` or anything else for English: the about sheet's words.
        about: What the about sheet lists first, in this order: ``client``, ``engagement``, ``period``, ``run``,
            ``generated`` are named in the language, any other key shows as it is.
    """
    book = Workbook()
    cover = book.active
    cover.title = _safe_name(in_language(language, "说明", "About"), set())
    taken = {cover.title.casefold()}
    names = []
    for sheet in sheets:
        names.append(_safe_name(sheet.name, taken))
        taken.add(names[-1].casefold())
    _write_about(cover, sheets, names, language, about)
    for sheet, name in zip(sheets, names, strict=True):
        _write_table(book.create_sheet(name), sheet, language)
    book.properties.title = in_language(language, "关键数据表", "Key tables")
    book.properties.creator = "digiops"
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _safe_name(name: str, taken: set[str]) -> str:
    """An Excel sheet name: none of ``[]:*?/\\``, no quote at either end, at most 31 characters, not ``History``,
    unique (case-insensitive) among ``taken``.

    >>> _safe_name("Q1/Q2: [draft]", set()), _safe_name("History", set()), _safe_name("KPI", {"kpi"})
    ('Q1-Q2- -draft-', 'History (2)', 'KPI (2)')
    """
    base = _SHEET_NAME_BAD.sub("-", ILLEGAL_CHARACTERS_RE.sub("", str(name))).strip().strip("'").strip()[:31]
    base = base or "Sheet"
    candidate, number = base, 1
    while candidate.casefold() in taken or candidate.casefold() == "history":
        number += 1
        suffix = f" ({number})"
        candidate = base[:31 - len(suffix)] + suffix
    return candidate


def _text(value: object) -> str:
    """Text a cell can hold that a spreadsheet will not run: no control characters, at most 32,767 characters, a
    leading ``= + - @``, tab or carriage return behind a quote (:data:`digiops.io.FORMULA_PREFIXES`)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # first: what is left must not start a formula either
    if text.startswith(io.FORMULA_PREFIXES):
        text = "'" + text
    return text[:_MAX_CELL]


def _put_text(cell, value: object) -> str:
    text = _text(value)
    cell.value = text
    cell.data_type = "s"  # a string, whatever it looks like: never a formula
    return text


def _value(value: object, language: str) -> object:
    """A frame's value as a cell's: numbers as int / float, dates as dates, missing (and infinite) as nothing,
    flags as yes / no, anything else as text."""
    if _missing(value):
        return None
    if isinstance(value, (bool, np.bool_)):
        return term(language, YES_NO, str(bool(value)))
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        value = value.tz_localize(None) if value.tzinfo is not None else value
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, (dt.date, str)):
        return value
    return str(value)


def _width(text: str) -> int:
    """Display width: a Chinese (wide or full-width) character counts as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: object, kind: str | None) -> str:
    """Roughly how a cell shows its value, for the column's width."""
    if isinstance(value, (dt.date, dt.datetime)):
        return "2026-12-31" if not isinstance(value, dt.datetime) else "2026-12-31 00:00:00"
    if isinstance(value, (int, float)):
        if kind == "percent":
            return f"{value:.1%}"
        if kind == "integer" or (kind is None and isinstance(value, int)):
            return f"{value:,.0f}"
        return f"{value:,.2f}"
    return str(value)


def _fit(sheet, widths: dict[int, int]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(width + 2, 8), _MAX_WIDTH)


def _write_table(sheet, table: Sheet, language: str) -> None:
    _put_text(sheet.cell(1, 1), table.title)
    sheet.cell(1, 1).font = _TITLE
    _put_text(sheet.cell(2, 1), table.description)
    sheet.cell(2, 1).font = _NOTE
    frame = io.neutralize_formulas(table.frame)
    columns = list(frame.columns)
    widths: dict[int, int] = {}
    for j, column in enumerate(columns, start=1):
        cell = sheet.cell(_HEADER_ROW, j)
        widths[j] = _width(_put_text(cell, column)) + 2  # bold, and the filter's button
        cell.font, cell.fill, cell.alignment = _BOLD, _HEADER_FILL, Alignment(vertical="center")
    kinds = [table.formats.get(str(column)) for column in columns]
    per_row = [table.row_formats.get(str(column)) for column in columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        for j, raw in enumerate(row, start=1):
            value = _value(raw, language)
            if value is None:
                continue
            cell = sheet.cell(_HEADER_ROW + 1 + i, j)
            if isinstance(value, str):
                shown = _put_text(cell, value)
            else:
                kind = per_row[j - 1][i] if per_row[j - 1] is not None and i < len(per_row[j - 1]) else kinds[j - 1]
                if isinstance(value, (dt.date, dt.datetime)):
                    kind = "date"
                cell.value = value
                if kind:
                    cell.number_format = NUMBER_FORMATS[kind]
                shown = _shown(value, kind)
            widths[j] = max(widths[j], _width(shown))
    _fit(sheet, widths)
    last = get_column_letter(max(len(columns), 1))
    sheet.freeze_panes = f"A{_HEADER_ROW + 1}"
    sheet.auto_filter.ref = f"A{_HEADER_ROW}:{last}{_HEADER_ROW + max(len(frame), 1)}"


def _write_about(sheet, sheets: list[Sheet], names: list[str], language: str, about: Mapping[str, str]) -> None:
    _put_text(sheet.cell(1, 1), in_language(language, "关键数据表", "Key tables"))
    sheet.cell(1, 1).font = _TITLE
    widths = {1: 0, 2: 0, 3: 0}
    row = 3
    ordered = [k for k in ABOUT if k in about] + [k for k in about if k not in ABOUT]
    for key in ordered:
        label = _put_text(sheet.cell(row, 1), term(language, ABOUT, key) if key in ABOUT else key)
        sheet.cell(row, 1).font = _BOLD
        value = _put_text(sheet.cell(row, 2), "" if about[key] is None else about[key])
        widths[1], widths[2] = max(widths[1], _width(label)), max(widths[2], min(_width(value), 40))
        row += 1
    row += 1
    _put_text(sheet.cell(row, 1), in_language(
        language, "空白单元格表示没有数据；个人信息（如行动负责人的姓名）已脱敏。",
        "An empty cell means there is no figure; personal data (such as action owners' names) is masked."))
    sheet.cell(row, 1).font = _NOTE
    row += 2
    for j, header in enumerate((("工作表", "Sheet"), ("标题", "Title"), ("内容", "What it holds")), start=1):
        cell = sheet.cell(row, j)
        widths[j] = max(widths[j], _width(_put_text(cell, in_language(language, *header))))
        cell.font, cell.fill = _BOLD, _HEADER_FILL
    for sheet_name, table in zip(names, sheets, strict=True):
        row += 1
        for j, text in enumerate((sheet_name, table.title, table.description), start=1):
            widths[j] = max(widths[j], _width(_put_text(sheet.cell(row, j), text)))
            sheet.cell(row, j).alignment = _TOP
    _fit(sheet, widths)


__all__ = ["NUMBER_FORMATS", "Sheet", "TABLES", "build_workbook", "workbook_sheets"]
