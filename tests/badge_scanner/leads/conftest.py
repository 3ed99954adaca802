"""An exhibitor with questions and two visitors, one sharing their details; the signer of their badges."""

from __future__ import annotations

import pytest

from badge_scanner.codes import Signer
from exhibit_crm.models import Contact, LeadQuestion
from tests import factories


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer.generate()


@pytest.fixture
def booth(session):
    ed = factories.edition(session)
    user = factories.exhibitor_user(session, ed)
    other = factories.exhibitor_user(session, ed, email="sales@other.example.cn", company="深圳另一家具",
                                     booth_number="N1-A02")
    budget = LeadQuestion(exhibitor_id=user.exhibitor_id, label="预算已确认", kind="checkbox")
    volume = LeadQuestion(exhibitor_id=user.exhibitor_id, label="Order volume", kind="select",
                          options=["< 1 container", "> 5 containers"])
    foreign = LeadQuestion(exhibitor_id=other.exhibitor_id, label="Theirs", kind="checkbox")
    session.add_all([budget, volume, foreign])
    shared = factories.registration(session, ed, full_name="王伟", email="wang.wei@example.cn", company="上海宜家家居")
    private = factories.registration(session, ed, full_name="李娜", email="li.na@example.cn", company="杭州家居")
    contact = session.get(Contact, shared.contact_id)
    contact.consent_share = True
    session.add(contact)
    session.commit()
    return {"ed": ed, "exhibitor_id": user.exhibitor_id, "user_id": user.id, "other_id": other.exhibitor_id,
            "shared": shared, "private": private, "budget": str(budget.id), "volume": str(volume.id),
            "foreign": str(foreign.id)}
