"""Cells of notebooks/00_inventory.ipynb after the parameters and opener cells (`python tools/nbgen.py` writes it)."""

STAGE = "inventory"
CELLS = [
 ("code", 'ctx.md("客户系统导出文件的数据地图：每个来源的编码、行数、字段映射与日期范围。",\n'
          '       "The data map of the client\'s exports: encoding, rows, column mapping and date range of every source.")', "intro"),
 ("code", 'from digiops import inventory\n'
          'sources, columns = inventory.run(ctx)'),
 ("code", 'ctx.md("## 来源一览", "## Sources")\n'
          'inventory.sources_view(sources, ctx.language)', "sources"),
 ("code", 'broken = sources[sources["error"].notna()]\n'
          'if len(broken):\n'
          '    ctx.md("## 无法读取的来源", "## Sources that cannot be read")\n'
          '    display(inventory.sources_view(broken[["source", "path", "error"]], ctx.language))\n'
          'else:\n'
          '    ctx.md("所有来源均可读取。", "Every source can be read.")', "unreadable"),
 ("code", 'import seaborn as sns, matplotlib.pyplot as plt\n'
          'ctx.md("## 字段填充率", "## Column fill rates")\n'
          'mapped = columns[columns["canonical"].notna()]\n'
          'fig, ax = plt.subplots(figsize=(9, max(3, 0.22 * len(mapped))))\n'
          'sns.barplot(data=mapped, y=mapped["source"] + " · " + mapped["column"], x="filled_share", ax=ax, color="#4c72b0")\n'
          'ax.set_xlabel(ctx.t("填充率", "share filled")); ax.set_ylabel("")\n'
          'plt.show()', "fill"),
 ("code", 'ctx.md("## 未映射的字段", "## Unmapped columns")\n'
          'inventory.unmapped_view(columns, ctx.language)', "unmapped"),
]
