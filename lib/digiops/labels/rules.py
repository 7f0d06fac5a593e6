"""Tag rules: a small, portable SQL expression subset, parsed once and used three ways.

A rule is one SQL expression over the customer feature view (:mod:`digiops.labels.features`): a condition for a
flag or a value of a tag (``recency_days BETWEEN 31 AND 90``), or a value expression
(``first_touch_channel``). The subset is what DuckDB and Spark SQL evaluate identically: column names, literals,
``AND / OR / NOT``, comparisons, ``BETWEEN``, ``IN``, ``IS [NOT] NULL``, ``LIKE``, arithmetic, ``CASE WHEN``,
``COALESCE`` and ``NULLIF``. Anything else (casts, dialect functions, sub-queries) is refused, so a catalog that
runs here runs on Spark later (:func:`to_sql` with ``dialect="spark"``).

Parsed with sqlglot, a rule tells

* which fields it reads (:attr:`Rule.fields`, checked against the feature view before evaluation), and
* whether two values of one tag overlap by definition (:func:`statically_overlap`, for conjunctions of simple
  comparisons on the same fields).

(The row-by-row evaluator with SQL's three-valued logic, the benchmark's baseline and an independent check, is
test code: ``tests/labels/baseline.py``.)

Example:
    >>> rule = parse_rule("recency_days > 30 AND recency_days <= 90")
    >>> sorted(rule.fields)
    ['recency_days']
    >>> statically_overlap(parse_rule("recency_days <= 30"), parse_rule("recency_days BETWEEN 30 AND 90"))
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

#: sqlglot node types of the portable subset.
ALLOWED_NODES: tuple[type, ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.And, exp.Or, exp.Not, exp.Paren,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.In, exp.Is, exp.Add, exp.Sub, exp.Mul,
    exp.Div, exp.Neg, exp.Case, exp.If, exp.Coalesce, exp.Nullif, exp.Like,
)
PORTABLE_HELP = ("use column names, literals, AND/OR/NOT, = <> < <= > >=, BETWEEN, IN (…), IS [NOT] NULL, LIKE, "
                 "+ - * /, CASE WHEN … THEN … ELSE … END, COALESCE, NULLIF")


class RuleError(ValueError):
    """A rule is not valid SQL or leaves the portable subset (the catalog turns it into a CatalogError)."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule."""

    text: str
    tree: exp.Expression

    @property
    def fields(self) -> set[str]:
        return {c.name for c in self.tree.find_all(exp.Column)}

    def sql(self, dialect: str = "duckdb") -> str:
        return to_sql(self, dialect)


def parse_rule(text: str) -> Rule:
    """Parse a rule and check it stays inside the portable subset (raises :class:`RuleError`)."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("the rule is empty")
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0]["description"] if exc.errors else str(exc)
        raise RuleError(f"is not a SQL expression ({first})") from None
    for node in tree.walk():
        if not isinstance(node, ALLOWED_NODES):
            name = node.sql("duckdb")[:40] if not isinstance(node, exp.Expression) else (
                node.sql("duckdb")[:40] or type(node).__name__)
            raise RuleError(f"uses {type(node).__name__.upper()} (`{name}`), which is outside the portable SQL "
                            f"subset")
        if isinstance(node, exp.Column) and node.table:
            raise RuleError(f"names a table ('{node.table}.{node.name}'); name fields of the feature view only")
    return Rule(text, tree)


def to_sql(rule: Rule, dialect: str = "duckdb") -> str:
    """The rule as SQL text for ``dialect`` (``duckdb`` or ``spark``), fully parenthesized by sqlglot."""
    return rule.tree.sql(dialect=dialect)


# --- static overlap ---------------------------------------------------------------------------------------------
@dataclass
class _Interval:
    low: float = -math.inf
    low_closed: bool = False
    high: float = math.inf
    high_closed: bool = False

    def meet(self, other: "_Interval") -> "_Interval":
        out = _Interval(self.low, self.low_closed, self.high, self.high_closed)
        if other.low > out.low or (other.low == out.low and not other.low_closed):
            out.low, out.low_closed = other.low, other.low_closed
        if other.high < out.high or (other.high == out.high and not other.high_closed):
            out.high, out.high_closed = other.high, other.high_closed
        return out

    @property
    def empty(self) -> bool:
        return self.low > self.high or (self.low == self.high and not (self.low_closed and self.high_closed))


def _literal(node: exp.Expression) -> float | str | None:
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return -float(node.this.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else float(node.this)
    return None


_FLIP = {exp.GT: exp.LT, exp.GTE: exp.LTE, exp.LT: exp.GT, exp.LTE: exp.GTE, exp.EQ: exp.EQ}


def _constraints(tree: exp.Expression) -> dict[str, Any] | None:
    """Per field, an interval (numbers) or a set (strings) when the rule is a conjunction of simple tests."""
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.And):
        left, right = _constraints(tree.this), _constraints(tree.expression)
        if left is None or right is None:
            return None
        for name, bound in right.items():
            if name not in left:
                left[name] = bound
            elif isinstance(left[name], _Interval) and isinstance(bound, _Interval):
                left[name] = left[name].meet(bound)
            elif isinstance(left[name], set) and isinstance(bound, set):
                left[name] = left[name] & bound
            else:
                return None
        return left
    if isinstance(tree, exp.Between) and isinstance(tree.this, exp.Column):
        low, high = _literal(tree.args["low"]), _literal(tree.args["high"])
        if isinstance(low, float) and isinstance(high, float):
            return {tree.this.name: _Interval(low, True, high, True)}
        return None
    if isinstance(tree, exp.In) and isinstance(tree.this, exp.Column) and tree.expressions:
        values = [_literal(v) for v in tree.expressions]
        if all(isinstance(v, str) for v in values):
            return {tree.this.name: set(values)}
        return None
    if type(tree) in _FLIP:
        op, column, value = type(tree), tree.this, tree.expression
        if not isinstance(column, exp.Column):
            op, column, value = _FLIP[op], value, column
        literal = _literal(value)
        if not isinstance(column, exp.Column) or literal is None:
            return None
        if isinstance(literal, str):
            return {column.name: {literal}} if op is exp.EQ else None
        interval = {exp.GT: _Interval(low=literal), exp.GTE: _Interval(low=literal, low_closed=True),
                    exp.LT: _Interval(high=literal), exp.LTE: _Interval(high=literal, high_closed=True),
                    exp.EQ: _Interval(literal, True, literal, True)}[op]
        return {column.name: interval}
    return None


def statically_overlap(first: Rule, second: Rule) -> bool:
    """True when two value rules certainly admit the same customer by their definitions alone.

    Decided for identical rules, and for conjunctions of simple comparisons (``=, <, <=, >, >=, BETWEEN, IN`` with
    literals) that constrain the same set of fields: they overlap when every field's ranges (or value sets)
    intersect. Rules on different fields cannot be decided without data; the evaluation reports such overlaps as
    conflicts instead.
    """
    if first.tree == second.tree:
        return True
    a, b = _constraints(first.tree), _constraints(second.tree)
    if a is None or b is None or set(a) != set(b):
        return False
    for name in a:
        x, y = a[name], b[name]
        if isinstance(x, _Interval) and isinstance(y, _Interval):
            if x.meet(y).empty:
                return False
        elif isinstance(x, set) and isinstance(y, set):
            if not x & y:
                return False
        else:
            return False
    return True
