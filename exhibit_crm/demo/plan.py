"""The demo plan: every row of the demo, decided in memory before anything is written."""

from __future__ import annotations

import random

from .data import (
    BADGE_MIX,
    BADGE_MIX_CURRENT,
    BOOTH_SIZES,
    DAYS_ATTENDED,
    HALLS,
    LEAD_RATINGS,
    ROLES,
    SOURCE_MIX,
    SOURCE_MIX_CURRENT,
)
from .helpers import Structure, Weighted
from .people import People
from .plan_exhibitors import ExhibitorPlan
from .plan_show import ShowPlan
from .plan_visitors import VisitorPlan


class Planner(VisitorPlan, ExhibitorPlan, ShowPlan):
    """Plans the demo's rows deterministically from one random generator; Writer saves them."""

    def __init__(self, rng: random.Random, structures: tuple[Structure, Structure]):
        self.rng = rng
        self.people = People(rng)
        self.past, self.current = structures
        self.registrations: list[dict] = []
        self.exhibitors: list[dict] = []
        self.users: list[dict] = []
        self.questions: list[dict] = []
        self.scans: list[dict] = []
        self.leads: list[dict] = []
        self.lead_scans: list[dict] = []
        self.stints: dict[str, list[tuple]] = {hall: [] for hall in HALLS}
        self.pick = {name: Weighted(pairs) for name, pairs in (
            ("badge", BADGE_MIX), ("badge_current", BADGE_MIX_CURRENT), ("role", ROLES), ("days", DAYS_ATTENDED),
            ("booth", BOOTH_SIZES), ("rating", LEAD_RATINGS), ("moves", ((0, 40), (1, 40), (2, 20))),
            ("hall", (("N1", 45), ("N2", 35), ("E1", 20))),
            ("status_past", (("paid", 93), ("contracted", 2), ("cancelled", 5))),
            ("status_rebooked", (("paid", 72), ("contracted", 22), ("prospect", 3), ("cancelled", 3))),
            ("status_new", (("paid", 35), ("contracted", 30), ("prospect", 30), ("cancelled", 5))))}
        self.sources = {badge: Weighted(pairs) for badge, pairs in SOURCE_MIX.items()}
        self.sources_current = {badge: Weighted(pairs) for badge, pairs in SOURCE_MIX_CURRENT.items()}
