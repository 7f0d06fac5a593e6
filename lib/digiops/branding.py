"""The engagement's branding in the page chrome: the client's logo, the consultancy's name and colours
(``deliver.branding``, :class:`digiops.settings.deliver.Branding`)."""

from __future__ import annotations

import base64
from typing import Any

from digiops.engagement import Engagement
from digiops.errors import EngagementError

MAX_LOGO_BYTES = 1 << 20
#: The first bytes of each image format a logo may have, and its media type.
LOGO_FORMATS = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def load_logo(engagement: Engagement) -> tuple[bytes, str] | None:
    """The logo's bytes and media type, checked: a PNG or JPEG file in the client folder, at most 1 MB."""
    path = engagement.logo_path()
    if path is None:
        return None
    label, field = engagement.file.name, "deliver.branding.logo"
    if not path.is_file():
        raise EngagementError(label, f"the logo '{engagement.deliver.branding.logo}' does not exist", field=field,
                              fix="check the path (relative to the engagement file), or remove the setting")
    data = path.read_bytes()
    if len(data) > MAX_LOGO_BYTES:
        raise EngagementError(label, f"the logo is {len(data):,} bytes, more than {MAX_LOGO_BYTES:,}", field=field,
                              fix="save a smaller image (a few hundred pixels wide is enough)")
    media = next((kind for magic, kind in LOGO_FORMATS.items() if data.startswith(magic)), None)
    if media is None:
        raise EngagementError(label, f"the logo '{path.name}' is not a PNG or JPEG image", field=field,
                              fix="export the logo as PNG or JPEG")
    return data, media


def page_branding(engagement: Engagement) -> dict[str, Any]:
    """What the page chrome shows: the consultancy, the colours and the logo as a ``data:`` address."""
    branding = engagement.deliver.branding
    logo = load_logo(engagement)
    return {"consultancy": branding.consultancy, "primary": branding.primary, "accent": branding.accent,
            "logo": f"data:{logo[1]};base64,{base64.b64encode(logo[0]).decode('ascii')}" if logo else ""}
