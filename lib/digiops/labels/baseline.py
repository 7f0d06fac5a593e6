"""The same catalog evaluated row by row in pandas: the benchmark's baseline and an independent check.

Each customer row of the feature view becomes a dict and every rule is applied to it with SQL's three-valued logic
(:func:`digiops.labels.rules.compile_python`). Slow by design: it is what a notebook loop over customers costs.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from digiops.labels.catalog import Catalog, tag_rules
from digiops.labels.rules import compile_python


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
