"""Admin page for an edition's gate devices: register a scanner at a gate (its token shown once) or revoke it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import devices
from ..errors import InvalidInput
from ..i18n import gettext as _
from .forms import Failure
from .guard import acting_user, form_action, page, read_form, read_service, run_service
from .refusals import REFUSALS
from .templating import render

FORM = "device-new"
FIELDS = ("gate_id", "name")


def _clock(timezone: str):
    """Show a stored UTC moment in the venue's local time, which is what the people at the gates read."""
    zone = ZoneInfo(timezone)

    def local(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    return local


async def _page(request: Request, *, failed: Failure | None = None, created: dict | None = None) -> Response:
    data = await read_service(request, devices.devices_page_data, edition_id=request.path_params["edition_id"])
    revoked = request.query_params.get("revoked") and not failed and not created
    gate_choices = [(str(item["gate"].id), f"{entry['zone'].name} › {item['gate'].name}")
                    for entry in data["zones"] for item in entry["gates"]]
    context = {**data, "failed": failed, "created": created, "gate_choices": gate_choices,
               "local": _clock(data["edition"].timezone), "messages": [_("Device revoked.")] if revoked else []}
    return render(request, "admin/devices.html", context, status_code=failed.status if failed else 200)


def _gate_id(form: FormData) -> int:
    try:
        return int(str(form.get("gate_id", "")))
    except ValueError:
        raise InvalidInput("required", "gate_id: choose a gate", field="gate_id") from None


@page("admin")
async def devices_page(request: Request) -> Response:
    return await _page(request)


@page("admin")
async def device_register(request: Request) -> Response:
    form = await read_form(request)
    try:
        token, device = await run_service(
            request, devices.register_device, edition_id=request.path_params["edition_id"], gate_id=_gate_id(form),
            name=str(form.get("name", "")), actor=await acting_user(request))
    except REFUSALS as exc:
        # Failure.of only knows the setup pages' fields; these two are ours.
        failed = dataclasses.replace(Failure.of(FORM, "", form, exc), field=exc.field if exc.field in FIELDS else None)
        return await _page(request, failed=failed)
    # The plain token exists only in this answer: not stored, not put in a URL, not kept in the browser's cache.
    response = await _page(request, created={"token": token, "name": device.name, "gate_id": device.gate_id})
    response.headers["Cache-Control"] = "no-store"
    return response


@page("admin")
async def device_revoke(request: Request) -> Response:
    edition_id = request.path_params["edition_id"]
    target = request.url_for("admin_devices", edition_id=edition_id).path
    return await form_action(request, devices.revoke_device, edition_id=edition_id,
                             device_id=request.path_params["device_id"], then=f"{target}?revoked=1")


# Registering posts to .../devices/new: a POST to .../devices would be taken by the admin pages' part route.
routes = [
    Route("/admin/editions/{edition_id:id}/devices", devices_page, methods=["GET"], name="admin_devices"),
    Route("/admin/editions/{edition_id:id}/devices/new", device_register, methods=["POST"],
          name="admin_device_register"),
    Route("/admin/editions/{edition_id:id}/devices/{device_id:id}/revoke", device_revoke, methods=["POST"],
          name="admin_device_revoke"),
]
