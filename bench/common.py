"""What every benchmark shares: figures as JSON lines, statistics, the machine, and databases to measure."""

from __future__ import annotations

import glob
import itertools
import json
import math
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from exhibit_crm import migrate
from exhibit_crm.db import make_engine

REPO = Path(__file__).resolve().parent.parent
_names = itertools.count(1)


def log(message: str) -> None:
    """Progress for the person watching: stderr only, so stdout stays machine-readable."""
    print(message, file=sys.stderr, flush=True)


def emit(figure: dict) -> None:
    """One measured figure as one JSON line on stdout."""
    print(json.dumps(figure, ensure_ascii=False, default=str), flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100), interpolating between the two nearest ranks as numpy does by default."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of fn takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# The machine a figure was measured on

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def git_commit() -> str | None:
    """The commit the code was measured at, with "+dirty" when the tree had changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout
    try:
        commit = git("rev-parse", "--short=12", "HEAD").strip()
        return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no").strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def machine(*, postgres_version: str | None = None) -> dict:
    """A description of this machine and the software under measurement."""
    description = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git_commit(),
        # other work on a shared machine moves every figure: keep what was running beside it
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if postgres_version:
        description["postgresql"] = postgres_version
    return description


# PostgreSQL: a private throw-away cluster, or a server the caller names

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if found:
        return Path(found[-1])
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries not found: install Debian's postgresql package, "
                       "or pass --database-url of an existing server")


def _run_as_owner(command: list[str], as_postgres: bool) -> None:
    # initdb refuses to run as root, so a root caller runs the server as the postgres user
    if as_postgres:
        command = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{part}'" for part in command)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a private PostgreSQL cluster on a free port with its default (durable) settings; yields its URL."""
    pg_bin = _pg_bin()
    data = Path(tempfile.mkdtemp(prefix="exhibit-crm-bench-pg-"))
    as_postgres = os.geteuid() == 0
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    pg_ctl = [str(pg_bin / "pg_ctl"), "-D", str(data)]
    try:
        _run_as_owner([str(pg_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                       "--locale=C.UTF-8"], as_postgres)
        _run_as_owner([*pg_ctl, "-w", "-l", str(data / "log"), "-o",
                       f"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"], as_postgres)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            _run_as_owner([*pg_ctl, "-w", "-m", "fast", "stop"], as_postgres)
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def postgres_server(database_url: str | None) -> Iterator[str]:
    """The server to measure: the one database_url names, or a private cluster started for the run."""
    if database_url:
        yield database_url
        return
    log("starting a private PostgreSQL cluster")
    with postgres_cluster() as url:
        yield url


def _psycopg(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"--database-url must name a PostgreSQL server, got {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+psycopg")


def postgres_version(server_url: str) -> str:
    engine = create_engine(_psycopg(server_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()


# A fresh database at the current schema

def _migrated(url: str) -> Engine:
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


@contextmanager
def _sqlite_database(workdir: Path, name: str) -> Iterator[Engine]:
    engine = _migrated(f"sqlite:///{workdir / name}.sqlite")
    try:
        yield engine
    finally:
        engine.dispose()
        for leftover in workdir.glob(f"{name}.sqlite*"):
            leftover.unlink()


@contextmanager
def _postgres_database(server_url: str, name: str) -> Iterator[Engine]:
    admin_url = _psycopg(server_url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = _migrated(admin_url.set(database=name).render_as_string(hide_password=False))
        try:
            yield engine
        finally:
            engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()


def fresh_database(*, workdir: Path, server_url: str | None = None) -> AbstractContextManager[Engine]:
    """A new database at the current schema, removed afterwards (a context manager yielding its engine): a SQLite
    file in workdir, or, given server_url, a scratch database on that PostgreSQL server (its role needs CREATEDB)."""
    name = f"bench_{os.getpid()}_{next(_names)}"
    return _sqlite_database(workdir, name) if server_url is None else _postgres_database(server_url, name)
