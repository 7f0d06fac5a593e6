"""Generate notebooks/dashboard.ipynb: ``python tests/dashboard/nb_dashboard.py`` from the project root.

The dashboard notebook is not a stage: no parameters cell; the launcher names the run through the environment.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

CELL = '''from digiops.dashboard import app_from_environment
app_from_environment()'''


def main() -> None:
    root = Path(__file__).resolve().parents[2]
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (digiops)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cell = nbformat.v4.new_code_cell(CELL)
    cell["id"] = "dashboard-00"
    nb.cells = [cell]
    (root / "notebooks" / "dashboard.ipynb").write_text(nbformat.writes(nb, version=4) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
