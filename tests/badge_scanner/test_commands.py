import argparse
import base64
import json

import pytest
from sqlmodel import Session, select

from badge_scanner import issued_badges
from badge_scanner.code_format import BadgeRef
from badge_scanner.codes import KEY_FILE, Verifier, load_signer
from badge_scanner.commands import badge_commands
from exhibit_crm import audit, commands
from exhibit_crm.cli import main
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Contact, Registration
from tests import factories


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def cli_env(monkeypatch, database_url, data_dir):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    commands.close()
    yield database_url
    commands.close()
    load_signer.cache_clear()


@pytest.fixture
def registration_id(cli_env) -> int:
    engine = make_engine(cli_env)
    with Session(engine) as session:
        ed = factories.edition(session)
        badge_type = session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id)).first()
        contact = Contact(full_name="王伟", phone="+8613800138000")
        session.add(contact)
        session.flush()
        registration = Registration(contact_id=contact.id, edition_id=ed.id, badge_type_id=badge_type.id)
        session.add(registration)
        session.commit()
        ident = registration.id
    engine.dispose()
    return ident


def _run(capsys, *argv) -> tuple[int, dict]:
    status = main(list(argv))
    return status, json.loads(capsys.readouterr().out)


def _reprint(database_url, registration_id):
    engine = make_engine(database_url)
    with Session(engine) as session:
        issued_badges.reprint(session, registration_id=registration_id, actor=audit.CLI, reason="lost")
        session.commit()
    engine.dispose()


def test_export_public_creates_the_key_once_and_prints_it(cli_env, data_dir, capsys):
    status, exported = _run(capsys, "keys", "export-public", "--json")
    assert status == 0
    assert exported["algorithm"] == "Ed25519"
    assert exported["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    verifier = Verifier.from_pem(exported["public_key_pem"])
    assert base64.b64decode(exported["public_key_raw_b64"]) == verifier.public_key_raw()
    assert exported["key_id"] == verifier.key_id
    key_file = (data_dir / KEY_FILE).read_bytes()

    load_signer.cache_clear()
    assert _run(capsys, "keys", "export-public", "--json") == (0, exported)
    assert (data_dir / KEY_FILE).read_bytes() == key_file
    assert main(["keys", "export-public"]) == 0
    text = capsys.readouterr().out
    assert exported["public_key_pem"].strip() in text and exported["public_key_raw_b64"] in text


def test_badge_show_prints_a_code_that_the_public_key_alone_verifies(cli_env, registration_id, capsys):
    _, exported = _run(capsys, "keys", "export-public", "--json")
    device = Verifier.from_raw(base64.b64decode(exported["public_key_raw_b64"]))

    status, shown = _run(capsys, "badge", "show", str(registration_id), "--json")
    assert status == 0
    assert shown == {"registration_id": registration_id, "badge_version": 1, "code": shown["code"],
                     "status": "registered", "full_name": "王伟"}
    assert device.verify(shown["code"]) == BadgeRef(registration_id, 1)

    _reprint(cli_env, registration_id)
    _, reprinted = _run(capsys, "badge", "show", str(registration_id), "--json")
    assert reprinted["badge_version"] == 2 and reprinted["code"] != shown["code"]
    assert device.verify(reprinted["code"]) == BadgeRef(registration_id, 2)
    assert main(["badge", "show", str(registration_id)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == reprinted["code"]


def test_badge_show_of_an_unknown_registration_fails_with_not_found(cli_env, capsys):
    status, error = _run(capsys, "badge", "show", "999", "--json")
    assert (status, error["error"]) == (1, "not_found")


def test_badge_check_tells_current_outdated_and_garbled_codes_apart(cli_env, registration_id, capsys):
    _, shown = _run(capsys, "badge", "show", str(registration_id), "--json")
    assert _run(capsys, "badge", "check", shown["code"].lower(), "--json") == (
        0, {"registration_id": registration_id, "badge_version": 1, "valid": True})
    _reprint(cli_env, registration_id)
    status, outdated = _run(capsys, "badge", "check", shown["code"], "--json")
    assert (status, outdated["error"]) == (1, "outdated_badge")
    status, garbled = _run(capsys, "badge", "check", shown["code"][:-3], "--json")
    assert (status, garbled["error"], garbled["reason"]) == (1, "invalid_code", "malformed")


def test_other_modules_add_their_actions_to_the_same_badge_command():
    subparsers = argparse.ArgumentParser().add_subparsers()
    first = badge_commands(subparsers)
    first.add_parser("show")
    assert badge_commands(subparsers) is first
    assert list(subparsers.choices) == ["badge"]
