"""Identity resolution: which source records are the same person (Splink 5, Fellegi–Sunter, DuckDB backend).

The steps (DOMAIN §1):

1. **Features** per record from the cleaned canonical fields: the name as Hanzi (``name_zh``, compared exactly —
   DuckDB's string distances count UTF-8 bytes, three per Hanzi), as pinyin keys (``name_keys``, every reading of
   a polyphonic surname) and as an ASCII pinyin string (``name_py``, the only fuzzy name comparison); phone
   (E.164), email, birth date, national id, gender, district (adcode for Chinese addresses, suburb otherwise), city,
   street key and postcode. A Latin-script person file uses the same features through its column mapping.
2. **Profiles**: records whose features are identical and include a phone, email or id are one profile; Splink
   sees each profile once (a buyer with 40 orders is one row, not 780 pairs).
3. **Model**: blocking rules generate candidate pairs; u probabilities from random sampling, m probabilities by
   EM on two blocking rules, term-frequency adjustments on Hanzi name, phone, email and district.
4. **Clusters**: pairs at or above the match threshold are clustered by connected components
   (:func:`cluster_profiles`), after a consultant's review decisions: a reviewed match adds a certain edge, a
   reviewed not-match removes the pair's own edge and is a cannot-link constraint (:func:`split_cannot_links`).

A client with fewer profiles than ``merge.min_profiles_for_model`` (a pilot export of three people) gets no model:
EM on a handful of pairs estimates nothing, and Splink's prior fails outright when no pair agrees on a
deterministic rule. Two profiles are linked instead when an exact rule says so (:data:`DETERMINISTIC_RULES`): the
same phone, e-mail or national id while their names do not disagree (both given, no pinyin reading in common, and
not a bare surname that agrees), or the same name (a shared pinyin key) and the same birth date. The
:class:`LinkModel` says which way the records were linked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from digiops import engines
from digiops.merge import normalize as nz

MATCH_FEATURES = ("name_zh", "name_py", "name_keys", "name_key", "surnames", "surname", "given_py", "name_partial",
                  "phone", "phone_mask", "phone_virtual", "email", "birth_date", "national_id", "gender", "district",
                  "city", "street_key", "postcode")
STRONG = ("phone", "email", "national_id")
#: link feature → columns it needs (the names a consultant uses in ``merge.link_fields``).
LINK_FEATURES = {"name": "name_py", "phone": "phone_mask", "email": "email", "birth_date": "birth_date",
                 "national_id": "national_id", "address": "district", "postcode": "postcode", "gender": "gender"}
# No rule on name and district alone: at a million people it made 13.4 M of the 19 M candidate pairs (common names
# in one district) for no change in accuracy; a pair that agrees on nothing but name and district rarely reaches the
# match threshold, and phone, birth date or street bring the real matches in under the other rules.
# A masked phone (138****5678) blocks with the surname it is usually shown with (张*): its seven visible digits
# alone would pair every stranger sharing them.
# Half a name with the birth date or the postcode finds the pairs whose other half has a typo (a Latin person file
# with no phone: a misspelt surname, a national id one digit off and a street written another way).
DEFAULT_BLOCKING = (["phone"], ["email"], ["national_id"], ["name_keys", "birth_date"], ["name_key", "postcode"],
                    ["street_key", "district"], ["street_key", "postcode"], ["phone_mask", "surnames"],
                    ["phone_virtual"], ["surname", "birth_date"], ["given_py", "birth_date"],
                    ["birth_date", "postcode"], ["surname", "postcode"], ["given_py", "postcode"])
# EM rules. Pairs sharing a phone *and* a birth date are rarely two family members (who share phone and address),
# so the name's m probabilities are not learnt from households; phone + name trains birth date and address on every
# kind of record (orders and shipments carry no birth date); name + street trains the phone. Splink keeps the
# median of each m over the sessions that estimated it.
EM_RULES = (["phone"], ["phone", "name_key"], ["name_key", "street_key"], ["national_id"],
            ["name_key", "birth_date"], ["email", "birth_date"], ["name_key", "postcode"], ["phone"])
EM_SESSIONS = 3
#: EM learns from the blocks of about this many profiles (a hash sample of the blocks above it).
EM_PROFILES = 500_000
#: Bounds of the m probability of "the names disagree in every reading and spelling": EM learns it from pairs
#: that share a phone (or whatever the first EM rule blocks on); where phones are compared it is kept within these
#: (−13.3 to −9 bits when u is near 1) so that a household (same phone and address, another name: 27.6 bits of
#: agreement against a prior near −15) stays apart, while an exact phone, birth date and address outweigh one
#: disagreeing name. Without phones (a Latin person file: typed names, nicknames, swapped fields) only the lower
#: bound holds, and the trained weight (−2 to −4 bits there) lets a national id, birth date and address outvote a
#: garbled name.
NAME_MISMATCH_M = (1e-4, 2e-3)
LIST_FEATURES = ("name_keys", "surnames")
#: Features the address comparison reads (it is null when one side has none of them).
ADDRESS_COLUMNS = ("district", "street_key", "city")
UID = "unique_id"
#: Fewer profiles than this and no model is trained (``merge.min_profiles_for_model``).
MIN_PROFILES_FOR_MODEL = 50
#: The rules that link a client too small for a model: name → SQL over a pair of profiles ``l`` and ``r``, and the
#: link features it needs. Names "disagree" when both are given, share no pinyin reading, and neither is a bare
#: surname (陈先生) that agrees with the other.
NAMES_DISAGREE = ("coalesce(l.name_keys IS NOT NULL AND r.name_keys IS NOT NULL "
                  "AND NOT list_has_any(l.name_keys, r.name_keys) "
                  "AND NOT coalesce((l.name_partial OR r.name_partial) AND list_has_any(l.surnames, r.surnames), "
                  "false), false)")
DETERMINISTIC_RULES: dict[str, tuple[str, tuple[str, ...]]] = {
    "same phone, names not disagreeing": (f"l.phone = r.phone AND NOT {NAMES_DISAGREE}", ("phone",)),
    "same e-mail, names not disagreeing": (f"l.email = r.email AND NOT {NAMES_DISAGREE}", ("email",)),
    "same national id, names not disagreeing": (f"l.national_id = r.national_id AND NOT {NAMES_DISAGREE}",
                                                ("national_id",)),
    "same name and birth date": ("list_has_any(l.name_keys, r.name_keys) AND l.birth_date = r.birth_date",
                                 ("name", "birth_date")),
}


#: Person fields the features are made of (the person table of :func:`features_sql` has these columns).
MATCH_INPUT_FIELDS = ("full_name", "given_name", "family_name", "phone", "phone_masked", "phone_virtual", "email",
                 "national_id", "gender", "district", "adcode", "city", "street_key", "postcode", "birth_date")
NAME_COLUMNS = ("name_zh", "name_keys", "name_key", "name_py", "surnames", "surname", "given_py", "name_partial",
                "name_pinyin")
#: The columns a name's features are computed from, once per distinct combination.
NAME_INPUT = ("full_name", "given_name", "family_name")


def name_table(names: list[str], given: list | None = None, family: list | None = None) -> pa.Table:
    """The name features (and the display pinyin) of each distinct cleaned name, computed once per name: a full
    name, or the given and family names of a source that maps them apart (kept apart: ``matthew`` is a given
    name, not the surname ``ma``)."""
    given = given if given is not None else [None] * len(names)
    family = family if family is not None else [None] * len(names)
    rows = [_name_features(n, g, f) for n, g, f in zip(names, given, family)]
    columns = list(zip(*rows)) if rows else [()] * len(NAME_COLUMNS)
    text, listed = pa.string(), pa.list_(pa.string())
    types = {"name_keys": listed, "surnames": listed, "name_partial": pa.bool_()}
    table = {"full_name": pa.array(names, type=text), "given_name": pa.array(given, type=text),
             "family_name": pa.array(family, type=text)}
    table.update({c: pa.array(list(v), type=types.get(c, text)) for c, v in zip(NAME_COLUMNS, columns)})
    return pa.table(table)


def _split_name(given: str | None, family: str | None) -> tuple[tuple[str, ...], str] | None:
    """(surname readings, given) of a Latin name given as two fields: each field's letters, lower case, without
    spaces or hyphens (``van Galen`` → ``vangalen``, ``Mary-Ann`` → ``maryann``); None when neither has any."""
    surname = "".join(nz.ascii_words(family)) if family else ""
    first = "".join(nz.ascii_words(given)) if given else ""
    if not surname and not first:
        return None
    return ((surname,) if surname else ()), first


def _name_features(name: str | None, given: str | None = None, family: str | None = None) -> tuple:
    """:data:`NAME_COLUMNS` of one cleaned name, from one parse (``name_pinyin`` is
    :func:`digiops.merge.normalize.name_pinyin`, for display). A Chinese name, or a name without separate given and
    family fields, is parsed from the full name."""
    split = (given or family) and not nz.has_cjk(f"{family or ''}{given or ''}")
    parsed = _split_name(given, family) if split else (nz.parse_clean_name(name) if name else None)
    if parsed is None:
        return (name if isinstance(name, str) and nz.has_cjk(name) else None,) + (None,) * 8
    readings, first = parsed
    if not readings:  # a given name without a family name
        return None, [first], first, first, None, None, first, False, first
    partial = first == ""
    key = readings[0] + first
    return (name if name and nz.has_cjk(name) and not partial else None,
            [r + first for r in dict.fromkeys(readings)], key, key, list(dict.fromkeys(readings)), readings[0],
            first or None, partial, f"{readings[0]} {first}".strip())


#: SQL (over the person table ``p``): what a masked phone shows, ``138*5678`` — the cleaned ``phone_masked`` of a
#: masked number, else the first three and last four digits of a Chinese mobile, so the two compare.
PHONE_MASK = ("coalesce(p.phone_masked, CASE WHEN regexp_full_match(p.phone, '[+]861[0-9]{10}') "
              "THEN substr(p.phone, 4, 3) || '*' || right(p.phone, 4) END)")


#: The row part of a :func:`record_key`.
ROW_MASK = (1 << 40) - 1


def record_key(position: str, row: str) -> str:
    """SQL for a record's integer id from its source's position and its row: Splink joins, samples and clusters
    64-bit integers faster than ``source:record_id`` text (at a million people, 3.4 M profiles and 4.5 M pairs)."""
    return f"(({position})::BIGINT << 40) + ({row})"


def _name_batches(batches):
    """:func:`name_table` of each Arrow batch of distinct names (a Spark task's ``mapInArrow``)."""
    for batch in batches:
        yield from name_table(*(batch.column(c).to_pylist() for c in NAME_INPUT)).to_batches()


def _names_on_spark(con, spark, distinct: str) -> None:
    """Table ``names`` (a DuckDB view and a Spark view, :func:`digiops.engines.spark_to_duckdb`) from the distinct
    names of the Spark query ``distinct``, their features computed by the executors (:func:`name_table` over Arrow
    batches): the driver's Python holds none of them."""
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(name_table([]).schema)
    tasks = max(2, spark.sparkContext.defaultParallelism)
    spark.sparkContext.setJobDescription("digiops merge: name features")
    named = spark.sql(distinct).repartition(tasks).mapInArrow(_name_batches, schema)
    engines.spark_to_duckdb(con, named, "names")


def features_sql(con, person: str, engine: engines.EngineSettings | None = None) -> None:
    """Create table ``features`` in DuckDB: one row per record of the ``person`` table (``source``,
    ``record_id``, ``kind``, ``_test``, ``_position`` and ``_row`` (the record's source and row as integers) and
    :data:`MATCH_INPUT_FIELDS`) with ``unique_id`` (:func:`record_key` of the record's position and row), the matching
    features and ``keep`` (the record takes part in matching).

    Every name feature is computed once per distinct name (:func:`name_table`), in table ``names``. A six-digit
    adcode names a district unambiguously and replaces the district text; a city-level code (…00) does not.

    On Spark (``engine``; ``person`` must then be a Spark view too) the executors compute the names, the features
    and the tables of :func:`profiles_sql`, and ``con`` gets views over the files they write.
    """
    distinct = (f"SELECT DISTINCT full_name, given_name, family_name FROM {person} "
                "WHERE coalesce(full_name, given_name, family_name) IS NOT NULL")
    if engine is not None and engine.is_spark:
        _names_on_spark(con, engines.spark_session(engine), engines.to_spark_sql(distinct))
    else:
        found = con.sql(distinct + " ORDER BY ALL").to_arrow_table()
        con.register("_names", name_table(*(found.column(c).to_pylist() for c in NAME_INPUT)))
        con.execute("CREATE OR REPLACE TABLE names AS SELECT * FROM _names")
        con.unregister("_names")
    engines.make_table(con, "features", f"""
        SELECT {record_key('p._position', 'p._row')} AS {UID}, p.source, p.record_id, p._position, p._row, p._test,
               n.name_zh, n.name_py, n.name_keys, n.name_key, n.surnames, n.surname, n.given_py, n.name_partial,
               p.phone, {PHONE_MASK} AS phone_mask, p.phone_virtual, p.email,
               strftime(p.birth_date, '%Y-%m-%d') AS birth_date, p.national_id, p.gender,
               CASE WHEN p.adcode IS NOT NULL AND NOT ends_with(p.adcode, '00') THEN p.adcode ELSE p.district END
                   AS district,
               p.city, p.street_key, p.postcode,
               NOT p._test AND (n.name_key IS NOT NULL OR p.phone IS NOT NULL OR p.email IS NOT NULL
                                OR p.national_id IS NOT NULL OR p.phone_masked IS NOT NULL
                                OR p.kind IN ('customers', 'leads')) AS keep
        FROM {person} p LEFT JOIN names n ON n.full_name IS NOT DISTINCT FROM p.full_name
             AND n.given_name IS NOT DISTINCT FROM p.given_name AND n.family_name IS NOT DISTINCT FROM p.family_name""",
                engine)


def profiles_sql(con, engine: engines.EngineSettings | None = None) -> None:
    """Collapse the kept records with identical features (and a strong identifier) into one profile.

    Creates table ``profile_of`` (``unique_id`` → ``profile``, the smallest ``unique_id`` of its group, and
    ``shared``, the records in that group; records without a strong identifier stay single: identical name + city
    is not enough to merge blindly; with each record's ``source``, ``record_id``, ``_position`` and ``_row``) and
    table ``profiles`` (one row per profile, its features those of the record it is named after). On Spark the
    executors make them (:func:`digiops.engines.make_table`).
    """
    signature = ", ".join(c for c in MATCH_FEATURES if c not in LIST_FEATURES)
    # Not a masked phone, even with a street: a household's members share the phone and the address, and two of
    # them masked to 王** are indistinguishable (collapsing them cost 0.3 points of B³ precision on the demo).
    strong = " OR ".join(f"{c} IS NOT NULL" for c in STRONG)
    # Grouped by a 64-bit hash of the signature beside the phone and name key: equal signatures always share a
    # group; unequal ones would need a hash collision *and* the same phone and name.
    engines.make_table(con, "profile_of", f"""
        SELECT {UID}, source, record_id, _position, _row,
               CASE WHEN {strong} THEN min({UID}) OVER same ELSE {UID} END AS profile,
               CASE WHEN {strong} THEN count(*) OVER same ELSE 1 END AS shared
        FROM features WHERE keep
        WINDOW same AS (PARTITION BY hash({signature}), phone, name_key)""", engine)
    # Stored in id order whatever the threads did: Splink's seeded samples then draw the same rows every run.
    con.execute("SET preserve_insertion_order = true")
    engines.make_table(con, "profiles", f"""
        SELECT {", ".join([UID, "source", *MATCH_FEATURES])} FROM features
        WHERE keep AND {UID} IN (SELECT profile FROM profile_of) ORDER BY {UID}""", engine)
    con.execute("SET preserve_insertion_order = false")


@dataclass
class LinkModel:
    """What Splink produced, besides the tables it leaves in the stage's DuckDB connection (``pairs``, every
    scored pair at or above the review band, and ``clusters``, profile → cluster): the pairs the report shows
    (filled in by the pipeline), the number of scored pairs and the trained model.

    ``method`` says how the records were linked: ``splink`` (the model) or ``deterministic`` (fewer than
    ``min_profiles`` profiles: the exact rules named in ``blocking_rules``, every linked pair at probability 1,
    no ``linker``)."""

    pairs: pd.DataFrame
    n_pairs: int = 0
    comparisons: list[str] = field(default_factory=list)
    blocking_rules: list[str] = field(default_factory=list)
    linker: object | None = None
    method: Literal["splink", "deterministic"] = "splink"
    n_profiles: int = 0
    min_profiles: int = MIN_PROFILES_FOR_MODEL
    #: the review decisions given to :func:`link_profiles` with ``applied``: how each was applied (:data:`APPLIED`)
    decisions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=[f"{UID}_l", f"{UID}_r", "decision", "applied"]))


