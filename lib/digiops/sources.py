"""A client's sources: the engagement file's ``sources:`` section applied to the files it names.

:mod:`digiops.io` reads a file in whatever format, encoding and delimiter it is told; this module tells it, for a
source named in the engagement file (its path, format, encoding, delimiter, sheet and header row), checks that the
columns the source maps are in the file, and renames them to the canonical fields stages work with
(:data:`digiops.canonical.CANONICAL_FIELDS`). Errors name the file as the client folder shows it
(``raw/crm.csv``), the field of the engagement file and the fix.

:func:`digiops.engagement.load_engagement` reads no source; a command that must not start on a missing file or a
mapped column that is not in it calls :func:`check_sources` after loading (``digiops validate`` calls
:func:`source_problems`, which reports every problem instead of the first).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from digiops import io
from digiops.engagement import Engagement
from digiops.errors import DigiopsError, SourceError
from digiops.io import ROW, SourceTable


def _label(engagement: Engagement, path: Path) -> str:
    """A source file as the errors name it: relative to the client folder, or as it is when outside it."""
    try:
        return str(path.relative_to(engagement.folder))
    except ValueError:
        return str(path)


def read_source(engagement: Engagement, name: str, *, nrows: int | None = None) -> SourceTable:
    """Read the named source of an engagement as text cells with ``_row`` (raw column names)."""
    if name not in engagement.sources:
        raise SourceError(engagement.file.name, f"no source named '{name}'", field="sources",
                          fix=f"use one of: {', '.join(engagement.sources)}")
    source = engagement.sources[name]
    path = engagement.source_path(name)
    return io.read_table(path, fmt=source.file_format, encoding=source.encoding, sheet=source.sheet,
                         header_row=source.header_row, label=_label(engagement, path), nrows=nrows, name=name,
                         delimiter=source.delimiter, widths=source.widths)


def check_source(engagement: Engagement, name: str) -> SourceTable:
    """Read a source's header (and a few rows) and check the mapping names existing columns; the first problem
    raises its :class:`~digiops.errors.SourceError`."""
    table = read_source(engagement, name, nrows=5)
    problems = mapping_problems(engagement, name, table)
    if problems:
        raise problems[0]
    return table


def mapping_problems(engagement: Engagement, name: str, table: SourceTable) -> list[SourceError]:
    """One :class:`~digiops.errors.SourceError` per column the source maps (or names as its id) that ``table``
    lacks; only the first when the fix is another delimiter, which every other one would repeat."""
    source = engagement.sources[name]
    available = table.columns
    expected = list(source.columns) + ([source.id_column] if source.id_column else [])
    missing = [column for column in expected if column not in available]
    if not missing:
        return []
    shown = ", ".join(available[:12]) + (", …" if len(available) > 12 else "")
    fix = column_fix(table, expected)
    problems = [SourceError(engagement.file.name, f"'{column}' is not a column of {source.path} (columns: {shown})",
                            field=f"sources.{name}.columns", fix=fix) for column in missing]
    return problems[:1] if io.delimiter_fix(table, expected) else problems


def check_sources(engagement: Engagement) -> None:
    """:func:`check_source` for every source, in the engagement file's order: the first problem raises its
    :class:`~digiops.errors.SourceError` (a file missing, unreadable, or without a mapped column)."""
    for name in engagement.sources:
        check_source(engagement, name)


def source_problems(engagement: Engagement, skip: Iterable[str] = ()) -> list[DigiopsError]:
    """Every problem of every source (but those named in ``skip``), in the engagement file's order: a file
    missing or unreadable (one problem: nothing more can be read from it), each mapped column it lacks."""
    problems: list[DigiopsError] = []
    for name in engagement.sources:
        if name in skip:
            continue
        try:
            table = read_source(engagement, name, nrows=5)
        except DigiopsError as exc:
            problems.append(exc)
            continue
        problems += mapping_problems(engagement, name, table)
    return problems


def column_fix(table: SourceTable, wanted: list[str]) -> str:
    """The fix of a mapped column missing from ``table``: the delimiter that would give every ``wanted`` column
    when there is one (:func:`digiops.io.delimiter_fix`), else the usual advice."""
    return io.delimiter_fix(table, wanted) or "map a column that exists, or correct header_row / sheet"


def canonical_frame(engagement: Engagement, name: str, table: SourceTable | None = None) -> pd.DataFrame:
    """A source with its mapped columns renamed to canonical names, plus ``record_id``, ``source`` and ``_row``.

    Unmapped columns are dropped. ``record_id`` is the source's id column as text (or its row number when the
    source has none).
    """
    source = engagement.sources[name]
    table = table or read_source(engagement, name)
    frame = table.frame
    out = frame[list(source.columns)].rename(columns=source.columns)
    out.insert(0, "record_id", frame[source.id_column].astype("str") if source.id_column
               else frame[ROW].astype("str"))
    out.insert(0, "source", name)
    out[ROW] = frame[ROW]
    return out.reset_index(drop=True)
