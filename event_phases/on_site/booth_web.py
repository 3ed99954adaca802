"""Exhibitor staff at their booth, on their phones: scanning visitors' badges into leads, the lead list with its
downloads, one lead to rate and qualify, the exhibitor's qualification questions, and the booth dashboard.

The exhibitor is always the signed-in user's own; lead, question and staff ids in URLs and forms are checked against
it by the services, so another exhibitor's ids are a 404. The scan page's script talks to session-authenticated JSON
endpoints under /portal/api (CSRF token in a header), which run the lead API's own handlers (lead_api).
"""

from __future__ import annotations

from datetime import date
from functools import partial
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from badge_scanner.leads import LeadFilter, update_lead
from badge_scanner.leads.figures import by_day_chart
from exhibit_crm import i18n
from exhibit_crm.errors import DomainError, InvalidInput
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.models import LeadQuestion, utcnow
from exhibit_crm.models.exhibitors import LEAD_RATINGS
from exhibit_crm.web.guard import (
    EXHIBITOR_USERS,
    api,
    exhibitor_page,
    form_action,
    read_form,
    read_json,
    read_service,
    run_service,
    signed_in,
)
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render
from exporters.leads import FORMATS

from . import booth, lead_api

_message = partial(refusal_message, page="booth")  # refusals as this page words them


def _local(timezone: str):
    zone = ZoneInfo(timezone)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


# Scanning.

def _texts() -> dict:
    return {
        "reasons": {"invalid_code": _("Not a valid badge of this show."), "revoked": _("This badge is cancelled."),
                    "outdated_badge": _("An old badge: a newer one has been printed."),
                    "other_edition": _("A badge of another show."), "unknown": _("Not accepted.")},
        "ratings": {rating: _(rating) for rating in LEAD_RATINGS},
        "online": _("Online"), "offline": _("Offline"), "waiting": _("%(n)s waiting to upload"),
        "saved": _("Saved."), "saved_offline": _("Saved on this phone; it uploads when the network is back."),
        "offline_scan": _("Badge read while offline: the visitor's details appear once it is uploaded."),
        "scanned_before": _("Scanned before: this is the existing lead."), "new_lead": _("New lead."),
        "camera_on": _("Stop camera"), "camera_off": _("Camera"), "camera_failed": _("The camera could not start."),
        "signed_out": _("Your session has ended: sign in again."), "badge": _("Badge %(code)s"),
    }


@exhibitor_page
async def scan_page(request: Request) -> Response:
    who = await signed_in(request)
    found = await read_service(request, booth.questions, exhibitor_id=who.exhibitor_id)
    return render(request, "booth/scan.html", {
        "questions": found, "texts": _texts(), "ratings": LEAD_RATINGS,
        "questions_json": [{"id": str(q.id), "label": q.label, "kind": q.kind, "options": q.options} for q in found]})


class LeadEdit(BaseModel):
    """A lead's rating, notes and answers as the scan page saves them."""

    rating: str | None = None
    notes: str = ""
    answers: dict[str, bool | str | None] = {}


async def api_save_lead(request: Request) -> Response:
    who = await signed_in(request)
    data = await read_json(request, LeadEdit)
    lead = await run_service(request, update_lead, exhibitor_id=who.exhibitor_id,
                             lead_id=request.path_params["lead_id"], rating=data.rating, notes=data.notes,
                             answers=data.answers, actor=who.actor, now=utcnow())
    return JSONResponse({"id": lead.id, "rating": lead.rating, "notes": lead.notes, "answers": lead.answers or {},
                         "updated_at": lead.updated_at.isoformat()})


# The lead list and its downloads.

