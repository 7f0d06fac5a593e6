"""Stage "summary": the executive summary of one run, read from the other stages' outputs and the manifest.

Nothing is recomputed: :func:`collect` reads ``outputs/<stage>/…`` and ``manifest.json`` into a typed
:class:`Summary`; :func:`section_html` turns it into the page ``05_summary.ipynb`` shows. Each section falls back to
a plain sentence when its stage did not run or failed.
"""

from digiops.summary.collect import (Summary, collect, compare, headline_numbers, read_output, segment_migration,
                                     segment_table, stage_sentence)
from digiops.summary.render import (esc, fmt_number, fmt_percent, kpi_names_for, kpi_names_from_tree, section_html,
                                    summary_html)

__all__ = ["Summary", "collect", "compare", "esc", "fmt_number", "fmt_percent", "headline_numbers", "kpi_names_for",
           "kpi_names_from_tree",
           "read_output", "section_html", "segment_migration", "segment_table", "stage_sentence", "summary_html"]
