"""Bulk SQL for the fast paths: plain statements with the driver's placeholders, sent through a Core connection's own
DB-API cursor inside its transaction.

Built SQL costs a few hundred microseconds a statement in the ORM and Core layers, several times what SQLite needs
to run it; where rows come by the thousand (gate and booth scans, imports) statements are plain SQL, values are
converted with the column types' own processors (the values the ORM stores and reads), and a driver's error comes
out as SQLAlchemy's (an IntegrityError stays an IntegrityError), as it would from the ORM.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Iterable, Iterator, Sequence

import pandas as pd
from sqlalchemy import Column, Connection, Executable, Select, Table, Text, cast, func, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

# bound parameters per IN list: under every backend's limit
CHUNK = 1000


def chunks(values: Sequence, size: int = CHUNK) -> Iterator[Sequence]:
    """`values` in slices of at most `size`, in order."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def driver_rows(connection: Connection, query: Executable) -> list[tuple]:
    """A Core query's rows as the driver returns them: plain tuples, without SQLAlchemy's row objects and result
    processing (a time comes back as the driver gives it: text on SQLite), for reading 100,000s of rows into pandas
    at a fifth of the cost. SQLAlchemy still builds the statement and converts its parameters."""
    return connection.execute(query).cursor.fetchall()


def int_frame(connection: Connection, query: Select) -> pd.DataFrame:
    """A query of whole-number columns as a DataFrame (None as -1), for reading 100,000s of rows: the database
    writes the rows as one CSV text in a single aggregate pass and pandas' CSV reader parses it, instead of the
    driver making a tuple of Python numbers a row (a third of the time, most of it the database's pass)."""
    rows = query.subquery()
    line = functools.reduce(lambda left, right: left.concat(",").concat(right),
                            [cast(func.coalesce(column, -1), Text) for column in rows.c])
    if connection.dialect.name == "postgresql":
        joined = func.string_agg(line, literal("\n"))
    else:
        joined = func.group_concat(line, literal("\n"))
    text = connection.execute(select(joined)).scalar_one()
    names = [column.name for column in rows.c]
    if not text:
        return pd.DataFrame({name: pd.Series(dtype="int64") for name in names})
    return pd.read_csv(io.StringIO(text), header=None, names=names, dtype="int64")


def same(value: object) -> object:
    return value


@functools.cache
def postgres_types(table: Table) -> dict[str, str]:
    """Each column's type as PostgreSQL names it, for array parameters."""
    dialect = postgresql.dialect()
    return {column.name: column.type.compile(dialect=dialect) for column in table.columns}


