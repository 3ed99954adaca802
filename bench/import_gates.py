"""Gate scans while a big visitor list is imported: how long a scan waits for the import's write transactions.

A SQLite database holds an edition with a gate and registrations to scan, and `--contacts` contacts; `exhibit-crm
serve` (one worker, as bench/gates.py starts it) takes gate scans over HTTP from a second process that sends one
scan at a time, `--rate` a second, each with a new badge and scan id, and times each answer. This process then
imports a list of `--rows` rows (bench/imports.py's list) the way `exhibit-crm import` does, in chunks, or with
`--one-transaction` in one transaction as before the chunks. Reported: the import's time, and the answer times of
the scans sent while it ran (p50, p99, max) beside those sent before it started. Target: no scan waits more than
~100 ms for an import.
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.common import emit, log, machine, median, now_iso, percentile
from bench.gates import OPEN_AT, build, codes_of, server
from bench.imports import _csv, commit, list_options
from bench.storage import contact_rows
from event_phases.pre_show.imports import committing
from event_phases.pre_show.imports.files import read_table
from exhibit_crm import migrate
from exhibit_crm.db import make_engine, session_scope
from exhibit_crm.models import Contact

BEFORE_S = 3.0  # seconds of scans before the import starts: the figures without it


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench import_gates", description=__doc__.splitlines()[0])
    list_options(p, rows=200_000)
    p.add_argument("--people", type=int, default=5_000, help="registrations whose badges are scanned")
    p.add_argument("--rate", type=float, default=100, help="gate scans a second")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--port", type=int, default=8791, help="the server's port")
    p.add_argument("--chunk-ms", type=float, default=committing.CHUNK_S * 1000,
                   help="milliseconds of writing a chunk aims at (committing.CHUNK_S)")
    p.add_argument("--gap-ms", type=float, default=committing.GAP_S * 1000,
                   help="milliseconds at least between chunks (committing.GAP_S)")
    p.add_argument("--one-transaction", action="store_true", help="import in one transaction (before the chunks)")
    return p


def _seed(workdir: Path, args: argparse.Namespace) -> tuple[Path, Path, list[str], list[str], int, bytes]:
    """The database (gate, devices, registrations, contacts), its badge codes and device tokens, and the list."""
    path, data_dir = workdir / "seeded.sqlite", workdir / "data"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    tokens, edition_id = build(engine, people=args.people, devices=4)
    with session_scope(engine) as session:
        session.execute(insert(Contact).execution_options(render_nulls=True), contact_rows(args.contacts))
    codes = codes_of(engine, data_dir)
    engine.dispose()
    return path, data_dir, codes, tokens, edition_id, _csv(contact_rows(args.contacts), args)


def scanner(base: str, tokens: list[str], codes: list[str], rate: float, run: str, stop, results) -> None:
    """Send a gate scan every 1/rate seconds until `stop` is set; put (sent at, seconds to answer, status) each."""
    found = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for number in range(len(codes)):
            if stop.is_set():
                break
            due = time.monotonic() + 1 / rate
            at = (OPEN_AT + timedelta(seconds=number % 25_000)).isoformat().replace("+00:00", "Z")
            body = {"code": codes[number], "direction": "in", "scan_id": f"{run}-{number}", "scanned_at": at}
            sent = time.monotonic()
            status = client.post("/api/v1/scans", json=body,
                                 headers={"Authorization": f"Bearer {tokens[number % len(tokens)]}"}).status_code
            found.append((sent, time.monotonic() - sent, status))
            time.sleep(max(0.0, due - time.monotonic()))  # the scan rate
    results.put(found)


def one_run(seeded: Path, data_dir: Path, workdir: Path, codes: list[str], tokens: list[str], edition_id: int,
            data: bytes, args: argparse.Namespace, run: int) -> dict:
    path = workdir / "run.sqlite"
    shutil.copyfile(seeded, path)
    url = f"sqlite:///{path}"
    context = multiprocessing.get_context("spawn")
    stop, results = context.Event(), context.Queue()
    with server(url, data_dir, 1, args.port) as (base, _pid):
        process = context.Process(target=scanner, args=(base, tokens, codes, args.rate, f"r{run}", stop, results))
        process.start()
        time.sleep(BEFORE_S)  # scans without an import
        engine = make_engine(url)
        started = time.monotonic()
        calls: list[tuple[float, int]] = []  # progress: while checking up to half the rows, then after each chunk
        report = commit(engine, read_table(data), edition_id, one_transaction=args.one_transaction,
                        progress=lambda n: calls.append((time.monotonic() - started, n)))
        ended = time.monotonic()
        engine.dispose()
        stop.set()
        scans = results.get(timeout=120)
        process.join(timeout=30)
    for leftover in workdir.glob("run.sqlite*"):
        leftover.unlink()
    during = [seconds for sent, seconds, _status in scans if started <= sent <= ended]
    before = [seconds for sent, seconds, _status in scans if sent < started]
    slow = [(round(sent - started, 2), round(seconds * 1000)) for sent, seconds, _status in scans
            if started <= sent <= ended and seconds > 0.1]
    return {"import_s": round(ended - started, 3), "registered": report.registered, "scans_during": len(during),
            **_chunks([at for at, n in calls[:-1] if n > report.rows // 2]), "slow_scans": slow[:20],
            "failed": sum(1 for *_rest, status in scans if status >= 300),
            **{f"during_{k}_ms": round(v * 1000, 1) for k, v in _latencies(during).items()},
            **{f"before_{k}_ms": round(v * 1000, 1) for k, v in _latencies(before).items()}}


def _chunks(committed: list[float]) -> dict:
    """How many chunks, and when the first and last were committed (seconds into the import)."""
    if not committed:
        return {"chunks": 1}
    return {"chunks": len(committed) + 1, "first_chunk_s": round(committed[0], 2),
            "chunks_until_s": round(committed[-1], 2)}


def _latencies(values: list[float]) -> dict:
    if not values:
        return {}
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values)}


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    committing.CHUNK_S, committing.GAP_S = args.chunk_ms / 1000, args.gap_ms / 1000
    with tempfile.TemporaryDirectory(prefix="exhibit-crm-bench-") as tmp:
        workdir = Path(tmp)
        log(f"seeding {args.contacts} contacts, {args.people} registrations, a list of {args.rows} rows")
        seeded, data_dir, codes, tokens, edition_id, data = _seed(workdir, args)
        runs = []
        for run in range(args.runs):
            result = one_run(seeded, data_dir, workdir, codes, tokens, edition_id, data, args, run)
            log(f"run {run + 1}: {result}")
            runs.append(result)
        keys = [k for k in runs[0] if k.endswith("_ms") or k == "import_s"]
        emit({"benchmark": "import_gates", "backend": "sqlite",
              "commit": "one transaction" if args.one_transaction else "chunks", "rows": args.rows,
              "contacts_before": args.contacts, "scan_rate": args.rate, "runs": args.runs,
              "chunk_ms": args.chunk_ms, "gap_ms": args.gap_ms,
              **{f"median_{k}": median([r[k] for r in runs]) for k in keys},
              "runs_import_s": [r["import_s"] for r in runs], "runs_during_max_ms": [r["during_max_ms"] for r in runs],
              "runs_during_p99_ms": [r["during_p99_ms"] for r in runs],
              "scans_during": [r["scans_during"] for r in runs], "failed": [r["failed"] for r in runs],
              "target_max_ms": 100, "machine": machine(), "at": now_iso()})
    return 0
