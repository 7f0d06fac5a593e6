"""The summary stage: read every stage's recorded outputs into a :class:`Summary`, write it, record its counts."""

from __future__ import annotations

from digiops.summary.collect import FIGURES, Summary, collect, headline_numbers
from digiops.summary.render import SECTION_ORDER


def run(ctx) -> Summary:
    """The stage: collect the run (and compare it with the previous one), write ``summary.json``, record counts."""
    summary = collect(ctx.run_dir, ctx.previous_run_dir)
    ctx.write_json("summary.json", summary.to_json())
    ctx.write_json(FIGURES, headline_numbers(summary))  # what later runs show as this review's figures
    ctx.record(sections_with_figures=sum(summary.note(s) is None for s in SECTION_ORDER),
               previous_run=summary.previous_run, changes=len(summary.changes or []))
    return summary
