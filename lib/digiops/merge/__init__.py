"""Stage "merge": clean every source, resolve records to customers, link channel → order → delivery (seeds 000, 002).

:func:`run` is the stage (``01_clean_merge.ipynb`` calls it); :func:`run_merge` its pure core (engagement in,
:class:`MergeResult` out, nothing written); ``report`` shows the result; :func:`check` what ``digiops validate``
checks of it. How customers are decided: ``docs/architecture.md``.
"""

from digiops.merge.check import check
from digiops.merge.pipeline import MergeResult, run, run_merge

__all__ = ["MergeResult", "check", "run", "run_merge"]
