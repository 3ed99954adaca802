"""The post-show edition report at scale: `edition_report` (with the previous-edition comparison) on SQLite and
PostgreSQL, and the report's PDF and XLSX.

A fresh database per backend holds one series with two editions, the previous one (2025) and the measured one (2026),
built with the demo's show structure (exhibit_crm.demo: 3 show days, 5 zones, 8 gates, badge types of every audience,
the registration questions, product categories) and its mixes (badges, sources, attendance, days, booth sizes, lead
ratings), then filled in bulk, deterministically from `--seed`: `--visitors` registrations an edition (the demo's badge
mix: visitor badges and a few press), ~40 % of the measured edition's people returning from the previous one, plus
exhibitor staff (two an exhibitor) and organiser badges; `--exhibitors` an edition with booths, m² and categories,
~60 % of the previous edition's rebooking, with one user each; `--leads` leads an edition; and about `--scans` gate
scans an edition (`--previous-scans` for 2025): accepted entries with moves between zones and some exits, `left_at`
set on an entry when its person moves on or leaves as badge_scanner/gates.py does, and ~3 % rejected scans.

Measured, `--runs` times each: `edition_report` of the measured edition in a read-only session as the page and
`exhibit-crm report` call it (target ≤ 3 s), then from that report the PDF (zh-CN; target ≤ 10 s) and the XLSX.
`--profile` profiles one more report (and PDF) with pyinstrument and prints where the time went.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from pydantic_core import PydanticUndefined
from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.common import emit, fresh_database, log, machine, median, now_iso, postgres_server, postgres_version, timed
from event_phases.post_show.statistics.report import edition_report
from exhibit_crm.bulk_sql import BulkSql, chunks
from exhibit_crm.db import read_in_session, session_scope
from exhibit_crm.demo import data as demo
from exhibit_crm.demo.helpers import split_pairs
from exhibit_crm.demo.save import Writer
from exhibit_crm.models import Company, Contact, Exhibitor, ExhibitorUser, GateDevice, Lead, Registration, Scan
from exhibit_crm.models.search import deferred_index

TARGETS_S = {"edition_report": 3.0, "pdf": 10.0}
NOW = datetime(2026, 12, 20, 10, tzinfo=UTC)  # after the measured edition's show (8–10 December 2026)
RETURNING = 0.40  # share of the measured edition's registrants who registered for the previous one
REBOOKING = 0.60  # share of the previous edition's exhibitors whose company books the measured one
EXIT_SHARE = 0.35  # visits that end with an exit scan (halls have exit scanners at some doors only)
REJECTED_SHARE = 0.03
REJECTIONS = ("zone_denied", "already_inside", "closed", "outdated_badge", "invalid_code")
HALLS = demo.HALLS
VISITOR_BADGES = {code for code, *_rest, audience in demo.BADGE_TYPES if audience.endswith("_visitor")}


# -- bulk rows

def defaults(model) -> dict:
    """A model's Python-side defaults, the columns a bulk insert must name (the id left to the caller)."""
    values = {}
    for name, field in model.model_fields.items():
        if name != "id" and field.default_factory is not None:
            values[name] = field.default_factory()
        elif name != "id" and field.default is not PydanticUndefined:
            values[name] = field.default
    return values


def put(session: Session, model, rows: list[dict]) -> None:
    """Insert rows (dicts with the same keys) through BulkSql, a slice at a time, with the model's defaults."""
    bulk, base = BulkSql(session.connection()), defaults(model)
    for part in chunks(rows, 50_000):
        bulk.insert_dicts(model.__table__, [{**base, **row} for row in part])


def instants(seconds: np.ndarray) -> list[datetime | None]:
    """Epoch seconds (negative: none) as aware UTC datetimes, each distinct second made once."""
    distinct, where = np.unique(seconds, return_inverse=True)
    made = [datetime.fromtimestamp(int(s), UTC) if s >= 0 else None for s in distinct.tolist()]
    return [made[i] for i in where.tolist()]


def weighted(rng: np.random.Generator, pairs, size: int) -> np.ndarray:
    """`size` values drawn from (value, weight) pairs."""
    values, weights = zip(*pairs, strict=True)
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=size, p=p / p.sum())]


# -- the show

