"""The thin CLI: validate, schema, new-client."""

from __future__ import annotations

import json

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


def test_an_unexpected_error_is_one_line_and_its_traceback_needs_debug(client_dir, monkeypatch, capsys):
    import digiops.engagement
    from digiops.cli import BUG

    def broken(*args, **kwargs):
        raise ValueError("something broke")

    monkeypatch.setattr(digiops.engagement, "load_engagement", broken)
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

    assert result.exit_code == 2
    assert "unknown stage '[x]' (known:" in result.output  # not read as console markup
