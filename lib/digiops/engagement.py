"""The engagement file: one client's parameter set, validated before any kernel starts.

An engagement file (YAML) names the client, the report language, the period, the stages to run, the client's raw
exports (``sources``) with their column mapping, and one section per stage. It is parsed into
:class:`Engagement` (pydantic v2, unknown keys forbidden); every problem becomes an :class:`EngagementError` that
names the file, the field path and the fix.

Example:
    >>> from digiops.engagement import parse_engagement
    >>> text = '''
    ... client: {id: acme, name_zh: 示例, name_en: Acme}
    ... engagement: 2026 review
    ... period: {start: 2026-01-01, end: 2026-06-30}
    ... stages: [inventory]
    ... sources: {}
    ... '''
    >>> parse_engagement(text, "engagement.yaml").client.name_en
    'Acme'
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from digiops import paths
from digiops.canonical import CANONICAL_FIELDS
from digiops.engines import EngineSettings
from digiops.errors import EngagementError
from digiops.kpi.settings import KpiSettings
from digiops.labels.settings import LabelSettings
from digiops.maturity.settings import MaturitySettings
from digiops.merge.settings import MergeSettings

ENGAGEMENT_FILE = "engagement.yaml"
#: How the cells of a text source are separated; the characters are accepted too (``\t`` typed or a tab).
DELIMITERS = ("auto", "comma", "semicolon", "tab", "pipe", "whitespace", "fixed")
DELIMITER_ALIASES = {",": "comma", ";": "semicolon", "\t": "tab", "\\t": "tab", "|": "pipe"}
#: File suffixes read as delimited text besides ``.csv``.
TEXT_SUFFIXES = {"tsv": "csv", "txt": "csv"}
BUILTIN_STAGES = ("inventory", "merge", "labels", "maturity", "kpi", "summary")


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo in an engagement file must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Client(StrictModel):
    id: str = Field(description="Short folder-safe name, e.g. `demo` (letters, digits, `-`, `_`)")
    name_zh: str = Field(description="Client name in Chinese, shown in zh reports")
    name_en: str = Field(description="Client name in English, shown in en reports")
    industry: str = Field("retail", description="Industry key of the maturity benchmark table")

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", value):
            raise ValueError("use letters, digits, '-' and '_' only (it names the report folder)")
        return value


class Period(StrictModel):
    start: dt.date = Field(description="First day of the engagement period (YYYY-MM-DD)")
    end: dt.date = Field(description="Last day of the engagement period (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class Source(StrictModel):
    path: str = Field(description="File path relative to the engagement file, e.g. `raw/crm.csv`")
    kind: Literal[tuple(CANONICAL_FIELDS)] = Field(description="What the file holds; decides the canonical fields")  # type: ignore[valid-type]
    format: Literal["csv", "xlsx", "parquet"] | None = Field(
        None, description="Default: from the file suffix (`.tsv` and `.txt` are read as text, like `.csv`)")
    encoding: Literal["auto", "utf-8", "utf-8-sig", "gb18030", "gbk"] = Field(
        "auto", description="CSV text encoding; `auto` tries UTF-8 (with or without BOM), then GB18030")
    delimiter: Literal[DELIMITERS] = Field(  # type: ignore[valid-type]
        "auto", description="What separates the cells of a text source: `comma`, `semicolon`, `tab`, `pipe` (the "
                            "characters work too: `';'`, `\\t`, quoted `','` and `'|'`), `whitespace` (runs of spaces "
                            "or tabs; no cell may be empty or hold a space unquoted) or `fixed` (columns aligned at "
                            "fixed positions, as in a printout; see `widths`). `auto` picks among comma, semicolon, "
                            "tab and pipe the one that splits the header line and the lines below it into the same "
                            "number of cells, quotes respected (a file of one column stays one column, read as "
                            "comma-separated); it never picks `whitespace` or `fixed`. Decimal commas (`1,5` in a "
                            "semicolon-separated file) stay text")
    widths: list[Annotated[int, Field(ge=1)]] | None = Field(
        None, description="With `delimiter: fixed`: the width of each column, left to right, in display columns (a "
                          "Chinese character counts two, as on screen and in a GBK export); empty = inferred from "
                          "the positions that are blank on the header and every line below it")
    sheet: str | int | None = Field(None, description="XLSX sheet name or 0-based index; default the first sheet")
    header_row: int = Field(1, ge=1, description="1-based row number of the header (title rows above it are skipped)")
    id_column: str | None = Field(None, description="The source's own record id column (a raw column name)")
    columns: dict[str, str] = Field(default_factory=dict,
                                    description="Raw column name → canonical field name")
    description: str | None = Field(None, description="What the export is and who delivered it (for the inventory)")
    allow_outside_client: bool = Field(False, description="Allow a path outside the client folder (discouraged)")

    @property
    def file_format(self) -> str:
        suffix = Path(self.path).suffix.lower().lstrip(".")
        return self.format or TEXT_SUFFIXES.get(suffix, suffix.replace("xlsm", "xlsx"))

    @field_validator("delimiter", mode="before")
    @classmethod
    def _delimiter(cls, value: Any) -> Any:
        spelled = DELIMITER_ALIASES.get(value, value) if isinstance(value, str) else value
        if spelled not in DELIMITERS:
            shown = "an empty value (in YAML, quote `|` and `,`)" if value in ("", None) else repr(value)
            raise ValueError(f"{shown} is not a delimiter (accepted: auto, comma or ',', semicolon or ';', "
                             "tab or '\\t', pipe or '|', whitespace, fixed)")
        return spelled

    @model_validator(mode="after")
    def _widths(self) -> "Source":
        if self.widths is not None and self.delimiter != "fixed":
            raise ValueError(f"widths applies to delimiter: fixed only (this source has delimiter: {self.delimiter})"
                             "; set delimiter: fixed or remove widths")
        return self

    @model_validator(mode="after")
    def _canonical(self) -> "Source":
        allowed = CANONICAL_FIELDS[self.kind]
        if allowed:
            for raw, canonical in self.columns.items():
                if canonical not in allowed:
                    raise ValueError(f"column '{raw}' maps to unknown field '{canonical}' for kind '{self.kind}' "
                                     f"(allowed: {', '.join(allowed)})")
        targets = list(self.columns.values())
        doubled = sorted({t for t in targets if targets.count(t) > 1})
        if doubled:
            raise ValueError(f"several columns map to {', '.join(doubled)}; map each canonical field once")
        return self


class CustomStage(StrictModel):
    name: str = Field(description="Stage name, used in `stages:` and in the archive")
    notebook: str = Field(description="Notebook path relative to the engagement file")
    depends_on: list[str] = Field(default_factory=list, description="Stages that must succeed first")


class Engagement(StrictModel):
    """A client's engagement file, validated."""

    schema_version: Literal[1] = Field(1, description="Engagement file format version")
    client: Client = Field(description="Who the client is (names in both report languages)")
    engagement: str = Field(description="Title of the engagement, shown in every report header")
    language: Literal["zh", "en"] = Field("zh", description="Report language")
    period: Period = Field(description="The review period: KPI actuals and run-rates are computed inside it")
    custom_stages: list[CustomStage] = Field(default_factory=list,
                                             description="The client's own notebooks, run like built-in stages")
    stages: list[str] = Field(default_factory=lambda: list(BUILTIN_STAGES),
                              description="Stages to run, built-in or custom")
    sources: dict[str, Source] = Field(default_factory=dict, description="The client's raw exports, by name")
    merge: MergeSettings = Field(default_factory=MergeSettings, description="Cleaning and identity resolution")
    labels: LabelSettings = Field(default_factory=LabelSettings, description="The tag catalog and its evaluation")
    maturity: MaturitySettings = Field(default_factory=MaturitySettings, description="Digital maturity scoring")
    kpi: KpiSettings = Field(default_factory=KpiSettings, description="The KPI tree and its review")
    engine: EngineSettings = Field(default_factory=EngineSettings,
                                   description="Where merge and labels run: embedded DuckDB (default) or Apache "
                                               "Spark (docs/scale-out.md)")

    _file: Path | None = PrivateAttr(default=None)

    @field_validator("custom_stages")
    @classmethod
    def _custom_names(cls, custom: list[CustomStage]) -> list[CustomStage]:
        for stage in custom:
            if stage.name in BUILTIN_STAGES:
                raise ValueError(f"custom stage '{stage.name}' has the name of a built-in stage; rename it")
        return custom

    @field_validator("stages")
    @classmethod
    def _stages(cls, stages: list[str], info: ValidationInfo) -> list[str]:
        known = set(BUILTIN_STAGES) | {c.name for c in info.data.get("custom_stages", [])}
        seen: set[str] = set()
        for name in stages:
            if name in seen:
                raise ValueError(f"stage '{name}' is listed twice in stages; list it once")
            if name not in known:
                raise ValueError(f"unknown stage '{name}' (known: {', '.join(sorted(known))})")
            seen.add(name)
        return stages

    # --- where things are -------------------------------------------------------------------------------------
    @property
    def file(self) -> Path:
        if self._file is None:
            raise EngagementError("engagement", "this engagement was not loaded from a file")
        return self._file

    @property
    def folder(self) -> Path:
        return self.file.parent

    def source_path(self, name: str) -> Path:
        """Absolute path of a source, refused when it leaves the client folder (unless allowed)."""
        source = self.sources[name]
        return _resolve_inside(self.folder, source.path, self.file.name, f"sources.{name}.path",
                               source.allow_outside_client)

    def client_name(self, language: str | None = None) -> str:
        return self.client.name_zh if (language or self.language) == "zh" else self.client.name_en

    def sources_of_kind(self, *kinds: str) -> dict[str, Source]:
        return {name: s for name, s in self.sources.items() if s.kind in kinds}


