"""The deliver stage's page: what was handed over, what was not and why, and what the client version leaves out."""

from __future__ import annotations

import pandas as pd

from digiops.context import escaped_styler
from digiops.deliver.stage import Delivered, hidden_sections
from digiops.stages import BUILTIN
from digiops.text import in_language

KINDS = {"page": ("网页报告（客户版）", "report page (client version)"), "pdf": ("PDF", "PDF"),
         "deck": ("汇报幻灯片", "slide deck"), "workbook": ("Excel 工作簿", "Excel workbook")}
COUNTED = {"pdf": ("页", "pages"), "deck": ("张幻灯片", "slides"), "workbook": ("个工作表", "sheets")}


def files_table(delivered: Delivered, language: str):
    rows = []
    for item in delivered.files:
        stage = BUILTIN[item.stage].title(language) if item.stage in BUILTIN else (item.stage or "")
        count = f"{item.count:,} {in_language(language, *COUNTED[item.kind])}" if item.count is not None else ""
        rows.append({in_language(language, "文件", "file"): item.file,
                     in_language(language, "内容", "what"): in_language(language, *KINDS[item.kind]),
                     in_language(language, "报告", "report"): stage,
                     in_language(language, "规模", "size"): count,
                     in_language(language, "大小（KB）", "size (KB)"): f"{item.size / 1024:,.0f}"})
    return escaped_styler(pd.DataFrame(rows).style).hide(axis="index")


def skipped_notes(delivered: Delivered, language: str) -> list[str]:
    return [in_language(language, f"> 未生成：{why}", f"> Not written: {why}") for _, why in delivered.skipped]


def hidden_table(language: str):
    frame = pd.DataFrame(hidden_sections(language), columns=[in_language(language, "报告", "report"),
                                                             in_language(language, "章节", "section")])
    return escaped_styler(frame.style).hide(axis="index")
