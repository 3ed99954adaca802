"""Group commit: answers after the commit, one writer on SQLite, several groups in flight on PostgreSQL."""

from __future__ import annotations

import asyncio
import queue
import threading

from exhibit_crm.group_commit import GroupWriter


def test_groups_are_answered_in_order_and_postgresql_has_several_in_flight(engine):
    postgres = engine.dialect.name == "postgresql"
    first_started, both_in = threading.Event(), threading.Barrier(2, timeout=10)
    lock, active, most = threading.Lock(), [0], [0]

    def record(connection, *, items):
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
            if items[0] == "a":
                first_started.set()
            if postgres and items[0] in ("a", "b"):
                both_in.wait()  # "a" is answered only once "b" runs beside it: two transactions in flight
            return [f"{item}!" for item in items]
        finally:
            with lock:
                active[0] -= 1

    writer = GroupWriter(engine, record, connection=True, postgres_threads=3)

    async def scenario():
        a = asyncio.ensure_future(writer.submit("a"))
        assert await asyncio.to_thread(first_started.wait, 10)
        rest = [asyncio.ensure_future(writer.submit(item)) for item in ("b", "c", "d", "e")]
        return await asyncio.gather(a, *rest)

    assert asyncio.run(scenario()) == ["a!", "b!", "c!", "d!", "e!"]
    if postgres:
        assert 2 <= most[0] <= 3
    else:
        assert most[0] == 1  # SQLite: one writer, one transaction at a time



def test_on_postgresql_a_group_grows_while_the_next_item_comes_within_the_gathering_time(engine):
    taken = threading.Event()

    class Watched(queue.Queue):
        def get(self, *args, **kwargs):
            item = super().get(*args, **kwargs)
            taken.set()
            return item

    writer = GroupWriter(engine, lambda connection, *, items: items, connection=True, postgres_gather_s=5)
    writer._queue = Watched()
    writer._queue.put("a")
    # "b" comes only once the writer has taken "a", well within the gathering time
    threading.Thread(target=lambda: taken.wait(10) and writer._queue.put("b")).start()
    group = writer._next_group()
    if engine.dialect.name == "postgresql":
        assert group == ["a", "b"]
    else:
        assert group[0] == "a"  # SQLite takes what is waiting and goes
