"""The statistics' files: the edition report (XLSX, PDF), the churn list and the attendee list (CSV, XLSX).

The report's churn list names exhibitors' people and the attendee list names visitors, so every download is
written to the audit log (`log_download`). Building a file only reads; the log entry is written afterwards in a
transaction of its own, so that no report is computed while holding SQLite's write lock that the gates need."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from exhibit_crm import audit
from exhibit_crm.errors import InvalidInput
from exporters.report import CONTENT_TYPES, render_report
from exporters.report_tables import ReportTables, attendee_table
from exporters.tables import Download

from .attendees import attendee_rows
from .data import load
from .report import edition_report

DOWNLOADED = "event_phases.post_show.statistics.downloaded"
FILES = {"report": ("xlsx", "pdf"), "churn": ("csv", "xlsx"), "not_rebooked": ("csv", "xlsx"),
         "attendees": ("csv", "xlsx")}
# the churn lists' files and the side of the comparison each comes from
CHURN_SIDES = {"churn": "previous_edition", "not_rebooked": "next_edition"}


def _checked(kind: str, fmt: str) -> None:
    if kind not in FILES:
        raise InvalidInput("invalid", "file: one of " + ", ".join(FILES), field="file")
    if fmt not in FILES[kind]:
        raise InvalidInput("invalid", "format: one of " + ", ".join(FILES[kind]), field="format")


def statistics_file(session: Session, *, edition_id: int, kind: str, fmt: str, language: str,
                    now: datetime) -> Download:
    """One of the statistics' files of an edition (NotFound for an unknown edition, InvalidInput for a kind or format
    there is none of)."""
    _checked(kind, fmt)
    if kind == "attendees":
        data = load(session, edition_id=edition_id)
        table = attendee_table(attendee_rows(data), [day.day.isoformat() for day in data.days], language=language)
        year, rows = data.edition.year, len(list(table.rows()))
        content = table.render(fmt)
    else:
        report = edition_report(session, edition_id=edition_id, now=now)
        year = report["edition"]["year"]
        if kind == "report":
            content, rows = render_report(report, fmt, language=language), 0
        else:
            side = CHURN_SIDES[kind]
            table = ReportTables(report, language=language).churn(side)
            if table is None:
                raise InvalidInput(f"no_{side}", f"this edition has no {side.replace('_', ' ')} to compare with")
            content, rows = table.render(fmt), len(report[side]["churned"])
    return Download(f"{kind}-{edition_id}-{year}.{fmt}", CONTENT_TYPES[fmt], content, rows)


def log_download(session: Session, *, edition_id: int, kind: str, fmt: str, rows: int, actor: audit.Actor) -> None:
    """Write a statistics download to the audit log: who took which file of which edition, with how many rows."""
    audit.log(session, DOWNLOADED, actor=actor, data={"edition_id": edition_id, "file": kind, "format": fmt,
                                                      "rows": rows})
    session.flush()
