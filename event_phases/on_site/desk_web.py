"""The registration desk's pages: find a person as you type, walk-ins, the person page with its badge actions, and
exhibitors arriving at move-in. Every page works without JavaScript; static/desk.js makes it quicker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from badge_scanner.codes import Signer, load_signer
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.web.edition_choice import choose_edition
from exhibit_crm.web.forms import FormError
from exhibit_crm.web.guard import acting_user, page, read_form, read_service, run_service
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render
from exporters.badges import badge_pdf

from . import desk

ROLES = ("desk", "admin")
SEARCH_LIMIT = 20
PREFILL = ("full_name", "company", "email", "phone")
WALK_IN_FIELDS = ("full_name", "company", "phone", "email", "badge_type_id")  # in the order the form shows them
_message = partial(refusal_message, page="desk")  # refusals as this page words them


def _signer(request: Request) -> Signer:
    return load_signer(request.app.state.settings.data_dir)


def _ids(request: Request) -> dict[str, int]:
    return {"edition_id": request.path_params["edition_id"], "registration_id": request.path_params["registration_id"]}


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _local_time(timezone: str) -> Callable[[datetime | None], str]:
    """Times on desk pages are the venue's local time, as the people at the desk read their clocks."""
    zone = ZoneInfo(timezone)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


# Choosing the edition, and the desk page with its search box.

editions = choose_edition("desk/editions.html", *ROLES)


@page(*ROLES)
async def desk_page(request: Request) -> Response:
    query = request.query_params.get("q", "")
    data = await read_service(request, desk.desk_home, edition_id=request.path_params["edition_id"], query=query,
                              verifier=_signer(request).verifier, limit=SEARCH_LIMIT)
    return render(request, "desk/search.html", {**data, "query": query.strip()})


@page(*ROLES)
async def search_hits(request: Request) -> Response:
    """The rows found for the search box, as an HTML fragment that desk.js puts under the box."""
    query = request.query_params.get("q", "").strip()
    edition_id = request.path_params["edition_id"]
    hits = await read_service(request, desk.find, edition_id=edition_id, query=query,
                              verifier=_signer(request).verifier, limit=SEARCH_LIMIT)
    response = render(request, "desk/_hits.html", {"edition_id": edition_id, "query": query, "hits": hits})
    # desk.js checks this header: without it the answer was the login page of an expired session
    response.headers.update({**NO_STORE, "X-Desk-Fragment": "hits"})
    return response


# Walk-ins.

def _walk_in_input(form: FormData) -> desk.WalkInIn:
    answers = {key.removeprefix("answers."): [str(v) for v in form.getlist(key)]
               for key in form if key.startswith("answers.")}
    answers = {key: values[0] if len(values) == 1 else values for key, values in answers.items()}
    badge_type = str(form.get("badge_type_id", ""))
    return desk.WalkInIn(**{name: str(form.get(name, "")) for name in PREFILL}, answers=answers,
                         badge_type_id=int(badge_type) if badge_type.isascii() and badge_type.isdigit()
                         and len(badge_type) < 19 else None)


def _typed(form: FormData) -> dict:
    return {key: form.getlist(key) if key.startswith("answers.") else str(form.get(key, ""))
            for key in form if key != "csrf_token"}


async def _walk_in_page(request: Request, *, values: dict, errors: dict | None = None, status: int = 200) -> Response:
    data = await read_service(request, desk.walk_in_form, edition_id=request.path_params["edition_id"])
    errors = errors or {}
    fields = [*WALK_IN_FIELDS, *(f"answers.{question.key}" for question in data["questions"])]
    # the cursor goes where the desk has to type next: the first mistake, else the first empty field
    focus = next((name for name in fields if name in errors), None) or next(
        (name for name in fields[:3] if not values.get(name)), "full_name")
    if not values.get("badge_type_id") and data["badge_types"]:
        values = {**values, "badge_type_id": str(data["badge_types"][0].id)}
    general = [message for name, message in errors.items() if name not in fields]
    return render(request, "desk/walk_in.html", {**data, "values": values, "errors": errors, "focus": focus,
                                                 "general": general}, status_code=status)


@page(*ROLES)
async def walk_in(request: Request) -> Response:
    if request.method == "GET":
        params = request.query_params
        values = {**desk.walk_in_prefill(params.get("q", "")), **{k: params[k] for k in PREFILL if params.get(k)}}
        return await _walk_in_page(request, values=values)
    form = await read_form(request)
    try:
        registration = await run_service(request, desk.walk_in, edition_id=request.path_params["edition_id"],
                                          form=_walk_in_input(form), actor=await acting_user(request))
    except REFUSALS as exc:
        refused = getattr(exc, "errors", None) or {exc.field or "full_name": exc}
        return await _walk_in_page(request, values=_typed(form), status=exc.status,
                                   errors={name: _message(error) for name, error in refused.items()})
    done = "walk_in" if registration.source == desk.SOURCE else "known"
    return RedirectResponse(_person_path(request, registration.id, done=done), status_code=303)


# One registration: the person page and its actions.

def _person_path(request: Request, registration_id: int, *, done: str = "") -> str:
    path = request.url_for("desk_registration", edition_id=request.path_params["edition_id"],
                           registration_id=registration_id).path
    return f"{path}?done={done}" if done else path


def _flash(view: desk.RegistrationView, done: str | None) -> list[str]:
    flashes = {
        "walk_in": _("Registered. The badge is ready to print."),
        "known": _("Already registered: this is their registration. The badge is ready to print."),
        "reprinted": _("New badge issued (version %(version)s); the old badge no longer opens the gates.")
        % {"version": view.badge_version},
        "cancelled": _("Registration cancelled; the badge no longer opens the gates."),
        "reinstated": _("Registration reinstated with a new badge (version %(version)s), ready to print; badges "
                        "printed before it stay refused at the gates.") % {"version": view.badge_version},
        "collected": _("Badge marked as collected."),
    }
    return [flashes[done]] if done in flashes else []


