"""Segment plays (issue 23): each segment's play sized against an independent computation from the orders, located
errors for a wrong play or response rate, and an audience file with nothing but the allowed columns."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import pandas as pd
import pyarrow.parquet as pq
import pytest

from digiops import labels
from digiops.context import StageContext
from digiops.engagement import load_engagement, parse_engagement
from digiops.errors import CatalogError, EngagementError
from digiops.labels.catalog import parse_catalog
from digiops.labels.evaluate import evaluate
from digiops.labels.features import load_segment_map
from digiops.labels.plays import AUDIENCE_COLUMNS, PLAYS, audience, largest_opportunity, size_plays
from digiops.labels.report import PLAY_AIMS, PLAY_NAMES, largest_opportunity_text, play_style, play_table
from digiops.settings.labels import PlayResponseRates, RfmThresholds
from tests.conftest import write_engagement
from tests.labels.fixtures import customer, order, tables

DAY = dt.date(2026, 3, 1)
AS_OF = DAY + dt.timedelta(days=1)
#: R from recency, F from frequency, by fixed cut points so each customer's cell is known by hand
THRESHOLDS = RfmThresholds(recency=[30, 60, 120, 240], frequency=[2, 3, 5, 8])
SEGMENT_MAP = """\
segments:
  - id: active
    name: {zh: 活跃, en: Active}
    r: [3, 4, 5]
    f: [1, 2, 3, 4, 5]
    play: upgrade
    channel: {zh: 小程序, en: Mini-program}
    offer: {zh: 升级礼, en: Upgrade gift}
  - id: lapsed
    name: {zh: 流失, en: Lapsed}
    r: [1, 2]
    f: [2, 3, 4, 5]
    play: win_back
    channel: 短信
    offer: {zh: 回归券, en: Come-back voucher}
  - id: lost
    name: {zh: 已失去, en: Lost}
    r: [1, 2]
    f: [1]
"""
CATALOG = parse_catalog("""
tags:
  - {id: repeat, name: {zh: 复购, en: Repeat}, category: behaviour, definition: d, owner: o, rule: "frequency >= 2"}
