"""The labels stage shown to readers: the catalog as business readers see it (table, standalone page), example
customer profiles (a few customers' tags in words, personal data masked) and the segment plays with their
opportunity (:mod:`digiops.labels.plays`)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

from digiops.context import CONTENT_SECURITY_POLICY, escaped_styler, md_text
from digiops.labels.catalog import CATEGORIES, CATEGORY_NAMES, Catalog
from digiops.labels.features import FEATURE_VIEW_FIELDS
from digiops.masking import mask_frame
from digiops.labels.plays import PLAYS, largest_opportunity
from digiops.labels.tagtable import TagTable
from digiops.sql import literal, scan
from digiops.text import CANDIDATE_KINDS, MISSING, PLAY_NAMES, TAG_REFRESH, escape_html, in_language, term

#: Cell CSS of a column of short words (never broken inside a word or a Chinese phrase).
NOWRAP = {"white-space": "nowrap", "text-align": "left"}
#: Cell CSS of a column of running text (wide enough that Chinese does not wrap one character per line).
WIDE = {"min-width": "12em", "white-space": "normal", "text-align": "left"}


def example_profiles(ctx, tags: TagTable | pd.DataFrame, catalog: Catalog, count: int = 5,
                     segments: list = ()) -> pd.DataFrame:
    """One row per example customer (the first of each RFM segment by customer id, then the first customers): masked
    name and phone, then tag names (an RFM segment by its name in ``segments``), the columns named in the report
    language. Two small queries over the tag table and one over the merge's customers: nothing else is read."""
    table = TagTable.of(tags)
    if count <= 0:
        return pd.DataFrame()
    language = ctx.language
    firsts = table.frame("SELECT rfm_segment, min(customer_id) AS customer_id FROM tags "
                         "WHERE rfm_segment IS NOT NULL GROUP BY rfm_segment ORDER BY customer_id")
    picks = firsts["customer_id"].tolist()
    others = table.frame(f"SELECT customer_id FROM tags ORDER BY customer_id LIMIT {int(count) + len(picks)}")
    picks = (picks + [c for c in others["customer_id"] if c not in picks])[:count]
    if not picks:
        return pd.DataFrame()
    chosen = ", ".join(literal(c) for c in picks)
    tag_rows = table.frame(f"SELECT * FROM tags WHERE customer_id IN ({chosen})").set_index("customer_id")
    customers = duckdb.sql(f"SELECT * FROM {scan(str(ctx.stage_output('merge', 'customers.parquet')))} "
                           f"WHERE customer_id IN ({chosen})").df().set_index("customer_id")
    segment_names = {s.id: in_language(language, s.name_zh, s.name_en) for s in segments}
    rows = []
    for customer_id in picks:
        tag_row = tag_rows.loc[customer_id]
        person = customers.loc[customer_id] if customer_id in customers.index else pd.Series(dtype=object)
        held = []
        for tag in catalog.tags:
            value = tag_row.get(tag.id)
            if not isinstance(value, (list, tuple)) and (pd.isna(value) or (isinstance(value, (bool, np.bool_))
                                                                             and not value)):
                continue
            name = in_language(language, tag.name.zh, tag.name.en)
            if tag.values:
                match = next((v for v in tag.values if v.value == value), None)
                held.append(f"{name}: {in_language(language, match.name.zh, match.name.en) if match else value}")
            elif tag.output == "flag":
                held.append(name)
            else:
                held.append(f"{name}: {segment_names.get(value, value) if tag.id == 'rfm_segment' else value}")
        rows.append({"customer_id": customer_id, "full_name": person.get("full_name"), "phone": person.get("phone"),
                     "tags": " · ".join(held)})
    names = {"customer_id": ("客户编号", "Customer id"), "full_name": ("姓名", "Name"), "phone": ("手机", "Phone"),
             "tags": ("标签", "Tags")}
    return mask_frame(pd.DataFrame(rows)).fillna(MISSING).rename(
        columns={column: in_language(language, *name) for column, name in names.items()})


