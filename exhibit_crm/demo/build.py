"""The demo: a realistic, deterministic data set — one series, its past edition with the show and its current one."""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import phonenumbers
from sqlalchemy import func, insert, select
from sqlmodel import Session

from .. import audit, auth
from ..errors import DomainError, InvalidInput
from ..models import (
    BadgeChange,
    BadgeType,
    Company,
    Contact,
    ContactSource,
    Edition,
    EditionDay,
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
    StaffUser,
    Zone,
    ZoneAccess,
)
from ..security import hash_password, new_token, token_hash
from .data import (
    ACCESS,
    ATTENDANCE,
    BADGE_MIX,
    BADGE_MIX_CURRENT,
    BADGE_TYPES,
    BOOTH_ROWS,
    BOOTH_SIZES,
    BUSINESS,
    CATEGORIES,
    CATEGORY_HALL,
    CN_MOBILE,
    COMMENTS,
    CONSENT_SOURCE,
    CORES,
    COUNTRIES,
    CURRENT,
    DAY_WEIGHTS,
    DAYS_ATTENDED,
    EN_STEMS,
    EN_VISITOR_KINDS,
    EXHIBITOR_KINDS_EN,
    EXHIBITOR_KINDS_ZH,
    EXHIBITOR_PASSWORD,
    FREE_MAIL_EN,
    FREE_MAIL_ZH,
    GIVEN,
    HALLS,
    IMPORT_FILES,
    IMPORT_FILES_CURRENT,
    LEAD_NOTES,
    LEAD_QUESTIONS,
    LEAD_RATINGS,
    MAX_EXHIBITORS,
    MAX_VISITORS,
    NOW,
    PAST,
    PRESS,
    PROVINCES,
    PUBLIC_INTERESTS,
    QUESTIONS,
    RARE,
    ROLES,
    SIZES,
    SOURCE_MIX,
    SOURCE_MIX_CURRENT,
    STAFF_LOGINS,
    STEPS,
    SURNAMES,
    THIRD_PARTY,
    TITLES_EN,
    TITLES_ZH,
    TZ,
    VISITOR_BADGES,
    VISITOR_KINDS,
    ZONES,
)


# --- what the builder returns ----------------------------------------------------------------------------------
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


def build_demo(session: Session, *, seed: int = 2026, visitors: int = 5000, exhibitors: int = 200,
               progress: Callable[[str], None] | None = None) -> DemoResult:
    """Fill an empty database with the demo show; the same seed always gives the same data."""
    if not 1 <= visitors <= MAX_VISITORS:
        raise InvalidInput("out_of_range", f"visitors: between 1 and {MAX_VISITORS}", field="visitors")
    if not 1 <= exhibitors <= MAX_EXHIBITORS:
        raise InvalidInput("out_of_range", f"exhibitors: between 1 and {MAX_EXHIBITORS}", field="exhibitors")
    _refuse_if_not_empty(session)
    step = progress or (lambda _name: None)
    writer = _Writer(session)
    series_id, structures = writer.structure()
    step(STEPS[0])
    plan = _Planner(random.Random(seed), structures)
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


# --- small helpers ---------------------------------------------------------------------------------------------
class _Weighted:
    """Picks values by weight with a given random generator."""

    def __init__(self, pairs):
        self.values = [value for value, _ in pairs]
        self.cum, total = [], 0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)

    def __call__(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cum)[0]


def _pairs(text: str) -> list[tuple[str, str]]:
    """'王wang 李li' -> [('王', 'wang'), ('李', 'li')]."""
    pairs = []
    for token in text.split():
        cut = next(i for i, char in enumerate(token) if char.isascii())
        pairs.append((token[:cut], token[cut:]))
    return pairs


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in plain if char.isalnum() or char == ".")


def _at(day: date, minutes: float) -> datetime:
    """A moment on a show day, given in minutes after local midnight, as UTC."""
    return (datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=minutes)).astimezone(UTC)


