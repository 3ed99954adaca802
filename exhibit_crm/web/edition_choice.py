"""The page where staff choose the edition they work for (the desk, the gates, the exhibitor list): one endpoint,
each area with its own template."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from .. import editions
from .guard import Endpoint, page, read_service
from .templating import render


def choose_edition(template: str, *roles: str) -> Endpoint:
    """A page for the given roles that lists every edition, newest first, rendered with `template`."""

    @page(*roles)
    async def edition_choice(request: Request) -> Response:
        return render(request, template, {"editions": await read_service(request, editions.choices)})

    return edition_choice
