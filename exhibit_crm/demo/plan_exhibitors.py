"""The demo plan's exhibitors: bookings, booths, staff, accounts"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from .data import (
    BOOTH_ROWS,
    CATEGORIES,
    CATEGORY_HALL,
    CURRENT,
    HALLS,
    LEAD_QUESTIONS,
    NOW,
    PAST,
)
from .helpers import Structure, show_time, touch, weighted_sample


class Booths:
    """Hands out booth numbers hall by hall, row by row, leaving gaps as real floor plans have."""

    def __init__(self, rng: random.Random):
        self.rng, self.taken, self.next = rng, set(), dict.fromkeys(HALLS, 0)

    def take(self, hall: str, wish: str | None = None) -> str:
        if wish and wish not in self.taken:
            self.taken.add(wish)
            return wish
        while True:
            k = self.next[hall]
            self.next[hall] += 1
            number = f"{hall}-{BOOTH_ROWS[k // 20 % 24] * (k // 480 + 1)}{k % 20 + 1:02d}"
            if number not in self.taken and self.rng.random() > 0.12:
                self.taken.add(number)
                return number



class ExhibitorPlan:
    """The demo plan's exhibitors: bookings, booths, staff, accounts; a part of Planner, whose state it shares."""

    def exhibitors_past(self, n: int) -> None:
        """The 2025 exhibitors: booked, mostly paid, with their staff, accounts and lead questions."""
        rng, booths = self.rng, Booths(self.rng)
        for _ in range(n):
            company = self.people.exhibitor_company(foreign=rng.random() < 0.25)
            ex = self._exhibitor(self.past, company, self.pick["status_past"](rng), booths)
            start = PAST["opened"] + timedelta(days=rng.uniform(0, 150))
            self._history(ex, start, end=self.past.starts - timedelta(days=3))
            if ex["booth_number"]:
                arrival_day = self.past.days[0][1] - timedelta(days=rng.choice((1, 2)))
                ex["arrived_at"] = show_time(arrival_day, rng.uniform(8 * 60, 18 * 60))
                staff = self._staff(ex, [])
                self._accounts(ex, staff[:1 + (ex["booth_sqm"] >= 36) + (ex["booth_sqm"] >= 108)])

    def exhibitors_current(self, n: int) -> None:
        """The 2026 exhibitors so far: most rebooked from 2025 (many at the show itself), some new."""
        rng, booths = self.rng, Booths(self.rng)
        active = [ex for ex in self.exhibitors if ex["booth_number"]]
        rebooked = weighted_sample(rng, active, [ex["booth_sqm"] for ex in active], min(round(n * 0.7), len(active)))
        plans = [(old, self.pick["status_rebooked"](rng)) for old in rebooked]
        plans += [(None, self.pick["status_new"](rng)) for _ in range(n - len(rebooked))]
        for old, status in plans:
            on_site = False
            if old is None:
                ex = self._exhibitor(self.current, self.people.exhibitor_company(foreign=rng.random() < 0.28),
                                     status, booths)
                start = CURRENT["opened"] + timedelta(days=rng.uniform(60, 560))
            else:
                wish = old["booth_number"] if rng.random() < 0.75 else None
                ex = self._exhibitor(self.current, old["_company"], status, booths, wish=wish, sqm=old["_sqm"],
                                     categories=old["product_categories"])
                on_site = rng.random() < 0.4  # rebooked at the stand during the 2025 show
                start = (show_time(self.past.days[rng.choice((1, 2))][1], rng.uniform(600, 960)) if on_site
                         else CURRENT["opened"] + timedelta(days=rng.uniform(0, 300)))
            self._history(ex, start, end=NOW, quick=old is not None and on_site)
            if ex["booth_number"] and rng.random() < 0.6:
                people = [self.people.person(country=ex["_company"]["country"], company=ex["_company"])
                          for _ in range(1 + (ex["_sqm"] >= 54))]
                self._accounts(ex, people)
            if ex["status"] == "paid" and rng.random() < 0.4:
                self._staff(ex, old["_staff"] if old else [])

    def _exhibitor(self, edition: Structure, company: dict, status: str, booths: Booths, *, wish: str | None = None,
                   sqm: int | None = None, categories: list[str] | None = None) -> dict:
        rng = self.rng
        category = company["_category"]
        hall = CATEGORY_HALL[category]
        sqm = sqm or self.pick["booth"](rng)
        booth = booths.take(hall, wish) if status in ("paid", "contracted") else None
        if categories is None:
            others = [code for code, _, _, in_hall in CATEGORIES if in_hall == hall and code != category]
            categories = [category, *rng.sample(others, k=rng.randint(0, 2))]
        ex = {"edition_id": edition.edition_id, "_company": company, "status": status,
              "booth_hall": hall if booth else None, "booth_number": booth, "booth_sqm": float(sqm) if booth else None,
              "staff_allowance": min(30, 2 + sqm // 9), "product_categories": list(categories), "arrived_at": None,
              "created_at": None, "_sqm": sqm, "_history": [], "_users": [], "_staff": [], "_questions": [],
              "_edition": edition}
        self.exhibitors.append(ex)
        return ex

    def _history(self, ex: dict, start: datetime, *, end: datetime, quick: bool = False) -> None:
        """The dated steps prospect → contracted → paid (or → cancelled), none later than `end`."""
        rng = self.rng
        path = {"prospect": ["prospect"], "contracted": ["prospect", "contracted"],
                "paid": ["prospect", "contracted", "paid"], "cancelled": ["prospect", "contracted", "cancelled"]}
        gaps = {"contracted": (14, 60), "paid": (14, 90), "cancelled": (10, 60)}
        when = min(start, end - timedelta(days=1)).astimezone(UTC)
        for status in path[ex["status"]]:
            if status != "prospect":
                # a contract signed at the stand is signed within hours
                gap = timedelta(hours=rng.uniform(0.5, 4)) if quick and status == "contracted" \
                    else timedelta(days=rng.uniform(*gaps[status]))
                when = max(min(when + gap, end - timedelta(hours=rng.uniform(1, 24))), when + timedelta(minutes=30))
            ex["_history"].append((status, when))
        ex["created_at"] = ex["_history"][0][1]

    def _staff(self, ex: dict, known: list[dict]) -> list[dict]:
        """Exhibitor-staff badges for the booth team, people from last year first."""
        rng, company = self.rng, ex["_company"]
        count = min(ex["staff_allowance"], 1 + rng.randint(0, 1) + ex["_sqm"] // 54)
        staff = known[:count]
        staff += [self.people.person(country=company["country"], company=company) for _ in range(count - len(staff))]
        edition = ex["_edition"]
        for contact in staff:
            reg = self._registration(edition, contact, "exhibitor_staff", "invitation")
            reg["_hall"], reg["_exhibitor"] = ex["booth_hall"], ex
            not_after = NOW if edition is self.current else None
            reg["registered_at"] = self._before(edition.starts, mean_days=12, cap_days=60, not_after=not_after)
            text_version = "2024-10" if edition is self.past else "2026-06"
            self._consent(reg, reg["registered_at"], str(edition.year), text_version)
        ex["_staff"] = staff
        return staff

    def _accounts(self, ex: dict, people: list[dict]) -> None:
        """Portal accounts for some of the exhibitor's people; some define lead questions."""
        rng = self.rng
        signed = ex["_history"][1][1] if len(ex["_history"]) > 1 else ex["created_at"]
        for person in people:
            created = min(signed + timedelta(days=rng.uniform(1, 10)), NOW.astimezone(UTC))
            touch(person, created)
            user = {"_exhibitor": ex, "email": person["email"], "name": person["full_name"], "password_hash": "",
                    "language": person["language"], "is_active": True, "created_at": created, "last_login_at": None}
            ex["_users"].append(user)
            self.users.append(user)
        if rng.random() < 0.3:
            for position, (label, kind, options) in enumerate(rng.sample(LEAD_QUESTIONS, k=rng.randint(2, 3))):
                question = {"_exhibitor": ex, "label": label, "kind": kind, "options": options, "position": position}
                ex["_questions"].append(question)
                self.questions.append(question)
