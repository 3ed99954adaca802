"""Gate scans: every reading of a badge at a gate, accepted or not."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, created_at_field, enum_check, when_field

SCAN_DIRECTIONS = ("in", "out")
SCAN_VERDICTS = ("accepted", "rejected")
BADGE_CHANGE_STATUSES = ("registered", "cancelled")


# Scan: one reading at a gate; scan_id is chosen by the device and makes re-sends harmless.
class Scan(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("device_id", "scan_id"),
        CheckConstraint(enum_check("direction", SCAN_DIRECTIONS), name="direction"),
        CheckConstraint(enum_check("verdict", SCAN_VERDICTS), name="verdict"),
        Index("ix_scan_registration_id_scanned_at", "registration_id", "scanned_at"),
        Index("ix_scan_gate_id_scanned_at", "gate_id", "scanned_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    scan_id: str = Field(max_length=80)
    device_id: int | None = Field(default=None, foreign_key="gate_device.id")
    gate_id: int = Field(foreign_key="gate.id")
    zone_id: int = Field(foreign_key="zone.id", index=True)
    # null when the code named no registration of ours
    registration_id: int | None = Field(default=None, foreign_key="registration.id")
    badge_version: int | None = None
    direction: str = Field(max_length=3)
    # when the badge was read (device clock, or server clock if the device sent none)
    scanned_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = created_at_field()
    verdict: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=30)
    # what an offline device decided on its own, kept beside the server's verdict
    device_verdict: str | None = Field(default=None, max_length=10)
    device_reason: str | None = Field(default=None, max_length=30)
    offline: bool = False
    left_at: datetime | None = when_field()


# Presence: where a person is now (one row a registration); entering a zone moves them out of the one they were in.
class Presence(SQLModel, table=True):
    registration_id: int = Field(foreign_key="registration.id", primary_key=True, ondelete="CASCADE")
    edition_id: int = Field(foreign_key="edition.id", index=True, ondelete="CASCADE")
    # null once scanned out
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)
    entered_at: datetime | None = when_field()
    # the accepted entry scan that put them there, whose left_at is set when they leave
    entry_scan_id: int | None = None
    updated_at: datetime = created_at_field()


# BadgeChange: every cancel or reprint, in order; gate devices fetch the revocations after their cursor (the id).
class BadgeChange(SQLModel, table=True):
    __tablename__ = "badge_change"
    __table_args__ = (
        CheckConstraint(enum_check("status", BADGE_CHANGE_STATUSES), name="status"),
        Index("ix_badge_change_edition_id_id", "edition_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE")
    registration_id: int = Field(foreign_key="registration.id", ondelete="CASCADE")
    # the version valid from now on; every lower version of this registration is superseded
    badge_version: int
    status: str = Field(max_length=12)
    changed_at: datetime = created_at_field()
