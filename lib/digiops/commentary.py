"""The consultant's commentary: a Markdown file in the client folder with text for named report sections.

The engagement names it (``deliver.commentary``). Each ``## <section key>`` heading opens the comment on one report
section (keys from :mod:`digiops.sections`, e.g. ``kpi.situation``, ``summary.kpi``); under it, ``### zh`` and
``### en`` split the text by language, and text before either is shown in both. Lines before the first section and
HTML comments are ignored::

    ## kpi.situation
    ### zh
    华东大区连续两个月未达成，建议在下次复盘前确认门店目标。
    ### en
    East region missed twice in a row; confirm the store targets before the next review.

The text appears at its section in the report (internal and client versions), the PDF and the deck. A heading naming
no section, a language other than zh / en, or a section given twice is an error naming the line and the fix.
"""

from __future__ import annotations

import re
from pathlib import Path

from digiops import sections
from digiops.engagement import Engagement, closest
from digiops.errors import EngagementError

_SECTION = re.compile(r"^##\s+(?P<key>\S.*?)\s*$")
_LANGUAGE = re.compile(r"^###\s+(?P<language>\S.*?)\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
LANGUAGES = ("zh", "en")

#: section key → language (``""``: both) → Markdown text
Comments = dict[str, dict[str, str]]


def parse(text: str, label: str) -> Comments:
    """The comments of a commentary file's text; ``label`` names the file in errors."""
    text = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text.replace("\r\n", "\n"))
    found: Comments = {}
    lines_of: dict[str, int] = {}
    key: str | None = None
    language = ""
    for number, line in enumerate(text.split("\n"), start=1):
        heading = _SECTION.match(line)
        if heading:
            key, language = heading.group("key"), ""
            if key not in sections.BY_KEY:
                meant = closest(key, sections.BY_KEY)
                raise EngagementError(label, f"section '{key}' does not exist", line=number,
                                      fix=(f"did you mean '{meant}'? " if meant else "")
                                      + "name a report section, e.g. " + ", ".join(list(sections.BY_KEY)[:4])
                                      + " (every key is listed in docs/deliverables.md)")
            if key in found:
                raise EngagementError(label, f"section '{key}' is commented twice (first on line {lines_of[key]})",
                                      line=number, fix="merge the two comments under one heading")
            found[key], lines_of[key] = {}, number
            continue
        split = _LANGUAGE.match(line)
        if split and key is not None:
            language = split.group("language").lower()
            if language not in LANGUAGES:
                raise EngagementError(label, f"'### {split.group('language')}' under section '{key}' is not a "
                                      "language", line=number, fix="use ### zh or ### en, or a heading of four #")
            continue
        if key is not None:
            found[key][language] = found[key].get(language, "") + line + "\n"
    return {k: {lang: body.strip() for lang, body in texts.items() if body.strip()} for k, texts in found.items()}


def path(engagement: Engagement) -> Path | None:
    return engagement.config_path("deliver", "commentary")


def load(engagement: Engagement) -> Comments:
    """The engagement's comments (empty when it names no commentary file)."""
    file = path(engagement)
    if file is None:
        return {}
    label = f"{engagement.file.name}: deliver.commentary ({engagement.deliver.commentary})"
    if not file.is_file():
        raise EngagementError(label, "the commentary file does not exist", fix="check the path, or remove the setting")
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EngagementError(label, f"the commentary file is not UTF-8 (byte {exc.start})",
                              fix="save it as UTF-8") from None
    return parse(text, str(file.name))


def in_language(comments: Comments, language: str) -> dict[str, str]:
    """section key → the text shown in a report of ``language`` (its own text, then the text for both)."""
    out = {}
    for key, texts in comments.items():
        shown = "\n\n".join(t for t in (texts.get(""), texts.get(language)) if t)
        if shown:
            out[key] = shown
    return out
