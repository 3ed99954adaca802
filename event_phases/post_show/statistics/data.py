"""What an edition's statistics are computed from, read once: its days, badge types, gates, registrations with their
contacts' origin, and the accepted entries of its show days, as pandas frames.

Times come out of the database as whole UTC seconds (`exhibit_crm.db.epoch_seconds`) and are judged in the edition's
own time zone: a scan belongs to the local day it was made on, and only the edition's show days count. Only the
columns the figures need are read, so 100,000 registrations and 600,000 scans fit in well under a second."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Integer, cast, exists, func, select
from sqlmodel import Session

from exhibit_crm.bulk_sql import driver_rows, int_frame
from exhibit_crm.db import epoch_seconds, found
from exhibit_crm.models import (
    VISITOR_AUDIENCES,
    BadgeType,
    Contact,
    Edition,
    EditionDay,
    Gate,
    Registration,
    Scan,
    Series,
    Zone,
    holds_visitor_badge,
)

# GB/T 26165 counts exhibitors, visitors and space from outside the country the show is held in as overseas; the
# shows this CRM runs are held in mainland China, so Hong Kong, Macao and Taiwan (own ISO codes) count as overseas.
HOME_COUNTRY = "CN"
# the columns of the entries frame: a previous edition, compared only by its visits, is read with the first two
ENTRY_COLUMNS = ("registration_id", "at", "gate_id", "zone_id", "left_at")


@dataclass
class EditionData:
    """One edition's frames; the derived ones (visitors, attendance) are computed when first asked for."""

    session: Session
    edition: Edition
    series: Series
    days: list[EditionDay]
    badge_types: pd.DataFrame  # id, code, name, name_zh, audience, visitor
    zones: pd.DataFrame  # id, name, name_zh
    gates: pd.DataFrame  # id, name, zone_id, zone, zone_zh
    registrations: pd.DataFrame  # id, contact_id, badge_type_id, source, status, registered_at, country, province
    entries: pd.DataFrame  # registration_id, gate_id, zone_id, at, left_at, day (local midnight), hour
    previous: EditionData | None = None  # the previous edition's frames, when the report read them

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.edition.timezone)

    @property
    def show_days(self) -> list[pd.Timestamp]:
        """The show days as the local midnights the frames' `day` columns hold."""
        return [pd.Timestamp(day.day) for day in self.days]

    def local(self, moment: datetime) -> pd.Timestamp:
        """A moment as the naive local time the frames hold."""
        return pd.Timestamp(moment.astimezone(self.zone).replace(tzinfo=None))

    @cached_property
    def visitors(self) -> pd.DataFrame:
        """Registrations with a badge for visitors (any status), with their badge type's code and audience."""
        kinds = self.badge_types[self.badge_types.visitor][["id", "code", "audience"]]
        return self.registrations.merge(kinds.rename(columns={"id": "badge_type_id"}), on="badge_type_id")

    @cached_property
    def visitor_entries(self) -> pd.DataFrame:
        """Accepted entries of visitors on show days."""
        return self.entries[self.entries.registration_id.isin(self.visitors.id)]

    @cached_property
    def attendee_ids(self) -> pd.Index:
        """Registrations of visitors with at least one accepted entry on a show day."""
        return pd.Index(self.visitor_entries.registration_id.unique())


    @cached_property
    def earlier_attendees(self) -> set[int]:
        """Contacts who attended an earlier edition of the series (an earlier year) with a visitor badge: an accepted
        entry scan of their registration on one of its show days. The previous edition's come from its frames when
        they were read (`previous`), the older ones' from the database."""
        found: set[int] = set()
        for edition_id, first, last in self.session.execute(
                select(Edition.id, func.min(EditionDay.day), func.max(EditionDay.day))
                .join(EditionDay, EditionDay.edition_id == Edition.id)
                .where(Edition.series_id == self.edition.series_id, Edition.year < self.edition.year)
                .group_by(Edition.id)).all():
            if self.previous is not None and self.previous.edition.id == edition_id:
                came = self.previous.visitors[self.previous.visitors.id.isin(self.previous.attendee_ids)]
                found |= set(came.contact_id)
            else:
                found |= _attendee_contacts(self.session, edition_id, first, last, self.zone)
        return found


def _attendee_contacts(session: Session, edition_id: int, first: date, last: date, zone: ZoneInfo) -> set[int]:
    start, end = _span(first, last, zone)
    came = exists().where(Scan.registration_id == Registration.id, Scan.verdict == "accepted", Scan.direction == "in",
                          Scan.scanned_at >= start, Scan.scanned_at < end)
    return {row[0] for row in driver_rows(session.connection(), select(Registration.contact_id).distinct().where(
        Registration.edition_id == edition_id, holds_visitor_badge(Registration.badge_type_id), came))}


