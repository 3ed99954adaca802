"""Group commit: one writer thread per process records the scans that arrive while the previous transaction commits,
all in one transaction, and answers each request only after that transaction has committed.

One commit then serves many scans (on SQLite a commit is the costly part of a write, and only one writer holds the
lock at a time anyway). Nothing is answered from memory: a reply means the scan is in the database.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
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


class GroupWriter:
    """Runs `fn(session, items=[...]) -> [result, ...]` for groups of items, one committed transaction each."""

    def __init__(self, engine: Engine, fn: Callable[..., list]):
        self._engine = engine
        self._fn = fn
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    async def submit(self, item: Any) -> Any:
        """The item's result, once the transaction that recorded it has committed."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            self._queue.put((item, loop, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
                self._thread.start()
        return await future

    def _next_group(self) -> list | None:
        try:
            group = [self._queue.get(timeout=IDLE_EXIT_S)]
        except queue.Empty:
            with self._lock:
                if self._queue.empty():
                    self._thread = None
                    return None
            return []
        while len(group) < MAX_GROUP:
            try:
                group.append(self._queue.get_nowait())
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
            log.exception("recording a scan failed")
            outcomes = [(False, exc)]
        for (_item, loop, future), (ok, value) in zip(group, outcomes, strict=True):
            try:
                loop.call_soon_threadsafe(_settle, future, ok, value)
            except RuntimeError:  # the event loop that asked is gone; the scan is recorded all the same
                pass

    def _attempt(self, items: list) -> list:
        for attempt in range(ATTEMPTS):
            try:
                return run_in_session(self._engine, self._fn, items=items)
            except DBAPIError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")


def _settle(future: asyncio.Future, ok: bool, value: Any) -> None:
    if future.done():  # the client went away
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
