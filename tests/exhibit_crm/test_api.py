"""The /api/v1 JSON API: an admin sets up a show with a bearer token; roles, errors and the OpenAPI document."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest
from starlette.routing import Route

from exhibit_crm import auth, cli, commands
from exhibit_crm.models import Company, Exhibitor, ExhibitorUser
from exhibit_crm.web import openapi
from tests import factories


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_for(session, *, username: str = "alice", role: str = "admin") -> str:
    factories.staff_user(session, username=username, role=role)
    plain, _ = auth.create_api_token(session, username=username)
    session.commit()
    return plain


@pytest.fixture
def admin(session) -> dict:
    return bearer(token_for(session))


def post(client, path: str, headers: dict, body: dict, status: int = 201) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def test_an_admin_sets_up_an_edition_and_reads_the_overview(client, admin):
    series = post(client, "/api/v1/series", admin, {"name": "Furniture Fair", "name_zh": "家具展"})
    edition = post(client, f"/api/v1/series/{series['id']}/editions", admin,
                   {"name": "Furniture Fair 2026", "year": 2026, "venue": "NECC", "timezone": "Asia/Shanghai"})
    assert edition["series_id"] == series["id"] and edition["badge_layout"] == "A6"
    hall = post(client, f"/api/v1/editions/{edition['id']}/zones", admin, {"name": "Hall 1"})
    vip = post(client, f"/api/v1/editions/{edition['id']}/zones", admin, {"name": "VIP Lounge", "reentry": "strict"})
    gate = post(client, f"/api/v1/zones/{hall['id']}/gates", admin, {"name": "North Gate"})
    for day in ("2026-03-11", "2026-03-10"):
        post(client, f"/api/v1/editions/{edition['id']}/days", admin,
             {"day": day, "opens_at": "09:00", "closes_at": "17:30"})
    post(client, f"/api/v1/editions/{edition['id']}/badge-types", admin,
         {"code": "vip_buyer", "name": "VIP buyer", "audience": "trade_visitor"})
    # a client written before audiences sends none: the badge type gets the one its code names
    post(client, f"/api/v1/editions/{edition['id']}/badge-types", admin, {"code": "media", "name": "Media"})
    post(client, f"/api/v1/editions/{edition['id']}/questions", admin,
         {"key": "interest", "label": "Interest", "options": [{"value": "sofas", "label": "Sofas"}]})
    post(client, f"/api/v1/editions/{edition['id']}/product-categories", admin, {"code": "sofa", "name": "Sofas"})

    response = client.get(f"/api/v1/editions/{edition['id']}/overview", headers=admin)
    assert response.status_code == 200
    overview = response.json()
    assert overview["edition"]["name"] == "Furniture Fair 2026" and overview["series"]["name_zh"] == "家具展"
    assert [(d["day"], d["opens_at"], d["closes_at"]) for d in overview["days"]] == [
        ("2026-03-10", "09:00:00", "17:30:00"), ("2026-03-11", "09:00:00", "17:30:00")]
    assert [(z["name"], z["reentry"], [g["name"] for g in z["gates"]]) for z in overview["zones"]] == [
        ("Hall 1", "free", ["North Gate"]), ("VIP Lounge", "strict", [])]
    assert overview["zones"][0]["gates"][0] == {"id": gate["id"], "zone_id": hall["id"], "name": "North Gate"}
    assert [(b["code"], b["audience"]) for b in overview["badge_types"]] == [("media", "press"),
                                                                             ("vip_buyer", "trade_visitor")]
    assert overview["questions"][0]["options"] == [{"value": "sofas", "label": "Sofas"}]
    assert [c["code"] for c in overview["product_categories"]] == ["sofa"]
    listed = client.get(f"/api/v1/editions/{edition['id']}/zones", headers=admin).json()
    assert [z["id"] for z in listed] == [hall["id"], vip["id"]]
    created_at = client.get(f"/api/v1/series/{series['id']}", headers=admin).json()["created_at"]
    assert datetime.fromisoformat(created_at).utcoffset() == timedelta(0)


def test_patch_changes_only_the_given_fields_and_delete_removes(client, session, admin):
    edition = factories.edition(session)
    zone = post(client, f"/api/v1/editions/{edition.id}/zones", admin, {"name": "Hall 9", "margin_minutes": 10})
    response = client.patch(f"/api/v1/zones/{zone['id']}", json={"reentry": "strict"}, headers=admin)
    assert response.status_code == 200
    assert response.json() == {**zone, "reentry": "strict"}
    assert client.delete(f"/api/v1/zones/{zone['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/zones/{zone['id']}", headers=admin).status_code == 404


def test_deleting_a_series_with_editions_is_refused(client, session, admin):
    edition = factories.edition(session)
    response = client.delete(f"/api/v1/series/{edition.series_id}", headers=admin)
    assert response.status_code == 409
    assert response.json()["error"] == "in_use"


def test_a_duplicate_zone_name_is_a_conflict_naming_the_field(client, session, admin):
    edition = factories.edition(session)
    response = client.post(f"/api/v1/editions/{edition.id}/zones", json={"name": "Hall 1"}, headers=admin)
    assert response.status_code == 409
    assert response.json()["error"] == "duplicate" and response.json()["field"] == "name"


INVALID = [  # path under the edition, body, the field the answer must name
    ("/days", {"day": "2026-03-13", "opens_at": "18:00", "closes_at": "09:00"}, "closes_at"),
    ("/days", {"day": "13 March", "opens_at": "09:00", "closes_at": "18:00"}, "day"),
    ("/days", {"day": "2026-03-13", "opens_at": "09:00", "closes_at": 0}, "closes_at"),  # a number is a UTC time
    ("/days", {"day": "2026-03-13", "opens_at": "09:00+08:00", "closes_at": "18:00"}, "opens_at"),
    ("/zones", {"name": "Hall 5", "reentry": "sometimes"}, "reentry"),
    ("/zones", {"name": ""}, "name"),
    ("/zones", {"name": "Hall 5", "colour": "red"}, "colour"),
    ("/badge-types", {"code": "Trade Visitor", "name": "Trade", "audience": "trade_visitor"}, "code"),
    ("/badge-types", {"code": "trade", "name": "Trade", "audience": "visitor"}, "audience"),
    ("/questions", {"key": "size", "label": "Company size", "kind": "single"}, "options"),
]


def test_invalid_input_is_422_naming_the_field(client, session, admin):
    edition = factories.edition(session)
    for path, body, field in INVALID:
        response = client.post(f"/api/v1/editions/{edition.id}{path}", json=body, headers=admin)
        assert response.status_code == 422, (path, body)
        assert (response.json()["error"], response.json()["field"]) == ("invalid", field)


def test_a_badge_types_audience_is_changed_and_a_bad_one_refused(client, session, admin):
    edition = factories.edition(session)
    staff = next(b for b in client.get(f"/api/v1/editions/{edition.id}/badge-types", headers=admin).json()
                 if b["code"] == "exhibitor_staff")
    assert staff["audience"] == "exhibitor_staff"
    response = client.patch(f"/api/v1/badge-types/{staff['id']}", json={"audience": "organiser"}, headers=admin)
    assert response.status_code == 200 and response.json() == {**staff, "audience": "organiser"}
    for bad in ("visitors", None, ""):
        response = client.patch(f"/api/v1/badge-types/{staff['id']}", json={"audience": bad}, headers=admin)
        assert (response.status_code, response.json()["field"]) == (422, "audience"), bad
    assert client.get(f"/api/v1/badge-types/{staff['id']}", headers=admin).json()["audience"] == "organiser"
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["BadgeTypeCreate"]
    assert "audience" not in schema.get("required", [])  # left out, the audience its code names
    assert schema["properties"]["audience"]["enum"] == ["trade_visitor", "public_visitor", "exhibitor_staff",
                                                        "press", "organiser"]


def test_an_unknown_time_zone_is_refused_on_create_and_on_patch(client, session, admin):
    edition = factories.edition(session)
    body = {"name": "Fair 2027", "year": 2027, "timezone": "Mars/Olympus"}
    response = client.post(f"/api/v1/series/{edition.series_id}/editions", json=body, headers=admin)
    assert (response.status_code, response.json()["field"]) == (422, "timezone")
    response = client.patch(f"/api/v1/editions/{edition.id}", json={"timezone": "Nowhere"}, headers=admin)
    assert (response.status_code, response.json()["field"]) == (422, "timezone")
    response = client.patch(f"/api/v1/editions/{edition.id}", json={"year": "soon"}, headers=admin)
    assert (response.status_code, response.json()["field"]) == (422, "year")


def test_malformed_json_is_422(client, session, admin):
    edition = factories.edition(session)
    response = client.post(f"/api/v1/editions/{edition.id}/zones", content=b"{not json",
                           headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "malformed_json"


def test_unknown_or_malformed_ids_are_404(client, admin):
    for path in ("/api/v1/zones/abc", "/api/v1/zones/99999", "/api/v1/zones/99999999999999999999999",
                 "/api/v1/zones/-1", "/api/v1/editions/99999/zones", "/api/v1/editions/x/overview",
                 "/api/v1/zones/2147483648", "/api/v1/editions/2017998778542/zones"):  # past PostgreSQL's integer
        response = client.get(path, headers=admin)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"


def test_without_a_valid_token_the_api_answers_401(client, session):
    token_for(session)
    for headers in ({}, bearer("ecs_not-a-real-token"), {"Authorization": "Basic YWxpY2U6eA=="}):
        response = client.get("/api/v1/series", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"
    assert client.post("/api/v1/series", json={"name": "X"}).status_code == 401


@pytest.mark.parametrize("role", ["desk", "marketing"])
def test_other_staff_roles_may_read_but_not_write(client, session, role):
    edition = factories.edition(session)
    headers = bearer(token_for(session, username="dana", role=role))
    assert client.get(f"/api/v1/editions/{edition.id}/overview", headers=headers).status_code == 200
    me = client.get("/api/v1/me", headers=headers).json()
    assert me == {**me, "kind": "staff", "name": "dana", "role": role, "exhibitor_id": None, "gate_id": None}
    for method, path, body in (("POST", f"/api/v1/editions/{edition.id}/zones", {"name": "Hall 7"}),
                               ("PATCH", f"/api/v1/editions/{edition.id}", {"venue": "Elsewhere"}),
                               ("DELETE", f"/api/v1/editions/{edition.id}", None)):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 403, (method, path)
        assert response.json()["error"] == "forbidden"


def test_device_and_exhibitor_user_tokens_are_refused_the_admin_api(client, session, admin):
    edition = factories.edition(session)
    gate_id = client.get(f"/api/v1/editions/{edition.id}/overview", headers=admin).json()["zones"][0]["gates"][0]["id"]
    device_token, _ = auth.create_device(session, gate_id=gate_id, name="turnstile")
    company = Company(name="Acme", name_key="acme")
    session.add(company)
    session.flush()
    exhibitor = Exhibitor(edition_id=edition.id, company_id=company.id)
    session.add(exhibitor)
    session.flush()
    session.add(ExhibitorUser(exhibitor_id=exhibitor.id, email="sales@acme.example"))
    session.flush()
    exhibitor_token, _ = auth.create_api_token(session, exhibitor_user_email="sales@acme.example")
    session.commit()
    for token in (device_token, exhibitor_token):
        assert client.get("/api/v1/series", headers=bearer(token)).status_code == 403
        assert client.post("/api/v1/series", json={"name": "X"}, headers=bearer(token)).status_code == 403
    assert client.get("/api/v1/me", headers=bearer(device_token)).json()["gate_id"] == gate_id
    assert client.get("/api/v1/me", headers=bearer(exhibitor_token)).json()["exhibitor_id"] == exhibitor.id


def test_a_device_created_over_the_api_gets_a_token_bound_to_its_gate(client, session, admin):
    edition = factories.edition(session)
    gate_id = client.get(f"/api/v1/editions/{edition.id}/overview", headers=admin).json()["zones"][1]["gates"][0]["id"]
    created = post(client, f"/api/v1/gates/{gate_id}/devices", admin, {"name": "handheld 3"})
    assert (created["gate_id"], created["name"]) == (gate_id, "handheld 3")
    assert client.post("/api/v1/gates/99999/devices", json={"name": "x"}, headers=admin).status_code == 404
    assert client.post(f"/api/v1/gates/{gate_id}/devices", json={"name": ""}, headers=admin).json()["field"] == "name"
    who = auth.principal_for_token(session, created["token"])
    assert (who.kind, who.id, who.gate_id) == ("device", created["id"], gate_id)


def test_a_token_from_the_cli_works_against_the_api(client, session, database_url, tmp_path, monkeypatch, capsys):
    factories.staff_user(session)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "cli-data"))
    commands.settings.cache_clear()
    try:
        assert cli.main(["token", "create", "--user", "alice", "--json"]) == 0
    finally:
        commands.settings.cache_clear()
    token = json.loads(capsys.readouterr().out)["token"]
    assert client.get("/api/v1/me", headers=bearer(token)).json()["name"] == "alice"
    assert post(client, "/api/v1/series", bearer(token), {"name": "From a script"})["name"] == "From a script"


def test_writes_with_a_session_cookie_need_the_csrf_header(client, session):
    factories.staff_user(session)
    assert factories.login(client).status_code == 303
    assert client.get("/api/v1/series").status_code == 200
    response = client.post("/api/v1/series", json={"name": "X"})
    assert (response.status_code, response.json()["error"]) == (403, "csrf_failed")


# The OpenAPI document

JSON_TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}
SCHEMA_LISTS = {"anyOf", "oneOf", "allOf", "prefixItems"}
SCHEMA_MAPS = {"properties", "patternProperties", "$defs"}
SCHEMA_ONE = {"items", "not", "additionalProperties", "contains", "propertyNames", "if", "then", "else"}
NUMBERS = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
           "minItems", "maxItems", "minProperties", "maxProperties"}
ANNOTATIONS = {"title", "description", "default", "examples", "format", "const", "enum", "deprecated", "readOnly",
               "writeOnly", "uniqueItems", "required", "pattern", "$ref", "type", "discriminator"}


def check_schema(schema, components: dict, where: str) -> None:
    """A JSON Schema (2020-12, as OpenAPI 3.1 uses it) by its meta-schema's rules for the keywords in use."""
    if isinstance(schema, bool):
        return
    assert isinstance(schema, dict), where
    unknown = set(schema) - JSON_TYPES - SCHEMA_LISTS - SCHEMA_MAPS - SCHEMA_ONE - NUMBERS - ANNOTATIONS
    assert not unknown, f"{where}: unknown keywords {unknown}"
    types = schema.get("type", [])
    assert set([types] if isinstance(types, str) else types) <= JSON_TYPES, where
    for key in NUMBERS & set(schema):
        assert isinstance(schema[key], int | float) and not isinstance(schema[key], bool), f"{where}.{key}"
    if "pattern" in schema:
        re.compile(schema["pattern"])
    if "required" in schema:
        assert set(schema["required"]) <= set(schema.get("properties", {})), where
    if "enum" in schema:
        assert isinstance(schema["enum"], list) and schema["enum"], where
    if "$ref" in schema:
        prefix = "#/components/schemas/"
        assert schema["$ref"].startswith(prefix) and schema["$ref"][len(prefix):] in components, where
    for key in SCHEMA_LISTS & set(schema):
        for i, sub in enumerate(schema[key]):
            check_schema(sub, components, f"{where}.{key}[{i}]")
    for key in SCHEMA_MAPS & set(schema):
        for name, sub in schema[key].items():
            check_schema(sub, components, f"{where}.{key}.{name}")
    for key in SCHEMA_ONE & set(schema):
        check_schema(schema[key], components, f"{where}.{key}")


