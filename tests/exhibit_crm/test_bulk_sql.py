from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, String, Table, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError

from exhibit_crm.bulk_sql import CHUNK, BulkSql, chunks
from exhibit_crm.models.types import UTCDateTime

metadata = MetaData()
THING = Table("bulk_thing", metadata, Column("id", Integer, primary_key=True), Column("owner", Integer, nullable=False),
              Column("name", String(50), nullable=False), Column("at", UTCDateTime, nullable=True),
              Column("data", JSON, nullable=True), Column("flag", Boolean, nullable=False),
              UniqueConstraint("owner", "name"))
AT = datetime(2026, 3, 10, 9, 5, 7, 4321, tzinfo=UTC)


@pytest.fixture
def connection(engine):
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def _rows(count: int) -> list[dict]:
    return [{"id": i, "owner": i % 7, "name": f"n{i}", "at": AT, "data": {"i": i, "名": "值"}, "flag": i % 2 == 0}
            for i in range(1, count + 1)]


def test_chunks_cut_values_in_order():
    assert list(chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert list(chunks([])) == []
    assert [len(part) for part in chunks(list(range(CHUNK + 1)))] == [CHUNK, 1]


def test_inserted_dicts_read_back_as_the_orm_reads_them(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(CHUNK + 5))  # more than one IN list's worth
    found = connection.execute(select(THING).order_by(THING.c.id)).mappings().all()
    assert len(found) == CHUNK + 5
    assert dict(found[2]) == {"id": 3, "owner": 3, "name": "n3", "at": AT, "data": {"i": 3, "名": "值"}, "flag": False}


def test_by_id_and_among_find_every_row_past_a_chunk(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(CHUNK + 5))
    ids = set(range(2, CHUNK + 6, 2))
    found = sql.by_id(THING.name, "id, name", ids)
    assert sorted(found) == [(i, f"n{i}") for i in sorted(ids)]
    named = [row for condition, params in sql.among("name", ["n1", "n4", "none"], "text")
             for row in sql.rows(f"SELECT id FROM {THING.name} WHERE {condition}", params)]
    assert sorted(named) == [(1,), (4,)]


def test_pairs_finds_exactly_the_pairs_asked_for(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(30))
    read = sql.pairs(THING.name, "id", "owner", "name", {(1, "n1"), (1, "n8"), (2, "n1"), (3, "n99")})
    # owner 2 has no n1, and SQLite's two IN lists would also find (1, "n8")'s neighbours: only pairs asked for
    assert sorted(read()) == [(1, "n1", 1), (1, "n8", 8)]


def test_updates_and_result_processing(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(3))
    later = datetime(2026, 3, 11, 1, 2, 3, tzinfo=UTC)
    sql.update_dicts(THING, [{"id": 1, "at": later, "data": [1, "二"]}, {"id": 3, "at": None, "data": None}])
    read_at, read_data = sql.result(THING.c.at), sql.result(THING.c.data)
    rows = {pk: (read_at(at), read_data(data)) for pk, at, data in sql.rows(f"SELECT id, at, data FROM {THING.name}",
                                                                              [])}
    assert rows == {1: (later, [1, "二"]), 2: (AT, {"i": 2, "名": "值"}), 3: (None, None)}


def test_insert_with_a_tail_and_placeholders(connection):
    sql = BulkSql(connection)
    bind_at, bind_data = sql.bind(THING.c.at), sql.bind(THING.c.data)
    row = (1, 1, "a", bind_at(AT), bind_data({}), True)
    columns = ("id", "owner", "name", "at", "data", "flag")
    sql.insert(THING, columns, [row])
    sql.insert(THING, columns, [row], " ON CONFLICT (id) DO NOTHING")
    assert sql.rows(f"SELECT count(*) FROM {THING.name} WHERE owner IN ({sql.marks(2)})", [1, 2]) == [(1,)]


def test_a_driver_error_comes_out_as_sqlalchemys(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(2))
    with pytest.raises(IntegrityError):
        with connection.begin_nested():
            sql.insert_dicts(THING, _rows(1))


def test_queries_sent_in_a_pipeline_are_read_after(connection):
    sql = BulkSql(connection)
    sql.insert_dicts(THING, _rows(4))
    with sql.pipeline():
        first = sql.query(f"SELECT id FROM {THING.name} WHERE id = {sql.mark}", [1])
        second = sql.query(f"SELECT id FROM {THING.name} WHERE id = {sql.mark}", [4])
        assert (first(), second()) == ([(1,)], [(4,)])
