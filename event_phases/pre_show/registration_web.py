"""Public registration pages (no sign-in): the form in each language, the e-badge page with its QR and the cancel
button; and the organiser's page that opens or closes an edition's form.

The public forms carry the same CSRF token as every other form: the session cookie is set for anonymous visitors
too, the first time the form is shown.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from badge_scanner.codes import Signer, load_signer
from exhibit_crm import i18n
from exhibit_crm.errors import Conflict, DomainError, InvalidInput, NotFound
from exhibit_crm.group_commit import GroupWriter
from exhibit_crm.i18n import N_
from exhibit_crm.security import session_secret
from exhibit_crm.settings import LANGUAGES
from exhibit_crm.web.guard import acting_user, page, read_form, read_service, run_service
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render
from exporters.badges import qr_png

from . import registration

CONSENTS = ("consent_marketing", "consent_share")
_message = partial(refusal_message, page="registration")  # refusals as this page words them


@lru_cache(maxsize=8)
def _links(base_url: str, data_dir: Path, secret_key: str) -> registration.Links:
    return registration.Links(base_url, session_secret(data_dir, secret_key))


def _services(request: Request) -> dict:
    settings = request.app.state.settings
    signer: Signer = load_signer(settings.data_dir)
    return {"signer": signer, "links": _links(settings.base_url, settings.data_dir, settings.secret_key)}


def _writer(request: Request) -> GroupWriter:
    """The process's group-commit writer of registrations: the submits that arrive while one transaction commits
    go into the next one together, each in its own savepoint, and each is answered once its transaction
    committed."""
    state = request.app.state
    writer = getattr(state, "_registration_writer", None)
    if writer is None:
        services = _services(request)

        def record(session, *, items):
            return registration.register_visitors(session, items=items, **services)

        writer = state._registration_writer = GroupWriter(state.engine, record, name="registration")
    return writer


# The form, one page per language.

async def register_start(request: Request) -> Response:
    """The form in the visitor's language: the language cookie, else the browser's, else the default."""
    target = request.url_for("register_form", edition_id=request.path_params["edition_id"],
                             language=i18n.current_language.get())
    return RedirectResponse(target.path, status_code=303, headers={"Vary": "Accept-Language, Cookie"})


def _language(request: Request) -> str:
    language = request.path_params["language"]
    if language not in LANGUAGES:
        raise NotFound("page")
    i18n.current_language.set(language)  # this page is in its address's language, whatever the browser asks
    return language


def _form_input(form: FormData, language: str) -> registration.RegistrationIn:
    answers = {key.removeprefix("answers."): [str(v) for v in form.getlist(key)]
               for key in form if key.startswith("answers.")}
    answers = {key: values[0] if len(values) == 1 else values for key, values in answers.items()}
    fields = {name: str(form.get(name, "")) for name in registration.CONTACT_FIELDS}
    return registration.RegistrationIn(**fields, language=language, answers=answers,
                                       **{name: name in form for name in CONSENTS})


def _typed(form: FormData) -> dict:
    return {key: form.getlist(key) if key.startswith("answers.") else str(form.get(key, ""))
            for key in form if key != "csrf_token"}


async def _form_page(request: Request, language: str, *, values: dict | None = None, errors: dict | None = None,
                     status: int = 200) -> Response:
    form = await read_service(request, registration.registration_form, edition_id=request.path_params["edition_id"])
    errors = errors or {}
    fields = [*registration.CONTACT_FIELDS, *(f"answers.{q.key}" for q in form.questions)]
    general = [message for name, message in errors.items() if name not in fields]
    other = next(code for code in LANGUAGES if code != language)
    return render(request, "register/form.html", {
        "form": form, "values": values or {}, "errors": errors, "general": general,
        "focus": next((name for name in fields if name in errors), None),
        "countries": registration.countries(language), "other_language": other,
        "consent_version": registration.CONSENT_TEXT_VERSION}, status_code=status)


async def register_form(request: Request) -> Response:
    language = _language(request)
    if request.method == "GET":
        return await _form_page(request, language)
    form = await read_form(request)
    try:
        done = await _writer(request).submit((request.path_params["edition_id"], _form_input(form, language)))
        if isinstance(done, DomainError):
            raise done
    except REFUSALS as exc:
        refused = getattr(exc, "errors", None) or {exc.field or "form": exc}
        return await _form_page(request, language, values=_typed(form), status=exc.status,
                                errors={name: _message(error) for name, error in refused.items()})
    if not done.created:
        # the badge goes to the address on file, not to whoever typed this person's e-mail or phone
        target = request.url_for("register_known", edition_id=request.path_params["edition_id"], language=language)
        return RedirectResponse(target.path, status_code=303)
    token = _services(request)["links"].token(done.registration_id)
    # the route's own pattern: url_for would search every route of the app on each submit
    target = request.scope.get("root_path", "") + registration.EBADGE_PATH.format(token=token)
    return RedirectResponse(f"{target}?new=1", status_code=303)


async def register_known(request: Request) -> Response:
    _language(request)
    form = await read_service(request, registration.registration_form, edition_id=request.path_params["edition_id"])
    return render(request, "register/known.html", {"form": form})


# The e-badge page.

async def _view(request: Request) -> registration.EBadge:
    services = _services(request)
    registration_id = services["links"].registration_id(request.path_params["token"])
    return await read_service(request, registration.ebadge, registration_id=registration_id, **services)


async def ebadge(request: Request) -> Response:
    view = await _view(request)
    if i18n.LANGUAGE_COOKIE not in request.cookies and view.language in LANGUAGES:
        i18n.current_language.set(view.language)  # the registrant's language, unless this browser chose one
    response = render(request, "register/ebadge.html", {
        "view": view, "new": request.query_params.get("new") == "1",
        "cancelled_now": request.query_params.get("cancelled") == "1", "token": request.path_params["token"]})
    response.headers.update({**NO_STORE, "X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})
    return response


async def ebadge_qr(request: Request) -> Response:
    view = await _view(request)
    if view.cancelled:
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    png = await run_in_threadpool(qr_png, view.badge.code)
    return Response(png, media_type="image/png", headers=NO_STORE)


async def ebadge_cancel(request: Request) -> Response:
    await read_form(request)
    services = _services(request)
    registration_id = services["links"].registration_id(request.path_params["token"])
    await run_service(request, registration.cancel_registration, registration_id=registration_id, **services)
    target = request.url_for("ebadge", token=request.path_params["token"]).path
    return RedirectResponse(f"{target}?cancelled=1", status_code=303)


# The organiser's settings.

@page("admin")
async def settings_list(request: Request) -> Response:
    rows = await read_service(request, registration.editions)
    return render(request, "register/settings_list.html", {"rows": rows})


@page("admin")
async def settings_page(request: Request) -> Response:
    edition_id = request.path_params["edition_id"]
    error, saved = None, request.query_params.get("saved") == "1"
    if request.method == "POST":
        form = await read_form(request)
        try:
            await run_service(request, registration.update_settings, edition_id=edition_id,
                              registration_open="registration_open" in form,
                              visitor_badge_type=str(form.get("visitor_badge_type", "")),
                              actor=await acting_user(request))
        except InvalidInput as exc:
            error = _message(exc)
        else:
            target = request.url_for("register_settings", edition_id=edition_id).path
            return RedirectResponse(f"{target}?saved=1", status_code=303)
    view = await read_service(request, registration.registration_settings, edition_id=edition_id)
    public = str(request.url_for("register_start", edition_id=edition_id))
    return render(request, "register/settings.html", {"view": view, "error": error, "saved": saved,
                                                       "public_url": public}, status_code=422 if error else 200)


nav = [NavItem(N_("Registration"), "register_settings_list", roles=("admin",),
               tile=N_("Online registration settings"))]

routes = [
    Route("/register/{edition_id:id}", register_start, name="register_start"),
    Route("/register/{edition_id:id}/{language}", register_form, methods=["GET", "POST"], name="register_form"),
    Route("/register/{edition_id:id}/{language}/known", register_known, name="register_known"),
    Route(registration.EBADGE_PATH, ebadge, name="ebadge"),
    Route(registration.EBADGE_PATH + "/qr.png", ebadge_qr, name="ebadge_qr"),
    Route(registration.EBADGE_PATH + "/cancel", ebadge_cancel, methods=["POST"], name="ebadge_cancel"),
    Route("/admin/registration", settings_list, name="register_settings_list"),
    Route("/admin/registration/{edition_id:id}", settings_page, methods=["GET", "POST"], name="register_settings"),
]
