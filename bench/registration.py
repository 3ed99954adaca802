"""Public registration submits per second over real HTTP to one server process (uvicorn, one worker, SQLite).

Concurrent clients, each with its own session (it loads the form once for its CSRF token), post the form for
distinct people; every submit registers a new person and queues the confirmation mail with the e-badge before it is
answered (the server commits the submits that arrive together in one transaction). What is measured is the POST
and its 303 answer; the client does not follow the redirect to the e-badge page. Prints JSON lines: the rate,
latency percentiles, the CPU time the server and the load generator spent per registration (on a shared machine
the rate follows the CPU share the processes get; CPU time per registration is the steadier figure), the load
average, and the rows found in the database afterwards.
`--profile` instead runs the registration service in-process, in groups of --clients as the server's writer takes
them, under pyinstrument (`--profile none`: no profiler, for its CPU time per registration).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlmodel import Session

from bench.common import _free_port, emit, fresh_database, log, machine, now_iso, percentile
from exhibit_crm.db import run_in_session
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Edition,
    Exhibitor,
    OutboxAttachment,
    OutboxMessage,
    ProductCategory,
    Registration,
    RegistrationQuestion,
    Series,
)

TARGET_PER_SECOND = 300
READY_TIMEOUT_S = 30


def seed(engine) -> int:
    """An edition like the demo's: three questions (one giving badge types), two categories, 20 exhibitors."""
    with Session(engine, expire_on_commit=False) as session:
        series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具展")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026, venue="NECC Shanghai")
        session.add(edition)
        session.flush()
        for code, name in (("trade_visitor", "Trade visitor"), ("public_visitor", "Public visitor")):
            session.add(BadgeType(edition_id=edition.id, code=code, name=name, audience=code))
        session.add_all([
            RegistrationQuestion(edition_id=edition.id, key="visitor", label="You are", label_zh="您是", kind="single",
                                 required=True, position=1, options=[
                                     {"value": "buyer", "label": "Trade buyer", "badge_type": "trade_visitor"},
                                     {"value": "public", "label": "Public", "badge_type": "public_visitor"}]),
            RegistrationQuestion(edition_id=edition.id, key="interests", label="Interests", kind="multiple",
                                 position=2, options=[{"value": "sofa", "label": "Sofas", "category": "sofas"},
                                                      {"value": "office", "label": "Office", "category": "office"}]),
            RegistrationQuestion(edition_id=edition.id, key="purpose", label="Purpose", kind="text", position=3),
            ProductCategory(edition_id=edition.id, code="sofas", name="Sofas", name_zh="沙发"),
            ProductCategory(edition_id=edition.id, code="office", name="Office", name_zh="办公家具"),
        ])
        for number in range(20):
            company = Company(name=f"展商{number:02d}家具有限公司", name_key=f"展商{number:02d}家具有限公司")
            session.add(company)
            session.flush()
            session.add(Exhibitor(edition_id=edition.id, company_id=company.id, status="paid", booth_hall="N1",
                                  booth_number=f"A{number:02d}",
                                  product_categories=["sofas", "office"][: 1 + number % 2]))
        session.commit()
        return edition.id


def person(index: int) -> dict:
    return {"full_name": f"王{index}", "company": f"宁波家居{index % 500}", "title": "采购经理",
            "phone": f"138{index:08d}", "email": f"visitor{index}@bench.example.cn", "country": "CN",
            "answers.visitor": "buyer", "answers.interests": ["sofa", "office"], "answers.purpose": "采购",
            "consent_share": "yes"}


@contextmanager
def server(database_url: str, data_dir: Path, log_path: Path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "BASE_URL": url}
    with log_path.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "exhibit_crm.cli", "serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--workers", "1", "--no-upgrade"],
                                   env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


async def client(url: str, edition_id: int, indexes: list[int], latencies: list[float], failures: list[str]) -> None:
    form_path = f"/register/{edition_id}/zh-CN"
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        page = await http.get(form_path)
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        for index in indexes:
            start = time.perf_counter()
            response = await http.post(form_path, data={**person(index), "csrf_token": token})
            latencies.append(time.perf_counter() - start)
            if response.status_code != 303 or "/e-badge/" not in response.headers.get("location", ""):
                failures.append(f"{index}: {response.status_code}")


