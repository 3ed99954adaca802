"""What the registration tests share: an edition with questions of each kind, a filled-in form, registering it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from badge_scanner.codes import Signer
from event_phases.pre_show import registration as reg
from exhibit_crm.models import (
    Company,
    Edition,
    Exhibitor,
    ProductCategory,
    RegistrationQuestion,
)

NOW = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
SIGNER = Signer.generate()
LINKS = reg.Links("http://testserver", "a secret for the e-badge links")


def add_questions(session: Session, edition: Edition) -> Edition:
    """A single choice giving badge types, a multiple choice naming product categories, a required text."""
    session.add_all([
        RegistrationQuestion(edition_id=edition.id, key="visitor", label="You are", label_zh="您是", kind="single",
                             required=True, position=1, options=[
                                 {"value": "buyer", "label": "Trade buyer", "label_zh": "专业买家",
                                  "badge_type": "trade_visitor"},
                                 {"value": "public", "label": "Member of the public", "label_zh": "普通观众",
                                  "badge_type": "public_visitor"},
                                 {"value": "student", "label": "Student", "label_zh": "学生"}]),
        RegistrationQuestion(edition_id=edition.id, key="interests", label="Interests", label_zh="感兴趣的产品",
                             kind="multiple", position=2, options=[
                                 {"value": "sofa", "label": "Sofas", "label_zh": "沙发", "category": "sofas"},
                                 {"value": "office", "label": "Office furniture", "label_zh": "办公家具",
                                  "category": "office", "badge_type": "vip_buyer"}]),
        RegistrationQuestion(edition_id=edition.id, key="purpose", label="Purpose of visit", label_zh="参观目的",
                             kind="text", required=True, position=3),
        ProductCategory(edition_id=edition.id, code="sofas", name="Sofas", name_zh="沙发"),
        ProductCategory(edition_id=edition.id, code="office", name="Office furniture", name_zh="办公家具"),
    ])
    company = Company(name="宁波家居", name_key="宁波家居")
    session.add(company)
    session.flush()
    session.add(Exhibitor(edition_id=edition.id, company_id=company.id, status="paid", booth_hall="N1",
                          booth_number="A01", product_categories=["sofas"]))
    session.commit()
    return edition


def form(**changes) -> reg.RegistrationIn:
    values = {"full_name": "王伟", "company": "上海华美家具", "title": "采购经理", "phone": "138 0013 8000",
              "email": "Wang.Wei@HuaMei.cn", "country": "CN", "province": "上海", "city": "上海", "language": "zh-CN",
              "answers": {"visitor": "buyer", "interests": ["sofa"], "purpose": "采购沙发"}}
    return reg.RegistrationIn(**{**values, **changes})


def register(session: Session, show: Edition, data: reg.RegistrationIn, *, now: datetime = NOW) -> reg.Registered:
    done = reg.register_visitor(session, edition_id=show.id, form=data, signer=SIGNER, links=LINKS, now=now)
    session.commit()


    return done


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def refusals(session: Session, show: Edition, data: reg.RegistrationIn) -> dict[str, str]:
    with pytest.raises(reg.RegistrationRefused) as caught:
        register(session, show, data)
    session.rollback()
    return {name: error.code for name, error in caught.value.errors.items()}
