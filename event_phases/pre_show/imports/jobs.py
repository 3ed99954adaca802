"""Imports from the web: an uploaded file kept under DATA_DIR/imports/ with its ImportJob row, which carries the
mapping, the dry-run report and the progress of the commit that runs after the request has returned.

The upload is checked (readable, a header, within the size limit) before anything is written. The commit runs in
chunks of short transactions (committing.commit), all or nothing; a refusal or failure marks the job "failed" and
leaves nothing else written. Its progress is kept in import_job.rows_done between the chunks.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlmodel import Session

from exhibit_crm import audit
from exhibit_crm.db import run_in_session, session_scope
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import IMPORT_KINDS, Edition, ImportJob, utcnow

from . import committing, importing
from .files import ZIP_MAGIC, Table, field_names, read_table

MAX_UPLOAD = 20 * 1024 * 1024  # bytes: a 100,000-row visitor list is about 10 MiB of CSV
FOLDER = "imports"
PREVIEW_ROWS = 5
PROGRESS_EVERY_S = 0.5
_recorded: dict[int, float] = {}  # job -> when its progress was last written (time.monotonic), while it commits


@dataclass(frozen=True)
class JobView:
    """One import for its page: the job, its edition, the file's columns and a few rows, the fields to map to."""
    job: ImportJob
    edition: Edition
    header: list[str]
    preview: list[list[str]]
    fields: list[str]
    report: importing.Report | None

    @property
    def rows_done(self) -> int:
        return self.job.rows_done


def create_job(session: Session, *, data_dir: Path, edition_id: int, kind: str, source: str, filename: str,
               data: bytes, encoding: str | None = None, actor: audit.Actor) -> ImportJob:
    """Check an uploaded file and keep it with a new job, its mapping suggested from the header."""
    if kind not in IMPORT_KINDS:
        raise InvalidInput("invalid_choice", "kind: visitors or exhibitors", field="kind")
    if not source.strip():
        raise InvalidInput("required", "source: name the source of this list", field="source")
    if not data:
        raise InvalidInput("required", "file: choose a file", field="file")
    if len(data) > MAX_UPLOAD:
        raise InvalidInput("too_large", f"file: larger than {MAX_UPLOAD // 2**20} MiB", field="file")
    table = read_table(data, encoding=encoding or None)
    mapping = importing.suggested_mapping(session, edition_id=edition_id, kind=kind, header=table.header)
    folder = data_dir / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{FOLDER}/{secrets.token_hex(12)}{'.xlsx' if data.startswith(ZIP_MAGIC) else '.csv'}"
    (data_dir / stored).write_bytes(data)
    _summary_path(data_dir, stored).write_text(json.dumps(_summary(table)), encoding="utf-8")
    job = ImportJob(edition_id=edition_id, kind=kind, source=source.strip()[:120], filename=Path(filename).name[:255],
                    path=stored, encoding=table.encoding, mapping=mapping, rows_total=len(table.rows),
                    created_by_id=actor.id if actor.type == "staff" else None)
    session.add(job)
    session.flush()
    audit.log(session, "event_phases.pre_show.import.uploaded", actor=actor, obj=job,
              data={"kind": kind, "filename": job.filename, "rows": job.rows_total})
    return job


