"""The tag catalog: the contract between business and data (seed 001, "align the data definition with the
business definition", 口径).

A catalog is YAML with a ``tags:`` list. Each tag has an id, a name in Chinese and English, a category, its
business definition (口径), an owner, the source fields it reads, a refresh frequency, the business scenario it
serves, a version, and either one ``rule`` or several mutually exclusive ``values`` each with its own rule::

    tags:
      - id: lifecycle_stage
        name: {zh: 生命周期阶段, en: Lifecycle stage}
        category: lifecycle
        definition: 按最近一次购买距今天数划分 …
        owner: 会员运营部
        source_fields: [orders.order_time]
        refresh: daily
        scenario: 分阶段触达 …
        version: 1
        values:
          - {value: active, name: {zh: 活跃, en: Active}, rule: "recency_days <= 30"}
          - {value: dormant, name: {zh: 沉默, en: Dormant}, rule: "recency_days BETWEEN 31 AND 90"}

A ``rule`` tag is a flag (``output: flag``, the default: true when the rule holds, else empty) or a value
(``output: value``: the rule is an expression whose result is the tag value). Rules are written in the portable SQL
subset of :mod:`digiops.labels.rules` over the fields of :mod:`digiops.labels.features`.

:func:`validate_catalog` refuses, with a :class:`~digiops.errors.CatalogError` naming the tag and the fix: two tags
with one id, a missing owner, a rule naming a field that does not exist, a rule outside the portable subset, a
tag with both or neither of ``rule`` / ``values``, and two values of one tag whose definitions overlap.
:func:`catalog_file_problems` (``digiops validate``) returns every such problem of a catalog file, with the key or
field most likely meant for a misspelt one. The format is documented in docs/catalog-and-tree.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from digiops.engagement import closest, did_you_mean, load_yaml
from digiops.errors import CatalogError, DigiopsError
from digiops.labels.features import FEATURE_VIEW_FIELDS, RFM_COLUMNS
from digiops.labels.rules import PORTABLE_HELP, Rule, RuleError, parse_rule, statically_overlap

CATEGORIES = ("basic", "channel", "behaviour", "consumption", "lifecycle", "value", "predictive")
CATEGORY_NAMES = {
    "basic": ("基础属性", "Basic attribute"), "channel": ("渠道", "Channel"), "behaviour": ("行为", "Behaviour"),
    "consumption": ("消费", "Consumption"), "lifecycle": ("生命周期", "Lifecycle"), "value": ("价值", "Value"),
    "predictive": ("预测", "Predictive"),
}


class Name(BaseModel):
    model_config = ConfigDict(extra="forbid")

    zh: str = Field(description="Name in Chinese")
    en: str = Field(description="Name in English")


class TagValue(BaseModel):
    """One of several mutually exclusive values of a tag."""

    model_config = ConfigDict(extra="forbid")

    value: str = Field(description="The code stored in the tag column, e.g. `active`")
    name: Name = Field(description="Display name of the value")
    rule: str = Field(description="Condition (portable SQL) a customer meets to get this value")
    definition: str | None = Field(None, description="Business wording of this value's rule, when it needs one")


class Tag(BaseModel):
    """One tag of the catalog."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,62}$", description="Column name in the tag matrix (snake_case)")
    name: Name = Field(description="Display name")
    category: Literal[CATEGORIES] = Field(description="basic / channel / behaviour / consumption / lifecycle / "  # type: ignore[valid-type]
                                          "value / predictive")
    definition: str = Field(description="Business definition (口径) in the business's own words")
    owner: str | None = Field(None, description="Department or person answerable for the definition")
    source_fields: list[str] = Field(default_factory=list, description="Source fields (table.field) it reads")
    refresh: Literal["daily", "weekly", "monthly", "quarterly", "on_demand"] = Field(
        "daily", description="How often the tag is recomputed")
    scenario: str = Field("", description="Business scenario the tag serves (who uses it for what)")
    version: int = Field(1, ge=1, description="Bumped whenever the definition changes")
    rule: str | None = Field(None, description="One rule (a flag condition, or a value expression)")
    output: Literal["flag", "value"] = Field("flag", description="For a `rule` tag: `flag` (true/empty) or "
                                             "`value` (the expression's result)")
    values: list[TagValue] | None = Field(None, description="Mutually exclusive values, each with its rule")


