"""NUL and other control characters are refused at the edges with a 422 naming the field, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exhibit_crm.models import LoginAttempt, Scan
from tests import factories
from tests.badge_scanner.test_api import bearer, scan_body, show  # noqa: F401  (show is a fixture)


@pytest.mark.parametrize("path", ["/login", "/exhibitor/login"])
def test_a_login_with_a_nul_is_refused_without_a_crash(client, session, db, path):
    token = factories.csrf_from(client.get(path).text)
    response = client.post(path, data={"account": "ad\x00min", "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert 'data-code="control_characters"' in response.text
    assert db(lambda s: s.scalar(select(func.count()).select_from(LoginAttempt))) == 0


def test_other_control_characters_are_refused_but_line_breaks_are_text(client, session):
    token = factories.csrf_from(client.get("/login").text)
    assert client.post("/login", data={"account": "a\x1bb", "password": "x", "csrf_token": token}).status_code == 422
    assert client.post("/login", data={"account": "a\r\nb", "password": "x", "csrf_token": token}).status_code == 401


def test_a_query_string_with_a_nul_is_refused(client, session):
    factories.staff_user(session, username="desk1", role="desk")
    ed = factories.edition(session)
    factories.login(client, account="desk1")
    response = client.get(f"/desk/{ed.id}/search?q=%E7%8E%8B%00", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "control_characters" and response.json()["field"] == "q"
    assert client.get(f"/desk/{ed.id}/search?q=%E7%8E%8B").status_code == 200


def test_a_scan_with_a_nul_is_refused_and_stores_nothing(client, show, db):  # noqa: F811
    for body in (scan_body(show["code"] + "\x00"), scan_body(show["code"], scan_id="s\x00")):
        response = client.post("/api/v1/scans", json=body, headers=bearer(show["token"]))
        assert response.status_code == 422
        assert response.json()["error"] == "control_characters"
    batch = {"scans": [scan_body("\x00", scan_id="b1")]}
    assert client.post("/api/v1/scans/batch", json=batch, headers=bearer(show["token"])).status_code == 422
    assert db(lambda s: s.scalar(select(func.count()).select_from(Scan))) == 0


def test_a_json_api_body_with_a_nul_is_refused(admin):
    response = admin.post("/api/v1/series", json={"name": "Fair\x00", "name_zh": "展"},
                          headers={"X-CSRF-Token": factories.csrf_from(admin.get("/admin/users").text)})
    assert response.status_code == 422
    assert response.json() == {"error": "control_characters", "field": "name",
                               "message": "name: control characters (such as NUL) are not allowed"}