def _resolve_inside(folder: Path, relative: str, file_label: str, field: str, allow_outside: bool) -> Path:
    raw = Path(relative)
    candidate = (raw if raw.is_absolute() else folder / raw)
    resolved = candidate.resolve()
    if not allow_outside and not resolved.is_relative_to(folder.resolve()):
        raise EngagementError(file_label, f"'{relative}' is outside the client folder {folder}", field=field,
                              fix="copy the file into the client folder, or set allow_outside_client: true")
    return resolved


def _format_validation_error(error: ValidationError, file_label: str) -> EngagementError:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-after"))
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling; `digiops schema` lists every key)"
        elif item["type"] == "missing":
            msg = "required field is missing (see docs/engagement.md)"
        lines.append(f"{loc}: {msg}" if loc else msg)
    first, rest = lines[0], lines[1:]
    err = EngagementError(file_label, first + "".join(f"\n  {file_label}: {line}" for line in rest))
    err.all_problems = lines  # type: ignore[attr-defined]
    return err


def parse_engagement(text: str, file_label: str = ENGAGEMENT_FILE) -> Engagement:
    """Parse and validate engagement YAML text (no file checks)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct starts (an unclosed bracket), which is where to look.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = "; ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p)
        raise EngagementError(file_label, f"{where}not valid YAML ({detail or exc})",
                              fix="check indentation, brackets and quoting at that line") from None
    if not isinstance(data, dict):
        raise EngagementError(file_label, "must be a YAML mapping of keys (client, engagement, period, …)",
                              fix="start from `digiops new-client NAME`")
    try:
        return Engagement.model_validate(data)
    except ValidationError as exc:
        raise _format_validation_error(exc, file_label) from None


def find_engagement_file(spec: str | Path) -> Path:
    """A client name (looked up under ``data/clients/``), a client folder, or an engagement file path."""
    path = Path(spec)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise EngagementError(str(spec), "no such engagement file", fix="check the path")
        return path.resolve()
    if path.is_dir() and (path / ENGAGEMENT_FILE).is_file():
        return (path / ENGAGEMENT_FILE).resolve()
    candidate = paths.clients_dir() / str(spec) / ENGAGEMENT_FILE
    if candidate.is_file():
        return candidate.resolve()
    known = sorted(p.name for p in paths.clients_dir().glob("*") if (p / ENGAGEMENT_FILE).is_file())
    raise EngagementError(str(spec), f"no engagement file found (looked for {candidate})",
                          fix=f"give a path to an engagement.yaml, or a client name ({', '.join(known) or 'none yet'})")


def load_engagement(spec: str | Path, *, check_sources: bool = True) -> Engagement:
    """Load, validate and (by default) check that every source file exists and every mapped column is in it."""
    file = find_engagement_file(spec)
    engagement = parse_engagement(file.read_text(encoding="utf-8"), file.name)
    engagement._file = file
    for custom in engagement.custom_stages:
        nb = _resolve_inside(file.parent, custom.notebook, file.name, f"custom_stages.{custom.name}.notebook", False)
        if not nb.is_file():
            raise EngagementError(file.name, f"notebook '{custom.notebook}' does not exist",
                                  field=f"custom_stages.{custom.name}.notebook", fix="check the path")
        for dep in custom.depends_on:
            if dep not in engagement.stages and dep not in BUILTIN_STAGES:
                raise EngagementError(file.name, f"depends on unknown stage '{dep}'",
                                      field=f"custom_stages.{custom.name}.depends_on")
    for name, source in engagement.sources.items():
        engagement.source_path(name)  # refuses paths outside the client folder before anything reads them
        if source.file_format not in ("csv", "xlsx", "parquet"):
            raise EngagementError(file.name, f"cannot tell the format of '{source.path}'", field=f"sources.{name}",
                                  fix="set format: csv, xlsx or parquet")
    if check_sources:
        from digiops.io import check_source  # local import: io depends on this module's types

        for name in engagement.sources:
            check_source(engagement, name)
    return engagement


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the engagement file (``digiops schema``)."""
    return Engagement.model_json_schema()
