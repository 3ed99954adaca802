"""The CRM's memory across editions: companies, contacts, and their registrations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, created_at_field, enum_check, json_field, utcnow, when_field

REGISTRATION_SOURCES = ("online", "import", "walk_in", "invitation", "third_party")
REGISTRATION_STATUSES = ("registered", "cancelled")


# Company: lives across editions; exhibitors and visitors both belong to one.
class CompanyBase(SQLModel):
    name: str = Field(min_length=1, max_length=300)
    country: str = Field(default="", max_length=2)
    province: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100)
    website: str = Field(default="", max_length=300)


class Company(CompanyBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # lower-cased, spaces removed: one company per key, however its name is spelt
    name_key: str = Field(max_length=300, index=True, unique=True)
    created_at: datetime = created_at_field()


# Contact: one person, with their consents and how to reach them.
class ContactBase(SQLModel):
    first_name: str = Field(default="", max_length=100)
    last_name: str = Field(default="", max_length=100)
    # the name as the person writes it: "王伟", "Anna Schmidt"
    full_name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    title: str = Field(default="", max_length=200)
    country: str = Field(default="", max_length=2)
    province: str = Field(default="", max_length=100)
    city: str = Field(default="", max_length=100)
    language: str = Field(default="zh-CN", max_length=8)


class Contact(ContactBase, table=True):
    __table_args__ = (
        # e-mails are stored normalised, so uniqueness holds for "A@x.cn" and "a@x.cn " alike
        CheckConstraint("email IS NULL OR email = lower(trim(email))", name="email_normalised"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="reachable"),
        CheckConstraint("phone IS NULL OR phone LIKE '+%'", name="phone_e164"),
    )
    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, max_length=254, unique=True)
    # E.164; one person per number, like one per e-mail, so a phone alone finds the same contact again
    phone: str | None = Field(default=None, max_length=20, unique=True, index=True)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    consent_marketing: bool = False
    consent_marketing_at: datetime | None = when_field()
    consent_marketing_source: str = Field(default="", max_length=60)
    consent_share: bool = False
    consent_share_at: datetime | None = when_field()
    consent_share_source: str = Field(default="", max_length=60)
    consent_text_version: str = Field(default="", max_length=40)
    unsubscribed_at: datetime | None = when_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


# ContactSource: every import or channel that touched a contact, first time seen.
class ContactSource(SQLModel, table=True):
    __tablename__ = "contact_source"
    __table_args__ = (UniqueConstraint("contact_id", "source"),)
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    source: str = Field(max_length=120)
    first_seen_at: datetime = created_at_field()


# Registration: a contact taking part in an edition, with the badge they carry.
class RegistrationBase(SQLModel):
    source: str = Field(default="online", max_length=20)
    answers: dict = json_field(dict)


class Registration(RegistrationBase, table=True):
    __table_args__ = (
        UniqueConstraint("contact_id", "edition_id"),
        CheckConstraint(enum_check("source", REGISTRATION_SOURCES), name="source"),
        CheckConstraint(enum_check("status", REGISTRATION_STATUSES), name="status"),
        CheckConstraint("badge_version >= 1", name="badge_version"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    edition_id: int = Field(foreign_key="edition.id", index=True)
    badge_type_id: int = Field(foreign_key="badge_type.id")
    # set for exhibitor-staff badges: the exhibitor whose allowance the badge counts against
    exhibitor_id: int | None = Field(default=None, foreign_key="exhibitor.id", index=True)
    status: str = Field(default="registered", max_length=12)
    # bumped on reprint and cancel, so that older badges stop working at the gates
    badge_version: int = 1
    registered_at: datetime = created_at_field()
    cancelled_at: datetime | None = when_field()
    collected_at: datetime | None = when_field()


# RegistrationInterest: a product category a visitor said they are looking for; matchmaking joins on it.
class RegistrationInterest(SQLModel, table=True):
    __tablename__ = "registration_interest"
    __table_args__ = (
        UniqueConstraint("registration_id", "category"),
        Index("ix_registration_interest_edition_id_category", "edition_id", "category"),
    )
    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registration.id", index=True, ondelete="CASCADE")
    edition_id: int = Field(foreign_key="edition.id", ondelete="CASCADE")
    category: str = Field(max_length=40)