class Catalog(BaseModel):
    """A validated tag catalog."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(1, description="Catalog version")
    description: str = Field("", description="What this catalog is for")
    tags: list[Tag] = Field(description="The tags, in display order")
    source: str = Field("catalog", exclude=True, description="File the catalog was read from (for messages)")

    def tag(self, tag_id: str) -> Tag:
        return next(t for t in self.tags if t.id == tag_id)


def _error_location(loc: tuple, data: dict) -> tuple[str, str]:
    """(tag label, field path) of a pydantic error inside ``tags``."""
    if len(loc) >= 2 and loc[0] == "tags" and isinstance(loc[1], int):
        tags = data.get("tags") or []
        raw = tags[loc[1]] if loc[1] < len(tags) and isinstance(tags[loc[1]], dict) else {}
        label = f"tag '{raw.get('id', f'#{loc[1] + 1}')}'"
        return label, ".".join(str(p) for p in loc[2:])
    return "", ".".join(str(p) for p in loc)


FORMAT_FIX = "see the catalog format in docs/catalog-and-tree.md"


def _structure_problem(item: Any, data: dict, source: str) -> CatalogError:
    label, path = _error_location(item["loc"], data)
    msg = item["msg"].removeprefix("Value error, ")
    fix = FORMAT_FIX
    if item["type"] == "extra_forbidden":
        allowed = _allowed_keys(item["loc"])
        match = closest(item["loc"][-1], allowed)
        msg = "unknown key"
        fix = f"did you mean `{match}`?" if match else f"use one of: {', '.join(allowed)}"
    elif item["type"] == "missing":
        msg = "required key is missing"
        fix = f"add `{item['loc'][-1]}:`"
    elif item["type"] == "literal_error" and item["loc"][-1] == "category":
        fix = f"use one of: {', '.join(CATEGORIES)}" + did_you_mean(item.get("input"), CATEGORIES)
    return CatalogError(source, f"{path}: {msg}" if path else msg, field=label or None, fix=fix)


def _allowed_keys(loc: tuple) -> list[str]:
    """The keys allowed where an unknown key sits (a tag, a value of a tag, a name, the catalog itself)."""
    model: type[BaseModel] = Catalog
    for step in loc[:-1]:
        if isinstance(step, int):
            continue
        model = {("Catalog", "tags"): Tag, ("Tag", "values"): TagValue, ("Tag", "name"): Name,
                 ("TagValue", "name"): Name}.get((model.__name__, step), model)
    return [name for name, field in model.model_fields.items() if not field.exclude]


def parsed_catalog(text: str, source: str = "tag_catalog.yaml") -> tuple[Catalog | None, list[CatalogError]]:
    """Parse catalog YAML (structure only) and return every problem found: a tag without an owner, an unknown or
    missing key, a wrong value (``None`` instead of the catalog when there is any)."""
    data, _ = load_yaml(text, source)  # strict: a key given twice is an error, not the last one winning
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list):
        return None, [CatalogError(source, "must be a mapping with a `tags:` list", field="tags",
                                   fix="start from templates/new_client/tag_catalog.yaml (docs/catalog-and-tree.md)")]
    problems = [CatalogError(source, "has no owner", field=f"tag '{raw.get('id', f'#{position + 1}')}'",
                             fix="add `owner:` — the department or person answerable for its definition")
                for position, raw in enumerate(data["tags"]) if isinstance(raw, dict) and not raw.get("owner")]
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        return None, problems + [_structure_problem(item, data, source) for item in exc.errors()]
    if problems:
        return None, problems
    catalog.source = source
    return catalog, []


def parse_catalog(text: str, source: str = "tag_catalog.yaml") -> Catalog:
    """Parse catalog YAML (structure only; :func:`validate_catalog` checks rules against fields); the first
    problem raises its :class:`CatalogError`."""
    catalog, problems = parsed_catalog(text, source)
    if problems:
        raise problems[0]
    return catalog


def load_catalog(path: str | Path) -> Catalog:
    """Read and parse a catalog file (see :func:`validate_catalog` for the checks against data fields)."""
    path = _existing(Path(path))
    return parse_catalog(path.read_text(encoding="utf-8"), path.name)


def _existing(path: Path, label: str | None = None) -> Path:
    if not path.is_file():
        raise CatalogError(label or str(path), "file not found", field="labels.catalog",
                           fix="create it (`digiops new-client` writes a starter catalog that works on orders alone: "
                               "templates/new_client/tag_catalog.yaml), or set labels.catalog in the engagement file "
                               "to an existing YAML file (relative to the engagement file)")
    return path


def catalog_file_problems(path: str | Path, label: str | None = None) -> tuple[Catalog | None, list[DigiopsError]]:
    """Every problem of a catalog file (named ``label`` when it is missing), read and checked against the feature
    view the labels stage builds (:func:`catalog_problems`); the catalog when it has none."""
    try:
        path = _existing(Path(path), label)
        catalog, problems = parsed_catalog(path.read_text(encoding="utf-8"), path.name)
    except DigiopsError as exc:  # missing, or not YAML
        return None, [exc]
    if catalog is None:
        return None, list(problems)
    found = catalog_problems(catalog, FEATURE_VIEW_FIELDS, reserved={c: "RFM" for c in RFM_COLUMNS})
    return (None if found else catalog), list(found)


def tag_rules(tag: Tag) -> list[tuple[str | None, Rule]]:
    """(value code or None, parsed rule) of a tag; assumes a validated catalog."""
    if tag.values:
        return [(v.value, parse_rule(v.rule)) for v in tag.values]
    return [(None, parse_rule(tag.rule or ""))]


def validate_catalog(catalog: Catalog, fields: dict[str, str] | list[str], *,
                     reserved: dict[str, str] | None = None) -> None:
    """Check a catalog against the fields rules may name; raise the first problem as a CatalogError.

    Args:
        catalog: the parsed catalog.
        fields: the feature view's field names (or name → type).
        reserved: output columns the engine writes itself (e.g. ``rfm_r``); a tag may take such an id only when
            its rule is exactly that field.
    """
    problems = catalog_problems(catalog, fields, reserved=reserved)
    if problems:
        raise problems[0]


def catalog_problems(catalog: Catalog, fields: dict[str, str] | list[str], *,
                     reserved: dict[str, str] | None = None) -> list[CatalogError]:
    """Every problem :func:`validate_catalog` would raise the first of, tag by tag."""
    return [problem for position, tag in enumerate(catalog.tags, start=1)
            for problem in _tag_problems(catalog, position, tag, sorted(fields), reserved or {})]


def _tag_problems(catalog: Catalog, position: int, tag: Tag, names: list[str],
                  reserved: dict[str, str]) -> Iterator[CatalogError]:
    source = catalog.source
    where = f"tag '{tag.id}'"
    first = next(number for number, other in enumerate(catalog.tags, start=1) if other.id == tag.id)
    if first != position:
        yield CatalogError(source, f"the id is used by tags #{first} and #{position}", field=where,
                           fix="give each tag its own id (ids are the column names of the tag matrix)")
    if not (tag.owner or "").strip():
        yield CatalogError(source, "has no owner", field=where,
                           fix="add `owner:` — the department or person answerable for its definition")
    if (tag.rule is None) == (not tag.values):
        yield CatalogError(source, "needs either one `rule` or a list of `values`, not both or neither",
                           field=where, fix="keep `rule` for a flag or value expression, or `values` for "
                           "mutually exclusive values")
        return
    codes = [v.value for v in tag.values or []]
    doubled = sorted({c for c in codes if codes.count(c) > 1})
    if doubled:
        yield CatalogError(source, f"value '{doubled[0]}' is listed twice", field=where,
                           fix="give each value its own code")
    parsed: list[tuple[str | None, Rule]] = []
    for code, text in ([(v.value, v.rule) for v in tag.values] if tag.values else [(None, tag.rule)]):
        label = f"{where} value '{code}'" if code else where
        try:
            rule = parse_rule(text or "")
        except RuleError as exc:
            yield CatalogError(source, f"rule `{text}` {exc}", field=label,
                               fix=f"write the rule in the portable SQL subset: {PORTABLE_HELP}")
            continue
        missing = sorted(rule.fields - set(names))
        if missing:
            match = closest(missing[0], names)
            yield CatalogError(source, f"rule `{text}` names field '{missing[0]}', which does not exist",
                               field=label, fix=f"did you mean `{match}`?" if match else
                               f"use one of the feature fields: {', '.join(names)}")
            continue
        parsed.append((code, rule))
    if tag.id in reserved and not (tag.rule is not None and tag.rule.strip() == tag.id):
        yield CatalogError(source, f"the id '{tag.id}' is a field the engine computes itself "
                           f"({reserved[tag.id]})", field=where,
                           fix=f"set `rule: {tag.id}` and `output: value`, or choose another id")
    for i, (code_a, rule_a) in enumerate(parsed):
        for code_b, rule_b in parsed[i + 1:]:
            if statically_overlap(rule_a, rule_b):
                yield CatalogError(source, f"values '{code_a}' (`{rule_a.text}`) and '{code_b}' "
                                   f"(`{rule_b.text}`) overlap by definition", field=where,
                                   fix="make the value rules mutually exclusive (e.g. make one bound "
                                   "strict: `<` instead of `<=`)")
