import argparse
import importlib
import json
import subprocess
import sys

import pytest
from sqlmodel import Session

from exhibit_crm import auth, cli, commands, outbox
from exhibit_crm.cli import build_parser, main
from exhibit_crm.db import make_engine


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def _subcommand_paths(parser, prefix=()):
    for action in parser._subparsers._group_actions if parser._subparsers else ():
        for name, sub in action.choices.items():
            yield (*prefix, name)
            yield from _subcommand_paths(sub, (*prefix, name))


def test_every_command_has_help(capsys):
    paths = list(_subcommand_paths(build_parser()))
    assert ("db", "upgrade") in paths and ("token", "create") in paths and ("serve",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as done:
            main([*path, "--help"])
        assert done.value.code == 0
        assert "usage: exhibit-crm" in capsys.readouterr().out


def test_a_bad_setting_stops_with_a_message_naming_it(tmp_path):
    result = subprocess.run([sys.executable, "-m", "exhibit_crm.cli", "db", "current"], capture_output=True,
                            text=True, env={"DATABASE_URL": "mysql://nowhere/x", "PATH": "/usr/bin:/bin"},
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "DATABASE_URL='mysql://nowhere/x' is not valid" in result.stderr


def test_db_upgrade_brings_an_empty_database_to_head(monkeypatch, empty_database_url, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", empty_database_url)
    commands.settings.cache_clear()
    assert main(["db", "upgrade", "--json"]) == 0
    report = _json(capsys)
    assert report["before"] is None and report["after"] == report["head"]
    assert main(["db", "current", "--json"]) == 0
    assert _json(capsys)["up_to_date"] is True
    commands.settings.cache_clear()


def test_user_add_and_token_create_print_json(cli_env, monkeypatch, capsys):
    monkeypatch.setenv("EXHIBIT_CRM_PASSWORD", "a long enough password")
    assert main(["user", "add", "desk1", "--role", "desk", "--password-env", "--json"]) == 0
    assert _json(capsys)["role"] == "desk"
    assert main(["token", "create", "--user", "desk1", "--json"]) == 0
    token = _json(capsys)["token"]
    engine = make_engine(cli_env)
    with Session(engine) as session:
        assert auth.principal_for_token(session, token).name == "desk1"
    engine.dispose()


def test_domain_errors_exit_1_with_a_json_error(cli_env, capsys):
    assert main(["token", "create", "--user", "nobody", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"] == "not_found"
    assert "nobody" in captured.err


@pytest.mark.parametrize("name", cli.COMMAND_MODULES)
def test_every_listed_command_module_exists_and_registers_commands(name):
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers()
    importlib.import_module(name).register(subparsers)
    assert subparsers.choices


@pytest.mark.parametrize("name", cli.RENDERER_MODULES)
def test_every_listed_renderer_module_registers_a_renderer(name):
    importlib.import_module(name)
    assert any(renderer.render.__module__ == name for renderer in outbox._renderers.values())


def test_a_listed_command_module_that_is_missing_stops_start_up(monkeypatch, capsys):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "event_phases.on_site.commands"))
    assert main(["--help"]) == 2
    assert "exhibit_crm.cli.COMMAND_MODULES names the module event_phases.on_site.commands, which does not exist" \
        in capsys.readouterr().err
