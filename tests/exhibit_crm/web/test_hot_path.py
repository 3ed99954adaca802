"""The short way in for hot operations: bearer-token calls skip the browser middleware, nothing else does."""

from __future__ import annotations

import pytest
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.testclient import TestClient

from exhibit_crm.errors import InvalidInput
from exhibit_crm.i18n import current_language
from exhibit_crm.web.hot_path import HotRoutes, hot_endpoints


async def _endpoint(request):
    body = await request.json()
    if body.get("fail") == "domain":
        raise InvalidInput("invalid", "code: too short", field="code")
    if body.get("fail") == "bug":
        raise RuntimeError("a bug")
    return JSONResponse({"language": current_language.get(), "echo": body})


async def _whole_app(scope, receive, send):
    await PlainTextResponse("the whole app")(scope, receive, send)


@pytest.fixture
def client():
    app = HotRoutes(_whole_app, endpoints={("POST", "/api/v1/hot"): _endpoint}, default_language="en")
    return TestClient(app)


def test_a_bearer_call_to_a_hot_operation_goes_straight_to_its_endpoint(client):
    answer = client.post("/api/v1/hot", json={"a": "王伟"}, headers={"Authorization": "Bearer abc"})
    assert answer.json() == {"language": "en", "echo": {"a": "王伟"}}
    answer = client.post("/api/v1/hot", json={}, headers={"authorization": "bearer abc", "Accept-Language": "zh-CN"})
    assert answer.json()["language"] == "zh-CN"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer "}, {"Authorization": "Basic abc"},
                                     {"Cookie": "exhibit_crm_session=x"}])
def test_calls_without_a_bearer_token_go_through_the_whole_app(client, headers):
    assert client.post("/api/v1/hot", json={}, headers=headers).text == "the whole app"


def test_other_paths_and_methods_go_through_the_whole_app(client):
    assert client.get("/api/v1/hot", headers={"Authorization": "Bearer abc"}).text == "the whole app"
    assert client.post("/api/v1/hot/", headers={"Authorization": "Bearer abc"}).text == "the whole app"


def test_errors_get_the_apps_answers(client):
    answer = client.post("/api/v1/hot", json={"fail": "domain"}, headers={"Authorization": "Bearer abc"})
    assert answer.status_code == 422
    assert answer.json() == {"error": "invalid", "message": "code: too short", "field": "code"}
    with pytest.raises(RuntimeError):  # left to the app's server-error middleware, as any other bug
        client.post("/api/v1/hot", json={"fail": "bug"}, headers={"Authorization": "Bearer abc"})


def test_the_hot_operations_are_the_scanner_and_lead_apis(app):
    assert sorted(hot_endpoints(app.routes)) == [("POST", "/api/v1/leads"), ("POST", "/api/v1/leads/batch"),
                                                 ("POST", "/api/v1/scans"), ("POST", "/api/v1/scans/batch")]
    assert isinstance(app.user_middleware[0].cls, type) and app.user_middleware[0].cls is HotRoutes
