"""Stage "maturity": four-dimension digital maturity scoring, benchmark, gaps, value stream, roadmap (seed 004).

The public names a notebook uses; formulas are in :mod:`digiops.maturity.scoring` (exactly DOMAIN.md §3).

Example:
    >>> from digiops.maturity import level, band, severity
    >>> level(53.75), band(level(53.75)), severity(4.0 - level(53.75))
    (3.2, 3, 'moderate')
"""

from digiops.maturity.bank import QuestionBank, default_bank, default_indicators, indicator_level, load_bank
from digiops.maturity.dimensions import DIMENSION_KEYS, DIMENSIONS, dimension_name
from digiops.maturity.scoring import band, level, severity
from digiops.maturity.settings import MaturitySettings

__all__ = ["DIMENSIONS", "DIMENSION_KEYS", "MaturityResult", "MaturitySettings", "QuestionBank", "band",
           "default_bank", "default_indicators", "dimension_name", "indicator_level", "level", "load_bank",
           "run_maturity", "severity", "write_outputs"]


def __getattr__(name: str):
    # The stage runner reads sources through digiops.io and the engagement; import it lazily so that the
    # engagement schema (which imports maturity.settings) does not import itself.
    if name in ("run_maturity", "write_outputs", "MaturityResult"):
        from digiops.maturity import stage

        return getattr(stage, name)
    raise AttributeError(name)
