"""A real server process on a SQLite file, and Debian's Chromium driven through Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from exhibit_crm import auth, migrate
from exhibit_crm.db import make_engine, run_in_session
from tests import servers

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ADMIN, PASSWORD = "admin", "browser test password"


def _prepare_database(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        run_in_session(engine, auth.create_staff_user, username=ADMIN, password=PASSWORD, role="admin")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app as people meet it: a real server process on a SQLite file; yields its base URL."""
    folder = tmp_path_factory.mktemp("server")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    _prepare_database(database_url)
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "en"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