def _span(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC moments the first show day starts and the day after the last one starts."""
    return (datetime.combine(first, time(), tzinfo=zone).astimezone(UTC),
            datetime.combine(last + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC))


def load(session: Session, *, edition_id: int, compared_only: bool = False) -> EditionData:
    """Read the edition's frames (NotFound for an unknown edition). An edition `compared_only` (the previous one, set
    beside another) is compared by its visitors' registrations and visits: its frames leave out what only its own
    report shows (registration sources and origins, the entries' gates, zones and exits), a third of the reading."""
    edition = found(session, Edition, edition_id, what="edition")
    days = list(session.scalars(select(EditionDay).where(EditionDay.edition_id == edition_id)
                                .order_by(EditionDay.day)))
    data = EditionData(session, edition, session.get(Series, edition.series_id), days,
                       _badge_types(session, edition_id), _zones(session, edition_id), _gates(session, edition_id),
                       pd.DataFrame(), pd.DataFrame())
    data.registrations = _registrations(session, data, origins=not compared_only)
    data.entries = _entries(session, data, ("registration_id", "at") if compared_only else ENTRY_COLUMNS)
    return data


def _frame(session: Session, query, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(driver_rows(session.connection(), query), columns=columns)


def _badge_types(session: Session, edition_id: int) -> pd.DataFrame:
    types = _frame(session, select(BadgeType.id, BadgeType.code, BadgeType.name, BadgeType.name_zh, BadgeType.audience)
                   .where(BadgeType.edition_id == edition_id).order_by(BadgeType.id),
                   ["id", "code", "name", "name_zh", "audience"])
    types["visitor"] = types.audience.isin(VISITOR_AUDIENCES)
    return types


def _zones(session: Session, edition_id: int) -> pd.DataFrame:
    return _frame(session, select(Zone.id, Zone.name, Zone.name_zh).where(Zone.edition_id == edition_id)
                  .order_by(Zone.name), ["id", "name", "name_zh"])


def _gates(session: Session, edition_id: int) -> pd.DataFrame:
    query = (select(Gate.id, Gate.name, Zone.id, Zone.name, Zone.name_zh).join(Zone, Zone.id == Gate.zone_id)
             .where(Zone.edition_id == edition_id).order_by(Zone.name, Gate.name))
    return _frame(session, query, ["id", "name", "zone_id", "zone", "zone_zh"])


def local_times(data: EditionData, seconds: pd.Series) -> pd.Series:
    """UTC epoch seconds as naive local times of the edition (NaT where missing)."""
    return (pd.to_datetime(seconds, unit="s", utc=True).dt.tz_convert(data.zone).dt.tz_localize(None))


def _registrations(session: Session, data: EditionData, *, origins: bool = True) -> pd.DataFrame:
    """The edition's registrations: id, contact_id, badge_type_id, status, registered_at, cancelled_at, and with
    `origins` their source and the contact's country and province."""
    numbers = int_frame(session.connection(), select(
        Registration.id, Registration.contact_id, Registration.badge_type_id,
        cast(Registration.status == "registered", Integer).label("registered"),
        epoch_seconds(session, Registration.registered_at).label("registered_at"),
        epoch_seconds(session, Registration.cancelled_at).label("cancelled_at"))
        .where(Registration.edition_id == data.edition.id))
    frame = numbers.assign(status=numbers.pop("registered").map({1: "registered", 0: "cancelled"}),
                           registered_at=local_times(data, numbers.registered_at),
                           cancelled_at=local_times(data, numbers.cancelled_at.where(numbers.cancelled_at >= 0)
                                                    .astype("Float64")))
    if origins:
        query = (select(Registration.id, Registration.source, Contact.country, Contact.province)
                 .join(Contact, Contact.id == Registration.contact_id)
                 .where(Registration.edition_id == data.edition.id))
        frame = frame.merge(_frame(session, query, ["id", "source", "country", "province"]), on="id")
    return frame


def _entries(session: Session, data: EditionData, columns: tuple[str, ...] = ENTRY_COLUMNS) -> pd.DataFrame:
    """Accepted entry scans on the edition's show days (a scan on a move-in day or after the show is not counted),
    with `day` (local midnight) and `hour` besides the columns asked for."""
    if not data.days:
        return pd.DataFrame(columns=[*columns, "day", "hour"])
    start, end = _span(data.days[0].day, data.days[-1].day, data.zone)
    zones = select(Zone.id).where(Zone.edition_id == data.edition.id)
    expressions = {"registration_id": Scan.registration_id, "at": epoch_seconds(session, Scan.scanned_at),
                   "gate_id": Scan.gate_id, "zone_id": Scan.zone_id, "left_at": epoch_seconds(session, Scan.left_at)}
    query = (select(*(expressions[name].label(name) for name in columns))
             .where(Scan.zone_id.in_(zones), Scan.verdict == "accepted", Scan.direction == "in",
                    Scan.registration_id.is_not(None), Scan.scanned_at >= start, Scan.scanned_at < end))
    frame = int_frame(session.connection(), query)
    frame["at"] = local_times(data, frame["at"])
    if "left_at" in frame:
        frame["left_at"] = local_times(data, frame.left_at.where(frame.left_at >= 0).astype("Float64"))
    frame["day"] = frame["at"].dt.floor("D")
    frame["hour"] = frame["at"].dt.hour
    return frame[frame.day.isin(data.show_days)].reset_index(drop=True)
