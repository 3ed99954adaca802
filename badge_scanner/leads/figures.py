"""An exhibitor's lead figures, the same for the booth dashboard and the post-show lead report: leads by rating, by
the edition's local day and rating, and each staff member's accepted scans and leads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

import altair as alt
from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm import charts
from exhibit_crm.models import Lead, LeadScan
from exhibit_crm.models.exhibitors import LEAD_RATINGS

from .queries import staff_of, timezone_of

KEYS = (*LEAD_RATINGS, "unrated")


@dataclass(frozen=True)
class LeadFigures:
    leads: int
    by_rating: dict[str, int]  # hot, warm, cold, unrated
    by_day: list[tuple[date, dict[str, int]]]  # (the edition's local day, leads first scanned that day by rating)
    by_staff: list[tuple[str, int, int]]  # (staff member, accepted scans, leads first scanned), most scans first


def _counted(counter: Counter) -> dict[str, int]:
    return {key: counter.get(key, 0) for key in KEYS}


def lead_figures(session: Session, *, exhibitor_id: int) -> LeadFigures:
    """The exhibitor's leads so far by rating and local day, and each staff member's scans and leads."""
    zone = timezone_of(session, exhibitor_id=exhibitor_id)
    days: dict[date, Counter] = {}
    by_rating: Counter = Counter()
    # two columns per lead: the figures need no more, and 20,000 leads read in a blink
    for created_at, rating in session.execute(select(Lead.created_at, Lead.rating)
                                              .where(Lead.exhibitor_id == exhibitor_id)):
        key = rating or "unrated"
        days.setdefault(created_at.astimezone(zone).date(), Counter())[key] += 1
        by_rating[key] += 1
    return LeadFigures(sum(by_rating.values()), _counted(by_rating),
                       [(day, _counted(days[day])) for day in sorted(days)], _by_staff(session, exhibitor_id))


def _by_staff(session: Session, exhibitor_id: int) -> list[tuple[str, int, int]]:
    scans = dict(session.execute(select(LeadScan.exhibitor_user_id, func.count()).where(
        LeadScan.exhibitor_id == exhibitor_id, LeadScan.verdict == "accepted").group_by(LeadScan.exhibitor_user_id))
        .all())
    leads = dict(session.execute(select(Lead.scanned_by_id, func.count()).where(Lead.exhibitor_id == exhibitor_id)
                                 .group_by(Lead.scanned_by_id)).all())
    staff = [(user.name or user.email, scans.get(user.id, 0), leads.get(user.id, 0))
             for user in staff_of(session, exhibitor_id=exhibitor_id) if scans.get(user.id) or leads.get(user.id)]
    return sorted(staff, key=lambda item: (-item[1], item[0]))


# the booth pages' rating colours (static/booth.css), in KEYS order
RATING_COLOURS = ("#c62828", "#ef6c00", "#1565c0", "#9e9e9e")


def by_day_chart(figures: LeadFigures, labels: dict[str, str]) -> dict:
    """Leads by local day as stacked bars a rating, one Vega-Lite definition (exhibit_crm.charts); `labels` names
    the ratings in the reader's language."""
    rows = [{"day": day.strftime("%m-%d"), "rating": labels[key], "order": KEYS.index(key), "leads": n}
            for day, counts in figures.by_day for key, n in counts.items() if n]
    chart = alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        y=alt.Y("day:O", title=None), x=alt.X("sum(leads):Q", title=None, axis=alt.Axis(format="d", tickMinStep=1)),
        color=alt.Color("rating:N", title=None, sort=[labels[key] for key in KEYS],
                        scale=alt.Scale(domain=[labels[key] for key in KEYS], range=list(RATING_COLOURS))),
        order=alt.Order("order:Q"), tooltip=[alt.Tooltip("day:O"), alt.Tooltip("rating:N"),
                                             alt.Tooltip("sum(leads):Q", format="d")])
    return charts.spec(chart, width="container", height=max(80, 36 * len(figures.by_day)))
