"""What every part of the app says the same way about an exhibitor: its booth, and how many pre-registered visitors
are interested in what it sells."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from .models import Exhibitor, Registration, RegistrationInterest, holds_visitor_badge


def booth_label(exhibitor) -> str:
    """Hall and number of an exhibitor (or a row with booth_hall and booth_number)."""
    if exhibitor.booth_hall and exhibitor.booth_number:
        return f"{exhibitor.booth_hall}-{exhibitor.booth_number}"
    return exhibitor.booth_number or exhibitor.booth_hall or ""


def count_interested(session: Session, *, exhibitor_id: int) -> int:
    """Active registrations of visitors (a badge for visitors) of the exhibitor's edition interested in one of its
    product categories."""
    exhibitor = session.get(Exhibitor, exhibitor_id)
    if exhibitor is None or not exhibitor.product_categories:
        return 0
    return session.scalar(
        select(func.count(func.distinct(RegistrationInterest.registration_id)))
        .join(Registration, Registration.id == RegistrationInterest.registration_id)
        .where(RegistrationInterest.edition_id == exhibitor.edition_id,
               RegistrationInterest.category.in_(list(exhibitor.product_categories)),
               Registration.status == "registered", holds_visitor_badge(Registration.badge_type_id))) or 0
