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
different units are :class:`~digiops.errors.KpiTreeError` naming the node.

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

from digiops.engagement import load_yaml
from digiops.errors import KpiTreeError
from digiops.text import in_language

LEVELS = ("all", "region", "store")


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
    """Validate a parsed tree file; every problem is a :class:`KpiTreeError` naming the node."""
    if not isinstance(data, dict) or "kpis" not in data:
        raise KpiTreeError(file, "must be a mapping with `kpis:` (and `strategic_goals:`)",
                           fix="see the tree format in digiops.kpi.tree")
    extra = set(data) - {"strategic_goals", "kpis"}
    if extra:
        raise KpiTreeError(file, f"unknown key(s) {', '.join(sorted(extra))}", fix="use strategic_goals and kpis")
    goals: dict[str, StrategicGoal] = {}
    for index, raw in enumerate(data.get("strategic_goals") or []):
        goal = _validated(StrategicGoal, raw, file, f"strategic_goals[{index}]")
        if goal.id in goals:
            raise KpiTreeError(file, f"strategic goal '{goal.id}' is defined twice", field=f"strategic_goals.{goal.id}",
                               fix="give each goal a unique id")
        goals[goal.id] = goal
    nodes: dict[str, KpiNode] = {}
    for index, raw in enumerate(data["kpis"] or []):
        label = f"kpis[{index}]" + (f" ({raw.get('id')})" if isinstance(raw, dict) and raw.get("id") else "")
        node = _validated(KpiNode, raw, file, label)
        if node.id in nodes or node.id in goals:
            raise KpiTreeError(file, f"id '{node.id}' is defined twice", field=f"kpis.{node.id}",
                               fix="give each KPI and goal a unique id")
        nodes[node.id] = node
    tree = KpiTree(file, goals, nodes)
    for node in nodes.values():
        for child in node.children:
            if child not in nodes:
                raise KpiTreeError(file, f"child '{child}' is not a KPI of the tree", field=f"kpis.{node.id}.children",
                                   fix="define that KPI or remove it from children")
        if node.goal and node.goal not in goals:
            raise KpiTreeError(file, f"goal '{node.goal}' is not a strategic goal", field=f"kpis.{node.id}.goal",
                               fix=f"use one of: {', '.join(goals) or '(define strategic_goals first)'}")
        if known_units is not None and node.unit not in known_units:
            raise KpiTreeError(file, f"unit '{node.unit}' is not a known unit", field=f"kpis.{node.id}.unit",
                               fix="use `all`, a region or a store id of the stores source")
    _check_cycles(tree)
    for node_id in nodes:
        parents = tree.parents(node_id)
        units = sorted({nodes[p].unit for p in parents})
        if len(units) > 1:
            raise KpiTreeError(file, f"'{node_id}' is a child of {', '.join(parents)}, which belong to different "
                               f"units ({', '.join(units)})", field=f"kpis.{node_id}",
                               fix="give each unit its own child node (e.g. one per region)")
    return tree


def _check_cycles(tree: KpiTree) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node_id: str, path: list[str]) -> None:
        if state.get(node_id) == 2:
            return
        if state.get(node_id) == 1:
            loop = path[path.index(node_id):] + [node_id]
            raise KpiTreeError(tree.file, f"cycle {' → '.join(loop)}", field=f"kpis.{node_id}.children",
                               fix="a KPI cannot be its own ancestor; remove one of these links")
        state[node_id] = 1
        for child in tree.nodes[node_id].children:
            visit(child, path + [node_id])
        state[node_id] = 2

    for node_id in tree.nodes:
        visit(node_id, [])


def _validated(model: type[BaseModel], raw: Any, file: str, label: str) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        item = exc.errors()[0]
        where = ".".join(str(p) for p in item["loc"])
        problem = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            problem = "unknown key (check its spelling)"
        raise KpiTreeError(file, problem, field=f"{label}.{where}" if where else label,
                           fix="see the tree format in digiops.kpi.tree") from None


def load_tree(path: Path, known_units: set[str] | None = None) -> KpiTree:
    """Read and validate a KPI tree file."""
    path = Path(path)
    if not path.is_file():
        raise KpiTreeError(str(path), "the KPI tree file does not exist", field="kpi.tree",
                           fix="set kpi.tree in the engagement file to a YAML file beside it")
    data, _ = load_yaml(path.read_text(encoding="utf-8"), path.name)  # strict: a key given twice is an error
    return parse_tree(data, path.name, known_units)