def catalog_table(catalog: Catalog, language: str) -> pd.DataFrame:
    """The catalog as a business reader sees it: definition first, then values, owner, rule, sources."""
    rows = []
    order = {c: i for i, c in enumerate(CATEGORIES)}
    for tag in sorted(catalog.tags, key=lambda t: order[t.category]):
        if tag.values:
            values = in_language(language, "；", "; ").join(
                in_language(language, f"{v.name.zh}（{v.value}）：{v.rule}", f"{v.name.en} ({v.value}): {v.rule}")
                for v in tag.values)
        else:
            values = in_language(language, "标记: ", "flag: ") + tag.rule if tag.output == "flag" else \
                in_language(language, "取值: ", "value of: ") + tag.rule
        cells = {("类别", "category"): in_language(language, *CATEGORY_NAMES[tag.category]),
                 ("标签", "tag"): in_language(language, tag.name.zh, tag.name.en),
                 ("业务口径", "business definition"): tag.definition, ("取值与规则", "values and rules"): values,
                 ("负责人", "owner"): tag.owner, ("业务场景", "scenario"): tag.scenario,
                 ("来源字段", "source fields"): ", ".join(tag.source_fields),
                 ("更新频率", "refresh"): term(language, TAG_REFRESH, tag.refresh),
                 ("版本", "version"): tag.version, ("id", "id"): tag.id}
        rows.append({in_language(language, *column): value for column, value in cells.items()})
    return pd.DataFrame(rows)


def catalog_style(table: pd.DataFrame) -> Styler:
    """:func:`catalog_table` as the report shows it: every cell escaped, headers and short columns (category, tag,
    owner, refresh, version) on one line, running text (definition, values and rules, scenario, source fields)
    wide enough to read — never one Chinese character per line."""
    short = [c for c in table.columns if c in {"类别", "category", "标签", "tag", "负责人", "owner", "更新频率", "refresh",
                                               "版本", "version", "id"}]
    wide = [c for c in table.columns if c not in short]
    return (table.style.hide(axis="index").format(escape="html", na_rep=MISSING)
            .set_table_styles([{"selector": "th", "props": "white-space: nowrap; text-align: left"}], overwrite=False)
            .set_properties(subset=short, **NOWRAP).set_properties(subset=wide, **WIDE))