def _day(params, name: str) -> date | None:
    raw = str(params.get(name, "") or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput("invalid", f"{name}: a date such as 2026-03-10", field=name) from None


def _filters(params) -> LeadFilter:
    rating = str(params.get("rating", "") or "") or None
    scanned_by = str(params.get("scanned_by", "") or "")
    if scanned_by and not (scanned_by.isascii() and scanned_by.isdigit() and len(scanned_by) < 19):
        raise InvalidInput("invalid", "scanned_by: a staff member", field="scanned_by")
    return LeadFilter(since=_day(params, "since"), until=_day(params, "until"), rating=rating,
                             scanned_by_id=int(scanned_by) if scanned_by else None,
                             new_only=str(params.get("new_only", "")) in ("1", "on", "true"))


def _filter_values(params) -> dict:
    return {name: str(params.get(name, "") or "") for name in ("since", "until", "rating", "scanned_by", "new_only")}


@exhibitor_page
async def leads(request: Request) -> Response:
    who = await signed_in(request)
    number = request.query_params.get("page", "1")
    values = _filter_values(request.query_params)
    try:
        filters = _filters(request.query_params)
        found = await read_service(request, booth.lead_page, exhibitor_id=who.exhibitor_id, filters=filters,
                                   actor=who.actor, page=int(number) if number.isdigit() and len(number) < 7 else 1)
        error, status = None, 200
    except InvalidInput as exc:
        found = await read_service(request, booth.lead_page, exhibitor_id=who.exhibitor_id,
                                   filters=LeadFilter(), actor=who.actor)
        error, status = _message(exc), exc.status
    query = "&".join(f"{name}={quote(value)}" for name, value in values.items() if value)
    return render(request, "booth/leads.html", {
        "found": found, "values": values, "error": error, "query": query, "formats": FORMATS,
        "ratings": LEAD_RATINGS, "local": _local(found.timezone)}, status_code=status)


@exhibitor_page
async def download(request: Request) -> Response:
    form = await read_form(request)
    who = await signed_in(request)
    fmt = str(form.get("format", ""))
    file = await run_service(request, booth.download, exhibitor_id=who.exhibitor_id, fmt=fmt,
                             filters=_filters(form), actor=who.actor, language=i18n.current_language.get())
    return Response(file.data, media_type=file.content_type, headers={
        **NO_STORE, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.filename, safe='')}",
        "X-Rows": str(file.rows)})


# One lead.

def _answers(form: FormData, questions: list[LeadQuestion]) -> dict:
    answers = {}
    for question in questions:
        name = f"q{question.id}"
        if question.kind == "checkbox":
            answers[str(question.id)] = name in form
        else:
            answers[str(question.id)] = str(form.get(name, "")).strip() or None
    return answers


async def _lead_page(request: Request, *, error: str | None = None, field: str | None = None,
                     status: int = 200, values: dict | None = None) -> Response:
    who = await signed_in(request)
    view = await read_service(request, booth.lead_view, exhibitor_id=who.exhibitor_id,
                              lead_id=request.path_params["lead_id"])
    done = None if error else request.query_params.get("done")
    notices = {"saved": _("Saved."), "requested": _("Your request is on its way to the visitor.")}
    return render(request, "booth/lead.html", {
        "view": view, "lead": view.lead, "visitor": view.visitor, "error": error, "field": field,
        "values": values or {}, "ratings": LEAD_RATINGS, "local": _local(view.timezone),
        "notices": [notices[done]] if done in notices else []}, status_code=status)


@exhibitor_page
async def lead(request: Request) -> Response:
    if request.method == "GET":
        return await _lead_page(request)
    form = await read_form(request)
    who = await signed_in(request)
    lead_id = request.path_params["lead_id"]
    found = await read_service(request, booth.questions, exhibitor_id=who.exhibitor_id)
    try:
        await run_service(request, update_lead, exhibitor_id=who.exhibitor_id, lead_id=lead_id,
                          rating=str(form.get("rating", "")) or None, notes=str(form.get("notes", "")),
                          answers=_answers(form, found), actor=who.actor, now=utcnow())
    except REFUSALS as exc:
        return await _lead_page(request, error=_message(exc), field=exc.field, status=exc.status,
                                values={"notes": str(form.get("notes", ""))})
    return RedirectResponse(request.url_for("booth_lead", lead_id=lead_id).path + "?done=saved", status_code=303)


@exhibitor_page
async def request_contact(request: Request) -> Response:
    form = await read_form(request)
    who = await signed_in(request)
    lead_id = request.path_params["lead_id"]
    try:
        await run_service(request, booth.request_contact, exhibitor_id=who.exhibitor_id, lead_id=lead_id,
                          message=str(form.get("message", "")), reply_to=who.name, actor=who.actor)
    except REFUSALS as exc:
        return await _lead_page(request, error=_message(exc), field="message", status=exc.status)
    return RedirectResponse(request.url_for("booth_lead", lead_id=lead_id).path + "?done=requested",
                            status_code=303)


# Qualification questions.

def _question_in(form: FormData) -> booth.QuestionIn:
    return booth.QuestionIn(label=str(form.get("label", "")), kind=str(form.get("kind", "checkbox")),
                            options=str(form.get("options", "")).splitlines())


