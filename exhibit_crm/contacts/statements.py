"""Large writes as plain executemany statements: set-based, a handful of statements for any number of rows (on
SQLite straight through the driver, skipping SQLAlchemy's per-row parameter building)."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, Table, bindparam, insert, update

CHUNK = 5000  # values per IN (…): well under SQLite's (32,766) and PostgreSQL's (65,535) limits on bound parameters


def chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def write_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """INSERT every row (all with the same keys, every column but the key): one executemany."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        # RETURNING makes SQLAlchemy send the rows a thousand to a statement, where psycopg's executemany would send
        # one statement per row, each running PostgreSQL's statement triggers
        connection.execute(insert(table).execution_options(render_nulls=True).returning(*table.primary_key), rows)
        return
    names = list(rows[0])
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
                               f"VALUES ({', '.join('?' * len(names))})", _driver_rows(connection, table, rows))


def update_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """UPDATE the row of each row's "id" to its other values (all rows with the same keys): one executemany."""
    if not rows:
        return
    names = [name for name in rows[0] if name != "id"]
    if connection.dialect.name != "sqlite":
        statement = update(table).where(table.c.id == bindparam("_id")).values({n: bindparam(n) for n in names})
        connection.execute(statement, [{**row, "_id": row["id"]} for row in rows])
        return
    quote = connection.dialect.identifier_preparer.quote
    connection.exec_driver_sql(f"UPDATE {quote(table.name)} SET {', '.join(f'{quote(n)} = ?' for n in names)} "
                               f"WHERE id = ?", _driver_rows(connection, table, rows, [*names, "id"]))


def _driver_rows(connection: Connection, table: Table, rows: list[dict], names: list[str] | None = None) -> list:
    """The rows as the SQLite driver takes them: values through their column types' bind processors, a column at a
    time. SQLAlchemy's own executemany builds each row's parameters in Python, most of the time of a large write."""
    dialect = connection.dialect
    columns = []
    for name in names or list(rows[0]):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = [row[name] for row in rows]
        if process:
            try:  # most columns hold a few values many times (the import's time, False, None)
                done = {value: process(value) for value in set(values)}
                values = [done[value] for value in values]
            except TypeError:  # unhashable values (JSON): the same object is processed once
                by_id = {id(value): value for value in values}
                done = {key: process(value) for key, value in by_id.items()}
                values = [done[id(value)] for value in values]
        columns.append(values)
    return list(zip(*columns, strict=True))
