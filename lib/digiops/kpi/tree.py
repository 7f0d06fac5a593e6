"""The KPI tree: SMART goals in a hierarchy (seed 004 §1.2: strategy → business line → execution).

A tree file (YAML) has two lists. ``strategic_goals`` are the roots (id, names, owner). ``kpis`` are the nodes:

.. code-block:: yaml

    kpis:
      - id: gmv
        name_zh: 成交额
        name_en: GMV
        measure: 元                 # what the number counts (元, 人, %, …)
        unit: all                   # the combat unit the node is scoped to: all, a region or a store id
        owner: 销售副总裁
        direction: higher           # higher | lower is better
        combine: product            # how children combine: product | sum | ratio (numerator, denominator)
        children: [traffic, conversion, aov]
        split_by: [region, store]   # also decompose the node to every region and store
        source: {metric: gmv}       # a named metric of the merge stage's orders, or {file: traffic, column: visitors}
        baseline: 1250000
        deadline: 2026-12-31
        goal: growth                # the strategic goal it serves (for a node without a KPI parent)
        definition: 非测试订单金额之和，退款以负数计入

A node's actual comes from its ``source`` when it has one, otherwise from its children through ``combine``.
:func:`load_tree` checks the structure: unknown children or goals, cycles, and a child listed under two parents of
different units are :class:`~digiops.errors.KpiTreeError` naming the node (:func:`tree_file_problems` returns every
one of them). The format is documented in docs/catalog-and-tree.md.

Example:
    >>> tree = parse_tree({"strategic_goals": [{"id": "g", "name_zh": "增长", "name_en": "Growth"}],
    ...     "kpis": [{"id": "gmv", "name_zh": "成交额", "name_en": "GMV", "goal": "g", "combine": "product",
    ...               "children": ["traffic", "cr"]},
    ...              {"id": "traffic", "name_zh": "客流", "name_en": "Traffic"},
    ...              {"id": "cr", "name_zh": "转化率", "name_en": "Conversion"}]}, "kpi_tree.yaml")
    >>> tree.parents("cr"), tree.root_goal("cr")
    (['gmv'], 'g')
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from digiops.engagement import closest, did_you_mean, load_yaml
from digiops.errors import DigiopsError, KpiTreeError
from digiops.text import in_language

LEVELS = ("all", "region", "store")
TREE_KEYS = ("strategic_goals", "kpis")
FORMAT_FIX = "see the tree format in docs/catalog-and-tree.md"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataSource(_Strict):
    """Where a node's actual comes from: a named metric of the orders, or a column of a source file."""

    metric: str | None = Field(None, description="Named metric computed from the merge stage's outputs "
                               "(gmv, orders, traffic, conversion, aov, customers, repurchase_rate, returning_rate, "
                               "member_share, on_time_rate)")
    file: str | None = Field(None, description="Source name in the engagement file (a column of it is summed "
                             "per unit and month)")
    column: str | None = Field(None, description="Canonical column of `file` to sum (e.g. `visitors`)")

    @model_validator(mode="after")
    def _one(self) -> "DataSource":
        if bool(self.metric) == bool(self.file):
            raise ValueError("give either metric, or file and column")
        if self.file and not self.column:
            raise ValueError(f"file '{self.file}' needs a column")
        return self


class StrategicGoal(_Strict):
    id: str = Field(description="Goal id, referenced by a KPI's `goal`")
    name_zh: str = Field(description="Goal name in Chinese")
    name_en: str = Field(description="Goal name in English")
    owner: str | None = Field(None, description="Executive who owns the goal")


