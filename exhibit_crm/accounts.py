"""Managing accounts: staff users' roles, access and passwords (creating them is auth.create_staff_user), API tokens
and exhibitor users' access."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from . import audit
from .db import found
from .errors import Conflict, InvalidInput
from .models import STAFF_ROLES, ApiToken, Company, Edition, Exhibitor, ExhibitorUser, StaffUser, utcnow
from .security import PasswordHash, new_password_hash


def list_staff(session: Session) -> list[StaffUser]:
    """Every staff user, by username."""
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))


def _user(session: Session, user_id: int) -> StaffUser:
    return found(session, StaffUser, user_id, what="staff user")


def _refuse_losing_last_admin(session: Session, user: StaffUser, *, field: str | None) -> None:
    """Refuse a change that leaves no active admin, since then nobody could manage users from the web."""
    if user.role != "admin" or not user.is_active:
        return
    # FOR UPDATE locks the active admins on PostgreSQL, so two admins demoting each other at once cannot both
    # pass; SQLite's write transactions are already serialised.
    admins = session.scalars(select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.is_active)
                             .with_for_update()).all()
    if set(admins) <= {user.id}:
        raise Conflict("last_admin", "at least one active admin must remain", field=field)


def change_role(session: Session, *, user_id: int, role: str, actor: audit.Actor) -> StaffUser:
    """Give a staff user another role; the last active admin keeps theirs."""
    if role not in STAFF_ROLES:
        raise InvalidInput("invalid_role", f"role: one of {', '.join(STAFF_ROLES)}", field="role")
    user = _user(session, user_id)
    if role == user.role:
        return user
    if role != "admin":
        _refuse_losing_last_admin(session, user, field="role")
    old, user.role = user.role, role
    session.flush()
    audit.log(session, "exhibit_crm.user.role_changed", actor=actor, obj=user, data={"from": old, "to": role})
    return user


def set_active(session: Session, *, user_id: int, active: bool, actor: audit.Actor) -> StaffUser:
    """Allow or stop a staff user's logins; nobody deactivates themselves or the last active admin."""
    user = _user(session, user_id)
    if active == user.is_active:
        return user
    if not active:
        if actor.type == "staff" and actor.id == user.id:
            raise Conflict("self", "you cannot deactivate your own account")
        _refuse_losing_last_admin(session, user, field=None)
    user.is_active = active
    session.flush()
    audit.log(session, f"exhibit_crm.user.{'activated' if active else 'deactivated'}", actor=actor, obj=user)
    return user


def set_password(session: Session, *, user_id: int, password: str | PasswordHash, actor: audit.Actor) -> StaffUser:
    """Replace a staff user's password (hash it first: new_password_hash); their sessions stop working."""
    password_hash = new_password_hash(password)
    user = _user(session, user_id)
    user.password_hash = password_hash
    user.session_generation += 1
    session.flush()
    audit.log(session, "exhibit_crm.user.password_set", actor=actor, obj=user)
    return user


@dataclass(frozen=True)
class TokenRow:
    """An API token with the name of its owner (a staff username or an exhibitor user's e-mail)."""

    token: ApiToken
    owner: str
    owner_kind: str


def list_api_tokens(session: Session) -> list[TokenRow]:
    """Every API token, newest first, revoked ones included."""
    rows = session.execute(
        select(ApiToken, StaffUser.username, ExhibitorUser.email)
        .outerjoin(StaffUser, StaffUser.id == ApiToken.staff_user_id)
        .outerjoin(ExhibitorUser, ExhibitorUser.id == ApiToken.exhibitor_user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [TokenRow(token, username or email, "staff" if username else "exhibitor_user")
            for token, username, email in rows.all()]


@dataclass(frozen=True)
class ExhibitorUserRow:
    """An exhibitor user with its company and the edition and status of its exhibitor."""

    user: ExhibitorUser
    company: str
    edition: str
    exhibitor_status: str


def list_exhibitor_users(session: Session) -> list[ExhibitorUserRow]:
    """Every exhibitor user, by company and e-mail."""
    rows = session.execute(
        select(ExhibitorUser, Company.name, Edition.name, Exhibitor.status)
        .join(Exhibitor, Exhibitor.id == ExhibitorUser.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Edition, Edition.id == Exhibitor.edition_id).order_by(Company.name, ExhibitorUser.email))
    return [ExhibitorUserRow(*row) for row in rows.all()]


def revoke_api_token(session: Session, *, token_id: int, actor: audit.Actor) -> ApiToken:
    """Revoke an API token (staff tokens stop at once, exhibitor users' tokens within auth.TOKEN_TTL_S seconds)."""
    token = found(session, ApiToken, token_id, what="api token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        audit.log(session, "exhibit_crm.api_token.revoked", actor=actor, obj=token)
    return token


def set_exhibitor_user_active(session: Session, *, user_id: int, active: bool, actor: audit.Actor) -> ExhibitorUser:
    """Allow or stop an exhibitor user's logins, sessions and tokens (tokens within auth.TOKEN_TTL_S seconds)."""
    user = found(session, ExhibitorUser, user_id, what="exhibitor user")
    if active != user.is_active:
        user.is_active = active
        session.flush()
        audit.log(session, f"exhibit_crm.exhibitor_user.{'activated' if active else 'deactivated'}", actor=actor,
                  obj=user)
    return user