def _job(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound("import", job_id)
    return job


def _table(data_dir: Path, job: ImportJob) -> Table:
    data = (data_dir / job.path).read_bytes()
    return read_table(data, encoding=None if job.encoding == "xlsx" else job.encoding)


def _summary_path(data_dir: Path, stored: str) -> Path:
    return data_dir / f"{stored}.json"


def _summary(table: Table) -> dict:
    return {"header": table.header, "preview": [cells for _line, cells in table.rows[:PREVIEW_ROWS]]}


def _read_summary(data_dir: Path, job: ImportJob) -> dict:
    """The file's header and first rows as kept at upload (the job page is polled while a commit runs: parsing a
    big file on every poll costs most of a second); parsed again for a job uploaded before summaries were kept."""
    try:
        return json.loads(_summary_path(data_dir, job.path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _summary(_table(data_dir, job))


def recent_jobs(session: Session, *, limit: int = 30) -> dict:
    jobs = session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)).all()
    editions = session.scalars(select(Edition).order_by(Edition.year.desc(), Edition.id.desc())).all()
    return {"jobs": jobs, "editions": editions, "edition_names": {e.id: e.name for e in editions}}


def job_view(session: Session, *, data_dir: Path, job_id: int) -> JobView:
    job = _job(session, job_id)
    summary = _read_summary(data_dir, job)
    questions = importing.questions_of(session, job.edition_id) if job.kind == "visitors" else []
    return JobView(job, session.get(Edition, job.edition_id), summary["header"], summary["preview"],
                   field_names(job.kind, questions), importing.Report.from_dict(job.report) if job.report else None)


def job_status(session: Session, *, job_id: int) -> dict:
    """Status and progress of a job, from its row alone (polled while a commit runs)."""
    job = _job(session, job_id)
    return {"status": job.status, "rows_done": job.rows_done, "rows_total": job.rows_total}


def check_job(session: Session, *, data_dir: Path, job_id: int, mapping: dict[str, str]) -> importing.Report:
    """A dry run with this mapping; the mapping and report are kept with the job."""
    report = dry_run(session, data_dir=data_dir, job_id=job_id, mapping=mapping)
    keep_check(session, job_id=job_id, mapping=mapping, report=report)
    return report


def dry_run(session: Session, *, data_dir: Path, job_id: int, mapping: dict[str, str]) -> importing.Report:
    """A dry run with this mapping, which only reads: in a read transaction it holds no write lock while it checks
    a big list (keep_check then keeps its outcome in a short one)."""
    job = _checkable(session, job_id)
    return importing.run(session, edition_id=job.edition_id, kind=job.kind, table=_table(data_dir, job),
                         mapping=mapping, source=job.source)


def keep_check(session: Session, *, job_id: int, mapping: dict[str, str], report: importing.Report) -> None:
    """Keep a dry run's mapping and report with its job, unless the job was started meanwhile."""
    job = _checkable(session, job_id)
    job.mapping = {column: name for column, name in mapping.items() if name}
    job.report, job.status, job.error = report.as_dict(), "checked", ""


def _checkable(session: Session, job_id: int) -> ImportJob:
    job = _job(session, job_id)
    if job.status not in ("uploaded", "checked", "failed"):
        raise Conflict("import_running", "this import is running or done", field="mapping")
    return job


def start_commit(session: Session, *, job_id: int, valid_only: bool, actor: audit.Actor) -> ImportJob:
    """Mark a checked job as running: the one request that does so starts the commit."""
    job = _job(session, job_id)
    report = importing.Report.from_dict(job.report) if job.report else None
    if report is None or job.status != "checked":
        raise Conflict("import_not_checked", "run the check first; this import is not waiting to be imported")
    if report.invalid and not valid_only:
        raise InvalidInput("invalid_rows", "file: some rows are invalid; import only the valid rows, or fix the file",
                           field="valid_only")
    moved = session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "checked")
                            .values(status="running", valid_only=valid_only, rows_done=0))
    if moved.rowcount != 1:
        raise Conflict("import_running", "this import has been started already")
    audit.log(session, "event_phases.pre_show.import.started", actor=actor, obj=job, data={"valid_only": valid_only})
    return job


def _record_progress(engine: Engine, job_id: int, rows_done: int) -> None:
    """Progress in the job's row, in a short transaction of its own (the commit holds none between its chunks), at
    most every PROGRESS_EVERY_S: on SQLite each is a writer the commit would leave gaps for (committing._Turns)."""
    now = time.monotonic()
    if now - _recorded.get(job_id, -PROGRESS_EVERY_S) < PROGRESS_EVERY_S:
        return
    _recorded[job_id] = now
    with session_scope(engine) as session:
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(rows_done=rows_done))


def run_job(engine: Engine, *, data_dir: Path, job_id: int, actor: audit.Actor, now: datetime | None = None) -> None:
    """The commit of a started job, in chunks (committing.commit); the outcome is kept with the job."""
    job = run_in_session(engine, _job, job_id=job_id)
    try:
        report = committing.commit(engine, edition_id=job.edition_id, kind=job.kind, table=_table(data_dir, job),
                                   mapping=job.mapping, source=job.source, valid_only=job.valid_only, actor=actor,
                                   now=now, progress=lambda n: _record_progress(engine, job_id, n))
        outcome = {"status": "done", "report": report.as_dict(), "rows_done": job.rows_total, "error": ""}
    except importing.ImportRefused as refused:
        outcome = {"status": "failed", "report": refused.report.as_dict(), "error": refused.message}
    except Exception as exc:  # the job page must say it failed, whatever happened
        outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"[:2000]}
    finally:
        _recorded.pop(job_id, None)
    run_in_session(engine, _finish, job_id=job_id, outcome=outcome, now=now or utcnow())


def _finish(session: Session, *, job_id: int, outcome: dict, now: datetime) -> None:
    session.execute(update(ImportJob).where(ImportJob.id == job_id).values(**outcome, finished_at=now))


def error_report(session: Session, *, job_id: int) -> tuple[str, bytes]:
    """The job's invalid rows as CSV, and a file name for it."""
    job = _job(session, job_id)
    report = importing.Report.from_dict(job.report) if job.report else importing.Report(job.kind, job.encoding)
    return f"import-{job.id}-errors.csv", importing.error_csv(report)