""")
PERSONAL = {"full_name": "王小明", "phone": "13800138000", "email": "xiaoming@example.com",
            "address": "上海市浦东新区世纪大道100号", "national_id": "110101199003078888"}


def fixture_tables():
    """A and B bought lately (active: R3–5); C (refund netted) and D bought 250+ days ago, twice or more (lapsed);
    E once, 400 days ago (lost, no play); F never bought. A test order of A is ignored."""
    customers = [customer(c, **{k: f"{v}{c}" for k, v in PERSONAL.items()}) for c in "ABCDEF"]
    orders = [order("a1", "A", DAY, "100"), order("a2", "A", DAY - dt.timedelta(days=10), "50"),
              order("at", "A", DAY, "9999", is_test=True),
              order("b1", "B", DAY - dt.timedelta(days=5), "30"),
              order("c1", "C", DAY - dt.timedelta(days=300), "80"), order("c2", "C", DAY - dt.timedelta(days=310), "40"),
              order("cr", "C", DAY - dt.timedelta(days=299), "-20"),
              *[order(f"d{i}", "D", DAY - dt.timedelta(days=250 + i), "10") for i in range(3)],
              order("e1", "E", DAY - dt.timedelta(days=400), "500")]
    return tables(customers, orders), orders


@pytest.fixture
def segment_map(tmp_path):
    path = tmp_path / "segments.yaml"
    path.write_text(SEGMENT_MAP, encoding="utf-8")
    return path


def independent_sizing(orders: list[dict], members: dict[str, list[str]], rates: dict[str, float]) -> pd.DataFrame:
    """The sizing formulas computed from the order rows in plain Python."""
    value: dict[str, Decimal] = {}
    purchases: dict[str, int] = {}
    for row in orders:
        if row["is_test"] or row["order_time"].date() >= AS_OF:
            continue
        value[row["customer_id"]] = value.get(row["customer_id"], Decimal(0)) + row["amount"]
        purchases[row["customer_id"]] = purchases.get(row["customer_id"], 0) + (0 if row["is_refund"] else 1)
    out = []
    for segment, (play, customers) in members.items():
        total = float(sum(value[c] for c in customers))
        n_purchases = sum(purchases[c] for c in customers)
        responders = len(customers) * rates[play]
        out.append({"segment": segment, "play": play, "customers": len(customers), "value": total,
                    "mean_value": total / len(customers), "purchases": n_purchases,
                    "mean_order_value": total / n_purchases, "expected_responders": responders,
                    "expected_value": responders * total / n_purchases,
                    "responder_value": responders * total / len(customers)})
    return pd.DataFrame(out).set_index("segment")


def test_sizing_equals_an_independent_computation_from_the_orders(segment_map):
    # Arrange
    merged, orders = fixture_tables()
    tags = evaluate(merged, CATALOG, thresholds=THRESHOLDS, segment_map=segment_map).tags
    rates = {"win_back": 0.05, "upgrade": 0.2, "nurture": 0.1, "retain": 0.3}
    # Act
    plays = size_plays(tags, load_segment_map(segment_map), rates).set_index("segment")
    # Assert: the segments as the thresholds put them, and every measure as computed from the orders
    assert tags.set_index("customer_id")["rfm_segment"].fillna("-").to_dict() == {
        "A": "active", "B": "active", "C": "lapsed", "D": "lapsed", "E": "lost", "F": "-"}
    expected = independent_sizing(orders, {"lapsed": ("win_back", ["C", "D"]), "active": ("upgrade", ["A", "B"])},
                                  rates)
    assert plays.index.tolist() == ["lapsed", "active"]  # play order: win back first; "lost" has no play
    assert plays["play"].tolist() == expected["play"].tolist()
    for column in expected.columns.drop("play"):
        assert plays[column].tolist() == pytest.approx(expected[column].tolist(), rel=1e-12), column
    assert plays.loc["lapsed", "value"] == 130.0 and plays.loc["lapsed", "mean_order_value"] == 130.0 / 5
    assert plays.loc["active", "response_rate"] == 0.2
    assert plays.loc["lapsed", ["channel_zh", "channel_en", "offer_en"]].tolist() == ["短信", "短信",
                                                                                     "Come-back voucher"]
    # the largest opportunity: active, 2 × 0.2 × 180 / 3 = 24 against lapsed 2 × 0.05 × 26 = 2.6
    assert largest_opportunity(plays.reset_index())["segment"] == "active"


def test_a_segment_with_no_customer_is_sized_at_zero_and_the_largest_opportunity_may_be_none(segment_map):
    segments = load_segment_map(segment_map)
    tags = pd.DataFrame({"customer_id": ["X"], "rfm_segment": [None], "monetary": [Decimal("0")], "frequency": [0]})

    plays = size_plays(tags, segments, PlayResponseRates())

    assert plays["customers"].tolist() == [0, 0] and plays["expected_value"].tolist() == [0.0, 0.0]
    assert plays["mean_value"].isna().all()
    assert largest_opportunity(plays) is None
    assert "No opportunity" in largest_opportunity_text(plays, segments, language="en")


def test_default_map_gives_every_segment_a_play_with_channel_and_offer_in_both_languages():
    segments = load_segment_map()

    assert set(PLAYS) == {"win_back", "upgrade", "nurture", "retain"} == set(PLAY_NAMES) == set(PLAY_AIMS)
    assert {s.play.play for s in segments} == set(PLAYS)
    for segment in segments:
        play = segment.play
        assert play is not None and play.play in PLAYS, segment.id
        assert all([play.channel_zh, play.channel_en, play.offer_zh, play.offer_en]), segment.id
        assert any("\u4e00" <= ch <= "\u9fff" for ch in play.channel_zh + play.offer_zh), segment.id
        assert play.channel_en.isascii() and play.offer_en.isascii(), segment.id
    assert {s.id: s.play.play for s in segments if s.id in ("hibernating", "champions", "new")} == {
        "champions": "retain", "new": "nurture", "hibernating": "win_back"}


# --- located errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, field, words", [
    ("play: upgrade", "segment 'active'.play", ["play 'upgrad' is not a play", "did you mean `upgrade`?",
                                                 "win_back, upgrade, nurture, retain"]),
    ("channel: {zh: 小程序, en: Mini-program}", "segment 'active'", ["has no `channel`", "add `channel:"]),
    ("offer: {zh: 升级礼, en: Upgrade gift}", "segment 'active'", ["`offer` must be a text or {zh: …, en: …}"]),
    ("    play: upgrade", "segment 'active'", ["unknown key `paly`", "did you mean `play`?"]),
])
def test_a_wrong_play_in_the_segment_map_is_a_located_error(tmp_path, change, field, words):
    replacement = {"play: upgrade": "play: upgrad", "channel: {zh: 小程序, en: Mini-program}": "channel:",
                   "offer: {zh: 升级礼, en: Upgrade gift}": "offer: {zh: 升级礼}",
                   "    play: upgrade": "    paly: upgrade"}[change]
    path = tmp_path / "segments.yaml"
    path.write_text(SEGMENT_MAP.replace(change, replacement, 1), encoding="utf-8")

    with pytest.raises(CatalogError) as info:
        load_segment_map(path)

    assert info.value.location == "segments.yaml" and info.value.field == field
    for word in words:
        assert word in str(info.value)


def test_a_channel_without_a_play_is_a_located_error(tmp_path):
    path = tmp_path / "segments.yaml"
    path.write_text(SEGMENT_MAP + "    channel: 短信\n", encoding="utf-8")  # on "lost", which has no play

    with pytest.raises(CatalogError, match=r"segment 'lost': has `channel` but no `play` \(fix: add `play:`"):
        load_segment_map(path)


VALID = """\
client: {id: acme, name_zh: 示例, name_en: Acme}
engagement: review
period: {start: 2026-01-01, end: 2026-06-30}
stages: [labels]
"""


@pytest.mark.parametrize("rates, field, words", [
    ("{win_back: 1.5}", "labels.plays.response_rates.win_back", ["less than or equal to 1"]),
    ("{nurture: -0.1}", "labels.plays.response_rates.nurture", ["greater than or equal to 0"]),
    ("{winback: 0.1}", "labels.plays.response_rates.winback", ["unknown key", "did you mean `win_back`?"]),
])
def test_a_wrong_response_rate_in_the_engagement_file_is_a_located_error(rates, field, words):
    with pytest.raises(EngagementError) as info:
        parse_engagement(VALID + f"labels:\n  plays:\n    response_rates: {rates}\n", "engagement.yaml")

    message = str(info.value)
    assert message.startswith(f"engagement.yaml: {field}: ")
    for word in words:
        assert word in message


def test_the_engagement_file_sets_response_rates_and_the_others_keep_their_defaults():
    engagement = parse_engagement(VALID + "labels:\n  plays:\n    response_rates: {win_back: 0.02}\n")

    assert engagement.labels.plays.response_rates.model_dump() == {"win_back": 0.02, "upgrade": 0.10,
                                                                  "nurture": 0.08, "retain": 0.15}


@pytest.mark.parametrize("rates, problem", [({"win_back": 1.5, "upgrade": 0.1, "nurture": 0.1, "retain": 0.1},
                                             "response rate 1.5 is outside 0–1"),
                                            ({"win_back": 0.1, "upgrade": 0.1, "nurture": 0.1},
                                             "no response rate for play 'retain'"),
                                            ({"winback": 0.1}, "'winback' is not a play")])
def test_size_plays_refuses_rates_it_cannot_use(segment_map, rates, problem):
    tags = pd.DataFrame({"customer_id": ["X"], "rfm_segment": ["active"], "monetary": [Decimal("5")],
                         "frequency": [1]})

    with pytest.raises(EngagementError, match=problem) as info:
        size_plays(tags, load_segment_map(segment_map), rates)

    assert info.value.field.startswith("labels.plays.response_rates.") and info.value.fix


# --- the audience list and the stage's files -----------------------------------------------------------------


def test_audience_is_one_row_per_customer_of_a_played_segment_in_the_report_language(segment_map):
    merged, _ = fixture_tables()
    tags = evaluate(merged, CATALOG, thresholds=THRESHOLDS, segment_map=segment_map).tags

    zh = audience(tags, load_segment_map(segment_map), "zh")
    en = audience(tags, load_segment_map(segment_map), "en")

    assert list(zh.columns) == AUDIENCE_COLUMNS
    assert zh.values.tolist() == [["C", "lapsed", "win_back", "短信", "回归券"],
                                  ["D", "lapsed", "win_back", "短信", "回归券"],
                                  ["A", "active", "upgrade", "小程序", "升级礼"],
                                  ["B", "active", "upgrade", "小程序", "升级礼"]]
    assert en["offer"].tolist() == ["Come-back voucher"] * 2 + ["Upgrade gift"] * 2


@pytest.fixture
def labels_run(tmp_path, segment_map):
    """The labels stage run on the fixture's merge outputs, through the engagement file of a small client."""
    merged, _ = fixture_tables()
    folder = tmp_path / "acme"
    write_engagement(folder, textwrap.dedent(f"""\
        labels:
          segment_map: segments.yaml
          rfm_thresholds: {{recency: {THRESHOLDS.recency}, frequency: {THRESHOLDS.frequency}}}
          plays: {{response_rates: {{win_back: 0.5, upgrade: 0.25}}}}
        """), stages="[merge, labels]")
    (folder / "segments.yaml").write_text(segment_map.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "tag_catalog.yaml").write_text(textwrap.dedent("""\
        tags:
          - {id: repeat, name: {zh: 复购, en: Repeat}, category: behaviour, definition: d, owner: o,
             rule: "frequency >= 2"}
        """), encoding="utf-8")
    run_dir = tmp_path / "run"
    (run_dir / "outputs" / "merge").mkdir(parents=True)
    for name, table in merged.items():
        pq.write_table(table, run_dir / "outputs" / "merge" / f"{name}.parquet")
    ctx = StageContext(load_engagement(folder / "engagement.yaml"), "labels", run_dir)
    return labels.run(ctx), run_dir / "outputs" / "labels"


