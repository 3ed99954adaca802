"""Raw insert and lookup rate of the storage layer (engine + session from exhibit_crm.db) on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from bench.common import (
    emit,
    fresh_database,
    log,
    machine,
    median,
    now_iso,
    percentile,
    postgres_server,
    postgres_version,
    timed,
)
from exhibit_crm.db import session_scope
from exhibit_crm.models import BadgeType, Contact, Edition, Gate, GateDevice, Registration, Scan, Series, Zone

# Names as an organiser's contact list holds them: mostly mainland Chinese, with international buyers.
SURNAMES = [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
            ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"), ("徐", "xu"), ("孙", "sun"),
            ("马", "ma"), ("朱", "zhu"), ("胡", "hu"), ("郭", "guo"), ("林", "lin"), ("欧阳", "ouyang")]
GIVEN = [("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"), ("强", "qiang"),
         ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"), ("晓", "xiao"),
         ("宇", "yu"), ("鑫", "xin"), ("浩", "hao"), ("䶮", "yan"), ("婷", "ting"), ("建华", "jianhua")]
PLACES = [("上海", "上海"), ("广东", "广州"), ("广东", "深圳"), ("浙江", "杭州"), ("江苏", "苏州"), ("北京", "北京"),
          ("四川", "成都"), ("福建", "厦门")]
CN_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "kukahome.cn", "oppein.com"]
FIRST = ["Anna", "James", "Maria", "David", "Sarah", "Thomas", "Laura", "Michael", "Sophie", "Lukas", "Giulia",
         "Marco", "Olivia", "Kenji", "Minh", "Fatima", "Jürgen", "Zoë"]
LAST = ["Schmidt", "Smith", "Müller", "Rossi", "García", "Johnson", "Brown", "Dubois", "Tanaka", "Kim", "Nguyen",
        "O'Brien", "Novak", "Hansen", "Silva", "Kowalski"]
# country, E.164 prefix, national digits after the prefix, language, city
ABROAD = [("DE", "+4915", 9, "de", "Köln"), ("US", "+1212", 7, "en", "New York"), ("GB", "+447", 9, "en", "London"),
          ("IT", "+393", 9, "it", "Milano"), ("JP", "+8190", 8, "ja", "大阪"), ("KR", "+8210", 8, "ko", "서울"),
          ("VN", "+849", 8, "vi", "Hồ Chí Minh")]
TITLES = ["采购经理", "总经理", "设计师", "Purchasing Manager", "CEO", "Interior Designer", "Buyer", ""]


def _ascii(name: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", name).lower() if c.isascii() and c.isalnum())


def _chinese(rng: random.Random, i: int) -> dict:
    (surname, s_py), (given, g_py) = rng.choice(SURNAMES), rng.choice(GIVEN)
    province, city = rng.choice(PLACES)
    return {"first_name": given, "last_name": surname, "full_name": surname + given,
            "email": f"{g_py}.{s_py}{i}@{rng.choice(CN_DOMAINS)}", "phone": f"+861{rng.randint(3, 9)}{i:09d}",
            "country": "CN", "province": province, "city": city, "language": "zh-CN"}


def _international(rng: random.Random, i: int) -> dict:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    country, prefix, digits, language, city = rng.choice(ABROAD)
    return {"first_name": first, "last_name": last, "full_name": f"{first} {last}",
            "email": f"{_ascii(first)}.{_ascii(last)}{i}@example-{country.lower()}.com",
            "phone": f"{prefix}{i % 10**digits:0{digits}d}", "country": country, "province": "", "city": city,
            "language": language}


def contact_rows(n: int, *, seed: int = 2026) -> list[dict]:
    """n contacts with unique normalised e-mails and E.164 phones; the same list for the same seed."""
    rng = random.Random(seed)
    consented = datetime(2026, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        row = _chinese(rng, i) if rng.random() < 0.75 else _international(rng, i)
        marketing = rng.random() < 0.6
        row.update(title=rng.choice(TITLES), consent_marketing=marketing,
                   consent_marketing_at=consented if marketing else None,
                   consent_marketing_source="online_registration" if marketing else "")
        rows.append(row)
    return rows


def _gate_fixture(engine: Engine, registrations: int) -> dict:
    """An edition, zone, gate, device and badge type, and registrations for the first contacts, to scan."""
    with session_scope(engine) as session:
        series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具展")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026, venue="NECC Shanghai")
        session.add(edition)
        session.flush()
        zone = Zone(edition_id=edition.id, name="Hall 1")
        badge = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor", audience="trade_visitor")
        session.add_all([zone, badge])
        session.flush()
        gate = Gate(zone_id=zone.id, name="Hall 1 Gate A")
        session.add(gate)
        session.flush()
        device = GateDevice(gate_id=gate.id, name="Turnstile 1", token_hash=uuid.uuid4().hex)
        session.add(device)
        session.flush()
        contact_ids = session.exec(select(Contact.id).order_by(Contact.id).limit(registrations)).all()
        session.execute(insert(Registration), [{"contact_id": cid, "edition_id": edition.id,
                                                "badge_type_id": badge.id, "source": "online"} for cid in contact_ids])
        registration_ids = session.exec(select(Registration.id)).all()
        return {"gate_id": gate.id, "zone_id": zone.id, "device_id": device.id, "registration_ids": registration_ids}


def _latencies(items: Sequence, call: Callable[[object], object]) -> list[float]:
    """Seconds each call takes, one item at a time."""
    latencies = []
    for item in items:
        start = time.perf_counter()
        call(item)
        latencies.append(time.perf_counter() - start)
    return latencies


# The measured operations, each in the shape the app gives it: a session_scope per transaction.

def bulk_insert(engine: Engine, rows: list[dict]) -> None:
    """All rows through one Core executemany in one transaction: the shape of an import."""
    # Without render_nulls the ORM leaves out None values and splits the rows into one batch per run of equal key
    # sets: contacts with and without a consent date then go in tens of thousands of tiny batches (2x slower on
    # SQLite, 5x on PostgreSQL).
    with session_scope(engine) as session:
        session.execute(insert(Contact).execution_options(render_nulls=True), rows)


def scan_insert(engine: Engine, fixture: dict, registration_id: int) -> None:
    """One Scan row and a commit: the write a gate scan makes."""
    with session_scope(engine) as session:
        session.add(Scan(scan_id=uuid.uuid4().hex, device_id=fixture["device_id"], gate_id=fixture["gate_id"],
                         zone_id=fixture["zone_id"], registration_id=registration_id, badge_version=1,
                         direction="in", scanned_at=datetime.now(UTC), verdict="accepted"))


def lookup_email(engine: Engine, email: str) -> None:
    with session_scope(engine) as session:
        session.exec(select(Contact).where(Contact.email == email)).one()


def lookup_pk(engine: Engine, contact_id: int) -> None:
    # a new session each time, so its identity map never answers instead of the database
    with session_scope(engine) as session:
        if session.get(Contact, contact_id) is None:
            raise LookupError(contact_id)


OPS = {"bulk_insert": "rows", "single_insert": "rows", "lookup_email": "lookups", "lookup_pk": "lookups"}


def one_run(engine: Engine, rows: list[dict], args: argparse.Namespace, rng: random.Random) -> dict:
    """Every operation once on a fresh database: {op: (total seconds, per-operation seconds or None)}."""
    results = {"bulk_insert": (timed(lambda: bulk_insert(engine, rows)), None)}
    fixture = _gate_fixture(engine, args.single_inserts)
    registrations = [rng.choice(fixture["registration_ids"]) for _ in range(args.single_inserts)]
    emails = [rng.choice(rows)["email"] for _ in range(args.lookups)]
    with Session(engine) as session:
        ids = session.exec(select(Contact.id)).all()
    ids = [rng.choice(ids) for _ in range(args.lookups)]
    for op, items, call in (("single_insert", registrations, lambda r: scan_insert(engine, fixture, r)),
                            ("lookup_email", emails, lambda e: lookup_email(engine, e)),
                            ("lookup_pk", ids, lambda i: lookup_pk(engine, i))):
        start = time.perf_counter()
        latencies = _latencies(items, call)
        results[op] = (time.perf_counter() - start, latencies)
    return results


def _config(engine: Engine) -> dict:
    """The settings that decide what a commit costs."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            return {"journal_mode": connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                    "synchronous": ["OFF", "NORMAL", "FULL", "EXTRA"][synchronous]}
        return {name: connection.execute(text(f"SHOW {name}")).scalar()
                for name in ("fsync", "synchronous_commit", "shared_buffers")}


