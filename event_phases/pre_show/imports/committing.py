"""The commit of a list in chunks: a big import that lets the gate writers in, and is still all or nothing.

SQLite lets one writer at a time, and a write transaction takes the lock when it begins (BEGIN IMMEDIATE, see
exhibit_crm.db). Written in one transaction, a list of 229,503 rows held it for ~27 s, and the gate scans waited as
long. A commit here instead

1. checks and matches the whole list in a read transaction (no write lock: `importing.check`), and refuses it there
   if it must, having written nothing;
2. writes its people in chunks, each in a short write transaction of its own, sized by time (each aims at CHUNK_S
   of writing, so a gate scan waits about one chunk), at least GAP_S apart: SQLite's busy handler lets a waiting
   writer look again only every few to 25 ms, and without a gap the import would take the lock again first. While
   no other writer commits (SQLite's data_version, read by each chunk), the gaps come only every QUIET_S. Inside
   a chunk's transaction the contacts its people matched are read again; if one changed since the check (a desk
   edit), the chunk is matched again there, under the lock. If another writer took a unique key meanwhile (the same
   e-mail registered at the desk), the chunk's transaction fails and is done again, matched under the lock;
3. on SQLite leaves the new contacts out of the desk-search index while the chunks are written, and then adds their
   index rows in slices of the index's key order (TERMS a transaction): added contact by contact, every chunk would
   dirty most pages of that large index and write them all to the WAL again (a 100,000-row list took 3x as long);
4. keeps a journal of what every committed chunk wrote (`undo.Journal`). If a chunk fails, or anything else stops the
   commit (an error, Ctrl-C), the journal is taken back, in short transactions too (`undo.undo`), and the error goes
   on to the caller as before: the user sees the whole list imported, or none of it;
5. writes the audit entry, and calls the report committed, in the last transaction. A list of one chunk is written
   in one transaction, indexed and audited, as before.

Meanwhile others see the people of the committed chunks as the import left them, though the desk search finds the
new ones only once the index is written (at the end, as before). Taking an import back leaves what others did with
its people since (`undo`).

If the process dies mid-commit the journal, kept in memory, dies with it. The chunks committed so far stay, each
whole (contacts, companies, source rows, registrations), as if a shorter list had been imported, without the audit
entry; on SQLite their new contacts may lack their desk-search index rows (the desk finds them by e-mail or phone
when it registers them, not by a search). Importing the same list again completes the list without duplicates
(people already written are matched and merged unchanged; registrations and source rows are not repeated). An import
job keeps the rows it had done when it stopped.

Exhibitor lists (hundreds of rows, written row by row) are still checked and written in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exhibit_crm import audit
from exhibit_crm.contacts import lists
from exhibit_crm.db import READ_ONLY, is_sqlite, read_in_session, run_in_session
from exhibit_crm.models import search, utcnow

from . import importing
from .files import Table
from .undo import Journal, undo

CHUNK_S = 0.04  # seconds of writing a chunk aims at: about what a gate scan may wait for it
GAP_S = 0.02  # seconds at least between two chunks' write transactions, for the writers that wait
QUIET_S = 0.1  # seconds of writing at most between two gaps while no other writer is seen (see _Turns)
FIRST_CHUNK = 500  # rows of the first chunk, before the time of a row is known
MAX_CHUNK = 20_000
TERMS = 40_000  # desk index rows a transaction of the index pass adds: ~25 ms of writing


@dataclass
class _Sizes:
    """Chunk sizes from the time the chunks so far took to write (`fixed` sets them)."""
    fixed: int | None = None
    size: int = FIRST_CHUNK

    def next(self) -> int:
        return self.fixed or self.size

    def took(self, rows: int, seconds: float) -> None:
        wanted = rows * CHUNK_S / max(seconds, 0.001)
        self.size = max(1, min(MAX_CHUNK, int((self.size + wanted) / 2)))


def commit(engine: Engine, *, edition_id: int, kind: str, table: Table, mapping: dict[str, str], source: str,
           valid_only: bool = False, badge_type: str | None = None, actor: audit.Actor = audit.SYSTEM,
           now: datetime | None = None, progress: importing.Progress | None = None,
           chunk_rows: int | None = None) -> importing.Report:
    """Check a list and write it in chunks of short transactions: all of it, or on any failure none. `progress` is
    called while checking and after each chunk is committed; `chunk_rows` fixes the chunks' size."""
    now = now or utcnow()
    options = {"edition_id": edition_id, "kind": kind, "table": table, "mapping": mapping, "source": source,
               "valid_only": valid_only, "badge_type": badge_type}
    if kind != "visitors":  # a list of hundreds: checked and written in one transaction, progress told after it
        report = run_in_session(engine, importing.run, **options, commit=True, actor=actor, now=now)
    else:
        report, plan = read_in_session(engine, importing.check, **options, commit=True, progress=progress)
        journal = Journal()
        try:
            _write_all(engine, report, plan, now=now, actor=actor, journal=journal, sizes=_Sizes(chunk_rows),
                       progress=progress)
        except BaseException:
            undo(engine, journal)
            _index(engine, _new_contacts(journal))  # those that others use now stay: the desk must find them
            raise
    if progress is not None:
        progress(report.rows)  # after the commit: a failing progress page cannot take it back any more
    return report


