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
