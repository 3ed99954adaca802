"""The audit log: every state change leaves an entry with a dotted action name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import insert
from sqlmodel import Session

from .models import AuditLog, utcnow


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, an exhibitor user, a gate device, the CLI or the system."""

    type: str
    id: int | None = None
    name: str = ""


SYSTEM = Actor("system", None, "system")
CLI = Actor("cli", None, "command line")
T = TypeVar("T")


def log(session: Session, action: str, *, actor: Actor, obj: object | None = None, data: dict | None = None) -> None:
    """Record an action in the same transaction as the change it describes."""
    session.add(AuditLog(
        action=action,
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        object_type=type(obj).__tablename__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        data=data or {},
    ))


def log_many(session: Session, action: str, *, actor: Actor, object_type: str,
             entries: Iterable[tuple[int | None, dict]]) -> None:
    """Record one action on many objects, (object id, data) each, in one statement: what many log() calls record."""
    rows = [{"action": action, "actor_type": actor.type, "actor_id": actor.id, "actor_name": actor.name,
             "object_type": object_type, "object_id": object_id, "data": data or {}} for object_id, data in entries]
    if rows:
        # Core on the session's connection (pending changes written first, as session.execute would): the ORM's
        # bulk path and execution layers cost more than the insert
        session.flush()
        session.connection().execute(insert(AuditLog.__table__), rows)


def first_time(session: Session, row: T, column: str, action: str, *, actor: Actor, data: dict) -> T:
    """Record the moment something first happened to `row` (a badge collected, an exhibitor arrived) in `column`,
    with its audit entry; once it is set, a repeat changes nothing."""
    if getattr(row, column) is None:
        setattr(row, column, utcnow())
        session.add(row)
        log(session, action, actor=actor, obj=row, data=data)
        session.flush()
    return row
