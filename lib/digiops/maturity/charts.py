"""Charts of the maturity report. Each function takes the stage's tables and a language and returns a Figure.

Call :func:`digiops.charts.setup_charts` first so Chinese labels render.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from digiops.maturity.dimensions import dimension_name
from digiops.settings.maturity import DIMENSION_KEYS, PHASES, ROOT_CAUSES
from digiops.text import SEVERITY, in_language, term

SEVERITY_COLOURS = {"critical": "#c62828", "moderate": "#f9a825", "minor": "#7cb342", "none": "#2e7d32",
                    "no data": "#9e9e9e"}
ROOT_CAUSE_COLOURS = {"technology": "#1f77b4", "data_standards": "#ff7f0e", "organisation": "#9467bd",
                      "unclassified": "#9e9e9e"}



def radar(scores: pd.DataFrame, benchmark: pd.DataFrame | None, language: str,
          illustrative: bool = True) -> Figure:
    """The four dimensions' levels against target and the industry median, on a 1–5 radar."""
    rows = scores.set_index("dimension").reindex(list(DIMENSION_KEYS))
    labels = [dimension_name(d, language) for d in DIMENSION_KEYS]
    angles = np.linspace(0, 2 * math.pi, len(labels), endpoint=False).tolist()
    closed = angles + angles[:1]
    fig, ax = plt.subplots(figsize=(6.4, 6.4), subplot_kw={"polar": True})
    series = [(in_language(language, "现状", "Current"), rows["level"].fillna(1).tolist(), "#1565c0", "-", 0.25),
              (in_language(language, "目标", "Target"), rows["target"].tolist(), "#c62828", "--", 0.0)]
    if benchmark is not None and len(benchmark):
        median = benchmark.set_index("dimension").reindex(list(DIMENSION_KEYS))["p50"].tolist()
        name = in_language(language, "行业中位数", "Industry median")
        name += in_language(language, "（示意）", " (illustrative)") if illustrative else ""
        series.append((name, median, "#6d4c41", ":", 0.0))
    for name, values, colour, style, alpha in series:
        ax.plot(closed, values + values[:1], style, color=colour, linewidth=2, label=name)
        if alpha:
            ax.fill(closed, values + values[:1], color=colour, alpha=alpha)
    for angle, value in zip(angles, rows["level"].tolist()):
        if not math.isnan(value):
            ax.annotate(f"{value:.1f}", (angle, value), textcoords="offset points", xytext=(6, 6), color="#0d47a1")
    ax.set_xticks(angles)
    ax.set_xticklabels(labels)
    ax.set_ylim(0, 5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_yticklabels(["1", "2", "3", "4", "5"], color="#757575")
    ax.legend(loc="upper right", bbox_to_anchor=(1.32, 1.12), frameon=False)
    ax.set_title(in_language(language, "数字化成熟度（1 手工化 — 5 智能化）",
                             "Digital maturity (1 manual – 5 intelligent)"), pad=24)
    return fig


def department_heatmap(departments: pd.DataFrame, scores: pd.DataFrame, language: str) -> Figure:
    """Department × dimension levels; flagged dimensions (respondents disagree) are marked ⚠ and boxed cells
    deviate from the company level by more than the disagreement threshold."""
    import seaborn as sns

    matrix = departments.pivot(index="department", columns="dimension", values="level")
    matrix = matrix.reindex(columns=[d for d in DIMENSION_KEYS if d in matrix.columns])
    flagged = set(scores.loc[scores["disagreement"].astype(bool), "dimension"])
    labels = [dimension_name(d, language) + (" ⚠" if d in flagged else "") for d in matrix.columns]
    fig, ax = plt.subplots(figsize=(1.9 * len(matrix.columns) + 2.5, 0.55 * len(matrix) + 1.8))
    sns.heatmap(matrix, annot=True, fmt=".1f", vmin=1, vmax=5, cmap="RdYlGn", linewidths=0.5, ax=ax,
                cbar_kws={"label": in_language(language, "等级", "level")})
    ax.set_xticklabels(labels, rotation=0)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if "deviates" in departments.columns:
        positions = {d: i for i, d in enumerate(matrix.index)}
        columns = {d: j for j, d in enumerate(matrix.columns)}
        for record in departments[departments["deviates"].astype(bool)].itertuples(index=False):
            ax.add_patch(Rectangle((columns[record.dimension], positions[record.department]), 1, 1, fill=False,
                                   edgecolor="black", linewidth=2.5))
    ax.set_title(in_language(language, "部门 × 维度（⚠：受访者评分相差超过一个等级）",
                             "Department × dimension (⚠: respondents differ by more than one level)"))
    return fig


def gap_bars(scores: pd.DataFrame, language: str) -> Figure:
    """Gap to target per dimension, coloured by severity."""
    rows = scores[scores["dimension"].isin(DIMENSION_KEYS)]
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    labels = [dimension_name(d, language) for d in rows["dimension"]]
    ax.barh(labels, rows["gap"], color=[SEVERITY_COLOURS.get(s, "#9e9e9e") for s in rows["severity"]])
    for y, (g, s) in enumerate(zip(rows["gap"], rows["severity"])):
        if not math.isnan(g):
            ax.text(g, y, f" {g:+.1f} · {term(language, SEVERITY, s)}", va="center")
    for edge in (0.75, 1.5):
        ax.axvline(edge, color="#757575", linestyle=":", linewidth=1)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(in_language(language, "差距（等级，目标 − 现状）", "gap (levels, target − current)"))
    return fig


def value_stream_chart(nodes: pd.DataFrame, language: str) -> Figure:
    """One bar per node (hours), grouped by process in sequence; bottlenecks coloured by root-cause category,
    manual cross-system hand-offs hatched, each bar annotated with error rate and systems."""
    fig, ax = plt.subplots(figsize=(11, 0.42 * max(len(nodes), 1) + 1.8))
    labels = []
    for y, record in enumerate(nodes.itertuples(index=False)):
        hours = float(record.duration_hours) if not math.isnan(record.duration_hours) else 0.0
        colour = ROOT_CAUSE_COLOURS[record.root_cause_category] if record.bottleneck else "#cfd8dc"
        ax.barh(y, hours, color=colour, edgecolor="black" if record.handoff else "white",
                hatch="//" if record.handoff else None, linewidth=1.0 if record.handoff else 0.5)
        marks = ("▲" if record.slow else "") + ("×" if record.error_prone else "")
        error = f"{record.error_rate:.0%}" if not math.isnan(record.error_rate) else "–"
        systems = record.systems.replace(";", in_language(language, "、", ", "))
        ax.text(hours, y, f" {marks} {hours:g} h · {error} · {systems}", va="center", fontsize=8)
        labels.append(f"{record.process} · {record.node}")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlim(0, max(float(nodes["duration_hours"].fillna(0).max()) * 1.45, 1.0) if len(nodes) else 1.0)
    ax.set_xlabel(in_language(language, "耗时（小时）· 差错率 · 涉及系统", "hours · error rate · systems"))
    handles = [Rectangle((0, 0), 1, 1, color=ROOT_CAUSE_COLOURS[k]) for k in ROOT_CAUSES] + [
        Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="black", hatch="//"),
        Rectangle((0, 0), 1, 1, color="#cfd8dc")]
    names = [in_language(language, zh, en) for zh, en in ROOT_CAUSES.values()] + [
        in_language(language, "人工跨系统交接", "manual cross-system hand-off"),
        in_language(language, "无异常", "no flag")]
    ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 1.0 / max(len(nodes), 4)), ncol=6,
              frameon=False)
    ax.set_title(in_language(language, "价值流：瓶颈节点按根因着色（▲ 耗时长，× 差错率高）",
                             "Value stream: bottlenecks coloured by root cause (▲ slow, × error-prone)"))
    return fig


