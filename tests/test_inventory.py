"""The inventory page's tables: headers and codes in the page's language, "–" for what a source does not have,
fill rates as percentages, and no title of the notebook's own."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from digiops import inventory


def sources() -> pd.DataFrame:
    return pd.DataFrame({"source": ["crm", "pos"], "kind": ["customers", "orders"], "delimiter": ["comma", None],
                         "sheet": [None, "会员列表"], "rows": [13821.0, float("nan")], "sha256": ["ab", None],
                         "error": [None, "cannot read"]})


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_chinese_sources_table_has_words_and_no_missing_marker():
    shown = text(inventory.sources_view(sources(), "zh").to_html())

    assert all(word in shown for word in ("来源", "类型", "客户", "订单", "逗号", "13,821"))
    assert not re.search(r"\b(None|nan|NaN|customers|comma|sha256)\b", shown) and "–" in shown


def test_english_sources_table_has_no_chinese_header():
    shown = inventory.sources_view(sources(), "en").to_html()

    assert all(word in shown for word in (">source<", ">kind<", ">customers<", ">comma<"))
    assert not re.search(r"[\u4e00-\u9fff]", text(shown).replace("会员列表", ""))


def test_unmapped_columns_show_fill_rates_as_percentages():
    columns = pd.DataFrame({"source": ["crm", "crm"], "column": ["积分", "手机"], "canonical": [None, "phone"],
                            "filled_share": [0.25, 1.0], "distinct": [7333, 10]})

    shown = text(inventory.unmapped_view(columns, "zh").to_html())

    assert "25.0%" in shown and "7,333" in shown and "手机" not in shown and "填充率" in shown


def test_the_page_prints_no_title_of_its_own():
    cells = (Path(__file__).parents[1] / "tools" / "notebooks" / "00_inventory.py").read_text(encoding="utf-8")

    assert not re.search(r"ctx\.md\(f?\"# ", cells)
