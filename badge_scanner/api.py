"""The scanner API for gate devices: single scans, offline batches and the snapshot a device judges offline with.

Every call needs a gate device's bearer token; the device's gate fixes the zone. See docs/gates.md.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from exhibit_crm.errors import Forbidden, InvalidInput, validate_input
from exhibit_crm.group_commit import POSTGRES_GATHER_S, POSTGRES_WRITERS, GroupWriter
from exhibit_crm.models import utcnow
from exhibit_crm.models.types import Instant
from exhibit_crm.web import openapi
from exhibit_crm.web.fast_json import FastJSONResponse
from exhibit_crm.web.guard import principal, read_service
from exhibit_crm.web.openapi import Operation

from . import gates
from .codes import (
    Verifier,
    load_signer,
    shutdown_checking_processes,
    start_checks,
    warm_checking_processes,
)
from .rules import REASONS
from .uploads import (
    MAX_BATCH,
    MAX_CLOCK_AHEAD,
    batch_route,
    code_of,
    item_error,
    not_ahead,
    read_batch,
    read_body,
    record_batch,
)

DEVICE = ("device",)
# A device's gate, zone and rules are read again after this long, so a revoked device token or a changed rule
# takes effect within it on every process (docs/gates.md).
CONTEXT_TTL_S = 5.0


# a yes/no as devices send it: JSON's true and false, and also 0 and 1 or their words, as the server reads them
Flag = Annotated[bool, WithJsonSchema({"anyOf": [
    {"type": "boolean"}, {"enum": [0, 1]},
    {"enum": ["true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n"]}]})]


class ScanIn(BaseModel):
    """One reading of a badge at the device's gate; unknown fields are ignored so devices may send more."""

    model_config = ConfigDict(extra="ignore")
    code: str = Field(max_length=1000, description="The badge code as read from the QR (or typed by a wedge scanner).")
    direction: Literal["in", "out"]
    scan_id: str = Field(min_length=1, max_length=80, description="Chosen by the device, unique per device: sending "
                         "the same scan_id again returns the first answer and records nothing.")
    scanned_at: Instant | None = Field(default=None, description="When the badge was read, ISO 8601 with an offset "
                                       "(or Unix seconds), at most 5 minutes ahead of the server's clock; the "
                                       "server's time when absent. The rules are judged at it.")
    offline: Flag = Field(default=False, description="True when the device judged the scan itself while offline.")
    device_verdict: Literal["accepted", "rejected"] | None = Field(default=None,
                                                                   description="What the offline device decided.")
    device_reason: str | None = Field(default=None, max_length=30, description="The offline device's reason.")


class ScanBatchIn(BaseModel):
    """Scans a device kept while offline, in the order they were read."""

    scans: list[ScanIn] = Field(max_length=MAX_BATCH)


class Person(BaseModel):
    name: str
    company: str
    badge_type: str = Field(description="The badge type's code.")


class ScanOut(BaseModel):
    """The server's answer to one scan; its verdict is the one that counts."""

    scan_id: str
    verdict: Literal["accepted", "rejected"]
    reason: Literal[REASONS] | None = Field(description="Why a scan was rejected; null when accepted.")  # type: ignore[valid-type]
    person: Person | None = Field(description="Whose badge it is, when the code names a registration of ours.")


class ItemError(BaseModel):
    code: str
    message: str
    field: str


class ScanErrorOut(BaseModel):
    """A batch item that was not a valid scan: nothing was recorded for it."""

    scan_id: str | None
    error: ItemError


class ScanBatchOut(BaseModel):
    """One entry per submitted scan, in the same order."""

    results: list[ScanOut | ScanErrorOut]


class Snapshot(BaseModel):
    """What a device needs to judge badges by itself while the network is down."""

    edition: dict
    gate: dict
    zone: dict
    public_key: str = Field(description="The badge signing key: base64 of the 32 raw Ed25519 bytes.")
    public_key_pem: str
    days: list[dict] = Field(description="Show days with opening hours in the edition's time zone.")
    access: list[dict] = Field(description="Badge types that may enter this zone: every day (day null) or one day.")
    revocations: list[dict] = Field(description="Badge changes after the cursor, latest per registration: versions "
                                    "below valid_version are superseded; status cancelled refuses every version.")
    cursor: int = Field(description="Pass it back as ?cursor= to fetch only what changed since.")
    server_time: str = Field(json_schema_extra={"format": "date-time"}, description="The server's clock, with its "
                             "offset.")


def _verifier(request: Request) -> Verifier:
    return load_signer(request.app.state.settings.data_dir).verifier


async def _gate(request: Request) -> gates.GateContext:
    """The calling device's gate context, kept per process for CONTEXT_TTL_S."""
    device = await principal(request)
    cache = request.app.state.__dict__.setdefault("_gate_contexts", {})
    found = cache.get(device.id)
    if found is None or found[0] < time.monotonic():
        found = (time.monotonic() + CONTEXT_TTL_S, await read_service(request, gates.gate_context,
                                                                     device_id=device.id))
        cache[device.id] = found
    gate = found[1]
    asked = request.query_params.get("edition_id")
    if asked is not None and asked != str(gate.edition_id):
        raise Forbidden("this device scans at a gate of another edition")
    return gate


