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
4. **Clusters**: pairs at or above the match threshold (after a consultant's review decisions: a reviewed match
   adds an edge, a reviewed non-match removes one) are clustered by connected components.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from digiops import engines
from digiops.merge import normalize as nz

FEATURES = ("name_zh", "name_py", "name_keys", "name_key", "surnames", "given_py", "name_partial", "phone", "email", "birth_date", "national_id", "gender",
            "district", "city", "street_key", "postcode")
STRONG = ("phone", "email", "national_id")
#: link feature → columns it needs (the names a consultant uses in ``merge.link_fields``).
LINK_FEATURES = {"name": "name_py", "phone": "phone", "email": "email", "birth_date": "birth_date",
                 "national_id": "national_id", "address": "district", "postcode": "postcode", "gender": "gender"}
DEFAULT_BLOCKING = (["phone"], ["email"], ["national_id"], ["name_keys", "birth_date"], ["name_key", "district"],
                    ["name_key", "postcode"], ["street_key", "district"], ["street_key", "postcode"])
# EM rules. Pairs sharing a phone *and* a birth date are rarely two family members (who share phone and address),
# so the name's m probabilities are not learnt from households; phone + name trains birth date and address on every
# kind of record (orders and shipments carry no birth date); name + street trains the phone. Splink keeps the
# median of each m over the sessions that estimated it.
EM_RULES = (["phone", "birth_date"], ["phone", "name_key"], ["name_key", "street_key"], ["national_id"],
            ["name_key", "birth_date"], ["email", "birth_date"], ["name_key", "postcode"], ["phone"])
EM_SESSIONS = 3
#: m probability of "the names disagree in every reading and spelling" (fixed, see :func:`comparisons_for`).
NAME_MISMATCH_M = 1e-4
LIST_FEATURES = ("name_keys", "surnames")
UID = "unique_id"


def record_features(clean: pd.DataFrame) -> pd.DataFrame:
    """One row per cleaned person record: ``unique_id`` (``source:record_id``), ``source``, ``record_id`` and the
    matching features (missing ones are null)."""
    out = pd.DataFrame({UID: clean["source"].astype(str) + ":" + clean["record_id"].astype(str),
                        "source": clean["source"], "record_id": clean["record_id"]}, index=clean.index)
    names = clean["full_name"] if "full_name" in clean else pd.Series(None, index=clean.index, dtype=object)
    # every name feature is computed once per distinct name and spread to the records by position
    codes, distinct = pd.factorize(names, use_na_sentinel=True)
    rows = [_name_features(name) for name in distinct] + [(None,) * 7]
    table = pd.DataFrame(rows, columns=["name_zh", "name_keys", "name_key", "name_py", "surnames", "given_py",
                                        "name_partial"], dtype=object)
    for column in table.columns:
        out[column] = table[column].to_numpy()[codes]
    for column in ("phone", "email", "national_id", "gender", "district", "city", "street_key", "postcode"):
        out[column] = clean[column] if column in clean else None
    if "adcode" in clean:
        # a six-digit adcode names a district unambiguously; a city-level code (…00) does not.
        specific = clean["adcode"].where(clean["adcode"].notna() & ~clean["adcode"].astype(str).str.endswith("00"))
        out["district"] = specific.where(specific.notna(), out["district"])
    out["birth_date"] = (pd.to_datetime(clean["birth_date"]).dt.strftime("%Y-%m-%d") if "birth_date" in clean
                         else None)
    out = out.astype({c: object for c in FEATURES})
    return out.where(out.notna(), None).reset_index(drop=True)


def _name_features(name: str) -> tuple:
    """(name_zh, name_keys, name_key, name_py, surnames, given_py, name_partial) of one cleaned full name."""
    parsed = nz.parse_name(name)
    if parsed is None:
        return (name if isinstance(name, str) and nz.has_cjk(name) else None,) + (None,) * 6
    readings, given = parsed
    partial = given == ""
    key = readings[0] + given
    return (name if nz.has_cjk(name) and not partial else None, [r + given for r in dict.fromkeys(readings)], key,
            key, list(dict.fromkeys(readings)), given or None, partial)


