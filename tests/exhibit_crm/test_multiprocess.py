"""Several app processes against one PostgreSQL behave as one: nothing lives only in process memory."""

import httpx
import pytest
from sqlmodel import Session

from exhibit_crm import auth
from exhibit_crm.db import make_engine
from tests import factories, servers
from tests.conftest import new_database_url


@pytest.fixture
def two_servers(request, tmp_path):
    url = new_database_url("postgresql", request, tmp_path)
    engine = make_engine(url)
    with Session(engine) as session:
        factories.staff_user(session)
        token, _ = auth.create_api_token(session, username="alice")
        session.commit()
    engine.dispose()
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "shared-secret-for-the-test"}
    with servers.serve(env, log=tmp_path / "first.log") as first, \
            servers.serve(env, log=tmp_path / "second.log") as second:
        yield first, second, {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
def test_two_processes_see_each_others_writes(two_servers):
    first, second, headers = two_servers
    created = httpx.post(f"{first}/api/v1/series", headers=headers,
                         json={"name": "Canton Furniture Fair", "name_zh": "广州家具展"})
    assert created.status_code == 201
    listed = httpx.get(f"{second}/api/v1/series", headers=headers)
    assert [s["name_zh"] for s in listed.json()] == ["广州家具展"]


@pytest.mark.slow
def test_a_session_started_on_one_process_works_on_the_other(two_servers):
    first, second, _ = two_servers
    with httpx.Client(base_url=first) as browser:
        token = factories.csrf_from(browser.get("/login").text)
        response = browser.post("/login", data={"account": "alice", "password": factories.PASSWORD,
                                                "csrf_token": token})
        assert response.status_code == 303
        cookies = browser.cookies
    home = httpx.get(f"{second}/", cookies=cookies)
    assert home.status_code == 200
    assert "alice" in home.text


@pytest.mark.slow
def test_login_throttling_counts_failures_on_every_process(two_servers):
    first, second, _ = two_servers

    def attempt(base, password):
        with httpx.Client(base_url=base) as browser:
            token = factories.csrf_from(browser.get("/login").text)
            return browser.post("/login", data={"account": "alice", "password": password, "csrf_token": token})

    statuses = [attempt(base, "guess").status_code for base in (first, second, first, second, first)]
    assert statuses == [401] * 5
    assert attempt(second, factories.PASSWORD).status_code == 429
