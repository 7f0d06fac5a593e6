"""Behaviour features from event data (issue 23): each feature against an independent computation, the key
normalization, the accounting of every event, and the demo's logged-in events linked to the right people."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest

from digiops import engines
from digiops.labels.behaviour import (CROSSWALK, EVENTS_SQL, LINKED, RAW, RECORDS, EventFeatures, event_table,
                                      link_events, link_summary, record_table)
from digiops.labels.catalog import parse_catalog
from digiops.labels.evaluate import evaluate, features_frame
from digiops.labels.measures import tag_distribution

from tests.labels import fixtures as fx

AS_OF = dt.date(2026, 10, 1)
FEATURES = ["visit_recency_days", "visits", "visits_30d", "visits_90d", "cart_adds", "abandoned_carts",
            "event_orders", "browse_never_buy"]


def at(day: str, time: str = "12:00:00") -> str:
    return f"{day} {time}"


def event_rows(rows: list[tuple[str | None, str, str]]) -> pd.DataFrame:
    """Canonical events (customer_key, stage, event_time), one visitor per row."""
    return pd.DataFrame({"event_id": [f"E{i}" for i in range(len(rows))],
                         "visitor_id": [f"V{i}" for i in range(len(rows))],
                         "customer_key": [r[0] for r in rows], "stage": [r[1] for r in rows],
                         "event_time": [r[2] for r in rows], "channel": "mall"})


def crosswalk(pairs: dict[str, str], source: str = "miniprogram") -> pd.DataFrame:
    return pd.DataFrame({"source": source, "record_id": list(pairs), "customer_id": list(pairs.values())})


def linking(events: pd.DataFrame, xwalk: pd.DataFrame, source: str = "miniprogram",
            records: pd.DataFrame | None = None, field: str | None = None, engine=None):
    """A DuckDB connection with the events linked as the stage links them (the view LINKED; on Spark also a Spark
    view of that name)."""
    con = duckdb.connect()
    engines.register(con, RAW, event_table(events).to_pandas(), engine)
    engines.register(con, CROSSWALK, xwalk, engine)
    if records is not None:
        engines.register(con, RECORDS, record_table(records, field).to_pandas(), engine)
    link_events(con, source, through_records=records is not None, engine=engine)
    return con


def linked_frame(con, engine=None) -> pd.DataFrame:
    """Every event of ``con``'s LINKED view, in the source's order (``None`` where a value is missing)."""
    frame = engines.fetch_frame(con, f"SELECT * FROM {LINKED} ORDER BY _event", engine).astype(object)
    return frame.where(frame.notna(), None)


def reference(events: pd.DataFrame, orders: list[dict], customers: list[str], *, as_of: dt.date, window: int,
              complete: bool = False, visit: str = "visit", cart: str = "add_to_cart",
              order_stages: tuple[str, ...] = ("order", "repurchase")) -> pd.DataFrame:
    """The features computed row by row from their definitions (not from the SQL)."""
    cut = dt.datetime.combine(as_of, dt.time())
    seen = [(c, s.strip(), pd.Timestamp(t).to_pydatetime()) for c, s, t in
            zip(events["customer_id"], events["stage"], events["event_time"], strict=True)
            if c is not None and pd.notna(pd.Timestamp(t)) and pd.Timestamp(t).to_pydatetime() < cut]
    paid = [(o["customer_id"], o["order_time"]) for o in orders
            if o["customer_id"] is not None and o.get("state", "paid") == "paid" and o["order_time"] < cut]
    rows = []
    for customer in customers:
        mine = [(s, t) for c, s, t in seen if c == customer]
        if not mine:
            empty = 0 if complete else None
            rows.append({"customer_id": customer, "visit_recency_days": None, "visits": empty, "visits_30d": empty,
                         "visits_90d": empty, "cart_adds": empty, "abandoned_carts": empty, "event_orders": empty,
                         "browse_never_buy": False if complete else None})
            continue
        visits = [t for s, t in mine if s == visit]
        carts = [t for s, t in mine if s == cart]
        event_orders = [t for s, t in mine if s in order_stages]
        conversions = event_orders + [t for c, t in paid if c == customer]
        abandoned = sum(1 for t in carts
                        if not any(t <= o <= t + dt.timedelta(days=window) for o in conversions))
        days = [(as_of - t.date()).days for t in visits]
        bought = any(c == customer for c, _ in paid)
        rows.append({"customer_id": customer, "visit_recency_days": min(days) if days else None,
                     "visits": len(visits), "visits_30d": sum(d <= 30 for d in days),
                     "visits_90d": sum(d <= 90 for d in days), "cart_adds": len(carts),
                     "abandoned_carts": abandoned, "event_orders": len(event_orders),
                     "browse_never_buy": bool(visits) and not event_orders and not bought})
    return pd.DataFrame(rows)


def compare(features: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = features.set_index("customer_id")[FEATURES]
    want = expected.set_index("customer_id")[FEATURES]
    for column in FEATURES:
        for customer in want.index:
            a, b = got.at[customer, column], want.at[customer, column]
            assert (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == b), \
                (customer, column, a, b)


def features_of(customers, orders, events, *, window=30, complete=False, as_of=AS_OF):
    con = linking(events, crosswalk({c: c for c in customers}))
    tables = fx.tables([fx.customer(c) for c in customers], orders, order_schema=fx.STATE_ORDER_SCHEMA)
    tables["events"] = con.sql(EVENTS_SQL).df()
    spec = EventFeatures(window_days=window, complete=complete)
    return features_frame(tables, as_of=as_of, events=spec), linked_frame(con)


def paid(order_id, customer_id, when: dt.datetime, amount="20.00", state="paid"):
    return fx.order(order_id, customer_id, when, amount, state=state, in_gmv=state == "paid")


def test_hand_picked_cases_match_the_definitions():
    events = event_rows([
        # C1: visits 1, 30, 31 and 120 days before as_of; a cart converted by an order event an hour later
        ("C1", "visit", at("2026-09-30")), ("C1", "visit", at("2026-09-01")), ("C1", "visit", at("2026-08-31")),
        ("C1", "visit", at("2026-06-03")), ("C1", "add_to_cart", at("2026-06-03", "12:05:00")),
        ("C1", "order", at("2026-06-03", "13:00:00")),
        # C2: a cart whose only order comes 30 days + 1 s later (abandoned), another converted at exactly 30 days
        ("C2", "visit", at("2026-05-01")), ("C2", "add_to_cart", at("2026-05-01")),
        ("C2", "order", "2026-05-31 12:00:01"), ("C2", "add_to_cart", at("2026-07-01")),
        ("C2", "order", at("2026-07-31")),
        # C3: visits, never orders anywhere → browse without buying; an event after as_of is not seen
        ("C3", "visit", at("2026-09-20")), ("C3", "order", at("2026-10-01", "00:00:00")),
        # C4: visits, a cart converted by a purchase in the orders table (not an order event); not browse-only
        ("C4", "visit", at("2026-09-10")), ("C4", "add_to_cart", at("2026-09-10")),
        # C5: a cart of the last days without an order yet: abandoned so far
        ("C5", "add_to_cart", at("2026-09-29")),
        # C6: visits and a purchase in the orders table long ago → bought, not browse-only; cart refunded later
        ("C6", " visit ", at("2025-01-01")),
    ])
    orders = [paid("o1", "C4", dt.datetime(2026, 9, 12, 9)), paid("o2", "C6", dt.datetime(2024, 5, 1, 9)),
              paid("o3", "C5", dt.datetime(2026, 9, 29, 9))]  # before C5's cart: does not convert it
    customers = ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    features, linked = features_of(customers, orders, events)
    by = features.set_index("customer_id")
    assert by.loc["C1", ["visit_recency_days", "visits", "visits_30d", "visits_90d"]].tolist() == [1, 4, 2, 3]
    assert by.loc["C1", "abandoned_carts"] == 0 and by.loc["C1", "event_orders"] == 1
    assert by.loc["C2", ["cart_adds", "abandoned_carts"]].tolist() == [2, 1]
    assert bool(by.loc["C3", "browse_never_buy"]) and by.loc["C3", "event_orders"] == 0
    assert by.loc["C4", "abandoned_carts"] == 0 and not bool(by.loc["C4", "browse_never_buy"])
    assert by.loc["C5", "abandoned_carts"] == 1 and pd.isna(by.loc["C5", "visit_recency_days"])
    assert by.loc["C6", "visits"] == 1 and not bool(by.loc["C6", "browse_never_buy"])
    assert by.loc["C7", FEATURES].isna().all()  # no events: no behaviour features, not "never visited"
    compare(features, reference(linked, orders, customers, as_of=AS_OF, window=30))


def test_complete_events_give_customers_without_events_zero_visits():
    events = event_rows([("C1", "visit", at("2026-09-30"))])
    features, linked = features_of(["C1", "C2"], [], events, complete=True)
    c2 = features.set_index("customer_id").loc["C2"]
    assert c2["visits"] == 0 and c2["abandoned_carts"] == 0 and not bool(c2["browse_never_buy"])
    assert pd.isna(c2["visit_recency_days"])
    compare(features, reference(linked, [], ["C1", "C2"], as_of=AS_OF, window=30, complete=True))


@pytest.mark.parametrize("window", [1, 7, 30])
def test_random_events_match_the_reference(window):
    rng = np.random.default_rng(window)
    customers = [f"C{i:02d}" for i in range(40)]
    stages = ["visit", "visit", "add_to_cart", "order", "repurchase"]
    start = pd.Timestamp("2026-03-01")
    rows = [(str(rng.choice(customers + [None])), str(rng.choice(stages)),
             str(start + pd.Timedelta(seconds=int(rng.integers(0, 230 * 86400))))) for _ in range(600)]
    rows = [(None if c == "None" else c, s, t) for c, s, t in rows]
    orders = [paid(f"o{i}", str(rng.choice(customers)),
                   (start + pd.Timedelta(seconds=int(rng.integers(0, 230 * 86400)))).to_pydatetime(),
                   state=str(rng.choice(["paid", "paid", "cancelled"]))) for i in range(60)]
    features, linked = features_of(customers, orders, event_rows(rows), window=window)
    compare(features, reference(linked, orders, customers, as_of=AS_OF, window=window))


def test_keys_normalize_like_merge_key_links():
    raw = ["\t00123", "123.0", "'123", "00123", " MP0042 ", "mp0042", '="MP0042"', "-", "0", "", None]
    linked = linked_frame(linking(event_rows([(k, "visit", at("2026-09-01")) for k in raw]),
                                  crosswalk({"123": "C1", "MP0042": "C2"})))
    assert linked["key"].tolist() == ["123", "123", "123", "123", "mp0042", "mp0042", "mp0042", None, None, None,
                                      None]
    assert linked["link_status"].tolist() == ["linked"] * 7 + ["anonymous"] * 4


def test_every_event_is_accounted_for():
    events = event_rows([("123.0", "visit", at("2026-09-01")), ("\t00123", "visit", at("2026-09-02")),
                         ("mp0042", "visit", at("2026-09-03")), ("MP9999", "visit", at("2026-09-04")),
                         (None, "visit", at("2026-09-05")), ("-", "visit", at("2026-09-06")),
                         ("777.0", "add_to_cart", "not a time")])
    con = linking(events, crosswalk({"00123": "C1", "MP0042": "C2", "MP0042 ": "C3", "777": "C4"}))
    linked = linked_frame(con)
    assert linked["link_status"].tolist() == ["linked", "linked", "ambiguous", "unknown_key", "anonymous",
                                              "anonymous", "linked"]
    assert linked["customer_id"].tolist() == ["C1", "C1", None, None, None, None, "C4"]
    summary = link_summary(con).set_index("status")
    assert summary["events"].to_dict() == {"linked": 3, "unknown_key": 1, "ambiguous": 1, "anonymous": 2}
    assert summary["events"].sum() == len(events) and summary.loc["linked", "customers"] == 2
    assert summary.loc["anonymous", "visitors"] == 2
    assert summary["share"].sum() == pytest.approx(1.0)
    # the features read the linked events with a readable time: C4's event has none
    assert con.sql(EVENTS_SQL).df()["customer_id"].tolist() == ["C1", "C1"]


def test_events_are_read_in_the_client_formats():
    events = event_rows([("C1", " visit\u3000", "2026/9/1 8:05"), ("C1", "visit", "2026-09-01T00:30:00+00:00"),
                         ("C1", "visit", "")])
    table = event_table(events, "Asia/Shanghai").to_pandas()
    assert table["event_time"].tolist()[:2] == [pd.Timestamp("2026-09-01 08:05"), pd.Timestamp("2026-09-01 08:30")]
    assert pd.isna(table["event_time"].iloc[2]) and table["_event"].tolist() == [0, 1, 2]
    viewed = linking(events, crosswalk({"C1": "C1"})).sql(EVENTS_SQL).df()
    assert viewed["stage"].tolist() == ["visit", "visit"]  # trimmed, the full-width space included


def test_a_key_other_than_the_id_column_goes_through_the_records():
    xwalk = pd.DataFrame({"source": ["miniprogram"] * 3 + ["crm"], "record_id": ["MP1", "MP2", "MP3", "MP1"],
                          "customer_id": ["C1", "C2", "C2", "C9"]})
    records = pd.DataFrame({"record_id": ["MP1", "MP2", "MP3"], "openid": ["oAbC1", "oXyZ2", None]})
    events = event_rows([(" oAbC1", "visit", at("2026-09-01")), ("MP1", "visit", at("2026-09-01")),
                         ("OXYZ2", "visit", at("2026-09-01"))])
    linked = linked_frame(linking(events, xwalk, records=records, field="openid"))
    assert linked["link_status"].tolist() == ["linked", "unknown_key", "linked"]
    assert linked["customer_id"].tolist() == ["C1", None, "C2"]


CATALOG = """
tags:
  - id: visit_recency
    name: {zh: 访问新近度, en: Visit recency}
    category: behaviour
    definition: 最近一次访问距统计日天数
    owner: 数据部
    source_fields: [funnel_events.event_time]
    refresh: daily
    scenario: 触达
    version: 1
    values:
      - {value: within_30d, name: {zh: 30天内, en: Within 30 days}, rule: "visit_recency_days <= 30"}
      - {value: over_30d, name: {zh: 30天以上, en: Over 30 days}, rule: "visit_recency_days > 30"}
  - id: browser_only
    name: {zh: 只逛不买, en: "Browses, never buys"}
    category: behaviour
    definition: 有访问，从未下单
    owner: 数据部
    source_fields: [funnel_events.stage]
    refresh: daily
    scenario: 首单转化
    version: 1
    rule: "browse_never_buy"
  - id: repeat_buyer
    name: {zh: 复购, en: Repeat}
    category: behaviour
    definition: 两单以上
    owner: 数据部
    source_fields: [orders.order_id]
    refresh: daily
    scenario: 复购
    version: 1
    rule: "frequency >= 2"
