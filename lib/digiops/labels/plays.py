"""Segment plays: what to do with each RFM segment, and how much it may bring (seed 002: segment → strategy).

Each segment of the R × F segment map (``resources/rfm_segments.yaml``, or the engagement's
``labels.segment_map``) may name its play — ``win_back``, ``upgrade``, ``nurture`` or ``retain`` — with the channel
it runs through and the offer it makes, in Chinese and English::

    - id: at_risk
      name: {zh: 流失风险, en: At risk}
      r: [1, 2]
      f: [3, 4]
      play: win_back
      channel: {zh: 短信 + 企业微信, en: SMS + WeCom}
      offer: {zh: 回归礼券, en: Welcome-back voucher}

A segment without ``play`` has no play (no sizing, no audience). :func:`parse_play` refuses, with a located
:class:`~digiops.errors.CatalogError`, an unknown play, a play without its channel or offer, and a channel or offer
without a play.

Sizing (:func:`size_plays`, DOMAIN.md §"Segment opportunity"), per segment with a play, over the customers of the
tag matrix in that segment and the history the RFM uses (every counted order before ``as_of``; ``monetary`` nets
refunds, ``frequency`` counts purchases):

* ``customers`` = customers in the segment;
* ``value`` = Σ monetary, ``mean_value`` = value / customers (their historical value);
* ``mean_order_value`` = value / Σ frequency (the segment's value per purchase);
* ``expected_responders`` = customers × response rate (``labels.plays.response_rates`` of the play);
* ``expected_value`` = expected responders × mean order value — one purchase per responder, what one run of the
  play may bring;
* ``responder_value`` = expected responders × mean value — what the responders brought over the whole history, the
  value kept or won back if they stay as they were (DOMAIN.md's "customers × mean value × response rate").

The response rate comes from the engagement settings only. Measuring it from past actions needs actions tied to a
segment's audience and their later purchases; the kpi stage's action log ties actions to KPIs, so that route is not
measurable yet (the report says so).

Every table here holds codes (segment ids, play codes) and numbers, with the channel and offer in both languages;
:mod:`digiops.labels.report` names them for the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from digiops import engines
from digiops.engagement import closest
from digiops.errors import CatalogError, EngagementError
from digiops.labels.tagtable import TagTable, segment_figures
from digiops.settings.labels import PlayResponseRates
from digiops.text import in_language

#: the plays a segment may name, in the order the report shows them.
PLAYS: tuple[str, ...] = tuple(PlayResponseRates.model_fields)
#: keys an entry of the segment map may have.
SEGMENT_KEYS = ("id", "name", "r", "f", "play", "channel", "offer")
#: columns of :func:`size_plays` (``plays.parquet``).
PLAY_COLUMNS = ["play", "segment", "customers", "value", "mean_value", "purchases", "mean_order_value",
                "response_rate", "expected_responders", "expected_value", "responder_value", "channel_zh",
                "channel_en", "offer_zh", "offer_en"]
#: columns of the audience list (:func:`audience`): the merge's stable customer id, never a personal field.
AUDIENCE_COLUMNS = ["customer_id", "segment", "play", "channel", "offer"]
#: where a response rate is set, for messages.
RATES_FIELD = "labels.plays.response_rates"


@dataclass(frozen=True)
class Play:
    """The play of one segment: its code, and the channel and offer in Chinese and English."""

    play: str
    channel_zh: str
    channel_en: str
    offer_zh: str
    offer_en: str


def _bilingual(value: object, key: str, where: str, source: str) -> tuple[str, str]:
    """(zh, en) of a ``{zh, en}`` mapping, or of a plain text used in both languages."""
    if isinstance(value, str) and value.strip():
        return value.strip(), value.strip()
    if isinstance(value, dict) and set(value) == {"zh", "en"} and all(
            isinstance(value[k], str) and value[k].strip() for k in ("zh", "en")):
        return value["zh"].strip(), value["en"].strip()
    raise CatalogError(source, f"`{key}` must be a text or {{zh: …, en: …}} with both texts given", field=where,
                       fix=f"write e.g. `{key}: {{zh: 短信, en: SMS}}`")


def parse_play(entry: Mapping[str, object], source: str = "rfm_segments.yaml") -> Play | None:
    """The play of one segment-map entry (``None`` when it names none); a CatalogError naming the segment and the
    fix for an unknown key or play, a play without its channel or offer, or a channel or offer without a play.

    >>> parse_play({"id": "at_risk", "play": "win_back", "channel": "短信", "offer": {"zh": "回归券", "en": "Voucher"}})
    Play(play='win_back', channel_zh='短信', channel_en='短信', offer_zh='回归券', offer_en='Voucher')
    """
    where = f"segment '{entry.get('id', '?')}'"
    for key in entry:
        if key not in SEGMENT_KEYS:
            match = closest(str(key), list(SEGMENT_KEYS))
            raise CatalogError(source, f"unknown key `{key}`", field=where,
                               fix=f"did you mean `{match}`?" if match else f"use one of: {', '.join(SEGMENT_KEYS)}")
    play = entry.get("play")
    if play is None:
        given = [key for key in ("channel", "offer") if entry.get(key) is not None]
        if given:
            raise CatalogError(source, f"has `{given[0]}` but no `play`", field=where,
                               fix=f"add `play:` (one of {', '.join(PLAYS)}) or remove `{given[0]}`")
        return None
    if play not in PLAYS:
        match = closest(str(play), list(PLAYS))
        raise CatalogError(source, f"play '{play}' is not a play", field=f"{where}.play",
                           fix=(f"did you mean `{match}`? " if match else "") + f"use one of: {', '.join(PLAYS)}")
    for key in ("channel", "offer"):
        if entry.get(key) is None:
            raise CatalogError(source, f"play '{play}' has no `{key}`", field=where,
                               fix=f"add `{key}: {{zh: …, en: …}}` — the {key} the play runs "
                                   f"{'through' if key == 'channel' else 'with'}")
    channel = _bilingual(entry["channel"], "channel", where, source)
    offer = _bilingual(entry["offer"], "offer", where, source)
    return Play(str(play), *channel, *offer)


def response_rates(rates: PlayResponseRates | Mapping[str, float]) -> dict[str, float]:
    """The response rate of every play, checked: a rate for each play, each within [0, 1] (EngagementError naming
    the setting otherwise)."""
    given = dict(rates.model_dump() if isinstance(rates, PlayResponseRates) else rates)
    for play, rate in given.items():
        if play not in PLAYS:
            match = closest(str(play), list(PLAYS))
            raise EngagementError("engagement.yaml", f"'{play}' is not a play", field=f"{RATES_FIELD}.{play}",
                                  fix=(f"did you mean `{match}`? " if match else "") +
                                      f"give rates for: {', '.join(PLAYS)}")
        if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
            raise EngagementError("engagement.yaml", f"response rate {rate!r} is outside 0–1",
                                  field=f"{RATES_FIELD}.{play}",
                                  fix="give a share between 0 and 1, e.g. 0.05 for 5 %")
    missing = [play for play in PLAYS if play not in given]
    if missing:
        raise EngagementError("engagement.yaml", f"no response rate for play '{missing[0]}'",
                              field=f"{RATES_FIELD}.{missing[0]}", fix="give a share between 0 and 1")
    return {play: float(given[play]) for play in PLAYS}


def played_segments(segments: list) -> list:
    """The segments that name a play, in play order (:data:`PLAYS`), then segment-map order."""
    played = [s for s in segments if getattr(s, "play", None) is not None]
    return sorted(played, key=lambda s: PLAYS.index(s.play.play))


def size_plays(tags, segments: list, rates: PlayResponseRates | Mapping[str, float]) -> pd.DataFrame:
    """One row per segment with a play (columns :data:`PLAY_COLUMNS`; formulas in the module docstring).

    Args:
        tags: the tag table (:class:`digiops.labels.tagtable.TagTable`, or a frame with ``customer_id``,
            ``rfm_segment``, ``monetary``, ``frequency``).
        segments: the segment map (:func:`digiops.labels.features.load_segment_map`), each with its ``play``.
        rates: the response rate of each play (``labels.plays.response_rates``).
    """
    checked = response_rates(rates)
    grouped = segment_figures(tags, means=False)
    rows = []
    for segment in played_segments(segments):
        play = segment.play
        customers = int(grouped.at[segment.id, "customers"]) if segment.id in grouped.index else 0
        value = float(grouped.at[segment.id, "value"]) if customers else 0.0
        purchases = int(grouped.at[segment.id, "purchases"]) if customers else 0
        mean_value = value / customers if customers else None
        mean_order_value = value / purchases if purchases else None
        rate = checked[play.play]
        responders = customers * rate
        rows.append({"play": play.play, "segment": segment.id, "customers": customers, "value": value,
                     "mean_value": mean_value, "purchases": purchases, "mean_order_value": mean_order_value,
                     "response_rate": rate, "expected_responders": responders,
                     "expected_value": responders * mean_order_value if mean_order_value is not None else 0.0,
                     "responder_value": responders * mean_value if mean_value is not None else 0.0,
                     "channel_zh": play.channel_zh, "channel_en": play.channel_en,
                     "offer_zh": play.offer_zh, "offer_en": play.offer_en})
    frame = pd.DataFrame(rows, columns=PLAY_COLUMNS)
    return frame.astype({"mean_value": "float64", "mean_order_value": "float64"})


def largest_opportunity(plays: pd.DataFrame) -> pd.Series | None:
    """The row of :func:`size_plays` with the largest expected value (``None`` when no play has any)."""
    sized = plays[plays["expected_value"] > 0]
    return sized.loc[sized["expected_value"].idxmax()] if len(sized) else None


def audience_sql(table, segments: list, language: str) -> str:
    """The query of the audience list for the client's CRM / CDP over ``table``'s ``tags``
    (:class:`digiops.labels.tagtable.TagTable`): one row per customer of a segment with a play — the merge's stable
    ``customer_id`` (not personal data), segment and play codes, channel and offer in ``language`` — and nothing
    else (columns :data:`AUDIENCE_COLUMNS`), ordered by play, segment and customer. The segments with a play are
    registered as ``played_segments`` on the table's engine."""
    played = played_segments(segments)
    rows = pd.DataFrame({
        "segment": pd.Series([s.id for s in played], dtype=object),
        "play": pd.Series([s.play.play for s in played], dtype=object),
        "channel": pd.Series([in_language(language, s.play.channel_zh, s.play.channel_en) for s in played],
                             dtype=object),
        "offer": pd.Series([in_language(language, s.play.offer_zh, s.play.offer_en) for s in played], dtype=object),
        "position": pd.Series(range(len(played)), dtype="int64")})
    engines.register(table.con, "played_segments", rows, table.engine)
    return ("SELECT t.customer_id, t.rfm_segment AS segment, p.play, p.channel, p.offer, p.position "
            "FROM tags t JOIN played_segments p ON p.segment = t.rfm_segment")


#: the order of the audience list (:func:`audience_sql`'s ``position`` is the play's and segment's)
AUDIENCE_ORDER = ("position", "customer_id")


def audience(tags, segments: list, language: str) -> pd.DataFrame:
    """The audience list (:func:`audience_sql`) as a frame: for a test, or a client small enough to hold it."""
    table = TagTable.of(tags)
    out = table.frame(f"SELECT * FROM ({audience_sql(table, segments, language)}) "
                      f"ORDER BY {', '.join(AUDIENCE_ORDER)}")
    return out[AUDIENCE_COLUMNS].astype("object")


__all__ = ["AUDIENCE_COLUMNS", "PLAYS", "PLAY_COLUMNS", "Play", "audience", "audience_sql", "largest_opportunity",
           "parse_play", "played_segments", "response_rates", "size_plays"]