class KpiNode(_Strict):
    id: str = Field(description="KPI id; targets and actions refer to it")
    name_zh: str = Field(description="Name in Chinese")
    name_en: str = Field(description="Name in English")
    measure: str = Field("", description="What the number counts: 元, 人, %, 元/单 …")
    unit: str = Field("all", description="Combat unit the node is scoped to: `all`, a region or a store id")
    owner: str | None = Field(None, description="Who answers for the KPI (Specific)")
    direction: Literal["higher", "lower"] = Field("higher", description="Whether higher or lower is better")
    combine: Literal["product", "sum", "ratio"] | None = Field(None, description="How the children make the node")
    children: list[str] = Field(default_factory=list, description="Child KPI ids (ratio: numerator, denominator)")
    split_by: list[Literal["region", "store"]] = Field(default_factory=list,
                                                       description="Also report and decompose per region / store")
    source: DataSource | None = Field(None, description="Where the actual comes from (else: from the children)")
    baseline: float | None = Field(None, description="Value at the start of the engagement")
    deadline: dt.date | None = Field(None, description="When the goal must be met (Time-bound)")
    goal: str | None = Field(None, description="Strategic goal the KPI serves (Relevant)")
    definition: str | None = Field(None, description="Business definition (口径) (Specific)")

    @model_validator(mode="after")
    def _combine(self) -> "KpiNode":
        if self.children and not self.combine:
            raise ValueError("has children but no combine (product, sum or ratio)")
        if self.combine == "ratio" and len(self.children) != 2:
            raise ValueError("combine: ratio needs exactly two children (numerator, denominator)")
        return self

    def name(self, language: str) -> str:
        return in_language(language, self.name_zh, self.name_en)


@dataclass
class KpiTree:
    """A validated KPI tree."""

    file: str
    goals: dict[str, StrategicGoal]
    nodes: dict[str, KpiNode]

    def parents(self, kpi_id: str) -> list[str]:
        return [n.id for n in self.nodes.values() if kpi_id in n.children]

    def root_goal(self, kpi_id: str) -> str | None:
        """The strategic goal reached by walking up the tree (first parent first), or ``None``."""
        seen: set[str] = set()
        current = kpi_id
        while current not in seen:
            seen.add(current)
            node = self.nodes[current]
            if node.goal:
                return node.goal
            parents = self.parents(current)
            if not parents:
                return None
            current = parents[0]
        return None

    def depth(self, kpi_id: str) -> int:
        parents = self.parents(kpi_id)
        return 0 if not parents else 1 + min(self.depth(p) for p in parents)

    def order(self) -> list[str]:
        """Node ids, children before parents (the order in which values can be computed)."""
        done: list[str] = []

        def visit(node_id: str) -> None:
            if node_id in done:
                return
            for child in self.nodes[node_id].children:
                visit(child)
            done.append(node_id)

        for node_id in self.nodes:
            visit(node_id)
        return done


def parse_tree(data: Any, file: str, known_units: set[str] | None = None) -> KpiTree:
    """Validate a parsed tree file; the first problem raises its :class:`KpiTreeError` naming the node."""
    tree, problems = parsed_tree(data, file, known_units)
    if problems:
        raise problems[0]
    return tree


def parsed_tree(data: Any, file: str, known_units: set[str] | None = None
                ) -> tuple[KpiTree | None, list[KpiTreeError]]:
    """A parsed tree file validated: the tree, or ``None`` and every problem found (each naming the node).

    The links between nodes (children, goals, units, cycles, parents of different units) are checked once every
    goal and node is valid on its own.
    """
    if not isinstance(data, dict) or "kpis" not in data:
        return None, [KpiTreeError(file, "must be a mapping with `kpis:` (and `strategic_goals:`)", fix=FORMAT_FIX)]
    problems: list[KpiTreeError] = []
    for key in sorted(set(data) - set(TREE_KEYS)):
        match = closest(key, TREE_KEYS)
        problems.append(KpiTreeError(file, f"unknown key {key}", field=key,
                                     fix=f"did you mean `{match}`?" if match else "use strategic_goals and kpis"))
    goals: dict[str, StrategicGoal] = {}
    for index, raw in enumerate(data.get("strategic_goals") or []):
        goal = _validated(StrategicGoal, raw, file, f"strategic_goals[{index}]", problems)
        if goal is None:
            continue
        if goal.id in goals:
            problems.append(KpiTreeError(file, f"strategic goal '{goal.id}' is defined twice",
                                         field=f"strategic_goals.{goal.id}", fix="give each goal a unique id"))
        goals[goal.id] = goal
    nodes: dict[str, KpiNode] = {}
    for index, raw in enumerate(data["kpis"] or []):
        label = f"kpis[{index}]" + (f" ({raw.get('id')})" if isinstance(raw, dict) and raw.get("id") else "")
        node = _validated(KpiNode, raw, file, label, problems)
        if node is None:
            continue
        if node.id in nodes or node.id in goals:
            problems.append(KpiTreeError(file, f"id '{node.id}' is defined twice", field=f"kpis.{node.id}",
                                         fix="give each KPI and goal a unique id"))
        nodes[node.id] = node
    if problems:
        return None, problems
    tree = KpiTree(file, goals, nodes)
    for node in nodes.values():
        for child in node.children:
            if child not in nodes:
                match = closest(child, nodes)
                problems.append(KpiTreeError(file, f"child '{child}' is not a KPI of the tree",
                                             field=f"kpis.{node.id}.children",
                                             fix=f"did you mean `{match}`?" if match else
                                             "define that KPI or remove it from children"))
        if node.goal and node.goal not in goals:
            problems.append(KpiTreeError(file, f"goal '{node.goal}' is not a strategic goal",
                                         field=f"kpis.{node.id}.goal",
                                         fix=f"use one of: {', '.join(goals) or '(define strategic_goals first)'}"))
        if known_units is not None and node.unit not in known_units:
            problems.append(KpiTreeError(file, f"unit '{node.unit}' is not a known unit", field=f"kpis.{node.id}.unit",
                                         fix="use `all`, a region or a store id of the stores source"
                                         + did_you_mean(node.unit, sorted(known_units))))
    if problems:
        return None, problems
    cycle = _cycle(tree)
    if cycle:
        return None, [cycle]
    for node_id in nodes:
        parents = tree.parents(node_id)
        units = sorted({nodes[p].unit for p in parents})
        if len(units) > 1:
            problems.append(KpiTreeError(file, f"'{node_id}' is a child of {', '.join(parents)}, which belong to "
                                         f"different units ({', '.join(units)})", field=f"kpis.{node_id}",
                                         fix="give each unit its own child node (e.g. one per region)"))
    return (None if problems else tree), problems


