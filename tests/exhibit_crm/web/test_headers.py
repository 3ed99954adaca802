"""Security headers on every answer, no caching of pages, and the JSON error of a crash under /api."""

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from exhibit_crm.app import create_app
from tests import factories
from tests.badge_scanner.test_api import bearer, scan_body, show  # noqa: F401  (show is a fixture)


def test_pages_carry_a_content_security_policy_and_no_framing(client, session):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";")[0]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers  # plain http


def test_pages_with_visitor_data_are_not_cached(client, session):
    factories.staff_user(session)
    factories.login(client)
    assert client.get("/").headers["cache-control"] == "no-store"
    assert client.get("/api/v1/series", headers={"Accept": "application/json"}).headers["cache-control"] == "no-store"


def test_static_files_keep_their_caching(client):
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers.get("cache-control") != "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_https_sites_send_hsts(settings):
    from dataclasses import replace

    app = create_app(replace(settings, base_url="https://crm.example.cn"))
    with TestClient(app, base_url="https://crm.example.cn") as client:
        assert "max-age=" in client.get("/login").headers["strict-transport-security"]


def test_no_page_has_inline_event_handlers():
    from pathlib import Path

    templates = Path(__file__).parents[3] / "templates"
    offenders = [path.name for path in templates.rglob("*.html") if " onclick=" in path.read_text()]
    assert offenders == []


@pytest.mark.parametrize("path", ["/api/v1/boom", "/boom"])
def test_a_crash_answers_the_documented_error(settings, path):
    app = create_app(settings)

    async def boom(request):
        raise RuntimeError("a bug")

    app.router.routes.insert(0, Route(path, boom))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(path)
    assert response.status_code == 500
    if path.startswith("/api/"):
        assert response.json() == {"error": "internal_error", "message": "internal server error"}
    else:
        assert "text/html" in response.headers["content-type"]


def test_hot_scan_answers_carry_the_headers_too(client, show):  # noqa: F811
    response = client.post("/api/v1/scans", json=scan_body(show["code"]), headers=bearer(show["token"]))
    assert response.status_code == 200
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
