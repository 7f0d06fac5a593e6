"""Stage "maturity": four-dimension digital maturity scoring, benchmark, gaps, value stream, roadmap (seed 004).

:func:`run` is the stage (``03_maturity.ipynb`` calls it), :func:`run_maturity` its pure core, ``report`` and
``charts`` show the result; formulas are in :mod:`digiops.maturity.scoring` (exactly DOMAIN.md §3); :func:`check` is
what ``digiops validate`` checks of it.

Example:
    >>> from digiops.maturity import level, band, severity
    >>> level(53.75), band(level(53.75)), severity(4.0 - level(53.75))
    (3.2, 3, 'moderate')
"""

from digiops.maturity.bank import QuestionBank, default_bank, default_indicators, indicator_level, load_bank
from digiops.maturity.check import check
from digiops.maturity.dimensions import dimension_name
from digiops.maturity.scoring import band, level, severity
from digiops.maturity.stage import MaturityResult, run, run_maturity
from digiops.settings.maturity import DIMENSION_KEYS, DIMENSIONS, MaturitySettings

__all__ = ["DIMENSIONS", "DIMENSION_KEYS", "MaturityResult", "MaturitySettings", "QuestionBank", "band", "check",
           "default_bank", "default_indicators", "dimension_name", "indicator_level", "level", "load_bank",
           "run", "run_maturity", "severity"]
