"""Reusing stages from an earlier run of the same client: rerun one stage without redoing the ones it reads.

``digiops run CLIENT --stages labels`` runs labels and takes the outputs of ``merge`` (which labels reads) from the
client's latest successful run that ran it (or from ``--from-run RUN``), but only when what merge read is unchanged
since: the files of the sources of the kinds it reads, their entries in the engagement file, the merge section and
the files it names, and the settings every stage shares (client, period, language, engine). Anything else changed
and the run refuses to start, naming what changed and the command that runs the stage again. The new run's
manifest marks the stage ``reused_from`` that run; its outputs, report and executed notebook are linked (or
copied) into the new run folder, so the run is complete on its own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from digiops import archive, io, manifest
from digiops.engagement import CONFIG_PATHS, Engagement
from digiops.errors import StageError
from digiops.manifest import Manifest
from digiops.runfolder import RunFolder
from digiops.stages import Stage

#: Settings every stage's outputs depend on.
SHARED_SETTINGS = ("client", "period", "language", "engine")


def _relevant_sources(engagement: Engagement, stage: Stage) -> list[str]:
    return [name for name, source in engagement.sources.items()
            if stage.reads is None or source.kind in stage.reads]


def changes(engagement: Engagement, earlier: Manifest, stage: Stage) -> list[str]:
    """What changed, since the ``earlier`` run, among the inputs and settings of ``stage``; empty when it can be
    reused."""
    now = manifest.strip_secrets(engagement.model_dump(mode="json"))
    before = earlier.parameters or {}
    found = [f"setting '{key}'" for key in (*SHARED_SETTINGS, stage.name)
             if key in now and now.get(key) != before.get(key)]
    sources_before = before.get("sources") or {}
    names = _relevant_sources(engagement, stage)
    found += [f"the entry of source '{name}'" for name in names
              if now["sources"].get(name) != sources_before.get(name)]
    files = [engagement.source_path(name) for name in names]
    files += [path for section, key in CONFIG_PATHS if section == stage.name
              if (path := engagement.config_path(section, key)) is not None]
    fingerprints = {entry.path: entry.sha256 for entry in earlier.inputs}
    for path in files:
        shown = manifest.shown_path(path, engagement.folder)
        if not path.exists():
            found.append(f"{shown} (missing now)")
        elif fingerprints.get(shown) != io.sha256_file(path):
            found.append(f"{shown} (its content)" if shown in fingerprints else f"{shown} (new since)")
    return found


def source_run(client_dir: Path, stage: str, before: str, run_id: str | None = None) -> RunFolder | None:
    """The run to take ``stage`` from: ``run_id`` (which must have run it successfully), else the latest
    successful run before ``before`` in which it succeeded; ``None`` when there is none."""
    if run_id is not None:
        folder = RunFolder(client_dir / run_id)
        if not folder.is_run:
            known = ", ".join(r["run_id"] for r in archive.list_runs(client_dir)[:5]) or "none yet"
            raise StageError(f"--from-run {run_id}", f"no run of this client is called {run_id}",
                             fix=f"give a run id from `digiops list` (latest: {known})")
        entry = folder.read_manifest().stage(stage)
        if entry is None or entry.status != "succeeded":
            raise StageError(f"--from-run {run_id}", f"stage '{stage}' did not succeed in that run, so there is "
                             "nothing to reuse", fix=f"add {stage} to --stages, or name a run in which it succeeded")
        return folder
    for run in archive.list_runs(client_dir):
        if run["run_id"] >= before or run["status"] != "succeeded":
            continue
        folder = RunFolder(run["path"])
        entry = folder.read_manifest().stage(stage)
        if entry is not None and entry.status == "succeeded":
            return folder
    return None


def check(engagement: Engagement, earlier: RunFolder, stage: Stage, rerun: list[str]) -> None:
    """Refuse to reuse ``stage`` from ``earlier`` when its inputs changed or it lacks an output the stage now
    declares, naming them and the command to run."""
    found = changes(engagement, earlier.read_manifest(), stage)
    found += [f"its output {name} (the earlier run has none: it was made before the stage wrote it)"
              for name in stage.outputs if not earlier.has_output(stage.name, name)]
    if found:
        again = ",".join([stage.name, *rerun])
        raise StageError(f"stage {stage.name}", f"cannot be reused from run {earlier.path.name}: "
                         + "; ".join(found) + " changed since", fix=f"run it again: digiops run "
                         f"{engagement.client.id} --stages {again}")


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)  # the same bytes, no copy: outputs are written once and never changed
    except OSError:
        shutil.copy2(source, target)


def bring(earlier: RunFolder, run: RunFolder, stage: Stage) -> dict[str, Any]:
    """Link the stage's outputs, report and executed notebook from ``earlier`` into ``run``; returns the stage's
    manifest entry of the earlier run (as JSON)."""
    for path in earlier.stage_files(stage.name):
        _link_or_copy(path, run.output(stage.name, str(path.relative_to(earlier.stage_dir(stage.name)))))
    for source, target in ((earlier.report(stage.name), run.report(stage.name)),
                           (earlier.notebook(stage.notebook), run.notebook(stage.notebook))):
        if source.exists():
            _link_or_copy(source, target)
    return earlier.read_manifest().stage(stage.name).to_json()
