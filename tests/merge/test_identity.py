"""Pieces of identity resolution checked against independent computations: connected components (against a
union-find written here), the key-linked copies that are scored once, and the one-edit test (against the edit
distance alone)."""

from __future__ import annotations

import random

import duckdb
import pandas as pd
import pytest

from digiops.merge.identity import MATCH_FEATURES, UID, _components, key_copies_sql, one_edit_sql


def _key(position: int, row: int) -> int:
    return (position << 40) + row


def _union_find(nodes: list[int], edges: list[tuple[int, int]]) -> dict[int, int]:
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in edges:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            parent[max(ra, rb)] = min(ra, rb)
    return {n: min(m for m in nodes if root(m) == root(n)) for n in nodes}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_components_are_those_of_a_union_find_named_by_their_smallest_id(seed):
    rng = random.Random(seed)
    # record keys of three sources, rows not contiguous (profiles are a subset of the records)
    nodes = sorted({_key(rng.choice([0, 2, 5]), rng.randrange(300)) for _ in range(250)})
    edges = [tuple(rng.sample(nodes, 2)) for _ in range(120)]
    edges += [(nodes[0], _key(7, 1)), (_key(2, 999), nodes[1])]  # an end that is no node joins nothing
    con = duckdb.connect()
    con.register("n", pd.DataFrame({UID: nodes}))
    con.register("e", pd.DataFrame(edges, columns=[f"{UID}_l", f"{UID}_r"]))

    _components(con, f"SELECT {UID} FROM n", f"SELECT {UID}_l, {UID}_r FROM e", "out")

    found = dict(con.execute("SELECT profile, cluster FROM out").fetchall())
    assert found == _union_find(nodes, edges)


def test_components_without_edges_leave_every_node_alone():
    con = duckdb.connect()
    con.register("n", pd.DataFrame({UID: [_key(1, 3), _key(0, 8)]}))
    _components(con, f"SELECT {UID} FROM n", f"SELECT {UID} AS {UID}_l, {UID} AS {UID}_r FROM n WHERE false", "out")
    assert dict(con.execute("SELECT profile, cluster FROM out").fetchall()) == {_key(1, 3): _key(1, 3),
                                                                                _key(0, 8): _key(0, 8)}


def _profiles(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in MATCH_FEATURES:
        if column not in frame:
            frame[column] = None
    return frame


def test_key_linked_profiles_with_the_same_features_are_scored_once():
    masked = {"name_zh": "王**", "phone_mask": "138*5678", "district": "330106", "street_key": "文三路18号"}
    profiles = _profiles([
        {UID: 1, **masked}, {UID: 2, **masked}, {UID: 3, **masked},  # one buyer's orders: one key component
        {UID: 4, **masked},  # the same mask elsewhere (a household member): another component, kept
        {UID: 5, **masked, "street_key": "文三路20号"},  # same component, another address: kept
        {UID: 6, **masked, "name_keys": ["wang"]},  # a list feature differs: kept
        {UID: 7, **masked}])  # no key at all: kept
    profiles.loc[profiles[UID] != 6, "name_keys"] = None
    con = duckdb.connect()
    con.register("profiles", profiles)
    con.register("components", pd.DataFrame({"profile": [1, 2, 3, 5, 6, 4], "cluster": [1, 1, 1, 1, 1, 4]}))

    copies = {row[0] for row in con.execute(key_copies_sql("profiles", "components")).fetchall()}

    assert copies == {2, 3}


def _edits(text: str, rng: random.Random, alphabet: str) -> str:
    """``text`` after one random edit: a character changed, inserted or removed, or two neighbours swapped."""
    at = rng.randrange(len(text) + 1)
    kind = rng.choice(["change", "insert", "remove", "swap"])
    if kind == "insert" or not text:
        return text[:at] + rng.choice(alphabet) + text[at:]
    at = min(at, len(text) - 1)
    if kind == "change":
        return text[:at] + rng.choice(alphabet) + text[at + 1:]
    if kind == "swap" and at + 1 < len(text):
        return text[:at] + text[at + 1] + text[at] + text[at + 2:]
    return text[:at] + text[at + 1:]


def test_the_one_edit_test_answers_as_the_edit_distance_does():
    # its cheap tests in front must never turn away a pair the distance accepts: near pairs (one and two edits
    # apart), unrelated pairs, short and empty texts, Hanzi and nulls
    rng = random.Random(7)
    alphabet = "abcdez0123张王伟芳"
    rows = []
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 14)))
        near = _edits(text, rng, alphabet)
        other = rng.choice([near, _edits(near, rng, alphabet), "".join(rng.sample(alphabet, rng.randrange(0, 8))),
                            None])
        rows.append((text, other))
    con = duckdb.connect()
    con.register("pairs", pd.DataFrame(rows, columns=["a", "b"]))
    found = con.execute(f"""
        SELECT count(*) FILTER (WHERE {one_edit_sql('a', 'b')} IS DISTINCT FROM (damerau_levenshtein(a, b) <= 1)),
               count(*) FILTER (WHERE damerau_levenshtein(a, b) <= 1)
        FROM pairs""").fetchall()[0]
    assert found[0] == 0
    assert found[1] > 5_000  # the near pairs were near
