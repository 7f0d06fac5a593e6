"""Stage "labels": a tag catalog aligned to business definitions (seed 001), evaluated as SQL on DuckDB.

Public names for notebooks; see ``catalog`` (the contract), ``rules`` (the portable SQL subset), ``features`` (the
fields rules may name, RFM per DOMAIN.md §2), ``evaluate``, ``quality``, ``design`` and ``stage``.
"""

from digiops.labels.catalog import Catalog, load_catalog, parse_catalog, validate_catalog
from digiops.labels.evaluate import TagRun, check_catalog, evaluate
from digiops.labels.stage import run_stage, write_outputs

__all__ = ["Catalog", "TagRun", "check_catalog", "evaluate", "load_catalog", "parse_catalog", "run_stage",
           "validate_catalog", "write_outputs"]
