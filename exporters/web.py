"""Files that leave the system, served over HTTP: the exhibitor's lead list (GET /api/v1/leads)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from badge_scanner.lead_api import EXHIBITOR_USER, VisitorOut
from exhibit_crm.errors import InvalidInput
from exhibit_crm.web import openapi
from exhibit_crm.web.guard import principal, read_service, run_service
from exhibit_crm.web.openapi import Operation

from .leads import FORMATS, LeadFilter, download_leads, lead_records


class LeadListItem(BaseModel):
    id: int
    created_at: datetime
    updated_at: datetime
    rating: str | None
    notes: str
    answers: dict
    scanned_by: str
    visitor: VisitorOut


def _filters(request: Request) -> LeadFilter:
    params = request.query_params

    def when(name: str) -> datetime | None:
        raw = params.get(name)
        if not raw:
            return None
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise InvalidInput("invalid", f"{name}: an ISO 8601 date and time with offset", field=name) from None
        if value.tzinfo is None:
            raise InvalidInput("invalid", f"{name}: give the offset, e.g. +08:00", field=name)
        return value

    scanned_by = params.get("scanned_by")
    if scanned_by is not None and (not scanned_by.isdigit() or len(scanned_by) > 18):
        raise InvalidInput("invalid", "scanned_by: an exhibitor user id", field="scanned_by")
    return LeadFilter(since=when("since"), until=when("until"), rating=params.get("rating") or None,
                      scanned_by_id=int(scanned_by) if scanned_by else None,
                      new_only=params.get("new_only", "").lower() in ("1", "true", "yes"))


async def get_leads(request: Request) -> Response:
    who = await principal(request)
    fmt = request.query_params.get("format", "json")
    filters = _filters(request)
    if fmt == "json":
        records = await read_service(request, lead_records, exhibitor_id=who.exhibitor_id, filters=filters,
                                     actor=who.actor)
        return JSONResponse([{"id": r.lead_id, "created_at": r.created_at.isoformat(),
                              "updated_at": r.updated_at.isoformat(), "rating": r.rating, "notes": r.notes,
                              "answers": r.answers, "scanned_by": r.scanned_by, "visitor": r.visitor.__dict__}
                             for r in records])
    if fmt not in FORMATS:
        raise InvalidInput("invalid", "format: one of json, " + ", ".join(FORMATS), field="format")
    download = await run_service(request, download_leads, exhibitor_id=who.exhibitor_id, fmt=fmt, actor=who.actor,
                                 filters=filters, language=who.language or "en")
    return Response(download.data, media_type=download.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(download.filename)}",
        "X-Rows": str(download.rows), "Cache-Control": "no-store"})


def _quote(name: str) -> str:
    return quote(name, safe="")


routes = [
    openapi.route("/api/v1/leads", get_leads, Operation(
        "GET", "The exhibitor's leads: JSON, or ?format=csv|xlsx|crm-csv as a file (filters: since, until, rating, "
        "scanned_by, new_only). Every file download is written to the audit log.", response=LeadListItem,
        many=True, kinds=EXHIBITOR_USER, tag="leads"), name="api_lead_list"),
]
