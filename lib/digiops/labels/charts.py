"""Charts of the labels report (call ``digiops.charts.setup_charts()`` first so Chinese renders); the tables that
name the stage's codes are in :mod:`digiops.labels.report`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns


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


def behaviour_chart(view: pd.DataFrame, title: str, *, share_label: str):
    """One panel per behaviour tag: the share of the customers with events holding each value
    (``view``: :func:`digiops.labels.report.behaviour_view`)."""
    tags = list(dict.fromkeys(view["tag"]))
    heights = [max(1, (view["tag"] == t).sum()) for t in tags]
    fig, axes = plt.subplots(len(tags), 1, figsize=(9, 0.45 * sum(heights) + 1.2 * len(tags)),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, tag in zip(axes[:, 0], tags):
        rows = view[view["tag"] == tag]
        ax.barh(rows["value_name"], rows["share"], color="#4c72b0")
        for y, (share, customers) in enumerate(zip(rows["share"], rows["customers"])):
            ax.text(share + 0.01, y, f"{customers:,}  ({share:.0%})", va="center", fontsize=8)
        ax.set_xlim(0, 1.15)
        ax.invert_yaxis()
        ax.set_title(tag, fontsize=10, loc="left")
        ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    axes[-1, 0].set_xlabel(share_label)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
