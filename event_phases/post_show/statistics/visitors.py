"""The edition's visitor figures, each from one function whose docstring is its definition.

A visitor is a registration whose badge type is for a trade or a public visitor (VISITOR_AUDIENCES): exhibitor staff,
press and the organiser's people are never counted here. Attendance follows the audit rules cited in
docs/statistics.md: a person is counted once however often they entered (UFI), and at most once a day (FKM)."""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd
from sqlalchemy import select

from exhibit_crm.bulk_sql import driver_rows
from exhibit_crm.models import VISITOR_AUDIENCES, Registration, RegistrationQuestion
from exhibit_crm.models.people import REGISTRATION_SOURCES

from .data import HOME_COUNTRY, EditionData


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _registered(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.status == "registered"]


def registered(data: EditionData) -> int:
    """Visitors registered: registrations of the edition with a visitor badge that are not cancelled."""
    return len(_registered(data.visitors))


def attended(data: EditionData) -> int:
    """Visitors who attended: registrations with a visitor badge and at least one accepted entry scan on a show day
    (whatever their status now; a badge cancelled after its holder came in still came in)."""
    return len(data.attendee_ids)


def no_shows(data: EditionData) -> int:
    """Registered visitors (not cancelled) without any accepted entry on a show day."""
    return int((~_registered(data.visitors).id.isin(data.attendee_ids)).sum())


def walk_ins(data: EditionData) -> int:
    """Registered visitors whose registration was made on a show day (local date), at the desk or online."""
    made_on = _registered(data.visitors).registered_at.dt.floor("D")
    return int(made_on.isin(data.show_days).sum())


def _person_days(data: EditionData) -> pd.DataFrame:
    return data.visitor_entries[["registration_id", "day"]].drop_duplicates()


def visits(data: EditionData) -> int:
    """Visits: distinct person-days with an accepted entry (a person entering three times on a day is one visit)."""
    return len(_person_days(data))


def repeat_visitors(data: EditionData) -> int:
    """Visitors who came on more than one show day."""
    days = _person_days(data).groupby("registration_id").size()
    return int((days > 1).sum())


def by_audience(data: EditionData) -> dict[str, dict]:
    """Registered and attended visitors of each visitor audience (trade, public)."""
    figures = {}
    for audience in VISITOR_AUDIENCES:
        people = data.visitors[data.visitors.audience == audience]
        figures[audience.removesuffix("_visitor")] = {
            "registered": len(_registered(people)), "attended": int(people.id.isin(data.attendee_ids).sum())}
    return figures


