"""An exhibitor with two questions and four leads (two visitors share their details, two do not), and another
exhibitor's lead: the lead lists' test data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from exhibit_crm import audit
from exhibit_crm.models import Contact, Lead, LeadQuestion
from tests import factories

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, the first show day


def four_leads(session) -> dict:
    """An exhibitor with two questions and four leads: two visitors share their details, two do not."""
    ed = factories.edition(session)
    user = factories.exhibitor_user(session, ed)
    other = factories.exhibitor_user(session, ed, email="sales@other.example.cn", company="深圳另一家具",
                                    booth_number="N1-A02")
    exhibitor_id = user.exhibitor_id
    budget = LeadQuestion(exhibitor_id=exhibitor_id, label="预算已确认", kind="checkbox", position=0)
    volume = LeadQuestion(exhibitor_id=exhibitor_id, label="Order volume", kind="select", position=1,
                          options=["< 1 container", "> 5 containers"])
    session.add_all([budget, volume])
    session.flush()
    people = [("王伟", "wang.wei@example.cn", True, "hot", "要报价，每月两个货柜"),
              ("欧阳娜", "ouyang@example.cn", False, "warm", ""),
              ("Anna Schmidt", "anna@example.de", True, "cold", "=HYPERLINK(\"http://evil\")"),
              ("李娜", "li.na@example.cn", False, None, "私下备注")]
    for number, (name, email, share, rating, notes) in enumerate(people):
        reg = factories.registration(session, ed, full_name=name, email=email, phone=f"+86139000000{number:02d}",
                                     company="上海宜家家居")
        contact = session.get(Contact, reg.contact_id)
        contact.consent_share = share
        contact.title = "采购经理"
        session.add(contact)
        at = T0 + timedelta(hours=number)
        session.add(Lead(exhibitor_id=exhibitor_id, registration_id=reg.id, scanned_by_id=user.id, rating=rating,
                         notes=notes, answers={str(budget.id): number % 2 == 0, str(volume.id): "> 5 containers"},
                         created_at=at, updated_at=at))
    stranger = factories.registration(session, ed, full_name="外人", email="x@example.cn")
    session.add(Lead(exhibitor_id=other.exhibitor_id, registration_id=stranger.id, created_at=T0, updated_at=T0))
    session.commit()
    return {"exhibitor_id": exhibitor_id, "actor": audit.Actor("exhibitor_user", user.id, user.email),
            "user_id": user.id}
