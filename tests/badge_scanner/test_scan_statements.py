"""The gate scans' statements on their own: times stored as the ORM stores them, reads of recorded scans and people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlmodel import select

from badge_scanner.scan_statements import SCAN, ScanStatements
from exhibit_crm.models import Scan
from tests import factories

AT = datetime(2026, 3, 10, 3, 0, 5, 4321, tzinfo=UTC)


def test_times_are_bound_as_the_orm_binds_them(session):
    statements = ScanStatements(session.connection())
    bind = statements.bind(SCAN.c.scanned_at)
    assert statements.time(AT) == bind(AT)
    assert statements.time(AT.astimezone(timezone(timedelta(hours=8)))) == bind(AT)
    assert statements.time(None) is None


def test_people_and_recorded_scans_are_read_back(session):
    ed = factories.edition(session)
    reg = factories.registration(session, ed, full_name="王伟", company="广州华美家居有限公司")
    session.flush()
    statements = ScanStatements(session.connection())
    people = statements.people({reg.id, 999_999})()
    assert list(people) == [reg.id]
    assert people[reg.id].public() == {"name": "王伟", "company": "广州华美家居有限公司",
                                       "badge_type": "trade_visitor"}
    assert statements.by_key("verdict", {(1, "nothing")})() == []
    assert session.exec(select(Scan)).all() == []
