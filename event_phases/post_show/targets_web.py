"""The targets page of an edition: admins set what the edition aims at, marketing reads it. The rebooking rate is a
percentage here and a share (0 to 1) in the service."""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from exhibit_crm.errors import DomainError
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.models import TARGET_KEYS
from exhibit_crm.web.edition_choice import choose_edition
from exhibit_crm.web.forms import Failure
from exhibit_crm.web.guard import form_action, page, read_service, signed_in
from exhibit_crm.web.templating import NavItem, render

from . import targets

READERS = ("admin", "marketing")
EDITORS = ("admin",)
FORM = "targets"
PERCENT = "rebooking_rate"  # entered and shown as a percentage
# the digits a percentage keeps as a share: 33.3 % is 0.333, not 0.33299999999999996
SHARE_DIGITS = 6
LABELS = {"visitors": N_("Visitors"), "trade_visitors": N_("Trade visitors"), "exhibitors": N_("Exhibitors"),
          "net_sqm": N_("Net m² sold"), "rebooking_rate": N_("Exhibitor rebooking rate, per cent")}
# what a refused field asks for, naming the field
HINTS = {"visitors": N_("Visitors: enter a whole number, 0 or more, or leave it empty."),
         "trade_visitors": N_("Trade visitors: enter a whole number, 0 or more, or leave it empty."),
         "exhibitors": N_("Exhibitors: enter a whole number, 0 or more, or leave it empty."),
         "net_sqm": N_("Net m² sold: enter the square metres, 0 or more, or leave it empty."),
         "rebooking_rate": N_("Exhibitor rebooking rate: enter a percentage from 0 to 100, or leave it empty.")}


def _share(text: str) -> float | str:
    """A percentage as a share; text that is no number goes on as it is, for the service to refuse naming the field."""
    try:
        return round(float(text) / 100, SHARE_DIGITS)
    except ValueError:
        return text


def form_targets(form: FormData) -> dict:
    """The targets the form holds, as the service takes them: an empty field clears its target."""
    data = {key: str(form.get(key, "")).strip() or None for key in TARGET_KEYS if key in form}
    if data.get(PERCENT) is not None:
        data[PERCENT] = _share(data[PERCENT])
    return data


def _number(value: float | None) -> str:
    """A target as a field shows it: 12500 rather than 12500.0."""
    return "" if value is None else f"{value:.10g}"


def shown(values: dict) -> dict[str, str]:
    """Each target as the page shows it, the rebooking rate as a percentage."""
    rate = values[PERCENT]
    return {**{key: _number(values[key]) for key in TARGET_KEYS},
            PERCENT: _number(None if rate is None else round(rate * 100, SHARE_DIGITS))}


def _failure(form: FormData, exc: DomainError) -> Failure:
    field = exc.field if exc.field in TARGET_KEYS else None
    message = _(HINTS[field]) if field else exc.message
    values = {key: value for key, value in form.items() if key != "csrf_token"}
    return Failure(form=FORM, message=message, status=exc.status, field=field, values=values)


async def _page(request: Request, failed: Failure | None = None) -> Response:
    view = await read_service(request, targets.target_view, edition_id=request.path_params["edition_id"])
    who = await signed_in(request)
    changed = view["updated_at"]
    context = {**view, "shown": shown(view["targets"]), "labels": LABELS, "keys": TARGET_KEYS, "failed": failed,
               "can_edit": who.role in EDITORS,
               "changed": changed.astimezone(ZoneInfo(view["edition"].timezone)) if changed else None,
               "messages": [_("Targets saved.")] if request.query_params.get("saved") and not failed else []}
    return render(request, "post_show/targets.html", context, status_code=failed.status if failed else 200)


@page(*READERS)
async def show(request: Request) -> Response:
    return await _page(request)


async def _again(request: Request, form: FormData, exc: DomainError) -> Response:
    return await _page(request, _failure(form, exc))


@page(*EDITORS)
async def save(request: Request) -> Response:
    edition_id = request.path_params["edition_id"]
    then = f"{request.url_for('post_show_targets', edition_id=edition_id).path}?saved=1"
    return await form_action(request, targets.set_targets, then=then, fields=lambda form: {"data": form_targets(form)},
                             again=partial(_again, request), edition_id=edition_id)


editions = choose_edition("post_show/editions.html", *READERS)

nav = [NavItem(N_("Targets"), "post_show_target_editions", roles=READERS,
               tile=N_("Targets per edition for the statistics"))]
# on the admin page of each edition (see exhibit_crm.app.MODULES)
edition_nav = [NavItem(N_("Targets"), "post_show_targets", roles=READERS)]

_PATH = "/admin/editions/{edition_id:id}/targets"
routes = [
    Route("/targets", editions, name="post_show_target_editions"),
    Route(_PATH, show, methods=["GET"], name="post_show_targets"),
    Route(_PATH, save, methods=["POST"], name="post_show_targets_save"),
]
