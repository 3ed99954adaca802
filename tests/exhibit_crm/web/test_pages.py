import pytest

from tests import factories


def test_healthz_answers_from_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_login_sets_an_http_only_signed_session_cookie(client, session):
    factories.staff_user(session)
    response = factories.login(client)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "exhibit_crm_session=" in cookie
    assert "httponly" in cookie.lower()
    assert factories.PASSWORD not in cookie


def test_wrong_password_is_refused_with_a_message(client, session):
    factories.staff_user(session)
    response = factories.login(client, password="not the password")
    assert response.status_code == 401
    assert "Wrong username or password" in response.text
    assert 'value="alice"' in response.text


def test_login_without_csrf_token_is_rejected(client, session):
    factories.staff_user(session)
    client.get("/login")
    response = client.post("/login", data={"account": "alice", "password": factories.PASSWORD})
    assert response.status_code == 403
    assert 'data-code="csrf_failed"' in response.text
    assert client.get("/", follow_redirects=False).status_code == 303  # still signed out


def test_a_forged_csrf_token_is_rejected(client, session):
    factories.staff_user(session)
    client.get("/login")
    response = client.post("/login", data={"account": "alice", "password": factories.PASSWORD,
                                           "csrf_token": "forged"})
    assert response.status_code == 403


def test_repeated_failures_throttle_the_account(client, session):
    factories.staff_user(session)
    for _ in range(5):
        assert factories.login(client, password="guess").status_code == 401
    response = factories.login(client)
    assert response.status_code == 429
    assert 'data-code="throttled"' in response.text


def test_logout_needs_the_csrf_token(client, session):
    factories.staff_user(session)
    factories.login(client)
    assert client.post("/logout").status_code == 403
    token = factories.csrf_from(client.get("/login").text)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303


def test_login_never_redirects_off_site(client, session):
    factories.staff_user(session)
    token = factories.csrf_from(client.get("/login").text)
    response = client.post("/login", data={"account": "alice", "password": factories.PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://testserver/login?next=")


def test_language_switch_sets_a_cookie_and_returns(client):
    response = client.get("/lang/zh-CN?next=/login", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert "lang=zh-CN" in response.headers["set-cookie"]
    assert '<html lang="zh-CN">' in client.get("/login").text


def test_unknown_pages_get_a_404_page_and_api_paths_json(client):
    assert client.get("/nowhere").status_code == 404
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_wrong_method_keeps_the_allow_header(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]


def test_exhibitor_users_sign_in_on_their_own_page_and_not_as_staff(client, session):
    user = factories.exhibitor_user(session, factories.edition(session))
    assert factories.login(client, account=user.email).status_code == 401  # the staff login does not know them
    response = factories.login(client, account=user.email.upper(), path="/exhibitor/login")
    assert response.status_code == 303 and response.headers["location"] == "/portal"  # they start in their portal
    home = client.get("/")
    assert home.status_code == 200
    assert user.email in home.text
    assert "/admin/series" not in home.text


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_next_never_leaves_the_site(client, session, target):
    factories.staff_user(session)
    token = factories.csrf_from(client.get("/login").text)
    response = client.post("/login", data={"account": "alice", "password": factories.PASSWORD, "csrf_token": token,
                                           "next": target}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_an_overlong_account_name_is_a_wrong_login_not_an_error(client):
    assert factories.login(client, account="x" * 1000).status_code == 401


def test_ids_too_long_for_the_database_are_not_found(client, session):
    factories.staff_user(session)
    factories.login(client)
    assert client.get("/admin/series/1").status_code == 404
    assert client.get("/admin/series/" + "9" * 30).status_code == 404


def test_a_copied_session_cookie_stops_working_after_logout(client, session, app):
    factories.staff_user(session)
    factories.login(client)
    copied = dict(client.cookies)
    token = factories.csrf_from(client.get("/login").text)
    client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    from starlette.testclient import TestClient

    with TestClient(app, cookies=copied) as thief:
        assert thief.get("/", follow_redirects=False).status_code == 303


def test_a_password_reset_ends_the_users_sessions(client, session, app):
    from exhibit_crm import accounts, audit

    user = factories.staff_user(session)
    factories.login(client)
    assert client.get("/", follow_redirects=False).status_code == 200
    accounts.set_password(session, user_id=user.id, password="a brand new password", actor=audit.CLI)
    session.commit()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_an_attacker_elsewhere_cannot_lock_the_owner_out(app, session):
    from starlette.testclient import TestClient

    factories.staff_user(session)
    with TestClient(app, client=("203.0.113.9", 50000)) as attacker:
        for _ in range(6):
            assert factories.login(attacker, password="guess").status_code in (401, 429)
        assert factories.login(attacker).status_code == 429
    with TestClient(app, client=("198.51.100.7", 50000)) as owner:
        assert factories.login(owner).status_code == 303