class Show:
    """Generates the two editions' rows with one seeded generator and writes them in bulk."""

    def __init__(self, engine: Engine, args: argparse.Namespace):
        self.engine, self.args = engine, args
        self.rng = np.random.default_rng(args.seed)
        self.surnames, self.given = split_pairs(demo.SURNAMES), split_pairs(demo.GIVEN)
        self.counts: dict[str, int] = {}
        self.next_id = {"company": 1, "contact": 1, "exhibitor": 1, "registration": 1}

    def ids(self, table: str, n: int) -> np.ndarray:
        start = self.next_id[table]
        self.next_id[table] += n
        return np.arange(start, start + n)

    def build(self) -> dict:
        """Write everything; the two editions' ids."""
        with session_scope(self.engine) as session:
            _series, structures = Writer(session).structure()
            session.add_all(GateDevice(gate_id=gate, name=f"Scanner {gate}", token_hash=uuid.uuid4().hex)
                            for structure in structures for gates in structure.gates.values() for gate in gates)
        previous, measured = structures
        with Session(self.engine) as session:
            self.devices = dict(session.execute(text("SELECT gate_id, id FROM gate_device")).all())
        n = self.args.exhibitors
        firms = self.companies(2 * n)  # the previous edition's n, and enough new ones for the measured edition
        rebooked = self.rng.choice(firms[:n], size=round(REBOOKING * n), replace=False)
        new = firms[n:2 * n - len(rebooked)]
        people_before = self.people_of(previous, None)
        booths = {previous.edition_id: self.exhibitors(previous, firms[:n]),
                  measured.edition_id: self.exhibitors(measured, np.concatenate([rebooked, new]))}
        regs_before = self.registrations(previous, people_before, booths[previous.edition_id])
        people_now = self.people_of(measured, people_before)
        regs_now = self.registrations(measured, people_now, booths[measured.edition_id])
        for structure, regs, scans in ((previous, regs_before, self.args.previous_scans),
                                       (measured, regs_now, self.args.scans)):
            attended = self.scans(structure, regs, scans)
            self.leads(structure, booths[structure.edition_id], attended)
        self.finish()
        return {"previous": previous.edition_id, "measured": measured.edition_id}

    # companies and exhibitors

    def companies(self, n: int) -> np.ndarray:
        """n exhibiting companies, the demo's share of them from abroad."""
        ids, rng = self.ids("company", n), self.rng
        abroad = rng.random(n) < 0.15
        countries = weighted(rng, [(c[0], c[2]) for c in demo.COUNTRIES], n)
        kinds = rng.integers(len(demo.EXHIBITOR_KINDS_ZH), size=n)
        rows = []
        for i, company_id in enumerate(ids.tolist()):
            kind = demo.EXHIBITOR_KINDS_ZH[kinds[i]][0]
            name = f"Company {company_id} {kind}" if abroad[i] else f"{kind}企业{company_id}有限公司"
            rows.append({"id": company_id, "name": name, "name_key": name.lower().replace(" ", ""),
                         "country": countries[i] if abroad[i] else "CN"})
        self.write(Company, rows, index="company")
        return ids

    def exhibitors(self, structure, company_ids: np.ndarray) -> dict:
        """The edition's exhibitors of these companies (a few cancelled, a few without a booth yet)."""
        rng, n = self.rng, len(company_ids)
        ids = self.ids("exhibitor", n)
        status = weighted(rng, (("paid", 85), ("contracted", 10), ("prospect", 2), ("cancelled", 3)), n)
        sqm = weighted(rng, demo.BOOTH_SIZES, n).astype(float)
        halls = rng.integers(len(HALLS), size=n)
        booth = status != "prospect"
        categories = [c[0] for c in demo.CATEGORIES]
        picks = [rng.choice(len(categories), size=k, replace=False) for k in rng.integers(1, 4, size=n)]
        rows = [{"id": int(ids[i]), "edition_id": structure.edition_id, "company_id": int(company_ids[i]),
                 "status": status[i], "booth_hall": HALLS[halls[i]] if booth[i] else None,
                 "booth_number": f"{HALLS[halls[i]]}-{i + 1:04d}" if booth[i] else None,
                 "booth_sqm": float(sqm[i]) if booth[i] else None,
                 "product_categories": [categories[c] for c in picks[i].tolist()],
                 "arrived_at": structure.starts.astimezone(UTC) if status[i] == "paid" else None}
                for i in range(n)]
        users = [{"exhibitor_id": row["id"], "email": f"sales{row['id']}@exhibitor{structure.year}.example",
                  "name": f"Sales {row['id']}"} for row in rows]
        with session_scope(self.engine) as session:
            put(session, Exhibitor, rows)
            put(session, ExhibitorUser, users)
        self.count("exhibitor", n)
        weights = np.where((status != "cancelled") & booth & (rng.random(n) > 0.08), sqm, 0.0)
        return {"ids": ids, "halls": halls, "lead_weights": weights / weights.sum()}

    # people and registrations

    def people_of(self, structure, before: dict | None) -> dict:
        """Contact ids and badges of the edition's registrants: `--visitors` through the demo's badge mix (with
        RETURNING of them people of `before`), then two exhibitor staff an exhibitor and the organiser's people."""
        rng, n = self.rng, self.args.visitors
        badges = weighted(rng, demo.BADGE_MIX, n)
        if before is None:
            contacts = self.contacts(n)
        else:
            known = before["visitor_contacts"]
            back = rng.choice(known, size=min(round(RETURNING * n), len(known)), replace=False)
            contacts = np.concatenate([back, self.contacts(n - len(back))])
        others = 2 * self.args.exhibitors + max(5, n // 500)
        staff = np.array(["exhibitor_staff"] * (2 * self.args.exhibitors) + ["organiser"] * (others - 2 *
                                                                                           self.args.exhibitors))
        visitor = np.isin(badges, list(VISITOR_BADGES))
        return {"contacts": np.concatenate([contacts, self.contacts(others)]),
                "badges": np.concatenate([badges, staff]), "visitor_contacts": contacts[visitor]}

    def contacts(self, n: int) -> np.ndarray:
        """n new contacts: the demo's share of Chinese people by province, the rest from its countries."""
        ids, rng = self.ids("contact", n), self.rng
        abroad = rng.random(n) < 0.07
        provinces = weighted(rng, [(p[0], p[1]) for p in demo.PROVINCES], n)
        countries = weighted(rng, [(c[0], c[1]) for c in demo.COUNTRIES], n)
        surnames, given = rng.integers(len(self.surnames), size=n), rng.integers(len(self.given), size=n)
        rows = []
        for i, contact_id in enumerate(ids.tolist()):
            (surname, s_py), (name, n_py) = self.surnames[surnames[i]], self.given[given[i]]
            full_name = f"{n_py.title()} {s_py.title()}" if abroad[i] else surname + name
            rows.append({"id": contact_id, "full_name": full_name,
                         "first_name": name, "last_name": surname, "email": f"{n_py}.{s_py}.{contact_id}@example.cn",
                         "country": countries[i] if abroad[i] else "CN", "province": "" if abroad[i] else provinces[i],
                         "language": "en" if abroad[i] else "zh-CN"})
        self.write(Contact, rows, index="contact")
        return ids

    def registrations(self, structure, people: dict, booths: dict) -> dict:
        """The edition's registrations: source, answers, registered over the months before opening (walk-ins on a
        show day), a few cancelled; returns what the scans need."""
        rng, badges = self.rng, people["badges"]
        n = len(badges)
        ids = self.ids("registration", n)
        source = np.empty(n, dtype=object)
        for badge, mix in demo.SOURCE_MIX.items():
            where = badges == badge
            source[where] = weighted(rng, mix, int(where.sum()))
        source[np.isin(badges, ["exhibitor_staff", "organiser"])] = "import"
        walk_in = source == "walk_in"
        walk_day = weighted(rng, enumerate(demo.DAY_WEIGHTS), n).astype(int)
        opening = structure.starts.timestamp() + structure.days[0][2] * 60
        before_s = (rng.beta(1.3, 3.2, n) * 180 + 0.2) * 86_400
        walk_s = self.day_start(structure, walk_day) + rng.uniform(0, 6 * 3600, n)
        registered = np.where(walk_in, walk_s, opening - before_s).astype(np.int64)
        cancelled = ~walk_in & (rng.random(n) < 0.03)
        cancelled_at = np.where(cancelled, registered + (opening - registered) * rng.uniform(0.1, 0.9, n), -1)
        staff_of = np.where(badges == "exhibitor_staff", booths["ids"][np.arange(n) % len(booths["ids"])], 0)
        rows = [{"id": int(ids[i]), "contact_id": int(people["contacts"][i]), "edition_id": structure.edition_id,
                 "badge_type_id": structure.badges[badges[i]], "exhibitor_id": int(staff_of[i]) or None,
                 "source": source[i], "status": "cancelled" if cancelled[i] else "registered", "answers": answer,
                 "registered_at": at, "cancelled_at": until}
                for i, (answer, at, until) in enumerate(zip(self.answers(badges), instants(registered),
                                                            instants(cancelled_at.astype(np.int64)), strict=True))]
        with session_scope(self.engine) as session:
            put(session, Registration, rows)
        self.count("registration", n)
        return {"ids": ids, "badges": badges, "source": source, "cancelled": cancelled, "walk_in": walk_in,
                "walk_day": walk_day, "registered": registered}

    def answers(self, badges: np.ndarray) -> list[dict]:
        """Answers to the demo's questions: interests (one to four), business, purchasing role, company size."""
        rng, n = self.rng, len(badges)
        interests = [c[0] for c in demo.CATEGORIES]
        singles = [(key, weighted(rng, mix, n), rng.random(n) < 0.8)
                   for key, mix in (("business_type", demo.BUSINESS), ("purchasing_role", demo.ROLES),
                                    ("company_size", demo.SIZES))]
        chosen = rng.random(n) < 0.9
        counts = rng.integers(1, 5, size=n)
        rows = []
        for i in range(n):
            if badges[i] not in VISITOR_BADGES:
                rows.append({})
                continue
            row = {"interests": [interests[c] for c in rng.choice(len(interests), counts[i], replace=False).tolist()]
                   } if chosen[i] else {}
            row.update({key: values[i] for key, values, given in singles if given[i]})
            rows.append(row)
        return rows

    # gate scans and leads

    def day_start(self, structure, day: np.ndarray) -> np.ndarray:
        """The epoch second of each show day's opening."""
        opens = np.array([(structure.starts.timestamp() + i * 86_400 + d[2] * 60) for i, d in
                          enumerate(structure.days)])
        return opens[day]

    def visits(self, structure, regs: dict) -> dict:
        """Who came on which show day, arriving and leaving when (minutes after opening)."""
        rng, n, days = self.rng, len(regs["ids"]), len(structure.days)
        badges, source = regs["badges"], regs["source"]
        show = np.isin(badges, list(VISITOR_BADGES) + ["press"])
        attend_p = np.array([demo.ATTENDANCE.get(s, 0.9) for s in source])
        comes = ~regs["cancelled"] & (rng.random(n) < attend_p)
        how_many = weighted(rng, demo.DAYS_ATTENDED, n).astype(int)
        rank = np.argsort(np.argsort(rng.random((n, days)) / np.asarray(demo.DAY_WEIGHTS), axis=1), axis=1)
        on = comes[:, None] & (rank < how_many[:, None])
        on = np.where(show[:, None], on, rng.random((n, days)) < 0.9)  # staff and organisers: most days
        walk = regs["walk_in"]
        on[walk] = np.eye(days, dtype=bool)[regs["walk_day"][walk]]
        person, day = np.nonzero(on)
        span = np.array([d[3] - d[2] for d in structure.days])[day]
        arrive = np.where(show[person], (span - 75) * rng.beta(1.6, 3.5, len(day)), -rng.uniform(10, 60, len(day)))
        walked = walk[person]
        arrive[walked] = np.maximum(arrive[walked], (regs["registered"][person[walked]] - self.day_start(
            structure, day[walked])) / 60 + 5)
        leave = np.where(show[person], arrive + rng.uniform(0.25, 1.0, len(day)) * (span - arrive),
                         span + rng.uniform(0, 30, len(day)))
        return {"person": person, "day": day, "arrive": arrive, "leave": np.maximum(leave, arrive + 30),
                "show": show[person]}

    def scans(self, structure, regs: dict, target: int) -> np.ndarray:
        """About `target` gate scans of the edition; returns the registrations of visitors who came."""
        rng, v = self.rng, self.visits(structure, regs)
        n, show = len(v["day"]), v["show"]
        # entries a visit so that the scans come to about `target` (staff move less)
        moves = max(0.0, (target / (1 + REJECTED_SHARE) - n * (1 + EXIT_SHARE)) / max(1.0, show.sum() + 0.25 *
                                                                                      (~show).sum()))
        k = 1 + rng.poisson(np.where(show, moves, moves / 4))
        visit = np.repeat(np.arange(n), k)
        first = np.cumsum(k) - k
        pos = np.arange(len(visit)) - first[visit]
        u = np.where(pos == 0, 0.0, rng.random(len(visit)))
        minute = v["arrive"][visit] + (pos + 0.9 * u) / k[visit] * (v["leave"] - v["arrive"])[visit]
        at = (self.day_start(structure, v["day"][visit]) + minute * 60).astype(np.int64)
        zone = self.zones(rng, visit, pos, first, regs["badges"][v["person"][visit]])
        gate = self.gates(structure, zone)
        last = np.append(visit[1:] != visit[:-1], True)
        exits = rng.random(n) < EXIT_SHARE
        left = np.where(last, np.where(exits[visit], (self.day_start(structure, v["day"]) + v["leave"] * 60)
                                       .astype(np.int64)[visit], -1), np.append(at[1:], -1))
        rows = self.scan_rows(structure, regs["ids"][v["person"][visit]], gate, zone, at, left, "in")
        out = last & exits[visit]
        rows += self.scan_rows(structure, regs["ids"][v["person"][visit[out]]], gate[out], zone[out], left[out],
                               np.full(out.sum(), -1), "out")
        rows += self.rejected(structure, regs, round(REJECTED_SHARE * len(rows)))
        rows.sort(key=lambda row: row["scanned_at"])
        for number, row in enumerate(rows):
            row["scan_id"] = f"{structure.year}-{number}"
        with session_scope(self.engine) as session:
            put(session, Scan, rows)
        self.count("scan", len(rows))
        came = v["show"] & np.isin(regs["badges"][v["person"]], list(VISITOR_BADGES))
        return np.unique(regs["ids"][v["person"][came]])

    zone_codes = np.array([*HALLS, "CONF", "VIP"])

    @staticmethod
    def zones(rng: np.random.Generator, visit: np.ndarray, pos: np.ndarray, first: np.ndarray,
              badges: np.ndarray) -> np.ndarray:
        """Each entry's zone (index into zone_codes): a first hall, then another hall at each move; between halls
        the trade may go to the conference room, VIP buyers and the press to the lounge."""
        halls = len(HALLS)
        step = np.where(pos == 0, rng.integers(0, halls, len(pos)), rng.integers(1, halls, len(pos)))
        total = np.cumsum(step)
        zone = (total - (total - step)[first[visit]]) % halls
        odd = pos % 2 == 1
        trade = np.isin(badges, ["trade_visitor", "vip_buyer", "press"])
        zone = np.where(odd & trade & (rng.random(len(pos)) < 0.1), halls, zone)
        return np.where(odd & np.isin(badges, ["vip_buyer", "press"]) & (rng.random(len(pos)) < 0.4), halls + 1,
                        zone)

    def gates(self, structure, zone: np.ndarray) -> np.ndarray:
        """A gate of each entry's zone, any of the zone's gates alike."""
        table = [structure.gates[code] for code in self.zone_codes]
        widest = max(len(gates) for gates in table)
        padded = np.array([gates + gates[:1] * (widest - len(gates)) for gates in table])
        sizes = np.array([len(gates) for gates in table])
        return padded[zone, (self.rng.random(len(zone)) * sizes[zone]).astype(int)]

    def scan_rows(self, structure, registration: np.ndarray, gate: np.ndarray, zone: np.ndarray, at: np.ndarray,
                  left: np.ndarray, direction: str, verdict: str = "accepted", reasons=None) -> list[dict]:
        zones, devices = self.zone_codes, self.devices
        return [{"device_id": devices[g], "gate_id": g, "zone_id": structure.zones[zones[z]],
                 "registration_id": r if r > 0 else None, "badge_version": 1 if r > 0 else None,
                 "direction": direction, "scanned_at": when, "received_at": when, "verdict": verdict,
                 "reason": None if reasons is None else reasons[i], "left_at": until}
                for i, (r, g, z, when, until) in enumerate(zip(registration.tolist(), gate.tolist(), zone.tolist(),
                                                              instants(at), instants(left), strict=True))]

    def rejected(self, structure, regs: dict, n: int) -> list[dict]:
        rng = self.rng
        reasons = weighted(rng, ((reason, 1) for reason in REJECTIONS), n)
        who = np.where(reasons == "invalid_code", 0, rng.choice(regs["ids"], n))
        zone = rng.integers(0, len(self.zone_codes), n)
        gate = self.gates(structure, zone)
        day = rng.integers(0, len(structure.days), n)
        at = (self.day_start(structure, day) + rng.uniform(-3600, 8 * 3600, n)).astype(np.int64)
        return self.scan_rows(structure, who, gate, zone, at, np.full(n, -1), "in", "rejected", reasons.tolist())

    def leads(self, structure, booths: dict, attended: np.ndarray) -> None:
        """About `--leads` leads: visitors who came, scanned at booths that use the lead app, likelier at bigger
        booths; the demo's ratings."""
        rng, n = self.rng, self.args.leads
        if not len(attended):
            return
        pairs = np.unique(np.stack([rng.choice(booths["ids"], n, p=booths["lead_weights"]),
                                    rng.choice(attended, n)], axis=1), axis=0)
        rating = weighted(rng, demo.LEAD_RATINGS, len(pairs))
        day = rng.integers(0, len(structure.days), len(pairs))
        at = instants((self.day_start(structure, day) + rng.uniform(600, 7 * 3600, len(pairs))).astype(np.int64))
        rows = [{"exhibitor_id": e, "registration_id": r, "rating": rating[i], "created_at": at[i],
                 "updated_at": at[i]} for i, (e, r) in enumerate(pairs.tolist())]
        with session_scope(self.engine) as session:
            put(session, Lead, rows)
        self.count("lead", len(rows))

    # writing

    def write(self, model, rows: list[dict], *, index: str) -> None:
        """Contacts and companies: on SQLite the desk-search index is written once at the end, as imports do."""
        with session_scope(self.engine) as session, deferred_index(session.connection(), index):
            put(session, model, rows)
        self.count(index, len(rows))

    def count(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n

    def finish(self) -> None:
        """PostgreSQL: the sequences past the ids given here, and the statistics autovacuum would have gathered."""
        if self.engine.dialect.name != "postgresql":
            return
        with session_scope(self.engine) as session:
            for table in self.next_id:
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))


