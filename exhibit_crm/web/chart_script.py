"""The charts' script (exhibit_crm/charts.py): one bundle of vega, vega-lite and vega-embed, served from this app.

Its path names its version, so browsers keep it for a year and a new release is fetched under a new name. It is
served compressed to browsers that take gzip: 0.9 MB becomes about a quarter of that on a handheld's network."""

from __future__ import annotations

import functools
import gzip

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import charts

PATH = f"/static/charts-{charts.BUNDLE_VERSION}.js"  # under /static/: the security headers treat it as a file
HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "Vary": "Accept-Encoding"}
MEDIA_TYPE = "text/javascript; charset=utf-8"


@functools.cache
def _compressed() -> bytes:
    return gzip.compress(charts.bundle().encode(), compresslevel=9, mtime=0)


async def chart_script(request: Request) -> Response:
    if "gzip" in request.headers.get("accept-encoding", ""):
        body = await run_in_threadpool(_compressed)  # built on first use: a second of CPU kept off the event loop
        return Response(body, media_type=MEDIA_TYPE, headers={**HEADERS, "Content-Encoding": "gzip"})
    body = await run_in_threadpool(charts.bundle)
    return Response(body, media_type=MEDIA_TYPE, headers=HEADERS)


routes = [Route(PATH, chart_script, name="charts_js")]