async def _questions_page(request: Request, *, failed: dict | None = None, status: int = 200) -> Response:
    who = await signed_in(request)
    found = await read_service(request, booth.questions, exhibitor_id=who.exhibitor_id)
    done = None if failed else request.query_params.get("done")
    notices = {"saved": _("Saved."), "deleted": _("Question removed.")}
    return render(request, "booth/questions.html", {
        "questions": found, "failed": failed, "kinds": (("checkbox", _("Yes / no")), ("select", _("Choice list")),
                                                        ("text", _("Text"))),
        "notices": [notices[done]] if done in notices else []}, status_code=status)


@exhibitor_page
async def questions(request: Request) -> Response:
    if request.method == "GET":
        return await _questions_page(request)
    return await _save_question(request, None)


@exhibitor_page
async def question(request: Request) -> Response:
    return await _save_question(request, request.path_params["question_id"])


async def _save_question(request: Request, question_id: int | None) -> Response:
    async def again(form: FormData, exc: DomainError) -> Response:
        data = _question_in(form)
        failed = {"id": question_id, "message": _message(exc), "field": exc.field, "label": data.label,
                  "kind": data.kind, "options": "\n".join(data.options)}
        return await _questions_page(request, failed=failed, status=exc.status)

    return await form_action(request, booth.save_question, exhibitor=True, question_id=question_id, again=again,
                             fields=lambda form: {"data": _question_in(form)},
                             then=request.url_for("booth_questions").path + "?done=saved")


@exhibitor_page
async def delete_question(request: Request) -> Response:
    return await form_action(request, booth.delete_question, exhibitor=True,
                             question_id=request.path_params["question_id"],
                             then=request.url_for("booth_questions").path + "?done=deleted")


@exhibitor_page
async def move_question(request: Request) -> Response:
    return await form_action(request, booth.move_question, exhibitor=True,
                             question_id=request.path_params["question_id"],
                             fields=lambda form: {"up": form.get("direction") == "up"},
                             then=request.url_for("booth_questions").path)


# The dashboard.

# the ratings as the booth pages name them
RATING_LABELS = {"hot": N_("hot"), "warm": N_("warm"), "cold": N_("cold"), "unrated": N_("Not rated")}


@exhibitor_page
async def dashboard(request: Request) -> Response:
    who = await signed_in(request)
    found = await read_service(request, booth.dashboard, exhibitor_id=who.exhibitor_id)
    labels = {key: _(label) for key, label in RATING_LABELS.items()}
    chart = by_day_chart(found.figures, labels) if found.figures.by_day else None
    return render(request, "booth/dashboard.html", {"dashboard": found, "figures": found.figures, "by_day_chart": chart,
                                                    "labels": labels, "ratings": LEAD_RATINGS})


_LEAD = "/portal/leads/{lead_id:id}"
_QUESTION = "/portal/questions/{question_id:id}"
_API = api(kinds=EXHIBITOR_USERS)
nav = [NavItem(N_("Booth scanning"), "booth_scan", kinds=EXHIBITOR_USERS, tile=N_("Scan visitors' badges into leads")),
       NavItem(N_("Leads"), "booth_leads", kinds=EXHIBITOR_USERS, tile=N_("Your leads: rate, qualify, download"))]

routes = [
    Route("/portal/scan", scan_page, name="booth_scan"),
    Route("/portal/api/leads", _API(lead_api.post_lead), methods=["POST"], name="booth_api_scan"),
    Route("/portal/api/leads/batch", _API(lead_api.post_lead_batch), methods=["POST"], name="booth_api_batch"),
    Route("/portal/api/leads/{lead_id:id}", _API(api_save_lead), methods=["POST"], name="booth_api_lead"),
    Route("/portal/leads", leads, name="booth_leads"),
    Route("/portal/leads/download", download, methods=["POST"], name="booth_download"),
    Route(_LEAD, lead, methods=["GET", "POST"], name="booth_lead"),
    Route(f"{_LEAD}/request-contact", request_contact, methods=["POST"], name="booth_request_contact"),
    Route("/portal/questions", questions, methods=["GET", "POST"], name="booth_questions"),
    Route(_QUESTION, question, methods=["POST"], name="booth_question"),
    Route(f"{_QUESTION}/delete", delete_question, methods=["POST"], name="booth_delete_question"),
    Route(f"{_QUESTION}/move", move_question, methods=["POST"], name="booth_move_question"),
    Route("/portal/dashboard", dashboard, name="booth_dashboard"),
]
