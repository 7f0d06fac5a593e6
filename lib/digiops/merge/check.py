"""What ``digiops validate`` checks of the merge stage before a run (:func:`check`)."""

from __future__ import annotations

from digiops.engagement import Engagement
from digiops.errors import DigiopsError, EngagementError, SourceError
from digiops.merge.clerical import check_review_file


def check(engagement: Engagement) -> list[DigiopsError]:
    """What the merge stage would refuse before it starts: the reviewed file named in ``merge.review_file``
    missing, unreadable, or with bad rows (all of them named)."""
    name = engagement.merge.review_file
    try:
        path = engagement.config_path("merge", "review_file")
    except EngagementError:
        return []  # outside the client folder: the engagement's own check reports it
    if path is None:
        return []
    if not path.is_file():
        return [SourceError(engagement.file.name, f"review file '{name}' does not exist", field="merge.review_file",
                            line=engagement.line_of("merge", "review_file"),
                            fix="give the path of a reviewed review_pairs.xlsx, or remove merge.review_file")]
    return list(check_review_file(path, str(name)))
