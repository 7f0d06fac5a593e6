"""Write the notebooks in notebooks/ from their cell lists in tools/notebooks/ (developer tool).

    .venv/bin/python tools/nbgen.py          # rewrite every notebook (committed without outputs)

Each ``tools/notebooks/<name>.py`` defines ``STAGE`` (``None`` for the dashboard, which takes no parameters) and
``CELLS``, a list of ``("code" | "markdown", source[, section])``: a cell naming a section (declared in
:mod:`digiops.sections`) opens it, and it and every cell after it up to the next one opening a section are tagged
``section-<stage>.<section>``. A stage notebook starts with the one cell tagged
``parameters`` and the cell opening its :class:`digiops.StageContext`; ``tests/test_packaging.py`` checks the
committed notebooks are exactly what this tool writes.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from digiops import sections  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "tools" / "notebooks"

# Comments are the parameters' documentation (papermill inspect); keep quotes and backticks out of them.
PARAMETERS = '''engagement_path: str = ""  # engagement file or client name; empty means the demo client
run_dir: str = ""  # run folder created by digiops run; empty means a scratch run under reports/CLIENT/lab
previous_run_dir: str = ""  # previous successful run of the same client, for comparisons; empty means none'''


def notebook_text(stage: str | None, cells: list[tuple[str, str]], name: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (digiops)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if stage is not None:
        params = nbformat.v4.new_code_cell(PARAMETERS)
        params.metadata["tags"] = ["parameters"]
        opener = nbformat.v4.new_code_cell(
            "from digiops import StageContext\n"
            "from digiops.charts import setup_charts\n"
            f"ctx = StageContext.open({stage!r}, engagement_path=engagement_path, run_dir=run_dir,\n"
            "                        previous_run_dir=previous_run_dir)\n"
            "setup_charts();")
        nb.cells = [params, opener]
    keys = {s.id for s in sections.of_stage(stage)} if stage else set()
    current = None
    for kind, source, *opens in cells:
        cell = nbformat.v4.new_markdown_cell(source) if kind == "markdown" else nbformat.v4.new_code_cell(source)
        if opens:
            if opens[0] not in keys:
                raise SystemExit(f"{name}: section {opens[0]!r} is not declared in digiops.sections for {stage}")
            current = opens[0]
        if current:
            cell.metadata["tags"] = [f"{sections.TAG_PREFIX}{stage}.{current}"]
        nb.cells.append(cell)
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"{stage or name}-{number:02d}"  # stable ids keep diffs of regenerated notebooks small
    return nbformat.writes(nb, version=4) + "\n"


def write_notebook(path: str | Path, stage: str | None, cells: list[tuple[str, str]]) -> None:
    Path(path).write_text(notebook_text(stage, cells, Path(path).stem), encoding="utf-8")


def spec(name: str):
    loader = importlib.util.spec_from_file_location(f"nbspec_{name}", SPECS / f"{name}.py")
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def rendered() -> dict[Path, str]:
    """Every notebook as this tool writes it: path → text."""
    out = {}
    for file in sorted(SPECS.glob("*.py")):
        module = spec(file.stem)
        out[ROOT / "notebooks" / f"{file.stem}.ipynb"] = notebook_text(module.STAGE, module.CELLS, file.stem)
    return out


def main() -> None:
    for path, text in rendered().items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
