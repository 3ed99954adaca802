"""Gate devices of an edition: the scanners bound to its gates, registered and revoked by an admin."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from . import audit, auth, editions
from .errors import InvalidInput, NotFound
from .models import Gate, GateDevice, Zone, utcnow

NAME_MAX = 120  # the column's length; PostgreSQL would refuse a longer name with an error, not a field message


@dataclass(frozen=True)
class DeviceRow:
    """One device with the gate and zone it scans at."""

    zone: Zone
    gate: Gate
    device: GateDevice


def devices_of_edition(session: Session, *, edition_id: int) -> list[DeviceRow]:
    """Every device at the edition's gates, revoked ones included, by zone, gate and age."""
    rows = session.execute(
        select(Zone, Gate, GateDevice).join(Gate, Gate.zone_id == Zone.id)
        .join(GateDevice, GateDevice.gate_id == Gate.id).where(Zone.edition_id == edition_id)
        .order_by(Zone.name, Gate.name, GateDevice.created_at, GateDevice.id))
    return [DeviceRow(zone, gate, device) for zone, gate, device in rows.all()]


def devices_page_data(session: Session, *, edition_id: int) -> dict:
    """The edition, its series, and its zones with their gates, each gate with its devices."""
    overview = editions.edition_overview(session, edition_id=edition_id)
    by_gate: dict[int, list[GateDevice]] = {}
    for row in devices_of_edition(session, edition_id=edition_id):
        by_gate.setdefault(row.gate.id, []).append(row.device)
    zones = [{"zone": entry["zone"], "gates": [{"gate": gate, "devices": by_gate.get(gate.id, [])}
                                               for gate in entry["gates"]]} for entry in overview["zones"]]
    return {"edition": overview["edition"], "series": overview["series"], "zones": zones}


def _gate_of_edition(session: Session, *, edition_id: int, gate_id: int) -> Gate | None:
    return session.execute(select(Gate).join(Zone, Zone.id == Gate.zone_id)
                           .where(Gate.id == gate_id, Zone.edition_id == edition_id)).scalars().first()


def register_device(session: Session, *, edition_id: int, gate_id: int, name: str,
                    actor: audit.Actor) -> tuple[str, GateDevice]:
    """Register a device at one of the edition's gates; the plain bearer token is returned this once."""
    name = name.strip()
    if not name:
        raise InvalidInput("required", "name: required", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput("too_long", f"name: at most {NAME_MAX} characters", field="name")
    if _gate_of_edition(session, edition_id=edition_id, gate_id=gate_id) is None:
        raise NotFound("gate", gate_id)
    return auth.create_device(session, gate_id=gate_id, name=name, actor=actor)


def revoke_device(session: Session, *, edition_id: int, device_id: int, actor: audit.Actor) -> GateDevice:
    """Revoke a device of the edition so its token stops working; revoking it again changes nothing."""
    device = session.get(GateDevice, device_id)
    if device is None or _gate_of_edition(session, edition_id=edition_id, gate_id=device.gate_id) is None:
        raise NotFound("device", device_id)
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        session.add(device)
        session.flush()
        audit.log(session, "exhibit_crm.device.revoked", actor=actor, obj=device, data={"gate_id": device.gate_id})
    return device
