"""The engagement file: one client's parameter set, validated before any kernel starts.

An engagement file (YAML) names the client, the report language, the period, the stages to run, the client's raw
exports (``sources``) with their column mapping, and one section per stage. It is parsed into
:class:`Engagement` (pydantic v2, unknown keys forbidden); every problem becomes an :class:`EngagementError` that
names the file, the field path, the line and the fix (for a misspelt key, stage or canonical field: the one most
likely meant). :func:`load_engagement` raises one error naming every problem of the file; :func:`check_engagement`
(``digiops validate``) returns them one by one and still reads the rest of the file for the deeper checks.

The file is read strictly (:func:`load_yaml`): UTF-8, GB18030 or UTF-16/32 with a byte-order mark; a key given
twice is an error naming both lines; every mapping key is kept as the text written (an export column named ``NO``
or ``是否`` stays a name, where YAML 1.1 would make ``NO``, ``yes`` and ``on`` booleans and ``1`` a number); a
date that does not exist (``2026-02-30``) is reported with its field and line; aliases may repeat at most
:data:`MAX_ALIAS_EXPANSION` characters (a "billion laughs" file is refused). Configuration files named by the
stage sections (:data:`CONFIG_PATHS`) must stay inside the client folder; a source may leave it only with
``allow_outside_client: true``.

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

import codecs
import copy
import datetime as dt
import difflib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from digiops import paths
from digiops.canonical import CANONICAL_FIELDS
from digiops.engines import EngineSettings
from digiops.errors import EngagementError
from digiops.settings.deliver import DeliverSettings
from digiops.settings.kpi import KpiSettings
from digiops.settings.labels import LabelSettings
from digiops.settings.maturity import MaturitySettings
from digiops.settings.merge import MergeSettings
from digiops.text import in_language

ENGAGEMENT_FILE = "engagement.yaml"
#: How the cells of a text source are separated; the characters are accepted too (``\t`` typed or a tab).
DELIMITERS = ("auto", "comma", "semicolon", "tab", "pipe", "whitespace", "fixed")
DELIMITER_ALIASES = {",": "comma", ";": "semicolon", "\t": "tab", "\\t": "tab", "|": "pipe"}
#: File suffixes read as delimited text besides ``.csv``.
TEXT_SUFFIXES = {"tsv": "csv", "txt": "csv"}
BUILTIN_STAGES = ("inventory", "merge", "labels", "maturity", "kpi", "summary", "deliver")
#: A custom stage's name becomes ``<name>.html``, ``<name>.ipynb`` and ``outputs/<name>/`` in the run folder.
STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: Names the run folder uses for itself (``index.html``, ``run.html``, ``manifest.json``, ``notebooks/``,
#: ``outputs/``) and names Windows cannot give a file. Compared ignoring case.
RESERVED_STAGE_NAMES = frozenset({"index", "run", "manifest", "notebooks", "outputs", "con", "prn", "aux",
                                  "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))})
#: Settings naming a configuration file of the engagement (relative to the engagement file). Unlike a raw export,
#: such a file is part of the engagement: it must stay inside the client folder.
CONFIG_PATHS = (("labels", "catalog"), ("labels", "segment_map"), ("kpi", "tree"), ("maturity", "question_bank"),
                ("maturity", "benchmark"), ("maturity", "initiatives"), ("merge", "review_file"),
                ("deliver", "commentary"))
#: How many characters YAML aliases (``*name``) may repeat in all: far above any real use (a shared source default
#: repeated for twenty sources is about a thousand), far below a "billion laughs" file.
MAX_ALIAS_EXPANSION = 1_000_000


def closest(word: object, choices: typing.Iterable[str]) -> str | None:
    """The one of ``choices`` that ``word`` is most likely a misspelling of, if any is close (difflib).

    >>> closest("phnoe", ["full_name", "phone", "email"]), closest("xyz", ["phone"])
    ('phone', None)
    """
    found = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: object, choices: typing.Iterable[str]) -> str:
    """``"; did you mean `x`?"`` to end a fix with when a choice is close to ``word``, else ``""``."""
    match = closest(word, choices)
    return f"; did you mean `{match}`?" if match else ""


class WrongValue(ValueError):
    """A validator's refusal of a value, with its fix (the problem's fix in :func:`validation_problems`)."""

    def __init__(self, problem: str, fix: str | None = None):
        super().__init__(problem)
        self.fix = fix


def _meant(word: object, choices: typing.Iterable[str]) -> str | None:
    match = closest(word, choices)
    return f"did you mean `{match}`?" if match else None


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
                            "semicolon-separated file) are read with `decimal_separator: ','`")
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
    decimal_separator: Literal[".", ","] = Field(
        ".", description="What marks the decimals in the source's amounts, prices and quantities: `.` or `,`")
    thousands_separator: Literal[",", ".", " ", "'", "none"] = Field(
        ",", description="What separates groups of three digits in those numbers: `,`, `.`, `' '` (a space), "
                         "`\"'\"` or `none`. A number written otherwise is quarantined with the reason, not guessed "
                         "(`1,23` when `,` separates thousands; `1.234,50` under the defaults: set "
                         "`decimal_separator: ','` and `thousands_separator: '.'`)")
    grain: Literal["auto", "order", "line"] = Field(
        "auto", description="Orders sources: what one row is. `order`: one row per order, so a repeated order number "
                            "is a duplicate id and quarantined; `line`: one row per order line, so the rows of one "
                            "order number (different skus, quantities, amounts) are the lines of one order and all "
                            "kept; `auto`: `line` when the repeated order numbers look like lines (the same order "
                            "time, another sku — or, without a sku, another quantity, amount or price), else "
                            "`order`. Either way a row equal to an earlier one in every mapped field is an exact "
                            "duplicate, quarantined with the row it repeats. In a source without an id column, rows "
                            "with amount 0 and no refund marker are kept (they add 0 to GMV) and counted. The merge "
                            "report shows each orders source's grain, how it was decided, its orders and lines")

    @field_validator("thousands_separator", mode="before")
    @classmethod
    def _no_separator(cls, value: Any) -> Any:
        return "none" if value in (None, "") else value

    @model_validator(mode="after")
    def _number_format(self) -> "Source":
        if self.decimal_separator == self.thousands_separator:
            raise ValueError(f"decimal_separator and thousands_separator are both '{self.decimal_separator}'; set "
                             "thousands_separator to another of `,` `.` `' '` `\"'\"` `none` (e.g. `1.234,50`: "
                             "decimal_separator ',', thousands_separator '.')")
        return self

    @model_validator(mode="after")
    def _grain(self) -> "Source":
        if self.grain != "auto" and self.kind != "orders":
            raise ValueError(f"grain applies to orders sources only (this source has kind: {self.kind}); remove grain")
        if self.grain == "line" and self.id_column is None:
            raise ValueError("grain: line needs the order number the lines share: set id_column to the order number "
                             "column, or remove grain")
        return self

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
                    raise WrongValue(f"column '{raw}' maps to unknown field '{canonical}' for kind '{self.kind}' "
                                     f"(allowed: {', '.join(allowed)})", _meant(canonical, allowed))
        targets = list(self.columns.values())
        doubled = sorted({t for t in targets if targets.count(t) > 1})
        if doubled:
            raise ValueError(f"several columns map to {', '.join(doubled)}; map each canonical field once")
        return self


class CustomStage(StrictModel):
    # A name becomes file names in the run folder: STAGE_NAME, not reserved, not built-in, unique (checked below).
    name: str = Field(description="Stage name, used in `stages:` and in the archive")
    notebook: str = Field(description="Notebook path relative to the engagement file")
    depends_on: list[str] = Field(default_factory=list, description="Stages that must succeed first")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not STAGE_NAME.fullmatch(value):
            raise ValueError(f"'{value}' cannot name a stage: start with a letter, then use letters, digits, '_' or "
                             "'-' (at most 64; the name becomes a file name in the run folder)")
        if value.lower() in RESERVED_STAGE_NAMES:
            raise ValueError(f"'{value}' is reserved (the run folder's own index.html, run.html, manifest.json, "
                             "notebooks/ and outputs/, and names Windows cannot give a file); rename the stage")
        return value


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
    deliver: DeliverSettings = Field(default_factory=DeliverSettings,
                                     description="What is handed over (PDF, deck, workbook), the consultant's "
                                                 "commentary and the branding")
    engine: EngineSettings = Field(default_factory=EngineSettings,
                                   description="Where merge and labels run: embedded DuckDB (default) or Apache "
                                               "Spark (docs/scale-out.md)")

    _file: Path | None = PrivateAttr(default=None)
    _lines: dict[tuple[str | int, ...], int] = PrivateAttr(default_factory=dict)

    @field_validator("custom_stages")
    @classmethod
    def _custom_names(cls, custom: list[CustomStage]) -> list[CustomStage]:
        # Ignoring case: on macOS and Windows `Extra.html` and `extra.html` are one file.
        first: dict[str, int] = {}
        for number, stage in enumerate(custom):
            if stage.name.lower() in BUILTIN_STAGES:
                raise ValueError(f"custom stage '{stage.name}' has the name of a built-in stage; rename it")
            before = first.setdefault(stage.name.lower(), number)
            if before != number:
                raise ValueError(f"custom stage '{stage.name}' is defined twice (custom_stages {before} and "
                                 f"{number}, names compared ignoring case); give each stage its own name")
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
                raise WrongValue(f"unknown stage '{name}' (known: {', '.join(sorted(known))})",
                                 _meant(name, sorted(known)))
            seen.add(name)
        return stages

    @model_validator(mode="after")
    def _key_link_ends(self) -> "Engagement":
        """Both ends of every declared key link name a source of this file and a field it maps (``record_id``
        names the source's own id)."""
        for number, link in enumerate(self.merge.key_links):
            for end, (name, field) in zip(("from", "to"), link.ends):
                source = self.sources.get(name)
                if source is None:
                    raise ValueError(f"merge.key_links {number} ({link.from_} → {link.to}): its '{end}' end names "
                                     f"source '{name}', which is not in sources (sources: "
                                     f"{', '.join(self.sources)})")
                mapped = set(source.columns.values()) | {"record_id"}
                if field not in mapped:
                    raise ValueError(f"merge.key_links {number} ({link.from_} → {link.to}): its '{end}' end names "
                                     f"field '{field}', which source '{name}' does not map (it maps: "
                                     f"{', '.join(sorted(set(source.columns.values())))}); map the column that "
                                     "holds the key to that field, or use record_id for the source's own id")
        return self

    # --- where things are -------------------------------------------------------------------------------------
    @property
    def file(self) -> Path:
        if self._file is None:
            raise EngagementError("engagement", "this engagement was not loaded from a file")
        return self._file

    @property
    def folder(self) -> Path:
        return self.file.parent

    def line_of(self, *path: str | int) -> int | None:
        """The line of the engagement file where a setting is written (its longest written prefix), if known."""
        return _line_of(self._lines, path)

    def source_path(self, name: str) -> Path:
        """Absolute path of a source, refused when it leaves the client folder (unless allowed)."""
        source = self.sources[name]
        return _resolve_inside(self.folder, source.path, self.file.name, f"sources.{name}.path",
                               source.allow_outside_client, line=self.line_of("sources", name, "path"))

    def config_path(self, section: str, key: str) -> Path | None:
        """Absolute path of a configuration file named by a stage section (:data:`CONFIG_PATHS`), always inside
        the client folder; ``None`` when the setting is empty."""
        value = getattr(getattr(self, section), key)
        if not value:
            return None
        return _resolve_inside(self.folder, str(value), self.file.name, f"{section}.{key}", False,
                               line=self.line_of(section, key),
                               fix="copy the file into the client folder: a configuration file is part of the "
                                   "engagement and may not live outside it")

    def logo_path(self) -> Path | None:
        """Absolute path of the client's logo (``deliver.branding.logo``), always inside the client folder."""
        logo = self.deliver.branding.logo
        if not logo:
            return None
        return _resolve_inside(self.folder, logo, self.file.name, "deliver.branding.logo", False,
                               line=self.line_of("deliver", "branding", "logo"),
                               fix="copy the logo into the client folder")

    def client_name(self, language: str | None = None) -> str:
        return in_language(language or self.language, self.client.name_zh, self.client.name_en)

    def sources_of_kind(self, *kinds: str) -> dict[str, Source]:
        return {name: s for name, s in self.sources.items() if s.kind in kinds}


def _resolve_inside(folder: Path, relative: str, file_label: str, field: str, allow_outside: bool, *,
                    line: int | None = None, fix: str | None = None) -> Path:
    raw = Path(relative)
    candidate = (raw if raw.is_absolute() else folder / raw)
    resolved = candidate.resolve()
    if not allow_outside and not resolved.is_relative_to(folder.resolve()):
        raise EngagementError(file_label, f"'{relative}' is outside the client folder {folder}", field=field,
                              line=line,
                              fix=fix or "copy the file into the client folder, or set allow_outside_client: true")
    return resolved


# --- reading the file -----------------------------------------------------------------------------------------
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32", "UTF-32"), (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
         (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"), (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
_SAVE_AS_UTF8 = "save it as UTF-8 (in Notepad or Excel: Save As, encoding UTF-8)"


def decode_engagement(data: bytes, file_label: str = ENGAGEMENT_FILE) -> str:
    """The text of an engagement file: UTF-8 (with or without BOM), UTF-16/32 with a BOM, or GB18030.

    A file that is UTF-8 but for a few bad bytes is refused with the line of the first one, not read as GB18030
    (which would turn every Chinese character into another one).

    >>> decode_engagement("client: 示例".encode("gb18030")), decode_engagement("a: 1".encode("utf-16"))
    ('client: 示例', 'a: 1')
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise EngagementError(file_label, f"starts with a {name} byte-order mark, but the bytes at offset "
                                      f"{exc.start} are not {name}", fix=_SAVE_AS_UTF8) from None
    if b"\x00" in data:
        raise EngagementError(file_label, "holds NUL bytes: it looks like UTF-16 or UTF-32 text without a "
                              "byte-order mark", fix=_SAVE_AS_UTF8 + ", or as UTF-16 with a byte-order mark")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    lenient = data.decode("utf-8", errors="replace")
    replaced = lenient.count("\ufffd")
    if sum(1 for ch in lenient if ord(ch) > 127 and ch != "\ufffd") > replaced:
        line = data.count(b"\n", 0, bad_at) + 1
        raise EngagementError(file_label, f"is UTF-8 text with bytes that are not UTF-8 (offset {bad_at})",
                              line=line, fix="retype that line, or " + _SAVE_AS_UTF8)
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise EngagementError(file_label, f"is neither UTF-8 nor GB18030 text (bytes at offset {exc.start} are "
                              "neither)", line=line, fix=_SAVE_AS_UTF8) from None


class _Strict:
    """PyYAML's safe loader, with the changes an engagement file needs.

    * Every mapping key is the text written: a column named ``NO``, ``on`` or ``1`` stays that name. Every key of
      an engagement file is a name (a setting, a source, a raw column, a stage), so nothing is lost.
    * A date that does not exist (``2026-02-30``) stays text, so that validation reports it with field and line
      instead of a ``ValueError`` escaping from the parser.

    Duplicate keys, keys that are not plain values, alias expansion and line numbers are handled on the composed
    node tree, before anything is constructed (:func:`_inspect`).
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            return super().construct_mapping(node, deep=deep)
        self.flatten_mapping(node)  # YAML merge keys (`<<: *defaults`): explicit keys still win
        return {key_node.value: self.construct_object(value_node, deep=deep) for key_node, value_node in node.value}

    def construct_yaml_timestamp(self, node: yaml.Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


class _StrictLoader(_Strict, yaml.SafeLoader):
    """:class:`_Strict` on PyYAML's own parser, whose messages for a syntax error are the ones users see."""


class _FastStrictLoader(_Strict, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """:class:`_Strict` on libyaml's parser (when PyYAML has it): the same nodes, ten times faster."""


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
_FastStrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _FastStrictLoader.construct_yaml_timestamp)
_MERGE_TAG = "tag:yaml.org,2002:merge"
Lines = dict[tuple[str | int, ...], int]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _inspect(root: yaml.Node, file_label: str) -> Lines:
    """Refuse alias loops and oversized alias expansion, keys that are lists or mappings, and keys given twice;
    return the line of every setting, by path (``("sources", "crm", "path") -> 12``)."""
    weights: dict[int, int] = {}
    visiting: set[int] = set()
    written = 0

    def weight(node: yaml.Node) -> int:  # characters the node stands for once every alias is written out
        nonlocal written
        if id(node) in weights:
            return weights[id(node)]
        if id(node) in visiting:
            raise EngagementError(file_label, "an alias (*name) refers to a value that contains it, which never "
                                  "ends", line=node.start_mark.line + 1, fix="write the value out instead")
        visiting.add(id(node))
        own = 1 + len(node.value) if isinstance(node, yaml.ScalarNode) else 1
        weights[id(node)] = total = own + sum(weight(child) for child in _children(node))
        visiting.discard(id(node))
        written += own
        return total

    expanded = weight(root) - written
    if expanded > MAX_ALIAS_EXPANSION:
        raise EngagementError(file_label, f"its aliases (*name) repeat {expanded:,} characters (at most "
                              f"{MAX_ALIAS_EXPANSION:,} are allowed): a file that expands like this is refused",
                              fix="write the repeated values out, or repeat fewer of them")

    lines: Lines = {}

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        if isinstance(node, yaml.SequenceNode):
            for number, item in enumerate(node.value):
                lines.setdefault(path + (number,), item.start_mark.line + 1)
                walk(item, path + (number,))
            return
        if not isinstance(node, yaml.MappingNode):
            return
        first_line: dict[str, int] = {}
        merged: list[yaml.Node] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                merged += value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise EngagementError(file_label, "a key is a list or a mapping; keys are names", line=line,
                                      field=".".join(map(str, path)) or None,
                                      fix="write the key as a name, e.g. a column's header text in quotes")
            key = key_node.value
            if key in first_line:
                raise EngagementError(file_label, f"'{key}' is given twice, on lines {first_line[key]} and {line}",
                                      field=".".join(map(str, path)) or None,
                                      fix="keep one of them; YAML would silently use the last")
            first_line[key] = line
            lines[path + (key,)] = line
            walk(value_node, path + (key,))
        for source in merged:  # keys merged in from an anchor are placed where the anchor is written
            walk(source, path)

    walk(root, ())
    return lines


def _line_of(lines: Lines, loc: tuple[str | int, ...]) -> int | None:
    for end in range(len(loc), 0, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return None


def load_yaml(text: str, file_label: str = ENGAGEMENT_FILE) -> tuple[Any, Lines]:
    """Parse YAML text strictly (see :class:`_StrictLoader`, :func:`_inspect`); return the data and the line of
    every setting.

    >>> data, lines = load_yaml("columns: {NO: member_id, 1: x}\\nstart: 2026-02-30\\n")
    >>> data, lines[("start",)]
    ({'columns': {'NO': 'member_id', '1': 'x'}, 'start': '2026-02-30'}, 2)
    """
    try:
        return _load_yaml(_FastStrictLoader, text, file_label)
    except yaml.YAMLError:
        pass  # libyaml words a syntax error differently: PyYAML's parser, slower, reports it as documented
    return _load_yaml(_StrictLoader, text, file_label)


def _load_yaml(loader_class: type[_Strict], text: str, file_label: str) -> tuple[Any, Lines]:
    loader = loader_class(text)  # type: ignore[call-arg]
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _inspect(node, file_label)
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
        if loader_class is not _StrictLoader:
            raise
        # The context mark is where the broken construct starts (an unclosed bracket), which is where to look.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = "; ".join(str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p)
        raise EngagementError(file_label, f"{where}not valid YAML ({detail or exc})",
                              fix="check indentation, brackets and quoting at that line") from None
    except RecursionError:
        raise EngagementError(file_label, "is nested too deeply to be an engagement file",
                              fix="start from `digiops new-client NAME`") from None
    finally:
        loader.dispose()


def validation_problems(error: ValidationError, file_label: str, lines: Lines | None = None
                        ) -> list[EngagementError]:
    """Every problem pydantic found in an engagement file, each its own :class:`EngagementError` with the field path
    and line; an unknown key gets the key it is most likely a misspelling of as its fix."""
    problems = []
    for item in error.errors():
        path = _error_path(item)
        msg = item["msg"].removeprefix("Value error, ")
        fix = None
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling; `digiops schema` lists every key)"
            allowed = _keys_at(path[:-1])
            match = closest(path[-1], allowed)
            fix = f"did you mean `{match}`?" if match else \
                f"remove it, or use one of: {', '.join(allowed)}" if allowed else None
        elif item["type"] == "missing":
            msg = "required field is missing (see docs/engagement.md)"
        else:
            fix = getattr(item.get("ctx", {}).get("error"), "fix", None)
        problems.append(EngagementError(file_label, msg, field=".".join(str(p) for p in path) or None,
                                        line=_line_of(lines or {}, path), fix=fix))
    return problems


def one_error(problems: list[EngagementError], file_label: str) -> EngagementError:
    """Several problems of one file as one error (for a command that stops at the first error): the first problem,
    then each of the others on its own line."""
    if len(problems) == 1:
        return problems[0]
    text = "\n  ".join(str(problem) for problem in problems)
    return EngagementError(file_label, text.removeprefix(f"{file_label}: "))


def _error_path(item: Any) -> tuple[str | int, ...]:
    return tuple(p for p in item["loc"] if not str(p).startswith("function-after"))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # Model | None
        return next(filter(None, map(_model_in, typing.get_args(annotation))), None)
    return None


def _keys_at(path: tuple[str | int, ...]) -> list[str]:
    """The keys the engagement file allows in the mapping at ``path`` (``("sources", "crm")`` → a source's keys)."""
    annotation: Any = Engagement
    for step in path:
        model = _model_in(annotation)
        if model is not None:
            field = next((f for name, f in model.model_fields.items() if step in (name, f.alias)), None)
            if field is None:
                return []
            annotation = field.annotation
            continue
        containers = [a for a in (annotation, *typing.get_args(annotation))
                      if typing.get_origin(a) in (list, tuple, dict)]
        if not containers:
            return []
        annotation = typing.get_args(containers[0])[-1]  # list[X] → X, dict[K, X] → X
    model = _model_in(annotation)
    return [f.alias or name for name, f in model.model_fields.items()] if model else []


def parse_engagement(text: str, file_label: str = ENGAGEMENT_FILE) -> Engagement:
    """Parse and validate engagement YAML text (no file checks); every problem is named in the one error raised."""
    data, lines = load_yaml(text, file_label)
    _must_be_mapping(data, file_label)
    try:
        engagement = Engagement.model_validate(data)
    except ValidationError as exc:
        raise one_error(validation_problems(exc, file_label, lines), file_label) from None
    engagement._lines = lines
    return engagement


def _must_be_mapping(data: Any, file_label: str) -> None:
    if not isinstance(data, dict):
        raise EngagementError(file_label, "must be a YAML mapping of keys (client, engagement, period, …)",
                              fix="start from `digiops new-client NAME`")


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


def _read(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as exc:
        raise EngagementError(file.name, f"cannot be read ({exc.strerror or exc})", fix="check the file's "
                              "permissions") from None


def load_engagement(spec: str | Path) -> Engagement:
    """Load and validate an engagement file: its settings, and the paths it names (configuration files inside the
    client folder, custom stage notebooks present, each source's format known). The sources are not read here:
    :func:`digiops.sources.check_sources` checks that every source file exists and every mapped column is in it."""
    file = find_engagement_file(spec)
    engagement = parse_engagement(decode_engagement(_read(file), file.name), file.name)
    engagement._file = file
    problems = path_problems(engagement)
    if problems:
        raise one_error(problems, file.name)
    return engagement


def path_problems(engagement: Engagement) -> list[EngagementError]:
    """Every problem of the paths an engagement names: a configuration file outside the client folder, a custom
    stage's notebook missing or a dependency unknown, a source outside the client folder or of an unknown format."""
    file = engagement.file
    problems: list[EngagementError] = []
    for section, key in CONFIG_PATHS:
        try:
            engagement.config_path(section, key)  # refuses configuration files outside the client folder
        except EngagementError as exc:
            problems.append(exc)
    for number, custom in enumerate(engagement.custom_stages):
        field = f"custom_stages.{custom.name}.notebook"
        try:
            nb = _resolve_inside(file.parent, custom.notebook, file.name, field, False,
                                 line=engagement.line_of("custom_stages", number, "notebook"))
        except EngagementError as exc:
            problems.append(exc)
        else:
            if not nb.is_file():
                problems.append(EngagementError(file.name, f"notebook '{custom.notebook}' does not exist",
                                                field=field, fix="check the path"))
        for dep in custom.depends_on:
            if dep not in engagement.stages and dep not in BUILTIN_STAGES:
                problems.append(EngagementError(file.name, f"depends on unknown stage '{dep}'",
                                                field=f"custom_stages.{custom.name}.depends_on"))
    for name, source in engagement.sources.items():
        try:
            engagement.source_path(name)  # refuses paths outside the client folder before anything reads them
        except EngagementError as exc:
            problems.append(exc)
        if source.file_format not in ("csv", "xlsx", "parquet"):
            problems.append(EngagementError(file.name, f"cannot tell the format of '{source.path}'",
                                            field=f"sources.{name}", fix="set format: csv, xlsx or parquet"))
    return problems


# --- checking a file whole (`digiops validate`) -----------------------------------------------------------------
@dataclass
class EngagementCheck:
    """What :func:`check_engagement` found in an engagement file.

    Attributes:
        engagement: the engagement as far as it could be read (``None`` when the file cannot be read, is not YAML,
            or a required setting is wrong), for the checks of its sources and stages.
        problems: every problem of the file itself.
        unchecked: what those problems leave unfit for further checks: a section set back to its defaults
            (``"kpi"``, ``"stages"`` …) or a source (``"sources.crm"``) whose reading settings are wrong.
    """

    engagement: Engagement | None
    problems: list[EngagementError]
    unchecked: frozenset[str] = frozenset()


def check_engagement(spec: str | Path) -> EngagementCheck:
    """Check an engagement file as :func:`load_engagement` does, but report every problem instead of the first.

    Where settings are wrong, the rest is still checked (:func:`_readable_part`), so that one ``digiops validate``
    names a misspelt key, an unknown canonical field and, say, a missing tag catalog together.
    """
    try:
        file = find_engagement_file(spec)
        data, lines = load_yaml(decode_engagement(_read(file), file.name), file.name)
        _must_be_mapping(data, file.name)
    except EngagementError as exc:
        return EngagementCheck(None, [exc])
    problems: list[EngagementError] = []
    unchecked: set[str] = set()
    engagement: Engagement | None = None
    readable: dict[str, Any] | None = data
    mapping_repaired = False
    while readable is not None:
        try:
            engagement = Engagement.model_validate(readable)
            break
        except ValidationError as exc:  # a model's own checks run once its fields are valid: repair, look again
            shown = {str(p) for p in problems}
            found = [p for p in validation_problems(exc, file.name, lines) if str(p) not in shown]
            for problem in found:
                problem.__cause__ = exc  # what `digiops --debug validate` shows
            # a check across sections (key links) after a source's mapping was repaired would report the repair
            problems += [p for p in found if p.field or not mapping_repaired]
            mapping_repaired |= any(_error_path(item)[:1] == ("sources",) and item["type"] != "extra_forbidden"
                                    for item in exc.errors())
            repaired, left_out = _readable_part(readable, exc)
            unchecked |= left_out
            readable = repaired if repaired != readable else None
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    if engagement is not None:
        engagement._file, engagement._lines = file, lines
        problems += path_problems(engagement)
    return EngagementCheck(engagement, problems, frozenset(unchecked))


#: Settings checked against the rest of the file (by :meth:`Engagement._key_link_ends`): left out when that fails.
CROSS_CHECKED = (("merge", "key_links"),)


def _readable_part(data: dict[str, Any], error: ValidationError) -> tuple[dict[str, Any] | None, set[str]]:
    """``data`` without what ``error`` found wrong, and what that leaves unchecked.

    Unknown keys are dropped, and so are a source's mappings to unknown canonical fields and unknown stages (nothing
    else depends on them). A source wrong otherwise keeps its path, kind and mapping, so that the stages' checks still
    see what it maps, but it is not read; a source of no known kind is left out. Any other wrong section takes its
    defaults and is not checked further. ``None`` when a required setting (client, engagement, period) is wrong.
    """
    repaired = copy.deepcopy(data)
    unchecked: set[str] = set()
    wrong_sources: set[str] = set()
    for item in error.errors():
        path = _error_path(item)
        if item["type"] == "extra_forbidden":
            _drop(repaired, path)
        elif not path:
            for section, key in CROSS_CHECKED:
                if isinstance(repaired.get(section), dict):
                    repaired[section].pop(key, None)
        elif path[0] == "sources" and len(path) > 1 and isinstance(repaired.get("sources"), dict):
            wrong_sources.add(str(path[1]))
        elif path[0] != "stages":
            field = Engagement.model_fields.get(str(path[0]))
            if field is None or field.is_required():
                return None, unchecked
            repaired.pop(str(path[0]), None)
            unchecked.add(str(path[0]))
    for name in sorted(wrong_sources):
        source, readable = _usable_source(repaired["sources"].get(name))
        if source is None:
            repaired["sources"].pop(name, None)
        else:
            repaired["sources"][name] = source
        if not readable:
            unchecked.add(f"sources.{name}")
    stages = repaired.get("stages")
    if isinstance(stages, list):  # unknown stages out (a custom stage whose definition was wrong included)
        custom = repaired.get("custom_stages")
        known = set(BUILTIN_STAGES) | ({c.get("name") for c in custom if isinstance(c, dict)}
                                       if isinstance(custom, list) else set())
        repaired["stages"] = [s for s in dict.fromkeys(str(s) for s in stages) if s in known]
    elif "stages" in repaired:
        repaired.pop("stages")
        unchecked.add("stages")
    return repaired, unchecked


def _drop(data: Any, path: tuple[str | int, ...]) -> None:
    for step in path[:-1]:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return
    if isinstance(data, dict):
        data.pop(path[-1], None)


def _usable_source(raw: Any) -> tuple[dict[str, Any] | None, bool]:
    """A wrong source as far as it is usable, and whether it can still be read: its mappings to unknown or
    repeated canonical fields dropped (readable), else only its path, kind and mapping (not readable)."""
    if not isinstance(raw, dict) or raw.get("kind") not in CANONICAL_FIELDS:
        return None, False
    allowed = CANONICAL_FIELDS[raw["kind"]]
    columns: dict[str, str] = {}
    for column, field in (raw.get("columns") if isinstance(raw.get("columns"), dict) else {}).items():
        if isinstance(field, str) and (not allowed or field in allowed) and field not in columns.values():
            columns[column] = field
    for candidate, readable in (({**raw, "columns": columns}, True),
                                ({key: raw[key] for key in ("path", "kind", "id_column") if key in raw}
                                 | {"columns": columns}, False)):
        try:
            Source.model_validate(candidate)
        except ValidationError:
            continue
        return candidate, readable
    return None, False


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the engagement file (``digiops schema``)."""
    return Engagement.model_json_schema()
