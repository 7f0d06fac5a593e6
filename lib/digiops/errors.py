"""One exception hierarchy for every user-facing error.

Every error says what is wrong, where (file, field path, row) and how to fix it, in one line a consultant can act
on. The CLI prints ``str(error)`` and exits non-zero; nothing else is shown unless ``--debug`` is given
(``digiops --debug run …`` prints the Python traceback as well).

A place in a file the consultant edits is given as ``line``: it follows the problem, before the fix.

Example:
    >>> err = SourceError("raw/crm.csv", "'手机号' is not a column", field="columns.手机号", row=None,
    ...                   fix="map an existing column or fix the header_row")
    >>> str(err)
    "raw/crm.csv: columns.手机号: '手机号' is not a column (fix: map an existing column or fix the header_row)"
    >>> str(EngagementError("engagement.yaml", "'crm' is given twice (lines 7 and 12)", field="sources", line=12))
    "engagement.yaml: sources: 'crm' is given twice (lines 7 and 12) (line 12)"
"""

from __future__ import annotations

import signal
from functools import partial


class DigiopsError(Exception):
    """Base class: ``location: [field: ][row N: ]problem[ (line N)][ (fix: …)]``."""

    def __init__(self, location: str, problem: str, *, field: str | None = None, row: int | None = None,
                 fix: str | None = None, line: int | None = None):
        self.location = str(location)
        self.problem = problem
        self.field = field
        self.row = row
        self.fix = fix
        self.line = line
        super().__init__(self.message)

    @property
    def message(self) -> str:
        parts = [self.location]
        if self.field:
            parts.append(self.field)
        if self.row is not None:
            parts.append(f"row {self.row}")
        text = ": ".join(parts) + f": {self.problem}"
        if self.line is not None:
            text += f" (line {self.line})"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        """Pickle with every part, so an error raised in a worker process reaches the caller whole."""
        return (partial(type(self), field=self.field, row=self.row, fix=self.fix, line=self.line),
                (self.location, self.problem))


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


#: The signals that stop a run or a served dashboard, each raising :class:`RunInterrupted` (those this platform has).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class RunInterrupted(BaseException):
    """A run was stopped by a signal (SIGINT, SIGTERM, SIGHUP) after it recorded itself as failed.

    Not a :class:`DigiopsError`: like ``KeyboardInterrupt`` it passes every ``except Exception``, so nothing between
    the signal and the runner swallows it. The CLI exits with ``128 + signal number`` (130, 143, 129), the shell's
    convention for a process ended by a signal.

    >>> err = RunInterrupted(signal.SIGTERM)
    >>> str(err), err.exit_code
    ('interrupted by SIGTERM', 143)
    """

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = int(signum)
        self.run_dir: str | None = None  # set by the run that recorded the interruption

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return f"interrupted by {self.signal_name}"