def _parts(people: list[lists.Person], sizes: _Sizes) -> Iterator[list[lists.Person]]:
    """The people in chunks of about sizes.next() rows (a person's rows together); one chunk of nobody for a list
    of none (its transaction writes the audit entry)."""
    part: list = []
    rows = 0
    for person in people:
        part.append(person)
        rows += len(person.rows)
        if rows >= sizes.next():
            yield part
            part, rows = [], 0
    if part or not people:
        yield part


@dataclass
class _Turns:
    """When the import leaves the write lock to other writers: after every chunk while they are writing (a chunk's
    transaction sees whether another connection committed since the last one: SQLite's data_version), else every
    QUIET_S of writing, for a writer that has just come."""
    sqlite: bool
    version: int | None = None
    others: bool = True
    quiet_s: float = 0.0
    freed: float = 0.0

    def wait(self) -> None:
        if self.sqlite and (self.others or self.quiet_s >= QUIET_S):
            time.sleep(max(0.0, self.freed + GAP_S - time.monotonic()))
            self.quiet_s = 0.0

    def took(self, version: int | None, start: float) -> float:
        """After a chunk that began at `start` and read `version`; returns how long it took."""
        self.freed = time.monotonic()
        self.others, self.version = version != self.version, version
        self.quiet_s += self.freed - start
        return self.freed - start


def _write_all(engine: Engine, report: importing.Report, plan: importing.Plan, *, now: datetime,
               actor: audit.Actor, journal: Journal, sizes: _Sizes, progress: importing.Progress | None) -> None:
    parts = _parts(plan.items, sizes)
    part, following = next(parts), next(parts, None)
    with engine.connect() as connection:  # every chunk on one connection: its data_version tells of the others
        if following is None:  # a list of one chunk: one transaction, its desk index and audit entry in it
            _write_chunk(connection, report, plan, part, now=now, journal=journal, actor=actor)
            return
        total, done, turns = sum(len(person.rows) for person in plan.items), 0, _Turns(is_sqlite(engine))
        while part is not None:
            turns.wait()
            start = time.monotonic()
            version = _write_chunk(connection, report, plan, part, now=now, journal=journal, actor=None)
            rows = sum(len(person.rows) for person in part)
            sizes.took(rows, turns.took(version, start))
            done += rows
            if progress is not None:
                half = report.rows // 2  # checking was the first half of the work
                progress(half + (report.rows - half) * done // total)
            part, following = following, (next(parts, None) if following is not None else None)
    _index(engine, _new_contacts(journal),
           finish=lambda session: importing.finish(session, replace(report), plan, actor=actor))
    report.committed = True


def _new_contacts(journal: Journal) -> list[int]:
    return journal.created.get(("contact", "id", ()), [])


def _write_chunk(connection: Connection, report: importing.Report, plan: importing.Plan,
                 part: list[lists.Person], *, now: datetime, journal: Journal, actor: audit.Actor | None) -> int | None:
    """Write one chunk in a transaction of its own (with `actor`, the only one: indexed, with the audit entry);
    once it is committed, what it wrote goes into `journal` and the report counts it. Returns the database's
    data_version as the transaction began (SQLite)."""
    rows = sorted((row for person in part for row in person.rows), key=lambda row: row.line)
    try:
        return _in_transaction(connection, report, plan, rows, part, now=now, journal=journal, actor=actor)
    except IntegrityError:
        # another writer took a key the chunk was to write (the same e-mail at the desk): match under the lock
        return _in_transaction(connection, report, plan, rows, None, now=now, journal=journal, actor=actor)


def _in_transaction(connection: Connection, report: importing.Report, plan: importing.Plan, rows: list,
                    found: list[lists.Person] | None, *, now: datetime, journal: Journal,
                    actor: audit.Actor | None) -> int | None:
    written = Journal()
    with connection.begin(), Session(bind=connection) as session:
        version = connection.exec_driver_sql("PRAGMA data_version").scalar() if is_sqlite(connection) else None
        if found is None or not lists.still_known(session, found):
            found = lists.people(session, rows)  # a contact changed since the check: match again, under the lock
        registered = importing.write(session, plan, found, now=now, journal=written, index=actor is not None)
        if actor is not None:
            importing.finish(session, replace(report, registered=report.registered + registered), plan, actor=actor)
        session.flush()
    report.registered += registered
    report.committed = actor is not None
    journal.merge(written)
    return version


def _index(engine: Engine, contact_ids: list[int], *, finish: Callable[[Session], None] | None = None) -> None:
    """Index these contacts for the desk (SQLite; PostgreSQL's triggers did) in slices of the index's key order,
    `finish` in the last slice's transaction."""
    with engine.connect() as connection:  # the staged rows live in this connection's temporary database
        staged = 0
        if is_sqlite(engine) and contact_ids:
            with connection.execution_options(**{READ_ONLY: True}).begin():
                staged = search.stage_terms(connection, "contact", contact_ids)
            connection.execution_options(**{READ_ONLY: False})
        starts = list(range(1, staged + 1, TERMS)) or ([0] if finish is not None else [])
        for start in starts:
            if is_sqlite(engine):  # a gap for the gate writers, as between the chunks
                time.sleep(GAP_S)
            with connection.begin():
                if staged:
                    search.add_staged(connection, "contact", start, start + TERMS - 1)
                if start == starts[-1] and finish is not None:
                    with Session(bind=connection) as session:
                        finish(session)
                        session.flush()
        if staged:
            search.drop_staged(connection)