def filled_counts(con, table: str, engine: engines.EngineSettings | None = None) -> dict[str, int]:
    """Non-null values per column of a profile table (``unique_id`` counts the profiles)."""
    columns = [c for c in [UID, *MATCH_FEATURES]]
    values = engines.fetch(con, f"SELECT {', '.join(f'count({c})' for c in columns)} FROM {table}", engine)[0]
    return dict(zip(columns, map(int, values)))


def available_features(filled: dict[str, int], link_fields: list[str] | None) -> list[str]:
    wanted = link_fields or list(LINK_FEATURES)
    return [f for f in wanted if f in LINK_FEATURES and filled.get(LINK_FEATURES[f], 0) >= 2]


def one_edit_sql(left: str, right: str) -> str:
    """SQL: the two texts are at most one edit apart (``damerau_levenshtein(left, right) <= 1``), with cheap tests
    in front that every such pair passes: lengths at most one apart, and the first or the last k characters equal
    (k = half the shorter length, less one; an edit — a character changed, inserted, removed, or two neighbours
    swapped — leaves the text on one side of it as it was). The distance itself costs microseconds a pair; at a
    million people the comparisons of two phones or names were two thirds of the scoring, and the tests let
    through one pair in five. The answer is the distance's, pair for pair.

    >>> import duckdb
    >>> pairs = [("zhangwei", "zhangwie"), ("13812345678", "13812345679"), ("liwei", "liuwei"), ("wangfang", "li")]
    >>> [duckdb.sql(f"SELECT {one_edit_sql(repr(a), repr(b))}").fetchall()[0][0] for a, b in pairs]
    [True, True, True, False]
    """
    k = f"greatest(least(length({left}), length({right})) // 2 - 1, 0)"
    return (f"(abs(length({left}) - length({right})) <= 1 AND (left({left}, {k}) = left({right}, {k}) "
            f"OR right({left}, {k}) = right({right}, {k})) AND damerau_levenshtein({left}, {right}) <= 1)")


