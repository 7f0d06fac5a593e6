"""The package's import graph keeps its seams: the core never imports a stage, and no modules import each other in a
circle.

The core is every module outside the stage packages (engagement, io, sources, settings, runner, context, …): it must
load without any stage's code, so that validating an engagement file or running the engine imports no stage. Only
the command line (``cli.py``, ``__main__.py``) may reach into a stage. Every import counts wherever it is written —
inside a function or under ``TYPE_CHECKING`` too — so a circle cannot be hidden by importing late. A package and its
own sub-modules may import each other (a package's ``__init__`` lists its public names).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import digiops

STAGES = frozenset({"merge", "labels", "maturity", "kpi", "summary", "deliver", "dashboard", "demo"})
COMMAND_LINE = frozenset({"cli", "__main__"})


def module_name(package: Path, path: Path) -> str:
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the modules of ``package`` it imports (``from a import b`` counts ``a`` and, when it is a module,
    ``a.b``)."""
    modules = {module_name(package, p): p for p in sorted(package.rglob("*.py"))}
    graph = {}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = here.split(".")[:len(here.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                imported |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        graph[name] = {m for m in imported if m in modules and m != name}
    return graph


def _own(a: str, b: str) -> bool:
    """``a`` and ``b`` are a package and one of its own sub-modules."""
    return a.startswith(b + ".") or b.startswith(a + ".")


def core_imports_of_stages(graph: dict[str, set[str]]) -> list[str]:
    offences = []
    for name, imported in sorted(graph.items()):
        part = name.split(".")[1] if "." in name else ""
        if part in STAGES or part in COMMAND_LINE:
            continue
        offences += [f"core {name} imports stage {m}" for m in sorted(imported)
                     if "." in m and m.split(".")[1] in STAGES]
    return offences


def circles(graph: dict[str, set[str]]) -> list[str]:
    """Every group of modules that import each other round a circle (Tarjan's strongly connected components of
    the graph without the edges between a package and its own sub-modules), as ``a -> b -> … -> a``."""
    edges = {a: sorted(b for b in imported if not _own(a, b)) for a, imported in graph.items()}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(start: str) -> None:  # iterative: a deep chain of imports must not hit the recursion limit
        work = [(start, iter(edges[start]))]
        order[start] = low[start] = len(order)
        stack.append(start)
        while work:
            node, successors = work[-1]
            step = next(successors, None)
            if step is not None:
                if step not in order:
                    order[step] = low[step] = len(order)
                    stack.append(step)
                    work.append((step, iter(edges[step])))
                elif step in stack:
                    low[node] = min(low[node], order[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == order[node]:
                group = []
                while True:
                    member = stack.pop()
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(_cycle_through(sorted(group), edges))

    for name in sorted(edges):
        if name not in order:
            visit(name)
    return sorted(found)


def _cycle_through(group: list[str], edges: dict[str, list[str]]) -> str:
    """One circle through the group's first module, shortest first (breadth-first), written out."""
    start, members = group[0], set(group)
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for step in edges[node]:
                if step == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return " -> ".join([start, *reversed(path[:-1]), start])
                if step in members and step not in came_from:
                    came_from[step] = node
                    following.append(step)
        frontier = following
    return " -> ".join(group)  # not reached: a strongly connected group always has a circle through its members


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "digiops"
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_the_core_imports_no_stage():
    graph = import_graph(Path(digiops.__file__).parent)

    assert core_imports_of_stages(graph) == []


def test_no_modules_import_each_other_in_a_circle():
    graph = import_graph(Path(digiops.__file__).parent)

    assert circles(graph) == []


def test_the_checks_find_a_core_module_importing_a_stage_however_late(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "cli.py": "from digiops.merge import run\n",  # the command line may
        "engagement.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from digiops.kpi import settings\n",
        "io.py": "def read():\n    from digiops.merge.normalize import parse_dates\n",
        "settings/__init__.py": "",
        "settings/labels.py": "import digiops.labels.catalog\n",
        "merge/__init__.py": "run = None\n",
        "merge/normalize.py": "from digiops import io\n",  # a stage may use the core
        "kpi/__init__.py": "",
        "kpi/settings.py": "",
        "labels/__init__.py": "",
        "labels/catalog.py": "",
    })

    offences = core_imports_of_stages(import_graph(package))

    assert offences == ["core digiops.engagement imports stage digiops.kpi",
                        "core digiops.engagement imports stage digiops.kpi.settings",
                        "core digiops.io imports stage digiops.merge.normalize",
                        "core digiops.settings.labels imports stage digiops.labels.catalog"]


def test_the_checks_find_circles_of_two_and_more_but_not_a_package_listing_its_modules(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "io.py": "from digiops import engagement\n",
        "engagement.py": "def check():\n    from digiops.io import read\n",  # imported late: still a circle
        "demo/__init__.py": "from digiops.demo.build import generate\n",  # its own sub-module: no circle
        "demo/build.py": "from digiops.demo import business\nfrom digiops.demo.config import DAYS\ngenerate = None\n",
        "demo/business.py": "from .people import make\n",
        "demo/people.py": "from digiops.demo.build import generate\n",
        "demo/config.py": "DAYS = 1\n",
    })

    assert circles(import_graph(package)) == [
        "digiops.demo.build -> digiops.demo.business -> digiops.demo.people -> digiops.demo.build",
        "digiops.engagement -> digiops.io -> digiops.engagement"]
