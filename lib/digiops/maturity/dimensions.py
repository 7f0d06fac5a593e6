"""The four dimensions of the digital maturity model (seed 004 §1.1.1), phases and budget categories.

Kept free of heavy imports: the engagement schema imports it through :mod:`digiops.maturity.settings`.
"""

from __future__ import annotations

#: dimension key → (question-id prefix, name zh, name en), in report order.
DIMENSIONS: dict[str, tuple[str, str, str]] = {
    "process_digitalization": ("PD", "流程数字化", "Process digitalization"),
    "data_assetization": ("DA", "数据资产化", "Data assetization"),
    "business_online": ("BO", "业务在线化", "Business online-ization"),
    "decision_intelligence": ("DI", "决策智能化", "Decision intelligence"),
}
DIMENSION_KEYS = tuple(DIMENSIONS)

#: roadmap phase → (first month, last month, name zh, name en) (seed 004 §1.3.1).
PHASES: dict[str, tuple[int, int, str, str]] = {
    "pilot": (1, 6, "试点期", "Pilot"),
    "scale_up": (7, 18, "推广期", "Scale-up"),
    "deepening": (19, 36, "深化期", "Deepening"),
}
PHASE_KEYS = tuple(PHASES)

#: budget categories (seed 004 §1.3.2): technology (hardware, software, cloud), people (hiring, training),
#: operations (process improvement, data governance).
BUDGET_CATEGORIES = ("technology", "people", "operations")

#: value-stream root-cause categories (seed 004 §1.1.1 step 3).
ROOT_CAUSES: dict[str, tuple[str, str]] = {
    "technology": ("技术架构", "Technology"),
    "data_standards": ("数据标准", "Data standards"),
    "organisation": ("组织协同", "Organisation"),
    "unclassified": ("未归类", "Unclassified"),
}


def dimension_name(key: str, language: str = "zh") -> str:
    """The dimension's name in a language; an unknown key is returned as is.

    >>> dimension_name("data_assetization"), dimension_name("data_assetization", "en")
    ('数据资产化', 'Data assetization')
    """
    if key not in DIMENSIONS:
        return key
    _, zh, en = DIMENSIONS[key]
    return zh if language == "zh" else en
