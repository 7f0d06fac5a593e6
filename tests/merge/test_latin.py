"""Latin-script person files (issue 17): the generator, and the merge on its files with a plain column mapping and
the default settings. The public benchmarks these stand in for stay outside the project; ``bench/bench_latin.py``
gives the full figures and what is missed."""

from __future__ import annotations

import random

import pandas as pd
import pytest
import yaml

from tests.merge import latin
from digiops.engagement import load_engagement
from digiops.merge.pipeline import run_merge

#: People per set: a dedupe file of this many originals and as many duplicates, or two link files of this many
#: (the link set is larger: its 0.995 bar leaves room for five missed pairs in a thousand).
PEOPLE = 1000
LINK_PEOPLE = 2000


def _merge(data: latin.LatinSet, folder) -> dict[str, float]:
    result = run_merge(load_engagement(latin.write_client(data, folder)))
    return latin.score(result.crosswalk, data)


@pytest.fixture(scope="module")
def dedupe_scores(tmp_path_factory):
    return _merge(latin.dedupe_set(originals=PEOPLE, duplicates=PEOPLE, seed=1), tmp_path_factory.mktemp("dedupe"))


@pytest.fixture(scope="module")
def link_scores(tmp_path_factory):
    return _merge(latin.link_set(people=LINK_PEOPLE, seed=1), tmp_path_factory.mktemp("link"))


# ------------------------------------------------------------------------------------------------- the generator
def test_same_seed_same_files_other_seed_other_files():
    first, again, other = (latin.dedupe_set(300, 300, seed=s) for s in (7, 7, 8))

    assert first.files["persons"].equals(again.files["persons"]) and first.truth.equals(again.truth)
    assert not first.files["persons"].equals(other.files["persons"])


def test_dedupe_file_has_the_benchmark_shape():
    data = latin.dedupe_set(originals=2000, duplicates=2000, seed=3)
    frame, truth = data.files["persons"], data.truth

    assert list(frame.columns) == list(latin.COLUMNS) and len(frame) == 4000
    assert frame["rec_id"].is_unique and set(truth["record_id"]) == set(frame["rec_id"])
    sizes = truth.groupby("person_id").size() - 1
    assert sizes.max() <= 9 and (sizes == 1).sum() > (sizes == 2).sum() > (sizes == 5).sum()  # Zipf-like
    originals = truth["record_id"].str.endswith("-org")
    assert (truth.loc[originals, "corruptions"] == "").all() and (truth.loc[~originals, "corruptions"] != "").all()
    assert frame["date_of_birth"].str.fullmatch(r"(\d{8})?").all()
    empty = (frame[[c for c in latin.COLUMNS if c not in ("rec_id", "address_2")]] == "").mean()
    assert empty.between(0.005, 0.2).all(), empty


def test_every_kind_of_corruption_occurs():
    data = latin.dedupe_set(originals=3000, duplicates=3000, seed=5)
    tags = {t for c in data.truth["corruptions"] for t in c.split(";") if t}

    assert tags == {f"{name}:{kind}" for name, kinds in latin.KINDS.items() for kind in kinds}


def test_link_files_hold_one_corrupted_copy_of_each_person():
    data = latin.link_set(people=500, seed=2)
    a, b = data.truth[data.truth["source"] == "file_a"], data.truth[data.truth["source"] == "file_b"]

    assert list(data.files) == ["file_a", "file_b"]
    assert sorted(a["person_id"]) == sorted(b["person_id"]) and a["person_id"].is_unique
    assert (b["corruptions"] != "").all()


def test_corruptions_are_what_data_entry_makes():
    rng = random.Random(1)

    assert latin.date_day_month_swapped("19870304") == "19870403"
    assert latin.date_day_month_swapped("19870413") is None and latin.date_day_month_swapped("19870303") is None
    assert sum(a != b for a, b in zip(latin.digit_off(rng, "1234567"), "1234567")) == 1
    assert latin.street_variant(rng, "wilkins street") in ("wilkins st", "wilkins st.", "wilkins")
    assert latin.surname_variant(rng, "o'brien") in ("obrien", "o brien", "o-brien", "brien")
    assert latin.surname_variant(rng, "smith") is None
    assert "bob" in latin.NICKNAMES["robert"]


def test_engagement_file_is_the_plain_mapping_with_default_merge_settings(tmp_path):
    data = latin.link_set(people=20, seed=1)
    document = yaml.safe_load(latin.write_client(data, tmp_path).read_text(encoding="utf-8"))
    engagement = load_engagement(tmp_path / "engagement.yaml")

    assert "merge" not in document
    assert set(engagement.sources) == {"file_a", "file_b"}
    source = engagement.sources["file_b"]
    assert source.kind == "customers" and source.id_column == "rec_id"
    assert source.columns == {"given_name": "given_name", "surname": "family_name", "street_number": "street_number",
                              "address_1": "street", "address_2": "address_extra", "suburb": "district",
                              "postcode": "postcode", "state": "province", "date_of_birth": "birth_date",
                              "soc_sec_id": "national_id"}
    assert pd.read_csv(tmp_path / "truth" / "identity.csv", dtype=str).shape == (40, 4)


def test_score_counts_cross_file_pairs_only_in_a_link_task():
    data = latin.link_set(people=4, seed=1)
    truth = data.truth
    one_customer = truth.assign(customer_id="C")  # everyone in one customer: 4 true of 16 cross pairs

    scores = latin.score(one_customer, data)

    assert (scores["tp"], scores["fp"], scores["fn"]) == (4, 12, 0)
    assert latin.score(truth.rename(columns={"person_id": "customer_id"}).iloc[:-1], data)["fn"] == 1  # quarantined


# ---------------------------------------------------------------------------------------------------- the merge
def test_dedupe_links_no_strangers(dedupe_scores):
    assert dedupe_scores["precision"] >= 0.99, dedupe_scores


def test_link_links_no_strangers(link_scores):
    assert link_scores["precision"] >= 0.99, link_scores


def test_dedupe_pairwise_f1_meets_the_issue_bar(dedupe_scores):
    assert dedupe_scores["f1"] >= 0.985, dedupe_scores


def test_link_pairwise_f1_meets_the_issue_bar(link_scores):
    assert link_scores["f1"] >= 0.995, link_scores
