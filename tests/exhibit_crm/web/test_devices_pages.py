"""The gate devices page: an admin registers a device (its token shown once) and revokes it; others are kept out."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from exhibit_crm import auth
from exhibit_crm.models import AuditLog, Gate, GateDevice, Zone
from tests import factories


@pytest.fixture
def edition(session):
    ed = factories.edition(session)
    gates = list(session.scalars(select(Gate).join(Zone, Zone.id == Gate.zone_id)
                                 .where(Zone.edition_id == ed.id).order_by(Zone.name)))
    session.close()  # release the connection: the app writes through its own
    return ed, gates


def page_of(ed) -> str:
    return f"/admin/editions/{ed.id}/devices"


def register(client, ed, data: dict, *, csrf: bool = True):
    token = factories.csrf_from(client.get(page_of(ed)).text)
    return client.post(f"{page_of(ed)}/new", data={**data, **({"csrf_token": token} if csrf else {})},
                       follow_redirects=False)


def device_count(db) -> int:
    return db(lambda s: s.scalar(select(func.count()).select_from(GateDevice)))


def shown_token(html: str) -> str:
    match = re.search(r"<code data-token>(ecd_[^<]+)</code>", html)
    assert match, "no token on the page"
    return match.group(1)


def test_the_page_lists_gates_by_zone_with_a_register_form(admin, edition):
    ed, gates = edition
    page = admin.get(page_of(ed))
    assert page.status_code == 200
    assert "Hall 1" in page.text and "VIP Lounge Gate A" in page.text and 'id="form-device-new"' in page.text
    assert f'<option value="{gates[0].id}"' in page.text and "No devices at this gate." in page.text


def test_registering_shows_the_token_once_and_it_resolves_to_the_gate(admin, edition, db):
    ed, gates = edition
    answer = register(admin, ed, {"gate_id": str(gates[1].id), "name": "VIP turnstile"})
    assert answer.status_code == 200 and "shown only this once" in answer.text
    token = shown_token(answer.text)
    assert f'<code id="gate-link">http://testserver/gate#token={token}</code>' in answer.text
    assert token not in answer.headers.get("location", "") and answer.headers["cache-control"] == "no-store"
    who = db(lambda s: auth.principal_for_token(s, token))
    assert (who.kind, who.gate_id, who.name) == ("device", gates[1].id, "VIP turnstile")
    assert db(lambda s: s.scalar(select(GateDevice.token_hash))) != token

    later = admin.get(page_of(ed)).text
    assert "VIP turnstile" in later and token not in later and "data-token" not in later and "gate-link" not in later


def test_revoking_stops_the_token(admin, edition, db):
    ed, gates = edition
    token = shown_token(register(admin, ed, {"gate_id": str(gates[0].id), "name": "hall scanner"}).text)
    device_id = db(lambda s: s.scalar(select(GateDevice.id)))
    page = admin.get(page_of(ed)).text
    assert "data-confirm=" in page and "within 5 seconds" in page and f"/devices/{device_id}/revoke" in page
    answer = admin.post(f"{page_of(ed)}/{device_id}/revoke", data={"csrf_token": factories.csrf_from(page)},
                        follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith(page_of(ed))
    assert db(lambda s: auth.principal_for_token(s, token)) is None
    shown = admin.get(answer.headers["location"]).text
    assert "Device revoked." in shown and "Revoked 20" in shown and f"/devices/{device_id}/revoke" not in shown
    assert db(lambda s: s.scalar(select(func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == "exhibit_crm.device.revoked"))) == 1


def test_a_blank_name_is_refused_next_to_the_field_with_the_input_kept(admin, edition, db):
    ed, gates = edition
    answer = register(admin, ed, {"gate_id": str(gates[1].id), "name": "  "})
    assert answer.status_code == 422 and device_count(db) == 0
    form = re.search(r'<form[^>]*id="form-device-new".*?</form>', answer.text, re.S).group(0)
    assert re.search(r'name="name"[^>]*aria-invalid="true"', form) and 'class="field-error"' in form
    assert f'<option value="{gates[1].id}" selected>' in form


def test_a_gate_of_another_edition_is_refused(admin, edition, session, db):
    ed, _gates = edition
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    their_gate = session.scalars(select(Gate).join(Zone, Zone.id == Gate.zone_id)
                                 .where(Zone.edition_id == other.id)).first()
    session.close()
    assert register(admin, ed, {"gate_id": str(their_gate.id), "name": "sneaky"}).status_code == 404
    assert device_count(db) == 0


def test_without_the_csrf_token_nothing_is_stored(admin, edition, db):
    ed, gates = edition
    answer = register(admin, ed, {"gate_id": str(gates[0].id), "name": "s1"}, csrf=False)
    assert answer.status_code == 403 and device_count(db) == 0
    token = shown_token(register(admin, ed, {"gate_id": str(gates[0].id), "name": "s1"}).text)
    device_id = db(lambda s: s.scalar(select(GateDevice.id)))
    assert admin.post(f"{page_of(ed)}/{device_id}/revoke", data={}, follow_redirects=False).status_code == 403
    assert db(lambda s: auth.principal_for_token(s, token)) is not None


def test_a_desk_user_may_not_open_or_post(client, session, edition, db):
    ed, gates = edition
    factories.staff_user(session, username="desk", role="desk")
    factories.login(client, account="desk")
    assert client.get(page_of(ed)).status_code == 403
    csrf = factories.csrf_from(client.get("/").text)
    answer = client.post(f"{page_of(ed)}/new", data={"gate_id": str(gates[0].id), "name": "s1", "csrf_token": csrf},
                         follow_redirects=False)
    assert answer.status_code == 403 and device_count(db) == 0


def test_strangers_are_sent_to_sign_in(client, edition):
    ed, _gates = edition
    answer = client.get(page_of(ed), follow_redirects=False)
    assert answer.status_code == 303 and "/login" in answer.headers["location"]


def test_the_page_is_in_chinese(admin, edition):
    ed, _gates = edition
    admin.cookies.set("lang", "zh-CN")
    page = admin.get(page_of(ed)).text
    assert "入口设备" in page and "注册设备" in page and "该入口尚无设备。" in page


def test_the_edition_page_links_to_its_devices(client, session):
    edition = factories.edition(session)
    factories.staff_user(session)
    factories.login(client)
    assert f"/admin/editions/{edition.id}/devices" in client.get(f"/admin/editions/{edition.id}").text
