"""The names of the digital maturity model's dimensions in a report language.

The model's vocabulary (dimensions, phases, budget categories, root causes) is part of the engagement schema:
:mod:`digiops.settings.maturity`.
"""

from __future__ import annotations

from digiops.settings.maturity import DIMENSIONS
from digiops.text import in_language


def dimension_name(key: str, language: str) -> str:
    """The dimension's name in a language; an unknown key is returned as is.

    >>> dimension_name("data_assetization", "zh"), dimension_name("data_assetization", "en")
    ('数据资产化', 'Data assetization')
    """
    if key not in DIMENSIONS:
        return key
    _, zh, en = DIMENSIONS[key]
    return in_language(language, zh, en)
