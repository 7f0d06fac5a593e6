"""What ``digiops validate`` checks of the kpi stage before a run (:func:`check`)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from digiops import sources
from digiops.engagement import Engagement, closest, did_you_mean
from digiops.errors import DigiopsError, EngagementError, KpiTreeError
from digiops.kpi.actuals import METRICS, store_regions
from digiops.kpi.attainment import read_targets
from digiops.kpi.cascade import check_weights
from digiops.kpi.review import TIME_COLUMNS
from digiops.kpi.tree import KpiTree, tree_file_problems


#: setting → (kind of the source it names, the canonical fields the review reads from it)
KPI_SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "targets_source": ("targets", ("kpi_id", "period", "target")),
    "traffic_source": ("traffic", ("date", "unit", "visitors")),
    "funnel_source": ("funnel", ("visitor_id", "stage", "event_time")),
    "actions_source": ("actions", ("kpi_id",)),
    "stores_source": ("stores", ("store_id", "region")),
    "spend_source": ("spend", ("channel", "amount")),
}
#: metrics counted from the traffic source
TRAFFIC_METRICS = ("traffic", "conversion")
#: at most this many bad rows of a targets file are named (each takes one more pass over the file)
MAX_ROW_PROBLEMS = 20


def check(engagement: Engagement) -> list[DigiopsError]:
    """What the kpi stage would refuse, or leave without actuals: the KPI sources of the ``kpi:`` section of the
    wrong kind or without the fields the review reads (one named but absent), the tree missing or invalid (every
    problem), a node's metric unknown or its source absent or not mapping its column, and targets or actions
    naming a KPI or unit the tree does not have. A source that cannot be read is left to the sources' check."""
    settings = engagement.kpi
    try:
        path = engagement.config_path("kpi", "tree")
    except EngagementError:
        return []  # outside the client folder: the engagement's own check reports it
    problems: list[DigiopsError] = _setting_problems(engagement)
    if path is None:
        return problems + [KpiTreeError(engagement.file.name, "no KPI tree is named", field="kpi.tree",
                                        fix="name the tree file, e.g. `tree: kpi_tree.yaml`")]
    stores = _frame(engagement, settings.stores_source, "stores")
    regions = store_regions(stores) if stores is not None else {}
    known = {"all", settings.online_unit, *regions.keys(), *regions.values()}
    tree, found = tree_file_problems(path, known, settings.tree)
    problems += found + check_weights(settings.cascade, known, engagement.file.name)
    if tree is None:
        return problems
    problems += _node_problems(engagement, tree)
    targets = _frame(engagement, settings.targets_source, "targets")
    if targets is not None:
        label = engagement.sources[settings.targets_source].path
        problems += _row_problems(lambda frame: read_targets(frame, tree, known, label), targets)
    actions = _frame(engagement, settings.actions_source, "actions")
    if actions is not None:
        problems += _action_problems(actions, tree, engagement.sources[settings.actions_source].path)
    return problems


def _setting_problems(engagement: Engagement) -> list[DigiopsError]:
    """The sources the ``kpi:`` section names: of the kind it expects and mapping what the review reads; one
    named explicitly must exist (left at its default, an absent source only leaves that part out)."""
    settings, file = engagement.kpi, engagement.file.name
    problems: list[DigiopsError] = []
    for setting, (kind, needed) in KPI_SOURCES.items():
        name = getattr(settings, setting)
        field = f"kpi.{setting}"
        line = engagement.line_of("kpi", setting)
        source = engagement.sources.get(name)
        if source is None:
            if setting in settings.model_fields_set:
                of_kind = [n for n, s in engagement.sources.items() if s.kind == kind]
                match = closest(name, of_kind) or closest(name, engagement.sources)
                problems.append(EngagementError(
                    file, f"names source '{name}', which is not in sources", field=field, line=line,
                    fix=f"did you mean `{match}`?" if match else f"add the client's {kind} file under sources: "
                    f"(kind {kind}), or remove {field}"))
            continue
        if source.kind != kind:
            problems.append(EngagementError(file, f"source '{name}' is of kind {source.kind}, not {kind}",
                                            field=field, line=line,
                                            fix=f"set kind: {kind} on that source, or name a source of kind {kind}"))
            continue
        missing = [f for f in needed if f not in source.columns.values()]
        if missing:
            problems.append(EngagementError(file, f"source '{name}' maps no {', '.join(missing)}; the review reads "
                                            f"{', '.join(needed)}", field=f"sources.{name}.columns",
                                            line=engagement.line_of("sources", name, "columns"),
                                            fix=f"map the columns that hold {', '.join(missing)}"))
    return problems


