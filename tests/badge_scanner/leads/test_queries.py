"""The one lead query: its filter (instants or the edition's local days), its rows, and isolation between
exhibitors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from badge_scanner.leads import LeadFilter, count_leads, lead_rows, resolved, visitor_of
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import Exhibitor, ExhibitorUser, Lead

from .listed import T0, four_leads


@pytest.fixture
def booth(session):
    return four_leads(session)


def _names(session, booth, **filters):
    return [row.visitor.name for row in lead_rows(session, exhibitor_id=booth["exhibitor_id"],
                                                  filters=LeadFilter(**filters))]


def test_filters_by_rating_date_and_staff_member(session, booth):
    assert _names(session, booth, rating="hot") == ["王伟"]
    assert _names(session, booth, since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3)) == [
        "欧阳娜", "Anna Schmidt"]
    assert _names(session, booth, scanned_by_id=booth["user_id"]) == ["王伟", "欧阳娜", "Anna Schmidt", "李娜"]
    assert _names(session, booth, scanned_by_id=booth["user_id"] + 999) == []
    with pytest.raises(InvalidInput) as refused:
        _names(session, booth, rating="lukewarm")
    assert refused.value.field == "rating"


def test_days_are_the_editions_local_days_until_included(session, booth):
    # the leads were made from 10:00 to 13:00 on 2026-03-10 in Shanghai (02:00 to 05:00 UTC)
    assert _names(session, booth, since=date(2026, 3, 10), until=date(2026, 3, 10)) == [
        "王伟", "欧阳娜", "Anna Schmidt", "李娜"]
    assert _names(session, booth, since=date(2026, 3, 11)) == []
    assert _names(session, booth, until=date(2026, 3, 9)) == []
    instants = resolved(session, exhibitor_id=booth["exhibitor_id"],
                        filters=LeadFilter(since=date(2026, 3, 10), until=date(2026, 3, 10)))
    assert (instants.since.isoformat(), instants.until.isoformat()) == (
        "2026-03-10T00:00:00+08:00", "2026-03-11T00:00:00+08:00")
    for since, until in ((date(2026, 3, 11), date(2026, 3, 10)), (T0, T0 - timedelta(seconds=1))):
        with pytest.raises(InvalidInput) as refused:
            _names(session, booth, since=since, until=until)
        assert refused.value.field == "until"


def test_rows_come_oldest_or_newest_first_a_page_at_a_time(session, booth):
    newest = lead_rows(session, exhibitor_id=booth["exhibitor_id"], newest_first=True, offset=1, limit=2)
    assert [row.visitor.name for row in newest] == ["Anna Schmidt", "欧阳娜"]
    assert count_leads(session, exhibitor_id=booth["exhibitor_id"], filters=LeadFilter(rating="warm")) == 1


def test_another_exhibitors_leads_never_appear(session, booth):
    assert "外人" not in _names(session, booth)
    other = session.scalars(select(Exhibitor).where(Exhibitor.id != booth["exhibitor_id"])).one()
    assert [r.visitor.name for r in lead_rows(session, exhibitor_id=other.id)] == ["外人"]


def test_rows_show_the_staff_members_name_and_the_visitor_as_consent_allows(session, booth):
    rows = lead_rows(session, exhibitor_id=booth["exhibitor_id"])
    assert {row.scanned_by for row in rows} == {session.get(ExhibitorUser, booth["user_id"]).name} == {"陈静"}
    assert [row.visitor.email for row in rows] == ["wang.wei@example.cn", "", "anna@example.de", ""]
    lead = session.scalars(select(Lead).where(Lead.exhibitor_id == booth["exhibitor_id"]).order_by(Lead.id)).first()
    contact, card = visitor_of(session, registration_id=lead.registration_id)
    assert (contact.full_name, card.email, card.shared) == ("王伟", "wang.wei@example.cn", True)
    assert visitor_of(session, registration_id=999999) is None


@pytest.mark.parametrize(("field", "value"), [("since", date(1, 1, 1)), ("until", date(9999, 12, 31))])
def test_days_outside_the_years_2000_to_2099_are_refused_naming_the_filter(session, booth, field, value):
    with pytest.raises(InvalidInput) as refused:
        _names(session, booth, **{field: value})
    assert refused.value.field == field
