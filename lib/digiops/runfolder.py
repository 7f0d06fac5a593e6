"""The run folder: its layout, and the one place that reads and writes it.

A run of one engagement leaves one folder, ``reports/<client>/<run-id>/``::

    manifest.json                 what produced the run and every stage's status (:class:`~digiops.manifest.Manifest`)
    index.html                    the run's landing page (the executive summary when that stage ran)
    run.html                      the run overview: every stage, its status, duration, report and error
    <stage>.html                  each stage's rendered report
    notebooks/<notebook>          each stage's executed notebook
    outputs/<stage>/<file>        each stage's outputs (Parquet for tables, CSV / Excel / HTML exports)
    outputs/<stage>/metrics.json  the headline figures the stage recorded

Example:
    >>> run = RunFolder("reports/acme/20260416T120000-000000-aaaaaa")
    >>> run.output("merge", "customers.parquet").as_posix()
    'reports/acme/20260416T120000-000000-aaaaaa/outputs/merge/customers.parquet'
    >>> output_name("maturity", "scores.csv")
    'outputs/maturity/scores.csv'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from digiops import io
from digiops.errors import ArchiveError
from digiops.manifest import Manifest

OUTPUTS = "outputs"
NOTEBOOKS = "notebooks"
MANIFEST = "manifest.json"
METRICS = "metrics.json"
INDEX = "index.html"
RUN_PAGE = "run.html"


def output_name(stage: str, name: str) -> str:
    """How a stage's output is named inside the run folder (in messages and the manifest)."""
    return f"{OUTPUTS}/{stage}/{name}"


def report_name(stage: str) -> str:
    """The file name of a stage's rendered report."""
    return f"{stage}.html"


class RunFolder:
    """One run folder: where each of its files lives, and reading its outputs, metrics and manifest."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # --- layout -----------------------------------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST

    @property
    def index(self) -> Path:
        return self.path / INDEX

    @property
    def run_page(self) -> Path:
        return self.path / RUN_PAGE

    @property
    def is_run(self) -> bool:
        """Whether the folder holds a run (its manifest was written)."""
        return self.manifest_path.is_file()

    def report(self, stage: str) -> Path:
        return self.path / report_name(stage)

    def notebook(self, notebook: str) -> Path:
        """Where a stage's executed notebook is kept."""
        return self.path / NOTEBOOKS / notebook

    def stage_dir(self, stage: str) -> Path:
        return self.path / OUTPUTS / stage

    def output(self, stage: str, name: str) -> Path:
        return self.stage_dir(stage) / name

    def has_output(self, stage: str, name: str) -> bool:
        return self.output(stage, name).exists()

    def stage_files(self, stage: str) -> list[Path]:
        """Every file a stage wrote (hidden files aside), sorted; empty when it wrote nothing."""
        folder = self.stage_dir(stage)
        if not folder.is_dir():
            return []
        return [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")]

    # --- outputs ----------------------------------------------------------------------------------------------
    def table(self, stage: str, name: str) -> pd.DataFrame | None:
        """A stage's table (``name`` with its suffix: ``.parquet``, else read as CSV), ``None`` when not written."""
        path = self.output(stage, name)
        if not path.exists():
            return None
        return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)

    def first_table(self, stage: str, *names: str) -> pd.DataFrame | None:
        """The first of ``names`` the stage wrote, or ``None``."""
        for name in names:
            table = self.table(stage, name)
            if table is not None:
                return table
        return None

    def json(self, stage: str, name: str) -> Any | None:
        """A JSON file a stage wrote, ``None`` when not written."""
        path = self.output(stage, name)
        return io.read_json(path) if path.exists() else None

    def metrics(self, stage: str) -> dict[str, Any]:
        """What a stage recorded (``outputs/<stage>/metrics.json``); empty when it recorded nothing."""
        return self.json(stage, METRICS) or {}

    def record_metrics(self, stage: str, **metrics: Any) -> dict[str, Any]:
        """Add headline figures to a stage's ``metrics.json`` (atomic); returns them all."""
        recorded = {**self.metrics(stage), **metrics}
        io.write_json(self.output(stage, METRICS), recorded)
        return recorded

    # --- manifest ---------------------------------------------------------------------------------------------
    def read_manifest(self) -> Manifest:
        """The run's manifest; an :class:`~digiops.errors.ArchiveError` naming the file when it is missing or
        not a manifest."""
        path = self.manifest_path
        if not path.is_file():
            raise ArchiveError(str(path), f"no {MANIFEST}: this is not a run folder",
                               fix="pass a folder under reports/<client>/ written by digiops run")
        try:
            return Manifest.model_validate(io.read_json(path))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise ArchiveError(str(path), f"not a run manifest ({first['msg']})",
                               field=".".join(str(part) for part in first["loc"]) or None,
                               fix="run the engagement again") from None
        except ArchiveError as exc:
            raise ArchiveError(str(path), f"unreadable manifest ({exc.problem})",
                               fix="run the engagement again") from None

    def write_manifest(self, manifest: Manifest) -> Path:
        """Write the manifest atomically (a reader never sees half of it)."""
        return io.write_json(self.manifest_path, manifest.to_json())


__all__ = ["INDEX", "MANIFEST", "METRICS", "NOTEBOOKS", "OUTPUTS", "RUN_PAGE", "RunFolder", "output_name",
           "report_name"]
