"""pyproject.toml and environment.yml install the same dependencies; the notebooks are stored clean."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip |= {_name(p) for p in entry["pip"] if not p.startswith("-e")}
        elif not entry.startswith(("python=", "pip")):
            conda.add(CONDA_NAMES.get(_name(entry), _name(entry)))

    assert conda | pip == {_name(d) for d in project["dependencies"]}
    assert not conda & pip


def test_notebooks_are_stored_without_outputs_and_with_one_parameters_cell():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), path.name
        tagged = [c for c in notebook["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(tagged) == (0 if path.name == "dashboard.ipynb" else 1), path.name


def test_notebooks_are_what_their_generators_write():
    import importlib.util

    loader = importlib.util.spec_from_file_location("nbgen", ROOT / "tools" / "nbgen.py")
    nbgen = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(nbgen)

    for path, text in nbgen.rendered().items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run `python tools/nbgen.py`"
    assert {p.name for p in nbgen.rendered()} == {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