def _counted_by(data: EditionData, frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Registered (not cancelled) and attended people of `frame` by the values of `column`."""
    came = frame.id.isin(data.attendee_ids)
    table = pd.DataFrame({column: frame[column], "registered": frame.status == "registered", "attended": came})
    return table.groupby(column, dropna=False).sum().astype(int)


def by_badge_type(data: EditionData) -> list[dict]:
    """Registered and attended visitors by badge type (visitor badge types only), with the conversion rate
    (attended of those registered)."""
    counted = _counted_by(data, data.visitors, "badge_type_id")
    rows = []
    for kind in data.badge_types[data.badge_types.visitor].itertuples():
        row = counted.loc[kind.id] if kind.id in counted.index else None
        rows.append({"code": kind.code, "name": kind.name, "name_zh": kind.name_zh, "audience": kind.audience,
                     **_figures(row)})
    return rows


def _figures(row, *, conversion: bool = True) -> dict:
    registered, came = (0, 0) if row is None else (int(row.registered), int(row.attended))
    figures = {"registered": registered, "attended": came}
    return {**figures, "conversion": _share(came, registered)} if conversion else figures


def by_source(data: EditionData) -> list[dict]:
    """Registered and attended visitors by how they registered (online, import, walk-in, invitation, third party),
    with the conversion rate; every source listed, also those nobody came through."""
    counted = _counted_by(data, data.visitors, "source")
    return [{"source": source, **_figures(counted.loc[source] if source in counted.index else None)}
            for source in REGISTRATION_SOURCES]


def other_badges(data: EditionData) -> list[dict]:
    """Badges that are not for visitors (exhibitor staff, press, organiser): registered and attended by badge type,
    shown beside the visitor figures and never counted in them."""
    others = data.badge_types[~data.badge_types.visitor]
    frame = data.registrations[data.registrations.badge_type_id.isin(others.id)]
    came = frame.id.isin(data.entries.registration_id)
    table = pd.DataFrame({"badge_type_id": frame.badge_type_id, "registered": frame.status == "registered",
                          "attended": came}).groupby("badge_type_id").sum()
    return [{"code": kind.code, "name": kind.name, "name_zh": kind.name_zh, "audience": kind.audience,
             "registered": int(table.registered.get(kind.id, 0)), "attended": int(table.attended.get(kind.id, 0))}
            for kind in others.itertuples()]


def by_day(data: EditionData) -> list[dict]:
    """For each show day: visitors who came that day, of them those who came for the first time that day, and the
    arrivals by hour (each visitor once a day, in the hour of their first entry that day, local time)."""
    entries = data.visitor_entries
    first = entries.sort_values("at").drop_duplicates(["registration_id", "day"])
    first_day = first.groupby("registration_id").day.min()
    new_by_day = first_day.value_counts()
    rows = []
    for day in data.show_days:
        today = first[first.day == day]
        hours = today.hour.value_counts().sort_index()
        rows.append({"day": day.date().isoformat(), "visitors": len(today), "first_visits": int(new_by_day.get(day, 0)),
                     "by_hour": [{"hour": int(hour), "arrivals": int(n)} for hour, n in hours.items()]})
    return rows


def by_gate(data: EditionData) -> list[dict]:
    """For each gate: accepted entries of visitors on show days, and distinct visitors who entered there."""
    entries = data.visitor_entries.groupby("gate_id").registration_id.agg(["size", "nunique"])
    rows = []
    for gate in data.gates.itertuples():
        size, people = (entries.loc[gate.id] if gate.id in entries.index else (0, 0))
        rows.append({"gate": gate.name, "zone": gate.zone, "zone_zh": gate.zone_zh, "entries": int(size),
                     "visitors": int(people)})
    return rows


def by_country(data: EditionData) -> list[dict]:
    """Registered and attended visitors by the country of their contact record ("" where unknown), most attended
    first."""
    return _ranked(_counted_by(data, data.visitors, "country"), "country")


def by_province(data: EditionData) -> list[dict]:
    """Registered and attended visitors from the home country by province ("" where unknown), most attended first."""
    home = data.visitors[data.visitors.country == HOME_COUNTRY]
    return _ranked(_counted_by(data, home, "province"), "province")


def _ranked(counted: pd.DataFrame, column: str) -> list[dict]:
    counted = counted.reset_index().sort_values(["attended", "registered", column], ascending=[False, False, True])
    return [{column: getattr(row, column) or "", "registered": int(row.registered), "attended": int(row.attended),
             "conversion": _share(int(row.attended), int(row.registered))} for row in counted.itertuples()]


def by_answer(data: EditionData) -> list[dict]:
    """For each choice question of the registration form: registered and attended visitors by the option they
    chose (a multiple-choice answer counts once for each option chosen); options nobody chose are listed too."""
    questions = data.session.scalars(select(RegistrationQuestion).where(
        RegistrationQuestion.edition_id == data.edition.id, RegistrationQuestion.kind != "text")
        .order_by(RegistrationQuestion.position, RegistrationQuestion.id)).all()
    if not questions:
        return []
    counted = _answers_counted(data, [question.key for question in questions])
    return [{"key": question.key, "label": question.label, "label_zh": question.label_zh, "kind": question.kind,
             "options": [{"value": str(option["value"]), "label": option.get("label", ""),
                          "label_zh": option.get("label_zh", ""),
                          **dict(zip(("registered", "attended"),
                                     counted.get((question.key, str(option["value"])), (0, 0)), strict=True))}
                         for option in question.options]} for question in questions]


def _answers_counted(data: EditionData, keys: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """(question key, option value) → (registered, attended), in one pass over the visitors' answers."""
    registered, came = set(_registered(data.visitors).id), set(data.attendee_ids)
    chosen_registered: list[tuple[str, str]] = []
    chosen_came: list[tuple[str, str]] = []
    rows = driver_rows(data.session.connection(), select(Registration.id, Registration.answers).where(
        Registration.edition_id == data.edition.id))
    for registration_id, answers in rows:
        counts, comes = registration_id in registered, registration_id in came
        if not (counts or comes):
            continue
        answers = (json.loads(answers) if isinstance(answers, str) else answers) or {}  # psycopg parses JSON itself
        chosen = [(key, value) for key in keys for value in _values(answers.get(key))]
        if counts:
            chosen_registered += chosen
        if comes:
            chosen_came += chosen
    by_registered, by_came = Counter(chosen_registered), Counter(chosen_came)
    return {pair: (by_registered[pair], by_came[pair]) for pair in by_registered.keys() | by_came.keys()}


def _values(answer) -> list[str]:
    if answer is None or answer == "":
        return []
    return [str(value) for value in answer] if isinstance(answer, list) else [str(answer)]


def returning(data: EditionData) -> int:
    """Attended visitors who attended an earlier edition of the same series (an earlier year) as a visitor: the
    same contact with a visitor badge and an accepted entry there."""
    came = data.visitors[data.visitors.id.isin(data.attendee_ids)]
    return int(came.contact_id.isin(data.earlier_attendees).sum())


def first_time(data: EditionData) -> int:
    """Attended visitors who had not attended an earlier edition of the series (attended − returning)."""
    return attended(data) - returning(data)


def peak_occupancy(data: EditionData) -> list[dict]:
    """For each zone and show day: the most people inside at once, every badge counted (the halls' load, staff and
    press included), and when it was first reached. A person is inside from an accepted entry until they scanned out
    or entered another zone, or else until the day's closing time."""
    closing = {pd.Timestamp(day.day): pd.Timestamp.combine(day.day, day.closes_at) for day in data.days}
    entries = data.entries
    rows = []
    for (zone_id, day), group in entries.groupby(["zone_id", "day"]):
        ends = group.left_at.fillna(closing[day]).clip(upper=closing[day])
        ends = ends.where(ends > group["at"], group["at"])
        moves = pd.concat([pd.DataFrame({"t": group["at"], "d": 1}), pd.DataFrame({"t": ends, "d": -1})])
        moves = moves.sort_values(["t", "d"], kind="stable")  # who leaves at a moment is out before who enters
        inside = moves.d.cumsum()
        top = int(inside.max())
        rows.append({"zone_id": int(zone_id), "day": day.date().isoformat(), "peak": top,
                     "at": moves.t.iloc[int(inside.to_numpy().argmax())].strftime("%H:%M")})
    names = data.zones.set_index("id")
    for row in rows:
        row["zone"], row["zone_zh"] = names.name.get(row["zone_id"], ""), names.name_zh.get(row["zone_id"], "")
    return sorted(rows, key=lambda row: (row["zone"], row["day"]))