def build_profiles(features: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Collapse records with identical features (and a strong identifier) into one profile.

    Returns the profile table (one row per profile, ``unique_id`` = its first record's id) and, per record, its
    profile id (indexed like ``features``).
    """
    signature_columns = [c for c in FEATURES if c not in LIST_FEATURES]
    filled = features[signature_columns].astype(object).where(features[signature_columns].notna(), "\x00")
    group = filled.groupby(signature_columns, sort=False, dropna=False).ngroup()
    strong = features[list(STRONG)].notna().any(axis=1)
    # records without a strong identifier stay single: identical name + city is not enough to merge blindly.
    group = group.where(strong, -1 - np.arange(len(features)))
    first = features.groupby(group.to_numpy(), sort=False)[UID].transform("first")
    profiles = features[features[UID] == first].reset_index(drop=True)
    return profiles, first


@dataclass
class LinkModel:
    """What Splink produced: scored pairs (profile level), the clusters, and the trained model description."""

    pairs: pd.DataFrame
    clusters: pd.Series  # profile unique_id → cluster id (a profile unique_id)
    comparisons: list[str] = field(default_factory=list)
    blocking_rules: list[str] = field(default_factory=list)
    waterfall: pd.DataFrame | None = None
    linker: object | None = None


def available_features(profiles: pd.DataFrame, link_fields: list[str] | None) -> list[str]:
    wanted = link_fields or list(LINK_FEATURES)
    return [f for f in wanted if f in LINK_FEATURES and profiles[LINK_FEATURES[f]].notna().sum() >= 2]


def _level(sql: str, label: str, **extra) -> dict:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


def _null(*columns: str) -> dict:
    either = " OR ".join(f'("{c}_l" IS NULL OR "{c}_r" IS NULL)' for c in columns) if len(columns) == 1 else \
        " OR ".join(f"({' AND '.join(f'{c}_{side} IS NULL' for c in columns)})" for side in ("l", "r"))
    return _level(either, "null", is_null_level=True)


def comparisons_for(features: list[str], profiles: pd.DataFrame) -> list[dict]:
    """Splink comparisons for the available features (Hanzi exact, everything fuzzy on ASCII only)."""
    has = {c: bool(profiles[c].notna().any()) for c in FEATURES if c not in LIST_FEATURES}
    out: list[dict] = []
    if "name" in features:
        levels = [_null("name_py")]
        if has["name_zh"]:
            levels.append(_level('"name_zh_l" = "name_zh_r"', "Hanzi name exact", tf_adjustment_column="name_zh",
                                 tf_adjustment_weight=1.0))
        levels += [_level("(name_partial_l OR name_partial_r) AND list_has_any(surnames_l, surnames_r)",
                          "one side gives only the surname (a title such as 先生 or 女士), and it agrees"),
                   _level("len(list_intersect(name_keys_l, name_keys_r)) > 0", "same pinyin (any surname reading)"),
                   _level("list_has_any(surnames_l, surnames_r) AND "
                          "jaro_winkler_similarity(given_py_l, given_py_r) >= 0.88",
                          "same surname, given name pinyin Jaro-Winkler >= 0.88"),
                   _level("jaro_winkler_similarity(name_py_l, name_py_r) >= 0.92", "pinyin Jaro-Winkler >= 0.92"),
                   # Fixed, not learnt: family members share a phone and an address, so pairs that agree on both
                   # but not on the name look like matches to EM (which assumes the features independent). A full
                   # name that agrees in no reading and no spelling is near-impossible for one person.
                   _level("ELSE", "else", m_probability=NAME_MISMATCH_M, fix_m_probability=True)]
        out.append({"output_column_name": "name", "comparison_levels": levels})
    if "phone" in features:
        out.append({"output_column_name": "phone", "comparison_levels": [
            _null("phone"), _level("phone_l = phone_r", "exact", tf_adjustment_column="phone",
                                   tf_adjustment_weight=1.0),
            _level("damerau_levenshtein(phone_l, phone_r) <= 1", "one digit off"), _level("ELSE", "else")]})
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
            _level("damerau_levenshtein(birth_date_l, birth_date_r) <= 1 OR (substr(birth_date_l, 1, 4) = "
                   "substr(birth_date_r, 1, 4) AND substr(birth_date_l, 6, 2) = substr(birth_date_r, 9, 2) AND "
                   "substr(birth_date_l, 9, 2) = substr(birth_date_r, 6, 2))", "one digit off or day/month swapped"),
            _level("substr(birth_date_l, 1, 4) = substr(birth_date_r, 1, 4)", "same year"),
            _level("ELSE", "else")]})
    if "national_id" in features:
        out.append({"output_column_name": "national_id", "comparison_levels": [
            _null("national_id"), _level("national_id_l = national_id_r", "exact"),
            _level("damerau_levenshtein(national_id_l, national_id_r) <= 1", "one character off"),
            _level("ELSE", "else")]})
    if "address" in features:
        levels = [_null("district", "street_key", "city")]
        if has["street_key"]:
            levels.append(_level("street_key_l = street_key_r AND district_l = district_r",
                                 "same street address in the same district"))
            levels.append(_level("street_key_l = street_key_r", "same street address"))
        levels += [_level("district_l = district_r", "same district", tf_adjustment_column="district",
                          tf_adjustment_weight=1.0)]
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


def blocking_rules_for(profiles: pd.DataFrame, rules: list[list[str] | str] | None) -> list:
    """The blocking rules whose columns exist and are filled (custom SQL strings are taken as given)."""
    chosen = []
    for rule in (rules if rules is not None else DEFAULT_BLOCKING):
        if isinstance(rule, str) or all(c in profiles and profiles[c].notna().any() for c in rule):
            chosen.append(rule)
    return chosen


def _spark_comparisons(comparisons: list[dict]) -> list[dict]:
    """The comparisons with each level's DuckDB condition rewritten for Spark SQL (``ELSE`` stays)."""
    return [{**c, "comparison_levels": [
        {**level, "sql_condition": level["sql_condition"] if level["sql_condition"] == "ELSE"
         else engines.to_spark_sql(level["sql_condition"])} for level in c["comparison_levels"]]} for c in comparisons]


def _spark_profiles(table: pd.DataFrame):
    """The profile table as Arrow with explicit types (Spark cannot infer a type from an all-null column)."""
    import pyarrow as pa

    types = {c: pa.list_(pa.string()) if c in LIST_FEATURES else pa.bool_() if c == "name_partial" else pa.string()
             for c in table.columns}
    return pa.table({c: pa.array(table[c].astype(object).where(table[c].notna(), None).tolist(), type=types[c])
                     for c in table.columns})


def _connected_components(nodes: pd.Series, edges: pd.DataFrame,
                          engine: engines.EngineSettings | None = None) -> pd.Series:
    """Connected components with Splink's clustering on the engine (DuckDB by default): node → cluster id."""
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    if edges.empty:
        return pd.Series(nodes.to_numpy(), index=nodes.to_numpy())
    db_api = engines.splink_db_api(engine)
    clusters = cluster_pairwise_predictions_at_threshold(
        pd.DataFrame({UID: nodes.to_numpy()}), edges[[f"{UID}_l", f"{UID}_r"]].reset_index(drop=True),
        db_api=db_api, node_id_column_name=UID).as_pandas_dataframe()
    engines.close_db_api(db_api)
    return pd.Series(clusters["cluster_id"].to_numpy(), index=clusters[UID].to_numpy())


def link_profiles(profiles: pd.DataFrame, *, link_fields: list[str] | None = None,
                  blocking_rules: list[list[str] | str] | None = None, match_threshold: float = 0.95,
                  review_lower: float = 0.5, u_max_pairs: float = 2e6, seed: int = 42,
                  decisions: pd.DataFrame | None = None,
                  engine: engines.EngineSettings | None = None) -> LinkModel:
    """Train a Splink model on the profiles, score candidate pairs and cluster them.

    Args:
        profiles: from :func:`build_profiles`.
        decisions: reviewed pairs (``unique_id_l``, ``unique_id_r`` as profile ids, ``decision`` ``match`` /
            ``not-match``) that override the model.
        engine: where Splink runs (:mod:`digiops.engines`); default DuckDB. On Spark the same comparisons and
            rules run with their SQL rewritten for Spark SQL (:func:`digiops.engines.to_spark_sql`).
    Returns:
        The scored pairs at or above ``review_lower`` and the clusters of every profile.
    """
    from splink import Linker, SettingsCreator

    on_spark = engine is not None and engine.is_spark
    dialect_sql = engines.to_spark_sql if on_spark else (lambda sql: sql)
    features = available_features(profiles, link_fields)
    rules = blocking_rules_for(profiles, blocking_rules)
    nodes = profiles[UID]
    pair_columns = [f"{UID}_l", f"{UID}_r", "match_probability", "match_weight"]
    pairs = pd.DataFrame(columns=pair_columns)
    comparisons = comparisons_for(features, profiles)
    if on_spark:
        comparisons = _spark_comparisons(comparisons)
    linker = None
    if len(profiles) >= 2 and comparisons and rules:
        logging.getLogger("splink").setLevel(logging.ERROR)
        db_api = engines.splink_db_api(engine, duckdb_settings={"preserve_insertion_order": "false"})
        table = profiles[[UID, "source", *[c for c in FEATURES]]].copy()
        for column in LIST_FEATURES:
            table[column] = table[column].map(lambda k: list(k) if isinstance(k, list) else None)
        table["name_partial"] = table["name_partial"].astype("boolean")
        if on_spark:
            table = _spark_profiles(table)
        sdf = db_api.register(table, table_name="person_profiles")
        settings = SettingsCreator(link_type="dedupe_only", unique_id_column_name=UID, comparisons=comparisons,
                                   blocking_rules_to_generate_predictions=[
                                       _rule(dialect_sql(r) if isinstance(r, str) else r) for r in rules],
                                   max_iterations=20,
                                   retain_intermediate_calculation_columns=False,
                                   retain_matching_columns=True, additional_columns_to_retain=["source"])
        linker = Linker(sdf, settings, log_level=logging.ERROR)
        deterministic = [dialect_sql(_rule_sql(r)) for r in (["phone", "name_key"], ["email", "name_key"],
                                                ["national_id", "name_key"], ["name_key", "birth_date", "district"])
                         if all(profiles[c].notna().any() for c in r)]
        if deterministic:
            try:
                linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
            except Exception:  # noqa: BLE001 — too few pairs to estimate: keep Splink's prior
                pass
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        trained = 0
        for rule in EM_RULES:
            if trained >= EM_SESSIONS:
                break
            if all(c in profiles and profiles[c].notna().sum() >= 2 for c in rule):
                try:
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        dialect_sql(_rule_sql(rule)), estimate_without_term_frequencies=True)
                    trained += 1
                except Exception:  # noqa: BLE001 — EM needs pairs under this rule; try the next rule
                    continue
        predicted = linker.inference.predict(threshold_match_probability=review_lower)
        pairs = predicted.as_pandas_dataframe()
    edges = pairs[pairs["match_probability"] >= match_threshold][[f"{UID}_l", f"{UID}_r"]]
    if decisions is not None and len(decisions):
        key = lambda l, r: np.where(l < r, l + "\x1f" + r, r + "\x1f" + l)  # noqa: E731
        decided = decisions.assign(_k=key(decisions[f"{UID}_l"].astype(str), decisions[f"{UID}_r"].astype(str)))
        rejected = set(decided.loc[decided["decision"] == "not-match", "_k"])
        accepted = decided.loc[decided["decision"] == "match", [f"{UID}_l", f"{UID}_r"]]
        if len(edges):
            edges = edges[~pd.Series(key(edges[f"{UID}_l"].astype(str), edges[f"{UID}_r"].astype(str)),
                                     index=edges.index).isin(rejected)]
        accepted = accepted[accepted[f"{UID}_l"].isin(nodes) & accepted[f"{UID}_r"].isin(nodes)]
        edges = pd.concat([edges, accepted], ignore_index=True)
    clusters = _connected_components(nodes, edges, engine)
    return LinkModel(pairs=pairs, clusters=clusters, comparisons=[c["output_column_name"] for c in comparisons],
                     blocking_rules=[_rule_sql(r) if not isinstance(r, str) else r for r in rules],
                     linker=linker)