def _level(sql: str, label: str, **extra) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*columns: str) -> dict:
    either = " OR ".join(f'("{c}_l" IS NULL OR "{c}_r" IS NULL)' for c in columns) if len(columns) == 1 else \
        " OR ".join(f"({' AND '.join(f'{c}_{side} IS NULL' for c in columns)})" for side in ("l", "r"))
    return _level(either, "null", is_null_level=True)


def agreement_u(con, table: str, columns: tuple[str, ...], among: tuple[str, ...],
                engine: engines.EngineSettings | None = None) -> float | None:
    """The u probability of "every one of ``columns`` filled and equal", counted over all pairs of ``table``'s
    rows rather than sampled: Σ n·(n − 1) over the groups of equal values, divided by m·(m − 1) for the m rows
    with any of ``among`` filled (the rows whose comparison is not null). None when no row has ``among`` filled.

    Splink samples u from random pairs. The same street in the same district is so rare (7e-7 at a million people)
    that 2 million sampled pairs see it about once and often not at all; unseen, the level falls back to Splink's
    default u (9e-4), its weight drops from 17 to 8 bits and a third of the true matches go with it."""
    keys = ", ".join(columns)
    any_filled = " OR ".join(f"{c} IS NOT NULL" for c in among)
    all_filled = " AND ".join(f"{c} IS NOT NULL" for c in columns)
    rows, same = engines.fetch(con, f"""
        WITH compared AS (SELECT {keys} FROM {table} WHERE {any_filled}),
             groups AS (SELECT count(*) AS n FROM compared WHERE {all_filled} GROUP BY {keys})
        SELECT (SELECT count(*) FROM compared), (SELECT sum(n * (n - 1)) FROM groups)""", engine)[0]
    return float(same or 0) / (rows * (rows - 1)) if rows > 1 else None