def _cycle(tree: KpiTree) -> KpiTreeError | None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node_id: str, path: list[str]) -> KpiTreeError | None:
        if state.get(node_id) == 2:
            return None
        if state.get(node_id) == 1:
            loop = path[path.index(node_id):] + [node_id]
            return KpiTreeError(tree.file, f"cycle {' → '.join(loop)}", field=f"kpis.{node_id}.children",
                                fix="a KPI cannot be its own ancestor; remove one of these links")
        state[node_id] = 1
        for child in tree.nodes[node_id].children:
            found = visit(child, path + [node_id])
            if found:
                return found
        state[node_id] = 2
        return None

    return next(filter(None, (visit(node_id, []) for node_id in tree.nodes)), None)


def _validated(model: type[BaseModel], raw: Any, file: str, label: str, problems: list[KpiTreeError]) -> Any:
    """``raw`` validated by ``model``, or ``None`` with each of its problems added to ``problems``."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for item in exc.errors():
            where = ".".join(str(p) for p in item["loc"])
            problem = item["msg"].removeprefix("Value error, ")
            fix = FORMAT_FIX
            if item["type"] == "extra_forbidden":
                problem = "unknown key (check its spelling)"
                match = closest(item["loc"][-1], _keys_of(model, item["loc"][:-1]))
                fix = f"did you mean `{match}`?" if match else FORMAT_FIX
            problems.append(KpiTreeError(file, problem, field=f"{label}.{where}" if where else label, fix=fix))
        return None


def _keys_of(model: type[BaseModel], path: tuple) -> list[str]:
    if path == ("source",) and model is KpiNode:
        model = DataSource
    return list(model.model_fields)


def load_tree(path: Path, known_units: set[str] | None = None) -> KpiTree:
    """Read and validate a KPI tree file; the first problem raises its :class:`KpiTreeError`."""
    tree, problems = tree_file_problems(path, known_units)
    if problems:
        raise problems[0]
    return tree


def tree_file_problems(path: Path, known_units: set[str] | None = None, label: str | None = None
                       ) -> tuple[KpiTree | None, list[DigiopsError]]:
    """Read and validate a KPI tree file (named ``label`` when it is missing): the tree, or ``None`` and every
    problem found."""
    path = Path(path)
    if not path.is_file():
        return None, [KpiTreeError(label or str(path), "the KPI tree file does not exist", field="kpi.tree",
                                   fix="create it (`digiops new-client` writes a starter tree that works on orders "
                                       "alone: templates/new_client/kpi_tree.yaml), or set kpi.tree in the "
                                       "engagement file to a YAML file beside it")]
    try:
        data, _ = load_yaml(path.read_text(encoding="utf-8"), path.name)  # strict: a key given twice is an error
    except DigiopsError as exc:
        return None, [exc]
    tree, problems = parsed_tree(data, path.name, known_units)
    return tree, list(problems)