def roadmap_chart(roadmap: pd.DataFrame, language: str) -> Figure:
    """The three phases as a Gantt chart, one bar per initiative."""
    fig, ax = plt.subplots(figsize=(11, 0.45 * max(len(roadmap), 1) + 1.6))
    colours = {"pilot": "#43a047", "scale_up": "#1e88e5", "deepening": "#8e24aa"}
    for y, record in enumerate(roadmap.itertuples(index=False)):
        start, end, _, _ = PHASES[record.phase]
        ax.barh(y, end - start + 1, left=start - 1, color=colours[record.phase], alpha=0.35)
        name = in_language(language, record.name_zh, record.name_en)
        ax.text(start - 0.5, y, f"{record.initiative_id} {name}", va="center", fontsize=8)
    for phase, (start, end, zh, en) in PHASES.items():
        ax.axvline(end, color="#9e9e9e", linestyle=":", linewidth=1)
        ax.text((start - 1 + end) / 2, -0.9, in_language(language, zh, en) + f" ({start}–{end})", ha="center")
    ax.set_xlim(0, 36)
    ax.set_ylim(len(roadmap) - 0.5, -1.4)
    ax.set_yticks([])
    ax.set_xlabel(in_language(language, "月份", "month"))
    return fig


def sensitivity_chart(sensitivity: pd.DataFrame, language: str) -> Figure:
    """Tornado: change of the overall (continuous) level when each dimension weight moves −/+."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    labels = [dimension_name(d, language) for d in DIMENSION_KEYS]
    for y, dimension in enumerate(DIMENSION_KEYS):
        rows = sensitivity[sensitivity["dimension"] == dimension]
        for record in rows.itertuples(index=False):
            ax.barh(y, record.level_change, color="#1e88e5" if record.change > 0 else "#fb8c00")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    change = sensitivity["change"].abs().max() if len(sensitivity) else 0.2
    ax.set_xlabel(in_language(language, f"总体等级变化（蓝：权重 +{change:.0%}，橙：−{change:.0%}）",
                              f"change of the overall level (blue: weight +{change:.0%}, orange: −{change:.0%})"))
    return fig


def evidence_chart(dimensions: pd.DataFrame, language: str) -> Figure:
    """Per dimension, the questionnaire's level and the evidence level on one 1–5 line each; a flagged dimension
    (they differ by more than the margin) is drawn red and marked ⚠."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    rows = dimensions.set_index("dimension").reindex(list(DIMENSION_KEYS))
    labels = [dimension_name(d, language) + (" ⚠" if bool(rows.loc[d, "disagreement"]) else "")
              for d in DIMENSION_KEYS]
    opinion_name = in_language(language, "问卷", "questionnaire")
    evidence_name = in_language(language, "运行数据证据", "evidence from the run")
    for y, dimension in enumerate(DIMENSION_KEYS):
        opinion, evidence = rows.loc[dimension, "questionnaire_level"], rows.loc[dimension, "evidence_level"]
        flagged = bool(rows.loc[dimension, "disagreement"])
        if not (math.isnan(opinion) or math.isnan(evidence)):
            ax.plot([opinion, evidence], [y, y], color="#c62828" if flagged else "#9e9e9e", linewidth=2.5, zorder=1)
        if not math.isnan(opinion):
            ax.scatter(opinion, y, s=70, color="#1565c0", zorder=2)
            ax.annotate(f"{opinion:.1f}", (opinion, y), textcoords="offset points", xytext=(0, 8), ha="center",
                        color="#0d47a1", fontsize=8)
        if not math.isnan(evidence):
            ax.scatter(evidence, y, s=70, marker="D", color="#ef6c00", zorder=2)
            ax.annotate(f"{evidence:.1f}", (evidence, y), textcoords="offset points", xytext=(0, -14), ha="center",
                        color="#e65100", fontsize=8)
        else:
            ax.text(5.05, y, in_language(language, "无证据", "no evidence"), va="center", fontsize=8,
                    color="#757575")
    ax.scatter([], [], s=70, color="#1565c0", label=opinion_name)
    ax.scatter([], [], s=70, marker="D", color="#ef6c00", label=evidence_name)
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_ylim(len(labels) - 0.5, -0.7)
    ax.set_xlim(0.8, 5.6)
    ax.set_xticks([1, 2, 3, 4, 5])
    ax.set_xlabel(in_language(language, "等级（1 手工化 — 5 智能化）", "level (1 manual – 5 intelligent)"))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=8)
    ax.set_title(in_language(language, "问卷与运行数据证据（⚠：相差超过阈值）",
                             "Questionnaire and evidence (⚠: they differ by more than the margin)"))
    return fig


