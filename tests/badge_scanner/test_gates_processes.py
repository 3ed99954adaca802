"""Scans across real server processes: the strict anti-passback race between two processes on one PostgreSQL, and a
server killed with SIGKILL under load loses no scan it answered."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from badge_scanner.codes import load_signer
from exhibit_crm import auth
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Gate, Scan, Zone, ZoneAccess
from tests import factories, servers
from tests.conftest import new_database_url
from tests.pg import free_port

OPEN = datetime(2026, 3, 10, 3, tzinfo=UTC)  # 11:00 in Shanghai on the first show day


def _setup(url: str, data_dir: Path, *, zone_name: str, people: int, devices: int) -> tuple[list[str], list[str]]:
    """An edition whose zone admits trade visitors every day, devices at its gate, and people's badge codes."""
    engine = make_engine(url)
    signer = load_signer(data_dir)
    with Session(engine) as session:
        ed = factories.edition(session)
        zone = session.exec(select(Zone).where(Zone.edition_id == ed.id, Zone.name == zone_name)).one()
        trade = session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id,
                                                     BadgeType.code == "trade_visitor")).one()
        session.add(ZoneAccess(zone_id=zone.id, badge_type_id=trade.id))
        gate = session.exec(select(Gate).where(Gate.zone_id == zone.id)).one()
        tokens = [auth.create_device(session, gate_id=gate.id, name=f"scanner {i}")[0] for i in range(devices)]
        session.commit()
        codes = [signer.sign(factories.registration(session, ed, full_name=f"访客{i}").id, 1) for i in range(people)]
    engine.dispose()
    return tokens, codes


def _scans(url: str) -> dict[str, tuple[str, str | None]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.exec(select(Scan.scan_id, Scan.verdict, Scan.reason)).all()
    engine.dispose()
    return {scan_id: (verdict, reason) for scan_id, verdict, reason in rows}


@pytest.mark.slow
def test_two_processes_scanning_the_same_badge_into_a_strict_zone_accept_it_once(request, tmp_path):
    url = new_database_url("postgresql", request, tmp_path)
    data_dir = tmp_path / "data"
    tokens, codes = _setup(url, data_dir, zone_name="VIP Lounge", people=40, devices=2)
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "shared-secret-for-the-test"}
    with servers.serve(env, log=tmp_path / "first.log") as first, \
            servers.serve(env, log=tmp_path / "second.log") as second, \
            httpx.Client() as client, ThreadPoolExecutor(2) as pool:
        def post(base: str, token: str, code: str, scan_id: str, at: datetime, barrier: threading.Barrier) -> dict:
            body = {"code": code, "direction": "in", "scan_id": scan_id, "scanned_at": at.isoformat()}
            barrier.wait()
            return client.post(f"{base}/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"},
                               timeout=30).json()

        for i, code in enumerate(codes):
            barrier = threading.Barrier(2)
            # ten seconds apart, so that the later one is not a double read of the earlier (duplicate)
            answers = list(pool.map(post, (first, second), tokens, (code, code), (f"a{i}", f"b{i}"),
                                    (OPEN, OPEN + timedelta(seconds=10)), (barrier, barrier)))
            verdicts = sorted((a["verdict"], a["reason"]) for a in answers)
            assert verdicts == [("accepted", None), ("rejected", "already_inside")], (i, answers)
    recorded = _scans(url)
    assert len(recorded) == 2 * len(codes)
    assert sum(verdict == "accepted" for verdict, _ in recorded.values()) == len(codes)


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "exhibit_crm.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**os.environ, "BASE_URL": f"http://127.0.0.1:{port}", **env}, stdout=out, stderr=subprocess.STDOUT)


def _load(base: str, tokens: list[str], codes: list[str], answered: dict, enough: threading.Event,
          stop: threading.Event) -> None:
    """Scans from one device until the server goes away, noting every scan that got an answer."""
    token = tokens.pop()
    n = 0
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        while not stop.is_set():
            n += 1
            scan_id = f"{token[-8:]}-{n}"
            at = OPEN + timedelta(seconds=n)
            body = {"code": codes[n % len(codes)], "direction": "in", "scan_id": scan_id, "scanned_at": at.isoformat()}
            try:
                response = client.post("/api/v1/scans", json=body)
            except httpx.TransportError:
                return
            if response.status_code == 200:
                answered[(token, scan_id)] = response.json()
                if len(answered) >= 300:
                    enough.set()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_server_killed_under_load_has_stored_every_scan_it_answered(request, tmp_path, backend):
    url = new_database_url(backend, request, tmp_path)
    data_dir = tmp_path / "data"
    tokens, codes = _setup(url, data_dir, zone_name="Hall 1", people=50, devices=8)
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "shared-secret-for-the-test"}
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    process = _start(env, port, log)
    answered: dict = {}
    enough, stop = threading.Event(), threading.Event()
    try:
        servers.wait_until_ready(base, process, log)
        threads = [threading.Thread(target=_load, args=(base, list(tokens[i:i + 1]), codes, answered, enough, stop))
                   for i in range(len(tokens))]
        for thread in threads:
            thread.start()
        assert enough.wait(timeout=60), log.read_text()[-3000:]
        process.kill()  # SIGKILL: no shutdown, no flushing
        process.wait()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
            process.wait()
    stored = _scans(url)
    missing = [scan_id for _token, scan_id in answered if scan_id not in stored]
    assert missing == [], f"{len(missing)} answered scans are not in the database"
    assert all(stored[scan_id] == (a["verdict"], a["reason"]) for (_t, scan_id), a in answered.items())
    # after a restart the server answers a re-sent scan as before, and records it no second time
    process = _start(env, port, log)
    try:
        servers.wait_until_ready(base, process, log)
        (token, scan_id), answer = next(iter(answered.items()))
        n = int(scan_id.rsplit("-", 1)[1])
        body = {"code": codes[n % len(codes)], "direction": "in", "scan_id": scan_id,
                "scanned_at": (OPEN + timedelta(seconds=n)).isoformat()}
        again = httpx.post(f"{base}/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
        assert again.json() == answer
    finally:
        process.terminate()
        process.wait(timeout=10)
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Scan)).one() == len(stored)
    engine.dispose()
