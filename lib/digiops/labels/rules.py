"""Tag rules: a small, portable SQL expression subset, parsed once and used three ways.

A rule is one SQL expression over the customer feature view (:mod:`digiops.labels.features`): a condition for a
flag or a value of a tag (``recency_days BETWEEN 31 AND 90``), or a value expression
(``first_touch_channel``). The subset is what DuckDB and Spark SQL evaluate identically: column names, literals,
``AND / OR / NOT``, comparisons, ``BETWEEN``, ``IN``, ``IS [NOT] NULL``, ``LIKE``, arithmetic, ``CASE WHEN``,
``COALESCE`` and ``NULLIF``. Anything else (casts, dialect functions, sub-queries) is refused, so a catalog that
runs here runs on Spark later (:func:`to_sql` with ``dialect="spark"``).

Parsed with sqlglot, a rule tells

* which fields it reads (:attr:`Rule.fields`, checked against the feature view before evaluation),
* whether two values of one tag overlap by definition (:func:`statically_overlap`, for conjunctions of simple
  comparisons on the same fields), and
* how to evaluate it on one Python row with SQL's three-valued logic (:func:`compile_python`, the row-by-row
  baseline of the benchmark and an independent check in the tests).

Example:
    >>> rule = parse_rule("recency_days > 30 AND recency_days <= 90")
    >>> sorted(rule.fields)
    ['recency_days']
    >>> f = compile_python(rule)
    >>> f({"recency_days": 31}), f({"recency_days": 30}), f({"recency_days": None})
    (True, False, None)
    >>> statically_overlap(parse_rule("recency_days <= 30"), parse_rule("recency_days BETWEEN 30 AND 90"))
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
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


# --- row-by-row evaluation (SQL three-valued logic) -------------------------------------------------------------
def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value.item() if hasattr(value, "item") and hasattr(value, "dtype") else value  # numpy scalar


def _compare(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool | None]:
    def apply(left: Any, right: Any) -> bool | None:
        if left is None or right is None:
            return None
        return bool(op(_num(left), _num(right)))
    return apply


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts) + r"\Z", re.S)


def _compile(node: exp.Expression) -> Callable[[dict[str, Any]], Any]:  # noqa: C901 - one branch per node type
    if isinstance(node, exp.Paren):
        return _compile(node.this)
    if isinstance(node, exp.Column):
        name = node.name
        return lambda row: _missing_to_none(row.get(name))
    if isinstance(node, exp.Literal):
        value: Any = node.this if node.is_string else (int(node.this) if re.fullmatch(r"-?\d+", node.this)
                                                       else float(node.this))
        return lambda row: value
    if isinstance(node, exp.Boolean):
        flag = bool(node.this)
        return lambda row: flag
    if isinstance(node, exp.Null):
        return lambda row: None
    if isinstance(node, exp.And):
        left, right = _compile(node.this), _compile(node.expression)

        def and_(row: dict[str, Any]) -> bool | None:
            a = left(row)
            if a is False:
                return False
            b = right(row)
            if b is False:
                return False
            return None if a is None or b is None else True
        return and_
    if isinstance(node, exp.Or):
        left, right = _compile(node.this), _compile(node.expression)

        def or_(row: dict[str, Any]) -> bool | None:
            a = left(row)
            if a is True:
                return True
            b = right(row)
            if b is True:
                return True
            return None if a is None or b is None else False
        return or_
    if isinstance(node, exp.Not):
        inner = _compile(node.this)
        return lambda row: None if (v := inner(row)) is None else not v
    comparisons = {exp.EQ: lambda a, b: a == b, exp.NEQ: lambda a, b: a != b, exp.GT: lambda a, b: a > b,
                   exp.GTE: lambda a, b: a >= b, exp.LT: lambda a, b: a < b, exp.LTE: lambda a, b: a <= b}
    if type(node) in comparisons:
        left, right, op = _compile(node.this), _compile(node.expression), _compare(comparisons[type(node)])
        return lambda row: op(left(row), right(row))
    if isinstance(node, exp.Between):
        this, low, high = _compile(node.this), _compile(node.args["low"]), _compile(node.args["high"])
        ge, le = _compare(lambda a, b: a >= b), _compare(lambda a, b: a <= b)

        def between(row: dict[str, Any]) -> bool | None:
            value = this(row)
            a, b = ge(value, low(row)), le(value, high(row))
            if a is False or b is False:
                return False
            return None if a is None or b is None else True
        return between
    if isinstance(node, exp.In):
        this, options = _compile(node.this), [_compile(v) for v in node.expressions]

        def in_(row: dict[str, Any]) -> bool | None:
            value = this(row)
            if value is None:
                return None
            values = [_num(o(row)) for o in options]
            if _num(value) in [v for v in values if v is not None]:
                return True
            return None if any(v is None for v in values) else False
        return in_
    if isinstance(node, exp.Is):
        this = _compile(node.this)
        if isinstance(node.expression, exp.Null):
            return lambda row: this(row) is None
        target = _compile(node.expression)
        return lambda row: this(row) is target(row)
    if isinstance(node, exp.Like):
        this, pattern = _compile(node.this), node.expression
        if not (isinstance(pattern, exp.Literal) and pattern.is_string):
            raise RuleError("LIKE needs a string literal pattern")
        regex = _like(pattern.this)
        return lambda row: None if (v := this(row)) is None else bool(regex.match(str(v)))
    arithmetic = {exp.Add: lambda a, b: a + b, exp.Sub: lambda a, b: a - b, exp.Mul: lambda a, b: a * b,
                  exp.Div: lambda a, b: None if b == 0 else a / b}
    if type(node) in arithmetic:
        left, right, op = _compile(node.this), _compile(node.expression), arithmetic[type(node)]

        def arith(row: dict[str, Any]) -> Any:
            a, b = _num(left(row)), _num(right(row))
            return None if a is None or b is None else op(a, b)
        return arith
    if isinstance(node, exp.Neg):
        inner = _compile(node.this)
        return lambda row: None if (v := _num(inner(row))) is None else -v
    if isinstance(node, exp.Case):
        branches = [(_compile(b.this), _compile(b.args["true"])) for b in node.args["ifs"]]
        default = _compile(node.args["default"]) if node.args.get("default") else (lambda row: None)

        def case(row: dict[str, Any]) -> Any:
            for condition, value in branches:
                if condition(row) is True:
                    return value(row)
            return default(row)
        return case
    if isinstance(node, exp.Coalesce):
        parts = [_compile(node.this)] + [_compile(e) for e in node.expressions]

        def coalesce(row: dict[str, Any]) -> Any:
            for part in parts:
                if (value := part(row)) is not None:
                    return value
            return None
        return coalesce
    if isinstance(node, exp.Nullif):
        left, right = _compile(node.this), _compile(node.expression)
        return lambda row: None if (a := left(row)) == right(row) else a
    raise RuleError(f"cannot evaluate {type(node).__name__} row by row")


def _missing_to_none(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    value = _num(value) if not isinstance(value, Decimal) else value
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def compile_python(rule: Rule) -> Callable[[dict[str, Any]], Any]:
    """A Python function of one row (a dict of field → value) giving what SQL would give for that row."""
    return _compile(rule.tree)
