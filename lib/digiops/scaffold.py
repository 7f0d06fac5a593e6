"""``digiops new-client``: a client folder from the engagement-file template in ``templates/``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from digiops import paths
from digiops.engagement import ENGAGEMENT_FILE
from digiops.errors import EngagementError

TEMPLATE = "new_client/engagement.yaml"


def new_client(name: str, parent: Path | None = None) -> Path:
    """Create ``<parent>/<name>/engagement.yaml`` and ``raw/``; refuse to overwrite an existing client."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name):
        raise EngagementError(name, "is not a usable client id", fix="use letters, digits, '-' and '_' only")
    folder = (parent or paths.clients_dir()) / name
    target = folder / ENGAGEMENT_FILE
    if target.exists():
        raise EngagementError(str(target), "already exists", fix="choose another name or edit the existing file")
    today = dt.date.today()
    text = (paths.templates_dir() / TEMPLATE).read_text(encoding="utf-8")
    text = text.replace("{{client_id}}", name).replace("{{year}}", str(today.year))
    (folder / "raw").mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
