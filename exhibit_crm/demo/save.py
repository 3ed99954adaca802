"""Saving the demo plan: the editions' structure first, then every planned row in bulk; what the builder returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from sqlalchemy import insert
from sqlmodel import Session

from .. import audit, auth
from ..models import (
    BadgeChange,
    BadgeType,
    Company,
    Contact,
    ContactSource,
    Edition,
    EditionDay,
    EditionTarget,
    Exhibitor,
    ExhibitorStatusChange,
    ExhibitorUser,
    Gate,
    GateDevice,
    Lead,
    LeadQuestion,
    LeadScan,
    ProductCategory,
    Registration,
    RegistrationInterest,
    RegistrationQuestion,
    Scan,
    Series,
    Zone,
    ZoneAccess,
)
from ..security import hash_password, new_token, token_hash
from .data import (
    ACCESS,
    BADGE_TYPES,
    CATEGORIES,
    CURRENT,
    EXHIBITOR_PASSWORD,
    PAST,
    QUESTIONS,
    REGISTRANT_BADGES,
    STAFF_LOGINS,
    STEPS,
    TARGETS,
    TZ,
    ZONES,
)
from .helpers import Structure
from .plan import Planner


@dataclass
class EditionSummary:
    """The ids of one demo edition, for scripts that drive the demo."""

    id: int
    year: int
    zones: list[dict]
    gates: list[dict]
    exhibitor_ids: list[int]


@dataclass
class DemoResult:
    """What the demo holds: ids, the logins with their passwords, and row counts."""

    series_id: int
    editions: list[EditionSummary]
    staff_logins: list[dict]
    exhibitor_logins: list[dict]
    counts: dict[str, int] = field(default_factory=dict)
    # gate devices of the current edition with their tokens, to open the gate page (/gate#token=…) on
    gate_devices: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "logins": {"staff": self.staff_logins, "exhibitor_users": self.exhibitor_logins},
            "gate_devices": self.gate_devices,
            "series_id": self.series_id,
            "editions": [vars(edition) for edition in self.editions],
            "counts": self.counts,
        }




class Writer:
    """Saves the show structure row by row and the planned rows in bulk."""

    def __init__(self, session: Session):
        self.session = session

    def structure(self) -> tuple[int, tuple[Structure, Structure]]:
        series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具博览会",
                        created_at=PAST["opened"])
        self.session.add(series)
        self.session.flush()
        return series.id, (self._edition(series.id, PAST), self._edition(series.id, CURRENT))

    def _edition(self, series_id: int, spec: dict) -> Structure:
        session, year = self.session, spec["year"]
        edition = Edition(series_id=series_id, name=f"Shanghai International Furniture Fair {year}", year=year,
                          venue="National Exhibition and Convention Center (Shanghai)", timezone="Asia/Shanghai",
                          visitor_badge_type="trade_visitor", created_at=spec["opened"])
        session.add(edition)
        session.flush()
        days = [EditionDay(edition_id=edition.id, day=day, opens_at=time(opens), closes_at=time(closes))
                for day, opens, closes in spec["days"]]
        zones = {code: Zone(edition_id=edition.id, name=name, name_zh=name_zh, reentry=rule, margin_minutes=margin)
                 for code, name, name_zh, rule, margin, _gates in ZONES}
        badges = {code: BadgeType(edition_id=edition.id, code=code, name=name, name_zh=name_zh, color=color,
                                  audience=audience) for code, name, name_zh, color, audience in BADGE_TYPES}
        session.add_all([*days, *zones.values(), *badges.values()])
        session.flush()
        gates = {code: [Gate(zone_id=zones[code].id, name=name) for name in names] for code, *_, names in ZONES}
        session.add_all([gate for zone_gates in gates.values() for gate in zone_gates])
        session.add_all(ZoneAccess(zone_id=zones[code].id, badge_type_id=badges[badge].id, day_id=day_id)
                        for code, rules in ACCESS.items() for badge, on_days in rules.items()
                        for day_id in ([None] if on_days is None else [days[i].id for i in on_days]))
        session.add_all(RegistrationQuestion(edition_id=edition.id, key=key, label=label, label_zh=label_zh, kind=kind,
                                             required=required, position=position, options=options)
                        for position, (key, label, label_zh, kind, required, options) in enumerate(QUESTIONS))
        session.add_all(ProductCategory(edition_id=edition.id, code=code, name=name, name_zh=name_zh)
                        for code, name, name_zh, _hall in CATEGORIES)
        session.flush()
        return Structure(
            edition_id=edition.id, year=year,
            days=[(day.id, day.day, day.opens_at.hour * 60, day.closes_at.hour * 60) for day in days],
            zones={code: zone.id for code, zone in zones.items()},
            gates={code: [gate.id for gate in zone_gates] for code, zone_gates in gates.items()},
            badges={code: badge.id for code, badge in badges.items()},
            zone_rows=[{"id": zone.id, "name": zone.name} for zone in zones.values()],
            gate_rows=[{"id": gate.id, "name": gate.name, "zone_id": gate.zone_id}
                       for zone_gates in gates.values() for gate in zone_gates])

    def _insert(self, model, rows: list[dict], refs: dict[str, str] | None = None, *, ids: bool = True) -> None:
        """Bulk-insert planned rows; `refs` maps a foreign key to the key of the planned row it points to."""
        if not rows:
            return
        refs = refs or {}
        columns = [name for name in model.__table__.columns.keys() if name != "id" and name in rows[0]]
        payload = [{**{name: row[name] for name in columns},
                    **{fk: (row[ref] or {}).get("id") for fk, ref in refs.items()}} for row in rows]
        # Core inserts on the table: the ORM's bulk path would split the rows into batches by their None columns
        table = model.__table__
        if not ids:
            self.session.execute(insert(table), payload)
            return
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        for row, new_id in zip(rows, self.session.execute(statement, payload).scalars().all(), strict=True):
            row["id"] = new_id

    def save(self, plan: Planner, series_id: int, step: Callable[[str], None]) -> DemoResult:
        people = plan.people
        self._insert(Company, people.companies)
        contacts = sorted(people.contacts, key=lambda contact: contact["created_at"])
        self._insert(Contact, contacts, {"company_id": "_company"})
        self._insert(ContactSource, [{"contact_id": contact["id"], "source": source, "first_seen_at": at}
                                     for contact in contacts for source, at in contact["_sources"].items()], ids=False)
        step(STEPS[5])
        logins = self._exhibitors(plan)  # before the registrations: staff badges point at their exhibitor
        step(STEPS[6])
        registrations = sorted(plan.registrations, key=lambda reg: (reg["edition_id"], reg["registered_at"]))
        for reg in registrations:
            reg.setdefault("_exhibitor", None)
        self._insert(Registration, registrations, {"contact_id": "_contact", "exhibitor_id": "_exhibitor"})
        self._registration_extras(registrations)
        step(STEPS[7])
        self._scans_and_leads(plan)
        step(STEPS[8])
        staff = [{"username": username, "password": password, "role": role, "login_url": "/login"}
                 for username, password, role in STAFF_LOGINS]
        for login in staff:
            auth.create_staff_user(self.session, username=login["username"], password=login["password"],
                                   role=login["role"], display_name=f"{login['role'].title()} (demo)",
                                   actor=audit.SYSTEM)
        result = DemoResult(series_id=series_id, editions=[
            EditionSummary(id=edition.edition_id, year=edition.year, zones=edition.zone_rows, gates=edition.gate_rows,
                           exhibitor_ids=[ex["id"] for ex in plan.exhibitors if ex["edition_id"] == edition.edition_id])
            for edition in (plan.past, plan.current)], staff_logins=staff, exhibitor_logins=logins,
            counts=counts(plan))
        result.gate_devices = self._current_devices(plan)
        self._targets(plan, result.counts)
        audit.log(self.session, "exhibit_crm.demo.built", actor=audit.SYSTEM, data=result.counts)
        self.session.flush()
        step(STEPS[9])
        return result

    def _targets(self, plan: Planner, counted: dict[str, int]) -> None:
        """Both editions' targets, in proportion to the 2025 show (see TARGETS), rounded as people set them."""
        visitors, exhibitors = counted["visitors_2025"], counted["exhibitors_2025"]
        for edition in (plan.past, plan.current):
            spec = TARGETS[edition.year]
            self.session.add(EditionTarget(
                edition_id=edition.edition_id, visitors=_round(spec["visitors"] * visitors),
                trade_visitors=_round(spec["trade_visitors"] * visitors),
                exhibitors=_round(spec["exhibitors"] * exhibitors),
                net_sqm=float(_round(spec["net_sqm"] * exhibitors)), rebooking_rate=spec["rebooking_rate"]))

    def _current_devices(self, plan: Planner) -> list[dict]:
        """One scanner at the first gate of each zone of the current edition; the tokens are printed once."""
        devices, seen = [], set()
        for gate in plan.current.gate_rows:
            if gate["zone_id"] in seen:
                continue
            seen.add(gate["zone_id"])
            token, device = auth.create_device(self.session, gate_id=gate["id"], actor=audit.SYSTEM,
                                               name=f"Demo scanner {gate['name'].removeprefix('Gate ')}")
            devices.append({"device_id": device.id, "gate": gate["name"], "token": token,
                            "edition_id": plan.current.edition_id})
        return devices

    def _registration_extras(self, registrations: list[dict]) -> None:
        """Interests for matchmaking, and the badge changes gate devices fetch (each reprint and cancel)."""
        self._insert(RegistrationInterest, [
            {"registration_id": reg["id"], "edition_id": reg["edition_id"], "category": code}
            for reg in registrations for code in reg["answers"].get("interests") or ()], ids=False)
        self._insert(BadgeChange, [
            {"edition_id": reg["edition_id"], "registration_id": reg["id"], "badge_version": version,
             "status": reg["status"] if version == reg["badge_version"] else "registered",
             "changed_at": reg["cancelled_at"] if version == reg["badge_version"] and reg["cancelled_at"]
             else reg["registered_at"]}
            for reg in registrations for version in range(2, reg["badge_version"] + 1)], ids=False)

    def _exhibitors(self, plan: Planner) -> list[dict]:
        """Saves exhibitors, their history, accounts and questions; gives a few accounts the demo password."""
        self._insert(Exhibitor, plan.exhibitors, {"company_id": "_company"})
        self._insert(ExhibitorStatusChange, [{"exhibitor_id": ex["id"], "status": status, "changed_at": at}
                                             for ex in plan.exhibitors for status, at in ex["_history"]], ids=False)
        chosen = demo_accounts(plan)
        password_hash = hash_password(EXHIBITOR_PASSWORD)  # once: argon2 is slow on purpose
        for user in chosen:
            user["password_hash"] = password_hash
        self._insert(ExhibitorUser, plan.users, {"exhibitor_id": "_exhibitor"})
        self._insert(LeadQuestion, plan.questions, {"exhibitor_id": "_exhibitor"})
        return [{"email": user["email"], "password": EXHIBITOR_PASSWORD, "exhibitor_id": user["_exhibitor"]["id"],
                 "company": user["_exhibitor"]["_company"]["name"], "edition_year": user["_exhibitor"]["_edition"].year,
                 "login_url": "/exhibitor/login"} for user in chosen]

    def _scans_and_leads(self, plan: Planner) -> None:
        last_seen: dict[int, datetime] = {}
        for scan in plan.scans:
            last_seen[scan["gate_id"]] = max(last_seen.get(scan["gate_id"], scan["received_at"]), scan["received_at"])
        installed = datetime(2025, 3, 15, 14, tzinfo=TZ).astimezone(UTC)
        devices = [{"gate_id": gate["id"], "name": f"Scanner {gate['name'].removeprefix('Gate ')}",
                    "token_hash": token_hash(new_token("ecd")), "created_at": installed,
                    "last_seen_at": last_seen.get(gate["id"])} for gate in plan.past.gate_rows]
        self._insert(GateDevice, devices)
        device_of = {device["gate_id"]: device["id"] for device in devices}
        for scan in plan.scans:
            scan["device_id"] = device_of[scan["gate_id"]]
        self._insert(Scan, plan.scans, {"registration_id": "_reg"}, ids=False)
        for lead in plan.leads:
            lead["answers"] = {str(question["id"]): value for question, value in lead["_answers"]}
        self._insert(Lead, plan.leads, {"exhibitor_id": "_exhibitor", "registration_id": "_reg",
                                        "scanned_by_id": "_user"})
        self._insert(LeadScan, plan.lead_scans, {"exhibitor_id": "_exhibitor", "lead_id": "_lead",
                                                 "exhibitor_user_id": "_user"}, ids=False)



