"""The gate's pages: the scanning page is served to anyone and holds nothing; the live dashboard and its JSON are for
desk and admin staff only; the gate links page is for admins."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from exhibit_crm import auth
from exhibit_crm.models import Gate, Presence, Scan, Zone
from tests import factories

AS_JSON = {"Accept": "application/json"}  # as dashboard.js asks, so that errors come as JSON too


@pytest.fixture
def show(session):
    edition = factories.edition(session)
    zone, gate = session.execute(select(Zone, Gate).join(Gate, Gate.zone_id == Zone.id)
                                 .where(Zone.edition_id == edition.id, Zone.name == "Hall 1")).one()
    _token, device = auth.create_device(session, gate_id=gate.id, name="Hall scanner 1")
    person = factories.registration(session, edition, full_name="王伟")
    at = datetime(2026, 3, 10, 1, 5, tzinfo=UTC)  # 09:05 in Shanghai
    for n, (verdict, reason) in enumerate((("accepted", None), ("rejected", "revoked"))):
        session.add(Scan(scan_id=f"s{n}", device_id=device.id, gate_id=gate.id, zone_id=zone.id,
                         registration_id=person.id, badge_version=1, direction="in", scanned_at=at, received_at=at,
                         verdict=verdict, reason=reason))
    session.add(Presence(registration_id=person.id, edition_id=edition.id, zone_id=zone.id, entered_at=at))
    session.commit()
    return edition


def sign_in(client, session, role: str):
    factories.staff_user(session, username=role, role=role)
    assert factories.login(client, account=role).status_code == 303
    return client


def test_the_gate_page_is_served_without_login_and_tells_nothing(client, show):
    page = client.get("/gate")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'id="scan"' in page.text and "/static/gate.js" in page.text and "/static/vendor/jsqr/jsQR.js" in page.text
    assert show.name not in page.text and "Hall 1" not in page.text and "王伟" not in page.text
    for asset in ("gate.js", "gate.css", "vendor/jsqr/jsQR.js", "dashboard.js"):
        assert client.get(f"/static/{asset}").status_code == 200, asset


def test_the_gate_page_speaks_chinese(client, show):
    client.cookies.set("lang", "zh-CN")
    page = client.get("/gate").text
    assert '<html lang="zh-CN">' in page and "请扫描证件" in page
    texts = json.loads(re.search(r'<script type="application/json" id="gate-text">(.*?)</script>', page, re.S)[1])
    assert texts["reasons"]["revoked"] == "证件已取消" and texts["accepted_in"] == "欢迎入场"


def test_the_dashboard_needs_desk_or_admin_staff(client, session, show):
    path = f"/gates/{show.id}/dashboard"
    assert client.get(path, follow_redirects=False).status_code == 303
    assert client.get(f"{path}.json").status_code == 401
    sign_in(client, session, "marketing")
    assert client.get(path).status_code == 403
    assert client.get(f"{path}.json").status_code == 403


@pytest.mark.parametrize("role", ["desk", "admin"])
def test_the_dashboard_shows_the_figures(client, session, show, role):
    sign_in(client, session, role)
    page = client.get(f"/gates/{show.id}/dashboard")
    assert page.status_code == 200 and "/static/dashboard.js" in page.text
    assert 'data-zone-id=' in page.text and "Hall scanner 1" in page.text
    assert '<div class="figure" data-figure="total">1</div>' in page.text
    home = client.get("/").text
    assert 'href="http://testserver/gates"' in home and client.get("/gates").status_code == 200


def test_the_dashboard_json_has_the_figures_of_the_asked_day(client, session, show):
    sign_in(client, session, "desk")
    figures = client.get(f"/gates/{show.id}/dashboard.json", params={"day": "2026-03-10"}, headers=AS_JSON)
    assert figures.status_code == 200 and figures.headers["cache-control"] == "no-store"
    data = figures.json()
    assert data["visitors"]["total"] == 1 and [zone["inside"] for zone in data["zones"]] == [1, 0]
    hall = next(gate for gate in data["entries"]["gates"] if gate["name"] == "Hall 1 Gate A")
    assert dict(zip(data["entries"]["slots"], hall["counts"], strict=True))["09:00"] == 1
    assert [device["name"] for device in data["devices"]] == ["Hall scanner 1"]
    refused = client.get(f"/gates/{show.id}/dashboard.json", params={"day": "10.3.2026"}, headers=AS_JSON)
    assert refused.status_code == 422 and refused.json()["field"] == "day"
    assert client.get("/gates/999999/dashboard.json").status_code == 404


def test_the_dashboard_in_chinese(client, session, show):
    sign_in(client, session, "desk")
    client.cookies.set("lang", "zh-CN")
    page = client.get(f"/gates/{show.id}/dashboard").text
    assert "入口实时看板" in page and "场内人数" in page and "Unique visitors" not in page


def test_gate_links_are_for_admins(client, session, show):
    sign_in(client, session, "desk")
    assert client.get(f"/gates/{show.id}/links").status_code == 403
    client.post("/logout", data={"csrf_token": factories.csrf_from(client.get("/").text)})
    client.cookies.clear()
    sign_in(client, session, "admin")
    page = client.get(f"/gates/{show.id}/links")
    assert page.status_code == 200 and "http://testserver/gate#token=" in page.text
    assert "Hall 1 Gate A" in page.text and "Hall scanner 1" in page.text
