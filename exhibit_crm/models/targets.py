"""What the organiser aims at in one edition: the targets the post-show statistics are measured against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, utcnow

# The targets an edition may have, in the order pages and reports show them.
TARGET_KEYS = ("visitors", "trade_visitors", "exhibitors", "net_sqm", "rebooking_rate")
# The counts are INTEGER columns, 32 bits on PostgreSQL: a larger target could not be stored.
MAX_COUNT = 2**31 - 1
# Net square metres sold; the largest fairs sell about a million, so ten million is surely a typing error.
MAX_SQM = 10_000_000


# EditionTargetBase: the targets as an admin sets them; a target left out (None) is not set.
class EditionTargetBase(SQLModel):
    visitors: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    trade_visitors: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    exhibitors: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    net_sqm: float | None = Field(default=None, ge=0, le=MAX_SQM)
    # a share of the previous edition's exhibitors that book this one, 0 to 1 (pages show it as a percentage)
    rebooking_rate: float | None = Field(default=None, ge=0, le=1)


# EditionTarget: one row per edition that has targets; deleted with its edition.
class EditionTarget(EditionTargetBase, table=True):
    __tablename__ = "edition_target"
    __table_args__ = (
        UniqueConstraint("edition_id"),
        CheckConstraint("visitors >= 0", name="visitors"),
        CheckConstraint("trade_visitors >= 0", name="trade_visitors"),
        CheckConstraint("exhibitors >= 0", name="exhibitors"),
        CheckConstraint(f"net_sqm >= 0 AND net_sqm <= {MAX_SQM}", name="net_sqm"),
        CheckConstraint("rebooking_rate >= 0 AND rebooking_rate <= 1", name="rebooking_rate"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
