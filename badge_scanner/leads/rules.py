"""The rules every booth scan and lead edit follows, whichever path records it: what a scan carries, which fields
and answers are valid, and how a scan changes its lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import LeadQuestion
from exhibit_crm.models.exhibitors import LEAD_RATINGS

ACCEPTED, REJECTED = "accepted", "rejected"
REASONS = ("invalid_code", "revoked", "outdated_badge", "other_edition")
QUESTION_KINDS = ("checkbox", "select", "text")
MAX_NOTES = 4000


@dataclass(frozen=True)
class BoothScan:
    """One booth scan as the phone sent it; rating, notes and answers are None when not sent."""

    code: str
    scan_id: str
    rating: str | None = None
    notes: str | None = None
    answers: dict[str, object] = field(default_factory=dict)
    scanned_at: datetime | None = None


def check_answers(session: Session, *, exhibitor_id: int, answers: dict, prefix: str = "answers") -> dict:
    """Answers keyed by the exhibitor's own question ids, each of the question's kind; a 422 naming the one at fault."""
    if not answers:
        return {}
    questions = {str(q.id): q for q in session.scalars(select(LeadQuestion)
                                                        .where(LeadQuestion.exhibitor_id == exhibitor_id))}
    return checked_answers(questions, answers, prefix)


def checked_answers(questions: dict, answers: dict, prefix: str = "answers") -> dict:
    """check_answers against questions (id as text -> anything with LeadQuestion's kind and options)."""
    checked = {}
    for key, value in answers.items():
        where = f"{prefix}.{key}"
        question = questions.get(str(key))
        if question is None:
            raise InvalidInput("invalid", f"{where}: no such question of this exhibitor", field=where)
        if value is None:
            checked[str(key)] = None
        elif question.kind == "checkbox" and not isinstance(value, bool):
            raise InvalidInput("invalid", f"{where}: true or false", field=where)
        elif question.kind == "select" and value not in question.options:
            raise InvalidInput("invalid", f"{where}: one of " + ", ".join(question.options), field=where)
        elif question.kind == "text" and (not isinstance(value, str) or len(value) > MAX_NOTES):
            raise InvalidInput("invalid", f"{where}: a text of at most {MAX_NOTES} characters", field=where)
        else:
            checked[str(key)] = value
    return checked


def check_scan(scan: BoothScan) -> None:
    """A 422 for a rating we do not have or notes that are too long."""
    if scan.rating is not None and scan.rating not in LEAD_RATINGS:
        raise InvalidInput("invalid", "rating: one of " + ", ".join(LEAD_RATINGS), field="rating")
    if scan.notes is not None and len(scan.notes) > MAX_NOTES:
        raise InvalidInput("invalid", f"notes: at most {MAX_NOTES} characters", field="notes")


def apply_scan(lead, scan: BoothScan, answers: dict, now: datetime) -> None:
    """What a scan sent changes in its lead (an ORM Lead or the group's own row): the rest stays."""
    if scan.rating is not None:
        lead.rating = scan.rating
    if scan.notes is not None:
        lead.notes = scan.notes
    if answers:
        lead.answers = {**(lead.answers or {}), **answers}
    lead.updated_at = now