"""


def test_tags_over_event_features_and_their_distribution():
    catalog = parse_catalog(CATALOG, "catalog.yaml")
    events = event_rows([("C1", "visit", at("2026-09-30")), ("C2", "visit", at("2026-05-01"))])
    con = linking(events, crosswalk({"C1": "C1", "C2": "C2"}))
    tables = fx.tables([fx.customer(c) for c in ("C1", "C2", "C3")],
                       [paid("o1", "C2", dt.datetime(2026, 5, 2, 9))], order_schema=fx.STATE_ORDER_SCHEMA)
    tables["events"] = con.sql(EVENTS_SQL).df()
    run = evaluate(tables, catalog, as_of=AS_OF, events=EventFeatures())
    tags = run.tags.set_index("customer_id")
    assert tags.loc["C1", "visit_recency"] == "within_30d" and tags.loc["C2", "visit_recency"] == "over_30d"
    assert pd.isna(tags.loc["C3", "visit_recency"])  # no events: no tag
    assert bool(tags.loc["C1", "browser_only"]) and pd.isna(tags.loc["C2", "browser_only"])
    table = tag_distribution(run.table, catalog, with_events=2)  # C1 and C2 have events
    assert set(table["tag_id"]) == {"visit_recency", "browser_only"}  # repeat_buyer reads no event field
    row = table.set_index(["tag_id", "value"])
    assert row.loc[("visit_recency", "within_30d"), "customers"] == 1
    assert row.loc[("visit_recency", "within_30d"), "share"] == pytest.approx(0.5)
    assert row.loc[("browser_only", "true"), "share_all"] == pytest.approx(1 / 3)


def test_without_event_data_the_features_are_empty():
    tables = fx.tables([fx.customer("C1")], [paid("o1", "C1", dt.datetime(2026, 9, 1, 9))],
                       order_schema=fx.STATE_ORDER_SCHEMA)
    features = features_frame(tables, as_of=AS_OF)
    assert features[FEATURES].isna().all().all()


def test_demo_logged_in_events_link_to_their_people(tmp_path):
    from digiops.demo.build import generate

    generate(tmp_path, people=400, seed=3)
    raw = pd.read_csv(tmp_path / "raw" / "funnel_events.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(tmp_path / "truth" / "events.csv", dtype=str, keep_default_na=False)
    identity = pd.read_csv(tmp_path / "truth" / "identity.csv", dtype=str, keep_default_na=False)
    # the person ids as customer ids: a perfect merge
    xwalk = identity.rename(columns={"person_id": "customer_id"})
    events = raw.rename(columns={"事件ID": "event_id", "访客ID": "visitor_id", "会员ID": "customer_key",
                                 "环节": "stage", "发生时间": "event_time", "渠道": "channel"})
    linked = linked_frame(linking(events, xwalk))
    person = dict(zip(truth["visitor_id"], truth["person_id"]))
    logged_in = linked["visitor_id"].isin(person)
    assert (linked.loc[~logged_in, "link_status"] == "anonymous").all()
    expected = linked.loc[logged_in, "visitor_id"].map(person)
    known = expected != ""
    assert (linked.loc[logged_in][known.to_numpy()]["customer_id"] == expected[known]).all()
    assert (linked.loc[logged_in][~known.to_numpy()]["link_status"] == "unknown_key").all()
    assert known.sum() > 0 and (~known).sum() >= 0
    # written with dirt (case, tab, spaces) yet all linked
    written = linked.loc[logged_in, "customer_key"]
    assert (written != written.str.strip()).any() or (written.str.lower() == written).any()
    # the KPI funnel's shape is kept
    visitors = events.groupby("stage")["visitor_id"].nunique()
    assert 0.2 < visitors["add_to_cart"] / visitors["visit"] < 0.4
    assert 0.25 < visitors["order"] / visitors["add_to_cart"] < 0.55
    assert 0.35 < logged_in.groupby(linked["visitor_id"]).first().mean() < 0.45


def test_validate_names_a_wrong_events_setting(tmp_path):
    import shutil

    from digiops.engagement import load_engagement
    from digiops.labels.check import event_problems
    from digiops.paths import demo_client_dir

    for name in ("engagement.yaml", "tag_catalog.yaml", "kpi_tree.yaml"):
        shutil.copy(demo_client_dir() / name, tmp_path / name)
    assert event_problems(load_engagement(tmp_path / "engagement.yaml")) == []
    text = (tmp_path / "engagement.yaml").read_text(encoding="utf-8")
    (tmp_path / "engagement.yaml").write_text(text.replace("customer_key: {source: miniprogram, field: member_id}",
                                                           "customer_key: {source: stores, field: nickname}"),
                                              encoding="utf-8")
    problems = event_problems(load_engagement(tmp_path / "engagement.yaml"))
    assert len(problems) == 1 and "holds no people" in str(problems[0])
    assert problems[0].field == "labels.events.customer_key.source"


@pytest.mark.spark
@pytest.mark.slow
def test_spark_gives_the_duckdb_behaviour_features(tmp_path):
    import os
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        pyspark = None
    if pyspark is None or shutil.which("java") is None:
        if os.environ.get("CI"):
            pytest.fail("pyspark or Java missing")
        pytest.skip("pyspark or Java missing")
    from digiops.engines import EngineSettings

    rng = np.random.default_rng(4)
    customers = [f"C{i:02d}" for i in range(25)]
    start = pd.Timestamp("2026-04-01")
    # keys as clients write them: tabs, case, an Excel formula, placeholders, unknown keys, one ambiguous key
    dirt = [lambda c: c, lambda c: f"\t{c}", lambda c: c.lower(), lambda c: f'="{c}"', lambda c: None,
            lambda c: "-", lambda c: "X99"]
    rows = [(dirt[int(rng.integers(0, len(dirt)))](str(rng.choice(customers))),
             str(rng.choice(["visit", "add_to_cart", "order"])),
             str(start + pd.Timedelta(seconds=int(rng.integers(0, 190 * 86400))))) for _ in range(300)]
    orders = [paid(f"o{i}", str(rng.choice(customers)),
                   (start + pd.Timedelta(seconds=int(rng.integers(0, 190 * 86400)))).to_pydatetime())
              for i in range(30)]
    xwalk = crosswalk({**{c: c for c in customers}, "c00 ": "C01"})  # "c00" names two customers
    events = event_rows(rows)
    duck_con = linking(events, xwalk)
    # the Spark engine tests' settings: the session (a JVM start) is shared with them, and they stop it
    engine = EngineSettings(kind="spark", master="local[2]")
    spark_con = linking(events, xwalk, engine=engine)
    pd.testing.assert_frame_equal(linked_frame(spark_con, engine)[["_event", "key", "customer_id", "link_status"]],
                                  linked_frame(duck_con)[["_event", "key", "customer_id", "link_status"]],
                                  check_dtype=False)
    summary = link_summary(duck_con)
    assert set(summary.loc[summary["events"] > 0, "status"]) == {"linked", "ambiguous", "unknown_key", "anonymous"}
    pd.testing.assert_frame_equal(link_summary(spark_con, engine), summary)
    tables = fx.tables([fx.customer(c) for c in customers], orders, order_schema=fx.STATE_ORDER_SCHEMA)
    duck = features_frame({**tables, "events": duck_con.sql(EVENTS_SQL).df()}, as_of=AS_OF,
                          events=EventFeatures(window_days=7))
    spark = features_frame({**{k: v.to_pandas() if hasattr(v, "to_pandas") else v for k, v in tables.items()},
                            "events": engines.fetch_frame(spark_con, EVENTS_SQL, engine)}, as_of=AS_OF,
                           events=EventFeatures(window_days=7), engine=engine)
    compare(spark, duck)
    assert duck["visits"].notna().sum() > 15
