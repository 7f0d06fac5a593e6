"""The demo client's online funnel events, tied to people: part of the visitors are logged-in mini-program members.

Each visitor is one journey: visit → add_to_cart (≈ 30 %) → order (≈ 40 % of carts) → repurchase (≈ 25 % of
buyers, some beyond a 30-day window), as the KPI funnel expects. On top, :data:`LOGGED_IN_SHARE` of the visitors
are logged in to the mini-program and their events carry the member id (会员ID) of one of the person's
mini-program member records; a few members are much more active than the rest, so some people visit many times.
The ids are written as real tracking exports write them: mostly as the member table has them, some in lower case
or with stray whitespace (:data:`KEY_DIRT`), and a few name a member record that is not in the member export any more
(a deleted account: :data:`STALE_SHARE`). The rest of the visitors are anonymous (no member id).

The truth (``truth/events.csv``): one row per logged-in visitor with the member id as the member table writes it
and the person it is (empty for a deleted account).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.demo.config import PERIOD_START
from digiops.demo.dirt import text, zpad

#: share of visitors logged in with their mini-program member id
LOGGED_IN_SHARE = 0.4
#: share of logged-in visitors whose member id names no member of the export (deleted accounts)
STALE_SHARE = 0.02
#: shares of logged-in member ids written in lower case, with a leading tab, with surrounding spaces
KEY_DIRT = (0.03, 0.02, 0.03)
#: shape of the members' activity (gamma): below 1, most members visit rarely and a few often
ACTIVITY_SHAPE = 0.5
TRUTH_COLUMNS = ["visitor_id", "member_id", "person_id"]


def _journeys(rng: np.random.Generator, people: int, weights: np.ndarray) -> pd.DataFrame:
    """Anonymous journeys, one row per event (drawn exactly as the funnel always was)."""
    n = int(min(max(people, 100), 200_000))
    start = np.datetime64(PERIOD_START, "s")
    day = rng.choice(len(weights), n, p=weights)
    visit = start + (day * 86400 + rng.integers(8 * 3600, 23 * 3600, n)) * np.timedelta64(1, "s")
    cart = rng.random(n) < 0.30
    ordered = cart & (rng.random(n) < 0.40)
    repurchase = ordered & (rng.random(n) < 0.25)
    t_cart = visit + rng.integers(30, 1800, n) * np.timedelta64(1, "s")
    t_order = t_cart + rng.integers(60, 86400, n) * np.timedelta64(1, "s")
    t_repurchase = t_order + rng.integers(3 * 86400, 50 * 86400, n) * np.timedelta64(1, "s")
    channel = np.where(rng.random(n) < 0.55, "mall", "online")
    visitor = ("V" + zpad(np.arange(1, n + 1), 8)).to_numpy()
    parts = [(np.ones(n, bool), "visit", visit), (cart, "add_to_cart", t_cart), (ordered, "order", t_order),
             (repurchase, "repurchase", t_repurchase)]
    return pd.concat([pd.DataFrame({"访客ID": visitor[m], "环节": stage, "time": t[m], "渠道": channel[m]})
                      for m, stage, t in parts], ignore_index=True)


def logged_in_members(rng: np.random.Generator, visitors: np.ndarray, members: pd.DataFrame) -> pd.DataFrame:
    """The truth: which visitors are logged in, with the member id (as the member table writes it) and the
    person. ``members``: the mini-program's identity truth (``record_id`` = 会员ID, ``person_id``)."""
    n = len(visitors)
    logged = np.flatnonzero(rng.random(n) < LOGGED_IN_SHARE)
    if len(members) == 0 or len(logged) == 0:
        return pd.DataFrame({c: pd.Series([], dtype="str") for c in TRUTH_COLUMNS})
    persons = np.unique(members["person_id"].to_numpy(dtype=str))
    activity = rng.gamma(ACTIVITY_SHAPE, 1.0, len(persons))
    person = persons[rng.choice(len(persons), len(logged), p=activity / activity.sum())]
    # a person registered twice logs in with either account
    by_person = members.assign(person_id=members["person_id"].astype(str)).groupby("person_id")["record_id"].agg(list)
    pick = rng.random(len(logged))
    member = np.array([ids[int(u * len(ids))] for ids, u in zip(by_person.loc[person], pick, strict=True)],
                      dtype=object)
    stale = rng.random(len(logged)) < STALE_SHARE
    member[stale] = ("MP9" + zpad(rng.integers(0, 10**8, int(stale.sum())), 8)).to_numpy()
    return pd.DataFrame({"visitor_id": visitors[logged], "member_id": member,
                         "person_id": np.where(stale, "", person)})


def key_as_written(rng: np.random.Generator, member_ids: pd.Series) -> pd.Series:
    """Member ids as the tracking export writes them (:data:`KEY_DIRT`)."""
    u = rng.random(len(member_ids))
    edges = np.cumsum(KEY_DIRT)
    ids = member_ids.astype("str")
    out = ids.where(~(u < edges[0]), ids.str.lower())
    out = out.where(~((u >= edges[0]) & (u < edges[1])), "\t" + ids)
    return out.where(~((u >= edges[1]) & (u < edges[2])), " " + ids + " ")


def funnel_events(rng: np.random.Generator, people: int, weights: np.ndarray,
                  members: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The funnel events export (事件ID, 访客ID, 会员ID, 环节, 发生时间, 渠道) and its truth
    (:func:`logged_in_members`); without ``members`` every visitor is anonymous."""
    frame = _journeys(rng, people, weights)
    visitors = np.unique(frame["访客ID"].to_numpy(dtype=str))
    truth = logged_in_members(rng, visitors, members if members is not None else pd.DataFrame(
        {"record_id": pd.Series([], dtype="str"), "person_id": pd.Series([], dtype="str")}))
    written = dict(zip(truth["visitor_id"], key_as_written(rng, truth["member_id"]), strict=True))
    frame["会员ID"] = frame["访客ID"].map(written).fillna("").astype("str")
    frame = frame.sort_values(["time", "访客ID"], kind="stable").reset_index(drop=True)
    frame.insert(0, "事件ID", ("E" + zpad(np.arange(1, len(frame) + 1), 9)).to_numpy())
    frame["发生时间"] = text(np.datetime_as_string(frame["time"].to_numpy().astype("datetime64[s]"))).str.replace(
        "T", " ", regex=False).to_numpy()
    return frame[["事件ID", "访客ID", "会员ID", "环节", "发生时间", "渠道"]], truth.reset_index(drop=True)
