"""The engagement file: one client's parameter set, validated before any kernel starts.

An engagement file (YAML) names the client, the report language, the period, the stages to run, the client's raw
exports (``sources``) with their column mapping, and one section per stage. It is parsed into
:class:`Engagement` (pydantic v2, unknown keys forbidden); every problem becomes an :class:`EngagementError` that
names the file, the field path, the line and the fix.

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
BUILTIN_STAGES = ("inventory", "merge", "labels", "maturity", "kpi", "summary")
#: A custom stage's name becomes ``<name>.html``, ``<name>.ipynb`` and ``outputs/<name>/`` in the run folder.
STAGE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: Names the run folder uses for itself (``index.html``, ``run.html``, ``manifest.json``, ``notebooks/``,
#: ``outputs/``) and names Windows cannot give a file. Compared ignoring case.
RESERVED_STAGE_NAMES = frozenset({"index", "run", "manifest", "notebooks", "outputs", "con", "prn", "aux",
                                  "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))})
#: Settings naming a configuration file of the engagement (relative to the engagement file). Unlike a raw export,
#: such a file is part of the engagement: it must stay inside the client folder.
CONFIG_PATHS = (("labels", "catalog"), ("labels", "segment_map"), ("kpi", "tree"), ("maturity", "question_bank"),
                ("maturity", "benchmark"), ("maturity", "initiatives"), ("merge", "review_file"))
#: How many characters YAML aliases (``*name``) may repeat in all: far above any real use (a shared source default
#: repeated for twenty sources is about a thousand), far below a "billion laughs" file.
MAX_ALIAS_EXPANSION = 1_000_000


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
                    raise ValueError(f"column '{raw}' maps to unknown field '{canonical}' for kind '{self.kind}' "
                                     f"(allowed: {', '.join(allowed)})")
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
                raise ValueError(f"unknown stage '{name}' (known: {', '.join(sorted(known))})")
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


class _StrictLoader(yaml.SafeLoader):
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


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)
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
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines = _inspect(node, file_label)
        return loader.construct_document(node), lines
    except yaml.YAMLError as exc:
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


def _format_validation_error(error: ValidationError, file_label: str, lines: Lines | None = None) -> EngagementError:
    problems = []
    for item in error.errors():
        path = tuple(p for p in item["loc"] if not str(p).startswith("function-after"))
        loc = ".".join(str(p) for p in path)
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling; `digiops schema` lists every key)"
        elif item["type"] == "missing":
            msg = "required field is missing (see docs/engagement.md)"
        line = _line_of(lines or {}, path)
        if line is not None:
            msg += f" (line {line})"
        problems.append(f"{loc}: {msg}" if loc else msg)
    first, rest = problems[0], problems[1:]
    err = EngagementError(file_label, first + "".join(f"\n  {file_label}: {problem}" for problem in rest))
    err.all_problems = problems  # type: ignore[attr-defined]
    return err


def parse_engagement(text: str, file_label: str = ENGAGEMENT_FILE) -> Engagement:
    """Parse and validate engagement YAML text (no file checks)."""
    data, lines = load_yaml(text, file_label)
    if not isinstance(data, dict):
        raise EngagementError(file_label, "must be a YAML mapping of keys (client, engagement, period, …)",
                              fix="start from `digiops new-client NAME`")
    try:
        engagement = Engagement.model_validate(data)
    except ValidationError as exc:
        raise _format_validation_error(exc, file_label, lines) from None
    engagement._lines = lines
    return engagement


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


def load_engagement(spec: str | Path) -> Engagement:
    """Load and validate an engagement file: its settings, and the paths it names (configuration files inside the
    client folder, custom stage notebooks present, each source's format known). The sources are not read here:
    :func:`digiops.sources.check_sources` checks that every source file exists and every mapped column is in it."""
    file = find_engagement_file(spec)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise EngagementError(file.name, f"cannot be read ({exc.strerror or exc})", fix="check the file's "
                              "permissions") from None
    engagement = parse_engagement(decode_engagement(data, file.name), file.name)
    engagement._file = file
    for section, key in CONFIG_PATHS:
        engagement.config_path(section, key)  # refuses configuration files outside the client folder
    for number, custom in enumerate(engagement.custom_stages):
        nb = _resolve_inside(file.parent, custom.notebook, file.name, f"custom_stages.{custom.name}.notebook", False,
                             line=engagement.line_of("custom_stages", number, "notebook"))
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
    return engagement


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the engagement file (``digiops schema``)."""
    return Engagement.model_json_schema()
