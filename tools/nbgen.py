"""Write a stage notebook from a list of cells (developer tool; notebooks are committed without outputs).

Usage from Python::

    from tools.nbgen import write_notebook, PARAMETERS
    write_notebook("notebooks/00_inventory.ipynb", "inventory", [("code", "..."), ("markdown", "...")])

The first cell is always the ``parameters`` cell (tagged for papermill), the second opens the StageContext.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

# Comments are the parameters' documentation (papermill inspect); keep quotes and backticks out of them.
PARAMETERS = '''engagement_path: str = ""  # engagement file or client name; empty means the demo client
run_dir: str = ""  # run folder created by digiops run; empty means a scratch run under reports/CLIENT/lab
previous_run_dir: str = ""  # previous successful run of the same client, for comparisons; empty means none'''


def write_notebook(path: str | Path, stage: str, cells: list[tuple[str, str]]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (digiops)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    opener = nbformat.v4.new_code_cell(
        "from digiops import StageContext, setup_charts\n"
        f"ctx = StageContext.open({stage!r}, engagement_path=engagement_path, run_dir=run_dir,\n"
        "                        previous_run_dir=previous_run_dir)\n"
        "setup_charts();")
    nb.cells = [params, opener]
    for kind, source in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        nb.cells.append(cell)
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"{stage}-{number:02d}"  # stable ids keep diffs of regenerated notebooks small
    Path(path).write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit("import write_notebook from this module")
