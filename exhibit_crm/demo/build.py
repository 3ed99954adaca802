"""The demo: a realistic, deterministic data set — one series, its past edition with the show and its current one."""

from __future__ import annotations

import random
from collections.abc import Callable

from sqlalchemy import func, select
from sqlmodel import Session

from ..errors import DomainError, InvalidInput
from ..models import (
    Contact,
    Series,
    StaffUser,
)
from .data import (
    MAX_EXHIBITORS,
    MAX_VISITORS,
    STEPS,
)
from .plan import Planner
from .save import DemoResult, Writer


def build_demo(session: Session, *, seed: int = 2026, visitors: int = 5000, exhibitors: int = 200,
               progress: Callable[[str], None] | None = None) -> DemoResult:
    """Fill an empty database with the demo show; the same seed always gives the same data."""
    if not 1 <= visitors <= MAX_VISITORS:
        raise InvalidInput("out_of_range", f"visitors: between 1 and {MAX_VISITORS}", field="visitors")
    if not 1 <= exhibitors <= MAX_EXHIBITORS:
        raise InvalidInput("out_of_range", f"exhibitors: between 1 and {MAX_EXHIBITORS}", field="exhibitors")
    _refuse_if_not_empty(session)
    step = progress or (lambda _name: None)
    writer = Writer(session)
    series_id, structures = writer.structure()
    step(STEPS[0])
    plan = Planner(random.Random(seed), structures)
    plan.visitors_past(visitors)
    step(STEPS[1])
    plan.exhibitors_past(exhibitors)
    plan.exhibitors_current(round(exhibitors * 0.75))
    plan.visitors_current(round(visitors * 0.24))
    plan.finish_people()
    step(STEPS[2])
    plan.scans_past()
    step(STEPS[3])
    plan.leads_past()
    step(STEPS[4])
    return writer.save(plan, series_id, step)


def _refuse_if_not_empty(session: Session) -> None:
    held = {name: session.scalar(select(func.count()).select_from(model))
            for name, model in (("series", Series), ("contacts", Contact), ("staff users", StaffUser))}
    if any(held.values()):
        url = session.get_bind().url.render_as_string(hide_password=True)
        what = ", ".join(f"{count} {name}" for name, count in held.items() if count)
        raise DomainError("not_empty", f"DATABASE_URL {url} already holds data ({what}); the demo builds only into "
                          "an empty database: set DATABASE_URL to a new file, e.g. sqlite:///demo.db", status=409)
