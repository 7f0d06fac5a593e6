"""What ``digiops validate`` checks of the deliver stage: the commentary file and the logo."""

from __future__ import annotations

from digiops import branding, commentary
from digiops.engagement import Engagement
from digiops.errors import DigiopsError, EngagementError


def check(engagement: Engagement) -> list[DigiopsError]:
    """The commentary file parses and names existing sections; the logo is a PNG or JPEG in the client folder."""
    problems: list[DigiopsError] = []
    for load in (commentary.load, branding.load_logo):
        try:
            load(engagement)
        except EngagementError as exc:
            problems.append(exc)
    return problems
