"""The gate's pages: the scanning page a gate device opens from its link, the live gate dashboard for staff, and the
admin's list of gates with how to open the scanning page on a device."""

from __future__ import annotations

from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exhibit_crm import devices
from exhibit_crm.errors import InvalidInput
from exhibit_crm.i18n import N_
from exhibit_crm.i18n import gettext as _
from exhibit_crm.models import utcnow
from exhibit_crm.web.edition_choice import choose_edition
from exhibit_crm.web.guard import api, page, read_service
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.templating import NavItem, render

from . import dashboard, entry_chart

ROLES = ("admin", "desk")
POLL_SECONDS = 5

# What the gate shows for each verdict reason; the dashboard names rejections the same way.
REASONS = {
    "invalid_code": N_("Not a valid badge"),
    "revoked": N_("Badge cancelled"),
    "outdated_badge": N_("Old badge: a newer one was issued"),
    "zone_denied": N_("This badge may not enter here"),
    "closed": N_("Closed now"),
    "already_inside": N_("Already inside"),
    "not_inside": N_("Not checked in here"),
    "duplicate": N_("Scanned twice"),
    "unknown": N_("Other reason"),
}


def reason_labels() -> dict[str, str]:
    return {code: _(label) for code, label in REASONS.items()}


async def gate_page(request: Request) -> Response:
    """The scanning page: it holds no data of its own; everything comes from the API with the device's token."""
    response = render(request, "gate/gate.html", {"reasons": reason_labels()})
    response.headers.update({**NO_STORE, "Referrer-Policy": "no-referrer"})
    return response


gate_editions = choose_edition("gate/editions.html", *ROLES)


def _day(request: Request) -> date | None:
    text = request.query_params.get("day")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("invalid_date", "day: expected YYYY-MM-DD", field="day") from None


@page(*ROLES)
async def dashboard_page(request: Request) -> Response:
    data = await read_service(request, dashboard.dashboard_page, edition_id=request.path_params["edition_id"],
                              now=utcnow())
    chart = entry_chart.definition(data["figures"]["entries"])
    return render(request, "gate/dashboard.html", {**data, "chart": chart, "chart_dataset": entry_chart.DATASET,
                                                   "reasons": reason_labels(), "poll_seconds": POLL_SECONDS})


@api(*ROLES)
async def dashboard_json(request: Request) -> Response:
    figures = await read_service(request, dashboard.dashboard, edition_id=request.path_params["edition_id"],
                                 now=utcnow(), day=_day(request))
    figures["entries"]["rows"] = entry_chart.rows(figures["entries"])  # what the page's chart draws
    return JSONResponse(figures, headers=NO_STORE)


@page("admin")
async def gate_links(request: Request) -> Response:
    data = await read_service(request, devices.devices_page_data, edition_id=request.path_params["edition_id"])
    gate_url = str(request.url_for("gate_page"))
    return render(request, "gate/links.html", {**data, "gate_url": gate_url})


nav = [NavItem(N_("Gates"), "gates", roles=ROLES, tile=N_("Gates: live dashboard and gate page links"))]

routes = [
    Route("/gate", gate_page, name="gate_page"),
    Route("/gates", gate_editions, name="gates"),
    Route("/gates/{edition_id:id}/dashboard", dashboard_page, name="gate_dashboard"),
    Route("/gates/{edition_id:id}/dashboard.json", dashboard_json, name="gate_dashboard_json"),
    Route("/gates/{edition_id:id}/links", gate_links, name="gate_links"),
]
