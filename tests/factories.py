"""Plain factory functions for tests: small, explicit, deterministic."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from sqlalchemy import MetaData, Table, insert
from sqlmodel import Session

from exhibit_crm import auth
from exhibit_crm.models import BadgeType, Edition, EditionDay, Gate, Series, Zone

PASSWORD = "correct horse battery"


def staff_user(session: Session, *, username: str = "alice", role: str = "admin"):
    user = auth.create_staff_user(session, username=username, password=PASSWORD, role=role)
    session.commit()
    return user


# code, name and audience of the badge types every test edition has
BADGE_TYPES = (("trade_visitor", "Trade visitor", "trade_visitor"),
               ("public_visitor", "Public visitor", "public_visitor"),
               ("exhibitor_staff", "Exhibitor staff", "exhibitor_staff"))


def edition(session: Session, *, name: str = "Furniture Fair 2026", year: int = 2026,
            badge_types: bool = True) -> Edition:
    """An edition with three days, two zones, one gate each, and the usual badge types (`badge_types=False`: none,
    for a database at a revision older than the badge type model)."""
    series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具展")
    session.add(series)
    session.flush()
    ed = Edition(series_id=series.id, name=name, year=year, venue="NECC Shanghai", timezone="Asia/Shanghai")
    session.add(ed)
    session.flush()
    for offset in range(3):
        session.add(EditionDay(edition_id=ed.id, day=date(year, 3, 10 + offset), opens_at=time(9), closes_at=time(17)))
    for zone_name, rule in (("Hall 1", "free"), ("VIP Lounge", "strict")):
        zone = Zone(edition_id=ed.id, name=zone_name, reentry=rule)
        session.add(zone)
        session.flush()
        session.add(Gate(zone_id=zone.id, name=f"{zone_name} Gate A"))
    for code, label, audience in BADGE_TYPES if badge_types else ():
        session.add(BadgeType(edition_id=ed.id, code=code, name=label, audience=audience))
    session.commit()
    return ed


def insert_as_of(connection, row) -> int:
    """Insert a model row into a database at an older revision: only the columns its schema has; returns the id."""
    table = Table(type(row).__tablename__, MetaData(), autoload_with=connection)
    values = {key: value.astimezone(UTC).replace(tzinfo=None) if isinstance(value, datetime) else value
              for key, value in row.model_dump().items() if key in table.c and value is not None}
    return connection.execute(insert(table).values(values)).inserted_primary_key[0]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(client, *, account: str = "alice", password: str = PASSWORD, path: str = "/login"):
    token = csrf_from(client.get(path).text)
    return client.post(path, data={"account": account, "password": password, "csrf_token": token},
                       follow_redirects=False)


def exhibitor_user(session: Session, ed: Edition, *, email: str = "sales@huamei.example.cn",
                   company: str = "广州华美家居有限公司", booth_number: str | None = None):
    """An exhibitor of the edition with one user account (password PASSWORD); its booth is N1-A01 unless given."""
    from exhibit_crm.contacts import find_or_create_company
    from exhibit_crm.models import Exhibitor, ExhibitorUser
    from exhibit_crm.security import hash_password

    firm = find_or_create_company(session, name=company)  # one company per name key, as the database holds
    exhibitor = Exhibitor(edition_id=ed.id, company_id=firm.id, status="paid", booth_hall="N1",
                          booth_number=booth_number or "N1-A01")
    session.add(exhibitor)
    session.flush()
    user = ExhibitorUser(exhibitor_id=exhibitor.id, email=email, name="陈静", password_hash=hash_password(PASSWORD))
    session.add(user)
    session.commit()
    return user


def registration(session: Session, ed: Edition, *, full_name: str = "王伟", email: str | None = None,
                 phone: str | None = None, company: str = "", badge_type: str = "trade_visitor",
                 answers: dict | None = None, source: str = "online"):
    """A contact registered in the edition through the core's contact services (e-mail made up unless given)."""
    from sqlmodel import select

    from exhibit_crm import audit, contacts

    global _people
    _people += 1
    data = contacts.ContactIn(full_name=full_name, email=email or (None if phone else f"person{_people}@example.cn"),
                              phone=phone, company=company)
    contact, _created = contacts.upsert_contact(session, data=data, source=source, actor=audit.SYSTEM)
    type_id = session.scalars(select(BadgeType.id).where(BadgeType.edition_id == ed.id,
                                                         BadgeType.code == badge_type)).one()
    reg, _new = contacts.register(session, contact_id=contact.id, edition_id=ed.id, badge_type_id=type_id,
                                  source=source, answers=answers, actor=audit.SYSTEM)
    session.commit()
    return reg


_people = 0
