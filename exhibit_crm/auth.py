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
from .db import found
from .errors import Conflict, DomainError, InvalidInput, NotFound
from .models import STAFF_ROLES, ApiToken, Exhibitor, ExhibitorUser, Gate, GateDevice, LoginAttempt, StaffUser, utcnow
from .security import PasswordHash, new_password_hash, new_token, token_hash, verify_password

THROTTLE_WINDOW = timedelta(minutes=15)
# one client address may fail this many times LOGIN_MAX_FAILURES within the window, over all accounts
ADDRESS_FACTOR = 4
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
    generation: int = 0  # of a user's sessions (see load_principal)

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(self.kind, self.id, self.name)

    @classmethod
    def of_staff(cls, user: StaffUser) -> Principal:
        return cls("staff", user.id, user.username, role=user.role, language=user.language,
                   generation=user.session_generation)

    @classmethod
    def of_exhibitor_user(cls, user: ExhibitorUser) -> Principal:
        return cls("exhibitor_user", user.id, user.email, exhibitor_id=user.exhibitor_id, language=user.language,
                   generation=user.session_generation)


def create_staff_user(session: Session, *, username: str, password: str | PasswordHash, role: str,
                      display_name: str = "", email: str = "", actor: audit.Actor = audit.CLI) -> StaffUser:
    """Create a staff user with a role; the username must be new (hash the password first: new_password_hash)."""
    if role not in STAFF_ROLES:
        raise InvalidInput("invalid_role", f"role: one of {', '.join(STAFF_ROLES)}", field="role")
    if not username.strip():
        raise InvalidInput("required", "username: required", field="username")
    user = StaffUser(username=username.strip(), password_hash=new_password_hash(password), role=role,
                     display_name=display_name or username.strip(), email=email)
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        raise Conflict("username_taken", f"username: {username!r} is taken", field="username") from None
    audit.log(session, "exhibit_crm.user.created", actor=actor, obj=user, data={"role": role})
    return user


def first_admin_password() -> tuple[str, PasswordHash]:
    """A password for the first admin and its hash, made before any transaction opens."""
    password = secrets.token_urlsafe(12)
    return password, new_password_hash(password)


def ensure_first_admin(session: Session, *, password: tuple[str, PasswordHash] | None = None) -> tuple[str, str] | None:
    """On a database without staff users, create an admin; returns its (username, password) once."""
    if session.scalar(select(func.count()).select_from(StaffUser)):
        return None
    plain, hashed = password or first_admin_password()
    create_staff_user(session, username="admin", password=hashed, role="admin", actor=audit.SYSTEM)
    return "admin", plain


@dataclass(frozen=True)
class LoginCandidate:
    """What a login names, read before its password is checked: no transaction is open while argon2 runs."""

    kind: str
    key: str  # "kind:account", as login attempts are stored
    ip: str
    user_id: int | None
    password_hash: str | None
    max_failures: int


def _failures(session: Session, *, where: tuple, success_where: tuple | None, since: datetime) -> int:
    if success_where is not None:
        last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
            *success_where, LoginAttempt.success, LoginAttempt.at >= since))
        since = last_success or since
    return session.scalar(select(func.count()).select_from(LoginAttempt).where(
        *where, ~LoginAttempt.success, LoginAttempt.at >= since))


def _throttled(session: Session, *, key: str, ip: str, now: datetime, max_failures: int) -> bool:
    """Too many failures for this account from this address (since its last success there), or from this address
    over all accounts: somebody elsewhere cannot lock the owner out, and one address cannot try account after
    account."""
    since = now - THROTTLE_WINDOW
    pair = (LoginAttempt.account == key, LoginAttempt.ip == ip)
    if _failures(session, where=pair, success_where=pair, since=since) >= max_failures:
        return True
    address = (LoginAttempt.ip == ip,)
    return _failures(session, where=address, success_where=None, since=since) >= max_failures * ADDRESS_FACTOR


def _account_key(kind: str, account: str) -> tuple[str, str]:
    # no account name is longer than an e-mail address; a longer one is wrong, not worth a stored attempt of its own
    account = (account.strip().lower() if kind == "exhibitor_user" else account.strip())[:254]
    return account, f"{kind}:{account}"


def login_candidate(session: Session, *, kind: str, account: str, ip: str = "", max_failures: int = 5,
                    now: datetime | None = None) -> LoginCandidate:
    """The user a login names and its password hash (reads only); DomainError 'throttled' after too many failures."""
    account, key = _account_key(kind, account)
    if _throttled(session, key=key, ip=ip, now=now or utcnow(), max_failures=max_failures):
        raise DomainError("throttled", "too many failed logins; try again in 15 minutes", status=429)
    model = StaffUser if kind == "staff" else ExhibitorUser
    column = StaffUser.username if kind == "staff" else ExhibitorUser.email
    found = session.execute(select(model.id, model.password_hash).where(column == account)).first()
    return LoginCandidate(kind, key, ip, found[0] if found else None, found[1] if found else None, max_failures)


def check_password(candidate: LoginCandidate, password: str) -> bool:
    """Whether the password is the candidate's (slow on purpose: run it with no transaction open)."""
    return verify_password(candidate.password_hash, password) and candidate.user_id is not None


def record_login(session: Session, *, candidate: LoginCandidate, ok: bool,
                 now: datetime | None = None) -> Principal | None:
    """Store a login attempt; the principal when the password was right and the user may still sign in."""
    now = now or utcnow()
    who = load_principal(session, kind=candidate.kind, user_id=candidate.user_id) if ok else None
    session.add(LoginAttempt(account=candidate.key, ip=candidate.ip, success=who is not None, at=now))
    if who is not None:
        session.get(StaffUser if candidate.kind == "staff" else ExhibitorUser, who.id).last_login_at = now
    return who


def login(session: Session, *, kind: str, account: str, password: str, ip: str = "",
          max_failures: int = 5, now: datetime | None = None) -> Principal | None:
    """A whole password login in one session, for scripts and tests (the web runs its steps in separate
    transactions, the password check in none); None on a wrong password, DomainError 'throttled' after too many."""
    candidate = login_candidate(session, kind=kind, account=account, ip=ip, max_failures=max_failures, now=now)
    return record_login(session, candidate=candidate, ok=check_password(candidate, password), now=now)


def _user(session: Session, kind: str, user_id: int | None) -> StaffUser | ExhibitorUser | None:
    user = session.get(StaffUser if kind == "staff" else ExhibitorUser, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        return None
    if kind == "exhibitor_user" and session.scalar(select(Exhibitor.status).where(
            Exhibitor.id == user.exhibitor_id)) == "cancelled":
        return None  # a cancelled exhibitor's users neither sign in nor scan nor download leads
    return user


def load_principal(session: Session, *, kind: str, user_id: int | None,
                   generation: int | None = None) -> Principal | None:
    """The active user behind a session cookie, or None if it is gone, disabled, of a cancelled exhibitor, or the
    cookie is of an older session generation (signed out, password reset). generation=None: not from a cookie."""
    user = _user(session, kind, user_id)
    if user is None or (generation is not None and generation != user.session_generation):
        return None
    return Principal.of_staff(user) if kind == "staff" else Principal.of_exhibitor_user(user)


def end_sessions(session: Session, *, kind: str, user_id: int) -> int:
    """Make every session cookie of a user stop working (sign-out, password reset); returns the new generation."""
    user = found(session, StaffUser if kind == "staff" else ExhibitorUser, user_id, what=kind.replace("_", " "))
    user.session_generation += 1
    session.flush()
    return user.session_generation


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
    found(session, Gate, gate_id, what="gate")
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