# -- measuring

def file_makers() -> dict[str, Callable[[dict], bytes]]:
    """The report's files as exporters.report makes them; while exhibit_crm.charts is missing (the PDF's charts) only
    the XLSX, which exporters.report_tables makes without charts."""
    try:
        from exporters.report import render_report
    except ImportError as missing:
        log(f"PDF not measured: {missing}")
        from exporters.report_tables import report_xlsx
        return {"xlsx": lambda report: report_xlsx(report, language="zh-CN")}
    return {fmt: (lambda report, fmt=fmt: render_report(report, fmt, language="zh-CN")) for fmt in ("pdf", "xlsx")}


def report_of(engine: Engine, edition_id: int) -> dict:
    """The edition report as the page and `exhibit-crm report` make it: one read-only session."""
    return read_in_session(engine, edition_report, edition_id=edition_id, now=NOW)


def repeated(fn: Callable[[], object], runs: int) -> tuple[list[float], dict]:
    """Seconds of each of `runs` calls, with this process's CPU seconds and the 1-minute load average after each
    (on a busy machine the wall time grows, the CPU time much less)."""
    seconds, beside = [], {"cpu_s": [], "load_avg_1m": []}
    for _ in range(runs):
        cpu = time.process_time()
        seconds.append(round(timed(fn), 3))
        beside["cpu_s"].append(round(time.process_time() - cpu, 3))
        beside["load_avg_1m"].append(round(os.getloadavg()[0], 2))
    return seconds, beside


