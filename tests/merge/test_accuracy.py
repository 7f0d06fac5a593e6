"""Pairwise and B³ figures, checked by hand."""

import math

import pandas as pd

from tests.merge.accuracy import accuracy


def _frames(predicted, true):
    ids = [str(i) for i in range(len(predicted))]
    crosswalk = pd.DataFrame({"source": "s", "record_id": ids, "customer_id": predicted})
    truth = pd.DataFrame({"source": "s", "record_id": ids, "person_id": true})
    return crosswalk, truth


def test_perfect():
    scores = accuracy(*_frames(list("AABC"), list("xxyz")))
    assert scores["pairwise_f1"] == 1.0 and scores["b3_f1"] == 1.0


def test_one_false_merge():
    # predicted {0,1,2,3}; truth {0,1} {2,3}: predicted pairs 6, true pairs 2, both 2
    scores = accuracy(*_frames(list("AAAA"), list("xxyy")))
    assert scores["pairwise_precision"] == 2 / 6
    assert scores["pairwise_recall"] == 1.0
    assert scores["b3_precision"] == 0.5  # each record: 2 of its 4 cluster-mates are right
    assert scores["b3_recall"] == 1.0
    assert math.isclose(scores["b3_f1"], 2 * 0.5 / 1.5)


def test_one_missed_link():
    scores = accuracy(*_frames(list("ABCC"), list("xxyy")))
    assert scores["pairwise_precision"] == 1.0
    assert scores["pairwise_recall"] == 0.5
    assert scores["b3_recall"] == 0.75


def test_only_shared_records_count():
    crosswalk, truth = _frames(list("AA"), list("xx"))
    extra = pd.DataFrame({"source": ["s"], "record_id": ["99"], "customer_id": ["A"]})
    scores = accuracy(pd.concat([crosswalk, extra]), truth)
    assert scores["records"] == 2 and scores["pairwise_f1"] == 1.0