def _touch(row: dict, when: datetime) -> None:
    """Keep a row's created_at at its first and updated_at at its latest event."""
    if row.get("created_at") is None or when < row["created_at"]:
        row["created_at"] = when
    if "updated_at" in row and (row["updated_at"] is None or when > row["updated_at"]):
        row["updated_at"] = when


def _weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, likelier by weight (Efraimidis–Spirakis), in their original order."""
    keys = sorted(range(len(items)), key=lambda i: rng.random() ** (1 / weights[i]), reverse=True)[:k]
    return [items[i] for i in sorted(keys)]


# --- people and companies ----------------------------------------------------------------------------------------
class _People:
    """Invents contacts and companies: names, e-mails and phones that are plausible and unique."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.surnames = _Weighted([(pair, 1 / (rank + 4)) for rank, pair in enumerate(_pairs(SURNAMES))])
        self.given, self.rare, self.cores = _pairs(GIVEN), _pairs(RARE), _pairs(CORES)
        self.provinces = _Weighted([(p, p[1]) for p in PROVINCES])
        self.exhibitor_provinces = _Weighted([(p, p[2]) for p in PROVINCES])
        self.countries = _Weighted([(c, c[1]) for c in COUNTRIES])
        self.exhibitor_countries = _Weighted([(c, c[2]) for c in COUNTRIES])
        self.country = {c[0]: c for c in COUNTRIES}
        self.titles_zh, self.titles_en = _Weighted(TITLES_ZH), _Weighted(TITLES_EN)
        self.free_zh, self.free_en = _Weighted(FREE_MAIL_ZH), _Weighted(FREE_MAIL_EN)
        self.business, self.sizes = _Weighted(BUSINESS), _Weighted(SIZES)
        self.suffixes = _Weighted((("有限公司", 7), ("股份有限公司", 2), ("集团有限公司", 1)))
        self.emails: set[str] = set()
        self.phones: set[str] = set()
        self.company_names: set[str] = set()
        self.companies: list[dict] = []
        self.contacts: list[dict] = []
        self.visitor_companies: dict[str, list[dict]] = {}
        self.press = [self._company(name, country, domain=f"{_ascii(name) or 'media'}.com") for name, country in PRESS]

    def foreign_country(self, *, exhibitor: bool = False) -> str:
        return (self.exhibitor_countries if exhibitor else self.countries)(self.rng)[0]

    def person(self, *, country: str, company: dict | None, with_email: bool = True) -> dict:
        """A new contact; Chinese names for China, the country's names elsewhere."""
        rng = self.rng
        if country == "CN":
            first, last, locals_ = self._chinese_name()
            titles, language = self.titles_zh, "zh-CN"
        else:
            first, last = rng.choice(self.country[country][6].split()), rng.choice(self.country[country][7].split())
            locals_ = (f"{_ascii(first)}.{_ascii(last)}", f"{_ascii(first)[0]}{_ascii(last)}")
            titles, language = self.titles_en, "en"
        province, city = self._place(country, company)
        contact = {
            "first_name": first, "last_name": last,
            "full_name": f"{last}{first}" if country == "CN" else f"{first} {last}",
            "email": self._email(country, locals_, company) if with_email else None,
            "phone": self._phone(country) if (not with_email or rng.random() < (0.92 if country == "CN" else 0.6))
            else None,
            "title": titles(rng) if company else "", "country": country, "province": province, "city": city,
            "language": language, "consent_marketing": False, "consent_marketing_at": None,
            "consent_marketing_source": "", "consent_share": False, "consent_share_at": None,
            "consent_share_source": "", "consent_text_version": "", "unsubscribed_at": None,
            "created_at": None, "updated_at": None, "_company": company, "_sources": {},
        }
        if contact["email"] is None and contact["phone"] is None:  # nobody is kept whom we cannot reach
            contact["email"] = self._email(country, locals_, company)
        self.contacts.append(contact)
        return contact

    def _chinese_name(self) -> tuple[str, str, tuple[str, ...]]:
        rng = self.rng
        surname, surname_py = self.surnames(rng)
        chars = [rng.choice(self.given) for _ in range(1 if rng.random() < 0.28 else 2)]
        if rng.random() < 0.02:
            chars[-1] = rng.choice(self.rare)
        given, given_py = "".join(c for c, _ in chars), "".join(p for _, p in chars)
        return given, surname, (f"{given_py}.{surname_py}", f"{surname_py}{given_py}", f"{surname_py}.{given_py}")

    def _place(self, country: str, company: dict | None) -> tuple[str, str]:
        if company is not None and company["country"] == country and company["city"]:
            return company["province"], company["city"]
        if country != "CN":
            return "", self.rng.choice(self.country[country][3])
        province = PROVINCES[3] if self.rng.random() < 0.4 else self.provinces(self.rng)
        return province[0], self.rng.choice(province[3])

    def _email(self, country: str, locals_: tuple[str, ...], company: dict | None) -> str:
        rng, roll = self.rng, self.rng.random()
        if company is not None and roll < (0.35 if country == "CN" else 0.6):
            local, domain = locals_[0], company["_domain"]
        elif country == "CN" and roll < 0.47:
            local, domain = str(rng.randint(100_000, 2_999_999_999)), "qq.com"
        else:
            local = rng.choice(locals_[1:] or locals_) + (str(rng.randint(1, 99)) if rng.random() < 0.5 else "")
            domain = (self.free_zh if country == "CN" else self.free_en)(rng)
        email, digits = f"{local}@{domain}", 2
        while email in self.emails:
            email, digits = f"{local}{rng.randint(2, 10 ** digits)}@{domain}", digits + 1
        self.emails.add(email)
        return email

    def _phone(self, country: str) -> str | None:
        rng = self.rng
        for _ in range(10):
            if country == "CN":
                phone = f"+86{rng.choice(CN_MOBILE)}{rng.randint(0, 99_999_999):08d}"
            else:
                example = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.MOBILE)
                e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
                phone = f"{e164[:-4]}{rng.randint(0, 9999):04d}"
                if not phonenumbers.is_valid_number(phonenumbers.parse(phone)):
                    continue
            if phone not in self.phones:
                self.phones.add(phone)
                return phone
        return None

    # companies
    def visitor_company(self, country: str) -> dict:
        """A visitor's employer: often one whose colleagues come too."""
        pool = self.visitor_companies.setdefault(country, [])
        if pool and self.rng.random() < 0.45:
            return self.rng.choice(pool)
        if country == "CN":
            kind, slug = self.rng.choice(VISITOR_KINDS)
            company = self._chinese_company(kind, slug, self.provinces)
        else:
            company = self._foreign_company(country, self.rng.choice(EN_VISITOR_KINDS))
        company["_size"], company["_business"] = self.sizes(self.rng), self.business(self.rng)
        pool.append(company)
        return company

    def exhibitor_company(self, *, foreign: bool) -> dict:
        """A manufacturer that exhibits, with the product category it mainly sells."""
        if foreign:
            kind, _slug, category = self.rng.choice(EXHIBITOR_KINDS_EN)
            company = self._foreign_company(self.foreign_country(exhibitor=True), kind)
        else:
            kind, slug, category = self.rng.choice(EXHIBITOR_KINDS_ZH)
            company = self._chinese_company(kind, slug, self.exhibitor_provinces)
        company["_category"] = category
        return company

    def _chinese_company(self, kind: str, slug: str, provinces: _Weighted) -> dict:
        rng = self.rng
        for attempt in range(40):
            province = provinces(rng)
            city = rng.choice(province[3])
            core, core_py = rng.choice(self.cores)
            suffix = self.suffixes(rng)
            name = f"{city.removesuffix('市')}{core}{kind}{suffix}"
            if attempt >= 30:
                name = f"{name}{city.removesuffix('市')}第{attempt - 29}分公司"
            if name not in self.company_names:
                break
        domain = f"{core_py}-{slug}.{rng.choice(('com', 'cn', 'com.cn'))}"
        return self._company(name, "CN", province=province[0], city=city, domain=domain)

    def _foreign_company(self, country: str, kind: str) -> dict:
        rng, spec = self.rng, self.country[country]
        for attempt in range(40):
            stem, city = rng.choice(EN_STEMS), rng.choice(spec[3])
            name = f"{stem} {kind} {spec[5]}" if attempt < 20 else f"{stem} {kind} {city} {attempt - 19} {spec[5]}"
            if name not in self.company_names:
                break
        domain = f"{_ascii(stem.replace('&', 'and'))}-{_ascii(kind.split()[0])}.{spec[4]}"
        return self._company(name, country, city=city, domain=domain)

    def _company(self, name: str, country: str, *, province: str = "", city: str = "", domain: str) -> dict:
        self.company_names.add(name)
        company = {"name": name, "name_key": "".join(name.lower().split()), "country": country,
                   "province": province, "city": city,
                   "website": f"https://www.{domain}" if self.rng.random() < 0.6 else "",
                   "created_at": None, "_domain": domain}
        self.companies.append(company)
        return company