class BulkSql:
    """Placeholders, chunked `IN` / `= ANY`, many-row inserts and updates and the columns' type processing on one
    connection; every statement runs in the connection's transaction."""

    def __init__(self, connection: Connection):
        dialect = self.dialect = connection.dialect
        self.postgres = dialect.name == "postgresql"
        self._dbapi = connection.connection
        self.cursor = self._dbapi.cursor()
        self.mark = "%s" if self.postgres else "?"
        self._error = dialect.loaded_dbapi.Error

    # -- values as the database takes and gives them

    def bind(self, column: Column) -> Callable[[object], object]:
        """A column type's bind processor on this dialect (the value itself where it has none)."""
        return column.type.dialect_impl(self.dialect).bind_processor(self.dialect) or same

    def result(self, column: Column) -> Callable[[object], object]:
        """A column type's result processor on this dialect (the value itself where it has none)."""
        return column.type.dialect_impl(self.dialect).result_processor(self.dialect, None) or same

    def driver_rows(self, table: Table, names: Sequence[str], rows: list[dict]) -> list[tuple]:
        """Dicts as the driver takes them: `names`' values in order, each through its column's bind processor, a
        column at a time (SQLAlchemy's executemany builds each row's parameters in Python, most of a big write)."""
        columns = []
        for name in names:
            values = [row[name] for row in rows]
            process = self.bind(table.c[name])
            if process is not same:
                values = _processed(process, values)
            columns.append(values)
        return list(zip(*columns, strict=True))

    # -- statements

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def execute(self, sql: str, params: Sequence) -> None:
        try:
            self.cursor.execute(sql, params)
        except self._error as exc:
            raise self._wrapped(sql, params, exc) from exc

    def rows(self, sql: str, params: Sequence) -> list[tuple]:
        try:
            self.cursor.execute(sql, params)
            return self.cursor.fetchall()
        except self._error as exc:
            raise self._wrapped(sql, params, exc) from exc

    def many(self, sql: str, params: list[Sequence]) -> None:
        try:
            self.cursor.executemany(sql, params)
        except self._error as exc:
            raise self._wrapped(sql, params, exc) from exc

    def query(self, sql: str, params: Sequence) -> Callable[[], list[tuple]]:
        """Send a query now and read its rows later, with what the returned function gives: in a pipeline the
        statements sent before a read share its round trip."""
        cursor = self._dbapi.cursor()
        try:
            cursor.execute(sql, params)
        except self._error as exc:
            raise self._wrapped(sql, params, exc) from exc
        return cursor.fetchall

    def pipeline(self) -> contextlib.AbstractContextManager:
        """On PostgreSQL psycopg's pipeline mode: statements go out without waiting for their answers and a read
        waits only for what was sent before it. Errors of statements that nothing read come out when the block
        ends."""
        if not self.postgres:
            return contextlib.nullcontext()
        return self._pipeline()

    @contextlib.contextmanager
    def _pipeline(self) -> Iterator[None]:
        try:
            with self._dbapi.driver_connection.pipeline():
                yield
        except self._error as exc:
            raise self._wrapped("(pipeline)", (), exc) from exc

    def _wrapped(self, sql: str, params: Sequence, exc: Exception) -> DBAPIError:
        return DBAPIError.instance(sql, params, exc, self._error, dialect=self.dialect)

    # -- sets of rows

    def among(self, column: str, values: list, sql_type: str = "integer") -> Iterable[tuple[str, list]]:
        """(condition, parameters) for `column` IN values: on PostgreSQL one array parameter (`= ANY`), so that the
        statement's text is the same whatever the number of values and psycopg prepares it once per connection,
        sparing the server its parsing and planning; on SQLite IN lists of at most CHUNK values."""
        if self.postgres:
            yield f"{column} = ANY(%s::{sql_type}[])", [values]
            return
        for chunk in chunks(values):
            yield f"{column} IN ({self.marks(len(chunk))})", chunk

    def pairs(self, table: str, columns: str, left: str, right: str, keys: set[tuple],
              types: tuple[str, str] = ("integer", "text")) -> Callable[[], list[tuple]]:
        """Rows of `table` whose (left, right) is one of `keys`: left, right, then `columns` (sent now, read later;
        see `query`). On PostgreSQL one statement over two arrays (`types`); on SQLite two plain IN lists a chunk,
        on the pair's index, the few rows of other pairs they also find dropped when read."""
        pairs = sorted(keys)
        head = f"SELECT {left}, {right}, {columns} FROM {table} WHERE "
        if self.postgres:
            return self.query(head + f"({left}, {right}) IN (SELECT * FROM unnest(%s::{types[0]}[], "
                              f"%s::{types[1]}[]))", [[a for a, _b in pairs], [b for _a, b in pairs]])
        reads = []
        for chunk in chunks(pairs):
            lefts, rights = sorted({a for a, _b in chunk}), sorted({b for _a, b in chunk})
            reads.append(self.query(head + f"{left} IN ({self.marks(len(lefts))}) AND {right} IN "
                                    f"({self.marks(len(rights))})", lefts + rights))
        return lambda: [row for read in reads for row in read() if (row[0], row[1]) in keys]

    def by_id(self, table: str, columns: str, ids: Iterable[int]) -> list[tuple]:
        """`columns` of the rows of `table` with these ids."""
        return [row for condition, params in self.among("id", sorted(ids))
                for row in self.rows(f"SELECT {columns} FROM {table} WHERE {condition}", params)]

    def insert(self, table: Table, columns: Sequence[str], rows: list[Sequence], tail: str = "") -> None:
        """Insert rows of values in `columns` order (already as the driver takes them), `tail` after (ON CONFLICT
        …): on PostgreSQL one statement of one text, an array a column through unnest (see `among`); on SQLite
        executemany, whose statement is prepared once."""
        if not rows:
            return
        names = ", ".join(columns)
        if not self.postgres:
            self.many(f"INSERT INTO {table.name} ({names}) VALUES ({self.marks(len(columns))}){tail}", rows)
            return
        types = postgres_types(table)
        arrays = ", ".join(f"%s::{types[column]}[]" for column in columns)
        self.execute(f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays}){tail}",
                     [list(values) for values in zip(*rows, strict=True)])

    def update(self, table: Table, columns: Sequence[str], rows: list[Sequence], key: str = "id") -> None:
        """Set `columns` of the row whose `key` is each row's last value to its other values (in `columns` order, as
        the driver takes them): one executemany."""
        if rows:
            sets = ", ".join(f"{column} = {self.mark}" for column in columns)
            self.many(f"UPDATE {table.name} SET {sets} WHERE {key} = {self.mark}", rows)

    def insert_dicts(self, table: Table, rows: list[dict]) -> None:
        """Insert dicts (all with the same keys, Python values): converted a column at a time (`driver_rows`)."""
        if rows:
            names = list(rows[0])
            self.insert(table, names, self.driver_rows(table, names, rows))

    def update_dicts(self, table: Table, rows: list[dict], key: str = "id") -> None:
        """Update the row of each dict's `key` to its other values (all dicts with the same keys, Python values)."""
        if rows:
            names = [name for name in rows[0] if name != key]
            self.update(table, names, self.driver_rows(table, [*names, key], rows), key)


def _processed(process: Callable, values: list) -> list:
    """`values` through `process`, each distinct value once: most columns of a big write hold a few values many times
    (the time of the write, False, None); unhashable ones (JSON) are processed once per object."""
    try:
        done = {value: process(value) for value in set(values)}
        return [done[value] for value in values]
    except TypeError:
        by_id = {id(value): value for value in values}
        done = {key: process(value) for key, value in by_id.items()}
        return [done[id(value)] for value in values]
