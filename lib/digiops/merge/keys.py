"""Key links: fields that name a record of another source link their records with certainty.

A waybill names its order number, a receipt its member card, a platform order its buyer id, a mini-program order
the buyer's openid that the member table also carries. Such a key is better evidence than any resemblance of
names and phones (a masked order and its waybill share nothing readable but the order number), so the merge joins
records whose keys are equal before it asks the probabilistic model anything, whatever personal fields they carry.

Key spaces (each one a set of ``(source, field)`` ends whose equal values are one person):

* every ``merge.key_links`` entry (``from`` and ``to``), declared in the engagement file;
* every ``merge.customer_keys`` entry (a source's ``customer_key`` → a person source's field), and a
  ``customer_key`` no entry names, towards the person source whose member ids it hits most;
* a shipment's ``order_id`` → the order numbers of the online and mall orders sources (as the whole link joins
  them), and an order's ``refund_of`` → its own source's order number;
* every ``merge.identity_keys`` field (``unionid``, ``openid``, ``buyer_id``) across the person sources mapping it.

Keys are compared normalized (:func:`key_sql`): surrounding whitespace, a tab, apostrophe or ``="…"`` prefix and a
float's ``.0`` go; letter case and an all-digit key's leading zeros as the link says. Placeholders (``0``, ``-``,
``null``, ``无``) are no key. A key that finds no partner is counted (:func:`key_edges_sql`), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd

from digiops import engines
from digiops.settings.merge import MergeSettings
from digiops.sql import literal

#: Key values that name nothing (compared after normalization, lower case).
PLACEHOLDER_KEYS = ("", "0", "-", "--", "/", "null", "none", "nan", "n/a", "na", "无", "空", "暂无")
#: Columns of the counts :func:`key_edges_sql` returns.
COUNT_COLUMNS = ["link", "source", "field", "rows_with_key", "linked", "no_partner"]


@dataclass(frozen=True)
class KeySpace:
    """Ends whose equal normalized values are one person: ``from_ends`` are counted for partners found in
    ``to_ends`` (for an identity key, every end is both)."""

    label: str
    from_ends: tuple[tuple[str, str], ...]
    to_ends: tuple[tuple[str, str], ...]
    strip_leading_zeros: bool = True
    ignore_case: bool = True


def key_sql(expression: str, *, strip_leading_zeros: bool = True, ignore_case: bool = True) -> str:
    """SQL: the normalized key of a text expression, NULL for a missing or placeholder key.

    >>> import duckdb
    >>> raw = ["\\t00123", "123.0", "'123", '="123"', " AbC ", "-", "0", None]
    >>> [duckdb.sql(f"SELECT {key_sql(literal(v) if v is not None else 'NULL')}").fetchall()[0][0] for v in raw]
    ['123', '123', '123', '123', 'abc', None, None, None]
    """
    text = f"trim(CAST({expression} AS VARCHAR), ' \t\r\n\u3000')"
    text = f"regexp_replace({text}, '^(=\"|[''\"])|\"$', '', 'g')"
    text = f"trim({text}, ' \t\r\n\u3000')"
    text = f"regexp_replace({text}, '^([0-9]+)\\.0+$', '\\1')"
    if ignore_case:
        text = f"lower({text})"
    if strip_leading_zeros:
        text = (f"CASE WHEN regexp_full_match({text}, '[0-9]+') THEN ltrim({text}, '0') ELSE {text} END")
    placeholders = ", ".join(literal(p) for p in PLACEHOLDER_KEYS)
    return f"CASE WHEN {text} IS NULL OR lower({text}) IN ({placeholders}) THEN NULL ELSE {text} END"


def order_number(columns: list[str]) -> str:
    """The column that holds an orders source's order number: ``order_id`` when mapped, else ``_order`` (the
    number the lines of a line-grain source share), else its own ``record_id``."""
    return next(c for c in ("order_id", "_order", "record_id") if c in columns or c == "record_id")


def resolve_field(columns: list[str], field: str) -> str | None:
    """The cleaned column an end names: the field itself, or ``record_id`` (a source's own id)."""
    if field in columns:
        return field
    return field if field in ("record_id", "_order") else None


def key_spaces(settings: MergeSettings, kinds: dict[str, str], columns: dict[str, list[str]],
               channels: dict[str, str], customer_key_targets: dict[str, tuple[str, str]]) -> list[KeySpace]:
    """Every key space of an engagement (see the module's docstring).

    Args:
        kinds: source → kind, for the sources the merge prepared.
        columns: source → its cleaned columns.
        channels: orders source → channel (``store`` orders are not what a waybill names).
        customer_key_targets: source with a ``customer_key`` → the (source, field) its key names.
    """
    spaces = [KeySpace(f"{link.from_} → {link.to}", (link.ends[0],), (link.ends[1],), link.strip_leading_zeros,
                       link.ignore_case) for link in settings.key_links]
    for source, target in customer_key_targets.items():
        spaces.append(KeySpace(f"{source}.customer_key → {target[0]}.{target[1]}", ((source, "customer_key"),),
                               (target,)))
    orders = [n for n, k in kinds.items() if k == "orders"]
    numbered = [(n, order_number(columns[n])) for n in orders if channels.get(n) != "store"]
    for name, kind in kinds.items():
        if kind == "shipments" and "order_id" in columns[name] and numbered:
            spaces.append(KeySpace(f"{name}.order_id → orders", ((name, "order_id"),), tuple(numbered)))
        if kind == "orders" and "refund_of" in columns[name]:
            own = order_number(columns[name])
            spaces.append(KeySpace(f"{name}.refund_of → {name}.{own}", ((name, "refund_of"),), ((name, own),)))
    for field in settings.identity_keys:
        ends = tuple((n, field) for n in kinds if field in columns[n])
        if ends:
            spaces.append(KeySpace(field, ends, ends))
    return spaces


def key_edges_sql(con, spaces: list[KeySpace], scans: dict[str, str], columns: dict[str, list[str]],
                  record_key, engine: engines.EngineSettings | None = None) -> pd.DataFrame:
    """Create table ``key_edges`` (``unique_id_l`` → ``unique_id_r``: each record to the first record of its key
    group, in spaces where the key found a partner), from a work table ``key_records`` (``unique_id``, ``part``,
    ``space``, ``side``, ``k``: every record of every end with a key, test records left out; ``side`` 0 for a
    'from' end, 1 for a 'to' end, 2 for both) dropped again. Returns the counts per space, source and field
    (:data:`COUNT_COLUMNS`).

    ``record_key(row_sql)`` gives a record's integer id from its ``_row`` for a source (a callable per source).
    At a million people there are 27 M keys: the table holds only integers and the key (which end a row came from
    is its ``part``, looked up here), and a group's partners are told by its smallest and largest id, not by a
    distinct count. On Spark (``engine``) the executors make every table (:func:`digiops.engines.make_table`) and
    only the counts reach the driver.
    """
    parts, ends, selects = [], {}, []  # parts: (space, side, source, field, end); an end is normalized once
    for index, space in enumerate(spaces):
        # an identity key's ends are both sides: each is read once, as 'both'
        sides = (((2, space.from_ends),) if space.from_ends == space.to_ends
                 else ((0, space.from_ends), (1, space.to_ends)))
        for side, side_ends in sides:
            for source, field in dict.fromkeys(side_ends):
                column = resolve_field(columns.get(source, []), field)
                if column is None:
                    continue
                # an order number that two spaces name (a waybill's and a refund's) is normalized once
                end = (source, column, space.strip_leading_zeros, space.ignore_case)
                if end not in ends:
                    ends[end] = len(ends)
                    key = key_sql(f'"{column}"', strip_leading_zeros=space.strip_leading_zeros,
                                  ignore_case=space.ignore_case)
                    test = "coalesce(_test, false)" if "_test" in columns[source] else "false"
                    selects.append(f"SELECT {record_key[source]('_row')} AS unique_id, {ends[end]} AS e, {key} AS k "
                                   f"FROM {scans[source]} WHERE NOT {test}")
                parts.append((index, side, source, field, ends[end]))
    make = partial(engines.make_table, con, engine=engine)
    if not selects:
        make("key_records", "SELECT NULL::BIGINT AS unique_id, NULL::INTEGER AS part, NULL::INTEGER AS space, "
                            "NULL::UTINYINT AS side, NULL::VARCHAR AS k WHERE false")
    else:
        # Materialized first, then the keyless rows left out: a filter on k would evaluate the normalization again
        # (six times slower at 6.7 M keys).
        make("key_values", " UNION ALL ".join(selects))
        mapping = " UNION ALL ".join(f"SELECT {e} AS e, {part} AS part, {space} AS space, {side}::UTINYINT AS side"
                                     for part, (space, side, _, _, e) in enumerate(parts))
        make("key_records", f"SELECT v.unique_id, m.part, m.space, m.side, v.k "
                            f"FROM key_values v JOIN ({mapping}) m USING (e) WHERE v.k IS NOT NULL")
        engines.drop_table(con, "key_values")
    # A key group is the records of one space sharing a key, provided a 'to' end has it (a 'from' key alone is a
    # key without partner, however many 'from' rows share it).
    make("key_groups", """
        SELECT space, k, min(unique_id) AS anchor, min(unique_id) <> max(unique_id) AND bool_or(side <> 0) AS linked
        FROM key_records GROUP BY space, k""")
    make("key_edges", """
        SELECT DISTINCT g.anchor AS unique_id_l, r.unique_id AS unique_id_r
        FROM key_records r JOIN key_groups g USING (space, k) WHERE g.linked AND r.unique_id <> g.anchor""")
    # one row per source row and part: a count of rows is a count of records
    counted = engines.fetch(con, """
        SELECT r.part, count(*) AS rows_with_key, count(*) FILTER (WHERE g.linked) AS linked
        FROM key_records r JOIN key_groups g USING (space, k) WHERE r.side <> 1 GROUP BY r.part""", engine)
    for table in ("key_groups", "key_records"):
        engines.drop_table(con, table)
    counted.sort(key=lambda row: (parts[row[0]][0], parts[row[0]][2], parts[row[0]][3]))  # space, source, field
    rows = [{"link": spaces[parts[part][0]].label, "source": parts[part][2], "field": parts[part][3],
             "rows_with_key": int(with_key), "linked": int(linked), "no_partner": int(with_key - linked)}
            for part, with_key, linked in counted]
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)
