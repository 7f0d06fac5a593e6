"""Where things live. Nothing else in the package hard-codes a path.

The project root is found from this file (``lib/digiops/paths.py`` → two levels up) and may be overridden with the
``DIGIOPS_HOME`` environment variable (tests point it at a temporary copy). Reports go to ``DIGIOPS_REPORTS`` when
set, else ``<root>/reports``.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"


def project_root() -> Path:
    """The checkout the package was installed from (editable install), or ``$DIGIOPS_HOME``."""
    return Path(os.environ.get("DIGIOPS_HOME", PACKAGE_DIR.parents[1])).resolve()


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def templates_dir() -> Path:
    return project_root() / "templates"


def clients_dir() -> Path:
    return project_root() / "data" / "clients"


def demo_client_dir() -> Path:
    return clients_dir() / "demo"


def reports_dir() -> Path:
    return Path(os.environ.get("DIGIOPS_REPORTS", project_root() / "reports")).resolve()


def resource(name: str) -> Path:
    """A file shipped inside the package (default question bank, segment map, …)."""
    return RESOURCES_DIR / name
