"""The stage registry and the run plan."""

from __future__ import annotations

import pytest

from digiops.engagement import load_engagement
from digiops.errors import EngagementError
from digiops.stages import BUILTIN, plan
from tests.conftest import write_engagement


def test_every_builtin_stage_has_its_notebook():
    for stage in BUILTIN.values():
        assert stage.path().name == stage.notebook
    assert BUILTIN["inventory"].path().is_file()


def test_plan_orders_dependencies_first(tmp_path):
    path = write_engagement(tmp_path / "c", stages="[summary, kpi, labels, merge, inventory]")

    names = [s.name for s in plan(load_engagement(path))]

    assert names.index("merge") < names.index("labels") < names.index("summary")
    assert names.index("merge") < names.index("kpi") < names.index("summary")
    assert sorted(names) == ["inventory", "kpi", "labels", "merge", "summary"]


def test_custom_stage_runs_after_its_dependency(tmp_path):
    folder = tmp_path / "c"
    path = write_engagement(folder, stages="[extra, inventory]", body="""\
        custom_stages:
          - {name: extra, notebook: extra.ipynb, depends_on: [inventory]}
        """)
    (folder / "extra.ipynb").write_text("{}")

    stages = plan(load_engagement(path))

    assert [s.name for s in stages] == ["inventory", "extra"]
    assert stages[1].path() == (folder / "extra.ipynb").resolve()


def test_custom_stage_cycle_is_an_error(tmp_path):
    folder = tmp_path / "c"
    path = write_engagement(folder, stages="[a, b]", body="""\
        custom_stages:
          - {name: a, notebook: a.ipynb, depends_on: [b]}
          - {name: b, notebook: b.ipynb, depends_on: [a]}
        """)
    for name in "ab":
        (folder / f"{name}.ipynb").write_text("{}")

    with pytest.raises(EngagementError, match="depends on itself"):
        plan(load_engagement(path))


def test_only_subset_must_be_in_engagement(tmp_path):
    path = write_engagement(tmp_path / "c", stages="[inventory]")

    with pytest.raises(EngagementError, match=r"--stages names kpi, not in this engagement's stages \(inventory\)"):
        plan(load_engagement(path), ["kpi"])


def test_custom_stage_with_builtin_name_refused(tmp_path):
    folder = tmp_path / "c"
    path = write_engagement(folder, stages="[inventory]", body="""\
        custom_stages:
          - {name: inventory, notebook: x.ipynb}
        """)

    with pytest.raises(EngagementError, match="has the name of a built-in stage"):
        load_engagement(path)


def test_each_custom_stage_keeps_its_own_executed_notebook(tmp_path):
    folder = tmp_path / "c"
    path = write_engagement(folder, stages="[first, second, third]", body="""\
        custom_stages:
          - {name: first, notebook: shared.ipynb}
          - {name: second, notebook: shared.ipynb}
          - {name: third, notebook: other/shared.ipynb}
        """)
    (folder / "other").mkdir()
    for notebook in ("shared.ipynb", "other/shared.ipynb"):
        (folder / notebook).write_text("{}")

    stages = plan(load_engagement(path))

    assert [s.notebook for s in stages] == ["first.ipynb", "second.ipynb", "third.ipynb"]
    assert stages[2].path() == (folder / "other" / "shared.ipynb").resolve()


@pytest.mark.parametrize("name", ["../../x", "a/b", "index", "RUN", "con", "1st", "", "x" * 65])
def test_custom_stage_name_that_is_unsafe_as_a_file_name_is_refused(tmp_path, name):
    folder = tmp_path / "c"
    path = write_engagement(folder, stages="[inventory]", body=f"""\
        custom_stages:
          - {{name: '{name}', notebook: x.ipynb}}
        """)
    (folder / "x.ipynb").write_text("{}")

    with pytest.raises(EngagementError, match=r"custom_stages\.0\.name: '.*' (cannot name a stage|is reserved)"):
        load_engagement(path)




@pytest.mark.slow
def test_every_builtin_stage_declares_exactly_what_it_writes_on_the_demo(demo_run):
    from digiops.runfolder import RunFolder

    run = RunFolder(demo_run)

    for entry in run.read_manifest().stages:
        written = {p.name for p in run.stage_files(entry.name)}
        declared = set(BUILTIN[entry.name].outputs)
        assert declared <= written, entry.name  # the runner fails the stage otherwise
        # migration.parquet (labels) is written only with a previous run, and the demo run has none; what the
        # deliver stage writes besides its metrics follows the engagement's deliver settings (docs/deliverables.md)
        assert written == declared or entry.name == "deliver", entry.name


def test_every_builtin_stage_declares_its_metrics_and_only_file_names():
    for stage in BUILTIN.values():
        assert "metrics.json" in stage.outputs, stage.name  # every built-in stage calls ctx.record
        assert all("/" not in name and "\\" not in name for name in stage.outputs), stage.name
