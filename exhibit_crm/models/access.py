"""Who may do what: staff users, exhibitor users, gate devices, API tokens, and the audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from .types import created_at_field, enum_check, json_field, when_field

STAFF_ROLES = ("admin", "marketing", "desk")


# StaffUser: the organiser's people; the role decides which pages they reach.
class StaffUserBase(SQLModel):
    username: str = Field(min_length=1, max_length=80)
    display_name: str = Field(default="", max_length=120)
    email: str = Field(default="", max_length=254)
    role: str = Field(default="desk", max_length=12)
    language: str = Field(default="", max_length=8)


class StaffUser(StaffUserBase, table=True):
    __tablename__ = "staff_user"
    __table_args__ = (CheckConstraint(enum_check("role", STAFF_ROLES), name="role"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    password_hash: str = Field(max_length=200)
    is_active: bool = True
    # bumped on sign-out and password reset: session cookies of an older generation stop working
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = created_at_field()
    last_login_at: datetime | None = when_field()


# ExhibitorUser: an account of one exhibitor; sees only that exhibitor's data.
class ExhibitorUser(SQLModel, table=True):
    __tablename__ = "exhibitor_user"
    id: int | None = Field(default=None, primary_key=True)
    exhibitor_id: int = Field(foreign_key="exhibitor.id", index=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(default="", max_length=120)
    # empty until the invited user sets a password
    password_hash: str = Field(default="", max_length=200)
    language: str = Field(default="", max_length=8)
    is_active: bool = True
    # bumped on sign-out: session cookies of an older generation stop working
    session_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = created_at_field()
    invited_at: datetime | None = when_field()
    last_login_at: datetime | None = when_field()


# GateDevice: a scanner bound to one gate, authenticated by a bearer token kept only as a hash.
class GateDevice(SQLModel, table=True):
    __tablename__ = "gate_device"
    id: int | None = Field(default=None, primary_key=True)
    gate_id: int = Field(foreign_key="gate.id", index=True)
    name: str = Field(max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    last_seen_at: datetime | None = when_field()
    revoked_at: datetime | None = when_field()


# ApiToken: a bearer token for the JSON API, owned by a staff user or an exhibitor user.
class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("(staff_user_id IS NULL) <> (exhibitor_user_id IS NULL)", name="one_owner"),
    )
    id: int | None = Field(default=None, primary_key=True)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id", index=True)
    exhibitor_user_id: int | None = Field(default=None, foreign_key="exhibitor_user.id", index=True)
    name: str = Field(default="", max_length=120)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = when_field()
    revoked_at: datetime | None = when_field()


# LoginAttempt: kept in the database so that throttling holds across app processes.
class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_account_at", "account", "at"),
                      Index("ix_login_attempt_ip_at", "ip", "at"))
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=260)
    ip: str = Field(default="", max_length=64)
    success: bool = False
    at: datetime = created_at_field()


# AuditLog: one entry per state change, with a dotted action name and who did it.
class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"), Index("ix_audit_log_at", "at"))
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    action: str = Field(max_length=120, index=True)
    actor_type: str = Field(max_length=20)
    actor_id: int | None = None
    actor_name: str = Field(default="", max_length=260)
    object_type: str = Field(default="", max_length=60)
    object_id: int | None = None
    data: dict = json_field(dict)