def _last_seen(request: Request) -> dict:
    """When this process last wrote each device's last_seen_at (see gates.record_scans)."""
    return request.app.state.__dict__.setdefault("_device_last_seen", {})


def _writer(request: Request) -> GroupWriter:
    state = request.app.state
    writer = getattr(state, "_scan_writer", None)
    if writer is None:
        verifier = _verifier(request)
        last_seen = _last_seen(request)

        def record(session, *, items):
            return gates.record_scans(session, scans=items, verifier=verifier, now=utcnow(), last_seen=last_seen)

        writer = state._scan_writer = GroupWriter(
            state.engine, record, connection=True, postgres_threads=POSTGRES_WRITERS,
            postgres_gather_s=POSTGRES_GATHER_S,
            prepare=lambda items: verifier.check_many([scan.code for scan in items]))
        warm_checking_processes()  # a device that scans online may upload offline batches later
    return writer


def _scan_request(gate: gates.GateContext, scan: ScanIn, latest: datetime,
                  field: str = "scanned_at") -> gates.ScanRequest:
    """The scan to judge; `latest` is the server's clock plus MAX_CLOCK_AHEAD."""
    not_ahead(scan.scanned_at, latest, field)
    return gates.ScanRequest(gate=gate, code=scan.code, direction=scan.direction, scan_id=scan.scan_id,
                             scanned_at=scan.scanned_at, offline=scan.offline, device_verdict=scan.device_verdict,
                             device_reason=scan.device_reason)


async def scan(request: Request) -> Response:
    gate = await _gate(request)
    body = validate_input(ScanIn, await read_body(request))
    result = await _writer(request).submit(_scan_request(gate, body, utcnow() + MAX_CLOCK_AHEAD))
    return FastJSONResponse(result)


def _item(gate: gates.GateContext, index: int, data: object, latest: datetime) -> gates.ScanRequest | dict:
    """A batch item as a scan to judge, or the error entry that takes its place."""
    try:
        scan = ScanIn.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([f"scans[{index}]", *(str(part) for part in first["loc"])])
        return item_error(data, field, f"{field}: {first['msg']}")
    return _valid_item(gate, index, scan, latest)


def _valid_item(gate: gates.GateContext, index: int, scan: ScanIn, latest: datetime) -> gates.ScanRequest | dict:
    try:
        return _scan_request(gate, scan, latest, f"scans[{index}].scanned_at")
    except InvalidInput as exc:
        return item_error(scan, exc.field, exc.message)


async def scan_batch(request: Request) -> Response:
    gate = await _gate(request)
    now = utcnow()
    verifier = _verifier(request)
    scans, valid = await read_batch(request, ScanBatchIn, "scans", "a list of scans")
    checks = start_checks(verifier, [scan.code if valid else code_of(scan) for scan in scans])
    latest = now + MAX_CLOCK_AHEAD
    items = [(_valid_item if valid else _item)(gate, i, scan, latest) for i, scan in enumerate(scans)]
    entries = [item if isinstance(item, gates.ScanRequest) else None for item in items]
    judged = iter(await record_batch(request, checks, gates.record_scans, entries, "scans", verifier=verifier,
                                     now=now, last_seen=_last_seen(request)) if any(entries) else [])
    return FastJSONResponse({"results": [next(judged) if isinstance(item, gates.ScanRequest) else item
                                         for item in items]})


async def scanner_snapshot(request: Request) -> Response:
    gate = await _gate(request)
    raw = request.query_params.get("cursor", "0")
    if not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("invalid", "cursor: a whole number from a previous snapshot", field="cursor")
    found = await read_service(request, gates.snapshot, gate=gate, verifier=_verifier(request), cursor=int(raw),
                               now=utcnow())
    return JSONResponse(found, headers={"Cache-Control": "no-store"})


SNAPSHOT_QUERY = {
    "cursor": {"type": "integer", "minimum": 0, "maximum": 10**18 - 1, "description": "The cursor of a previous "
               "snapshot: only the badge changes after it. 0 (the default) for all."},
    "edition_id": {"type": "integer", "description": "When given, must be the device's edition (403 otherwise)."},
}

# the app's lifespan calls these when the server shuts down: no badge-checking process outlives it
on_shutdown = (shutdown_checking_processes,)

routes = [
    openapi.route("/api/v1/scans", scan, Operation(
        "POST", "Judge and record one badge scan at the device's gate; answered once it is stored.",
        request=ScanIn, response=ScanOut, kinds=DEVICE, tag="scanner", hot=True), name="api_scan"),
    batch_route("/api/v1/scans/batch", scan_batch, what="scans", request=ScanBatchIn, response=ScanBatchOut,
                kinds=DEVICE, tag="scanner", name="api_scan_batch"),
    openapi.route("/api/v1/scanner/snapshot", scanner_snapshot, Operation(
        "GET", "What the device needs to judge badges offline: the public key, days and hours, its zone's rules and "
        "the revoked or superseded badge versions after ?cursor=.", response=Snapshot, kinds=DEVICE,
        tag="scanner", query=SNAPSHOT_QUERY), name="api_scanner_snapshot"),
]
