"""What ``digiops validate`` checks of the labels stage before a run (:func:`check`)."""

from __future__ import annotations

import duckdb
import yaml

from digiops.engagement import Engagement
from digiops.errors import CatalogError, DigiopsError, EngagementError
from digiops.labels.catalog import catalog_file_problems
from digiops.labels.evaluate import check_catalog
from digiops.labels.features import load_segment_map


def check(engagement: Engagement) -> list[DigiopsError]:
    """What the labels stage would refuse: the tag catalog missing, not parsing, or naming what the feature view
    does not have (every problem of every tag), a rule that does not run on the feature view, and a segment map
    that does not cover the R × F grid."""
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
