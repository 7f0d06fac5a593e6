"""The thin CLI: validate, schema, new-client, list; and `make lab`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digiops.cli import app
from tests.conftest import write_engagement

runner = CliRunner()


def test_validate_ok_and_error_exit_codes(client_dir):
    ok = runner.invoke(app, ["validate", str(client_dir)])
    (client_dir / "raw" / "crm.csv").unlink()
    bad = runner.invoke(app, ["validate", str(client_dir)])

    assert ok.exit_code == 0 and "valid — 1 sources" in ok.output
    assert bad.exit_code == 1 and "raw/crm.csv: file not found" in bad.output
    assert "1 problem found" in bad.output and "valid" not in bad.output


def test_schema_is_json():
    result = runner.invoke(app, ["schema"])

    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Engagement"


def test_new_client_scaffold_validates_and_refuses_overwrite(tmp_path):
    created = runner.invoke(app, ["new-client", "newco", "--dir", str(tmp_path)])
    again = runner.invoke(app, ["new-client", "newco", "--dir", str(tmp_path)])
    valid = runner.invoke(app, ["validate", str(tmp_path / "newco")])

    assert created.exit_code == 0 and (tmp_path / "newco" / "raw").is_dir()
    assert again.exit_code == 2 and "already exists" in again.output
    assert valid.exit_code == 0, valid.output


def test_an_unexpected_error_is_one_line_and_its_traceback_needs_debug(client_dir, monkeypatch, capsys):
    import digiops.engagement
    from digiops.cli import BUG

    def broken(*args, **kwargs):
        raise ValueError("something broke")

    monkeypatch.setattr(digiops.engagement, "check_engagement", broken)
    with pytest.raises(SystemExit) as plain_exit:
        app(["validate", str(client_dir)])  # the console script's entry: no command handles a ValueError
    plain = capsys.readouterr().err
    with pytest.raises(SystemExit) as debug_exit:
        app(["--debug", "validate", str(client_dir)])
    debug = capsys.readouterr().err

    assert plain_exit.value.code == debug_exit.value.code == 1
    assert plain == f"error: unexpected ValueError: something broke ({BUG})\n"
    assert "Traceback (most recent call last)" in debug and 'raise ValueError("something broke")' in debug


def test_error_text_with_brackets_is_shown_as_written(tmp_path):
    write_engagement(tmp_path / "acme", stages="[inventory, '[x]']")

    result = runner.invoke(app, ["validate", str(tmp_path / "acme")])

    assert result.exit_code == 1
    assert "unknown stage '[x]' (known:" in result.output  # not read as console markup


def test_new_client_ships_a_catalog_and_tree_that_run_on_orders_alone(tmp_path, monkeypatch):
    from digiops import tables
    from digiops.cli import validate_all
    from digiops.engagement import load_engagement
    from digiops.kpi import build_review, load_tree
    from digiops.labels import evaluate, load_catalog
    from digiops.merge import run_merge

    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["new-client", "shop", "--dir", "clients"]).exit_code == 0
    folder = tmp_path / "clients" / "shop"
    rows = ["订单号,下单时间,实付金额,手机号"] + [
        f"O{i},2026-{1 + i % 6:02d}-{1 + i % 27:02d} 10:00:00,{20 + 37 * i % 900}.00,1380013{8000 + i % 40:04d}"
        for i in range(120)]
    (folder / "raw" / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    engagement_file = folder / "engagement.yaml"
    text = engagement_file.read_text(encoding="utf-8").replace("stages: [inventory]",
                                                               "stages: [inventory, merge, labels, kpi]")
    engagement_file.write_text(text.replace("sources: {}\n", """sources:
  orders:
    path: raw/orders.csv
    kind: orders
    id_column: 订单号
    columns: {下单时间: order_time, 实付金额: amount, 手机号: phone}
"""), encoding="utf-8")

    problems = validate_all(str(folder))
    engagement = load_engagement(folder)
    merged = run_merge(engagement)
    merge_tables = {name: tables.conform(getattr(merged, name), name)
                    for name in ("customers", "orders", "shipments", "products")}
    tags = evaluate(merge_tables, load_catalog(folder / "tag_catalog.yaml")).tags
    review = build_review(load_tree(folder / "kpi_tree.yaml", known_units={"all", "online"}),
                          merge_tables["orders"].to_pandas(), settings=engagement.kpi,
                          customers=merge_tables["customers"].to_pandas())

    assert problems == []
    assert len(tags) == 40 and tags["lifecycle_stage"].notna().all() and tags["repeat_buyer"].all()
    gmv = review.actuals[(review.actuals["kpi"] == "gmv") & (review.actuals["unit"] == "all")]
    assert len(gmv) == 6 and gmv["actual"].sum() == pytest.approx(sum(20 + 37 * i % 900 for i in range(120)))


def test_the_scaffold_names_the_command_that_finds_the_client(tmp_path, monkeypatch, project_home):
    monkeypatch.chdir(tmp_path)

    elsewhere = runner.invoke(app, ["new-client", "newco", "--dir", "clients"])
    default = runner.invoke(app, ["new-client", "acme"])  # under data/clients/ (a temporary project, below)

    comments = (tmp_path / "clients" / "newco" / "engagement.yaml").read_text(encoding="utf-8")
    assert "digiops validate clients/newco " in comments and "digiops run clients/newco " in comments
    assert "`digiops validate clients/newco`" in elsewhere.output
    assert default.exit_code == 0 and "`digiops validate acme`" in default.output
    assert "digiops validate acme " in (project_home / "data" / "clients" / "acme" / "engagement.yaml").read_text()


@pytest.fixture
def project_home(tmp_path, monkeypatch) -> Path:
    """A temporary project (``DIGIOPS_HOME``) for new-client to write its default client folder in; its templates
    are the checkout's."""
    from digiops import paths

    home = tmp_path / "home"
    (home / "data" / "clients").mkdir(parents=True)
    (home / "templates").symlink_to(paths.templates_dir())
    monkeypatch.setenv("DIGIOPS_HOME", str(home))
    return home


def test_list_takes_a_client_id_or_an_engagement_and_prints_run_ids_whole(client_dir, tmp_path):
    run_id = "20261202T143105-482676-24bf47"
    (tmp_path / "reports" / "acme" / run_id).mkdir(parents=True)  # killed before its manifest: incomplete

    by_id = runner.invoke(app, ["list", "acme", "--out", str(tmp_path / "reports")])
    by_file = runner.invoke(app, ["list", str(client_dir / "engagement.yaml"), "--out", str(tmp_path / "reports")])
    by_folder = runner.invoke(app, ["list", str(client_dir), "--out", str(tmp_path / "reports")])

    for result in (by_id, by_file, by_folder):
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[1].split() == [run_id, "incomplete"]


def _lab_command(tmp_path: Path, uid: int) -> str:
    fake = tmp_path / f"bin{uid}"
    fake.mkdir()
    (fake / "id").write_text(f"#!/bin/sh\necho {uid}\n")
    (fake / "id").chmod(0o755)
    root = Path(__file__).parents[1]
    result = subprocess.run(["make", "-n", "-C", str(root), "lab"], capture_output=True, text=True, check=True,
                            env={**os.environ, "PATH": f"{fake}:{os.environ['PATH']}"})
    return next(line for line in result.stdout.splitlines() if "jupyter lab" in line)


def test_make_lab_allows_root_only_for_root(tmp_path):
    assert _lab_command(tmp_path, 0).endswith("--allow-root")
    assert "--allow-root" not in _lab_command(tmp_path, 1000)
