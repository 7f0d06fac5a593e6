"""Stage "labels": a tag catalog aligned to business definitions (seed 001), evaluated as SQL on DuckDB.

:func:`run` is the stage (``02_labels.ipynb`` calls it), :func:`run_stage` its core, :func:`check` what ``digiops
validate`` checks of it. See ``catalog`` (the contract, docs/catalog-and-tree.md), ``rules`` (the portable SQL
subset), ``features`` (the fields rules may name, RFM per DOMAIN.md §2), ``evaluate``, ``measures``, ``design`` and
``stage``; ``report`` and ``charts`` show the result.
"""

from digiops.labels.catalog import Catalog, load_catalog, parse_catalog, validate_catalog
from digiops.labels.check import check
from digiops.labels.evaluate import TagRun, check_catalog, evaluate
from digiops.labels.stage import LabelStage, run, run_stage

__all__ = ["Catalog", "LabelStage", "TagRun", "check", "check_catalog", "evaluate", "load_catalog",
           "parse_catalog", "run", "run_stage", "validate_catalog"]
