"""The exhibitor portal's pages: setting the password from an invitation, the home page with the staff badges, the
profile, and the visitors interested in what the exhibitor sells. Works on a phone.

The exhibitor is always the signed-in user's own; ids in URLs are registrations, checked against it."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from badge_scanner.codes import load_signer
from exhibit_crm import auth
from exhibit_crm.errors import DomainError
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.security import password_work
from exhibit_crm.web.forms import FormError
from exhibit_crm.web.guard import (
    EXHIBITOR_USERS,
    exhibitor_page,
    form_action,
    read_form,
    read_service,
    run_service,
    signed_in,
    start_session,
)
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render
from exporters.badges import badge_pdf

from . import invitations, portal
from .exhibitors_web import secret

_message = partial(refusal_message, page="portal")  # refusals as this page words them


def _text(form, name: str) -> str:
    return str(form.get(name, ""))


# The invitation link: choosing a password.

async def invitation(request: Request) -> Response:
    token = request.path_params["token"]
    user = await read_service(request, invitations.invited_user, token=token, secret=secret(request))
    if request.method == "GET":
        return render(request, "portal/invitation.html", {"invited": user, "error": None})
    form = await read_form(request)
    try:
        # hashed in the password threads before the write transaction opens
        password = await password_work(portal.invitation_password, _text(form, "password"), _text(form, "confirm"))
        user = await run_service(request, portal.accept_invitation, token=token, secret=secret(request),
                                 password=password)
    except REFUSALS as exc:
        if exc.code in ("invalid_invitation", "invitation_expired"):
            raise
        return render(request, "portal/invitation.html", {"invited": user, "error": _message(exc),
                                                          "field": exc.field}, status_code=exc.status)
    start_session(request, auth.Principal.of_exhibitor_user(user))
    return RedirectResponse(request.url_for("portal").path + "?done=welcome", status_code=303)


# Home, staff badges.

def _local(timezone: str):
    zone = ZoneInfo(timezone)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def _notices(done: str | None) -> list[str]:
    notices = {"welcome": _("Your password is set. Welcome to the exhibitor portal."),
               "staff": _("Staff member registered; the badge is ready."), "removed": _("Staff badge cancelled."),
               "profile": _("Profile saved.")}
    return [notices[done]] if done in notices else []


async def _home_page(request: Request, *, failed: FormError | None = None, values: dict | None = None) -> Response:
    who = await signed_in(request)
    view = await read_service(request, portal.portal_view, exhibitor_id=who.exhibitor_id)
    return render(request, "portal/home.html", {
        "view": view, "failed": failed, "values": values or {}, "local": _local(view.edition.timezone),
        "notices": [] if failed else _notices(request.query_params.get("done"))},
        status_code=failed.status if failed else 200)


@exhibitor_page
async def home(request: Request) -> Response:
    return await _home_page(request)


@exhibitor_page
async def add_staff(request: Request) -> Response:
    def staff_in(form: FormData) -> portal.StaffIn:
        return portal.StaffIn(**{name: _text(form, name) for name in ("full_name", "email", "phone", "title")})

    async def again(form: FormData, exc: DomainError) -> Response:
        return await _home_page(request, failed=FormError("staff", _message(exc), exc.field, exc.status),
                                values=staff_in(form).model_dump())

    return await form_action(request, portal.register_staff, exhibitor=True, again=again,
                             fields=lambda form: {"staff": staff_in(form)},
                             then=request.url_for("portal").path + "?done=staff#staff")


@exhibitor_page
async def remove_staff(request: Request) -> Response:
    return await form_action(request, portal.remove_staff, exhibitor=True,
                             registration_id=request.path_params["registration_id"],
                             then=request.url_for("portal").path + "?done=removed#staff")


@exhibitor_page
async def staff_badge(request: Request) -> Response:
    who = await signed_in(request)
    data = await read_service(request, portal.staff_badge, exhibitor_id=who.exhibitor_id,
                              registration_id=request.path_params["registration_id"],
                              signer=load_signer(request.app.state.settings.data_dir))
    pdf = await run_in_threadpool(badge_pdf, data)
    filename = f"badge-{data.registration_id}-v{data.badge_version}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})


# Profile and matched visitors.

@exhibitor_page
async def profile(request: Request) -> Response:
    who = await signed_in(request)
    failed, values = None, None
    if request.method == "POST":
        form = await read_form(request)
        data = portal.ProfileIn(description=_text(form, "description"), description_zh=_text(form, "description_zh"),
                                website=_text(form, "website"),
                                categories=[str(value) for value in form.getlist("categories")])
        try:
            await run_service(request, portal.update_profile, exhibitor_id=who.exhibitor_id, profile=data,
                              actor=who.actor)
        except REFUSALS as exc:
            failed, values = FormError("profile", _message(exc), exc.field, exc.status), data.model_dump()
        else:
            return RedirectResponse(request.url_for("portal").path + "?done=profile", status_code=303)
    view = await read_service(request, portal.portal_view, exhibitor_id=who.exhibitor_id)
    return render(request, "portal/profile.html", {"view": view, "failed": failed, "values": values},
                  status_code=failed.status if failed else 200)


@exhibitor_page
async def visitors(request: Request) -> Response:
    who = await signed_in(request)
    number = request.query_params.get("page", "1")
    data = await read_service(request, portal.matched_visitors, exhibitor_id=who.exhibitor_id,
                              page=int(number) if number.isdigit() and len(number) < 7 else 1)
    return render(request, "portal/visitors.html", data)


_STAFF = "/portal/staff/{registration_id:id}"
nav = [NavItem(N_("Exhibitor portal"), "portal", kinds=EXHIBITOR_USERS,
               tile=N_("Your booth, staff badges and visitors"))]

routes = [
    Route("/exhibitor/invitation/{token}", invitation, methods=["GET", "POST"], name="exhibitor_invitation"),
    Route("/portal", home, name="portal"),
    Route("/portal/staff", add_staff, methods=["POST"], name="portal_add_staff"),
    Route(f"{_STAFF}/remove", remove_staff, methods=["POST"], name="portal_remove_staff"),
    Route(f"{_STAFF}/badge.pdf", staff_badge, name="portal_staff_badge"),
    Route("/portal/profile", profile, methods=["GET", "POST"], name="portal_profile"),
    Route("/portal/visitors", visitors, name="portal_visitors"),
]
