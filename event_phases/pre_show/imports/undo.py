"""What the committed chunks of an import wrote (a journal), and taking it back in short transactions.

A chunk's rows are visible to everyone once it commits, so by the time a later chunk fails another writer may have
built on them: a desk registration for a contact the import created, a gate scan of a badge it registered, a
correction of a contact it merged. Taking the import back must not destroy that work. So:

- a column the import changed is set back only where it still holds the import's value (a later edit stays);
- a row the import created is deleted only where no other row refers to it any more (after the import's own
  dependants are gone): a contact the desk has registered meanwhile stays, with the desk's registration.

The rows kept that way are counted (`Undone.kept`). Each transaction handles at most CHUNK keys, so taking back a
big import lets the gate writers in between as the import itself did.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Engine, Table, and_, exists, select, update
from sqlmodel import SQLModel

from exhibit_crm.db import session_scope

CHUNK = 500  # keys a transaction: one transaction stays well under the time a gate scan may wait
# tables whose rows an import creates together with their parent, and which go with it (ON DELETE CASCADE)
OWNED_CHILDREN = {"registration_interest"}

Where = tuple[tuple[str, object], ...]  # column = value conditions that narrow a keyed delete


@dataclass
class Journal:
    """Rows an import created (table, key column, conditions -> key values) and columns it changed on rows that were
    there before (table -> id -> (as they were, as the import left them))."""
    created: dict[tuple[str, str, Where], list] = field(default_factory=lambda: defaultdict(list))
    changed: dict[str, dict[int, tuple[dict, dict]]] = field(default_factory=lambda: defaultdict(dict))

    def add_created(self, table: str, keys: list, *, key: str = "id", where: Where = ()) -> None:
        if keys:
            self.created[(table, key, where)] += keys

    def add_changed(self, table: str, before_after: list[tuple[dict, dict]]) -> None:
        """Changes of rows by id: a row changed twice keeps each column's first `before` and last `after`."""
        rows = self.changed[table]
        for before, after in before_after:
            if before["id"] in rows:
                first, last = rows[before["id"]]
                before, after = {**before, **first}, {**last, **after}
            rows[before["id"]] = (before, after)

    def merge(self, other: Journal) -> None:
        for (table, key, where), keys in other.created.items():
            self.add_created(table, keys, key=key, where=where)
        for table, rows in other.changed.items():
            self.add_changed(table, list(rows.values()))

    def __bool__(self) -> bool:
        return bool(self.created) or any(self.changed.values())


@dataclass
class Undone:
    """What taking back an import did: rows set back and deleted, and rows kept because others use them now."""
    restored: int = 0
    deleted: int = 0
    kept: int = 0


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def undo(engine: Engine, journal: Journal) -> Undone:
    """Take back what the journal records, in short transactions: changed columns first, then created rows, the
    rows that refer to others before those they refer to."""
    done = Undone()
    for name, rows in journal.changed.items():
        items = list(rows.values())
        for start in range(0, len(items), CHUNK):
            with session_scope(engine) as session:
                done.restored += _restore(session, _table(name), items[start:start + CHUNK])
    order = {table.name: index for index, table in enumerate(reversed(SQLModel.metadata.sorted_tables))}
    for (name, key, where), keys in sorted(journal.created.items(), key=lambda item: order[item[0][0]]):
        for start in range(0, len(keys), CHUNK):
            part = keys[start:start + CHUNK]
            with session_scope(engine) as session:
                deleted = session.execute(_delete(_table(name), key, where, part)).rowcount
            done.deleted += deleted
            done.kept += len(part) - deleted
    return done


def _restore(session, table: Table, items: list[tuple[dict, dict]]) -> int:
    """Set back the columns of these rows that still hold what the import wrote; returns how many rows it touched."""
    columns = sorted({name for _before, after in items for name in after if name != "id"})
    current = {row.id: row for row in session.execute(select(table.c.id, *(table.c[n] for n in columns))
                                                      .where(table.c.id.in_([after["id"] for _b, after in items])))}
    touched = 0
    for before, after in items:
        now = current.get(after["id"])
        back = {n: before[n] for n in after if n != "id" and now is not None and getattr(now, n) == after[n]}
        if back:
            session.execute(update(table).where(table.c.id == after["id"]).values(**back))
            touched += 1
    return touched


def _delete(table: Table, key: str, where: Where, keys: list):
    """DELETE of the rows with these keys that no row of another table refers to (the owned children aside)."""
    unused = [~exists().where(fk.parent == fk.column)
              for child in SQLModel.metadata.tables.values() if child.name not in OWNED_CHILDREN
              for fk in child.foreign_keys if fk.column.table is table]
    conditions = [table.c[key].in_(keys), *(table.c[column] == value for column, value in where)]
    return table.delete().where(and_(*conditions, *unused))
