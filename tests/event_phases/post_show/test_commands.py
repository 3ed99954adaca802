"""`exhibit-crm targets set|show`: an edition's targets on the command line, one JSON document with --json, exit
1 with a clear message for an unknown edition or a bad target."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from exhibit_crm.cli import main
from exhibit_crm.models import TARGET_KEYS, AuditLog
from tests import factories


@pytest.fixture
def edition_id(cli_env, session) -> int:
    return factories.edition(session).id


def _run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = main(["targets", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


def test_show_gives_every_target_unset_at_first(capsys, edition_id):
    code, shown, _err = _run(capsys, "show", str(edition_id), "--json")
    assert code == 0
    assert shown == {"edition_id": edition_id, "targets": dict.fromkeys(TARGET_KEYS)}


def test_set_changes_the_targets_given_and_keeps_the_others(capsys, db, edition_id):
    code, done, _err = _run(capsys, "set", str(edition_id), "--visitors", "80000", "--trade-visitors", "60000",
                            "--exhibitors", "1200", "--net-sqm", "150000.5", "--rebooking-rate", "0.65", "--json")
    assert code == 0
    assert done["targets"] == {"visitors": 80000, "trade_visitors": 60000, "exhibitors": 1200,
                               "net_sqm": 150000.5, "rebooking_rate": 0.65}
    code, done, _err = _run(capsys, "set", str(edition_id), "--visitors", "85000", "--clear", "net_sqm", "--json")
    assert code == 0 and (done["targets"]["visitors"], done["targets"]["net_sqm"]) == (85000, None)
    assert done["targets"]["exhibitors"] == 1200
    assert _run(capsys, "show", str(edition_id), "--json")[1] == done
    entries = db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action == "event_phases.post_show.targets.set"))
                 .all())
    assert [entry.actor_type for entry in entries] == ["cli", "cli"]


def test_show_without_json_prints_one_line_a_target(capsys, edition_id):
    assert main(["targets", "set", str(edition_id), "--exhibitors", "1200"]) == 0
    capsys.readouterr()
    assert main(["targets", "show", str(edition_id)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"edition {edition_id} targets"
    assert lines[1:] == ["visitors: not set", "trade_visitors: not set", "exhibitors: 1200", "net_sqm: not set",
                         "rebooking_rate: not set"]


@pytest.mark.parametrize("action", [["show"], ["set", "--visitors", "1"]])
def test_an_unknown_edition_exits_1_with_a_clear_message(capsys, edition_id, action):
    code, error, err = _run(capsys, action[0], "999", *action[1:], "--json")
    assert code == 1
    assert error == {"error": "not_found", "message": "edition 999 not found"}
    assert "edition 999 not found" in err


def test_a_bad_target_exits_1_naming_the_field_and_changes_nothing(capsys, edition_id):
    code, error, err = _run(capsys, "set", str(edition_id), "--visitors", "10", "--rebooking-rate", "65", "--json")
    assert code == 1 and error["field"] == "rebooking_rate" and "rebooking_rate" in err
    assert _run(capsys, "show", str(edition_id), "--json")[1]["targets"]["visitors"] is None
