"""The organiser's registration settings of an edition: the form open or closed, the badge type it gives when no
answer names one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from exhibit_crm import audit
from exhibit_crm.db import found
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import (
    BadgeType,
    Edition,
    Registration,
    Series,
)

from .form import SOURCE, registration_form

# The organiser's settings.

@dataclass(frozen=True)
class Settings:
    edition: Edition
    series_name: str
    badge_types: tuple[BadgeType, ...]
    registrations: int


def registration_settings(session: Session, *, edition_id: int) -> Settings:
    """An edition's registration settings, its badge types and how many have registered online."""
    form = registration_form(session, edition_id=edition_id)
    edition = session.get(Edition, edition_id)
    types = tuple(session.scalars(select(BadgeType).where(BadgeType.edition_id == edition_id).order_by(BadgeType.id)))
    count = session.scalar(select(func.count()).select_from(Registration).where(
        Registration.edition_id == edition_id, Registration.source == SOURCE)) or 0
    return Settings(edition, form.series_name, types, count)


def update_settings(session: Session, *, edition_id: int, registration_open: bool, visitor_badge_type: str,
                    actor: audit.Actor) -> Edition:
    """Open or close an edition's public form and set the badge type it gives when no answer names one."""
    edition = found(session, Edition, edition_id, what="edition", lock=True)
    code = (visitor_badge_type or "").strip()
    if code and session.scalar(select(BadgeType.id).where(BadgeType.edition_id == edition_id,
                                                          BadgeType.code == code)) is None:
        raise InvalidInput("invalid_choice", "visitor_badge_type: not one of the edition's badge types",
                           field="visitor_badge_type")
    edition.registration_open, edition.visitor_badge_type = bool(registration_open), code
    session.add(edition)
    audit.log(session, "event_phases.pre_show.registration.settings", actor=actor, obj=edition,
              data={"registration_open": edition.registration_open, "visitor_badge_type": code})
    session.flush()
    return edition


def editions(session: Session) -> list[tuple[Edition, Series]]:
    """Every edition with its series, newest first, for the settings page's list."""
    return [(edition, series) for edition, series in session.execute(
        select(Edition, Series).join(Series, Series.id == Edition.series_id)
        .order_by(Edition.year.desc(), Edition.id.desc()))]

