"""The lead API for exhibitor users' phones and apps: booth scans one by one or as offline batches (POST), and the
lead list as JSON or as a file (GET), all on /api/v1/leads.

Same conventions as the scanner API: a client-chosen scan_id makes a scan idempotent, every answer has a verdict and a
reason, 401 without a valid token, 403 for a token that is not an exhibitor user's, 422 naming the field at fault.
An exhibitor user reaches only its own exhibitor: the exhibitor comes from the token, never from the request.
The scans are recorded by badge_scanner.leads; the files are made by exporters.leads through booth.download_leads,
which keeps each download for its user and writes it to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_type_hints
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from badge_scanner.codes import load_signer, start_checks, warm_checking_processes
from badge_scanner.leads import REASONS, BoothScan, LeadFilter, LeadRow, lead_rows, record_lead_scans, scan_leads
from badge_scanner.uploads import (
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
from exhibit_crm.errors import InvalidInput, validate_input
from exhibit_crm.group_commit import POSTGRES_GATHER_S, POSTGRES_WRITERS, GroupWriter
from exhibit_crm.models import utcnow
from exhibit_crm.models.types import SENT_TIME, Instant, within_years
from exhibit_crm.web import openapi
from exhibit_crm.web.fast_json import FastJSONResponse
from exhibit_crm.web.guard import principal, read_service, run_service
from exhibit_crm.web.openapi import Operation
from exporters.leads import FORMATS
from exporters.tables import CONTENT_TYPES

from .booth import download_leads

EXHIBITOR_USER = ("exhibitor_user",)


class LeadIn(BaseModel):
    """One booth scan: the badge code, the phone's scan_id, and what the staff member recorded (all optional)."""

    model_config = ConfigDict(extra="ignore")
    code: str = Field(max_length=1000, description="The badge code as read from the QR or typed.")
    scan_id: str = Field(min_length=1, max_length=80, description="Chosen by the phone, unique per exhibitor: "
                         "sending it again returns the lead and records nothing.")
    rating: Literal["hot", "warm", "cold"] | None = None
    notes: str | None = Field(default=None, max_length=4000)
    answers: dict[str, bool | str | None] = Field(default_factory=dict, description="Qualification answers keyed "
                                                  "by the exhibitor's question id: true/false or the chosen option.")
    scanned_at: Instant | None = Field(default=None, description="When the phone read the badge, at most 5 minutes "
                                       "ahead of the server's clock; the server's time when absent.")


class LeadBatchIn(BaseModel):
    """Booth scans a phone kept while offline, in the order they were made."""

    leads: list[LeadIn] = Field(max_length=MAX_BATCH)


# a time the server answers with: ISO 8601, always with its offset
SERVER_TIME = {"format": "date-time"}


class LeadOut(BaseModel):
    id: int
    rating: Literal["hot", "warm", "cold"] | None
    notes: str
    answers: dict
    created_at: str = Field(json_schema_extra=SERVER_TIME)
    updated_at: str = Field(json_schema_extra=SERVER_TIME)


class VisitorOut(BaseModel):
    """The visitor as the exhibitor may see them: without consent to share only name, company and badge type."""

    name: str
    company: str
    badge_type: str
    shared: bool
    first_name: str
    last_name: str
    title: str
    email: str
    phone: str
    country: str
    province: str
    city: str


class LeadScanOut(BaseModel):
    scan_id: str
    verdict: Literal["accepted", "rejected"]
    reason: Literal[REASONS] | None  # type: ignore[valid-type]
    lead: LeadOut | None
    visitor: VisitorOut | None


class ItemError(BaseModel):
    code: str
    message: str
    field: str


class LeadErrorOut(BaseModel):
    """A batch item that was not a valid scan: nothing was recorded for it."""

    scan_id: str | None
    error: ItemError


class LeadBatchOut(BaseModel):
    results: list[LeadScanOut | LeadErrorOut]


def _scan_of(data: LeadIn, latest: datetime, field: str = "scanned_at") -> BoothScan:
    """The booth scan to record; `latest` is the server's clock plus MAX_CLOCK_AHEAD."""
    not_ahead(data.scanned_at, latest, field)
    return BoothScan(code=data.code, scan_id=data.scan_id, rating=data.rating, notes=data.notes,
                           answers=data.answers, scanned_at=data.scanned_at)


def _writer(request: Request) -> GroupWriter:
    """The process's group-commit writer for booth scans: one transaction records the scans that arrive together."""
    state = request.app.state
    writer = getattr(state, "_lead_writer", None)
    if writer is None:
        verifier = load_signer(state.settings.data_dir).verifier

        def record(connection, *, items):
            return record_lead_scans(connection, items=items, verifier=verifier, now=utcnow())

        writer = state._lead_writer = GroupWriter(
            state.engine, record, connection=True, name="lead scan", postgres_threads=POSTGRES_WRITERS,
            postgres_gather_s=POSTGRES_GATHER_S,
            prepare=lambda items: verifier.check_many([scan.code for _exhibitor, _user, scan in items]))
        warm_checking_processes()  # a phone that scans online may upload offline batches later
    return writer


async def post_lead(request: Request) -> Response:
    who = await principal(request)
    data = validate_input(LeadIn, await read_body(request))
    result = await _writer(request).submit((who.exhibitor_id, who.id, _scan_of(data, utcnow() + MAX_CLOCK_AHEAD)))
    if isinstance(result, InvalidInput):
        raise result
    return FastJSONResponse(result)


def _batch_item(index: int, data: object, latest: datetime) -> BoothScan | dict:
    """A batch item as a booth scan to record, or the error entry that takes its place."""
    try:
        return _valid_item(index, LeadIn.model_validate(data), latest)
    except ValidationError as exc:
        first = exc.errors()[0]
        return _item_error(data, ".".join([f"leads[{index}]", *(str(part) for part in first["loc"])]),
                           first["msg"])


