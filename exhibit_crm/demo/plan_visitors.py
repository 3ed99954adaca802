"""The demo plan's visitors: registrations, consents, who came when"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .data import (
    ATTENDANCE,
    CATEGORIES,
    COMMENTS,
    CONSENT_SOURCE,
    DAY_WEIGHTS,
    IMPORT_FILES,
    IMPORT_FILES_CURRENT,
    NOW,
    PAST,
    PUBLIC_INTERESTS,
    REGISTRANT_BADGES,
    THIRD_PARTY,
)
from .helpers import Structure, show_time, touch, weighted_sample


class VisitorPlan:
    """The demo plan's visitors: registrations, consents, who came when; a part of Planner, whose state it shares."""

    def visitors_past(self, n: int) -> None:
        """The 2025 visitors: registered before the show or at the desk, and when each came."""
        rng = self.rng
        for _ in range(n):
            badge = self.pick["badge"](rng)
            source = self.sources[badge](rng)
            contact = self._visitor_contact(badge, with_email=not (source == "walk_in" and rng.random() < 0.04))
            reg = self._registration(self.past, contact, badge, source)
            self._attendance(reg)
            self._registered_past(reg)

    def visitors_current(self, n: int) -> None:
        """The 2026 pre-registrations so far: many people the CRM knows from 2025, and new ones."""
        rng = self.rng
        known = [reg for reg in self.registrations if reg["edition_id"] == self.past.edition_id
                 and reg["badge"] in REGISTRANT_BADGES and reg["status"] == "registered"]
        returning = weighted_sample(rng, known, [3.0 if reg["_visits"] else 1.0 for reg in known],
                                     min(round(n * 0.55), len(known)))
        for old in returning:
            badge = "vip_buyer" if old["badge"] == "trade_visitor" and rng.random() < 0.04 else old["badge"]
            reg = self._registration(self.current, old["_contact"], badge, self.sources_current[badge](rng),
                                     interests=self._drift(old["answers"]["interests"]))
            self._registered_current(reg)
        for _ in range(n - len(returning)):
            badge = self.pick["badge_current"](rng)
            reg = self._registration(self.current, self._visitor_contact(badge), badge,
                                     self.sources_current[badge](rng))
            self._registered_current(reg)

    def _visitor_contact(self, badge: str, *, with_email: bool = True) -> dict:
        share = {"trade_visitor": 0.18, "vip_buyer": 0.25, "public_visitor": 0.03, "press": 0.2}[badge]
        country = self.people.foreign_country() if self.rng.random() < share else "CN"
        if badge == "public_visitor":
            company = None
        elif badge == "press":
            company = self.rng.choice(self.people.press)
        else:
            company = self.people.visitor_company(country)
        return self.people.person(country=country, company=company, with_email=with_email)

    def _registration(self, edition: Structure, contact: dict, badge: str, source: str, *,
                      interests: list[str] | None = None) -> dict:
        reg = {"edition_id": edition.edition_id, "badge_type_id": edition.badges[badge], "_contact": contact,
               "badge": badge, "source": source, "status": "registered", "badge_version": 1,
               "answers": self._answers(badge, contact["_company"], interests), "registered_at": None,
               "cancelled_at": None, "collected_at": None, "_visits": []}
        self.registrations.append(reg)
        return reg

    def _answers(self, badge: str, company: dict | None, interests: list[str] | None) -> dict:
        rng = self.rng
        if badge == "exhibitor_staff":
            return {}
        if interests is None:
            pool = PUBLIC_INTERESTS if badge == "public_visitor" else [code for code, *_ in CATEGORIES]
            interests = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2, 2, 2, 3, 3, 4))))
        answers = {"interests": [code for code, *_ in CATEGORIES if code in interests]}
        if badge != "public_visitor":
            answers["business_type"] = (company or {}).get("_business") or self.people.business(rng)
            answers["purchasing_role"] = self.pick["role"](rng)
            answers["company_size"] = (company or {}).get("_size") or self.people.sizes(rng)
        if rng.random() < 0.06:
            answers["comments"] = rng.choice(COMMENTS)
        return answers

    def _drift(self, interests: list[str]) -> list[str]:
        """Last year's interests, a little changed."""
        kept = [code for code in interests if self.rng.random() < 0.8]
        if not kept or self.rng.random() < 0.3:
            kept.append(self.rng.choice(CATEGORIES)[0])
        return kept

    def _attendance(self, reg: dict) -> None:
        """Whether and on which days a 2025 registrant came, and when they arrived and left."""
        rng = self.rng
        if rng.random() >= ATTENDANCE[reg["source"]] * (1.1 if reg["badge"] in ("vip_buyer", "press") else 1):
            if reg["badge"] == "public_visitor" and rng.random() < 0.1:
                reg["_wrong_day"] = rng.choice((0, 1))  # came on a trade day and was turned away
            return
        if reg["badge"] == "public_visitor":
            days = [2]
        else:
            days = weighted_sample(rng, [0, 1, 2], list(DAY_WEIGHTS), self.pick["days"](rng))
        for day in days:
            _id, _date, opens, closes = self.past.days[day]
            arrive = self._arrival(opens, closes)
            leave = min(arrive + max(35.0, rng.gauss(200, 75)), closes + rng.uniform(0, 10))
            reg["_visits"].append({"day": day, "arrive": arrive, "leave": leave})
        if rng.random() < 0.012:
            reg["badge_version"] = 2  # a reprinted badge: the first one no longer opens the gates

    def _arrival(self, opens: int, closes: int) -> float:
        """Arrival minute: a morning peak, fewer around noon, a second smaller peak after lunch."""
        rng, roll = self.rng, self.rng.random()
        if roll < 0.62:
            minute = rng.gauss(opens + 55, 38)
        elif roll < 0.75:
            minute = rng.uniform(opens + 120, opens + 240)
        elif roll < 0.95:
            minute = rng.gauss(opens + 285, 30)
        else:
            minute = rng.uniform(opens + 330, closes - 60)
        if minute < opens:
            minute = opens + rng.uniform(0, 12)  # the queue at the doors goes in when they open
        return min(minute, closes - 45)

    def _registered_past(self, reg: dict) -> None:
        rng, visits = self.rng, reg["_visits"]
        if reg["source"] == "walk_in":
            first = visits[0]
            when = show_time(self.past.days[first["day"]][1], first["arrive"] - rng.uniform(4, 20))
            reg["collected_at"] = when + timedelta(minutes=rng.uniform(1, 3))
        elif reg["source"] == "import":
            when = self._imported(IMPORT_FILES, reg)
        else:
            when = self._before(self.past.starts, mean_days=28, cap_days=130)
        reg["registered_at"] = when
        if visits and reg["source"] != "walk_in" and rng.random() < 0.45:
            first = visits[0]
            reg["collected_at"] = show_time(self.past.days[first["day"]][1], first["arrive"] - rng.uniform(2, 10))
        if not visits and reg["source"] != "walk_in" and "_wrong_day" not in reg and rng.random() < 0.03:
            self._cancel(reg, until=self.past.starts)
        self._consent(reg, when, "2025", "2024-10")

    def _registered_current(self, reg: dict) -> None:
        if reg["source"] == "import":
            when = self._imported(IMPORT_FILES_CURRENT, reg)
        else:
            when = self._before(NOW + timedelta(days=1), mean_days=30, cap_days=110, not_after=NOW)
        reg["registered_at"] = when
        if self.rng.random() < 0.015:
            self._cancel(reg, until=NOW)
        self._consent(reg, when, "2026", "2026-06")

    def _imported(self, files: tuple, reg: dict) -> datetime:
        name, at = self.rng.choice(files)
        reg["_file"] = name
        return (at + timedelta(seconds=self.rng.uniform(0, 90))).astimezone(UTC)

    def _before(self, start: datetime, *, mean_days: float, cap_days: float,
                not_after: datetime | None = None) -> datetime:
        """A moment at waking hours some days before `start`, more often close to it."""
        rng = self.rng
        days = 1 + min(cap_days, rng.expovariate(1 / mean_days))
        moment = (start - timedelta(days=days)).replace(hour=rng.randint(7, 23), minute=rng.randint(0, 59),
                                                         second=rng.randint(0, 59))
        if not_after is not None and moment > not_after:
            moment = not_after - timedelta(minutes=rng.uniform(5, 900))
        return moment.astimezone(UTC)

    def _cancel(self, reg: dict, *, until: datetime) -> None:
        reg["status"], reg["badge_version"] = "cancelled", reg["badge_version"] + 1
        reg["cancelled_at"] = reg["registered_at"] + (until - reg["registered_at"]) * self.rng.uniform(0.2, 0.9)

    def _consent(self, reg: dict, when: datetime, year: str, text_version: str) -> None:
        """The consents ticked with this registration, and the channel the contact came through."""
        rng, contact, source = self.rng, reg["_contact"], reg["source"]
        if source in ("import", "third_party"):
            label = f"import:{reg['_file']}" if source == "import" else f"third_party:{THIRD_PARTY}"
            consent_source = label
        else:
            label, consent_source = f"{source}:{year}", CONSENT_SOURCE[source]
        contact["_sources"].setdefault(label, when)
        p_marketing, p_share = {"online": (0.72, 0.6), "import": (0.85, 0.3), "walk_in": (0.5, 0.7),
                                "invitation": (0.8, 0.75), "third_party": (0.6, 0.4)}[source]
        if contact["unsubscribed_at"] is None and rng.random() < p_marketing:
            contact.update(consent_marketing=True, consent_marketing_at=when, consent_marketing_source=consent_source,
                           consent_text_version=text_version)
        if rng.random() < p_share:
            contact.update(consent_share=True, consent_share_at=when, consent_share_source=consent_source,
                           consent_text_version=text_version)
        touch(contact, when)

    def finish_people(self) -> None:
        """Some contacts unsubscribed since; companies date from their first contact or booking."""
        rng = self.rng
        for contact in self.people.contacts:
            if contact["consent_marketing"] and rng.random() < 0.02:
                gone = contact["consent_marketing_at"] + timedelta(days=rng.uniform(20, 400))
                if gone < NOW:
                    contact.update(consent_marketing=False, unsubscribed_at=gone)
                    touch(contact, gone)
            if contact["_company"] is not None:
                touch(contact["_company"], contact["created_at"])
        for ex in self.exhibitors:
            touch(ex["_company"], ex["created_at"])
        for company in self.people.companies:
            if company["created_at"] is None:  # known from the start, though nobody came from it
                company["created_at"] = PAST["opened"].astimezone(UTC)
