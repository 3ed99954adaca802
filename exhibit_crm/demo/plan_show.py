"""The demo plan's 2025 show: gate scans and booth leads"""

from __future__ import annotations

import uuid
from datetime import timedelta

from .data import (
    CATEGORY_HALL,
    HALLS,
    LEAD_NOTES,
)
from .helpers import show_time


class ShowPlan:
    """The demo plan's 2025 show: gate scans and booth leads; a part of Planner, whose state it shares."""

    def scans_past(self) -> None:
        """Every gate scan of the 2025 show: entries, moves between halls, exits, and the rejected ones."""
        visits_per_day = [0, 0, 0]
        for reg in self.registrations:
            if reg["edition_id"] != self.past.edition_id:
                continue
            if reg["badge"] == "exhibitor_staff":
                self._staff_scans(reg)
            for number, visit in enumerate(reg["_visits"]):
                self._visit_scans(reg, visit, first=number == 0)
                visits_per_day[visit["day"]] += 1
            if "_wrong_day" in reg:
                _id, _date, opens, closes = self.past.days[reg["_wrong_day"]]
                self._scan(reg, self.pick["hall"](self.rng), reg["_wrong_day"], self._arrival(opens, closes),
                           verdict="rejected", reason="zone_denied")
        for day, visits in enumerate(visits_per_day):
            _id, _date, opens, closes = self.past.days[day]
            for _ in range(max(1, visits // 300)):  # a damaged print, a photo of someone else's screen
                self._scan(None, self.rng.choice(HALLS), day, self.rng.uniform(opens, closes), verdict="rejected",
                           reason="invalid_code")
        self.scans.sort(key=lambda scan: scan["scanned_at"])

    def _scan(self, reg: dict | None, zone: str, day: int, minute: float, direction: str = "in", *,
              verdict: str = "accepted", reason: str | None = None, version: int | None = None) -> dict:
        rng = self.rng
        at = show_time(self.past.days[day][1], minute)
        offline = rng.random() < 0.02  # the hall's network dropped; the device uploaded later
        delay = timedelta(minutes=rng.uniform(5, 40)) if offline else timedelta(seconds=rng.uniform(0.15, 1.2))
        scan = {"scan_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "_reg": reg,
                "gate_id": rng.choice(self.past.gates[zone]), "zone_id": self.past.zones[zone],
                "badge_version": version or (reg["badge_version"] if reg else None), "direction": direction,
                "scanned_at": at, "received_at": at + delay, "verdict": verdict, "reason": reason,
                "device_verdict": verdict if offline else None, "device_reason": reason if offline else None,
                "offline": offline, "left_at": None}
        self.scans.append(scan)
        return scan

    def _staff_scans(self, reg: dict) -> None:
        rng = self.rng
        for day, (_id, _date, opens, closes) in enumerate(self.past.days):
            if rng.random() < 0.06:
                continue
            entry = self._scan(reg, reg["_hall"], day, opens - rng.uniform(2, 28))
            if rng.random() < 0.25:
                entry["left_at"] = self._scan(reg, reg["_hall"], day, closes + rng.uniform(0, 25), "out")["scanned_at"]

    def _first_hall(self, reg: dict) -> str:
        interests = reg["answers"].get("interests") or []
        if interests and self.rng.random() < 0.6:
            return CATEGORY_HALL[self.rng.choice(interests)]
        return self.pick["hall"](self.rng)

    def _visit_scans(self, reg: dict, visit: dict, *, first: bool) -> None:
        rng, day = self.rng, visit["day"]
        _id, _date, opens, closes = self.past.days[day]
        hall = self._first_hall(reg)
        if first and reg["badge_version"] > 1 and rng.random() < 0.5:
            self._scan(reg, hall, day, visit["arrive"] - rng.uniform(1, 3), verdict="rejected",
                       reason="outdated_badge", version=1)
        if visit["arrive"] < opens + 20 and rng.random() < 0.02:
            self._scan(reg, hall, day, opens - rng.uniform(31, 55), verdict="rejected", reason="closed")
        events, leave = self._moves(reg, hall, visit["arrive"], visit["leave"], closes)
        for (minute, zone, direction), following in zip(events, [*events[1:], None], strict=True):
            scan = self._scan(reg, zone, day, minute, direction)
            if direction != "in":
                continue
            end = following[0] if following else leave
            if following:
                scan["left_at"] = show_time(self.past.days[day][1], end)
            if zone in HALLS:
                self.stints[zone].append((reg, day, minute, end))
            if zone == "VIP" and rng.random() < 0.05:  # scanned twice at the lounge door
                self._scan(reg, zone, day, minute + rng.uniform(0.1, 0.5), verdict="rejected", reason="already_inside")
        if reg["badge"] == "trade_visitor" and rng.random() < 0.01:
            self._scan(reg, "VIP", day, rng.uniform(visit["arrive"], leave), verdict="rejected", reason="zone_denied")

    def _moves(self, reg: dict, hall: str, arrive: float, leave: float, closes: int) -> tuple[list[tuple], float]:
        """A visitor's day as gate events (minute, zone, direction), and when they left."""
        rng, badge = self.rng, reg["badge"]
        destinations = rng.sample([other for other in HALLS if other != hall], k=self.pick["moves"](rng))
        if badge != "public_visitor" and rng.random() < 0.15:
            destinations.append("CONF")
        if (badge == "vip_buyer" and rng.random() < 0.6) or (badge == "press" and rng.random() < 0.1):
            destinations.append("VIP")
        rng.shuffle(destinations)
        times = sorted(rng.uniform(arrive + 15, max(arrive + 16, leave - 10)) for _ in destinations)
        events, current, cursor = [(arrive, hall, "in")], hall, arrive
        for zone, minute in zip(destinations, times, strict=True):
            minute = max(minute, cursor + rng.uniform(3, 12))
            if zone == current or minute > leave - 5 or (zone not in HALLS and minute + 75 > closes):
                continue
            events.append((minute, zone, "in"))
            current, cursor = zone, minute
            if zone in HALLS:
                continue
            out = minute + rng.uniform(20, 60)
            if zone == "VIP" or rng.random() < 0.6:  # the lounge sees every exit, the conference room only some
                events.append((out, zone, "out"))
            current, cursor = rng.choice(HALLS), out + rng.uniform(2, 8)
            events.append((cursor, current, "in"))
            leave = max(leave, cursor + 5)
        if rng.random() < 0.35:  # halls have exit scanners at some doors only
            events.append((max(leave, cursor + 2), current, "out"))
        return events, leave

    def leads_past(self) -> None:
        """Each 2025 exhibitor's leads: visitors scanned at its booth while they were in its hall."""
        for ex in self.exhibitors:
            if ex["edition_id"] == self.past.edition_id and ex["booth_number"]:
                self._leads(ex)

    def _leads(self, ex: dict) -> None:
        rng, stints = self.rng, self.stints[ex["booth_hall"]]
        if not stints or rng.random() < 0.08:  # some exhibitors never use the lead app
            ex["_lead_count"] = 0
            return
        target = min(150, int((12 + ex["_sqm"] * 0.6) * rng.lognormvariate(0, 0.5)))
        sells = set(ex["product_categories"])
        chosen: dict[int, tuple] = {}
        for _ in range(target * 20):
            if len(chosen) >= target:
                break
            reg, day, start, end = rng.choice(stints)
            matches = sells & set(reg["answers"].get("interests", ()))
            chance = 0.9 if matches else (0.08 if reg["badge"] == "public_visitor" else 0.35)
            if id(reg) not in chosen and rng.random() < chance:
                chosen[id(reg)] = (reg, day, start, end)
        ex["_lead_count"] = len(chosen)
        for reg, day, start, end in chosen.values():
            self._lead(ex, reg, day, start, end)
        if chosen and rng.random() < 0.3:  # a badge the phone could not read
            self._lead_scan(ex, None, day, rng.uniform(start, end), verdict="rejected", reason="invalid_code")

    def _lead(self, ex: dict, reg: dict, day: int, start: float, end: float) -> None:
        rng = self.rng
        user = rng.choice(ex["_users"]) if ex["_users"] else None
        minute = rng.uniform(start + 1, max(start + 2, end - 1))
        lead = {"_exhibitor": ex, "_reg": reg, "_user": user, "rating": self.pick["rating"](rng),
                "notes": rng.choice(LEAD_NOTES) if rng.random() < 0.5 else "",
                "_answers": [(question, rng.random() < 0.5 if question["kind"] == "checkbox"
                              else rng.choice(question["options"])) for question in ex["_questions"]
                             if rng.random() < 0.8]}
        self.leads.append(lead)
        first = self._lead_scan(ex, lead, day, minute, user=user)
        lead["created_at"] = lead["updated_at"] = first["device_time"]
        if end - minute > 30 and rng.random() < 0.12:  # came back to the stand: the same lead, updated
            again = self._lead_scan(ex, lead, day, rng.uniform(minute + 20, end), user=user)
            lead["updated_at"] = again["device_time"]

    def _lead_scan(self, ex: dict, lead: dict | None, day: int, minute: float, *, user: dict | None = None,
                   verdict: str = "accepted", reason: str | None = None) -> dict:
        at = show_time(self.past.days[day][1], minute)
        scan = {"_exhibitor": ex, "_lead": lead, "_user": user,
                "scan_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "verdict": verdict,
                "reason": reason, "device_time": at, "received_at": at + timedelta(seconds=self.rng.uniform(0.2, 3))}
        self.lead_scans.append(scan)
        return scan