def test_the_openapi_document_lists_every_api_route_with_valid_schemas(client, app):
    response = client.get("/api/v1/openapi.json")  # public: no token
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {**doc["components"]["securitySchemes"]["bearer"],
                                                              "type": "http", "scheme": "bearer"}
    components = doc["components"]["schemas"]
    served = [(path, route) for path, route in openapi.api_routes(app.routes) if path.startswith("/api/v1")]
    assert len(served) > 40
    for path, route in served:
        assert isinstance(route, Route)
        for method in route.methods - {"HEAD"}:
            operation = doc["paths"][openapi.openapi_path(path)][method.lower()]
            assert operation["summary"] and operation["responses"], (method, path)
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert in_path == set(route.param_convertors)
            body = operation.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                check_schema(schema, components, f"{method} {path}")
                check_schema(components[schema["$ref"].rsplit("/", 1)[1]], components, schema["$ref"])
            if operation["security"]:
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
    for name, schema in components.items():
        check_schema(schema, components, name)
    assert components["ErrorBody"]["required"] == ["error", "message"]


def test_opening_hours_are_declared_as_the_local_times_the_api_writes(client, session, admin):
    edition = factories.edition(session)
    day = post(client, f"/api/v1/editions/{edition.id}/days", admin,
               {"day": "2026-03-13", "opens_at": "09:30", "closes_at": "18:00"})
    declared = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["EditionDayPublic"]
    opens_at = declared["properties"]["opens_at"]
    assert "format" not in opens_at  # JSON Schema's "time" demands an offset that opening hours do not have
    assert re.fullmatch(opens_at["pattern"], day["opens_at"]) and day["opens_at"] == "09:30:00"