# --- the plan: every row of the demo, decided in memory before anything is written ---------------------------------
@dataclass
class _Structure:
    """One saved edition's structure: the ids the plan refers to."""

    edition_id: int
    year: int
    days: list[tuple[int, date, int, int]]  # day id, date, opening and closing minute (local)
    zones: dict[str, int]
    gates: dict[str, list[int]]
    badges: dict[str, int]
    zone_rows: list[dict]
    gate_rows: list[dict]

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.days[0][1], time(0), tzinfo=TZ)


class _Booths:
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


class _Planner:
    """Plans the demo's rows deterministically from one random generator; _Writer saves them."""

    def __init__(self, rng: random.Random, structures: tuple[_Structure, _Structure]):
        self.rng = rng
        self.people = _People(rng)
        self.past, self.current = structures
        self.registrations: list[dict] = []
        self.exhibitors: list[dict] = []
        self.users: list[dict] = []
        self.questions: list[dict] = []
        self.scans: list[dict] = []
        self.leads: list[dict] = []
        self.lead_scans: list[dict] = []
        self.stints: dict[str, list[tuple]] = {hall: [] for hall in HALLS}
        self.pick = {name: _Weighted(pairs) for name, pairs in (
            ("badge", BADGE_MIX), ("badge_current", BADGE_MIX_CURRENT), ("role", ROLES), ("days", DAYS_ATTENDED),
            ("booth", BOOTH_SIZES), ("rating", LEAD_RATINGS), ("moves", ((0, 40), (1, 40), (2, 20))),
            ("hall", (("N1", 45), ("N2", 35), ("E1", 20))),
            ("status_past", (("paid", 93), ("contracted", 2), ("cancelled", 5))),
            ("status_rebooked", (("paid", 72), ("contracted", 22), ("prospect", 3), ("cancelled", 3))),
            ("status_new", (("paid", 35), ("contracted", 30), ("prospect", 30), ("cancelled", 5))))}
        self.sources = {badge: _Weighted(pairs) for badge, pairs in SOURCE_MIX.items()}
        self.sources_current = {badge: _Weighted(pairs) for badge, pairs in SOURCE_MIX_CURRENT.items()}

    # visitors -------------------------------------------------------------------------------------------------------
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
                 and reg["badge"] in VISITOR_BADGES and reg["status"] == "registered"]
        returning = _weighted_sample(rng, known, [3.0 if reg["_visits"] else 1.0 for reg in known],
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

    def _registration(self, edition: _Structure, contact: dict, badge: str, source: str, *,
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
            days = _weighted_sample(rng, [0, 1, 2], list(DAY_WEIGHTS), self.pick["days"](rng))
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
            when = _at(self.past.days[first["day"]][1], first["arrive"] - rng.uniform(4, 20))
            reg["collected_at"] = when + timedelta(minutes=rng.uniform(1, 3))
        elif reg["source"] == "import":
            when = self._imported(IMPORT_FILES, reg)
        else:
            when = self._before(self.past.starts, mean_days=28, cap_days=130)
        reg["registered_at"] = when
        if visits and reg["source"] != "walk_in" and rng.random() < 0.45:
            first = visits[0]
            reg["collected_at"] = _at(self.past.days[first["day"]][1], first["arrive"] - rng.uniform(2, 10))
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
        _touch(contact, when)

    def finish_people(self) -> None:
        """Some contacts unsubscribed since; companies date from their first contact or booking."""
        rng = self.rng
        for contact in self.people.contacts:
            if contact["consent_marketing"] and rng.random() < 0.02:
                gone = contact["consent_marketing_at"] + timedelta(days=rng.uniform(20, 400))
                if gone < NOW:
                    contact.update(consent_marketing=False, unsubscribed_at=gone)
                    _touch(contact, gone)
            if contact["_company"] is not None:
                _touch(contact["_company"], contact["created_at"])
        for ex in self.exhibitors:
            _touch(ex["_company"], ex["created_at"])
        for company in self.people.companies:
            if company["created_at"] is None:  # known from the start, though nobody came from it
                company["created_at"] = PAST["opened"].astimezone(UTC)

    # exhibitors -----------------------------------------------------------------------------------------------------
    def exhibitors_past(self, n: int) -> None:
        """The 2025 exhibitors: booked, mostly paid, with their staff, accounts and lead questions."""
        rng, booths = self.rng, _Booths(self.rng)
        for _ in range(n):
            company = self.people.exhibitor_company(foreign=rng.random() < 0.25)
            ex = self._exhibitor(self.past, company, self.pick["status_past"](rng), booths)
            start = PAST["opened"] + timedelta(days=rng.uniform(0, 150))
            self._history(ex, start, end=self.past.starts - timedelta(days=3))
            if ex["booth_number"]:
                arrival_day = self.past.days[0][1] - timedelta(days=rng.choice((1, 2)))
                ex["arrived_at"] = _at(arrival_day, rng.uniform(8 * 60, 18 * 60))
                staff = self._staff(ex, [])
                self._accounts(ex, staff[:1 + (ex["booth_sqm"] >= 36) + (ex["booth_sqm"] >= 108)])

    def exhibitors_current(self, n: int) -> None:
        """The 2026 exhibitors so far: most rebooked from 2025 (many at the show itself), some new."""
        rng, booths = self.rng, _Booths(self.rng)
        active = [ex for ex in self.exhibitors if ex["booth_number"]]
        rebooked = _weighted_sample(rng, active, [ex["booth_sqm"] for ex in active], min(round(n * 0.7), len(active)))
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
                start = (_at(self.past.days[rng.choice((1, 2))][1], rng.uniform(600, 960)) if on_site
                         else CURRENT["opened"] + timedelta(days=rng.uniform(0, 300)))
            self._history(ex, start, end=NOW, quick=old is not None and on_site)
            if ex["booth_number"] and rng.random() < 0.6:
                people = [self.people.person(country=ex["_company"]["country"], company=ex["_company"])
                          for _ in range(1 + (ex["_sqm"] >= 54))]
                self._accounts(ex, people)
            if ex["status"] == "paid" and rng.random() < 0.4:
                self._staff(ex, old["_staff"] if old else [])

    def _exhibitor(self, edition: _Structure, company: dict, status: str, booths: _Booths, *, wish: str | None = None,
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
            _touch(person, created)
            user = {"_exhibitor": ex, "email": person["email"], "name": person["full_name"], "password_hash": "",
                    "language": person["language"], "is_active": True, "created_at": created, "last_login_at": None}
            ex["_users"].append(user)
            self.users.append(user)
        if rng.random() < 0.3:
            for position, (label, kind, options) in enumerate(rng.sample(LEAD_QUESTIONS, k=rng.randint(2, 3))):
                question = {"_exhibitor": ex, "label": label, "kind": kind, "options": options, "position": position}
                ex["_questions"].append(question)
                self.questions.append(question)

    # the 2025 show ------------------------------------------------------------------------------------------------
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
        at = _at(self.past.days[day][1], minute)
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
                scan["left_at"] = _at(self.past.days[day][1], end)
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
        at = _at(self.past.days[day][1], minute)
        scan = {"_exhibitor": ex, "_lead": lead, "_user": user,
                "scan_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "verdict": verdict,
                "reason": reason, "device_time": at, "received_at": at + timedelta(seconds=self.rng.uniform(0.2, 3))}
        self.lead_scans.append(scan)
        return scan


# --- saving --------------------------------------------------------------------------------------------------------
class _Writer:
    """Saves the show structure row by row and the planned rows in bulk."""

    def __init__(self, session: Session):
        self.session = session

    def structure(self) -> tuple[int, tuple[_Structure, _Structure]]:
        series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具博览会",
                        created_at=PAST["opened"])
        self.session.add(series)
        self.session.flush()
        return series.id, (self._edition(series.id, PAST), self._edition(series.id, CURRENT))

    def _edition(self, series_id: int, spec: dict) -> _Structure:
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
        badges = {code: BadgeType(edition_id=edition.id, code=code, name=name, name_zh=name_zh, color=color)
                  for code, name, name_zh, color in BADGE_TYPES}
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
        return _Structure(
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

    def save(self, plan: _Planner, series_id: int, step: Callable[[str], None]) -> DemoResult:
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
            counts=_counts(plan))
        result.gate_devices = self._current_devices(plan)
        audit.log(self.session, "exhibit_crm.demo.built", actor=audit.SYSTEM, data=result.counts)
        self.session.flush()
        step(STEPS[9])
        return result

    def _current_devices(self, plan: _Planner) -> list[dict]:
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

    def _exhibitors(self, plan: _Planner) -> list[dict]:
        """Saves exhibitors, their history, accounts and questions; gives a few accounts the demo password."""
        self._insert(Exhibitor, plan.exhibitors, {"company_id": "_company"})
        self._insert(ExhibitorStatusChange, [{"exhibitor_id": ex["id"], "status": status, "changed_at": at}
                                             for ex in plan.exhibitors for status, at in ex["_history"]], ids=False)
        chosen = _demo_accounts(plan)
        password_hash = hash_password(EXHIBITOR_PASSWORD)  # once: argon2 is slow on purpose
        for user in chosen:
            user["password_hash"] = password_hash
        self._insert(ExhibitorUser, plan.users, {"exhibitor_id": "_exhibitor"})
        self._insert(LeadQuestion, plan.questions, {"exhibitor_id": "_exhibitor"})
        return [{"email": user["email"], "password": EXHIBITOR_PASSWORD, "exhibitor_id": user["_exhibitor"]["id"],
                 "company": user["_exhibitor"]["_company"]["name"], "edition_year": user["_exhibitor"]["_edition"].year,
                 "login_url": "/exhibitor/login"} for user in chosen]

    def _scans_and_leads(self, plan: _Planner) -> None:
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


def _demo_accounts(plan: _Planner) -> list[dict]:
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


def _counts(plan: _Planner) -> dict[str, int]:
    def of(rows: list[dict], edition: _Structure, **match) -> int:
        return sum(1 for row in rows if row["edition_id"] == edition.edition_id
                   and all(row[key] in values for key, values in match.items()))

    came_before = {id(reg["_contact"]) for reg in plan.registrations if reg["edition_id"] == plan.past.edition_id}
    return {
        "contacts": len(plan.people.contacts), "companies": len(plan.people.companies),
        "visitors_2025": of(plan.registrations, plan.past, badge=VISITOR_BADGES),
        "exhibitors_2025": of(plan.exhibitors, plan.past),
        "scans_2025": len(plan.scans), "leads_2025": len(plan.leads),
        "registrations_2026": of(plan.registrations, plan.current, badge=VISITOR_BADGES),
        "returning_2026": sum(1 for reg in plan.registrations if reg["edition_id"] == plan.current.edition_id
                              and reg["badge"] in VISITOR_BADGES and id(reg["_contact"]) in came_before),
        "exhibitors_2026": of(plan.exhibitors, plan.current),
    }
