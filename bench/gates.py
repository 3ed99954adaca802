"""Gate and booth scans over real HTTP: single scans from 16 concurrent clients (wrk) and offline batch uploads, on
SQLite and PostgreSQL, against `exhibit-crm serve` started as the README recommends.

`--api scans` drives the scanner API (POST /api/v1/scans, /api/v1/scans/batch) with device tokens, `--api leads` the
lead API (POST /api/v1/leads, /api/v1/leads/batch) with exhibitor users' tokens. Besides wall-clock figures it
reports the server's CPU time per scan (all its processes, from /proc) and the load average, because the load
generator and any other work share the machine."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, insert, literal, select

from badge_scanner.codes import load_signer
from bench.common import emit, fresh_database, log, machine, median, now_iso, postgres_server, postgres_version
from exhibit_crm import auth
from exhibit_crm.db import make_engine, session_scope
from exhibit_crm.models import (
    BadgeType,
    Company,
    Contact,
    Edition,
    EditionDay,
    Exhibitor,
    ExhibitorUser,
    Gate,
    LeadScan,
    Registration,
    Scan,
    Series,
    Zone,
    ZoneAccess,
    utcnow,
)

SHOW_DAY = date(2026, 3, 10)
OPEN_AT = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
WRK_SCRIPT = r"""
local codes = {}
for line in io.lines(os.getenv("GATE_CODES")) do codes[#codes + 1] = line end
local tokens = {}
for token in string.gmatch(os.getenv("GATE_TOKENS"), "[^,]+") do tokens[#tokens + 1] = token end
local run = os.getenv("GATE_RUN")
local base = tonumber(os.getenv("GATE_OPEN_EPOCH"))
local threads, counter = 0, 0
local id = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local headers = {["Content-Type"] = "application/json"}

function init(args)
  counter = 0
end

local ratings = {"hot", "warm", "cold"}
local leads = os.getenv("GATE_API") == "leads"

function request()
  counter = counter + 1
  local n = counter * 7919 + id * 104729
  local code = codes[n % #codes + 1]
  local scan_id = run .. "-" .. id .. "-" .. counter
  -- one wrk thread drives every connection, so the requests take the tokens in turn: 16 devices (or booth phones)
  headers["Authorization"] = "Bearer " .. tokens[counter % #tokens + 1]
  if leads then
    local body = '{"code":"' .. code .. '","scan_id":"' .. scan_id .. '","rating":"' ..
                 ratings[counter % 3 + 1] .. '"}'
    return wrk.format("POST", "/api/v1/leads", headers, body)
  end
  local at = os.date("!%Y-%m-%dT%H:%M:%SZ", base + (counter % 25000))
  local body = '{"code":"' .. code .. '","direction":"in","scan_id":"' .. scan_id .. '","scanned_at":"' .. at .. '"}'
  return wrk.format("POST", "/api/v1/scans", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format('WRK {"requests":%d,"duration_us":%d,"non_2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n', summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def build(engine: Engine, *, people: int, devices: int) -> tuple[list[str], int]:
    """An edition with one show day and a free zone open to trade visitors, `people` registrations and devices at
    the zone's gate; returns the device tokens and the edition id."""
    with session_scope(engine) as session:
        series = Series(name="Shanghai International Furniture Fair")
        session.add(series)
        session.flush()
        edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026)
        session.add(edition)
        session.flush()
        session.add(EditionDay(edition_id=edition.id, day=SHOW_DAY, opens_at=clock(9), closes_at=clock(18)))
        zone = Zone(edition_id=edition.id, name="Hall 1", reentry="free")
        trade = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor", audience="trade_visitor")
        session.add_all([zone, trade])
        session.flush()
        gate = Gate(zone_id=zone.id, name="Gate A")
        session.add_all([gate, ZoneAccess(zone_id=zone.id, badge_type_id=trade.id)])
        session.flush()
        session.execute(insert(Contact), [{"full_name": f"访客{i}", "email": f"visitor{i}@example.cn"}
                                          for i in range(people)])
        session.execute(insert(Registration).from_select(
            ["contact_id", "edition_id", "badge_type_id", "source", "status", "badge_version", "answers",
             "registered_at"],
            select(Contact.id, literal(edition.id), literal(trade.id), literal("import"), literal("registered"),
                   literal(1), literal({}, Registration.__table__.c.answers.type),
                   literal(utcnow(), Registration.__table__.c.registered_at.type))))
        tokens = [auth.create_device(session, gate_id=gate.id, name=f"scanner {i}")[0] for i in range(devices)]
        return tokens, edition.id


def build_booths(engine: Engine, edition_id: int, *, exhibitors: int) -> list[str]:
    """`exhibitors` exhibitors of the edition with one staff member each; returns their bearer tokens."""
    with session_scope(engine) as session:
        tokens = []
        for i in range(exhibitors):
            company = Company(name=f"佛山家具制造{i}有限公司", name_key=f"佛山家具制造{i}有限公司")
            session.add(company)
            session.flush()
            exhibitor = Exhibitor(edition_id=edition_id, company_id=company.id, status="paid")
            session.add(exhibitor)
            session.flush()
            session.add(ExhibitorUser(exhibitor_id=exhibitor.id, email=f"sales{i}@booth.example.cn", name=f"销售{i}"))
            session.flush()
            tokens.append(auth.create_api_token(session, exhibitor_user_email=f"sales{i}@booth.example.cn")[0])
        return tokens


def codes_of(engine: Engine, data_dir: Path) -> list[str]:
    signer = load_signer(data_dir)
    with session_scope(engine) as session:
        return [signer.sign(reg_id, 1) for reg_id in session.scalars(select(Registration.id).order_by(Registration.id))]


@contextmanager
def server(url: str, data_dir: Path, workers: int, port: int) -> Iterator[tuple[str, int]]:
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "BASE_URL": base,
           "SECRET_KEY": "bench-secret"}
    process = subprocess.Popen([sys.executable, "-m", "exhibit_crm.cli", "serve", "--port", str(port), "--workers",
                                str(workers), "--no-upgrade"], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)  # polling while it starts
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=20)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children that are alive now (uvicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [grandchild for child in found for grandchild in _children(child)]


def run_wrk(base: str, *, tokens: list[str], codes_file: Path, run: str, seconds: int, connections: int,
            threads: int, script: Path, api: str = "scans", server_pid: int | None = None) -> dict:
    env = {**os.environ, "GATE_CODES": str(codes_file), "GATE_TOKENS": ",".join(tokens), "GATE_RUN": run,
           "GATE_OPEN_EPOCH": str(int(OPEN_AT.timestamp())), "GATE_API": api}
    cpu_before = cpu_seconds(server_pid) if server_pid else None
    load = subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
                             str(script), base], env=env, stdout=subprocess.PIPE, text=True)
    try:
        load.wait(timeout=seconds / 2)
    except subprocess.TimeoutExpired:
        split = connections_per_process(int(base.rsplit(":", 1)[1]))
    else:
        split = []
    out, _ = load.communicate()
    if load.returncode != 0:
        raise RuntimeError(f"wrk failed ({load.returncode}):\n{out}")
    found = re.search(r"^WRK (.*)$", out, re.M)
    if not found:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    figures = json.loads(found.group(1))
    figures["connections_per_process"] = split
    figures["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if server_pid:
        figures["server_cpu_ms_per_scan"] = round((cpu_seconds(server_pid) - cpu_before) * 1000
                                                  / max(figures["requests"], 1), 3)
    return figures


def connections_per_process(port: int) -> list[int]:
    """How the load's connections are shared among the server processes, most first: the kernel hands each new
    connection to whichever process accepts first, so two processes may get 8 and 8 or 14 and 2, and the figures
    move with it. Empty when `ss` (iproute2) is missing."""
    if shutil.which("ss") is None:
        return []
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True,
                         text=True).stdout
    counts: dict[str, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[pid] = counts.get(pid, 0) + 1
    return sorted(counts.values(), reverse=True)


def batch_upload(base: str, token: str, codes: list[str], *, run: str, api: str, server_pid: int) -> dict:
    """Upload one offline batch of these codes; seconds and the server's CPU milliseconds per scan."""
    if api == "leads":
        path, key = "/api/v1/leads/batch", "leads"
        items = [{"code": code, "scan_id": f"{run}-{i}", "rating": "warm"} for i, code in enumerate(codes)]
    else:
        path, key = "/api/v1/scans/batch", "scans"
        items = [{"code": code, "direction": "in", "scan_id": f"{run}-{i}", "offline": True,
                  "device_verdict": "accepted", "scanned_at": (OPEN_AT + timedelta(seconds=i)).isoformat()}
                 for i, code in enumerate(codes)]
    body = json.dumps({key: items}).encode()
    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    response = httpx.post(f"{base}{path}", content=body, timeout=300,
                          headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(server_pid) - cpu_before
    response.raise_for_status()
    assert len(response.json()["results"]) == len(codes)
    return {"seconds": elapsed, "cpu_ms_per_scan": cpu * 1000 / len(codes), "load_avg_1m": os.getloadavg()[0]}


def uploads_together(base: str, tokens: list[str], codes: list[str], *, run: str, api: str, server_pid: int) -> dict:
    """Several devices upload their offline batches at once (a share of `codes` each), as a hall's devices do when
    the network comes back: seconds from the first request to the last answer, the server's CPU per scan."""
    shares = [codes[i::len(tokens)] for i in range(len(tokens))]
    cpu_before = cpu_seconds(server_pid)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
        list(pool.map(lambda job: batch_upload(base, job[0], job[1], run=f"{run}-{job[2]}", api=api,
                                               server_pid=server_pid),
                      [(token, share, i) for i, (token, share) in enumerate(zip(tokens, shares, strict=True))]))
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(server_pid) - cpu_before
    return {"seconds": elapsed, "cpu_ms_per_scan": cpu * 1000 / len(codes), "load_avg_1m": os.getloadavg()[0]}


def measure(backend: str, url: str, args: argparse.Namespace, workdir: Path, common: dict) -> None:
    data_dir = workdir / "data"
    with fresh_database(workdir=workdir, server_url=None if backend == "sqlite" else url) as engine:
        devices = args.connections + args.uploaders
        tokens, edition_id = build(engine, people=args.people, devices=devices)
        if args.api == "leads":
            tokens = build_booths(engine, edition_id, exhibitors=devices)
        uploaders = tokens[args.connections:]
        codes = codes_of(engine, data_dir)
        # The batches get badges of their own, and every wrk run its own slice of the rest, so (unless a run sends
        # more scans than its slice holds) each scan brings a badge the server has not verified yet: the worst
        # case for the signature check, which a real show's repeated scans make cheaper.
        # ... and so do the rounds of uploads by several devices at once (batch_size scans a round in all)
        reserved = [codes[len(codes) - (i + 1) * args.batch_size:len(codes) - i * args.batch_size]
                    for i in range(2 * args.runs)]
        batch_codes, together_codes = reserved[:args.runs], reserved[args.runs:]
        online = codes[:len(codes) - 2 * args.runs * args.batch_size]
        slices = [online[i::args.runs + 1] for i in range(args.runs + 1)]
        script = workdir / "gate.lua"
        script.write_text(WRK_SCRIPT)
        db_url = engine.url.render_as_string(hide_password=False)
        engine.dispose()
        config = {"api": args.api, "workers": args.workers, "connections": args.connections,
                  "wrk_threads": args.wrk_threads, "seconds": args.seconds, "people": args.people,
                  "codes_per_run": len(slices[0]), "load_generator": "wrk on the same machine"}

        def wrk(run: str, codes_slice: list[str], seconds: int, pid: int) -> dict:
            codes_file = workdir / f"codes-{run}.txt"
            codes_file.write_text("\n".join(codes_slice) + "\n")
            return run_wrk(base, tokens=tokens[:args.connections], codes_file=codes_file, run=run, seconds=seconds,
                           connections=args.connections, threads=args.wrk_threads, script=script, api=args.api,
                           server_pid=pid)

        with server(db_url, data_dir, args.workers, args.port) as (base, pid):
            wrk("warm", slices[-1], 2, pid)  # loads the code, the rules and token caches and the connection pools
            runs = [wrk(f"r{i}", slices[i], args.seconds, pid) for i in range(args.runs)]
            for i, run in enumerate(runs):
                log(f"{backend} {args.api} run {i}: {run['requests'] / (run['duration_us'] / 1e6):.0f}/s, p99 "
                    f"{run['p99_us'] / 1000:.1f} ms, {run['server_cpu_ms_per_scan']} ms CPU a scan, load "
                    f"{run['load_avg_1m']}, connections per process {run['connections_per_process']}")
            first = [batch_upload(base, uploaders[0], batch_codes[i], run=f"b{i}", api=args.api, server_pid=pid)
                     for i in range(args.runs)]
            again = [batch_upload(base, uploaders[0], batch_codes[i], run=f"a{i}", api=args.api, server_pid=pid)
                     for i in range(args.runs)]
            first_together = [uploads_together(base, uploaders, together_codes[i], run=f"t{i}", api=args.api,
                                               server_pid=pid) for i in range(args.runs)]
            again_together = [uploads_together(base, uploaders, together_codes[i], run=f"u{i}", api=args.api,
                                               server_pid=pid) for i in range(args.runs)]
        engine = fresh_engine(db_url)
        with session_scope(engine) as session:
            stored = session.scalar(select(func.count()).select_from(LeadScan if args.api == "leads" else Scan))
        engine.dispose()
        per_s = [r["requests"] / (r["duration_us"] / 1e6) for r in runs]
        emit({**common, "backend": backend, "op": "lead_scan" if args.api == "leads" else "single_scan",
              "unit": "scan", "count": sum(r["requests"] for r in runs), "runs": args.runs,
              "median_s": median([r["duration_us"] / 1e6 for r in runs]), "per_s": round(median(per_s)),
              "per_s_runs": [round(p) for p in per_s], "p50_ms": median([r["p50_us"] for r in runs]) / 1000,
              "p95_ms": None, "p90_ms": median([r["p90_us"] for r in runs]) / 1000,
              "p99_ms": median([r["p99_us"] for r in runs]) / 1000,
              "p99_ms_runs": [r["p99_us"] / 1000 for r in runs],
              "server_cpu_ms_per_scan": median([r["server_cpu_ms_per_scan"] for r in runs]),
              "load_avg_1m_runs": [r["load_avg_1m"] for r in runs],
              "connections_per_process_runs": [r["connections_per_process"] for r in runs],
              "non_2xx": sum(r["non_2xx"] for r in runs),
              "socket_errors": sum(r["socket_errors"] for r in runs), "scans_stored": stored,
              "table_rows": args.people, "config": config, "at": now_iso()})
        for label, devices_at_once, uploads in (("first_sight", 1, first), ("seen_before", 1, again),
                                                ("first_sight", args.uploaders, first_together),
                                                ("seen_before", args.uploaders, again_together)):
            seconds = median([u["seconds"] for u in uploads])
            emit({**common, "backend": backend, "op": f"{'lead' if args.api == 'leads' else 'scan'}_batch_upload",
                  "badges": label, "devices_at_once": devices_at_once, "unit": "scan",
                  "count": args.batch_size * args.runs, "runs": args.runs,
                  "median_s": seconds, "per_s": round(args.batch_size / seconds),
                  "per_s_runs": [round(args.batch_size / u["seconds"]) for u in uploads],
                  "server_cpu_ms_per_scan": round(median([u["cpu_ms_per_scan"] for u in uploads]), 3),
                  "load_avg_1m_runs": [round(u["load_avg_1m"], 2) for u in uploads],
                  "p50_ms": None, "p95_ms": None, "p99_ms": None, "table_rows": args.people,
                  "config": {**config, "batch_size": args.batch_size}, "at": now_iso()})


def fresh_engine(url: str) -> Engine:
    return make_engine(url)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench gates", description=__doc__)
    p.add_argument("--api", choices=["scans", "leads"], default="scans",
                   help="gate scans with device tokens (default) or booth scans with exhibitor users' tokens")
    p.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    p.add_argument("--database-url", help="a PostgreSQL server to use instead of a private cluster")
    p.add_argument("--workers", type=int, default=1, help="server processes (default 1)")
    p.add_argument("--connections", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    p.add_argument("--seconds", type=int, default=10, help="length of one run (default 10)")
    p.add_argument("--runs", type=int, default=3, help="runs; figures are medians (default 3)")
    p.add_argument("--people", type=int, default=130_000, help="registrations (default 130,000)")
    p.add_argument("--batch-size", type=int, default=10_000, help="scans per offline batch (default 10,000)")
    p.add_argument("--uploaders", type=int, default=2,
                   help="devices uploading their batches at once in the second round (default 2)")
    p.add_argument("--port", type=int, default=8765)
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    if shutil.which("wrk") is None:
        log("This benchmark drives the server with wrk (an HTTP load generator), which is not installed.\n"
            "Install it with:  sudo apt-get install -y --no-install-recommends wrk   (Debian/Ubuntu)\n"
            "              or:  brew install wrk   (macOS)")
        return 2
    if args.people < 2 * args.batch_size * args.runs + (args.runs + 1) * 1000:
        log(f"--people must leave room for {2 * args.runs} batches of {args.batch_size} badges and the wrk runs")
        return 2
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-gates-") as tmp:
        for backend in backends:
            if backend == "sqlite":
                measure("sqlite", "", args, Path(tmp), {"bench": "gates", "machine": machine()})
                continue
            with postgres_server(args.database_url) as url:
                common = {"bench": "gates", "machine": machine(postgres_version=postgres_version(url))}
                measure("postgresql", url, args, Path(tmp), common)
    return 0