def progress_chart(company: pd.DataFrame, language: str) -> Figure:
    """Per dimension and overall, the level in the previous and the latest wave side by side, the target marked,
    each latest bar annotated with its change."""
    rows = company.set_index("dimension").reindex([*DIMENSION_KEYS, "overall"]).dropna(how="all")
    labels = [in_language(language, "总体", "Overall") if d == "overall" else dimension_name(d, language)
              for d in rows.index]
    y = np.arange(len(rows))
    previous, latest = rows["wave_previous"].iloc[0], rows["wave_latest"].iloc[0]
    fig, ax = plt.subplots(figsize=(8, 0.8 * len(rows) + 1.4))
    ax.barh(y - 0.2, rows["level_previous"].fillna(0), height=0.38, color="#b0bec5", label=str(previous))
    ax.barh(y + 0.2, rows["level_latest"].fillna(0), height=0.38, color="#1565c0", label=str(latest))
    for i, (lvl, change, target) in enumerate(zip(rows["level_latest"], rows["change"], rows["target"])):
        if not math.isnan(lvl):
            colour = "#2e7d32" if change > 0 else "#c62828" if change < 0 else "#424242"
            ax.text(lvl, i + 0.2, f" {lvl:.1f} ({change:+.1f})", va="center", color=colour)
        ax.plot([target, target], [i - 0.42, i + 0.42], color="#c62828", linestyle="--", linewidth=1.2,
                label=in_language(language, "目标", "Target") if i == 0 else None)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 5.6)
    ax.set_xlabel(in_language(language, "等级（1–5，仅问卷）", "level (1–5, answers only)"))
    ax.legend(loc="lower right", frameon=False)
    return fig