def test_the_stage_writes_plays_and_an_audience_file_without_personal_data(labels_run):
    stage, out = labels_run
    # Assert: plays.parquet holds the sizing with the engagement's rates
    plays = pd.read_parquet(out / "plays.parquet").set_index("segment")
    assert plays["response_rate"].to_dict() == {"lapsed": 0.5, "active": 0.25}
    assert plays.loc["active", "expected_value"] == pytest.approx(2 * 0.25 * 180 / 3)
    # the audience file: exactly the allowed columns, one row per customer of a segment with a play
    for frame in (pd.read_csv(out / "audiences.csv", encoding="utf-8-sig", dtype=str),
                  pd.read_excel(out / "audiences.xlsx", sheet_name="audiences", dtype=str)):
        assert list(frame.columns) == ["customer_id", "segment", "play", "channel", "offer"]
        assert sorted(frame["customer_id"]) == ["A", "B", "C", "D"] and frame["customer_id"].is_unique
        assert frame.loc[frame["customer_id"] == "A", "channel"].tolist() == ["小程序"]  # the client's language
    text = (out / "audiences.csv").read_text(encoding="utf-8-sig")
    for customer_id in "ABCDEF":
        for value in PERSONAL.values():
            assert f"{value}{customer_id}" not in text
    # the figures the summary reads
    metrics = stage.headline()
    assert metrics["play_customers"] == 4 and metrics["largest_play_segment"] == "active"
    assert metrics["play_expected_value"] == pytest.approx(2 * 0.25 * 60 + 2 * 0.5 * 26)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_report_table_names_segments_and_shows_no_code_nan_or_none(labels_run, language):
    stage, _ = labels_run

    html = play_style(play_table(stage.plays, stage.segments, "upgrade", language=language),
                      language=language).to_html()
    sentence = largest_opportunity_text(stage.plays, stage.segments, language=language)

    assert ("活跃" if language == "zh" else "Active") in html and "active" not in html
    assert "upgrade" not in html and "nan" not in html.lower() and "None" not in html
    assert ">2<" in html and ">25.0%<" in html and ">30<" in html  # customers, rate, 2 × 0.25 × 60
    assert ("升级" if language == "zh" else "upgrade") in sentence and "**" in sentence
    assert "nan" not in sentence and "None" not in sentence


def test_a_previous_run_without_tags_gives_no_migration_and_one_with_them_does(labels_run, tmp_path):
    """The previous run named may not have run labels (only merge): no migration, no error; with its tags, the
    migration counts this run's customers by their previous segment."""
    stage, out = labels_run
    run_dir = out.parents[1]
    without = tmp_path / "previous_merge_only"
    (without / "outputs" / "merge").mkdir(parents=True)
    again = labels.run(StageContext(load_engagement(tmp_path / "acme" / "engagement.yaml"), "labels", run_dir, previous_run_dir=without))
    assert again.migration is None and "migration" not in again.written
    again = labels.run(StageContext(load_engagement(tmp_path / "acme" / "engagement.yaml"), "labels", run_dir, previous_run_dir=run_dir))
    assert int(again.migration.to_numpy().sum()) == again.counts["customers"]
    assert all(again.migration.at[s, c] == 0 for s in again.migration.index for c in again.migration.columns
               if s != c)