def _round(value: float) -> int:
    """A target as people set one: two significant digits (3 742 -> 3 700)."""
    return int(round(value, 2 - len(str(int(value))))) if value >= 1 else 0


def demo_accounts(plan: Planner) -> list[dict]:
    """The exhibitor accounts whose password the demo prints: the busiest 2025 stands, rebooked 2026 ones."""
    past = sorted((ex for ex in plan.exhibitors if ex["edition_id"] == plan.past.edition_id and ex["_users"]),
                  key=lambda ex: -ex.get("_lead_count", 0))
    exhibited = {id(ex["_company"]) for ex in past}
    current = sorted((ex for ex in plan.exhibitors if ex["edition_id"] == plan.current.edition_id and ex["_users"]
                      and ex["status"] == "paid"), key=lambda ex: id(ex["_company"]) not in exhibited)
    picked: list[dict] = []
    for pool, wanted in ((past, 3), (current, 2)):
        chinese = [ex for ex in pool if ex["_company"]["country"] == "CN"]
        foreign = [ex for ex in pool if ex["_company"]["country"] != "CN"]
        mix = chinese[:1] + foreign[:1] + [ex for ex in pool if ex not in chinese[:1] + foreign[:1]]
        picked += mix[:wanted]
    return [ex["_users"][0] for ex in picked]


def counts(plan: Planner) -> dict[str, int]:
    def of(rows: list[dict], edition: Structure, **match) -> int:
        return sum(1 for row in rows if row["edition_id"] == edition.edition_id
                   and all(row[key] in values for key, values in match.items()))

    came_before = {id(reg["_contact"]) for reg in plan.registrations if reg["edition_id"] == plan.past.edition_id}
    return {
        "contacts": len(plan.people.contacts), "companies": len(plan.people.companies),
        "visitors_2025": of(plan.registrations, plan.past, badge=REGISTRANT_BADGES),
        "exhibitors_2025": of(plan.exhibitors, plan.past),
        "scans_2025": len(plan.scans), "leads_2025": len(plan.leads),
        "registrations_2026": of(plan.registrations, plan.current, badge=REGISTRANT_BADGES),
        "returning_2026": sum(1 for reg in plan.registrations if reg["edition_id"] == plan.current.edition_id
                              and reg["badge"] in REGISTRANT_BADGES and id(reg["_contact"]) in came_before),
        "exhibitors_2026": of(plan.exhibitors, plan.current),
    }
