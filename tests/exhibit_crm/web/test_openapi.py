"""The API against its own document: schemathesis generates requests from /api/v1/openapi.json (valid and invalid)
for a real server holding the demo data, with a token of each kind, and fails on any 500 or any answer that the
document does not describe. Bounded (a fixed number of cases per operation) and seeded, so a run is repeatable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import new_database_url
from tests.servers import serve

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,response_schema_conformance"
CASES_PER_OPERATION = "12"
# Which operations each kind of token is sent to: every other one would only answer 403.
TOKEN_SCOPES = {
    "staff": ["--exclude-tag", "scanner", "--exclude-tag", "leads"],
    "exhibitor_user": ["--include-tag", "leads"],
    "device": ["--include-tag", "scanner"],
}


def _cli(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "exhibit_crm.cli", *args, "--json"], env={**os.environ, **env},
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def _tokens(env: dict[str, str]) -> dict[str, str]:
    """The demo data set with a bearer token of each kind: the admin, an exhibitor user, a gate device."""
    demo = _cli(env, "demo", "--no-serve")
    exhibitor = next(user for user in demo["logins"]["exhibitor_users"] if user["edition_year"] == 2026)
    return {
        "staff": _cli(env, "token", "create", "--user", "admin")["token"],
        "exhibitor_user": _cli(env, "token", "create", "--exhibitor-user", exhibitor["email"])["token"],
        "device": _cli(env, "device", "add", "--gate", "1")["token"],
    }


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_no_generated_request_gets_a_server_error_or_an_undocumented_answer(backend, request, tmp_path):
    env = {"DATABASE_URL": new_database_url(backend, request, tmp_path, migrated=False),
           "DATA_DIR": str(tmp_path / "data")}
    tokens = _tokens(env)
    with serve(env, log=tmp_path / "server.log", workers=1) as base_url:
        for kind, scope in TOKEN_SCOPES.items():
            done = subprocess.run(
                [str(SCHEMATHESIS), "run", f"{base_url}/api/v1/openapi.json", "-H",
                 f"Authorization: Bearer {tokens[kind]}", "-c", CHECKS, "-n", CASES_PER_OPERATION, "--seed", "2026",
                 "--generation-database", "none", "--no-color", "--request-timeout", "30", *scope],
                capture_output=True, text=True, cwd=tmp_path,
            )
            assert done.returncode == 0, f"{kind} token:\n{done.stdout[-6000:]}\n{done.stderr[-2000:]}"


def test_every_operation_declares_the_errors_the_server_gives(client):
    document = client.get("/api/v1/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            declared = operation["responses"]
            assert {"422", "500"} <= declared.keys(), (method, path)
            assert ("413" in declared) == ("requestBody" in operation), (method, path)
    error = document["components"]["schemas"]["ErrorBody"]["properties"]["error"]["description"]
    assert all(code in error for code in ("control_characters", "too_large", "internal_error"))


def test_the_document_declares_the_times_enums_and_limits_the_server_enforces(client):
    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    scanned_at = schemas["ScanIn"]["properties"]["scanned_at"]["anyOf"]
    assert scanned_at[0]["format"] == "date-time" and "2000 to 2099" in scanned_at[0]["description"]
    assert scanned_at[1]["minimum"] == 946684800 and scanned_at[1]["exclusiveMaximum"] == 4102444800
    offline = schemas["ScanIn"]["properties"]["offline"]["anyOf"]
    assert {"type": "boolean"} in offline and {"enum": [0, 1]} in offline
    assert schemas["LeadOut"]["properties"]["created_at"]["format"] == "date-time"
    listing = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/leads"]["get"]["parameters"]}
    assert listing["rating"]["enum"] == ["hot", "warm", "cold"]
    assert listing["format"]["enum"] == ["json", "csv", "xlsx", "crm-csv"]
    assert listing["since"]["format"] == "date-time"
    snapshot = {p["name"]: p["schema"] for p in document["paths"]["/api/v1/scanner/snapshot"]["get"]["parameters"]}
    assert snapshot["cursor"]["minimum"] == 0
    listed = document["paths"]["/api/v1/leads"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= listed.keys()