def catalog_html(table: pd.DataFrame, title: str) -> str:
    """A standalone HTML page of the catalog table; every cell escaped, nothing fetched or run (the reports' CSP)."""
    head = "".join(f"<th>{escape_html(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape_html(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False, name=None))
    return (f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{escape_html(CONTENT_SECURITY_POLICY)}\">"
            f"<title>{escape_html(title)}</title>"
            "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px 8px;vertical-align:top;text-align:left}th{background:#f0f0f0}</style></head><body>"
            f"<h1>{escape_html(title)}</h1><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            "</body></html>\n")


def coverage_view(cover: pd.DataFrame, catalog: Catalog, *, language: str) -> pd.DataFrame:
    """``coverage`` (or ``low_coverage``) with the tag's name (``tag``, after ``tag_id``) and the value's
    (``value_name``, after ``value``: empty for the tag itself, the value as it is when the catalog declares none)."""
    tags = {tag.id: tag for tag in catalog.tags}

    def tag_name(tag_id: str) -> str:
        tag = tags.get(tag_id)
        return in_language(language, tag.name.zh, tag.name.en) if tag else tag_id

    def value_name(tag_id: str, value: str) -> str:
        declared = {v.value: v.name for v in (tags[tag_id].values or [])} if tag_id in tags else {}
        if value == "*":
            return ""
        return in_language(language, declared[value].zh, declared[value].en) if value in declared else value

    view = cover.copy()
    view.insert(view.columns.get_loc("tag_id") + 1, "tag", [tag_name(t) for t in cover["tag_id"]])
    view.insert(view.columns.get_loc("value") + 1, "value_name",
                [value_name(t, v) for t, v in zip(cover["tag_id"], cover["value"], strict=True)])
    return view


def segment_view(summary: pd.DataFrame, segments: list, *, language: str) -> pd.DataFrame:
    """``segment_summary`` with each segment's name (``name``, after ``segment``)."""
    names = {s.id: in_language(language, s.name_zh, s.name_en) for s in segments}
    view = summary.copy()
    view.insert(view.columns.get_loc("segment") + 1, "name", [names.get(s, s) for s in summary["segment"]])
    return view


def indicator_names(catalog: Catalog, *, language: str) -> dict[str, str]:
    """The label of each column of :func:`digiops.labels.measures.indicators`: ``tag`` or ``tag=value``, named."""
    names = {}
    for tag in catalog.tags:
        name = in_language(language, tag.name.zh, tag.name.en)
        names[tag.id] = name
        for value in tag.values or []:
            names[f"{tag.id}={value.value}"] = f"{name}={in_language(language, value.name.zh, value.name.en)}"
    return names


def coverage_table(view: pd.DataFrame, *, language: str) -> pd.DataFrame:
    """A :func:`coverage_view` as the report shows it: tag, value (``(whole tag)`` for the tag itself), customers,
    share, with the columns named in ``language``."""
    whole = in_language(language, "（整个标签）", "(whole tag)")
    return pd.DataFrame({
        in_language(language, "标签", "Tag"): view["tag"].to_numpy(),
        in_language(language, "取值", "Value"): [whole if v == "*" else n
                                                 for v, n in zip(view["value"], view["value_name"], strict=True)],
        in_language(language, "客户数", "Customers"): view["customers"].to_numpy(),
        in_language(language, "占比", "Share"): view["share"].to_numpy()})


def conflicts_table(conflicts: pd.DataFrame, catalog: Catalog, *, language: str) -> pd.DataFrame:
    """Value conflicts (:func:`digiops.labels.evaluate.value_conflicts`) with the tag and both values named."""
    tags = {tag.id: tag for tag in catalog.tags}

    def named(tag_id: str, value: str) -> str:
        declared = {v.value: v.name for v in (tags[tag_id].values or [])} if tag_id in tags else {}
        return in_language(language, declared[value].zh, declared[value].en) if value in declared else value

    return pd.DataFrame({
        in_language(language, "标签", "Tag"): [in_language(language, tags[t].name.zh, tags[t].name.en) if t in tags
                                               else t for t in conflicts["tag_id"]],
        in_language(language, "取值一", "Value A"): [named(t, v) for t, v in zip(conflicts["tag_id"],
                                                                               conflicts["value_a"], strict=True)],
        in_language(language, "取值二", "Value B"): [named(t, v) for t, v in zip(conflicts["tag_id"],
                                                                               conflicts["value_b"], strict=True)],
        in_language(language, "客户数", "Customers"): conflicts["customers"].to_numpy()})


def segment_table(view: pd.DataFrame, *, language: str) -> pd.DataFrame:
    """A :func:`segment_view` as the report shows it: the segment's name (not its code) and figures, the columns
    named in ``language``."""
    names = {"name": ("分群", "Segment"), "cells": ("R × F 格", "R × F cells"), "customers": ("客户数", "Customers"),
             "share": ("客户占比", "Share of customers"), "monetary": ("消费金额", "Monetary"),
             "monetary_share": ("金额占比", "Share of monetary"), "avg_monetary": ("人均金额", "Mean monetary"),
             "avg_recency_days": ("平均最近购买天数", "Mean recency (days)"),
             "avg_frequency": ("平均购买次数", "Mean frequency")}
    return view[list(names)].rename(columns={column: in_language(language, *name) for column, name in names.items()})


def candidate_table(candidates: pd.DataFrame, *, language: str) -> pd.DataFrame:
    """Every candidate tag value (:func:`digiops.labels.design.candidate_tags`), with the field's meaning, the
    kind in words and the ``yaml`` line to paste into a catalog; the columns named in ``language``."""
    def meaning(field: str) -> str:
        text = FEATURE_VIEW_FIELDS.get(field, ("", ""))[1]
        zh, _, en = text.partition(" / ")
        return in_language(language, zh, en or zh) or MISSING

    return pd.DataFrame({
        in_language(language, "字段", "Field"): candidates["field"].to_numpy(),
        in_language(language, "含义", "Meaning"): [meaning(f) for f in candidates["field"]],
        in_language(language, "类型", "Kind"): [term(language, CANDIDATE_KINDS, k) for k in candidates["kind"]],
        in_language(language, "取值代码", "Value code"): candidates["value"].to_numpy(),
        in_language(language, "规则", "Rule"): candidates["rule"].to_numpy(),
        in_language(language, "客户数", "Customers"): candidates["customers"].to_numpy(),
        in_language(language, "覆盖率", "Coverage"): candidates["coverage"].to_numpy(),
        "yaml": candidates["yaml"].to_numpy()})


def files_table(names: list[str], *, language: str) -> pd.DataFrame:
    """The stage's output files, one per row."""
    return pd.DataFrame({in_language(language, "文件", "File"): names})


#: each play in words, and what it aims at (the report's heading and its first line).
PLAY_AIMS = {"win_back": ("让已流失或将要流失的客户回来再买。", "Bring lapsed or lapsing customers back to buy."),
             "upgrade": ("让活跃客户买得更多、更常来。", "Move active customers to buy more and more often."),
             "nurture": ("让新客户完成下一次购买，养成习惯。", "Bring new customers to their next purchase, "
                         "and into a habit."),
             "retain": ("留住最有价值的客户。", "Keep the most valuable customers.")}
PLAY_TABLE_COLUMNS = {"segment": ("分群", "Segment"), "customers": ("客户数", "Customers"),
                      "value": ("历史消费金额", "Historical value"), "mean_value": ("人均消费金额", "Mean value"),
                      "mean_order_value": ("单均金额", "Mean order value"),
                      "response_rate": ("预期响应率", "Expected response rate"),
                      "expected_responders": ("预期响应人数", "Expected responders"),
                      "expected_value": ("预期金额", "Expected value"), "channel": ("渠道", "Channel"),
                      "offer": ("权益", "Offer")}
_PLAY_FORMATS = {"customers": "{:,}", "value": "{:,.0f}", "mean_value": "{:,.2f}", "mean_order_value": "{:,.2f}",
                 "response_rate": "{:.1%}", "expected_responders": "{:,.0f}", "expected_value": "{:,.0f}"}


def play_name(play: str, language: str) -> str:
    """A play in words (its code when it is not a known play)."""
    return term(language, PLAY_NAMES, play)


def play_table(plays: pd.DataFrame, segments: list, play: str, *, language: str) -> pd.DataFrame:
    """The segments of one play (rows of :func:`digiops.labels.plays.size_plays`) as the report shows them: the
    segment's name, customers, historical value, expected responders and value, channel and offer, the columns
    named in ``language`` (:data:`PLAY_TABLE_COLUMNS`)."""
    names = {s.id: in_language(language, s.name_zh, s.name_en) for s in segments}
    rows = plays[plays["play"] == play]
    table = pd.DataFrame({
        "segment": [names.get(s, s) for s in rows["segment"]],
        **{column: rows[column].to_numpy() for column in ("customers", "value", "mean_value", "mean_order_value",
                                                           "response_rate", "expected_responders",
                                                           "expected_value")},
        "channel": rows[in_language(language, "channel_zh", "channel_en")].to_numpy(),
        "offer": rows[in_language(language, "offer_zh", "offer_en")].to_numpy()})
    return table.rename(columns={c: in_language(language, *n) for c, n in PLAY_TABLE_COLUMNS.items()})


def play_style(table: pd.DataFrame, *, language: str) -> Styler:
    """:func:`play_table` as the report shows it: numbers formatted, a missing mean as ``–``, every cell escaped,
    the segment's name on one line, channel and offer wide enough to read."""
    formats = {in_language(language, *PLAY_TABLE_COLUMNS[c]): f for c, f in _PLAY_FORMATS.items()}
    text = [in_language(language, *PLAY_TABLE_COLUMNS[c]) for c in ("channel", "offer")]
    segment = [in_language(language, *PLAY_TABLE_COLUMNS["segment"])]
    styler = (table.style.hide(axis="index").format(formats, na_rep=MISSING)
              .set_properties(subset=segment, **NOWRAP).set_properties(subset=text, **WIDE))
    return escaped_styler(styler)


def plays_in_order(plays: pd.DataFrame) -> list[str]:
    """The plays that have a segment, in the order of :data:`digiops.labels.plays.PLAYS`."""
    return [play for play in PLAYS if (plays["play"] == play).any()]


def largest_opportunity_text(plays: pd.DataFrame, segments: list, *, language: str) -> str:
    """One sentence (Markdown for ``ctx.md``, the segment's name as text) on the play with the largest expected
    value, or on why there is none."""
    row = largest_opportunity(plays)
    if row is None:
        return in_language(language, "没有可测算的机会：有策略的分群中没有有购买的客户。",
                           "No opportunity to size: the segments with a play hold no customer with a purchase.")
    names = {s.id: (s.name_zh, s.name_en) for s in segments}
    segment = md_text(in_language(language, *names.get(row["segment"], (row["segment"], row["segment"]))))
    play = play_name(row["play"], language)
    share = row["expected_value"] / plays["expected_value"].sum()
    return in_language(
        language,
        f"最大的机会是对**{segment}**（{row['customers']:,} 人）做**{play}**：按 {row['response_rate']:.1%} 的响应率，"
        f"预计 {row['expected_responders']:,.0f} 人响应，带来约 {row['expected_value']:,.0f} 元，"
        f"占全部策略预期金额的 {share:.0%}。",
        f"The largest opportunity is to **{play.lower()}** the **{segment}** ({row['customers']:,} customers): at a "
        f"{row['response_rate']:.1%} response rate, {row['expected_responders']:,.0f} are expected to respond, "
        f"bringing about {row['expected_value']:,.0f} yuan, {share:.0%} of the expected value of all plays.")


#: where an event ends (:data:`digiops.labels.behaviour.LINK_STATUSES`), in words
LINK_STATUS_NAMES = {"linked": ("已关联到客户", "Linked to a customer"),
                     "unknown_key": ("会员号未找到对应客户", "Key names no known record"),
                     "ambiguous": ("会员号对应多个客户（未关联）", "Key names several customers (not linked)"),
                     "anonymous": ("匿名访客（无会员号）", "Anonymous visitor (no key)")}
EVENT_LINK_COLUMNS = {"status": ("去向", "Outcome"), "events": ("事件数", "Events"), "visitors": ("访客数", "Visitors"),
                      "customers": ("客户数", "Customers"), "share": ("事件占比", "Share of events")}
BEHAVIOUR_COLUMNS = {"tag": ("标签", "Tag"), "value": ("取值", "Value"), "customers": ("客户数", "Customers"),
                     "share": ("占有行为数据客户", "Share of customers with events"),
                     "share_all": ("占全部客户", "Share of all customers")}


def event_links_table(links: pd.DataFrame, *, language: str) -> pd.DataFrame:
    """Every event of the events source by where it ended (:func:`digiops.labels.behaviour.link_summary`): the
    outcome in words, events, visitors, customers and share, the columns named in ``language``; a last row adds
    them up."""
    table = links.assign(status=[in_language(language, *LINK_STATUS_NAMES.get(s, (s, s))) for s in links["status"]])
    total = pd.DataFrame([{"status": in_language(language, "合计", "Total"), "events": int(links["events"].sum()),
                           "visitors": MISSING, "customers": MISSING, "share": float(links["share"].sum())}])
    table = pd.concat([table[list(EVENT_LINK_COLUMNS)].astype(object), total.astype(object)], ignore_index=True)
    return table.rename(columns={c: in_language(language, *n) for c, n in EVENT_LINK_COLUMNS.items()})


def event_links_style(table: pd.DataFrame, *, language: str) -> Styler:
    """:func:`event_links_table` as the report shows it (counts with separators, shares in %)."""
    def number(value) -> str:
        return value if isinstance(value, str) else f"{int(value):,}"

    counts = {in_language(language, *EVENT_LINK_COLUMNS[c]): number for c in ("events", "visitors", "customers")}
    styler = table.style.hide(axis="index").format(
        {**counts, in_language(language, *EVENT_LINK_COLUMNS["share"]): "{:.1%}"}, na_rep=MISSING)
    return escaped_styler(styler.set_properties(subset=[in_language(language, *EVENT_LINK_COLUMNS["status"])],
                                                **NOWRAP))


def behaviour_view(distribution: pd.DataFrame, catalog: Catalog, *, language: str) -> pd.DataFrame:
    """:func:`digiops.labels.measures.tag_distribution` with each tag and value named (``tag``, ``value_name``;
    a flag's value is the tag's own name)."""
    tags = {tag.id: tag for tag in catalog.tags}

    def value_name(tag_id: str, value: str) -> str:
        tag = tags.get(tag_id)
        if tag is None:
            return value
        declared = {v.value: v.name for v in (tag.values or [])}
        if value in declared:
            return in_language(language, declared[value].zh, declared[value].en)
        return in_language(language, "是", "yes") if value == "true" and tag.output == "flag" else value

    return distribution.assign(
        tag=[in_language(language, tags[t].name.zh, tags[t].name.en) if t in tags else t
             for t in distribution["tag_id"]],
        value_name=[value_name(t, v) for t, v in zip(distribution["tag_id"], distribution["value"], strict=True)])


def behaviour_table(view: pd.DataFrame, *, language: str) -> pd.DataFrame:
    """A :func:`behaviour_view` as the report shows it: tag, value, customers, share of the customers with events
    and of all customers, the columns named in ``language``."""
    table = pd.DataFrame({"tag": view["tag"].to_numpy(), "value": view["value_name"].to_numpy(),
                          "customers": view["customers"].to_numpy(), "share": view["share"].to_numpy(),
                          "share_all": view["share_all"].to_numpy()})
    return table.rename(columns={c: in_language(language, *n) for c, n in BEHAVIOUR_COLUMNS.items()})


def behaviour_style(table: pd.DataFrame, *, language: str) -> Styler:
    """:func:`behaviour_table` as the report shows it."""
    name = {c: in_language(language, *BEHAVIOUR_COLUMNS[c]) for c in BEHAVIOUR_COLUMNS}
    styler = table.style.hide(axis="index").format({name["customers"]: "{:,}", name["share"]: "{:.1%}",
                                                    name["share_all"]: "{:.1%}"}, na_rep=MISSING)
    return escaped_styler(styler.set_properties(subset=[name["tag"], name["value"]], **NOWRAP))


def event_link_text(links: pd.DataFrame, *, language: str) -> str:
    """One sentence on how many events were linked, and what happened to the rest (Markdown for ``ctx.md``)."""
    counts = dict(zip(links["status"], links["events"], strict=True))
    total = int(links["events"].sum())
    if total == 0:
        return in_language(language, "行为数据源中没有事件。", "The events source holds no event.")
    linked = counts.get("linked", 0)
    customers = int(links.loc[links["status"] == "linked", "customers"].sum())
    unknown, ambiguous, anonymous = (counts.get(k, 0) for k in ("unknown_key", "ambiguous", "anonymous"))
    return in_language(
        language,
        f"共 {total:,} 个事件：{linked:,} 个（{linked / total:.0%}）由已登录访客的会员号关联到 {customers:,} 位客户；"
        f"{anonymous:,} 个来自匿名访客；{unknown:,} 个的会员号在会员表中找不到对应客户"
        + (f"，{ambiguous:,} 个的会员号对应多个客户，未关联" if ambiguous else "") + "。每个事件都计入其中一类，没有被丢弃。",
        f"{total:,} events: {linked:,} ({linked / total:.0%}) linked through the logged-in visitors' keys to "
        f"{customers:,} customers; {anonymous:,} from anonymous visitors; {unknown:,} with a key no member record has"
        + (f"; {ambiguous:,} with a key naming several customers, not linked" if ambiguous else "")
        + ". Every event is counted in one of these; none is dropped.")


def behaviour_plays_text(figures: dict, *, language: str) -> str:
    """What the behaviour tags mean for the plays: cart abandoners as a win-back audience, browsers as a first-order
    audience (Markdown for ``ctx.md``)."""
    abandoners, browsers = figures.get("cart_abandoners", 0), figures.get("browse_never_buy", 0)
    return in_language(
        language,
        f"对策略而言：{abandoners:,} 位加购后未下单的客户是现成的挽回受众——他们已经选好了商品，购物车提醒或限时券的转化成本"
        f"低于唤回整个沉睡分群；{browsers:,} 位只逛不买的客户尚无 RFM 分群，应走新客首单培育（新人券、爆品推荐），"
        "而不是计入唤回名单。",
        f"For the plays: the {abandoners:,} customers who abandoned a cart are a ready win-back audience — they have "
        "already chosen their products, so a cart reminder or a time-limited coupon costs less per conversion than "
        f"winning back a whole lapsed segment; the {browsers:,} customers who browse but never buy have no RFM segment "
        "and belong in a first-order nurture journey (a welcome coupon, best sellers), not in a win-back list.")
