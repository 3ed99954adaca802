"""Accounts and credentials: staff and exhibitor users, logins with throttling, API and device tokens."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from . import audit
from .errors import Conflict, DomainError, InvalidInput, NotFound
from .models import STAFF_ROLES, ApiToken, ExhibitorUser, Gate, GateDevice, LoginAttempt, StaffUser, utcnow
from .security import MIN_PASSWORD_LENGTH, hash_password, new_token, token_hash, verify_password

THROTTLE_WINDOW = timedelta(minutes=15)
# How long a process may answer a device or exhibitor-user bearer token from memory: a revoked token (or a disabled
# exhibitor user) stops working within this on every process (docs/gates.md). Staff tokens are always read.
TOKEN_TTL_S = 5.0
TOKEN_CACHE_SIZE = 10_000
CACHED_KINDS = ("device", "exhibitor_user")


@dataclass(frozen=True)
class Principal:
    """Whoever a request acts for: a staff user, an exhibitor user or a gate device."""

    kind: str  # "staff" | "exhibitor_user" | "device"
    id: int
    name: str
    role: str | None = None
    exhibitor_id: int | None = None
    gate_id: int | None = None
    language: str = ""

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.kind, self.id, self.name)

    @classmethod
    def of_staff(cls, user: StaffUser) -> Principal:
        return cls("staff", user.id, user.username, role=user.role, language=user.language)

    @classmethod
    def of_exhibitor_user(cls, user: ExhibitorUser) -> Principal:
        return cls("exhibitor_user", user.id, user.email, exhibitor_id=user.exhibitor_id, language=user.language)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password_too_short", f"password: at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")


def create_staff_user(session: Session, *, username: str, password: str, role: str, display_name: str = "",
                      email: str = "", actor: audit.Actor = audit.CLI) -> StaffUser:
    """Create a staff user with a role; the username must be new."""
    if role not in STAFF_ROLES:
        raise InvalidInput("invalid_role", f"role: one of {', '.join(STAFF_ROLES)}", field="role")
    if not username.strip():
        raise InvalidInput("required", "username: required", field="username")
    _check_password(password)
    user = StaffUser(username=username.strip(), password_hash=hash_password(password), role=role,
                     display_name=display_name or username.strip(), email=email)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Conflict("username_taken", f"username: {username!r} is taken", field="username") from None
    audit.log(session, "exhibit_crm.user.created", actor=actor, obj=user, data={"role": role})
    return user


def ensure_first_admin(session: Session) -> tuple[str, str] | None:
    """On a database without staff users, create an admin; returns its (username, password) once."""
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return None
    password = secrets.token_urlsafe(12)
    create_staff_user(session, username="admin", password=password, role="admin", actor=audit.SYSTEM)
    return "admin", password


def _throttled(session: Session, *, account: str, now: datetime, max_failures: int) -> bool:
    since = now - THROTTLE_WINDOW
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.account == account, LoginAttempt.success, LoginAttempt.at >= since))
    failures = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.account == account, ~LoginAttempt.success, LoginAttempt.at >= (last_success or since)))
    return failures >= max_failures


def login(session: Session, *, kind: str, account: str, password: str, ip: str = "",
          max_failures: int = 5, now: datetime | None = None) -> Principal | None:
    """Check a password login; None on a wrong password, DomainError 'throttled' after too many."""
    now = now or utcnow()
    # no account name is longer than an e-mail address; a longer one is wrong, not worth a stored attempt of its own
    account = (account.strip().lower() if kind == "exhibitor_user" else account.strip())[:254]
    key = f"{kind}:{account}"
    if _throttled(session, account=key, now=now, max_failures=max_failures):
        raise DomainError("throttled", "too many failed logins; try again in 15 minutes", status=429)
    model = StaffUser if kind == "staff" else ExhibitorUser
    column = StaffUser.username if kind == "staff" else ExhibitorUser.email
    user = session.scalars(select(model).where(column == account)).first()
    ok = verify_password(user.password_hash if user else None, password) and bool(user and user.is_active)
    session.add(LoginAttempt(account=key, ip=ip, success=ok, at=now))
    if not ok:
        return None
    user.last_login_at = now
    return Principal.of_staff(user) if kind == "staff" else Principal.of_exhibitor_user(user)


def load_principal(session: Session, *, kind: str, user_id: int) -> Principal | None:
    """The active user behind a session cookie, or None if it is gone or disabled."""
    user = session.get(StaffUser if kind == "staff" else ExhibitorUser, user_id)
    if user is None or not user.is_active:
        return None
    return Principal.of_staff(user) if kind == "staff" else Principal.of_exhibitor_user(user)


def create_api_token(session: Session, *, username: str | None = None, exhibitor_user_email: str | None = None,
                     name: str = "", actor: audit.Actor = audit.CLI) -> tuple[str, ApiToken]:
    """A new bearer token for a staff user or an exhibitor user; the plain token is returned once."""
    token = ApiToken(name=name)
    if username is not None:
        user = session.scalars(select(StaffUser).where(StaffUser.username == username)).first()
        if user is None:
            raise NotFound("staff user", username)
        token.staff_user_id, prefix = user.id, "ecs"
    else:
        email = (exhibitor_user_email or "").strip().lower()
        user = session.scalars(select(ExhibitorUser).where(ExhibitorUser.email == email)).first()
        if user is None:
            raise NotFound("exhibitor user", email)
        token.exhibitor_user_id, prefix = user.id, "ece"
    plain = new_token(prefix)
    token.token_hash = token_hash(plain)
    session.add(token)
    session.flush()
    audit.log(session, "exhibit_crm.api_token.created", actor=actor, obj=token, data={"owner": user.id})
    return plain, token


def create_device(session: Session, *, gate_id: int, name: str,
                  actor: audit.Actor = audit.CLI) -> tuple[str, GateDevice]:
    """A gate device bound to a gate; the plain bearer token is returned once."""
    if session.get(Gate, gate_id) is None:
        raise NotFound("gate", gate_id)
    plain = new_token("ecd")
    device = GateDevice(gate_id=gate_id, name=name, token_hash=token_hash(plain))
    session.add(device)
    session.flush()
    audit.log(session, "exhibit_crm.device.created", actor=actor, obj=device, data={"gate_id": gate_id})
    return plain, device


def principal_for_token(session: Session, token: str) -> Principal | None:
    """The owner of a bearer token (API token or gate device), or None."""
    digest = token_hash(token)
    if token.startswith("ecd_"):
        device = session.scalars(select(GateDevice).where(GateDevice.token_hash == digest)).first()
        if device is None or device.revoked_at is not None:
            return None
        return Principal("device", device.id, device.name, gate_id=device.gate_id)
    api_token = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if api_token is None or api_token.revoked_at is not None:
        return None
    if api_token.staff_user_id is not None:
        return load_principal(session, kind="staff", user_id=api_token.staff_user_id)
    return load_principal(session, kind="exhibitor_user", user_id=api_token.exhibitor_user_id)


class TokenCache:
    """Bearer token -> principal for `ttl` seconds, so a gate scan or booth scan reads nothing before it is judged.

    Keyed by the token's hash (the plain token is never kept), bounded to `size` entries (least recently used goes
    first), and only for device and exhibitor-user tokens. Unknown tokens are not remembered, so a made-up token
    always costs a database read and never pushes a good one out. `clock` is injectable for tests.
    """

    def __init__(self, *, ttl: float = TOKEN_TTL_S, size: int = TOKEN_CACHE_SIZE,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    def get(self, token: str) -> Principal | None:
        """The cached principal of a token, or None when it is not cached or its time is up."""
        digest = token_hash(token)
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= self.clock():
            self._entries.pop(digest, None)
            return None
        self._entries.move_to_end(digest)
        return found[1]

    def put(self, token: str, who: Principal | None) -> None:
        if who is None or who.kind not in CACHED_KINDS:
            return
        digest = token_hash(token)
        self._entries[digest] = (self.clock() + self.ttl, who)
        self._entries.move_to_end(digest)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