def _node_problems(engagement: Engagement, tree: KpiTree) -> list[DigiopsError]:
    """Each node's source: a known metric (the traffic ones with a traffic source), or a source of the engagement
    mapping the column summed and a date."""
    settings = engagement.kpi
    problems: list[DigiopsError] = []
    for node in tree.nodes.values():
        field = f"kpis.{node.id}.source"
        if node.source is None:
            continue
        metric, name, column = node.source.metric, node.source.file, node.source.column
        if metric and metric not in METRICS:
            match = closest(metric, METRICS)
            problems.append(KpiTreeError(tree.file, f"unknown metric '{metric}'", field=field,
                                         fix=f"did you mean `{match}`?" if match else f"use one of: "
                                         f"{', '.join(METRICS)}"))
        elif metric in TRAFFIC_METRICS and settings.traffic_source not in engagement.sources:
            problems.append(KpiTreeError(tree.file, f"metric '{metric}' counts visitors from the traffic source "
                                         f"'{settings.traffic_source}' (kpi.traffic_source), which is not in "
                                         "sources", field=field,
                                         fix="add the daily visitors under sources: (kind traffic), or remove the "
                                             "KPI"))
        elif name and name not in engagement.sources:
            problems.append(KpiTreeError(tree.file, f"source '{name}' is not in the engagement's sources",
                                         field=f"{field}.file",
                                         fix="add it under sources:, or give the KPI a metric instead"
                                         + did_you_mean(name, engagement.sources)))
        elif name:
            mapped = set(engagement.sources[name].columns.values())
            if column not in mapped:
                problems.append(KpiTreeError(tree.file, f"column '{column}' is not a field source '{name}' maps "
                                             f"(it maps: {', '.join(sorted(mapped)) or 'nothing'})",
                                             field=f"{field}.column",
                                             fix="map the column to that field, or name a field it maps"
                                             + did_you_mean(column, sorted(mapped))))
            if not mapped & set(TIME_COLUMNS):
                problems.append(KpiTreeError(tree.file, f"source '{name}' maps no date ({', '.join(TIME_COLUMNS)}),"
                                             " so its values cannot be put in months", field=f"{field}.file",
                                             fix=f"map the date column of {engagement.sources[name].path}"))
    return problems


def _frame(engagement: Engagement, name: str, kind: str) -> pd.DataFrame | None:
    """The canonical frame of a KPI source of the right kind, or ``None`` when there is none or it cannot be
    read (the sources' check names why)."""
    source = engagement.sources.get(name)
    if source is None or source.kind != kind:
        return None
    try:
        return sources.canonical_frame(engagement, name)
    except DigiopsError:
        return None


def _row_problems(read: Callable[[pd.DataFrame], object], frame: pd.DataFrame) -> list[DigiopsError]:
    """Every bad row ``read`` refuses (up to :data:`MAX_ROW_PROBLEMS`), reading again without each one found."""
    problems: list[DigiopsError] = []
    while len(problems) < MAX_ROW_PROBLEMS:
        try:
            read(frame)
            break
        except KpiTreeError as exc:
            problems.append(exc)
            if exc.row is None:
                break
            frame = frame[frame["_row"] != exc.row]
    return problems


def _action_problems(actions: pd.DataFrame, tree: KpiTree, label: str) -> list[DigiopsError]:
    """Actions naming a KPI the tree does not have, as the review would refuse the first of them."""
    if "kpi_id" not in actions:
        return []
    kpis = actions["kpi_id"].astype("str").str.strip()
    bad = actions[~kpis.isin(tree.nodes)].head(MAX_ROW_PROBLEMS)
    return [KpiTreeError(label, f"action '{record.get('action_id')}' refers to unknown KPI "
                         f"'{str(record['kpi_id']).strip()}'", field="kpi_id", row=int(record["_row"]),
                         fix=f"use a KPI id of the tree ({', '.join(tree.nodes)})")
            for record in bad.to_dict("records")]
