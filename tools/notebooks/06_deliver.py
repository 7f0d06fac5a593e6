"""Cells of notebooks/06_deliver.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "deliver"

CELLS: list[tuple] = [
    ("code", '''ctx.md("交给客户的文件：每份报告的客户版（不含技术章节）及其 PDF、指导委员会汇报用的幻灯片和关键数据的 Excel 工作簿，"
       "都在 outputs/deliver/ 文件夹中，个人信息均已脱敏。",
       "What is handed to the client: the client version of every report (technical sections left out) and its "
       "PDF, the steering-committee deck and the Excel workbook of the key tables, all in the folder "
       "outputs/deliver/, personal data masked.")
from digiops import deliver
from digiops.deliver import report
delivered = deliver.run(ctx)
report.files_table(delivered, ctx.language)''', "intro"),
    ("code", '''for note in report.skipped_notes(delivered, ctx.language):
    ctx.md(note)'''),
    ("code", '''ctx.md("## 客户版不含的章节", "## Sections the client version leaves out")
ctx.md("以下章节只在内部版报告中出现（匹配权重、隔离明细、设置与文件清单等技术内容）。",
       "These sections appear in the internal reports only (matching weights, quarantine detail, settings and "
       "file lists).")
report.hidden_table(ctx.language)''', "hidden"),
]
