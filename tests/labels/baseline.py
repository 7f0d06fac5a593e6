"""The same catalog evaluated row by row in pandas: the benchmark's baseline and an independent check.

Each customer row of the feature view becomes a dict and every rule is applied to it with SQL's three-valued logic
(:func:`compile_python`). Slow by design: it is what a notebook loop over customers costs. Test and benchmark
code only: the product evaluates rules in SQL (:mod:`digiops.labels.evaluate`).

    >>> from digiops.labels.rules import parse_rule
    >>> f = compile_python(parse_rule("recency_days > 30 AND recency_days <= 90"))
    >>> f({"recency_days": 31}), f({"recency_days": 30}), f({"recency_days": None})
    (True, False, None)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlglot import exp

from digiops.labels.catalog import Catalog, tag_rules
from digiops.labels.rules import Rule, RuleError


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


def _plain(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return float(value) if isinstance(value, Decimal) else value


def evaluate_rows(features: pd.DataFrame, catalog: Catalog) -> pd.DataFrame:
    """customer_id + one column per catalog tag, computed one customer at a time."""
    compiled = []
    for tag in catalog.tags:
        rules = [(code, compile_python(rule)) for code, rule in tag_rules(tag)]
        compiled.append((tag.id, bool(tag.values), tag.output, rules))
    records = []
    columns = list(features.columns)
    for values in features.itertuples(index=False, name=None):
        row = {c: _plain(v) for c, v in zip(columns, values)}
        out = {"customer_id": row["customer_id"]}
        for tag_id, has_values, output, rules in compiled:
            if has_values:
                out[tag_id] = next((code for code, rule in rules if rule(row) is True), None)
            elif output == "flag":
                out[tag_id] = True if rules[0][1](row) is True else None
            else:
                out[tag_id] = rules[0][1](row)
        records.append(out)
    return pd.DataFrame.from_records(records, columns=["customer_id"] + [t.id for t in catalog.tags])