async def load(url: str, edition_id: int, *, start: int, count: int, clients: int) -> tuple[float, list, list]:
    latencies: list[float] = []
    failures: list[str] = []
    shares = [list(range(start + k, start + count, clients)) for k in range(clients)]
    began = time.perf_counter()
    await asyncio.gather(*(client(url, edition_id, share, latencies, failures) for share in shares))
    return time.perf_counter() - began, latencies, failures


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def counts(engine) -> dict:
    def query(session):
        return {name: session.scalar(select(func.count()).select_from(model)) for name, model in (
            ("contacts", Contact), ("registrations", Registration), ("outbox_messages", OutboxMessage),
            ("outbox_attachments", OutboxAttachment))}
    return run_in_session(engine, query)


def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-reg-") as folder:
        workdir = Path(folder)
        with fresh_database(workdir=workdir) as engine:
            edition_id = seed(engine)
            database_url = engine.url.render_as_string(hide_password=False)
            with server(database_url, workdir / "data", workdir / "server.log") as (url, pid):
                log(f"server at {url}; warming up with {args.warmup} registrations")
                asyncio.run(load(url, edition_id, start=0, count=args.warmup, clients=args.clients))
                log(f"{args.registrations} registrations from {args.clients} clients")
                load_before, server_before, client_before = os.getloadavg()[0], cpu_seconds(pid), time.process_time()
                seconds, latencies, failures = asyncio.run(
                    load(url, edition_id, start=args.warmup, count=args.registrations, clients=args.clients))
                server_cpu, client_cpu = cpu_seconds(pid) - server_before, time.process_time() - client_before
            rows = counts(engine)
    rate = args.registrations / seconds
    emit({"benchmark": "registration", "figure": "registrations_per_second", "backend": "sqlite", "workers": 1,
          "clients": args.clients, "registrations": args.registrations, "seconds": round(seconds, 3),
          "per_second": round(rate, 1), "target_per_second": TARGET_PER_SECOND,
          "meets_target": rate >= TARGET_PER_SECOND,
          "p50_ms": round(percentile(latencies, 50) * 1000, 1), "p99_ms": round(percentile(latencies, 99) * 1000, 1),
          "server_cpu_ms_per_registration": round(server_cpu * 1000 / args.registrations, 2),
          "client_cpu_ms_per_registration": round(client_cpu * 1000 / args.registrations, 2),
          "load_avg_1m_before": round(load_before, 2),
          "failures": len(failures), "first_failures": failures[:5], "rows": rows, "measured_at": now_iso(),
          "machine": machine()})


def profile(args: argparse.Namespace) -> None:
    """Where a registration's time goes, in-process (no HTTP): the service with its commit, in groups."""
    from pyinstrument import Profiler

    from badge_scanner.codes import Signer
    from event_phases.pre_show import registration

    signer, links = Signer.generate(), registration.Links("http://127.0.0.1:8000", "bench secret")

    def form(index: int) -> registration.RegistrationIn:
        data = person(index)
        return registration.RegistrationIn(
            **{k: v for k, v in data.items() if not k.startswith(("answers.", "consent"))}, consent_share=True,
            answers={k.removeprefix("answers."): v for k, v in data.items() if k.startswith("answers.")})

    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-reg-") as folder:
        with fresh_database(workdir=Path(folder)) as engine:
            edition_id = seed(engine)
            profiler = Profiler() if args.profile == "pyinstrument" else contextlib.nullcontext()
            began, cpu = time.perf_counter(), time.process_time()
            with profiler:
                # in groups of --clients, as the server's group-commit writer takes them when every client waits
                for start in range(0, args.registrations, args.clients):
                    items = [(edition_id, form(index))
                             for index in range(start, min(start + args.clients, args.registrations))]
                    run_in_session(engine, registration.register_visitors, items=items, signer=signer, links=links)
            seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    if args.profile == "pyinstrument":
        print(profiler.output_text(unicode=True, color=False), file=sys.stderr)
    emit({"benchmark": "registration", "figure": f"in_process_service_per_second_profiler_{args.profile}",
          "registrations": args.registrations, "group": args.clients,
          "per_second": round(args.registrations / seconds, 1),
          "cpu_ms_per_registration": round(cpu * 1000 / args.registrations, 2),
          "measured_at": now_iso(), "machine": machine()})


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench registration", description=__doc__)
    p.add_argument("--registrations", type=int, default=2000, help="registrations measured (default 2000)")
    p.add_argument("--warmup", type=int, default=100, help="registrations before measuring (default 100)")
    p.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    p.add_argument("--profile", nargs="?", const="pyinstrument", choices=("pyinstrument", "none"),
                   help="run the service in-process instead (no HTTP), under pyinstrument unless 'none' is given")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    profile(args) if args.profile else measure(args)
    return 0
