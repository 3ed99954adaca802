"""Staff pages for imports: upload, column mapping, dry-run report, commit with progress, the error CSV.

The commit runs after the response (a background task), so a list of 100,000 rows does not hold a request open;
the job page polls the job's status (static/imports.js, and a meta refresh without JavaScript).
"""

from __future__ import annotations

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from exhibit_crm.errors import DomainError
from exhibit_crm.i18n import N_
from exhibit_crm.web.guard import acting_user, page, read_form, read_service, run_service
from exhibit_crm.web.refusals import REFUSALS, refusal_message
from exhibit_crm.web.templating import NavItem, render

from . import files, jobs

ROLES = ("admin", "marketing")


# the figures the import refusals name, by code
_SIZES = {"too_large": jobs.MAX_UPLOAD // 2**20, "unpacks_too_large": files.MAX_UNPACKED // 2**20}
_COUNTS = {"too_many_rows": files.MAX_ROWS, "too_many_columns": files.MAX_COLUMNS}


def _message(exc: DomainError) -> str:
    return refusal_message(exc, page="imports", size=_SIZES.get(exc.code), count=_COUNTS.get(exc.code))


def _data_dir(request: Request):
    return request.app.state.settings.data_dir


async def _list_page(request: Request, *, values: dict | None = None, error: str = "", status: int = 200):
    data = await read_service(request, jobs.recent_jobs)
    return render(request, "imports/list.html", {**data, "values": values or {}, "error": error}, status_code=status)


@page(*ROLES)
async def imports_home(request: Request) -> Response:
    return await _list_page(request)


@page(*ROLES)
async def upload(request: Request) -> Response:
    form = await read_form(request)  # the file part is spooled to disk; only MAX_UPLOAD + 1 bytes are read
    upload_file = form.get("file")
    values = {name: str(form.get(name, "")) for name in ("edition_id", "kind", "source", "encoding")}
    try:
        data = await upload_file.read(jobs.MAX_UPLOAD + 1) if hasattr(upload_file, "read") else b""
    finally:
        await form.close()
    try:
        job = await run_service(request, jobs.create_job, data_dir=_data_dir(request),
                                edition_id=int(values["edition_id"]) if values["edition_id"].isdigit() else 0,
                                kind=values["kind"], source=values["source"],
                                filename=getattr(upload_file, "filename", "") or "upload", data=data,
                                encoding=values["encoding"].strip() or None, actor=await acting_user(request))
    except REFUSALS as exc:
        return await _list_page(request, values=values, error=_message(exc), status=exc.status)
    return RedirectResponse(request.url_for("import_job", job_id=job.id).path, status_code=303)


async def _job_page(request: Request, *, error: str = "", status: int = 200) -> Response:
    view = await read_service(request, jobs.job_view, data_dir=_data_dir(request), job_id=request.path_params["job_id"])
    return render(request, "imports/job.html", {"view": view, "job": view.job, "report": view.report,
                                                "error": error}, status_code=status)


@page(*ROLES)
async def job_page(request: Request) -> Response:
    return await _job_page(request)


@page(*ROLES)
async def check(request: Request) -> Response:
    form = await read_form(request)
    mapping = {key.removeprefix("map:"): str(value) for key, value in form.multi_items() if key.startswith("map:")}
    try:
        job_id = request.path_params["job_id"]
        report = await read_service(request, jobs.dry_run, data_dir=_data_dir(request), job_id=job_id,
                                    mapping=mapping)  # checking a big list holds no write lock
        await run_service(request, jobs.keep_check, job_id=job_id, mapping=mapping, report=report)
    except REFUSALS as exc:
        return await _job_page(request, error=_message(exc), status=exc.status)
    return RedirectResponse(request.url_for("import_job", job_id=request.path_params["job_id"]).path, status_code=303)


@page(*ROLES)
async def commit(request: Request) -> Response:
    form = await read_form(request)
    job_id = request.path_params["job_id"]
    actor = await acting_user(request)
    try:
        await run_service(request, jobs.start_commit, job_id=job_id, valid_only=form.get("valid_only") == "1",
                          actor=actor)
    except REFUSALS as exc:
        return await _job_page(request, error=_message(exc), status=exc.status)
    task = BackgroundTask(jobs.run_job, request.app.state.engine, data_dir=_data_dir(request), job_id=job_id,
                          actor=actor)
    return RedirectResponse(request.url_for("import_job", job_id=job_id).path, status_code=303, background=task)


@page(*ROLES)
async def job_status(request: Request) -> Response:
    """Status and progress of a job, for the job page's script."""
    status = await read_service(request, jobs.job_status, job_id=request.path_params["job_id"])
    return JSONResponse(status, headers={"Cache-Control": "no-store"})


@page(*ROLES)
async def errors_csv(request: Request) -> Response:
    filename, data = await read_service(request, jobs.error_report, job_id=request.path_params["job_id"])
    return Response(data, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


nav = [NavItem(N_("Imports"), "imports", roles=ROLES, tile=N_("Import visitor and exhibitor lists"))]

routes = [
    Route("/imports", imports_home, name="imports"),
    Route("/imports/upload", upload, methods=["POST"], name="import_upload"),
    Route("/imports/{job_id:id}", job_page, name="import_job"),
    Route("/imports/{job_id:id}/check", check, methods=["POST"], name="import_check"),
    Route("/imports/{job_id:id}/commit", commit, methods=["POST"], name="import_commit"),
    Route("/imports/{job_id:id}/status", job_status, name="import_status"),
    Route("/imports/{job_id:id}/errors.csv", errors_csv, name="import_errors"),
]
