"""The organiser's exhibitor pages: the list of an edition's exhibitors, booking a company, and one exhibitor's page
with its status, booth, categories, staff allowance, users and staff badges."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from exhibit_crm.errors import InvalidInput
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.models.exhibitors import EXHIBITOR_STATUSES
from exhibit_crm.security import session_secret
from exhibit_crm.web.edition_choice import choose_edition
from exhibit_crm.web.forms import FormError
from exhibit_crm.web.guard import acting_user, page, read_form, read_service, run_service
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render

from . import exhibitors, invitations

ROLES = ("admin", "marketing")
_message = partial(refusal_message, page="exhibitors")  # refusals as this page words them


def secret(request: Request) -> str:
    settings = request.app.state.settings
    return session_secret(settings.data_dir, settings.secret_key)


def _local(timezone: str):
    zone = ZoneInfo(timezone)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _edition_id(request: Request) -> int:
    return request.path_params["edition_id"]


# The edition's exhibitors.

edition_list = choose_edition("exhibitors/editions.html", *ROLES)


@page(*ROLES)
async def listing(request: Request) -> Response:
    status = request.query_params.get("status", "")
    status = status if status in EXHIBITOR_STATUSES else ""
    edition = await read_service(request, exhibitors.edition_of, edition_id=_edition_id(request))
    rows = await read_service(request, exhibitors.exhibitor_list, edition_id=edition.id, status=status)
    return render(request, "exhibitors/list.html", {"edition": edition, "rows": rows, "status": status,
                                                    "statuses": EXHIBITOR_STATUSES})


async def _new_page(request: Request, *, failed: FormError | None = None, values: dict | None = None) -> Response:
    edition = await read_service(request, exhibitors.edition_of, edition_id=_edition_id(request))
    query = request.query_params.get("q", "")
    found = await read_service(request, exhibitors.find_companies, edition_id=edition.id, query=query)
    return render(request, "exhibitors/new.html", {"edition": edition, "query": query, "found": found,
                                                   "failed": failed, "values": values or {}},
                  status_code=failed.status if failed else 200)


@page(*ROLES)
async def new(request: Request) -> Response:
    if request.method == "GET":
        return await _new_page(request)
    form = await read_form(request)
    company_id = str(form.get("company_id", ""))
    try:
        exhibitor = await run_service(
            request, exhibitors.create_exhibitor, edition_id=_edition_id(request), actor=await acting_user(request),
            company_name=str(form.get("company_name", "")),
            company_id=int(company_id) if company_id.isdigit() and len(company_id) < 19 else None)
    except REFUSALS as exc:
        failed = FormError("new", _message(exc), exc.field, exc.status)
        return await _new_page(request, failed=failed, values={"company_name": str(form.get("company_name", ""))})
    return RedirectResponse(_exhibitor_path(request, exhibitor.id, "created"), status_code=303)


# One exhibitor.

def _exhibitor_path(request: Request, exhibitor_id: int, done: str = "") -> str:
    path = request.url_for("exhibitor", edition_id=_edition_id(request), exhibitor_id=exhibitor_id).path
    return f"{path}?done={done}" if done else path


def _notices(done: str | None) -> list[str]:
    notices = {"created": _("Exhibitor created."), "saved": _("Saved."), "invited": _("Invitation sent."),
               "resent": _("Invitation sent again.")}
    return [notices[done]] if done in notices else []


async def _exhibitor_page(request: Request, *, failed: FormError | None = None, values: dict | None = None) -> Response:
    view = await read_service(request, exhibitors.exhibitor_view, edition_id=_edition_id(request),
                              exhibitor_id=request.path_params["exhibitor_id"])
    return render(request, "exhibitors/exhibitor.html", {
        "view": view, "edition": view.edition, "failed": failed, "values": values or {},
        "notices": [] if failed else _notices(request.query_params.get("done")),
        "local": _local(view.edition.timezone)}, status_code=failed.status if failed else 200)


@page(*ROLES)
async def exhibitor(request: Request) -> Response:
    return await _exhibitor_page(request)


async def _act(request: Request, form_id: str, call: Callable[[FormData], dict], service: Callable,
               done: str = "saved") -> Response:
    """Run one action of the exhibitor page from its form; refused, the page shows why next to that form."""
    form = await read_form(request)
    try:
        await run_service(request, service, edition_id=_edition_id(request),
                          exhibitor_id=request.path_params["exhibitor_id"], actor=await acting_user(request),
                          **call(form))
    except REFUSALS as exc:
        values = {key: str(form.get(key, "")) for key in form if key != "csrf_token"}
        return await _exhibitor_page(request, failed=FormError(form_id, _message(exc), exc.field, exc.status),
                                     values=values)
    return RedirectResponse(_exhibitor_path(request, request.path_params["exhibitor_id"], done) + f"#{form_id}",
                            status_code=303)


def _number(form: FormData, name: str, *, integer: bool = False):
    text = str(form.get(name, "")).strip().replace(",", ".")
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        code = "invalid_allowance" if integer else "invalid_sqm"
        raise InvalidInput(code, f"{name}: a number", field=name) from None


@page(*ROLES)
async def change_status(request: Request) -> Response:
    return await _act(request, "status", lambda form: {"status": str(form.get("status", ""))},
                      exhibitors.change_status)


@page(*ROLES)
async def booth(request: Request) -> Response:
    return await _act(request, "booth", lambda form: {
        "hall": str(form.get("booth_hall", "")), "number": str(form.get("booth_number", "")),
        "sqm": _number(form, "booth_sqm")}, exhibitors.assign_booth)


@page(*ROLES)
async def product_categories(request: Request) -> Response:
    return await _act(request, "categories", lambda form: {"codes": [str(v) for v in form.getlist("categories")]},
                      exhibitors.set_categories)


@page(*ROLES)
async def allowance(request: Request) -> Response:
    def parse(form: FormData) -> dict:
        value = _number(form, "staff_allowance", integer=True)
        if value is None:
            raise InvalidInput("invalid_allowance", "staff_allowance: a number", field="staff_allowance")
        return {"allowance": value}

    return await _act(request, "allowance", parse, exhibitors.set_allowance)


@page(*ROLES)
async def invite(request: Request) -> Response:
    settings = request.app.state.settings
    return await _act(request, "users", lambda form: {
        "email": str(form.get("email", "")), "name": str(form.get("name", "")),
        "language": str(form.get("language", "zh-CN")), "secret": secret(request),
        "base_url": settings.base_url}, invitations.invite_user, done="invited")


@page(*ROLES)
async def resend(request: Request) -> Response:
    return await _act(request, "users", lambda form: {
        "user_id": request.path_params["user_id"], "secret": secret(request),
        "base_url": request.app.state.settings.base_url}, invitations.resend_invitation, done="resent")


_EXHIBITOR = "/exhibitors/{edition_id:id}/{exhibitor_id:id}"
nav = [NavItem(N_("Exhibitors"), "exhibitors", roles=ROLES, tile=N_("Exhibitors: booking, booths and accounts"))]

routes = [
    Route("/exhibitors", edition_list, name="exhibitors"),
    Route("/exhibitors/{edition_id:id}", listing, name="exhibitors_edition"),
    Route("/exhibitors/{edition_id:id}/new", new, methods=["GET", "POST"], name="exhibitor_new"),
    Route(_EXHIBITOR, exhibitor, name="exhibitor"),
    Route(f"{_EXHIBITOR}/status", change_status, methods=["POST"], name="exhibitor_status"),
    Route(f"{_EXHIBITOR}/booth", booth, methods=["POST"], name="exhibitor_booth"),
    Route(f"{_EXHIBITOR}/categories", product_categories, methods=["POST"], name="exhibitor_categories"),
    Route(f"{_EXHIBITOR}/allowance", allowance, methods=["POST"], name="exhibitor_allowance"),
    Route(f"{_EXHIBITOR}/users", invite, methods=["POST"], name="exhibitor_invite"),
    Route(f"{_EXHIBITOR}/users/{{user_id:id}}/resend", resend, methods=["POST"], name="exhibitor_resend"),
]
