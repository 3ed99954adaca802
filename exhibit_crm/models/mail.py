"""Outgoing mail: the transactional outbox, segments and campaigns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from .types import UTCDateTime, created_at_field, enum_check, json_field, utcnow, when_field

OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")
CAMPAIGN_STATUSES = ("draft", "queued", "sent")


# OutboxMessage: one e-mail, queued in the transaction that caused it, sent exactly once.
class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(enum_check("status", OUTBOX_STATUSES), name="status"),
        UniqueConstraint("campaign_id", "contact_id"),
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    # the Message-ID header, fixed at queue time so a retried delivery is recognisably the same mail
    message_id: str = Field(max_length=200, unique=True)
    kind: str = Field(default="", max_length=60)
    to_addr: str = Field(max_length=254)
    to_name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=500)
    text_body: str
    html_body: str = ""
    status: str = Field(default="queued", max_length=8)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # set while a sender holds the message; a stale claim is taken over after the lease expires
    claimed_until: datetime | None = when_field()
    claim_token: str | None = Field(default=None, max_length=40)
    last_error: str = ""
    sent_at: datetime | None = when_field()
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    created_at: datetime = created_at_field()


# OutboxAttachment: a file that travels with an outbox message (an e-badge, a lead list).
class OutboxAttachment(SQLModel, table=True):
    __tablename__ = "outbox_attachment"
    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="outbox_message.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    data: bytes = Field(sa_type=LargeBinary)


# Segment: a saved, re-runnable rule over contacts and their history across editions.
class Segment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    edition_id: int | None = Field(default=None, foreign_key="edition.id", index=True)
    rule: dict = json_field(dict)
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = created_at_field()


# Campaign: a mail template sent to a segment for an edition, one outbox row per recipient.
class Campaign(SQLModel, table=True):
    __table_args__ = (CheckConstraint(enum_check("status", CAMPAIGN_STATUSES), name="status"),)
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    edition_id: int = Field(foreign_key="edition.id", index=True)
    segment_id: int | None = Field(default=None, foreign_key="segment.id")
    subject: str = Field(max_length=500)
    subject_zh: str = Field(default="", max_length=500)
    body: str = ""
    body_zh: str = ""
    status: str = Field(default="draft", max_length=8)
    queued_at: datetime | None = when_field()
    created_at: datetime = created_at_field()
