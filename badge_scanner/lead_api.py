"""The lead API for exhibitor users' phones and apps: booth scans one by one or as offline batches, and the lead list.

Same conventions as the scanner API: a client-chosen scan_id makes a scan idempotent, every answer has a verdict and a
reason, 401 without a valid token, 403 for a token that is not an exhibitor user's, 422 naming the field at fault.
An exhibitor user reaches only its own exhibitor: the exhibitor comes from the token, never from the request.
The lead list (GET /api/v1/leads) is a file that leaves the system, so it is served by exporters.web.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from exhibit_crm.errors import InvalidInput, validate_input
from exhibit_crm.models import utcnow
from exhibit_crm.web import openapi
from exhibit_crm.web.guard import principal, run_service
from exhibit_crm.web.openapi import Operation

from .codes import load_signer
from .leads import REASONS, LeadScanRequest, scan_lead

EXHIBITOR_USER = ("exhibitor_user",)
MAX_BATCH = 10_000


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
    scanned_at: AwareDatetime | None = Field(default=None, description="When the phone read the badge.")


class LeadBatchIn(BaseModel):
    """Booth scans a phone kept while offline, in the order they were made."""

    leads: list[LeadIn] = Field(max_length=MAX_BATCH)


class LeadOut(BaseModel):
    id: int
    rating: str | None
    notes: str
    answers: dict
    created_at: str
    updated_at: str


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


def _request(data: LeadIn) -> LeadScanRequest:
    return LeadScanRequest(code=data.code, scan_id=data.scan_id, rating=data.rating, notes=data.notes,
                           answers=data.answers, scanned_at=data.scanned_at)


def _scan_service(request: Request):
    verifier = load_signer(request.app.state.settings.data_dir).verifier

    def scan(session, *, who, item: LeadScanRequest, now: datetime) -> dict:
        return scan_lead(session, exhibitor_id=who.exhibitor_id, user_id=who.id, request=item, verifier=verifier,
                         now=now)
    return scan


async def _body(request: Request) -> object:
    try:
        return await request.json()
    except ValueError:
        raise InvalidInput("malformed_json", "the body is not valid JSON") from None


async def post_lead(request: Request) -> Response:
    who = await principal(request)
    data = validate_input(LeadIn, await _body(request))
    return JSONResponse(await run_service(request, _scan_service(request), who=who, item=_request(data),
                                          now=utcnow()))


def _batch_item(session, scan, who, index: int, data: object, now: datetime) -> dict:
    """One batch item judged in its own savepoint, or the error entry that takes its place."""
    scan_id = data.get("scan_id") if isinstance(data, dict) else None
    try:
        item = _request(LeadIn.model_validate(data))
        with session.begin_nested():
            return scan(session, who=who, item=item, now=now)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join([f"leads[{index}]", *(str(part) for part in first["loc"])])
        message = f"{field}: {first['msg']}"
    except InvalidInput as exc:
        field = f"leads[{index}].{exc.field}" if exc.field else f"leads[{index}]"
        message = f"leads[{index}].{exc.message}"
    return {"scan_id": scan_id if isinstance(scan_id, str) else None,
            "error": {"code": "invalid", "message": message, "field": field}}


async def post_lead_batch(request: Request) -> Response:
    who = await principal(request)
    body = await _body(request)
    items = body.get("leads") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise InvalidInput("invalid", "leads: a list of booth scans", field="leads")
    if len(items) > MAX_BATCH:
        raise InvalidInput("invalid", f"leads: at most {MAX_BATCH} in one batch", field="leads")
    scan, now = _scan_service(request), utcnow()

    def upload(session) -> list[dict]:
        return [_batch_item(session, scan, who, index, data, now) for index, data in enumerate(items)]
    return JSONResponse({"results": await run_service(request, upload)})


routes = [
    openapi.route("/api/v1/leads", post_lead, Operation(
        "POST", "Record a booth scan: open the visitor's lead (or update it when scanned before) with rating, notes "
        "and answers. A repeated scan_id returns the lead and records nothing.", request=LeadIn,
        response=LeadScanOut, kinds=EXHIBITOR_USER, tag="leads"), name="api_lead_scan"),
    openapi.route("/api/v1/leads/batch", post_lead_batch, Operation(
        "POST", "Upload booth scans kept while offline (at most 10,000); one result per scan in the same order. "
        "Sending a batch again returns the same results and records nothing twice.", request=LeadBatchIn,
        response=LeadBatchOut, kinds=EXHIBITOR_USER, tag="leads"), name="api_lead_batch"),
]
