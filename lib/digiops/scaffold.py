"""``digiops new-client``: a client folder from the templates in ``templates/new_client/``.

The folder gets the engagement file, a starter tag catalog and KPI tree that work on any client with an orders
source (docs/catalog-and-tree.md), and an empty ``raw/`` for the client's exports. The engagement file's comments
name the commands that find the client: its name when it lives under ``data/clients/``, else its folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

from digiops import paths
from digiops.engagement import ENGAGEMENT_FILE
from digiops.errors import EngagementError

TEMPLATE_DIR = "new_client"
#: template → file written in the client folder
FILES = {"engagement.yaml": ENGAGEMENT_FILE, "tag_catalog.yaml": "tag_catalog.yaml", "kpi_tree.yaml": "kpi_tree.yaml"}


def new_client(name: str, parent: Path | None = None) -> Path:
    """Create ``<parent>/<name>/`` with the engagement file, the starter catalog and tree, and ``raw/``; refuse to
    overwrite an existing client. Returns the engagement file."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise EngagementError(name, "is not a usable client id", fix="use letters, digits, '-' and '_' only")
    folder = (parent or paths.clients_dir()) / name
    existing = [folder / target for target in FILES.values() if (folder / target).exists()]
    if existing:
        raise EngagementError(str(existing[0]), "already exists", fix="choose another name or edit the existing file")
    values = {"client_id": name, "client": client_argument(folder), "year": str(dt.date.today().year)}
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    for template, target in FILES.items():
        text = (paths.templates_dir() / TEMPLATE_DIR / template).read_text(encoding="utf-8")
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        (folder / target).write_text(text, encoding="utf-8")
    return folder / ENGAGEMENT_FILE


def client_argument(folder: Path) -> str:
    """How a command names the client in ``folder``: its name under ``data/clients/``, else the folder (relative
    to the working directory when inside it).

    >>> client_argument(paths.clients_dir() / "acme")
    'acme'
    """
    folder = Path(os.path.abspath(folder))
    if folder.parent == Path(os.path.abspath(paths.clients_dir())):
        return folder.name
    try:
        return str(folder.relative_to(Path.cwd()))
    except ValueError:
        return str(folder)
