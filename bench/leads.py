"""Lead list downloads of one exhibitor's 20,000 leads as CSV, XLSX and CRM CSV (targets: XLSX <= 3 s, CSV <= 1 s)."""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

from bench.common import emit, fresh_database, log, machine, median, now_iso
from bench.desk_search import company_rows, contact_rows
from event_phases.on_site.booth import download_leads
from exhibit_crm import audit
from exhibit_crm.db import session_scope
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Edition,
    Exhibitor,
    ExhibitorUser,
    Lead,
    LeadQuestion,
    Registration,
    Series,
    utcnow,
)

TARGETS = {"csv": 1.0, "xlsx": 3.0, "crm-csv": 1.0}
NOTES = ("询问沙发OEM价格，每月约两个货柜", "需要最新产品目录", "Asked for a quote on 200 dining chairs", "", "",
         "Wants the catalogue in English, follow up after the show")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench leads", description=__doc__)
    p.add_argument("--leads", type=int, default=20_000, help="leads of the exhibitor (default 20,000)")
    p.add_argument("--runs", type=int, default=5, help="downloads per format; the median is reported (default 5)")
    return p


def _fill(engine, leads: int, rng: random.Random) -> tuple[int, int]:
    """An edition with one exhibitor, three qualification questions and `leads` leads (half of them shared)."""
    with session_scope(engine) as session:
        series = Series(name="Bench Fair")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Bench Fair 2026", year=2026)
        session.add(edition)
        session.flush()
        badge = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor", audience="trade_visitor")
        company = Company(name="广州华美家居有限公司", name_key="广州华美家居有限公司")
        session.add_all([badge, company])
        session.flush()
        exhibitor = Exhibitor(edition_id=edition.id, company_id=company.id, status="paid")
        session.add(exhibitor)
        session.flush()
        user = ExhibitorUser(exhibitor_id=exhibitor.id, email="sales@huamei.example.cn", name="陈静")
        questions = [LeadQuestion(exhibitor_id=exhibitor.id, label=label, kind=kind, options=options, position=n)
                     for n, (label, kind, options) in enumerate((
                         ("预算已确认", "checkbox", []), ("Decision maker", "checkbox", []),
                         ("Order volume", "select", ["< 1 container", "1–5 containers", "> 5 containers"])))]
        session.add(user)
        session.add_all(questions)
        session.flush()
        companies = company_rows(max(leads // 4, 1), rng)
        session.execute(insert(Company), companies)
        contacts = contact_rows(leads, len(companies), rng)
        for contact in contacts:
            contact["consent_share"] = rng.random() < 0.5
        contact_ids = session.execute(insert(Contact).execution_options(render_nulls=True)
                                      .returning(Contact.id, sort_by_parameter_order=True), contacts).scalars().all()
        registration_ids = session.execute(
            insert(Registration).returning(Registration.id, sort_by_parameter_order=True),
            [{"contact_id": cid, "edition_id": edition.id, "badge_type_id": badge.id, "source": "online",
              "answers": {}, "status": "registered", "badge_version": 1} for cid in contact_ids]).scalars().all()
        start = utcnow() - timedelta(days=2)
        rows = []
        for n, registration_id in enumerate(registration_ids):
            at = start + timedelta(seconds=n * 5)
            rows.append({"exhibitor_id": exhibitor.id, "registration_id": registration_id, "scanned_by_id": user.id,
                         "rating": rng.choice(("hot", "warm", "cold", None)), "notes": rng.choice(NOTES),
                         "answers": {str(questions[0].id): rng.random() < 0.5, str(questions[1].id): rng.random() < 0.3,
                                     str(questions[2].id): rng.choice(questions[2].options)},
                         "created_at": at, "updated_at": at})
        session.execute(insert(Lead).execution_options(render_nulls=True), rows)
        return exhibitor.id, user.id


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if args.leads < 1 or args.runs < 1:
        parser().error("--leads and --runs must be at least 1")
    emit({"bench": "leads", "at": now_iso(), "machine": machine(), "leads": args.leads, "runs": args.runs})
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as workdir, \
            fresh_database(workdir=Path(workdir)) as engine:
        log(f"filling {args.leads:,} leads …")
        exhibitor_id, user_id = _fill(engine, args.leads, random.Random(2026))
        actor = audit.Actor("exhibitor_user", user_id, "sales@huamei.example.cn")
        for fmt, target in TARGETS.items():
            seconds, cpu, size, rows = [], [], 0, 0
            for _run in range(args.runs):
                with session_scope(engine) as session:
                    started, started_cpu = time.perf_counter(), time.process_time()
                    download = download_leads(session, exhibitor_id=exhibitor_id, fmt=fmt, actor=actor,
                                              language="zh-CN")
                    seconds.append(time.perf_counter() - started)
                    cpu.append(time.process_time() - started_cpu)
                size, rows = len(download.data), download.rows
            emit({"bench": "leads", "backend": "sqlite", "format": fmt, "rows": rows, "bytes": size,
                  "median_s": round(median(seconds), 3), "runs_s": [round(s, 3) for s in seconds],
                  # CPU seconds of this process: what the download costs when other work shares the cores
                  "median_cpu_s": round(median(cpu), 3),
                  "target_s": target, "met": median(seconds) <= target})
        with session_scope(engine) as session:
            assert session.scalar(select(Lead.id).where(Lead.exhibitor_id == exhibitor_id).limit(1))
    return 0
