"""`exhibit-crm serve --workers 2` under attack and when stopped: a login flood does not hold up gate scans, and no
process of the server outlives it (its badge-checking processes and their resource tracker included)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from badge_scanner.codes import load_signer
from exhibit_crm import auth
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Gate, Zone, ZoneAccess
from tests import factories, servers
from tests.conftest import new_database_url
from tests.pg import free_port

OPEN = datetime(2026, 3, 10, 3, tzinfo=UTC)  # 11:00 in Shanghai on the first show day
FLOODERS = 4
LOGINS_EACH = 12
SCANS = 200
STOP_TIMEOUT_S = 20


def _setup(url: str, data_dir: Path, *, people: int) -> tuple[str, list[str]]:
    """A staff user, a gate device in a hall open to trade visitors, and people's badge codes."""
    engine = make_engine(url)
    signer = load_signer(data_dir)
    with Session(engine) as session:
        factories.staff_user(session)
        ed = factories.edition(session)
        zone = session.exec(select(Zone).where(Zone.edition_id == ed.id, Zone.name == "Hall 1")).one()
        trade = session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id,
                                                     BadgeType.code == "trade_visitor")).one()
        session.add(ZoneAccess(zone_id=zone.id, badge_type_id=trade.id))
        gate = session.exec(select(Gate).where(Gate.zone_id == zone.id)).one()
        token = auth.create_device(session, gate_id=gate.id, name="scanner")[0]
        session.commit()
        codes = [signer.sign(factories.registration(session, ed, full_name=f"访客{i}").id, 1) for i in range(people)]
    engine.dispose()
    return token, codes


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """The server in its own process group, so that every process it starts can be found afterwards."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "exhibit_crm.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", "2"],
            env={**os.environ, "BASE_URL": f"http://127.0.0.1:{port}", **env}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every live (not zombie) process, from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                found[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return found


def _group(pgid: int) -> dict[int, int]:
    """pid -> parent pid of the live processes of a process group."""
    return {pid: ppid for pid, (ppid, group) in _processes().items() if group == pgid}


def _wait_for(condition, what: str, timeout: float = STOP_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)  # polling interval; the loop ends on the first look that holds
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def server(request, tmp_path):
    """A two-process server on SQLite, its device token and badge codes; stopped (and checked stopped) by the test."""
    url = new_database_url("sqlite", request, tmp_path)
    data_dir = tmp_path / "data"
    token, codes = _setup(url, data_dir, people=50)
    env = {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "SECRET_KEY": "shared-secret-for-the-test",
           "LOGIN_MAX_FAILURES": "100000"}
    port, log = free_port(), tmp_path / "server.log"
    process = _start(env, port, log)
    try:
        servers.wait_until_ready(f"http://127.0.0.1:{port}", process, log)
        yield process, f"http://127.0.0.1:{port}", token, codes
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _scan(client: httpx.Client, token: str, code: str, n: int) -> tuple[int, float]:
    body = {"code": code, "direction": "in", "scan_id": f"s{n}",
            "scanned_at": (OPEN + timedelta(seconds=n)).isoformat()}
    started = time.perf_counter()
    response = client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code, time.perf_counter() - started


def _flood(base: str, started: threading.Barrier) -> list[int]:
    """Wrong-password logins for one account from one client; the statuses they got."""
    statuses = []
    with httpx.Client(base_url=base, timeout=60) as browser:
        csrf = factories.csrf_from(browser.get("/login").text)
        for i in range(LOGINS_EACH):
            response = browser.post("/login", data={"account": "alice", "password": "guess", "csrf_token": csrf})
            statuses.append(response.status_code)
            if i == 0:
                started.wait()
    return statuses


@pytest.mark.slow
def test_a_login_flood_does_not_hold_up_gate_scans(server):
    _process, base, token, codes = server
    started = threading.Barrier(FLOODERS + 1)
    with ThreadPoolExecutor(FLOODERS) as pool, httpx.Client(base_url=base, timeout=60) as client:
        floods = [pool.submit(_flood, base, started) for _ in range(FLOODERS)]
        started.wait()  # every flooder has had one answer and is sending the next
        scans = [_scan(client, token, codes[n % len(codes)], n) for n in range(SCANS)]
        statuses = [status for flood in floods for status in flood.result()]
    assert statuses == [401] * (FLOODERS * LOGINS_EACH)
    assert {status for status, _ in scans} == {200}
    times = sorted(seconds for _, seconds in scans)
    # the one latency bound of the hardening work, generous on purpose: a login's password check holding the write
    # lock made the p99 several hundred milliseconds
    assert times[int(len(times) * 0.99) - 1] < 0.1, times[-10:]


@pytest.mark.slow
def test_a_stopped_server_leaves_no_process_behind(server):
    process, base, token, codes = server
    batch = {"scans": [{"code": code, "direction": "in", "scan_id": f"b{i}",
                        "scanned_at": (OPEN + timedelta(seconds=i)).isoformat()} for i, code in enumerate(codes)]}
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post("/api/v1/scans/batch", json=batch).status_code == 200
    # the server, its two workers and at least one badge-checking process
    _wait_for(lambda: len(_group(process.pid)) >= 4, "the badge-checking processes")
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=STOP_TIMEOUT_S)
    _wait_for(lambda: not _group(process.pid), "every process of the server to exit")


@pytest.mark.slow
def test_a_badge_checking_process_exits_with_the_worker_that_started_it(server):
    process, base, token, codes = server
    batch = {"scans": [{"code": code, "direction": "in", "scan_id": f"b{i}",
                        "scanned_at": (OPEN + timedelta(seconds=i)).isoformat()} for i, code in enumerate(codes)]}
    with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.post("/api/v1/scans/batch", json=batch).status_code == 200

    def a_worker_with_children():
        group = _group(process.pid)
        workers = [pid for pid, ppid in group.items() if ppid == process.pid]
        return next(((w, [p for p, pp in group.items() if pp == w]) for w in workers
                     if any(pp == w for pp in group.values())), None)

    worker, children = _wait_for(a_worker_with_children, "a worker's badge-checking process")
    os.kill(worker, signal.SIGKILL)
    _wait_for(lambda: not set(children) & set(_group(process.pid)), "the orphaned checking processes to exit")
