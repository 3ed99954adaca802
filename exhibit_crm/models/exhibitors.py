"""Exhibitors of an edition and the leads they collect at their booths."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, created_at_field, enum_check, json_field, utcnow, when_field

EXHIBITOR_STATUSES = ("prospect", "contracted", "paid", "cancelled")
LEAD_RATINGS = ("hot", "warm", "cold")


# Exhibitor: a company taking part in an edition, with its booth.
class ExhibitorBase(SQLModel):
    status: str = Field(default="prospect", max_length=12)
    booth_hall: str | None = Field(default=None, max_length=20)
    booth_number: str | None = Field(default=None, max_length=20)
    booth_sqm: float | None = Field(default=None, ge=0)
    staff_allowance: int = Field(default=5, ge=0)
    product_categories: list[str] = json_field(list)
    # the exhibitor's own profile, edited in its portal
    description: str = Field(default="", max_length=4000)
    description_zh: str = Field(default="", max_length=4000)


class Exhibitor(ExhibitorBase, table=True):
    __table_args__ = (
        UniqueConstraint("edition_id", "company_id"),
        # NULLs are distinct, so exhibitors without a booth yet do not clash
        UniqueConstraint("edition_id", "booth_hall", "booth_number"),
        CheckConstraint(enum_check("status", EXHIBITOR_STATUSES), name="status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    edition_id: int = Field(foreign_key="edition.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    arrived_at: datetime | None = when_field()
    created_at: datetime = created_at_field()


# ExhibitorStatusChange: the date of each step prospect → contracted → paid → cancelled.
class ExhibitorStatusChange(SQLModel, table=True):
    __tablename__ = "exhibitor_status_change"
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id", index=True, ondelete="CASCADE")
    status: str = Field(max_length=12)
    changed_at: datetime = created_at_field()


# LeadQuestion: an exhibitor's own qualification question ("budget confirmed", …).
class LeadQuestion(SQLModel, table=True):
    __tablename__ = "lead_question"
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id", index=True, ondelete="CASCADE")
    label: str = Field(max_length=200)
    kind: str = Field(default="checkbox", max_length=10)
    options: list[str] = json_field(list)
    position: int = 0


# Lead: an exhibitor's record of one visitor, updated by every later scan of the same badge.
class Lead(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("exhibitor_id", "registration_id"),
        CheckConstraint("rating IS NULL OR " + enum_check("rating", LEAD_RATINGS), name="rating"),
    )
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id", index=True)
    registration_id: int = Field(foreign_key="registration.id", index=True)
    scanned_by_id: int | None = Field(default=None, foreign_key="exhibitor_user.id")
    rating: str | None = Field(default=None, max_length=4)
    notes: str = ""
    answers: dict = json_field(dict)
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=True)


# LeadScan: one booth scan as the phone sent it; its client id makes uploads idempotent.
class LeadScan(SQLModel, table=True):
    __tablename__ = "lead_scan"
    __table_args__ = (UniqueConstraint("exhibitor_id", "scan_id"),)
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id")
    lead_id: int | None = Field(default=None, foreign_key="lead.id", index=True)
    exhibitor_user_id: int | None = Field(default=None, foreign_key="exhibitor_user.id")
    scan_id: str = Field(max_length=80)
    verdict: str = Field(max_length=10)
    reason: str | None = Field(default=None, max_length=30)
    device_time: datetime | None = when_field()
    received_at: datetime = created_at_field()


# LeadDownload: a lead list an exhibitor user downloaded; their latest is where "new since my last download" starts.
class LeadDownload(SQLModel, table=True):
    __tablename__ = "lead_download"
    __table_args__ = (Index("ix_lead_download_user", "exhibitor_id", "exhibitor_user_id", "downloaded_at"),)
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id")
    exhibitor_user_id: int = Field(foreign_key="exhibitor_user.id")
    downloaded_at: datetime = created_at_field()
    format: str = Field(max_length=10)
    filters: dict = json_field(dict)
    rows: int = 0
