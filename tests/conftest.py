"""Fixtures: every database test runs on a real SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from starlette.testclient import TestClient

from exhibit_crm import commands, migrate
from exhibit_crm.app import create_app
from exhibit_crm.db import make_engine, run_in_session
from exhibit_crm.settings import load_settings
from tests import factories, pg

BACKENDS = ["sqlite", "postgresql"]
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster():
    cluster = pg.start_cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_template(pg_cluster) -> str:
    """A PostgreSQL database migrated to head once; each test gets a copy (CREATE DATABASE … TEMPLATE)."""
    admin = create_engine(f"{pg_cluster.url}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text("CREATE DATABASE template_head"))
    engine = make_engine(f"{pg_cluster.url}/template_head", pool=False)
    migrate.upgrade(engine)
    engine.dispose()
    return "template_head"


def new_database_url(backend: str, request, tmp_path: Path, *, migrated: bool = True) -> str:
    """A fresh database on the given backend: at the current schema, or empty."""
    if backend == "sqlite":
        path = tmp_path / f"db{next(_counter)}.sqlite"
        if migrated:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    cluster = request.getfixturevalue("pg_cluster")
    template = f" TEMPLATE {request.getfixturevalue('pg_template')}" if migrated else ""
    name = f"test_{next(_counter)}"
    admin = create_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}{template}"))
    admin.dispose()
    return f"{cluster.url}/{name}"


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def database_url(backend, request, tmp_path) -> str:
    return new_database_url(backend, request, tmp_path)


@pytest.fixture
def empty_database_url(backend, request, tmp_path) -> str:
    return new_database_url(backend, request, tmp_path, migrated=False)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def db(engine):
    """Run a query in a transaction of its own: a test's open one would hold SQLite's write lock."""
    return lambda query: run_in_session(engine, query)


@pytest.fixture
def admin(client, session):
    """A client signed in as an admin."""
    factories.staff_user(session)
    assert factories.login(client).status_code == 303
    return client


@pytest.fixture
def settings(database_url, tmp_path):
    return load_settings({
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "SMTP_URL": "smtp://127.0.0.1:2525",
        "BASE_URL": "http://testserver",
    })


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest.fixture
def client(app):
    with TestClient(app) as client:
        yield client


@pytest.fixture
def cli_env(monkeypatch, database_url, tmp_path):
    """The CLI's environment for one test: this test's database and a data folder of its own."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    commands.close()
    yield database_url
    commands.close()
