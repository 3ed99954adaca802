"""The statistics pages for admin and marketing: the edition report with its charts, the comparison with the previous
edition and the churn list, its JSON, and its files (report XLSX/PDF, churn list, attendee list)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from exhibit_crm import i18n
from exhibit_crm.i18n import N_
from exhibit_crm.models import utcnow
from exhibit_crm.web.edition_choice import choose_edition
from exhibit_crm.web.guard import acting_user, api, page, read_service, run_service
from exhibit_crm.web.headers import NO_STORE
from exhibit_crm.web.templating import NavItem, render
from exporters import report_charts
from exporters.report_tables import ReportTables

from .statistics import downloads, today
from .statistics.report import edition_report

ROLES = ("admin", "marketing")
CHURN_ORDERS = {"sqm": ("sqm", True), "leads": ("leads", True), "hot_leads": ("hot_leads", True),
                "company": ("company", False)}


def _churn_sorted(report: dict, order: str) -> None:
    key, descending = CHURN_ORDERS.get(order, CHURN_ORDERS["sqm"])
    for side in ("previous_edition", "next_edition"):
        if report[side] is not None:
            report[side]["churned"].sort(key=lambda row: row[key], reverse=descending)


@page(*ROLES)
async def statistics_page(request: Request) -> Response:
    language = i18n.current_language.get()
    report = await read_service(request, edition_report, edition_id=request.path_params["edition_id"], now=utcnow())
    order = request.query_params.get("churn", "sqm")
    _churn_sorted(report, order)
    return render(request, "post_show/statistics.html", {
        "report": report, "charts": report_charts.specs(report, language=language, width="container"),
        "churn_order": order, "tables": ReportTables(report, language=language), "files": downloads.FILES})


@api(*ROLES)
async def statistics_json(request: Request) -> Response:
    report = await read_service(request, edition_report, edition_id=request.path_params["edition_id"], now=utcnow())
    return JSONResponse(report, headers=NO_STORE)


@page(*ROLES)
async def statistics_download(request: Request) -> Response:
    edition_id, kind, fmt = (request.path_params[name] for name in ("edition_id", "kind", "fmt"))
    file = await read_service(request, downloads.statistics_file, edition_id=edition_id, kind=kind, fmt=fmt,
                              language=i18n.current_language.get(), now=utcnow())
    # logged in a transaction of its own: the file was built without holding the write lock
    await run_service(request, downloads.log_download, edition_id=edition_id, kind=kind, fmt=fmt, rows=file.rows,
                      actor=await acting_user(request))
    return Response(file.data, media_type=file.content_type, headers={
        **NO_STORE, "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.filename, safe='')}"})


async def today_panel(request: Request, who) -> dict | None:
    """The start page's figures of the current edition, for staff."""
    if who is None or who.kind != "staff":
        return None
    figures = await read_service(request, today.today_figures, now=utcnow())
    return {"template": "post_show/_today.html", "today": figures} if figures else None


statistics_editions = choose_edition("post_show/statistics_editions.html", *ROLES)

nav = [NavItem(N_("Statistics"), "statistics", roles=ROLES,
               tile=N_("Statistics: the edition report, last year compared, the churn list"))]

home_panels = [today_panel]

routes = [
    Route("/statistics", statistics_editions, name="statistics"),
    Route("/statistics/{edition_id:id}", statistics_page, name="statistics_report"),
    Route("/statistics/{edition_id:id}/report.json", statistics_json, name="statistics_json"),
    Route("/statistics/{edition_id:id}/{kind:str}.{fmt:str}", statistics_download, name="statistics_download"),
]
