"""Cells of notebooks/05_summary.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

from digiops.summary.render import SECTIONS

STAGE = "summary"

CELLS: list[tuple] = [
    ("code", '''from IPython.display import HTML, display
from digiops import summary as stage
ctx.md("本页汇总本次运行各阶段的核心结论；每个数字都来自对应阶段的输出，详情见各阶段报告。",
       "The headline findings of every stage of this run; each figure comes from that stage's outputs, and each "
       "section links to the stage's full report.")''', "intro"),
    ("code", '''summary = stage.run(ctx)'''),
    # One cell per section, so each carries its section's tag (commentary, client version).
    *(("code", f'display(HTML(stage.section(summary, {key!r}, ctx.language)))', key) for key in SECTIONS),
]
