"""Stage "summary": the executive summary of one run, read from the other stages' outputs and the manifest.

Nothing is recomputed: :func:`collect` reads what each stage wrote and recorded (``outputs/<stage>/…``,
``metrics.json``, the manifest) into a typed :class:`Summary`; :func:`section_html` turns it into the page
``05_summary.ipynb`` shows. :func:`run` is the stage. Each section falls back to a plain sentence when its stage
did not run or failed.
"""

from digiops.summary.collect import Summary, collect, compare, headline_numbers, segment_table, stage_sentence
from digiops.summary.render import fmt_number, fmt_percent, section, section_html, summary_html
from digiops.summary.stage import run

__all__ = ["Summary", "collect", "compare", "fmt_number", "fmt_percent", "headline_numbers", "run", "section", "section_html",
           "segment_table", "stage_sentence", "summary_html"]
