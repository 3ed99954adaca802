"""Downloads kept per exhibitor user: the latest is where "new since my last download" starts; each is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from badge_scanner.leads import LeadFilter, count_leads, last_download_at, record_download
from exhibit_crm import audit
from exhibit_crm.models import AuditLog, Exhibitor, Lead, LeadDownload

from .listed import T0, four_leads


@pytest.fixture
def booth(session):
    return four_leads(session)


def test_new_only_counts_the_leads_changed_after_the_users_last_download(session, booth):
    exhibitor = session.get(Exhibitor, booth["exhibitor_id"])
    new = LeadFilter(new_only=True)
    assert last_download_at(session, exhibitor_id=exhibitor.id, user_id=booth["user_id"]) is None
    assert count_leads(session, exhibitor_id=exhibitor.id, filters=new, user_id=booth["user_id"]) == 4
    record_download(session, exhibitor=exhibitor, actor=booth["actor"], fmt="csv", filters={}, rows=4,
                    now=T0 + timedelta(hours=2, minutes=30))
    assert count_leads(session, exhibitor_id=exhibitor.id, filters=new, user_id=booth["user_id"]) == 1
    # another user of the exhibitor has not downloaded anything
    assert count_leads(session, exhibitor_id=exhibitor.id, filters=new, user_id=booth["user_id"] + 1) == 4
    lead = session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor.id).order_by(Lead.id)).first()
    lead.updated_at = T0 + timedelta(hours=5)
    session.add(lead)
    session.flush()
    assert count_leads(session, exhibitor_id=exhibitor.id, filters=new, user_id=booth["user_id"]) == 2


def test_a_download_is_kept_and_written_to_the_audit_log(session, booth):
    exhibitor = session.get(Exhibitor, booth["exhibitor_id"])
    record_download(session, exhibitor=exhibitor, actor=booth["actor"], fmt="xlsx", filters={"rating": "hot"},
                    rows=1, now=T0)
    (kept,) = session.scalars(select(LeadDownload)).all()
    assert (kept.exhibitor_id, kept.exhibitor_user_id, kept.downloaded_at, kept.format, kept.filters, kept.rows) == (
        exhibitor.id, booth["user_id"], T0, "xlsx", {"rating": "hot"}, 1)
    (entry,) = session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")).all()
    assert (entry.actor_id, entry.object_id, entry.data) == (
        booth["user_id"], exhibitor.id, {"format": "xlsx", "rows": 1, "filters": {"rating": "hot"}})


def test_a_download_by_someone_else_than_an_exhibitor_user_is_audited_only(session, booth):
    exhibitor = session.get(Exhibitor, booth["exhibitor_id"])
    record_download(session, exhibitor=exhibitor, actor=audit.CLI, fmt="csv", filters={}, rows=4)
    assert session.scalars(select(LeadDownload)).all() == []
    assert len(session.scalars(select(AuditLog).where(AuditLog.action == "exporters.leads.downloaded")).all()) == 1
