"""Cells of notebooks/05_summary.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "summary"

CELLS: list[tuple[str, str]] = [
    ("code", '''from IPython.display import HTML, display
from digiops.summary import collect, esc, kpi_names_for, section_html, segment_migration, read_output
display(HTML(f"<h1>{esc(ctx.t('管理层摘要', 'Executive summary'))} · {esc(ctx.client_name)}</h1>"))
ctx.md("本页汇总本次运行各阶段的核心结论；每个数字都来自对应阶段的输出，详情见各阶段报告。",
       "The headline findings of every stage of this run; each figure comes from that stage's outputs, and each "
       "section links to the stage's full report.")'''),
    ("code", '''kpi_names = kpi_names_for(ctx.engagement)
ctx.write_json("kpi_names.json", kpi_names)
summary = collect(ctx.run_dir, ctx.previous_run_dir, kpi_names=kpi_names)
ctx.write_json("summary.json", summary.to_json())
tags = read_output(ctx.run_dir, "labels", "tags.parquet")
if tags is not None:
    ctx.write_table("segment_migration", segment_migration(tags, ctx.previous_table("labels", "tags")))
ctx.record(sections_with_figures=sum(summary.note(s) is None for s in ("maturity", "merge", "labels", "kpi")),
           previous_run=summary.previous_run, changes=len(summary.changes or []))'''),
    ("code", '''for heading, body in section_html(summary, ctx.language):
    display(HTML(body))'''),
]
