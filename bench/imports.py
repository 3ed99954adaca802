"""Import of a visitor list (default 100,000 rows) with dedupe into a SQLite database holding 100,000 contacts.

The list is what organisers get: Chinese names, mobiles written in several ways, mixed-case e-mails, companies; a
share of the rows are people the database knows (matched by e-mail or by phone), and some rows repeat a person of
the same list. Each run imports the same CSV into a fresh copy of the seeded database and times the whole commit:
reading the file, checking every row, matching, writing contacts, companies, sources and registrations, and the
desk search index. Target: 10 s on the 2-core machine. The process's CPU time is reported too: on a shared machine
(see each run's load average) the wall time also counts the time other processes held the cores.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, func, insert, select

from bench.common import emit, log, machine, median, now_iso
from bench.storage import contact_rows
from event_phases.pre_show.imports import committing
from event_phases.pre_show.imports import importing as imports
from event_phases.pre_show.imports.files import Table, read_table
from exhibit_crm import audit, migrate
from exhibit_crm.contacts import normalise_phone
from exhibit_crm.db import make_engine, read_in_session, run_in_session, session_scope
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import BadgeType, Contact, Edition, Series

COMPANIES = ["上海家居有限公司", "广州华美家居", "深圳木业集团", "杭州桌椅制造厂", "苏州软体家具", "成都家具城",
             "北京宜居设计", "厦门竹木工艺", "Möbel AG", "Casa Design S.r.l."]
TITLES = ["采购经理", "总经理", "设计师", "采购总监", "店长", ""]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench imports", description=__doc__.splitlines()[0])
    list_options(p, rows=100_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--profile", action="store_true", help="print a pyinstrument profile of the first run")
    p.add_argument("--one-transaction", action="store_true",
                   help="commit in one transaction (the way before chunks) rather than in chunks")
    return p


def list_options(p: argparse.ArgumentParser, *, rows: int) -> None:
    """The options of the database and the list (see _csv)."""
    p.add_argument("--contacts", type=int, default=100_000, help="contacts in the database before the import")
    p.add_argument("--rows", type=int, default=rows, help="rows in the imported list")
    p.add_argument("--known", type=float, default=0.3, help="share of rows that are contacts the database has")
    p.add_argument("--repeats", type=float, default=0.05, help="share of rows repeating a person of the list")


def _seed(path: Path, contacts: int) -> int:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        series = Series(name="Shanghai International Furniture Fair")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026, timezone="Asia/Shanghai")
        session.add(edition)
        session.flush()
        session.add(BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor",
                              audience="trade_visitor"))
        session.execute(insert(Contact).execution_options(render_nulls=True), contact_rows(contacts))
        edition_id = edition.id
    engine.dispose()
    return edition_id


def _valid_phone(e164: str) -> bool:
    try:
        return normalise_phone(e164) == e164
    except InvalidInput:
        return False


def _phone_as_typed(e164: str, rng: random.Random) -> str:
    if not e164.startswith("+86"):
        return e164
    national = e164[3:]
    return rng.choice([national, f"{national[:3]} {national[3:7]} {national[7:]}", f"+86 {national}",
                       f"{national[:3]}-{national[3:7]}-{national[7:]}"])


def _csv(known: list[dict], args: argparse.Namespace, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    known = [p for p in known if _valid_phone(p["phone"])]  # the seeded numbers include unallocated ranges
    fresh = contact_rows(args.rows, seed=99)
    rows: list[list[str]] = []
    for i in range(args.rows):
        if rng.random() < args.known and known:
            person = rng.choice(known)
            by_email = rng.random() < 0.6
            email = person["email"].upper() if by_email and rng.random() < 0.3 else person["email"] if by_email \
                else ""
            phone = person["phone"] if not by_email or rng.random() < 0.5 else ""
        elif rows and rng.random() < args.repeats:
            rows.append(list(rng.choice(rows)))
            continue
        else:
            person = fresh[i]
            # fresh people must not collide with the seeded ones: another number range
            email, phone = f"x{i}.{person['email']}", f"+86150{i:08d}"
        rows.append([person["full_name"], _phone_as_typed(phone, rng) if phone else "", email,
                     rng.choice(COMPANIES), rng.choice(TITLES), person["province"], person["city"]])
    lines = ["姓名,手机号码,电子邮件,公司名称,职务,省份,城市"]
    lines += [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def commit(engine: Engine, table: Table, edition_id: int, *, one_transaction: bool,
           progress: imports.Progress | None = None) -> imports.Report:
    """Import the list as `exhibit-crm import` does (in chunks), or in one transaction."""
    mapping = read_in_session(engine, imports.suggested_mapping, edition_id=edition_id, kind="visitors",
                              header=table.header)
    options = {"edition_id": edition_id, "kind": "visitors", "table": table, "mapping": mapping,
               "source": "bench list", "actor": audit.CLI, "progress": progress}
    if one_transaction:
        return run_in_session(engine, imports.run, **options, commit=True)
    return committing.commit(engine, **options)


def one_run(seeded: Path, workdir: Path, data: bytes, edition_id: int, *, profile: bool,
            one_transaction: bool = False) -> dict:
    path = workdir / "run.sqlite"
    shutil.copyfile(seeded, path)
    engine = make_engine(f"sqlite:///{path}")
    profiler = None
    if profile:
        from pyinstrument import Profiler
        profiler = Profiler()
        profiler.start()
    start, cpu_start = time.perf_counter(), time.process_time()
    table = read_table(data)
    read_s = time.perf_counter() - start
    report = commit(engine, table, edition_id, one_transaction=one_transaction)
    total_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
    if profiler is not None:
        profiler.stop()
        log(profiler.output_text(unicode=True, color=False, show_all=False))
    with session_scope(engine) as session:
        contacts = session.scalar(select(func.count()).select_from(Contact))
    engine.dispose()
    for leftover in workdir.glob("run.sqlite*"):
        leftover.unlink()
    return {"total_s": round(total_s, 3), "cpu_s": round(cpu_s, 3), "read_s": round(read_s, 3),
            "load_avg_1m": round(os.getloadavg()[0], 2), "contacts_after": contacts,
            **{k: report.as_dict()[k] for k in ("rows", "new", "merged", "duplicates", "invalid", "registered")}}


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as tmp:
        workdir = Path(tmp)
        seeded = workdir / "seeded.sqlite"
        log(f"seeding {args.contacts} contacts")
        edition_id = _seed(seeded, args.contacts)
        data = _csv(contact_rows(args.contacts), args)
        log(f"list: {args.rows} rows, {len(data) / 2**20:.1f} MiB")
        runs = []
        for run in range(args.runs):
            result = one_run(seeded, workdir, data, edition_id, profile=args.profile and run == 0,
                             one_transaction=args.one_transaction)
            log(f"run {run + 1}: {result}")
            runs.append(result)
        emit({"benchmark": "imports", "backend": "sqlite",
              "commit": "one transaction" if args.one_transaction else "chunks", "contacts_before": args.contacts,
              "rows": args.rows,
              "runs": args.runs, "median_s": round(median([r["total_s"] for r in runs]), 3),
              "runs_s": [r["total_s"] for r in runs], "cpu_median_s": round(median([r["cpu_s"] for r in runs]), 3),
              "runs_load_avg_1m": [r["load_avg_1m"] for r in runs],
              "read_median_s": round(median([r["read_s"] for r in runs]), 3),
              "target_s": 10, **{k: runs[0][k] for k in ("new", "merged", "duplicates", "invalid", "registered",
                                                           "contacts_after")},
              "machine": machine(), "at": now_iso()})
    return 0
