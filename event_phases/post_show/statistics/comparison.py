"""An edition against the previous edition of its series: visitors who came back, exhibitors who booked again
(by count, by m², by size band and by category) and the churn list of those who did not, for sales to call.

The previous edition is the one of the same series with the latest year before this one's."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from exhibit_crm.models import Edition, ExhibitorUser

from .data import EditionData

# Booth sizes in m², the bands rebooking is shown by (a standard shell-scheme booth is 9 m²)
SIZE_BANDS = ((0, 18, "≤18"), (18, 36, "18–36"), (36, 72, "36–72"), (72, 144, "72–144"), (144, float("inf"), ">144"))


def previous_edition(session: Session, edition: Edition) -> Edition | None:
    """The edition of the same series with the latest year before this one's, if any."""
    return session.scalars(select(Edition).where(Edition.series_id == edition.series_id, Edition.year < edition.year)
                           .order_by(Edition.year.desc())).first()


def next_edition(session: Session, edition: Edition) -> Edition | None:
    """The edition of the same series with the earliest year after this one's, if any."""
    return session.scalars(select(Edition).where(Edition.series_id == edition.series_id, Edition.year > edition.year)
                           .order_by(Edition.year)).first()


def _rate(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def visitor_return(data: EditionData, before: EditionData) -> dict:
    """Visitors of the previous edition who came back: `returning_visitors` are its attended visitors (by contact)
    who registered as visitors for this edition (not cancelled), `visitor_return_rate` their share of its attended
    visitors; `returning_attended` and `return_attendance_rate` the same for those who also attended this one."""
    came_before = set(before.visitors[before.visitors.id.isin(before.attendee_ids)].contact_id)
    now = data.visitors[data.visitors.contact_id.isin(came_before)]
    registered = set(now[now.status == "registered"].contact_id)
    attended = set(now[now.id.isin(data.attendee_ids)].contact_id)
    return {"returning_visitors": len(registered), "visitor_return_rate": _rate(len(registered), len(came_before)),
            "returning_attended": len(attended), "return_attendance_rate": _rate(len(attended), len(came_before))}


def rebooking(booked: pd.DataFrame, booked_before: pd.DataFrame) -> dict:
    """Exhibitors of the previous edition (not cancelled) whose company books this one too (not cancelled):
    `rebooked` by count and `rebooking_rate` of the previous edition's exhibitors; `rebooked_sqm` their m² in the
    previous edition and `rebooking_rate_sqm` its share of that edition's net m²; then by size band and category."""
    again = booked_before.company_id.isin(booked.company_id)
    return {"rebooked": int(again.sum()), "rebooking_rate": _rate(int(again.sum()), len(booked_before)),
            "rebooked_sqm": round(float(booked_before.sqm[again].sum()), 2),
            "rebooking_rate_sqm": _rate(float(booked_before.sqm[again].sum()), float(booked_before.sqm.sum())),
            "by_size_band": _by_band(booked_before, again), "by_category": _by_category(booked_before, again)}


def _by_band(before: pd.DataFrame, again: pd.Series) -> list[dict]:
    rows = []
    for low, high, label in SIZE_BANDS:
        band = (before.sqm > low) & (before.sqm <= high) if low else before.sqm <= high
        rows.append({"band": label, "previous": int(band.sum()), "rebooked": int((band & again).sum()),
                     "rate": _rate(int((band & again).sum()), int(band.sum()))})
    return rows


def _by_category(before: pd.DataFrame, again: pd.Series) -> list[dict]:
    chosen = before.assign(again=again).explode("categories").dropna(subset=["categories"])
    counted = chosen.groupby("categories").again.agg(["size", "sum"])
    return [{"category": code, "previous": int(row["size"]), "rebooked": int(row["sum"]),
             "rate": _rate(int(row["sum"]), int(row["size"]))} for code, row in counted.iterrows()]


def churned(session: Session, booked: pd.DataFrame, booked_before: pd.DataFrame) -> list[dict]:
    """The churn list: exhibitors of the previous edition (not cancelled) whose company has no booking in this one
    that is not cancelled, with what they had (m², hall, booth, categories, leads received, hot leads) and their
    people (the exhibitor's user accounts), the largest first."""
    lost = booked_before[~booked_before.company_id.isin(booked.company_id)]
    people = _people(session, list(lost.id))
    lost = lost.sort_values(["sqm", "leads", "company"], ascending=[False, False, True])
    return [{"exhibitor_id": int(row.id), "company_id": int(row.company_id), "company": row.company,
             "country": row.country or "", "sqm": round(float(row.sqm), 2), "hall": row.hall or "",
             "booth": row.booth or "", "categories": list(row.categories or []), "leads": int(row.leads),
             "hot_leads": int(row.hot), "people": people.get(int(row.id), [])} for row in lost.itertuples()]


def _people(session: Session, exhibitor_ids: list[int]) -> dict[int, list[dict]]:
    people: dict[int, list[dict]] = {}
    if exhibitor_ids:
        for user in session.scalars(select(ExhibitorUser).where(ExhibitorUser.exhibitor_id.in_(exhibitor_ids))
                                    .order_by(ExhibitorUser.id)):
            people.setdefault(user.exhibitor_id, []).append({"name": user.name, "email": user.email})
    return people
