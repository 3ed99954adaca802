"""Lead list downloads as state of their own: each download an exhibitor user makes is kept (when, which format and
filters, how many rows), and their latest is where "only new since my last download" starts. Every download is also
written to the audit log, as every export of personal data is."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm import audit
from exhibit_crm.models import Exhibitor, LeadDownload, utcnow

# the audit log has named lead downloads so since its first entries: kept, so that the log reads as one
DOWNLOADED = "exporters.leads.downloaded"
EXHIBITOR_USER = "exhibitor_user"


def last_download_at(session: Session, *, exhibitor_id: int, user_id: int | None) -> datetime | None:
    """When this exhibitor user last downloaded the exhibitor's leads (None: never, or no exhibitor user)."""
    if user_id is None:
        return None
    return session.scalar(select(func.max(LeadDownload.downloaded_at)).where(
        LeadDownload.exhibitor_id == exhibitor_id, LeadDownload.exhibitor_user_id == user_id))


def user_of(actor: audit.Actor) -> int | None:
    """The exhibitor user an actor is, if it is one: downloads are remembered for them."""
    return actor.id if actor.type == EXHIBITOR_USER else None


def record_download(session: Session, *, exhibitor: Exhibitor, actor: audit.Actor, fmt: str, filters: dict,
                    rows: int, now: datetime | None = None) -> None:
    """Keep a download of the exhibitor's leads for its user and write it to the audit log (who, when, how many)."""
    now = now or utcnow()
    user_id = user_of(actor)
    if user_id is not None:
        session.add(LeadDownload(exhibitor_id=exhibitor.id, exhibitor_user_id=user_id, downloaded_at=now, format=fmt,
                                 filters=filters, rows=rows))
    audit.log(session, DOWNLOADED, actor=actor, obj=exhibitor, data={"format": fmt, "rows": rows, "filters": filters})
    session.flush()
