"""Today's figures for the staff home page: the current edition at a glance. Before the show, registrations today
and so far against the previous edition at the same time before its opening, exhibitors booked and m² against the
targets; during the show, entries today and people inside now. Counted in the database, so the page stays quick."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session

from badge_scanner import dashboard
from exhibit_crm.models import Edition, EditionDay, Exhibitor, Registration, holds_visitor_badge

from .. import targets
from .comparison import previous_edition


def _openings(session: Session) -> list[tuple[Edition, datetime, datetime]]:
    """Every edition with show days: (edition, opening moment, closing moment of its last day), in UTC."""
    spans = session.execute(select(EditionDay.edition_id, func.min(EditionDay.day), func.max(EditionDay.day))
                            .group_by(EditionDay.edition_id)).all()
    found = []
    for edition_id, first, last in spans:
        edition = session.get(Edition, edition_id)
        zone = ZoneInfo(edition.timezone)
        hours = {day.day: day for day in session.scalars(select(EditionDay).where(
            EditionDay.edition_id == edition_id, EditionDay.day.in_([first, last])))}
        found.append((edition, datetime.combine(first, hours[first].opens_at, tzinfo=zone),
                      datetime.combine(last, hours[last].closes_at, tzinfo=zone)))
    return found


def current_edition(session: Session, *, now: datetime) -> tuple[Edition, datetime, datetime] | None:
    """The edition on now or next, else the one that ended last: (edition, opening, close of its last day)."""
    spans = _openings(session)
    running = [span for span in spans if span[1].date() <= now.astimezone(span[1].tzinfo).date() <= span[2].date()]
    coming = sorted((span for span in spans if span[1] > now), key=lambda span: span[1])
    past = sorted((span for span in spans if span[2] < now), key=lambda span: span[2], reverse=True)
    return next(iter(running or coming or past), None)


def registered_visitors(session: Session, *, edition_id: int, before: datetime,
                        since: datetime | None = None) -> int:
    """Visitors registered for the edition before a moment (and since another) and not cancelled by then."""
    query = select(func.count()).select_from(Registration).where(
        Registration.edition_id == edition_id, holds_visitor_badge(Registration.badge_type_id),
        Registration.registered_at < before,
        (Registration.cancelled_at.is_(None)) | (Registration.cancelled_at >= before))
    if since is not None:
        query = query.where(Registration.registered_at >= since)
    return int(session.scalar(query))


def today_figures(session: Session, *, now: datetime) -> dict | None:
    """The home page's figures for the current edition; None when no edition has show days yet."""
    current = current_edition(session, now=now)
    if current is None:
        return None
    edition, opening, closing = current
    zone = ZoneInfo(edition.timezone)
    today = now.astimezone(zone).date()
    midnight = datetime.combine(today, time(), tzinfo=zone)
    phase = "pre_show" if now < opening else ("on_site" if today <= closing.date() else "post_show")
    figures = {"edition": {"id": edition.id, "name": edition.name, "year": edition.year}, "phase": phase,
               "today": today.isoformat(), "days_before": max((opening.date() - today).days, 0),
               "registrations_today": registered_visitors(session, edition_id=edition.id, before=now,
                                                          since=midnight),
               "registrations": registered_visitors(session, edition_id=edition.id, before=now),
               **_booked(session, edition.id)}
    figures["previous"] = _previous(session, edition, now - opening)
    if phase == "on_site":
        figures["entries_today"] = dashboard.unique_visitors(session, edition_id=edition.id, day=today)
        figures["inside_now"] = sum(zone.inside for zone in dashboard.zones_now(session, edition_id=edition.id))
    return figures


def _booked(session: Session, edition_id: int) -> dict:
    count, sqm = session.execute(select(func.count(), func.coalesce(func.sum(Exhibitor.booth_sqm), 0)).where(
        Exhibitor.edition_id == edition_id, Exhibitor.status != "cancelled")).one()
    goals = targets.targets(session, edition_id=edition_id)
    return {"exhibitors": int(count), "net_sqm": round(float(sqm), 2), "exhibitors_target": goals["exhibitors"],
            "net_sqm_target": goals["net_sqm"], "visitors_target": goals["visitors"]}


def _previous(session: Session, edition: Edition, since_opening: timedelta) -> dict | None:
    """The previous edition's registrations at the same time before (or after) its own opening."""
    before = previous_edition(session, edition)
    spans = {span[0].id: span for span in _openings(session)} if before else {}
    if before is None or before.id not in spans:
        return None
    moment = spans[before.id][1] + since_opening
    return {"id": before.id, "year": before.year,
            "registrations": registered_visitors(session, edition_id=before.id, before=moment)}
