"""RFM exactly as DOMAIN.md §2 defines it, against an independent pandas computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from digiops.labels.catalog import parse_catalog
from digiops.labels.evaluate import evaluate
from digiops.labels.features import load_segment_map
from digiops.settings.labels import RfmThresholds
from tests.labels.synthetic import contract_tables
from tests.labels.fixtures import customer, order, tables

MINIMAL = parse_catalog("""
tags:
  - {id: rfm_segment, name: {zh: 分群, en: Segment}, category: value, definition: d, owner: o, output: value,
     rule: rfm_segment}
""")
SEGMENTS = {  # DOMAIN.md §2, written out independently of resources/rfm_segments.yaml
    "champions": ([5], [4, 5]), "loyal": ([3, 4], [4, 5]), "potential_loyalists": ([4, 5], [2, 3]),
    "new": ([5], [1]), "promising": ([4], [1]), "need_attention": ([3], [3]), "about_to_sleep": ([3], [1, 2]),
    "at_risk": ([1, 2], [3, 4]), "cant_lose": ([1, 2], [5]), "hibernating": ([1, 2], [1, 2]),
}


def independent_rfm(orders: pd.DataFrame, as_of: dt.date | None = None) -> pd.DataFrame:
    """RFM from DOMAIN.md with pandas: qcut of the rank (ties by customer id) into five equal bins."""
    counted = orders[orders["customer_id"].notna() & ~orders["is_test"]].copy()
    purchases = counted[~counted["is_refund"]]
    as_of = as_of or (purchases["order_time"].max().date() + dt.timedelta(days=1))
    counted = counted[counted["order_time"] < pd.Timestamp(as_of)]
    purchases = counted[~counted["is_refund"]]
    last = purchases.groupby("customer_id")["order_time"].max().dt.normalize()
    out = pd.DataFrame({"recency_days": (pd.Timestamp(as_of) - last).dt.days,
                        "frequency": purchases.groupby("customer_id").size(),
                        "monetary": counted.groupby("customer_id")["amount"].apply(lambda s: sum(s, Decimal(0)))})
    out = out.dropna(subset=["recency_days"]).sort_index()
    for measure, score in (("recency_days", "rfm_r"), ("frequency", "rfm_f"), ("monetary", "rfm_m")):
        rank = out[measure].astype(float).rank(method="first")  # index is sorted: ties go by customer id
        bins = pd.qcut(rank, 5, labels=False)
        out[score] = (5 - bins) if score == "rfm_r" else (bins + 1)
    cell = {(r, f): name for name, (rs, fs) in SEGMENTS.items() for r in rs for f in fs}
    out["rfm_segment"] = [cell[(r, f)] for r, f in zip(out["rfm_r"], out["rfm_f"])]
    return out


def test_segment_map_covers_every_cell_exactly_once():
    # Arrange / Act
    segments = load_segment_map()
    cells = [(r, f) for s in segments for r in s.r for f in s.f]
    # Assert
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert {s.id: (list(s.r), list(s.f)) for s in segments} == SEGMENTS


def test_rfm_matches_independent_computation_exactly():
    # Arrange: 1 003 customers (not a multiple of five), ties in every measure, refunds, tests, anonymous orders
    data = contract_tables(1_003, 4.0, seed=11)
    orders = data["orders"].to_pandas()
    # Act
    run = evaluate(data, MINIMAL)
    got = run.tags.set_index("customer_id").dropna(subset=["rfm_r"])
    expected = independent_rfm(orders)
    # Assert
    assert run.as_of == orders.loc[~orders.is_test & ~orders.is_refund, "order_time"].max().date() + dt.timedelta(1)
    assert list(got.index) == list(expected.index)
    assert got["recency_days"].astype(int).tolist() == expected["recency_days"].astype(int).tolist()
    assert got["frequency"].astype(int).tolist() == expected["frequency"].astype(int).tolist()
    assert [Decimal(str(v)) for v in got["monetary"]] == expected["monetary"].tolist()
    for score in ("rfm_r", "rfm_f", "rfm_m"):
        assert got[score].astype(int).tolist() == expected[score].astype(int).tolist(), score
    assert got["rfm_segment"].tolist() == expected["rfm_segment"].tolist()


def test_rfm_small_fixture_by_hand():
    # Arrange: 7 buyers with tied recency and frequency; C8 never bought; a test order and a refund
    day = dt.date(2026, 3, 1)
    customers = [customer(f"C{i}") for i in range(1, 9)]
    orders = [order(f"{i}", f"C{i}", day - dt.timedelta(days=d), a)
              for i, d, a in [(1, 0, "10"), (2, 0, "20"), (3, 5, "30"), (4, 5, "40"), (5, 9, "50"), (6, 20, "60"),
                              (7, 40, "70")]]
    orders += [order("1b", "C1", day - dt.timedelta(days=3), "5"), order("7r", "C7", day, "-70"),
               order("t", "C6", day + dt.timedelta(days=9), "999", is_test=True)]
    # Act
    tags = evaluate(tables(customers, orders), MINIMAL).tags.set_index("customer_id")
    # Assert: as_of = 2026-03-02 (test order ignored); ranks by recency then id: C1,C2,C3,C4,C5,C6,C7
    assert tags["recency_days"].tolist()[:7] == [1, 1, 6, 6, 10, 21, 41]
    assert tags["rfm_r"].tolist()[:7] == [5, 5, 4, 3, 2, 1, 1]
    assert tags["frequency"].tolist() == [2, 1, 1, 1, 1, 1, 1, 0]
    assert tags["rfm_f"].tolist()[:7] == [5, 1, 1, 2, 3, 4, 5]
    assert tags["rfm_m"].tolist()[:7] == [1, 2, 3, 4, 5, 5, 1]
    assert [str(v) for v in tags["monetary"]] == ["15.00", "20.00", "30.00", "40.00", "50.00", "60.00", "0.00",
                                                   "0.00"]
    assert pd.isna(tags.loc["C8", "rfm_r"]) and pd.isna(tags.loc["C8", "rfm_segment"])
    expected = independent_rfm(tables(customers, orders)["orders"].to_pandas())
    assert tags.loc[expected.index, "rfm_f"].tolist() == expected["rfm_f"].tolist()
    assert tags.loc[expected.index, "rfm_m"].tolist() == expected["rfm_m"].tolist()


def test_thresholds_replace_fifths():
    # Arrange
    day = dt.date(2026, 3, 1)
    customers = [customer("C1"), customer("C2"), customer("C3")]
    orders = [order("1", "C1", day, "100"), order("2", "C2", day - dt.timedelta(days=29), "20"),
              order("3", "C3", day - dt.timedelta(days=30), "3"), order("3b", "C3", day - dt.timedelta(days=300), "3")]
    thresholds = RfmThresholds(recency=[30, 60, 120, 240], frequency=[2, 3, 5, 8], monetary=[10, 20, 50, 100])
    # Act
    tags = evaluate(tables(customers, orders), MINIMAL, thresholds=thresholds).tags.set_index("customer_id")
    # Assert: recency 1, 30, 31 days
    assert tags["rfm_r"].tolist() == [5, 5, 4]
    assert tags["rfm_f"].tolist() == [1, 1, 2]
    assert tags["rfm_m"].tolist() == [5, 3, 1]


def test_thresholds_must_be_four_ascending():
    with pytest.raises(ValueError, match="four strictly ascending"):
        RfmThresholds(recency=[30, 20, 60, 90])