def _valid_item(index: int, data: LeadIn, latest: datetime) -> BoothScan | dict:
    try:
        return _scan_of(data, latest, f"leads[{index}].scanned_at")
    except InvalidInput as exc:
        return item_error(data, exc.field, exc.message)


def _item_error(data: object, field: str, message: str) -> dict:
    return item_error(data, field, f"{field}: {message}")


async def post_lead_batch(request: Request) -> Response:
    who = await principal(request)
    items, valid = await read_batch(request, LeadBatchIn, "leads", "a list of booth scans")
    verifier = load_signer(request.app.state.settings.data_dir).verifier
    checks = start_checks(verifier, [item.code if valid else code_of(item) for item in items])
    latest = utcnow() + MAX_CLOCK_AHEAD
    parsed = [(_valid_item if valid else _batch_item)(i, item, latest) for i, item in enumerate(items)]
    entries = [(who.exhibitor_id, who.id, item) if isinstance(item, BoothScan) else None for item in parsed]
    judged = iter(await record_batch(request, checks, scan_leads, entries, "items", verifier=verifier, now=utcnow()))
    results = []
    for index, item in enumerate(parsed):
        if isinstance(item, BoothScan):
            outcome = next(judged)
            if isinstance(outcome, InvalidInput):
                field = f"leads[{index}].{outcome.field}" if outcome.field else f"leads[{index}]"
                outcome = _item_error(items[index], field, outcome.message.split(": ", 1)[-1])
            item = outcome
        results.append(item)
    return FastJSONResponse({"results": results})


# a LeadRow as the list returns it, the visitor as VisitorOut: the schema follows the row
LeadListItem = create_model("LeadListItem", **{
    name: (VisitorOut if name == "visitor" else hint, ...) for name, hint in get_type_hints(LeadRow).items()})


def _when(params, name: str) -> datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("invalid", f"{name}: {SENT_TIME}", field=name) from None
    if value.tzinfo is None:
        raise InvalidInput("invalid", f"{name}: give the offset, e.g. +08:00", field=name)
    if not within_years(value):
        raise InvalidInput("invalid", f"{name}: {SENT_TIME}", field=name)
    return value


def _filters(request: Request) -> LeadFilter:
    params = request.query_params
    scanned_by = params.get("scanned_by")
    if scanned_by is not None and (not scanned_by.isdigit() or len(scanned_by) > 18):
        raise InvalidInput("invalid", "scanned_by: an exhibitor user id", field="scanned_by")
    return LeadFilter(since=_when(params, "since"), until=_when(params, "until"), rating=params.get("rating") or None,
                      scanned_by_id=int(scanned_by) if scanned_by else None,
                      new_only=params.get("new_only", "").lower() in ("1", "true", "yes"))


async def get_leads(request: Request) -> Response:
    who = await principal(request)
    fmt = request.query_params.get("format", "json")
    filters = _filters(request)
    if fmt == "json":
        rows = await read_service(request, lead_rows, exhibitor_id=who.exhibitor_id, filters=filters, user_id=who.id)
        return JSONResponse([{"id": r.id, "created_at": r.created_at.isoformat(),
                              "updated_at": r.updated_at.isoformat(), "rating": r.rating, "notes": r.notes,
                              "answers": r.answers, "scanned_by": r.scanned_by, "visitor": r.visitor.__dict__}
                             for r in rows])
    if fmt not in FORMATS:
        raise InvalidInput("invalid", "format: one of json, " + ", ".join(FORMATS), field="format")
    download = await run_service(request, download_leads, exhibitor_id=who.exhibitor_id, fmt=fmt, actor=who.actor,
                                 filters=filters, language=who.language or "en")
    return Response(download.data, media_type=download.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(download.filename, safe='')}",
        "X-Rows": str(download.rows), "Cache-Control": "no-store"})


LIST_QUERY = {
    "format": {"enum": ["json", *FORMATS], "description": "json (the default) or a file to download."},
    "since": {"type": "string", "format": "date-time", "description": f"Leads opened at or after it: {SENT_TIME}."},
    "until": {"type": "string", "format": "date-time", "description": f"Leads opened before it: {SENT_TIME}."},
    "rating": {"enum": ["hot", "warm", "cold"], "description": "Only leads with this rating."},
    "scanned_by": {"type": "integer", "minimum": 0, "description": "Only leads opened by this exhibitor user."},
    "new_only": {"enum": ["1", "true", "yes", "0", "false", "no"], "description": "Only leads opened since this "
                 "user's last download."},
}

routes = [
    openapi.route("/api/v1/leads", post_lead, Operation(
        "POST", "Record a booth scan: open the visitor's lead (or update it when scanned before) with rating, notes "
        "and answers. A repeated scan_id returns the lead and records nothing.", request=LeadIn,
        response=LeadScanOut, kinds=EXHIBITOR_USER, tag="leads", hot=True), name="api_lead_scan"),
    batch_route("/api/v1/leads/batch", post_lead_batch, what="booth scans", request=LeadBatchIn,
                response=LeadBatchOut, kinds=EXHIBITOR_USER, tag="leads", name="api_lead_batch"),
    openapi.route("/api/v1/leads", get_leads, Operation(
        "GET", "The exhibitor's leads: JSON, or ?format=csv|xlsx|crm-csv as a file (filters: since, until, rating, "
        "scanned_by, new_only). Every file download is written to the audit log.", response=LeadListItem,
        many=True, kinds=EXHIBITOR_USER, tag="leads", query=LIST_QUERY,
        files=tuple(dict.fromkeys(kind.split(";")[0] for kind in CONTENT_TYPES.values()))),
        name="api_lead_list"),
]
