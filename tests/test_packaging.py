"""pyproject.toml and environment.yml install the same dependencies; the notebooks are stored clean."""

from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _requirement(text: str) -> tuple[str, str]:
    """(name, version specifier) of ``pandas>=3.0``, a conda name mapped to its PyPI name."""
    name, _, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", text.split("#")[0]).groups()
    name = name.lower().replace("_", "-")
    return CONDA_NAMES.get(name, name), spec.replace(" ", "")


def test_environment_yml_matches_pyproject():
    """Same packages and the same minimum versions: a conda user gets what pip users are tested with."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip.update(_requirement(p) for p in entry["pip"] if not p.startswith("-e"))
        elif not entry.startswith(("python=", "pip")):
            conda.update([_requirement(entry)])

    assert conda | pip == dict(_requirement(d) for d in project["dependencies"])
    assert not conda.keys() & pip.keys()


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


#: What a notebook may import from the package: the top-level names (StageContext, a stage package), a stage
#: package's presentation modules, and the text module. A stage's internals (quality, pipeline, stage…) stay
#: behind its package's public names, so they can move without touching a notebook.
NOTEBOOK_MODULES = {"digiops", "digiops.charts", "digiops.text", "digiops.dashboard",
                    *(f"digiops.{stage}" for stage in ("merge", "labels", "maturity", "kpi", "summary", "deliver"))}
PRESENTATION = {"report", "charts"}


def _notebook_imports(path: Path) -> list[tuple[str, str]]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("digiops"):
                found += [(node.module, alias.name) for alias in node.names]
            elif isinstance(node, ast.Import):
                found += [(alias.name, "") for alias in node.names if alias.name.startswith("digiops")]
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(("<attribute>", node.attr))
    return found


def test_notebooks_use_only_each_stage_packages_public_names():
    import importlib

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for module, name in _notebook_imports(path):
            assert module != "<attribute>", f"{path.name} uses the private {name}"
            assert module in NOTEBOOK_MODULES, f"{path.name} imports {name} from the internal module {module}"
            public = getattr(importlib.import_module(module), "__all__", None)
            assert module == "digiops" or name in PRESENTATION or public is None or name in public, (
                f"{path.name} imports {name}, not a public name of {module}")
            assert not name.startswith("_"), f"{path.name} imports the private {name} from {module}"


def test_every_stage_package_has_one_entry_point_run_ctx():
    import importlib
    import inspect

    for stage in ("inventory", "merge", "labels", "maturity", "kpi", "summary", "deliver"):
        run = importlib.import_module(f"digiops.{stage}").run
        assert list(inspect.signature(run).parameters) == ["ctx"], stage