def comparisons_for(features: list[str], filled: dict[str, int], street_u: float | None = None,
                    mask_u: float | None = None) -> list[dict]:
    """Splink comparisons for the available features (Hanzi exact, everything fuzzy on ASCII only).

    ``street_u`` fixes the u probability of "same street address in the same district" and ``mask_u`` that of
    "the digits a masked phone shows agree" (:func:`agreement_u`: both too rare for a sample to see)."""
    has = {c: filled.get(c, 0) > 0 for c in MATCH_FEATURES if c not in LIST_FEATURES}
    out: list[dict] = []
    if "name" in features:
        levels = [_null("name_py")]
        if has["name_zh"]:
            levels.append(_level('"name_zh_l" = "name_zh_r"', "Hanzi name exact", tf_adjustment_column="name_zh",
                                 tf_adjustment_weight=1.0))
        levels += [_level("(name_partial_l OR name_partial_r) AND list_has_any(surnames_l, surnames_r)",
                          "one side gives only the surname (a title such as 先生 or 女士), and it agrees"),
                   _level("list_has_any(name_keys_l, name_keys_r)", "same pinyin (any surname reading)"),
                   _level("jaro_winkler_similarity(surname_l, given_py_r) >= 0.9 AND "
                          "jaro_winkler_similarity(surname_r, given_py_l) >= 0.9",
                          "given and family name swapped (Jaro-Winkler >= 0.9 each)"),
                   _level(one_edit_sql("name_py_l", "name_py_r"), "one letter off"),
                   _level("list_has_any(surnames_l, surnames_r) AND "
                          "jaro_winkler_similarity(given_py_l, given_py_r) >= 0.88",
                          "same surname, given name Jaro-Winkler >= 0.88"),
                   _level("list_has_any(surnames_l, surnames_r) AND (length(given_py_l) = 1 OR "
                          "length(given_py_r) = 1) AND left(given_py_l, 1) = left(given_py_r, 1)",
                          "same surname, one given name is the other's initial"),
                   _level("given_py_l = given_py_r AND jaro_winkler_similarity(surname_l, surname_r) >= 0.88",
                          "same given name, surname Jaro-Winkler >= 0.88"),
                   _level("jaro_winkler_similarity(name_py_l, name_py_r) >= 0.92", "pinyin Jaro-Winkler >= 0.92"),
                   _level("jaro_winkler_similarity(surname_l, surname_r) >= 0.88 AND "
                          "jaro_winkler_similarity(given_py_l, given_py_r) >= 0.88",
                          "surname and given name each Jaro-Winkler >= 0.88"),
                   # Learnt, then bounded (NAME_MISMATCH_M, see bound_name_mismatch): family members share a
                   # phone and an address, so pairs agreeing on both but not on the name look like matches to EM
                   # (which assumes the features independent); nicknames and placeholders are no names at all
                   # (cleaning makes them missing), so a name that agrees in no reading and no spelling is rare
                   # for one person, but not a veto.
                   _level("ELSE", "else", m_probability=NAME_MISMATCH_M[0])]
        out.append({"output_column_name": "name", "comparison_levels": levels})
    if "phone" in features:
        # A privacy number (a number plus extension, a virtual segment) says nothing about the buyer's own phone:
        # it is compared only with another privacy number, and two different ones are no evidence (each order
        # gets its own). A masked number compares by the digits it shows.
        compared = ("(phone_mask_l IS NOT NULL AND phone_mask_r IS NOT NULL) OR "
                    "coalesce(phone_virtual_l = phone_virtual_r, false)")
        levels = [_level(f"NOT ({compared})", "null", is_null_level=True),
                  _level("phone_l = phone_r", "exact", tf_adjustment_column="phone", tf_adjustment_weight=1.0),
                  _level(one_edit_sql("phone_l", "phone_r"), "one digit off")]
        if has["phone_mask"]:
            fixed = {"u_probability": mask_u, "fix_u_probability": True} if mask_u else {}
            levels.append(_level("phone_mask_l = phone_mask_r", "the digits a masked number shows agree", **fixed))
        if has["phone_virtual"]:
            levels.append(_level("phone_virtual_l = phone_virtual_r", "same privacy number"))
        levels.append(_level("ELSE", "else"))
        out.append({"output_column_name": "phone", "comparison_levels": levels})
    if "email" in features:
        out.append({"output_column_name": "email", "comparison_levels": [
            _null("email"), _level("email_l = email_r", "exact", tf_adjustment_column="email",
                                   tf_adjustment_weight=1.0),
            _level("split_part(email_l, '@', 1) = split_part(email_r, '@', 1)", "same user name"),
            _level("jaro_winkler_similarity(email_l, email_r) >= 0.88", "Jaro-Winkler >= 0.88"),
            _level("ELSE", "else")]})
    if "birth_date" in features:
        out.append({"output_column_name": "birth_date", "comparison_levels": [
            _null("birth_date"), _level("birth_date_l = birth_date_r", "exact"),
            _level(one_edit_sql("birth_date_l", "birth_date_r") + " OR (substr(birth_date_l, 1, 4) = "
                   "substr(birth_date_r, 1, 4) AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) AND "
                   "substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2))", "one digit off or day/month swapped"),
            _level("substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)", "same year"),
            _level("ELSE", "else")]})
    if "national_id" in features:
        out.append({"output_column_name": "national_id", "comparison_levels": [
            _null("national_id"), _level("national_id_l = national_id_r", "exact"),
            _level(one_edit_sql("national_id_l", "national_id_r"), "one character off"),
            _level("ELSE", "else")]})
    if "address" in features:
        levels = [_null(*ADDRESS_COLUMNS)]
        if has["street_key"]:
            fixed = {"u_probability": street_u, "fix_u_probability": True} if street_u else {}
            levels.append(_level("street_key_l = street_key_r AND district_l = district_r",
                                 "same street address in the same district", **fixed))
            levels.append(_level("street_key_l = street_key_r", "same street address"))
            # a typo or a building written another way (DuckDB compares UTF-8 bytes: three per Hanzi, so one
            # character off in a 15-character street still scores above 0.9)
            levels.append(_level("district_l = district_r AND "
                                 "jaro_winkler_similarity(street_key_l, street_key_r) >= 0.9",
                                 "similar street address (Jaro-Winkler >= 0.9) in the same district"))
        levels += [_level("district_l = district_r", "same district", tf_adjustment_column="district",
                          tf_adjustment_weight=1.0)]
        if has["street_key"]:
            levels.append(_level("jaro_winkler_similarity(street_key_l, street_key_r) >= 0.9",
                                 "similar street address (Jaro-Winkler >= 0.9), district differs or missing"))
        if has["city"]:
            levels.append(_level("city_l = city_r", "same city"))
        levels.append(_level("ELSE", "else"))
        out.append({"output_column_name": "address", "comparison_levels": levels})
    if "postcode" in features:
        out.append({"output_column_name": "postcode", "comparison_levels": [
            _null("postcode"), _level("postcode_l = postcode_r", "exact", tf_adjustment_column="postcode",
                                      tf_adjustment_weight=1.0), _level("ELSE", "else")]})
    if "gender" in features:
        out.append({"output_column_name": "gender", "comparison_levels": [
            _null("gender"), _level("gender_l = gender_r", "exact"), _level("ELSE", "else")]})
    return out


def bound_name_mismatch(linker, upper: bool = True) -> float | None:
    """Keep the trained m probability of "the names disagree" within :data:`NAME_MISMATCH_M` (above its lower
    bound only, without ``upper``); returns it."""
    low, high = NAME_MISMATCH_M
    high = high if upper else 1.0
    for comparison in linker._settings_obj.comparisons:
        if comparison.output_column_name == "name":
            level = comparison.comparison_levels[-1]
            m = level.m_probability
            level.m_probability = min(max(m if isinstance(m, float) else low, low), high)
            return level.m_probability
    return None


def _rule_sql(rule: list[str] | str) -> str:
    if isinstance(rule, str):
        return rule
    return " AND ".join(f'l."{c}" = r."{c}"' for c in rule)


def _rule(rule: list[str] | str):
    """A Splink blocking rule: SQL as given, or ``block_on`` the columns (list columns exploded)."""
    from splink import block_on

    if isinstance(rule, str):
        return rule
    exploded = [c for c in rule if c in LIST_FEATURES]
    return block_on(*rule, arrays_to_explode=exploded) if exploded else block_on(*rule)


def blocking_rules_for(filled: dict[str, int], rules: list[list[str] | str] | None) -> list:
    """The blocking rules whose columns exist and are filled (custom SQL strings are taken as given)."""
    chosen = []
    for rule in (rules if rules is not None else DEFAULT_BLOCKING):
        if isinstance(rule, str) or all(filled.get(c, 0) > 0 for c in rule):
            chosen.append(rule)
    return chosen


def _spark_comparisons(comparisons: list[dict]) -> list[dict]:
    """The comparisons with each level's DuckDB condition rewritten for Spark SQL (``ELSE`` stays)."""
    return [{**c, "comparison_levels": [
        {**level, "sql_condition": level["sql_condition"] if level["sql_condition"] == "ELSE"
         else engines.to_spark_sql(level["sql_condition"])} for level in c["comparison_levels"]]} for c in comparisons]