async def _person_page(request: Request, *, failed: FormError | None = None, status: int = 200) -> Response:
    view = await read_service(request, desk.registration_view, **_ids(request))
    done = None if failed else request.query_params.get("done")
    return render(request, "desk/registration.html", {
        "view": view, "edition": view.edition, "failed": failed, "notices": _flash(view, done),
        "focus_print": done in ("walk_in", "known", "reprinted", "reinstated"),
        "local": _local_time(view.edition.timezone),
    }, status_code=status)


@page(*ROLES)
async def person(request: Request) -> Response:
    return await _person_page(request)


async def _act(request: Request, service: Callable, *, form_id: str, done: str, fields: tuple[str, ...] = ()):
    """Run one badge action from its form; refused, the person page shows why next to that form."""
    form = await read_form(request)
    values = {name: str(form.get(name, "")) for name in fields}
    try:
        registration = await run_service(request, service, **_ids(request), **values, actor=await acting_user(request))
    except REFUSALS as exc:
        if _wants_json(request):
            raise
        failed = FormError(form_id, _message(exc), exc.field, value=next(iter(values.values()), ""))
        return await _person_page(request, failed=failed, status=exc.status)
    page_path = _person_path(request, registration.id, done=done)
    if _wants_json(request):
        return JSONResponse({"status": desk.desk_status(registration), "badge_version": registration.badge_version,
                             "badge_url": _badge_path(request, registration.id, registration.badge_version),
                             "page_url": page_path})
    return RedirectResponse(page_path, status_code=303)


def _badge_path(request: Request, registration_id: int, version: int) -> str:
    path = request.url_for("desk_badge_pdf", edition_id=request.path_params["edition_id"],
                           registration_id=registration_id).path
    return f"{path}?v={version}"  # a new address per version, so that no cache shows an old badge


@page(*ROLES)
async def reprint(request: Request) -> Response:
    return await _act(request, desk.reprint, form_id="reprint", done="reprinted", fields=("reason",))


@page(*ROLES)
async def cancel(request: Request) -> Response:
    return await _act(request, desk.cancel, form_id="cancel", done="cancelled", fields=("reason",))


@page(*ROLES)
async def reinstate(request: Request) -> Response:
    return await _act(request, desk.reinstate, form_id="reinstate", done="reinstated", fields=("reason",))


@page(*ROLES)
async def collect(request: Request) -> Response:
    return await _act(request, desk.mark_collected, form_id="collect", done="collected")


@page(*ROLES)
async def badge(request: Request) -> Response:
    """The badge as a PDF shown in the browser, whose print dialog sends it to the badge printer."""
    data = await run_service(request, desk.printable_badge, **_ids(request), signer=_signer(request),
                             actor=await acting_user(request))
    pdf = await run_in_threadpool(badge_pdf, data)
    filename = f"badge-{data.registration_id}-v{data.badge_version}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": f'inline; filename="{filename}"'})


# Exhibitors moving in.

@page(*ROLES)
async def exhibitors(request: Request) -> Response:
    only_missing = request.query_params.get("missing") == "1"
    board = await read_service(request, desk.arrival_board, edition_id=request.path_params["edition_id"],
                               only_missing=only_missing)
    notices = [_("Checked in.")] if request.query_params.get("arrived") else []
    return render(request, "desk/exhibitors.html", {
        "board": board, "edition": board.edition, "only_missing": only_missing, "notices": notices,
        "local": _local_time(board.edition.timezone)})


@page(*ROLES)
async def exhibitor_arrived(request: Request) -> Response:
    form = await read_form(request)
    edition_id = request.path_params["edition_id"]
    await run_service(request, desk.check_in_exhibitor, exhibitor_id=request.path_params["exhibitor_id"],
                      edition_id=edition_id, actor=await acting_user(request))
    back = request.url_for("desk_exhibitors", edition_id=edition_id).path
    missing = "missing=1&" if form.get("missing") == "1" else ""
    return RedirectResponse(f"{back}?{missing}arrived={request.path_params['exhibitor_id']}", status_code=303)


_REGISTRATION = "/desk/{edition_id:id}/registrations/{registration_id:id}"
nav = [NavItem(N_("Desk"), "desk", roles=("desk", "admin"), tile=N_("Registration desk"))]

routes = [
    Route("/desk", editions, name="desk"),
    Route("/desk/{edition_id:id}", desk_page, name="desk_edition"),
    Route("/desk/{edition_id:id}/search", search_hits, name="desk_search"),
    Route("/desk/{edition_id:id}/walk-in", walk_in, methods=["GET", "POST"], name="desk_walk_in"),
    Route(_REGISTRATION, person, name="desk_registration"),
    Route(f"{_REGISTRATION}/badge.pdf", badge, name="desk_badge_pdf"),
    Route(f"{_REGISTRATION}/reprint", reprint, methods=["POST"], name="desk_reprint"),
    Route(f"{_REGISTRATION}/cancel", cancel, methods=["POST"], name="desk_cancel"),
    Route(f"{_REGISTRATION}/reinstate", reinstate, methods=["POST"], name="desk_reinstate"),
    Route(f"{_REGISTRATION}/collect", collect, methods=["POST"], name="desk_collect"),
    Route("/desk/{edition_id:id}/exhibitors", exhibitors, name="desk_exhibitors"),
    Route("/desk/{edition_id:id}/exhibitors/{exhibitor_id:id}/arrived", exhibitor_arrived, methods=["POST"],
          name="desk_exhibitor_arrived"),
]