def figure(op: str, runs: list[tuple[float, list[float] | None]], count: int) -> dict:
    """One op's figure: the median over runs of its total time and of each run's latency percentiles."""
    total = median([seconds for seconds, _ in runs])
    result = {"op": op, "unit": OPS[op], "count": count, "runs": len(runs), "median_s": round(total, 4),
              "per_s": round(count / total, 1)}
    for p in (50, 95, 99):
        per_run = [percentile(latencies, p) for _, latencies in runs if latencies]
        result[f"p{p}_ms"] = round(median(per_run) * 1000, 3) if per_run else None
    return result


@contextmanager
def _server(backend: str, args: argparse.Namespace) -> Iterator[tuple[str | None, dict]]:
    """(PostgreSQL server URL or None for SQLite, machine description) for one backend."""
    if backend == "sqlite":
        yield None, machine()
        return
    with postgres_server(args.database_url) as url:
        yield url, machine(postgres_version=postgres_version(url))


def measure_backend(backend: str, args: argparse.Namespace, rows: list[dict], workdir: Path) -> None:
    """All runs on one backend, then one JSON line per op."""
    rng = random.Random(args.seed)
    results: dict[str, list] = {op: [] for op in OPS}
    with _server(backend, args) as (server_url, described):
        for run in range(1, args.runs + 1):
            with fresh_database(workdir=workdir, server_url=server_url) as engine:
                config = _config(engine)
                for op, measured in one_run(engine, rows, args, rng).items():
                    results[op].append(measured)
                    log(f"storage {backend} run {run}/{args.runs}: {op} {len(measured[1] or rows)} "
                        f"in {measured[0]:.2f} s")
    counts = {"bulk_insert": len(rows), "single_insert": args.single_inserts, "lookup_email": args.lookups,
              "lookup_pk": args.lookups}
    for op, runs in results.items():
        emit({"bench": "storage", "backend": backend, **figure(op, runs, counts[op]), "table_rows": len(rows),
              "config": config, "at": now_iso(), "machine": described})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench storage", description=__doc__)
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--rows", type=int, default=100_000, help="contacts in the bulk insert (default 100000)")
    p.add_argument("--single-inserts", type=int, default=2_000,
                   help="scan rows inserted one per committed transaction (default 2000)")
    p.add_argument("--lookups", type=int, default=10_000, help="lookups by e-mail and by id (default 10000 each)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure; figures are medians (default 3)")
    p.add_argument("--seed", type=int, default=2026, help="seed for the generated data and the lookup order")
    p.add_argument("--database-url", help="an existing PostgreSQL server to use instead of a private cluster "
                                          "(a scratch database is created and dropped; needs CREATEDB)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    for name in ("rows", "single_inserts", "lookups", "runs"):
        if getattr(args, name) < 1:
            parser().error(f"--{name.replace('_', '-')} must be at least 1")
    if args.database_url and make_url(args.database_url).get_backend_name() != "postgresql":
        parser().error("--database-url must name a PostgreSQL server")
    rows = contact_rows(args.rows, seed=args.seed)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as workdir:
        for backend in backends:
            measure_backend(backend, args, rows, Path(workdir))
    return 0
