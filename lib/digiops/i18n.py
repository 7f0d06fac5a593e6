"""Report text in the engagement's language (zh or en): one helper every module uses.

>>> in_language("zh", "客户", "Customer"), in_language("en", "客户", "Customer")
('客户', 'Customer')
"""

from __future__ import annotations


def in_language(language: str, zh: str, en: str) -> str:
    """The Chinese text for a ``zh`` report, the English one otherwise."""
    return zh if language == "zh" else en
