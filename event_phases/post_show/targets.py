"""Targets per edition for the post-show statistics: what the organiser aims at (visitors, trade visitors,
exhibitors, net m² sold, exhibitor rebooking rate), set by an admin, and each figure's gap to what the show reached.

Every target is optional: one not set is None. The rebooking rate is a share from 0 to 1 here; pages show it as a
percentage."""

from __future__ import annotations

from sqlmodel import Session, select

from exhibit_crm import audit
from exhibit_crm.db import found
from exhibit_crm.errors import InvalidInput, validate_input
from exhibit_crm.models import TARGET_KEYS, Edition, EditionTarget, EditionTargetBase, utcnow

SET = "event_phases.post_show.targets.set"
# the float targets' gaps are rounded: a subtraction leaves noise such as -0.030000000000000027 in a report
GAP_DIGITS = 6


def _row(session: Session, edition_id: int) -> EditionTarget | None:
    return session.scalars(select(EditionTarget).where(EditionTarget.edition_id == edition_id)).first()


def _values(row: EditionTarget | None) -> dict:
    return {key: getattr(row, key) if row is not None else None for key in TARGET_KEYS}


def target_view(session: Session, *, edition_id: int) -> dict:
    """The edition, its targets and when they were last changed (None if never), for the targets page."""
    edition = found(session, Edition, edition_id, what="edition")
    row = _row(session, edition_id)
    return {"edition": edition, "targets": _values(row), "updated_at": row.updated_at if row else None}


def targets(session: Session, *, edition_id: int) -> dict:
    """The edition's targets, every key of TARGET_KEYS, None where not set; NotFound for an unknown edition."""
    return target_view(session, edition_id=edition_id)["targets"]


def _checked(before: dict, data: dict) -> dict:
    """The targets after the change: `data`'s keys replace those before, validated by EditionTargetBase."""
    unknown = sorted(set(data) - set(TARGET_KEYS))
    if unknown:
        raise InvalidInput("invalid", f"{unknown[0]}: not a target (one of {', '.join(TARGET_KEYS)})",
                           field=unknown[0])
    checked = validate_input(EditionTargetBase, {**before, **data})
    return {key: getattr(checked, key) for key in TARGET_KEYS}


def set_targets(session: Session, *, edition_id: int, data: dict, actor: audit.Actor) -> dict:
    """Set the targets `data` names (None clears one; the others stay) and return all of the edition's targets."""
    # locked, so that two admins setting the first targets at once do not both insert a row
    found(session, Edition, edition_id, what="edition", lock=True)
    row = _row(session, edition_id)
    before = _values(row)
    after = _checked(before, data)
    changes = {key: {"from": before[key], "to": after[key]} for key in TARGET_KEYS if before[key] != after[key]}
    if not changes:
        return after
    row = row or EditionTarget(edition_id=edition_id)
    for key, value in after.items():
        setattr(row, key, value)
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.log(session, SET, actor=actor, obj=row, data={"edition_id": edition_id, "changes": changes})
    session.flush()
    return after


def _gap(target: float | None, actual: float | None) -> dict:
    if target is None or actual is None:
        return {"target": target, "actual": actual, "gap": None, "reached": None}
    gap = actual - target
    return {"target": target, "actual": actual, "gap": round(gap, GAP_DIGITS) if isinstance(gap, float) else gap,
            "reached": actual >= target}


def gaps(targets: dict, actual: dict) -> dict:
    """For each target key: its target, the actual figure, the gap (actual − target) and whether it was reached;
    gap and reached are None where either is missing."""
    return {key: _gap(targets.get(key), actual.get(key)) for key in TARGET_KEYS}
