"""Admin pages for setting up shows: series, editions and, on one page per edition, its days, zones, gates,
badge types, registration questions and product categories."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import cache
from zoneinfo import available_timezones

from starlette.convertors import StringConvertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import edition_copy, editions
from ..errors import InvalidInput, NotFound
from ..i18n import N_
from ..i18n import gettext as _
from .forms import Failure, form_data, options_text
from .guard import acting_user, page, read_form, read_service, run_service
from .refusals import REFUSALS
from .templating import NavItem, render

PARTS = ("day", "zone", "gate", "badge_type", "question", "product_category")
SECTION = {"day": "days", "zone": "zones", "gate": "zones", "badge_type": "badge-types", "question": "questions",
           "product_category": "product-categories"}
PageAgain = Callable[[Request, Failure], Awaitable[Response]]


class PartConvertor(StringConvertor):
    """A kind of part in an admin path: only the PARTS, so that a module's page under an edition
    (/admin/editions/{edition_id}/targets) is not taken for a part of an unknown kind."""

    regex = "|".join(PARTS)


register_url_convertor("part", PartConvertor())


@cache
def timezones() -> list[str]:
    return sorted(available_timezones())


# Rendering and the one shape every form post has.

def _messages(request: Request) -> list[str]:
    flashes = {"saved": _("Saved."), "deleted": _("Deleted."),
               "copied": _("Copied: check the new days, then open registration when it is time.")}
    return [text for key, text in flashes.items() if request.query_params.get(key)]


def _render(request: Request, name: str, context: dict, failed: Failure | None) -> Response:
    context.update(failed=failed, messages=[] if failed else _messages(request))
    return render(request, name, context, status_code=failed.status if failed else 200)


def _zone_id(kind: str, form: FormData) -> int | None:
    """The zone a new gate goes into, named by the form's hidden field."""
    if kind != "gate":
        return None
    try:
        return int(str(form.get("zone_id")))
    except ValueError:
        raise NotFound("zone", form.get("zone_id")) from None


async def _post(request: Request, *, form_id: str | Callable[[FormData], str], kind: str,
                action: Callable[[FormData], Awaitable[str]], page_again: PageAgain) -> Response:
    """Read the form (CSRF checked), run the action; on a refusal show the page again with the user's input."""
    form = await read_form(request)
    try:
        target = await action(form)
    except REFUSALS as exc:
        name = form_id(form) if callable(form_id) else form_id
        return await page_again(request, Failure.of(name, kind, form, exc))
    return RedirectResponse(target, status_code=303)


def _path(request: Request, name: str, flash: str = "saved", anchor: str = "", **params) -> str:
    return f"{request.url_for(name, **params).path}?{flash}=1{'#' + anchor if anchor else ''}"


# Series.

async def _series_list(request: Request, failed: Failure | None = None) -> Response:
    listing = await read_service(request, editions.series_listing)
    return _render(request, "admin/series_list.html", {"listing": listing}, failed)


@page("admin")
async def series_list(request: Request) -> Response:
    if request.method == "GET":
        return await _series_list(request)

    async def create(form: FormData) -> str:
        series = await run_service(request, editions.create, kind="series", data=form_data("series", form),
                                   actor=await acting_user(request))
        return _path(request, "admin_series", series_id=series.id)

    return await _post(request, form_id="series-new", kind="series", action=create, page_again=_series_list)


async def _series_page(request: Request, failed: Failure | None = None) -> Response:
    data = await read_service(request, editions.series_page_data, series_id=request.path_params["series_id"])
    return _render(request, "admin/series.html", {**data, "timezones": timezones()}, failed)


def _detail(kind: str, param: str, route: str, page_again: PageAgain):
    """The page of one series or edition: GET shows it, POST saves its form."""

    @page("admin")
    async def detail(request: Request) -> Response:
        ident = request.path_params[param]
        if request.method == "GET":
            return await page_again(request)

        async def save(form: FormData) -> str:
            await run_service(request, editions.update, kind=kind, id=ident, data=form_data(kind, form),
                              actor=await acting_user(request))
            return _path(request, route, **{param: ident})

        return await _post(request, form_id=kind, kind=kind, action=save, page_again=page_again)

    detail.__name__ = f"{kind}_detail"
    return detail


series_detail = _detail("series", "series_id", "admin_series", _series_page)


@page("admin")
async def series_delete(request: Request) -> Response:
    async def remove(form: FormData) -> str:
        await run_service(request, editions.delete, kind="series", id=request.path_params["series_id"],
                          actor=await acting_user(request))
        return _path(request, "admin_series_list", flash="deleted")

    return await _post(request, form_id="series", kind="", action=remove, page_again=_series_page)


@page("admin")
async def edition_create(request: Request) -> Response:
    async def create(form: FormData) -> str:
        edition = await run_service(request, editions.create, kind="edition", data=form_data("edition", form),
                                    parent_id=request.path_params["series_id"], actor=await acting_user(request))
        return _path(request, "admin_edition", edition_id=edition.id)

    return await _post(request, form_id="edition-new", kind="edition", action=create, page_again=_series_page)


# One edition and its parts.

