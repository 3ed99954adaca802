"""Gate devices of an edition: registered at one of its gates with a token that resolves, revoked so it does not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exhibit_crm import audit, auth, devices
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import AuditLog, Gate, GateDevice, Zone
from tests import factories

ADMIN = audit.Actor("staff", 1, "alice")


def gates_of(session, edition) -> list[Gate]:
    return list(session.scalars(select(Gate).join(Zone, Zone.id == Gate.zone_id)
                                .where(Zone.edition_id == edition.id).order_by(Zone.name)))


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).where(AuditLog.action.like("exhibit_crm.device.%"))
                                .order_by(AuditLog.id)))


def test_a_registered_device_token_resolves_to_its_gate(session):
    edition = factories.edition(session)
    gate = gates_of(session, edition)[0]
    token, device = devices.register_device(session, edition_id=edition.id, gate_id=gate.id, name=" Hall 1 scanner ",
                                            actor=ADMIN)
    session.commit()
    who = auth.principal_for_token(session, token)
    assert (who.kind, who.id, who.gate_id, who.name) == ("device", device.id, gate.id, "Hall 1 scanner")
    assert token not in device.token_hash  # only the hash is kept
    assert actions(session) == ["exhibit_crm.device.created"]


def test_a_revoked_device_token_no_longer_resolves_and_revoking_again_changes_nothing(session):
    edition = factories.edition(session)
    gate = gates_of(session, edition)[0]
    token, device = devices.register_device(session, edition_id=edition.id, gate_id=gate.id, name="s1", actor=ADMIN)
    devices.revoke_device(session, edition_id=edition.id, device_id=device.id, actor=ADMIN)
    session.commit()
    first = session.get(GateDevice, device.id).revoked_at
    assert first is not None and auth.principal_for_token(session, token) is None

    devices.revoke_device(session, edition_id=edition.id, device_id=device.id, actor=ADMIN)
    session.commit()
    assert session.get(GateDevice, device.id).revoked_at == first
    assert actions(session) == ["exhibit_crm.device.created", "exhibit_crm.device.revoked"]


def test_a_gate_or_device_of_another_edition_is_refused(session):
    ours = factories.edition(session)
    theirs = factories.edition(session, name="Furniture Fair 2027", year=2027)
    their_gate = gates_of(session, theirs)[0]
    with pytest.raises(NotFound):
        devices.register_device(session, edition_id=ours.id, gate_id=their_gate.id, name="s1", actor=ADMIN)
    with pytest.raises(NotFound):
        devices.register_device(session, edition_id=ours.id, gate_id=999_999, name="s1", actor=ADMIN)
    _token, device = devices.register_device(session, edition_id=theirs.id, gate_id=their_gate.id, name="s1",
                                             actor=ADMIN)
    with pytest.raises(NotFound):
        devices.revoke_device(session, edition_id=ours.id, device_id=device.id, actor=ADMIN)
    assert device.revoked_at is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 121])
def test_a_blank_or_overlong_name_is_refused_on_the_name_field(session, name):
    edition = factories.edition(session)
    with pytest.raises(InvalidInput) as refused:
        devices.register_device(session, edition_id=edition.id, gate_id=gates_of(session, edition)[0].id, name=name,
                                actor=ADMIN)
    assert refused.value.field == "name"
    assert session.scalars(select(GateDevice)).first() is None


def test_the_edition_lists_its_devices_with_gate_and_zone(session):
    edition = factories.edition(session)
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    hall, lounge = gates_of(session, edition)
    devices.register_device(session, edition_id=other.id, gate_id=gates_of(session, other)[0].id, name="elsewhere",
                            actor=ADMIN)
    _t, kept = devices.register_device(session, edition_id=edition.id, gate_id=lounge.id, name="vip", actor=ADMIN)
    _t, gone = devices.register_device(session, edition_id=edition.id, gate_id=hall.id, name="hall", actor=ADMIN)
    devices.revoke_device(session, edition_id=edition.id, device_id=gone.id, actor=ADMIN)
    session.commit()

    rows = devices.devices_of_edition(session, edition_id=edition.id)
    assert [(r.zone.name, r.gate.name, r.device.name, r.device.revoked_at is not None) for r in rows] == [
        ("Hall 1", "Hall 1 Gate A", "hall", True), ("VIP Lounge", "VIP Lounge Gate A", "vip", False)]
    assert rows[1].device.created_at is not None and rows[1].device.last_seen_at is None

    data = devices.devices_page_data(session, edition_id=edition.id)
    by_gate = {item["gate"].name: [d.name for d in item["devices"]]
               for entry in data["zones"] for item in entry["gates"]}
    assert by_gate == {"Hall 1 Gate A": ["hall"], "VIP Lounge Gate A": ["vip"]}
    assert kept.revoked_at is None
