"""The attendee list: every visitor who attended the edition, with the days they came and their first entry of
each day, for the organiser's own follow-up (a personal-data export: its download is logged)."""

from __future__ import annotations

from sqlalchemy import select

from exhibit_crm.models import Company, Contact, Registration

from .data import EditionData


def attendee_rows(data: EditionData) -> list[dict]:
    """One dict per attended visitor, by name: contact fields, badge type, source and the first entry time of each
    show day (None for a day they did not come)."""
    entries = data.visitor_entries.sort_values("at").drop_duplicates(["registration_id", "day"])
    firsts: dict[int, dict] = {}
    for registration_id, day, moment in zip(entries.registration_id, entries.day, entries["at"], strict=True):
        firsts.setdefault(int(registration_id), {})[day.date().isoformat()] = moment.to_pydatetime()
    came = data.visitors[data.visitors.id.isin(data.attendee_ids)]
    contacts = {row.id: row for row in data.session.execute(
        select(Contact.id, Contact.full_name, Contact.email, Contact.phone, Contact.title, Contact.country,
               Contact.province, Contact.city, Company.name.label("company"))
        .outerjoin(Company, Company.id == Contact.company_id)
        .where(Contact.id.in_(select(Registration.contact_id).where(Registration.edition_id == data.edition.id))))}
    names = dict(zip(data.badge_types.id, data.badge_types.code, strict=True))
    rows = []
    for person in came.itertuples():
        contact = contacts[int(person.contact_id)]
        rows.append({"registration_id": int(person.id), "full_name": contact.full_name,
                     "company": contact.company or "", "title": contact.title, "email": contact.email or "",
                     "phone": contact.phone or "",
                     "country": contact.country, "province": contact.province, "city": contact.city,
                     "badge_type": names.get(person.badge_type_id, ""), "source": person.source,
                     "days": {day.day.isoformat(): firsts.get(int(person.id), {}).get(day.day.isoformat())
                              for day in data.days}})
    return sorted(rows, key=lambda row: (row["full_name"], row["registration_id"]))
