"""The audit log: every state change leaves an entry with a dotted action name."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from .models import AuditLog


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, an exhibitor user, a gate device, the CLI or the system."""

    type: str
    id: int | None = None
    name: str = ""


SYSTEM = Actor("system", None, "system")
CLI = Actor("cli", None, "command line")


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