def _components(con, nodes: str, edges: str, out: str, engine: engines.EngineSettings | None = None) -> None:
    """Connected components: ``nodes`` is SQL giving ``unique_id``, ``edges`` SQL giving ``unique_id_l,
    unique_id_r``; creates table ``out`` (``profile`` → ``cluster``, the smallest node id of its component).
    On Spark both queries read Spark views (:func:`digiops.engines.make_table`), and ``out`` is one.

    On DuckDB the graph is solved in memory by SciPy (:func:`scipy.sparse.csgraph.connected_components`: at a
    million people 7 M nodes and 16 M edges take seconds, where Splink's iterative SQL took 9 s per call); on Spark
    by Splink's clustering on the cluster, the same labels."""
    if engine is not None and engine.is_spark:
        from splink.clustering import cluster_pairwise_predictions_at_threshold

        db_api = engines.splink_db_api(engine)
        spark = engines.spark_session(engine)
        found = cluster_pairwise_predictions_at_threshold(
            spark.sql(engines.to_spark_sql(nodes)), spark.sql(engines.to_spark_sql(edges)), db_api=db_api,
            node_id_column_name=UID).as_spark_dataframe()
        engines.spark_to_duckdb(con, found.selectExpr(f"{UID} AS profile", "cluster_id AS cluster"), out)
        return
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    # Node ids are record keys (record_key: source position << 40, plus row): each maps to a slot of a dense
    # range, source after source, by arithmetic alone, and slot order is id order. A node listed twice is one slot.
    node_ids = con.sql(nodes).fetchnumpy()[UID].astype("int64")
    node_positions = node_ids >> 40
    sizes = np.zeros(int(node_positions.max()) + 1 if len(node_ids) else 1, dtype="int64")
    for position in np.unique(node_positions):
        sizes[position] = (node_ids[node_positions == position] & ROW_MASK).max() + 1
    offsets = np.concatenate([[0], np.cumsum(sizes)])

    def slots(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        position, row = np.minimum(ids >> 40, len(sizes) - 1), ids & ROW_MASK
        inside = (ids >> 40 < len(sizes)) & (row < sizes[position])
        return np.where(inside, offsets[position] + row, 0), inside

    is_node = np.zeros(int(offsets[-1]), dtype=bool)
    is_node[slots(node_ids)[0]] = True
    pairs = con.sql(f"SELECT {UID}_l, {UID}_r FROM ({edges})").fetchnumpy()
    (left, left_in), (right, right_in) = (slots(pairs[f"{UID}_{side}"].astype("int64")) for side in ("l", "r"))
    # an edge to an id that is no node joins nothing (as in Splink's clustering)
    known = left_in & right_in & is_node[left] & is_node[right]
    graph = coo_array((np.ones(int(known.sum()), dtype=np.int8), (left[known], right[known])),
                      shape=(len(is_node), len(is_node)))
    label = connected_components(graph, directed=False)[1]
    node_slots = np.flatnonzero(is_node)
    position = np.searchsorted(offsets, node_slots, side="right") - 1
    ids = (position << 40) + node_slots - offsets[position]
    node_label = label[node_slots]
    _, first = np.unique(node_label, return_index=True)  # slots ascend: a component's first node is its smallest id
    smallest = np.zeros(int(label.max()) + 1 if len(label) else 0, dtype="int64")
    smallest[node_label[first]] = ids[first]
    clusters = smallest[node_label]
    con.register("_found", pa.table({"profile": ids, "cluster": clusters}))
    con.execute(f"CREATE OR REPLACE TABLE {out} AS SELECT * FROM _found")
    con.unregister("_found")


def constrained_components(nodes: list, edges: pd.DataFrame, cannot_link: list[tuple]) -> dict:
    """Node → part: the components of ``edges`` (``unique_id_l``, ``unique_id_r``, ``p``, ``certain``) joined
    strongest first — certain edges, then by probability, ties by the smaller ids — skipping every edge that would
    put the two nodes of a ``cannot_link`` pair in one part. A part is named after its smallest node.

    On a path A–B–C with A–C cannot-link, the weaker of A–B and B–C is cut: B stays with whom it resembles most.

    >>> edges = pd.DataFrame({"unique_id_l": [1, 2], "unique_id_r": [2, 3], "p": [0.99, 0.97],
    ...                       "certain": [False, False]})
    >>> constrained_components([1, 2, 3], edges, [(1, 3)])
    {1: 1, 2: 1, 3: 3}
    """
    parent = {n: n for n in nodes}
    members = {n: {n} for n in nodes}
    forbidden = {n: set() for n in nodes}
    for a, b in cannot_link:
        if a in parent and b in parent:
            forbidden[a].add(b)
            forbidden[b].add(a)

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    ordered = edges.assign(_uncertain=~edges["certain"].astype(bool), _p=-edges["p"].astype(float)).sort_values(
        ["_uncertain", "_p", f"{UID}_l", f"{UID}_r"])
    for left, right in zip(ordered[f"{UID}_l"], ordered[f"{UID}_r"]):
        a, b = root(left), root(right)
        if a == b or members[b] & forbidden[a]:
            continue
        if len(members[a]) < len(members[b]):
            a, b = b, a
        parent[b] = a
        members[a] |= members.pop(b)
        forbidden[a] |= forbidden.pop(b)
    return {n: min(members[root(n)]) for n in nodes}


def split_cannot_links(con, cannot_link: pd.DataFrame, engine: engines.EngineSettings | None = None) -> int:
    """Keep apart the two profiles of every reviewed not-match (``cannot_link``: ``unique_id_l``,
    ``unique_id_r``) that table ``clusters`` puts in one cluster, whatever path of other links connects them.

    The rule: a cluster holding such a pair is built again from its own ``edges``, strongest first, leaving out each
    edge that would join a not-match pair (:func:`constrained_components`) — the weakest links between the two are
    cut and every other member stays with the records it links to most strongly. Key links and reviewed matches are
    the strongest edges, and still give way to a not-match: the consultant's decision is the last word. Only such
    clusters change; each part keeps the cluster's id when it holds that profile, else takes its smallest profile's.
    Returns the number of clusters split."""
    pairs = cannot_link[[f"{UID}_l", f"{UID}_r"]].dropna().astype("int64")
    pairs = pairs[pairs[f"{UID}_l"] != pairs[f"{UID}_r"]]  # one profile cannot be split (``identical``)
    con.register("_cannot", pairs)
    together = [c for (c,) in con.execute(f"""
        SELECT DISTINCT a.cluster FROM _cannot n JOIN clusters a ON a.profile = n.{UID}_l
        JOIN clusters b ON b.profile = n.{UID}_r WHERE a.cluster = b.cluster""").fetchall()]
    con.unregister("_cannot")
    if not together:
        return 0
    con.register("_together", pd.DataFrame({"cluster": together}))
    members = con.execute("SELECT profile, cluster FROM clusters SEMI JOIN _together USING (cluster)").df()
    edges = con.execute(f"""
        SELECT e.{UID}_l, e.{UID}_r, e.p, e.certain FROM edges e
        JOIN clusters a ON a.profile = e.{UID}_l JOIN clusters b ON b.profile = e.{UID}_r
        WHERE a.cluster = b.cluster AND a.cluster IN (SELECT cluster FROM _together)""").df()
    con.unregister("_together")
    part = constrained_components(members["profile"].tolist(), edges, list(pairs.itertuples(index=False, name=None)))
    members["part"] = members["profile"].map(part)
    # the part holding the cluster's own id keeps it; the others are named after their smallest profile
    keeps = members[members["profile"] == members["cluster"]].set_index("part")["cluster"]
    members["new"] = members["part"].map(keeps).fillna(members["part"]).astype("int64")
    changed = members[members["new"] != members["cluster"]][["profile", "new"]]
    if len(changed):
        engines.register(con, "_split", changed, engine)
        engines.make_table(con, "clusters", "SELECT c.profile, coalesce(s.new, c.cluster) AS cluster "
                                            "FROM clusters c LEFT JOIN _split s ON s.profile = c.profile", engine)
        con.unregister("_split")
    return len(together)


#: How a review decision was applied (``LinkModel.decisions.applied``): ``linked`` (a match joined two records the
#: run had apart), ``cannot_link`` (a not-match kept apart two records the run had joined), ``agreed`` (the run
#: without the decision said the same), ``unsure`` (no decision: the run's result stands), ``overridden`` (a match a
#: not-match on other records keeps apart), ``identical`` (a not-match between records that share one profile:
#: identical features, not separable), ``not_found`` (a record is not in this run's matching: gone from the
#: exports, or a staff test order).
APPLIED = ("linked", "cannot_link", "agreed", "unsure", "overridden", "identical", "not_found")


def applied_codes(decisions: pd.DataFrame, before: dict, after: dict) -> list[str]:
    """How each decision (profile ids, ``decision``) was applied, from the profiles' clusters without any decision
    (``before``) and with all of them (``after``): one of :data:`APPLIED`.

    >>> decisions = pd.DataFrame({"unique_id_l": [1, 1, 4, 7], "unique_id_r": [2, 3, 5, None],
    ...                           "decision": ["match", "not-match", "not-match", "match"]})
    >>> applied_codes(decisions, {1: 1, 2: 2, 3: 1, 4: 4, 5: 6}, {1: 1, 2: 1, 3: 3, 4: 4, 5: 6})
    ['linked', 'cannot_link', 'agreed', 'not_found']
    """
    codes = []
    for left, right, decision in zip(decisions[f"{UID}_l"], decisions[f"{UID}_r"], decisions["decision"]):
        if pd.isna(left) or pd.isna(right) or left not in after or right not in after:
            codes.append("not_found")
        elif decision == "unsure":
            codes.append("unsure")
        elif left == right:
            codes.append("agreed" if decision == "match" else "identical")
        elif (before[left] == before[right]) == (decision == "match"):
            codes.append("agreed")
        elif decision == "match":
            codes.append("linked" if after[left] == after[right] else "overridden")
        else:
            codes.append("cannot_link")
    return codes


#: A mobile number shared by more profiles than this is no personal number (a shop's, a placeholder someone
#: invented): :func:`same_mobile_sql` leaves it to the model.
MOBILE_GROUP_MAX = 60


def same_mobile_sql(table: str, threshold: float) -> str:
    """SQL: the pairs of profiles of ``table`` with the same (unmasked, not virtual) mobile number whose names and
    birth dates do not disagree, as accepted edges (``unique_id_l, unique_id_r, p, certain``) at ``threshold``.

    The practical key of Chinese retail: a lead that left only a phone and a nickname, or a surname and a title,
    shares nothing else with the buyer's member record, and the model cannot reach the threshold on one field
    however rare. Two different full names or two different birth dates on one phone are a household or a recycled
    number and are not linked; such records stay with whoever they resemble most (:func:`cluster_profiles` lets a
    nameless record join one customer, never bridge two)."""
    return f"""
        WITH grouped AS (
            SELECT {UID}, phone, name_keys, name_partial, surnames, birth_date,
                   count(*) OVER (PARTITION BY phone) AS sharing
            FROM {table} WHERE phone IS NOT NULL)
        SELECT l.{UID}, r.{UID}, {float(threshold)!r}, false
        FROM grouped l JOIN grouped r ON l.phone = r.phone AND l.{UID} < r.{UID}
        WHERE l.sharing <= {MOBILE_GROUP_MAX} AND NOT {NAMES_DISAGREE}
              AND NOT coalesce(l.birth_date <> r.birth_date, false)"""


def cluster_profiles(con, table: str, engine: engines.EngineSettings | None = None,
                     extra_nodes: str | None = None) -> None:
    """Clusters of the profiles of ``table`` (and the records of ``extra_nodes``, records without a profile that a
    key links) from table ``edges`` (``unique_id_l``, ``unique_id_r``, ``p``: the pair's match probability,
    ``certain``: a key link or a reviewed match): creates table ``clusters`` (``profile`` → ``cluster``).

    A record without a name of its own (a masked ``张*``, a nickname, a proxy receiver, a waybill with only a
    phone) is weak evidence: it agrees with everyone who shares its phone and address, so in plain connected
    components it bridges a household's members into one customer. Clustering runs in two passes:

    1. components over the certain edges and the accepted pairs of two named profiles;
    2. a component without any named profile joins the one named component it links to most strongly (its best
       pair), never two; a nameless component that links to no named one joins the nameless components it links
       to, or through them the named component they joined.
    """
    make = partial(engines.make_table, con, engine=engine)
    nodes = f"SELECT {UID} FROM {table}" + (f" UNION ALL SELECT {UID} FROM {extra_nodes}" if extra_nodes else "")
    make("named", f"SELECT {UID} FROM {table} WHERE name_key IS NOT NULL AND NOT coalesce(name_partial, false)")
    _components(con, nodes, f"""SELECT {UID}_l, {UID}_r FROM edges e WHERE certain
                                OR ({UID}_l IN (SELECT {UID} FROM named) AND {UID}_r IN (SELECT {UID} FROM named))""",
                "first_pass", engine)
    make("component_named", f"""
        SELECT c.cluster, bool_or(n.{UID} IS NOT NULL) AS named
        FROM first_pass c LEFT JOIN named n ON n.{UID} = c.profile GROUP BY 1""")
    make("component_links", f"""
        WITH crossing AS (
            SELECT a.cluster AS ca, b.cluster AS cb, e.p FROM edges e
            JOIN first_pass a ON a.profile = e.{UID}_l JOIN first_pass b ON b.profile = e.{UID}_r
            WHERE NOT e.certain AND a.cluster <> b.cluster)
        SELECT d.src, d.dst, d.p, s.named AS src_named, t.named AS dst_named
        FROM (SELECT ca AS src, cb AS dst, p FROM crossing UNION ALL SELECT cb, ca, p FROM crossing) d
        JOIN component_named s ON s.cluster = d.src JOIN component_named t ON t.cluster = d.dst""")
    # a nameless component joins its strongest named neighbour, else the one its nameless neighbour joined
    make("attached_named", """SELECT src, arg_max(dst, (p, -dst)) AS dst FROM component_links
                              WHERE NOT src_named AND dst_named GROUP BY src""")
    make("attached", """
        SELECT src, dst FROM attached_named
        UNION ALL
        SELECT src, arg_max(dst, (p, -dst)) FROM (
            SELECT l.src, a.dst, l.p FROM component_links l JOIN attached_named a ON a.src = l.dst
            WHERE NOT l.src_named AND l.src NOT IN (SELECT src FROM attached_named))
        GROUP BY src""")
    _components(con, f"SELECT DISTINCT cluster AS {UID} FROM first_pass", f"""
        SELECT src AS {UID}_l, dst AS {UID}_r FROM attached
        UNION ALL
        SELECT src, dst FROM component_links
        WHERE NOT src_named AND NOT dst_named AND src < dst
              AND src NOT IN (SELECT src FROM attached) AND dst NOT IN (SELECT src FROM attached)""",
                "second_pass", engine)
    make("clusters", "SELECT f.profile, s.cluster FROM first_pass f JOIN second_pass s ON s.profile = f.cluster")
    for name in ("named", "first_pass", "component_named", "component_links", "attached_named", "attached",
                 "second_pass"):
        engines.drop_table(con, name)


def deterministic_rules(features: list[str]) -> dict[str, str]:
    """The :data:`DETERMINISTIC_RULES` whose link features are all available (a name rule only with ``name``);
    a rule that reads the names to see that they do not disagree reads them only when ``name`` is available."""
    chosen = {}
    for label, (sql, needs) in DETERMINISTIC_RULES.items():
        if all(f in features for f in needs):
            chosen[label] = sql if "name" in features else sql.replace(f" AND NOT {NAMES_DISAGREE}", "")
    return chosen


def link_deterministically(con, table: str, features: list[str],
                           engine: engines.EngineSettings | None = None) -> list[str]:
    """Create table ``pairs`` in ``con``: every two profiles of ``table`` one of :func:`deterministic_rules`
    links, at match probability 1 (no match weight, no comparison levels). Returns the rules' names.

    Every pair of profiles is compared: this runs only below ``merge.min_profiles_for_model`` profiles."""
    rules = deterministic_rules(features)
    condition = " OR ".join(f"({sql})" for sql in rules.values()) or "false"
    engines.make_table(con, "pairs", f"""
        SELECT l.{UID} AS {UID}_l, r.{UID} AS {UID}_r, 1.0::DOUBLE AS match_probability,
               NULL::DOUBLE AS match_weight
        FROM {table} l JOIN {table} r ON l.{UID} < r.{UID} AND coalesce({condition}, false)""", engine)
    return list(rules)


def _pair_columns(columns: list[str]) -> list[str]:
    return [c for c in columns if c in (f"{UID}_l", f"{UID}_r", "match_probability", "match_weight")
            or c.startswith("gamma_")]


def key_copies_sql(table: str, components: str) -> str:
    """SQL: the ``unique_id`` of every profile of ``table`` with the very same features as another profile of its
    key component (``components``: ``profile`` → ``cluster`` over the key links), all but the smallest id of each.

    A buyer's repeat orders masked alike (``王**``, ``138****5678``, one address) are profiles of their own (a
    masked record never collapses into a profile: a household's members mask the same), yet their order numbers
    and buyer id already join them with certainty. Scoring one of them scores all: any other profile compares with
    each copy exactly as with the one kept, in the same blocks and at the same levels."""
    features = ", ".join(MATCH_FEATURES)
    return f"""
        SELECT {UID} FROM (
            SELECT p.{UID}, row_number() OVER (PARTITION BY k.cluster, {features} ORDER BY p.{UID}) AS nth
            FROM {table} p JOIN {components} k ON k.profile = p.{UID})
        WHERE nth > 1"""


def _cross_component_scorer(con, db_api, linker, table: str, key_edges: str, comparisons: list[dict],
                            decisions: pd.DataFrame | None, engine: engines.EngineSettings | None):
    """A linker with ``linker``'s trained model that scores only the pairs that can change a cluster: none inside
    one key component (the key links join them with certainty), none of a key-linked copy (:func:`key_copies_sql`)
    — unless a review decision names it. At a million people that is a third of the candidate pairs.

    Each blocking rule gets ``l._component <> r._component`` (a profile's key component, or the profile itself
    when no key links it), so the pairs inside a component are never built: the join still meets them, but they
    are neither written nor joined to the components afterwards (37 M such pairs at a million people).

    The model was trained on every profile (the mix of duplicates is part of its calibration); the scoring uses
    the term frequencies of every profile. Leaves table ``key_components`` (``profile`` → ``cluster``) and
    ``copies`` in ``con``."""
    from splink import Linker

    on_spark = engine is not None and engine.is_spark
    _components(con, f"SELECT {UID}_l AS {UID} FROM {key_edges} UNION ALL SELECT {UID}_r FROM {key_edges}",
                f"SELECT {UID}_l, {UID}_r FROM {key_edges}", "key_components", engine)
    copies = key_copies_sql(table, "key_components")
    if decisions is not None and len(decisions):  # a profile a decision names is scored, whatever it copies
        named = pd.concat([decisions[f"{UID}_l"], decisions[f"{UID}_r"]]).dropna().astype("int64")
        engines.register(con, "_named", pd.DataFrame({UID: named.unique()}), engine)
        copies = f"SELECT {UID} FROM ({copies}) ANTI JOIN _named USING ({UID})"
    engines.make_table(con, "copies", copies, engine)
    if decisions is not None and len(decisions):
        con.unregister("_named")
    scored = (f"SELECT p.*, coalesce(k.cluster, p.{UID}) AS _component FROM {table} p "
              f"LEFT JOIN key_components k ON k.profile = p.{UID} ANTI JOIN copies c ON c.{UID} = p.{UID}")
    if on_spark:
        scored_sdf = db_api.register(db_api.spark.sql(engines.to_spark_sql(scored)), table_name="person_scored")
    else:
        con.execute(f"CREATE OR REPLACE TEMP VIEW scored_profiles AS {scored}")
        scored_sdf = db_api.register("scored_profiles")
    model = linker.misc.save_model_to_json()
    model["blocking_rules_to_generate_predictions"] = [
        {**rule, "blocking_rule": f"({rule['blocking_rule']}) AND l._component <> r._component"}
        for rule in model["blocking_rules_to_generate_predictions"]]
    scorer = Linker(scored_sdf, model, log_level=logging.ERROR)
    for column in sorted({level["tf_adjustment_column"] for c in comparisons for level in c["comparison_levels"]
                          if level.get("tf_adjustment_column")}):
        scorer.table_management.register_term_frequency_lookup(linker.table_management.compute_tf_table(column),
                                                               column)
    return scorer


def link_profiles(con, table: str, *, link_fields: list[str] | None = None,
                  blocking_rules: list[list[str] | str] | None = None, match_threshold: float = 0.95,
                  review_lower: float = 0.5, u_max_pairs: float = 2e6, seed: int = 42,
                  decisions: pd.DataFrame | None = None,
                  engine: engines.EngineSettings | None = None,
                  min_profiles: int = MIN_PROFILES_FOR_MODEL, key_edges: str | None = None,
                  key_nodes: str | None = None) -> LinkModel:
    """Train a Splink model on the profiles, score candidate pairs and cluster them — or, below
    ``min_profiles`` profiles, link them by exact rules (:func:`link_deterministically`).

    Args:
        con: the stage's DuckDB connection; on DuckDB, Splink works in it (its memory limit holds).
        table: the profile table in ``con`` (:func:`profiles_sql`); on Spark also a Spark view of that name
            (:func:`digiops.engines.make_table` leaves both), which Splink and every later step read.
        decisions: reviewed pairs (``unique_id_l``, ``unique_id_r`` as profile ids or ``key_nodes`` records, null
            for a record not in this run, ``decision`` ``match`` / ``not-match`` / ``unsure``) that override the model: a match is a
            certain edge, a not-match removes the pair's edge and keeps the two apart whatever else links them
            (:func:`split_cannot_links`). With decisions the profiles are clustered once without them as well, to
            tell how each was applied (``LinkModel.decisions``).
        engine: where Splink runs (:mod:`digiops.engines`); default DuckDB. On Spark the same comparisons and
            rules run with their SQL rewritten for Spark SQL (:func:`digiops.engines.to_spark_sql`).
        min_profiles: fewer profiles than this and no model is trained (``merge.min_profiles_for_model``).
        key_edges: a table in ``con`` of certain links (``unique_id_l``, ``unique_id_r``: profiles, or records of
            ``key_nodes``) that join the accepted pairs before clustering (:mod:`digiops.merge.keys`).
        key_nodes: a table in ``con`` of records without a profile (``unique_id``) that ``key_edges`` names.
    Returns:
        The model; tables ``pairs`` (every scored pair at or above ``review_lower``: ids, probability, weight,
        comparison levels) and ``clusters`` (every profile's cluster) are left in ``con``.
    """
    from splink import Linker, SettingsCreator

    on_spark = engine is not None and engine.is_spark
    dialect_sql = engines.to_spark_sql if on_spark else (lambda sql: sql)
    make = partial(engines.make_table, con, engine=engine)
    filled = filled_counts(con, table, engine)
    features = available_features(filled, link_fields)
    rules = blocking_rules_for(filled, blocking_rules)
    street_u = (agreement_u(con, table, ("street_key", "district"), ADDRESS_COLUMNS, engine)
                if "address" in features and filled.get("street_key") else None)
    mask_u = None
    if "phone" in features and filled.get("phone_mask", 0) > 1:
        # strangers whose visible digits agree: pairs with the same mask, less those with the same whole number
        same_mask = agreement_u(con, table, ("phone_mask",), ("phone_mask",), engine) or 0.0
        same_phone = agreement_u(con, table, ("phone",), ("phone_mask",), engine) or 0.0
        mask_u = (same_mask - same_phone) or None
    comparisons = comparisons_for(features, filled, street_u, mask_u)
    if on_spark:
        comparisons = _spark_comparisons(comparisons)
    linker = None
    n_profiles = int(filled[UID])
    deterministic = n_profiles < min_profiles
    make("pairs", f"SELECT NULL::BIGINT AS {UID}_l, NULL::BIGINT AS {UID}_r, NULL::DOUBLE AS match_probability, "
                  "NULL::DOUBLE AS match_weight WHERE false")
    if deterministic:
        comparisons, rules = [], link_deterministically(con, table, features, engine)
    elif n_profiles >= 2 and comparisons and rules:
        logging.getLogger("splink").setLevel(logging.ERROR)
        if on_spark:
            db_api = engines.splink_db_api(engine)
            sdf = db_api.register(db_api.spark.table(table), table_name="person_profiles")
        else:
            db_api = engines.splink_db_api(connection=con)
            sdf = db_api.register(table)
        settings = SettingsCreator(link_type="dedupe_only", unique_id_column_name=UID, comparisons=comparisons,
                                   blocking_rules_to_generate_predictions=[
                                       _rule(dialect_sql(r) if isinstance(r, str) else r) for r in rules],
                                   max_iterations=20,
                                   retain_intermediate_calculation_columns=False,
                                   retain_matching_columns=False)
        linker = Linker(sdf, settings, log_level=logging.ERROR)
        # The prior from rules that do not need a name: masked buyers, nicknames and surname-only leads agree on
        # no name, and rules that need one found a tenth of the matches of a real platform export (the prior then
        # sat an order of magnitude low and an exact mobile with district and surname could not link).
        sure = [dialect_sql(_rule_sql(r)) for r in (["phone"], ["email"], ["national_id"],
                                                    ["name_key", "birth_date", "district"])
                if all(filled.get(c, 0) > 0 for c in r)]
        if sure:
            prior = linker._settings_obj._probability_two_random_records_match
            try:
                linker.training.estimate_probability_two_random_records_match(sure, recall=0.8)
            except Exception:  # noqa: BLE001 — too few pairs to estimate: keep Splink's prior
                pass
            # No pair agreeing on any of these rules estimates a prior of 0 (every pair then has match weight
            # log2(0) and prediction fails with "math domain error"), all pairs agreeing one of 1: keep the default.
            if not 0 < linker._settings_obj._probability_two_random_records_match < 1:
                linker._settings_obj._probability_two_random_records_match = prior
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        trained = 0
        # Above EM_PROFILES profiles EM learns from a share of the blocks (a hash of the rule's first column): the
        # m probabilities are proportions among matching pairs, as well estimated from a fourteenth of a million
        # people's pairs (6.9 M profiles: 1 052 981 customers against 1 052 987 from a seventh, the same F1) as
        # from all of them, and EM on every pair took 30 s there.
        share = -(-n_profiles // EM_PROFILES)
        for rule in EM_RULES:
            sample = f' AND hash(l."{rule[0]}") % {share} = 0' if share > 1 else ""
            if trained >= EM_SESSIONS:
                break
            if all(filled.get(c, 0) >= 2 for c in rule):
                kept = linker._settings_obj.core_model_settings.copy()
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        dialect_sql(_rule_sql(rule) + sample), estimate_without_term_frequencies=True)
                    trained += 1
                except Exception:  # noqa: BLE001 — EM needs pairs under this rule; try the next rule
                    # A session that fails (no pair under its rule) leaves the model as it set it up for training:
                    # without the comparisons on the rule's columns, its prior raised for the blocked pairs.
                    linker._settings_obj.core_model_settings = kept
                    continue
        bound_name_mismatch(linker, upper="phone" in features)
        scorer = linker
        if key_edges:
            scorer = _cross_component_scorer(con, db_api, linker, table, key_edges, comparisons, decisions, engine)
        predicted = scorer.inference.predict(threshold_match_probability=review_lower)
        # Only ids, scores and comparison levels are kept: a million people give millions of pairs, and their
        # features are in the profile table already.
        if on_spark:
            scored = predicted.as_spark_dataframe()
            engines.spark_to_duckdb(con, scored.select(*_pair_columns(scored.columns)), "pairs")
        else:
            columns = _pair_columns(predicted.as_duckdbpyrelation().columns)
            con.execute(f"CREATE OR REPLACE TABLE pairs AS SELECT {', '.join(columns)} FROM {predicted.physical_name}")
            predicted.drop_table_from_database_and_remove_from_cache()
    for name in ("scored_profiles", "copies", "key_components"):
        engines.drop_table(con, name)
    edges = [f"SELECT {UID}_l, {UID}_r, match_probability AS p, false AS certain FROM pairs "
             f"WHERE match_probability >= {float(match_threshold)!r}"]
    if not deterministic and "phone" in features and filled.get("phone", 0) > 1:
        edges.append(same_mobile_sql(table, match_threshold))
    if key_edges:
        edges.append(f"SELECT {UID}_l, {UID}_r, 1.0, true FROM {key_edges}")
    make("edges", " UNION ALL ".join(f"SELECT * FROM ({sql})" for sql in edges))
    decided = pd.DataFrame(columns=[f"{UID}_l", f"{UID}_r", "decision"]) if decisions is None else decisions
    found = decided[[f"{UID}_l", f"{UID}_r", "decision"]].dropna().astype({f"{UID}_l": "int64", f"{UID}_r": "int64"})
    before = {}
    if len(found):
        cluster_profiles(con, table, engine, key_nodes)
        before = _clusters_of(con, found)
        engines.register(con, "_decisions", found, engine)
        nodes = f"SELECT {UID} FROM {table}" + (f" UNION ALL SELECT {UID} FROM {key_nodes}" if key_nodes else "")
        # a not-match removes the pair's edge, a match adds a certain one
        make("edges", f"""
            SELECT e.* FROM edges e ANTI JOIN (SELECT * FROM _decisions WHERE decision = 'not-match') d
                ON least(e.{UID}_l, e.{UID}_r) = least(d.{UID}_l, d.{UID}_r)
                AND greatest(e.{UID}_l, e.{UID}_r) = greatest(d.{UID}_l, d.{UID}_r)
            UNION ALL
            SELECT d.{UID}_l, d.{UID}_r, 1.0, true FROM _decisions d
            WHERE d.decision = 'match' AND d.{UID}_l IN ({nodes}) AND d.{UID}_r IN ({nodes})""")
        con.unregister("_decisions")
    cluster_profiles(con, table, engine, key_nodes)
    if len(found):
        split_cannot_links(con, found[found["decision"] == "not-match"], engine)
    applied = decided.assign(applied=applied_codes(decided, before, _clusters_of(con, found) if len(found) else {}))
    if linker is not None and not on_spark:
        # Splink's own tables (training pairs, term frequencies) would stay in the stage's memory budget and push
        # the steps after this one to spill; the model itself needs none of them.
        linker.table_management.delete_tables_created_by_splink_from_db()
    n_pairs = engines.fetch(con, "SELECT count(*) FROM pairs", engine)[0][0]
    return LinkModel(pairs=pd.DataFrame(), n_pairs=int(n_pairs),
                     comparisons=[c["output_column_name"] for c in comparisons],
                     blocking_rules=[_rule_sql(r) if not isinstance(r, str) else r for r in rules], linker=linker,
                     method="deterministic" if deterministic else "splink", n_profiles=n_profiles,
                     min_profiles=min_profiles, decisions=applied.reset_index(drop=True))


def _clusters_of(con, pairs: pd.DataFrame) -> dict:
    """Profile → cluster (table ``clusters``) of the profiles ``pairs`` names."""
    con.register("_named", pd.DataFrame({"profile": pd.concat([pairs[f"{UID}_l"], pairs[f"{UID}_r"]]).unique()}))
    found = dict(con.execute("SELECT profile, cluster FROM clusters SEMI JOIN _named USING (profile)").fetchall())
    con.unregister("_named")
    return found