def test_the_document_declares_roles_and_errors(client):
    doc = client.get("/api/v1/openapi.json").json()
    create_zone = doc["paths"]["/api/v1/editions/{edition_id}/zones"]["post"]
    assert create_zone["x-roles"] == ["admin"]
    assert {"201", "401", "403", "404", "409", "422"} <= set(create_zone["responses"])
    assert create_zone["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ZoneCreate"}
    zone_create = doc["components"]["schemas"]["ZoneCreate"]
    assert zone_create["required"] == ["name"] and zone_create["additionalProperties"] is False
    list_zones = doc["paths"]["/api/v1/editions/{edition_id}/zones"]["get"]
    assert list_zones["x-roles"] == []
    assert list_zones["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array", "items": {"$ref": "#/components/schemas/ZonePublic"}}
    assert "default" not in json.dumps(doc["components"]["schemas"]["ZoneUpdate"])
    assert doc["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


@pytest.mark.parametrize(("raw", "status", "error"), [
    (b"[" * 100_000 + b"]" * 100_000, 422, "malformed_json"),
    (b'{"name": "' + b"x" * (1024 * 1024) + b'"}', 413, "too_large"),
])
def test_a_json_body_nested_too_deeply_or_too_large_is_refused(client, admin, raw, status, error):
    response = client.post("/api/v1/series", content=raw, headers={**admin, "content-type": "application/json"})
    assert (response.status_code, response.json()["error"]) == (status, error)
