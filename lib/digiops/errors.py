"""One exception hierarchy for every user-facing error.

Every error says what is wrong, where (file, field path, row) and how to fix it, in one line a consultant can act
on. The CLI prints ``str(error)`` and exits non-zero; nothing else is shown unless ``--debug`` is given.

Example:
    >>> err = SourceError("raw/crm.csv", "'手机号' is not a column", field="columns.手机号", row=None,
    ...                   fix="map an existing column or fix the header_row")
    >>> str(err)
    "raw/crm.csv: columns.手机号: '手机号' is not a column (fix: map an existing column or fix the header_row)"
"""

from __future__ import annotations

from functools import partial


class DigiopsError(Exception):
    """Base class: ``location: [field: ][row N: ]problem (fix: …)``."""

    def __init__(self, location: str, problem: str, *, field: str | None = None, row: int | None = None,
                 fix: str | None = None):
        self.location = str(location)
        self.problem = problem
        self.field = field
        self.row = row
        self.fix = fix
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.location]
        if self.field:
            parts.append(self.field)
        if self.row is not None:
            parts.append(f"row {self.row}")
        text = ": ".join(parts) + f": {self.problem}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        """Pickle with every part, so an error raised in a worker process reaches the caller whole."""
        return partial(type(self), field=self.field, row=self.row, fix=self.fix), (self.location, self.problem)


class EngagementError(DigiopsError):
    """The engagement file is malformed, incomplete or points at something that does not exist."""


class SourceError(DigiopsError):
    """A client's raw export cannot be read or does not match its declared mapping."""


class CatalogError(DigiopsError):
    """The tag catalog is structurally wrong (labels stage)."""


class QuestionBankError(DigiopsError):
    """The maturity question bank, answers or indicator tables are wrong (maturity stage)."""


class KpiTreeError(DigiopsError):
    """The KPI tree, its targets or the action log are wrong (kpi stage)."""


class StageError(DigiopsError):
    """A stage notebook failed or a stage is configured wrongly."""


class ArchiveError(DigiopsError):
    """The report archive (run folder, manifest, index) cannot be written or read."""
