"""The thin CLI: validate, schema, new-client."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from digiops.cli import app

runner = CliRunner()


def test_validate_ok_and_error_exit_codes(client_dir):
    ok = runner.invoke(app, ["validate", str(client_dir)])
    (client_dir / "raw" / "crm.csv").unlink()
    bad = runner.invoke(app, ["validate", str(client_dir)])

    assert ok.exit_code == 0 and "valid — 1 sources" in ok.output
    assert bad.exit_code == 2 and "raw/crm.csv: file not found" in bad.output


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
