"""Group commit: one writer thread per process records the items (gate scans, booth scans, online registrations)
that arrive while the previous transaction commits, all in one transaction, and answers each request only after
that transaction has committed.

One commit then serves many items (on SQLite a commit is the costly part of a write, and only one writer holds the
lock at a time anyway). Nothing is answered from memory: a reply means the item is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from exhibit_crm.db import run_in_session

log = logging.getLogger(__name__)
MAX_GROUP = 500
# the thread ends after this long without work and starts again with the next scan
IDLE_EXIT_S = 30.0
# a group that fails (a deadlock between PostgreSQL processes, a scan_id sent to two processes at once) is tried
# again as a whole, then scan by scan so that one bad scan cannot fail the others
ATTEMPTS = 3
# On PostgreSQL, whose transactions run side by side, a writer that has taken a group's first scan waits this long for
# each next one before it records the group: a few scans a group instead of one or two, so the round trips and the
# commit of a transaction are shared by more scans. Measured with two server processes and the database on one
# 2-core machine: 1,250 -> ~1,800 gate scans/s, p99 36 -> 20 ms, app and database CPU a scan 1.3 -> 0.7 ms.
# On SQLite a writer holds the only write lock and its commit is quick: it takes what is waiting and goes.
POSTGRES_GATHER_S = 0.001
# writer threads of the scan and lead writers on PostgreSQL: with the gathering above one a process does best (three,
# each with its own group in flight, made the groups smaller: the same throughput at twice the CPU; docs/gates.md)
POSTGRES_WRITERS = 1


class GroupWriter:
    """Runs `fn(session, items=[...]) -> [result, ...]` for groups of items, one committed transaction each.

    With `connection=True` fn gets a Core Connection in a transaction instead of an ORM Session (less work per
    group for a function that needs no ORM objects). `prepare(items)`, when given, runs first and outside the
    writers' turn-taking: work that needs no database — checking badge signatures — so another process's writer
    can hold the turn meanwhile. On PostgreSQL, `postgres_threads` groups may be in flight at once, and a group grows
    while its next item comes within `postgres_gather_s`.
    """

    def __init__(self, engine: Engine, fn: Callable[..., list], *, connection: bool = False, name: str = "scan",
                 prepare: Callable[[list], object] | None = None, postgres_threads: int = 1,
                 postgres_gather_s: float = 0.0):
        self._engine = engine
        self._fn = fn
        self._prepare = prepare
        self._connection = connection
        self._name = name  # what it records: names its thread and its log lines
        self._lock_path = _writer_lock_path(engine)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._most = postgres_threads if engine.dialect.name == "postgresql" else 1
        self._gather = postgres_gather_s if engine.dialect.name == "postgresql" else 0.0
        self._threads = 0

    async def submit(self, item: Any) -> Any:
        """The item's result, once the transaction that recorded it has committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            self._queue.put((item, loop, future))
            if self._threads < self._most:
                self._threads += 1
                threading.Thread(target=self._run, name=f"{self._name.replace(' ', '-')}-writer",
                                 daemon=True).start()
        return await future

    def _next_group(self) -> list | None:
        try:
            group = [self._queue.get(timeout=IDLE_EXIT_S)]
        except queue.Empty:
            with self._lock:
                if self._queue.empty():
                    self._threads -= 1
                    return None
            return []
        while len(group) < MAX_GROUP:
            try:
                group.append(self._queue.get(timeout=self._gather) if self._gather else self._queue.get_nowait())
            except queue.Empty:
                break
        return group

    def _run(self) -> None:
        while (group := self._next_group()) is not None:
            if group:
                self._commit(group)

    def _commit(self, group: list) -> None:
        items = [item for item, _loop, _future in group]
        try:
            outcomes = [(True, result) for result in self._attempt(items)]
        except Exception as exc:  # noqa: BLE001  (every waiting request must get an answer)
            if len(group) > 1:
                for one in group:
                    self._commit([one])
                return
            log.exception("recording a %s failed", self._name)
            outcomes = [(False, exc)]
        # one wake-up of each event loop for the whole group, not one per request
        answers: dict[asyncio.AbstractEventLoop, list] = {}
        for (_item, loop, future), (ok, value) in zip(group, outcomes, strict=True):
            answers.setdefault(loop, []).append((future, ok, value))
        for loop, settled in answers.items():
            try:
                loop.call_soon_threadsafe(_settle_all, settled)
            except RuntimeError:  # the event loop that asked is gone; the scans are recorded all the same
                pass

    def _attempt(self, items: list) -> list:
        if self._prepare is not None:
            self._prepare(items)
        for attempt in range(ATTEMPTS):
            try:
                with _turn(self._lock_path):
                    if self._connection:
                        with self._engine.begin() as connection:
                            return self._fn(connection, items=items)
                    return run_in_session(self._engine, self._fn, items=items)
            except DBAPIError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


def run_in_turn(engine: Engine, fn: Callable[..., Any], /, **kwargs) -> Any:
    """run_in_session in the writers' turn (see _turn): for big writes outside a GroupWriter, such as offline
    batches, so that they queue with the group writers instead of polling for SQLite's lock."""
    with _turn(_writer_lock_path(engine)):
        return run_in_session(engine, fn, **kwargs)


@contextlib.contextmanager
def _turn(lock_path: str | None) -> Iterator[None]:
    """On SQLite, the writers of all processes take turns through a file lock before asking for the database's
    write lock: SQLite makes a busy writer sleep and poll (1, 2, 5, 10 … ms), the kernel hands a file lock over
    at once, so two server processes do not add those sleeps to every scan's answer."""
    if lock_path is None:
        yield
        return
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)  # a few microseconds; no descriptor left open
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _writer_lock_path(engine: Engine) -> str | None:
    """The file the writers of one SQLite database take turns through (beside its -wal and -shm files)."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writer.lock"


def _settle_all(settled: list) -> None:
    for future, ok, value in settled:
        _settle(future, ok, value)


def _settle(future: asyncio.Future, ok: bool, value: Any) -> None:
    if future.done():  # the client went away
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
