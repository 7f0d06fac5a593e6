"""What ``digiops validate`` checks of the labels stage before a run (:func:`check`)."""

from __future__ import annotations

import duckdb
import yaml

from digiops.canonical import PERSON_BEARING_KINDS
from digiops.engagement import Engagement
from digiops.errors import CatalogError, DigiopsError, EngagementError
from digiops.labels.catalog import catalog_file_problems
from digiops.labels.evaluate import check_catalog
from digiops.labels.features import load_segment_map


def check(engagement: Engagement) -> list[DigiopsError]:
    """What the labels stage would refuse: the tag catalog missing, not parsing, or naming what the feature view
    does not have (every problem of every tag), a rule that does not run on the feature view, a segment map
    that does not cover the R × F grid, and ``labels.events`` naming a source the engagement lacks or a key no
    column maps (:func:`event_problems`)."""
    try:
        catalog_path = engagement.config_path("labels", "catalog")
        segment_path = engagement.config_path("labels", "segment_map")
    except EngagementError:
        return []  # outside the client folder: the engagement's own check reports it
    problems: list[DigiopsError] = []
    if catalog_path is None:
        problems.append(CatalogError(engagement.file.name, "no tag catalog is named", field="labels.catalog",
                                     fix="name the catalog file, e.g. `catalog: tag_catalog.yaml`"))
    else:
        catalog, found = catalog_file_problems(catalog_path, engagement.labels.catalog)
        problems += found
        if catalog is not None:
            try:
                check_catalog(catalog)  # binds every rule on an empty feature view: a type mismatch shows here
            except duckdb.Error as exc:
                problems.append(CatalogError(catalog.source, f"a rule does not run on the feature view "
                                             f"({str(exc).splitlines()[0]})",
                                             fix="compare each field with a value of its type (docs/"
                                                 "catalog-and-tree.md lists the fields and their types)"))
    problems += event_problems(engagement)
    if segment_path is not None:
        label = engagement.labels.segment_map
        try:
            load_segment_map(segment_path)
        except DigiopsError as exc:
            problems.append(exc)
        except FileNotFoundError:
            problems.append(CatalogError(str(label), "file not found", field="labels.segment_map",
                                         fix="set labels.segment_map to an existing YAML file, or remove it for the "
                                             "default map"))
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
            problems.append(CatalogError(str(label), f"is not a segment map ({type(exc).__name__}: {exc})",
                                         field="labels.segment_map",
                                         fix="list `segments:`, each with id, name {zh, en}, r and f (as in "
                                             "lib/digiops/resources/rfm_segments.yaml)"))
    return problems


def event_problems(engagement: Engagement) -> list[DigiopsError]:
    """``labels.events``: the events source exists, is of kind ``funnel`` and maps a column to ``customer_key``; the
    key's source exists and holds people; its field is ``record_id`` or a field that source maps."""
    events = engagement.labels.events
    if events is None:
        return []
    sources = engagement.sources
    problems: list[DigiopsError] = []
    name = engagement.file.name
    source = sources.get(events.source)
    if source is None:
        problems.append(EngagementError(name, f"labels.events names source '{events.source}', which the engagement "
                                        "does not have", field="labels.events.source",
                                        fix=f"use one of: {', '.join(sources)}"))
    elif source.kind != "funnel" or "customer_key" not in source.columns.values():
        problems.append(EngagementError(name, f"source '{events.source}' is not funnel events with a customer_key "
                                        f"column (kind {source.kind})", field="labels.events.source",
                                        fix="name a source of kind funnel and map its logged-in key column to "
                                            "customer_key"))
    target = sources.get(events.customer_key.source)
    if target is None:
        problems.append(EngagementError(name, f"labels.events.customer_key names source "
                                        f"'{events.customer_key.source}', which the engagement does not have",
                                        field="labels.events.customer_key.source",
                                        fix=f"use one of: {', '.join(sources)}"))
    elif target.kind not in PERSON_BEARING_KINDS:
        problems.append(EngagementError(name, f"source '{events.customer_key.source}' holds no people (kind "
                                        f"{target.kind}): the merge resolves no customer for its records",
                                        field="labels.events.customer_key.source",
                                        fix="name a customers, orders or leads source (e.g. the member table)"))
    elif events.customer_key.field != "record_id" and events.customer_key.field not in target.columns.values():
        problems.append(EngagementError(name, f"source '{events.customer_key.source}' maps no column to "
                                        f"{events.customer_key.field}", field="labels.events.customer_key.field",
                                        fix="name a canonical field the source maps (e.g. member_id, openid) or "
                                            "record_id for its id column"))
    return problems
