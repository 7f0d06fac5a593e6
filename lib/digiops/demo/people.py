"""The real people behind the demo client's records (the truth), generated in vectorized chunks.

A chunk of people is a dict of numpy arrays (one entry per person) plus the clean text fields. Households share an
address and a phone (the shared family phone); their surnames often agree, their given names and birth dates never
do. A few people give up their number and the carrier later hands it to a stranger (a recycled number): each
record carries the phone its person had on the record's date (:func:`phone_at`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from digiops.demo.accounts import stream
from digiops.demo.config import PERIOD_END, PERIOD_START, DemoConfig
from digiops.demo.dirt import text, where, zpad
from digiops.demo.reference import (CITIES, COMMUNITIES, EMAIL_DOMAINS, MEMBER_LEVELS, NEW_PHONE_PREFIXES,
                                    PHONE_PREFIXES, SOCIAL_CAMPAIGNS, SOCIAL_CHANNELS, STORES_PER_CITY, STREETS,
                                    given_table, surname_table)

PERSON_SYSTEMS = ("crm", "miniprogram", "pos_members", "social_leads")
_DAY = np.timedelta64(1, "D")
_SEC = np.timedelta64(1, "s")


def city_store_index() -> list[np.ndarray]:
    """For each city, the 0-based indexes of its stores (stores are numbered city by city)."""
    starts = np.concatenate([[0], np.cumsum(STORES_PER_CITY)[:-1]])
    return [np.arange(s, s + k) for s, k in zip(starts, STORES_PER_CITY)]


def make_people(start: int, n: int, rng: np.random.Generator, config: DemoConfig) -> dict[str, np.ndarray]:
    """``n`` people with global indexes ``start …``: names, birth, phone, address, systems, appetite."""
    rates = config.dirt
    idx = np.arange(start, start + n, dtype=np.int64)
    surnames, surname_p, surname_py, surname_naive = surname_table()
    given, given_py = given_table()

    surname_i = rng.choice(len(surnames), n, p=surname_p)
    g1 = rng.integers(0, len(given), n)
    g2 = rng.integers(0, len(given), n)
    single = rng.random(n) < 0.3
    g2 = np.where(single, -1, g2)
    gender = np.where(rng.random(n) < 0.58, "F", "M")
    birth = (np.datetime64("1968-01-01") + rng.triangular(0, 26 * 365, 38 * 365, n).astype(np.int64) * _DAY)

    city_weights = np.asarray(STORES_PER_CITY, dtype=float)
    city_i = rng.choice(len(CITIES), n, p=city_weights / city_weights.sum())
    n_districts = np.asarray([len(c[3]) for c in CITIES])
    district_i = (rng.random(n) * n_districts[city_i]).astype(np.int64)
    street_i = rng.integers(0, len(STREETS), n)
    street_no = rng.integers(1, 999, n)
    community_i = rng.integers(0, len(COMMUNITIES), n)
    building = rng.integers(1, 30, n)
    room = rng.integers(1, 28, n) * 100 + rng.integers(1, 6, n)

    # phones: a bijection of the global index keeps them unique at any scale
    prefix = np.asarray(PHONE_PREFIXES, dtype=np.int64)[rng.integers(0, len(PHONE_PREFIXES), n)]
    phone = prefix * 100_000_000 + (idx * 7_654_321 + 1_234_567) % 100_000_000
    phone = np.where(phone == 13_800_000_000, 13_800_000_001, phone)

    # households: a family member takes the phone and address of the person before them in the chunk
    family = rng.random(n) < rates.shared_family_phone
    family[0] = False
    head = np.maximum.accumulate(np.where(family, 0, np.arange(n)))
    extra = stream(config.seed, start, 0x50)  # draws added later than the ones above, so those keep their values
    unit = np.where(extra.random(n) < 0.6, extra.integers(1, 5, n), 0)  # 0: a building without 单元
    for column in (city_i, district_i, street_i, street_no, community_i, building, unit, room, phone):
        column[:] = column[head]
    same_surname = family & (rng.random(n) < 0.6)
    surname_i = np.where(same_surname, surname_i[head], surname_i)
    # a family member is someone else: another given name and birth date; a spouse (other surname) the other gender
    same_given = family & (g1 == g1[head]) & (g2 == g2[head])
    g1 = np.where(same_given, (g1 + 1) % len(given), g1)
    birth = np.where(family & (birth == birth[head]), birth + (1 + extra.integers(0, 3000, n)) * _DAY, birth)
    spouse = family & ~same_surname
    gender = np.where(spouse, np.where(gender[head] == "F", "M", "F"), gender)
    old_phone, phone_since, giver, taker = _recycle_numbers(idx, family, head, phone, extra, rates.recycled_phone)

    # names (clean)
    g2_char = np.where(g2 >= 0, given[np.maximum(g2, 0)], "")
    full_name = text(surnames[surname_i]) + text(given[g1]) + text(g2_char)
    g2_py = np.where(g2 >= 0, given_py[np.maximum(g2, 0)], "")
    given_pinyin = text(given_py[g1]) + text(g2_py)
    surname_pinyin = text(surname_py[surname_i])

    has_email = rng.random(n) < 0.35
    email_user = given_pinyin + surname_pinyin + zpad(rng.integers(0, 1000, n), 2)
    email = where(has_email, email_user + "@" + text(np.asarray(EMAIL_DOMAINS)[rng.integers(0, len(EMAIL_DOMAINS),
                                                                                          n)]),
                  pd.Series([""] * n, dtype="str"))

    province = np.asarray([c[1] for c in CITIES], dtype=object)[city_i]
    city = np.asarray([c[2] for c in CITIES], dtype=object)[city_i]
    region = np.asarray([c[0] for c in CITIES], dtype=object)[city_i]
    district_names = np.asarray([d for c in CITIES for d in c[3]], dtype=object)
    district_offset = np.concatenate([[0], np.cumsum(n_districts)[:-1]])
    district = district_names[district_offset[city_i] + district_i]
    detail = (text(np.asarray(STREETS)[street_i]) + text(street_no) + "号" + text(np.asarray(COMMUNITIES)[community_i])
              + text(building) + "栋" + where(unit > 0, text(unit) + "单元", pd.Series([""] * n, dtype="str"))
              + text(room) + "室")

    # home store: one of the stores of the person's city
    store_lists = city_store_index()
    counts = np.asarray([len(s) for s in store_lists])
    firsts = np.asarray([s[0] for s in store_lists])
    home_store = firsts[city_i] + (rng.random(n) * counts[city_i]).astype(np.int64)

    span = (np.datetime64(PERIOD_END) - np.datetime64(PERIOD_START) + _DAY) // _DAY
    registered = (np.datetime64(PERIOD_START) - 730 * _DAY
                  + rng.integers(0, (730 + span) * 86400, n) * _SEC)
    # A registered while the number was theirs; B is a new customer who signs up with the number they were given
    before = phone_since[giver] - extra.integers(30, 365, len(giver)) * 86400 * _SEC
    after = phone_since[taker] + extra.integers(1, 90, len(taker)) * 86400 * _SEC
    registered[giver] = np.minimum(registered[giver], before)
    registered[taker] = np.minimum(np.maximum(registered[taker], after), np.datetime64(PERIOD_END, "s"))

    presence = rng.random((n, len(PERSON_SYSTEMS))) < np.asarray([config.presence[s] for s in PERSON_SYSTEMS])
    presence[~presence.any(axis=1), 0] = True

    # appetite: orders over the period (negative binomial, mean orders_per_person)
    k = 1.3
    n_orders = rng.negative_binomial(k, k / (k + config.orders_per_person), n)

    # channel preference, shaped by membership: mini-program members buy in the mall, POS members in stores
    mall, online, store = config.channel_mix
    weights = np.column_stack([
        np.full(n, mall) * np.where(presence[:, 1], 2.0, 0.6),
        np.full(n, online),
        np.full(n, store) * np.where(presence[:, 2], 2.5, 0.15)])
    channel_cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)

    channel_names = np.asarray([c for c, _ in SOCIAL_CHANNELS], dtype=object)
    channel_p = np.asarray([p for _, p in SOCIAL_CHANNELS])
    lead_channel = channel_names[rng.choice(len(channel_names), n, p=channel_p)]
    campaign_pick = rng.integers(0, 3, n)
    campaign_table = {c: np.asarray(SOCIAL_CAMPAIGNS[c], dtype=object) for c in channel_names}
    lead_campaign = np.empty(n, dtype=object)
    for c, table in campaign_table.items():
        mask = lead_channel == c
        lead_campaign[mask] = table[campaign_pick[mask] % len(table)]

    if start == 0:
        # seed 002's customer: came from Xiaohongshu, orders in the WeChat mall, shipped by SF Express
        presence[0, 3] = True
        lead_channel[0], lead_campaign[0] = "小红书", SOCIAL_CAMPAIGNS["小红书"][0]
        n_orders[0] = max(n_orders[0], 4)
        channel_cum[0] = (1.0, 1.0, 1.0)

    return {
        "index": idx,
        "person_id": ("P" + zpad(idx + 1, 7)).to_numpy(dtype=object),
        "surname_i": surname_i, "g1": g1, "g2": g2,
        "full_name": full_name.to_numpy(dtype=object),
        "surname_pinyin": surname_pinyin.to_numpy(dtype=object),
        "surname_naive": text(surname_naive[surname_i]).to_numpy(dtype=object),
        "given_pinyin": given_pinyin.to_numpy(dtype=object),
        "gender": gender, "birth": birth.astype("datetime64[D]"),
        "phone": phone, "old_phone": old_phone, "phone_since": phone_since, "household": head + start,
        "email": email.to_numpy(dtype=object),
        "region": region, "province": province, "city": city, "district": district,
        "detail": detail.to_numpy(dtype=object), "city_i": city_i,
        "street_i": street_i, "street_no": street_no, "community_i": community_i, "building": building, "unit": unit,
        "room": room,
        "home_store": home_store, "registered": registered.astype("datetime64[s]"),
        "member_level": np.asarray(MEMBER_LEVELS, dtype=object)[
            np.minimum(rng.geometric(0.55, n) - 1, len(MEMBER_LEVELS) - 1)],
        "presence": presence, "n_orders": n_orders, "channel_cum": channel_cum,
        "lead_channel": lead_channel, "lead_campaign": lead_campaign,
    }


def _recycle_numbers(idx: np.ndarray, family: np.ndarray, head: np.ndarray, phone: np.ndarray,
                     rng: np.random.Generator, rate: float) -> tuple[np.ndarray, ...]:
    """Recycled numbers: person A gives up phone P on day T_A and takes a new number; 90–270 days later the carrier
    hands P to an unrelated person B (who leaves their own number Q). Updates ``phone`` in place to the number each
    person has at the end, and returns the number before the change, the moment of the change (NaT for no change),
    and the rows of the A and the B of each pair.

    Only people alone in their household take part, so a family's shared phone stays the family's.
    """
    n = len(idx)
    old_phone = phone.copy()
    since = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    alone = ~family & ~np.isin(np.arange(n), head[family])
    giver = np.flatnonzero(alone & (rng.random(n) < rate))
    takers = np.flatnonzero(alone)
    takers = takers[~np.isin(takers, giver)]
    taker = rng.choice(takers, min(len(giver), len(takers)), replace=False)
    giver = giver[:len(taker)]
    start = np.datetime64(PERIOD_START, "s")
    gave_up = start + (rng.integers(-180, 240, len(giver)) * 86400 + rng.integers(0, 86400, len(giver))) * _SEC
    handed_on = gave_up + rng.integers(90, 271, len(giver)) * 86400 * _SEC
    recycled = phone[giver].copy()
    old_phone[giver], old_phone[taker] = recycled, phone[taker]
    # A's new number: a range no first number uses, the suffix a bijection of the index (unique at any scale)
    prefix = np.asarray(NEW_PHONE_PREFIXES, dtype=np.int64)[rng.integers(0, len(NEW_PHONE_PREFIXES), len(giver))]
    phone[giver] = prefix * 100_000_000 + (idx[giver] * 3_456_789 + 7_654_321) % 100_000_000
    phone[taker] = recycled
    since[giver], since[taker] = gave_up, handed_on
    return old_phone, since, giver, taker


def phone_at(people: dict, rows: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """The phone (int64) each person of ``rows`` had at ``moment`` (the record's date)."""
    before = moment < people["phone_since"][rows]  # NaT (no change) compares False
    return np.where(before, people["old_phone"][rows], people["phone"][rows])
