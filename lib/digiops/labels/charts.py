"""Tables and charts of the labels report: the stage's codes named in the report language (call
``digiops.setup_charts()`` first so Chinese renders).

Example:
    >>> import pandas as pd
    >>> catalog = Catalog(tags=[{"id": "vip", "name": {"zh": "会员", "en": "Member"}, "category": "value",
    ...                          "definition": "three orders or more", "rule": "frequency >= 3"}])
    >>> cover = pd.DataFrame({"tag_id": ["vip"], "category": ["value"], "value": ["*"], "customers": [3],
    ...                       "share": [0.5]})
    >>> coverage_view(cover, catalog, language="en")[["tag", "value_name"]].values.tolist()
    [['Member', '']]
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from digiops.labels.catalog import Catalog
from digiops.text import in_language


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


def coverage_chart(cover: pd.DataFrame, min_share: float, title: str):
    """Share of customers holding each tag (``cover``: :func:`coverage_view`); the minimum useful coverage as a
    dashed line."""
    tags = cover[cover["value"] == "*"].sort_values("share")
    fig, ax = plt.subplots(figsize=(9, max(3, 0.25 * len(tags))))
    colours = ["#c62828" if s < min_share else "#4c72b0" for s in tags["share"]]
    ax.barh(tags["tag"], tags["share"], color=colours)
    ax.axvline(min_share, color="#9e9e9e", linestyle="--")
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    return fig


def cooccurrence_heatmap(matrix: pd.DataFrame, title: str, *, names: dict[str, str]):
    """The co-occurrence matrix with its rows and columns named (``names``: :func:`indicator_names`)."""
    matrix = matrix.rename(index=names, columns=names)
    fig, ax = plt.subplots(figsize=(11, 9))
    sns.heatmap(matrix, vmin=0, vmax=1, cmap="Blues", ax=ax,
                xticklabels=True, yticklabels=True)
    ax.set_title(title)
    ax.tick_params(labelsize=8)
    return fig


def segment_chart(summary: pd.DataFrame, title_customers: str, title_value: str):
    """Customers and monetary share per RFM segment, side by side (``summary``: :func:`segment_view`)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    axes[0].barh(summary["name"], summary["share"], color="#4c72b0")
    axes[0].set_title(title_customers)
    axes[0].xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axes[1].barh(summary["name"], summary["monetary_share"], color="#2e7d32")
    axes[1].set_title(title_value)
    axes[1].xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axes[0].invert_yaxis()
    return fig


def migration_heatmap(matrix: pd.DataFrame, title: str):
    fig, ax = plt.subplots(figsize=(10, 7))
    sns.heatmap(matrix, annot=True, fmt="d", cmap="Oranges", ax=ax, cbar=False)
    ax.set_title(title)
    return fig
