"""Passwords, bearer tokens and the session secret."""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import InvalidInput

_hasher = PasswordHasher()
# verifying against this keeps the time of a login for an unknown user like that of a known one
_DUMMY_HASH = _hasher.hash("not a password anyone has")

T = TypeVar("T")
MIN_PASSWORD_LENGTH = 8
# password hashing threads a process runs at once: a login flood queues here instead of taking every core
PASSWORD_THREADS = 1
# their nice value: a password hash (about 0.1 s of CPU) gives way to a gate scan (about 1 ms) when both want a core
PASSWORD_NICENESS = 19
_password_pool: list[ThreadPoolExecutor] = []
_password_lock = threading.Lock()


def _lower_priority() -> None:
    try:  # on Linux a thread has its own nice value
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PASSWORD_NICENESS)
    except (AttributeError, OSError):
        pass


def _password_threads() -> ThreadPoolExecutor:
    with _password_lock:
        if not _password_pool:
            _password_pool.append(ThreadPoolExecutor(PASSWORD_THREADS, "password", initializer=_lower_priority))
        return _password_pool[0]


async def password_work(fn: Callable[..., T], /, *args) -> T:
    """Run a password hash or check off the event loop, in the process's few low-priority password threads."""
    return await asyncio.wrap_future(_password_threads().submit(fn, *args))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


class PasswordHash(str):
    """A password already checked and hashed, so that a service that stores it does no slow work in its transaction."""


def new_password_hash(password: str | PasswordHash) -> PasswordHash:
    """Check a new password's length and hash it (about 0.1 s: call it before a write transaction opens)."""
    if isinstance(password, PasswordHash):
        return password
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password_too_short", f"password: at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")
    return PasswordHash(hash_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if the password matches; always spends the same work, known user or not."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A bearer token: a readable prefix naming its kind, then 256 random bits."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    # tokens carry 256 random bits, so a fast hash is enough and keeps every API call cheap
    return hashlib.sha256(token.encode()).hexdigest()


def session_secret(data_dir: Path, configured: str) -> str:
    """The configured secret, or one created once and kept in the data directory."""
    if configured:
        return configured
    path = data_dir / "session-secret"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        candidate = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
        candidate.write_text(secrets.token_urlsafe(48))
        candidate.chmod(0o600)
        try:
            # link, not rename: if another process created the file first, we keep theirs
            path.hardlink_to(candidate)
        except FileExistsError:
            pass
        finally:
            candidate.unlink()
    return path.read_text().strip()
