"""`exhibit-crm edition copy`: the new edition's id, days and counts as JSON; a refusal exits 1 naming the field."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from exhibit_crm.cli import main
from exhibit_crm.models import Edition
from tests import factories


def test_edition_copy_prints_the_new_edition_as_json(cli_env, session, capsys):
    source_id = factories.edition(session).id  # 10-12 March 2026, Tuesday to Thursday
    session.rollback()  # no transaction left open: the command writes through its own connection
    assert main(["edition", "copy", str(source_id), "--year", "2027", "--start", "2027-03-16", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["days"] == ["2027-03-16", "2027-03-17", "2027-03-18"]
    assert printed["copied"] == {"days": 3, "zones": 2, "gates": 2, "badge_types": 3, "zone_access": 0,
                                 "questions": 0, "categories": 0}
    assert session.get(Edition, printed["id"]).name == printed["name"] == "Furniture Fair 2027"

    session.rollback()
    assert main(["edition", "copy", str(source_id), "--year", "2027", "--json"]) == 1
    refused = json.loads(capsys.readouterr().out)
    assert (refused["error"], refused["field"]) == ("edition_exists", "year")
    assert session.scalar(select(func.count()).select_from(Edition)) == 2
