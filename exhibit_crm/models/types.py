"""Column types shared by the models: UTC timestamps and JSON that work on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, WithJsonSchema, field_validator
from pydantic import Field as Bounds
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same on SQLite (no time zones) and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC was expected")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


# A wall-clock time of the venue (opening hours): no offset, the edition's time zone gives it meaning. JSON Schema's
# "time" format demands an offset, so the document declares the shape the API reads and writes instead.
def _without_offset(value: time) -> time:
    # pydantic also reads numbers and "09:00+08:00" as times with an offset; opening hours never carry one
    if value.tzinfo is not None:
        raise ValueError("a local time such as 09:00, without an offset")
    return value


LocalTime = Annotated[time, AfterValidator(_without_offset), WithJsonSchema({
    "type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
    "description": "Local time of the venue, HH:MM or HH:MM:SS.", "examples": ["09:00"],
})]

# A time a client sends (a scan's scanned_at, a filter's since and until) lies in these years: the rules and filters
# add and subtract days and hours to it and convert it to UTC, which near year 1 or 9999 would overflow.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # excluded
SENT_TIME = "an ISO 8601 date and time with offset, in the years 2000 to 2099"

# An instant as a client sends it: with an offset (or Unix seconds), within EARLIEST and LATEST.
Instant = Annotated[AwareDatetime, Bounds(ge=EARLIEST, lt=LATEST), WithJsonSchema({"anyOf": [
    {"type": "string", "format": "date-time", "description": "ISO 8601 with an offset (Z or +08:00), in the years "
     "2000 to 2099."},
    {"type": "number", "minimum": EARLIEST.timestamp(), "exclusiveMaximum": LATEST.timestamp(),
     "description": "Unix seconds."}]})]


def within_years(value: date | datetime | None) -> bool:
    """Whether a date or an aware datetime a client sent lies in the years 2000 to 2099 (see EARLIEST)."""
    if value is None:
        return True
    if isinstance(value, datetime):
        return EARLIEST <= value < LATEST
    return EARLIEST.year <= value.year < LATEST.year


# Ids are INTEGER columns, 32 bits on PostgreSQL: a larger number names no row, and comparing one with an id column
# there fails ("out of range") instead of finding nothing, so callers answer "not found" before asking.
MAX_ID = 2**31 - 1

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def created_at_field():
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def when_field(*, index: bool = False):
    return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)


def json_field(default_factory=dict):
    return Field(default_factory=default_factory, sa_type=JSONType, nullable=False)


def enum_check(column: str, values: tuple[str, ...]) -> str:
    """A CHECK expression that keeps a text column to a fixed set of values."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def one_of(field: str, values: tuple[str, ...]):
    """A model's validator that keeps a text field to a fixed set of values, as enum_check does in the database:
    `_known_kind = one_of("kind", QUESTION_KINDS)` in the class body."""

    def known(cls, value: str) -> str:
        if value not in values:
            raise ValueError("one of " + ", ".join(values))
        return value

    return field_validator(field)(classmethod(known))
