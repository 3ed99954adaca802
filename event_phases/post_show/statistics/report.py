"""The edition report: every figure of an edition, the comparison with the previous edition of its series, the
registration curves and forecast, and the targets, as one JSON-ready dict — the page, the files and
`exhibit-crm report` all show this dict. Definitions are the docstrings of the figure functions and
docs/statistics.md."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlmodel import Session

from .. import targets
from . import comparison, exhibitors, forecast, visitors
from .data import EditionData, load

# GB/T 26165's test of an international exhibition: any one of these overseas shares reached
INTERNATIONAL_THRESHOLDS = {"exhibitors": 0.10, "visitors": 0.05, "net_sqm": 0.20}
# the figures put side by side with the previous edition's: (path in the report, name)
COMPARED = (("visitors", "registered"), ("visitors", "attended"), ("visitors", "no_shows"),
            ("visitors", "walk_ins"), ("visitors", "visits"), ("visitors", "repeat_visitors"),
            ("visitors", "returning"), ("visitors", "first_time"), ("exhibitors", "count"),
            ("exhibitors", "arrived"), ("exhibitors", "net_sqm"))


def edition_report(session: Session, *, edition_id: int, now: datetime) -> dict:
    """Every figure of the edition, compared with the previous edition of its series where there is one."""
    data = load(session, edition_id=edition_id)
    booked = exhibitors.exhibitors(session, edition_id=edition_id)
    before = comparison.previous_edition(session, data.edition)
    earlier = [load(session, edition_id=before.id, compared_only=True)] if before else []
    data.previous = earlier[0] if earlier else None  # its attendees are this edition's returning visitors
    report = {"edition": _edition(data), "generated_at": now.astimezone(UTC).isoformat(),
              "visitors": visitor_figures(data), "other_badges": visitors.other_badges(data),
              "occupancy": visitors.peak_occupancy(data), "exhibitors": exhibitor_figures(data, booked),
              "international": international(data, booked)}
    report["previous_edition"] = _compared(data, report, booked, earlier[0]) if earlier else None
    report["next_edition"] = _rebooked_for_next(session, data.edition, booked)
    report["registration_curves"] = [{"edition_id": one.edition.id, "year": one.edition.year,
                                      "points": forecast.curve(one)} for one in [data, *earlier]]
    report["forecast"] = forecast.forecast(data, earlier, now=now)
    report["targets"] = targets.gaps(targets.targets(session, edition_id=edition_id), actual_for_targets(report))
    report["notes"] = _notes(data, report)
    return report


def _edition(data: EditionData) -> dict:
    return {"id": data.edition.id, "name": data.edition.name, "year": data.edition.year,
            "series": data.series.name, "series_zh": data.series.name_zh, "timezone": data.edition.timezone,
            "days": [day.day.isoformat() for day in data.days]}


def visitor_figures(data: EditionData) -> dict:
    """The visitor section of the report (see each function in statistics.visitors)."""
    audiences = visitors.by_audience(data)
    return {**visitor_headline(data), "trade": audiences["trade"], "public": audiences["public"],
            "by_badge_type": visitors.by_badge_type(data), "by_source": visitors.by_source(data),
            "by_day": visitors.by_day(data), "by_gate": visitors.by_gate(data),
            "by_country": visitors.by_country(data), "by_province": visitors.by_province(data),
            "by_answer": visitors.by_answer(data)}


def exhibitor_figures(data: EditionData, booked: pd.DataFrame) -> dict:
    """The exhibitor section of the report (see each function in statistics.exhibitors)."""
    origin = exhibitors.by_origin(booked)
    return {"count": exhibitors.count(booked), "arrived": exhibitors.arrived(booked),
            "net_sqm": exhibitors.net_sqm(booked), "by_hall": exhibitors.by_hall(booked),
            "by_category": exhibitors.by_category(data, booked), "domestic": origin["domestic"],
            "overseas": origin["overseas"], "leads": exhibitors.leads(booked)}


def international(data: EditionData, booked: pd.DataFrame) -> dict:
    """GB/T 26165's test of an international exhibition: overseas exhibitors ≥ 10 % of exhibitors, overseas
    visitors ≥ 5 % of attended visitors, or overseas net space ≥ 20 % of net space; each share, its threshold and
    whether it is met, and `international` if any is. Overseas: a known country other than the home country."""
    came = data.visitors[data.visitors.id.isin(data.attendee_ids)]
    overseas_visitors = came.country.fillna("").ne("") & came.country.ne(exhibitors.HOME_COUNTRY)
    shares = {"exhibitors": _share(int(booked.overseas.sum()), len(booked)),
              "visitors": _share(int(overseas_visitors.sum()), len(came)),
              "net_sqm": _share(float(booked.sqm[booked.overseas].sum()), float(booked.sqm.sum()))}
    tests = {key: {"share": share, "threshold": bar, "met": share is not None and share >= bar}
             for key, share in shares.items() for bar in (INTERNATIONAL_THRESHOLDS[key],)}
    return {**tests, "international": any(test["met"] for test in tests.values())}


def _share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _compared(data: EditionData, report: dict, booked: pd.DataFrame, before: EditionData) -> dict:
    session = data.session
    booked_before = exhibitors.exhibitors(session, edition_id=before.edition.id)
    previous = {"visitors": visitor_headline(before), "exhibitors": {
        "count": exhibitors.count(booked_before), "arrived": exhibitors.arrived(booked_before),
        "net_sqm": exhibitors.net_sqm(booked_before)}}
    figures = [_change(section, name, report[section][name], previous[section][name]) for section, name in COMPARED]
    return {"id": before.edition.id, "name": before.edition.name, "year": before.edition.year, "figures": figures,
            **comparison.visitor_return(data, before),
            **comparison.rebooking(booked, booked_before),
            "churned": comparison.churned(session, booked, booked_before)}


def _rebooked_for_next(session: Session, edition, booked: pd.DataFrame) -> dict | None:
    """This edition's exhibitors against the next edition's bookings so far: who rebooked, and the list of those who
    have not yet, for sales to call after the show (the churn list seen from this edition)."""
    following = comparison.next_edition(session, edition)
    if following is None:
        return None
    booked_next = exhibitors.exhibitors(session, edition_id=following.id)
    return {"id": following.id, "name": following.name, "year": following.year,
            **comparison.rebooking(booked_next, booked), "churned": comparison.churned(session, booked_next, booked)}


def visitor_headline(data: EditionData) -> dict:
    """The visitor figures compared between editions (the scalar ones of visitor_figures)."""
    return {"registered": visitors.registered(data), "attended": visitors.attended(data),
            "no_shows": visitors.no_shows(data), "walk_ins": visitors.walk_ins(data), "visits": visitors.visits(data),
            "repeat_visitors": visitors.repeat_visitors(data), "returning": visitors.returning(data),
            "first_time": visitors.first_time(data)}


def _change(section: str, name: str, now: float, before: float) -> dict:
    return {"figure": f"{section}.{name}", "this": now, "previous": before, "change": round(now - before, 2),
            "change_rate": round((now - before) / before, 4) if before else None}


def actual_for_targets(report: dict) -> dict:
    """The figures targets are set for: visitors and trade visitors who attended, exhibitors, net m², and the
    rebooking rate from the previous edition (None without one)."""
    previous = report["previous_edition"]
    return {"visitors": report["visitors"]["attended"], "trade_visitors": report["visitors"]["trade"]["attended"],
            "exhibitors": report["exhibitors"]["count"], "net_sqm": report["exhibitors"]["net_sqm"],
            "rebooking_rate": previous["rebooking_rate"] if previous else None}


def _notes(data: EditionData, report: dict) -> list[str]:
    """What the report could not show, as codes the page and files explain."""
    notes = []
    if not data.days:
        notes.append("no_show_days")
    if data.entries.empty:
        notes.append("no_scans")
    if report["previous_edition"] is None:
        notes.append("no_previous_edition")
    if all(row["target"] is None for row in report["targets"].values()):
        notes.append("no_targets")
    return notes