async def _edition_page(request: Request, failed: Failure | None = None) -> Response:
    overview = await read_service(request, editions.edition_overview, edition_id=request.path_params["edition_id"])
    options = {q.id: options_text(q.options) for q in overview["questions"]}
    return _render(request, "admin/edition.html", {**overview, "options": options, "timezones": timezones()}, failed)


edition_detail = _detail("edition", "edition_id", "admin_edition", _edition_page)


@page("admin")
async def edition_delete(request: Request) -> Response:
    async def remove(form: FormData) -> str:
        series_id = await run_service(request, editions.delete_edition, id=request.path_params["edition_id"],
                                      actor=await acting_user(request))
        return _path(request, "admin_series", flash="deleted", series_id=series_id)

    return await _post(request, form_id="edition", kind="", action=remove, page_again=_edition_page)


def _copy_values(form: FormData) -> dict:
    """The copy form's values as the service takes them; a year or date that is none is refused naming its field."""
    values = {"name": str(form.get("name", ""))}
    try:
        values["year"] = int(str(form.get("year", "")).strip())
    except ValueError:
        raise InvalidInput("invalid", "year: a year such as 2027", field="year") from None
    start = str(form.get("start", "")).strip()
    try:
        values["start"] = date.fromisoformat(start) if start else None
    except ValueError:
        raise InvalidInput("invalid", "start: a date such as 2027-03-09", field="start") from None
    return values


@page("admin")
async def edition_copy_post(request: Request) -> Response:
    async def copy(form: FormData) -> str:
        copied = await run_service(request, edition_copy.copy_edition, edition_id=request.path_params["edition_id"],
                                   **_copy_values(form), actor=await acting_user(request))
        return _path(request, "admin_edition", flash="copied", edition_id=copied.edition.id)

    return await _post(request, form_id="copy", kind="copy", action=copy, page_again=_edition_page)


def _kind(request: Request) -> str:
    kind = request.path_params["kind"]
    if kind not in PARTS:
        raise NotFound("section", kind)
    return kind


@page("admin")
async def part_create(request: Request) -> Response:
    edition_id, kind = request.path_params["edition_id"], _kind(request)

    async def create(form: FormData) -> str:
        await run_service(request, editions.create_part, edition_id=edition_id, kind=kind, data=form_data(kind, form),
                          zone_id=_zone_id(kind, form), actor=await acting_user(request))
        return _path(request, "admin_edition", anchor=SECTION[kind], edition_id=edition_id)

    def form_id(form: FormData) -> str:
        return f"gate-new-{_zone_id(kind, form)}" if kind == "gate" else f"{kind}-new"

    return await _post(request, form_id=form_id, kind=kind, action=create, page_again=_edition_page)


@page("admin")
async def part_update(request: Request) -> Response:
    edition_id, kind, part_id = request.path_params["edition_id"], _kind(request), request.path_params["part_id"]

    async def save(form: FormData) -> str:
        await run_service(request, editions.update_part, edition_id=edition_id, kind=kind, id=part_id,
                          data=form_data(kind, form), actor=await acting_user(request))
        return _path(request, "admin_edition", anchor=SECTION[kind], edition_id=edition_id)

    return await _post(request, form_id=f"{kind}-{part_id}", kind=kind, action=save, page_again=_edition_page)


@page("admin")
async def part_delete(request: Request) -> Response:
    edition_id, kind, part_id = request.path_params["edition_id"], _kind(request), request.path_params["part_id"]

    async def remove(form: FormData) -> str:
        await run_service(request, editions.delete_part, edition_id=edition_id, kind=kind, id=part_id,
                          actor=await acting_user(request))
        return _path(request, "admin_edition", flash="deleted", anchor=SECTION[kind], edition_id=edition_id)

    return await _post(request, form_id=f"{kind}-{part_id}", kind="", action=remove, page_again=_edition_page)


nav = [NavItem(N_("Shows"), "admin_series_list", roles=("admin",), tile=N_("Shows and editions"))]

routes = [
    Route("/admin/series", series_list, methods=["GET", "POST"], name="admin_series_list"),
    Route("/admin/series/{series_id:id}", series_detail, methods=["GET", "POST"], name="admin_series"),
    Route("/admin/series/{series_id:id}/delete", series_delete, methods=["POST"], name="admin_series_delete"),
    Route("/admin/series/{series_id:id}/editions", edition_create, methods=["POST"], name="admin_edition_create"),
    Route("/admin/editions/{edition_id:id}", edition_detail, methods=["GET", "POST"], name="admin_edition"),
    Route("/admin/editions/{edition_id:id}/delete", edition_delete, methods=["POST"], name="admin_edition_delete"),
    Route("/admin/editions/{edition_id:id}/copy", edition_copy_post, methods=["POST"], name="admin_edition_copy"),
    Route("/admin/editions/{edition_id:id}/{kind:part}", part_create, methods=["POST"], name="admin_part_create"),
    Route("/admin/editions/{edition_id:id}/{kind:part}/{part_id:id}", part_update, methods=["POST"],
          name="admin_part_update"),
    Route("/admin/editions/{edition_id:id}/{kind:part}/{part_id:id}/delete", part_delete, methods=["POST"],
          name="admin_part_delete"),
]