def figure(backend: str, op: str, seconds: list[float], beside: dict, config: dict, pg: str | None,
           **extra) -> dict:
    target = TARGETS_S.get(op)
    return {"bench": "report", "backend": backend, "op": op, "unit": "s", "count": 1, "runs": len(seconds),
            "median_s": median(seconds) if seconds else None, "runs_s": seconds, **beside, "target_s": target,
            "met": None if target is None or not seconds else median(seconds) <= target, **extra, "config": config,
            "at": now_iso(), "machine": machine(postgres_version=pg)}


def headline(report: dict) -> dict:
    """A few of the report's figures, to show the data is the shape intended."""
    visitors, before = report["visitors"], report["previous_edition"] or {}
    return {"registered": visitors["registered"], "attended": visitors["attended"], "visits": visitors["visits"],
            "returning": visitors["returning"], "exhibitors": report["exhibitors"]["count"],
            "leads": report["exhibitors"]["leads"]["total"], "rebooking_rate": before.get("rebooking_rate"),
            "churned": len(before.get("churned", [])), "previous_attended": next(
                (f["previous"] for f in before.get("figures", []) if f["figure"] == "visitors.attended"), None)}


@contextmanager
def profiled(label: str, out: Path | None) -> Iterator[None]:
    """Profile the block with pyinstrument; the call tree to stderr (and to `out`)."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        log(f"--- profile: {label}\n{tree}")
        if out is not None:
            out.write_text(tree, encoding="utf-8")


def measure(backend: str, engine: Engine, args: argparse.Namespace, pg: str | None, files: bool) -> dict:
    show = Show(engine, args)
    log(f"{backend}: generating {args.visitors} registrations and ~{args.scans} scans an edition")
    started = time.perf_counter()
    editions = show.build()
    generated = round(time.perf_counter() - started, 1)
    config = {"visitors": args.visitors, "scans": args.scans, "previous_scans": args.previous_scans,
              "exhibitors": args.exhibitors, "leads": args.leads, "seed": args.seed, "rows": show.counts}
    emit(figure(backend, "generate", [generated], {"load_avg_1m": [round(os.getloadavg()[0], 2)]}, config, pg))
    log(f"{backend}: generated in {generated} s: {show.counts}")
    report = report_of(engine, editions["measured"])
    seconds, beside = repeated(lambda: report_of(engine, editions["measured"]), args.runs)
    emit(figure(backend, "edition_report", seconds, beside, config, pg, report=headline(report)))
    log(f"{backend}: edition_report {seconds} s")
    if args.profile:
        with profiled(f"{backend} edition_report", args.profile_dir and args.profile_dir / f"report-{backend}.txt"):
            report_of(engine, editions["measured"])
    if files:
        for fmt, make in file_makers().items():
            try:
                size = len(make(report))
            except Exception as failed:  # a file that cannot be made is a finding, not the end of the run
                log(f"{fmt} failed: {failed!r}")
                emit(figure("none", fmt, [], {}, config, None, error=repr(failed)))
                continue
            seconds, beside = repeated(lambda make=make: make(report), args.runs)
            emit(figure("none", fmt, seconds, beside, config, None, bytes=size))
            log(f"{fmt}: {seconds} s, {size} bytes")
            if args.profile:
                with profiled(fmt, args.profile_dir and args.profile_dir / f"{fmt}.txt"):
                    make(report)
    return report


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench report", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--visitors", type=int, default=100_000, help="registrations an edition (visitor badges, press)")
    p.add_argument("--scans", type=int, default=600_000, help="gate scans of the measured edition (about)")
    p.add_argument("--previous-scans", type=int, help="gate scans of the previous edition (default: --scans)")
    p.add_argument("--exhibitors", type=int, default=1_000, help="exhibitors an edition")
    p.add_argument("--leads", type=int, default=50_000, help="leads an edition (about)")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--profile", action="store_true", help="profile one more report and file with pyinstrument")
    p.add_argument("--profile-dir", type=Path, help="also write the profiles' call trees here")
    p.add_argument("--database-url", help="an existing PostgreSQL server to use instead of a private cluster")
    return p


def main(argv: list[str]) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.previous_scans is None:
        args.previous_scans = args.scans
    for name in ("visitors", "exhibitors", "runs"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be at least 1")
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as tmp:
        for number, backend in enumerate(backends):
            with _server(backend, args.database_url) as (server_url, pg):
                with fresh_database(workdir=Path(tmp), server_url=server_url) as engine:
                    measure(backend, engine, args, pg, files=number == 0)
    return 0


@contextmanager
def _server(backend: str, database_url: str | None) -> Iterator[tuple[str | None, str | None]]:
    if backend == "sqlite":
        yield None, None
        return
    with postgres_server(database_url) as url:
        yield url, postgres_version(url)
