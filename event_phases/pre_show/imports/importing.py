"""Imports of visitor and exhibitor lists: a dry run that counts new, merged, duplicate and invalid rows, and a
commit that writes all of it, or nothing: here in the caller's one transaction (`run`), or in short transactions of a
chunk each (`committing.commit`, what the CLI and the import pages use, so a big list does not stall the gates).

A list with invalid rows is refused whole unless the user chose to import only the valid rows: half a list in the
CRM is worse than none, as nobody can tell which half. Every contact an import touches keeps the import's source
(contact_source), so one can later tell which list a person came from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from exhibit_crm import audit
from exhibit_crm.contacts import lists
from exhibit_crm.errors import InvalidInput, NotFound
from exhibit_crm.models import BadgeType, Edition, RegistrationQuestion, utcnow
from exporters import tables

from . import exhibitors, visitors
from .files import Table, check_mapping, suggest_mapping
from .rows import Problem, RowError, VisitorRules, printable, refuse_control
from .undo import Journal

DEFAULT_BADGE_TYPE = "trade_visitor"
MAX_PROBLEMS = 1000  # invalid rows kept in a report; the counts cover them all
Progress = Callable[[int], None]


@dataclass
class Report:
    """What an import found (dry run) or did (commit)."""
    kind: str
    encoding: str
    rows: int = 0
    new: int = 0
    merged: int = 0  # matched to a contact (visitors) or exhibitor (exhibitors) the database has
    duplicates: int = 0  # later rows of a person or company already in the file
    invalid: int = 0
    problems: list[Problem] = field(default_factory=list)
    committed: bool = False
    valid_only: bool = False
    registered: int = 0  # visitors: registrations created

    def as_dict(self) -> dict:
        return {"kind": self.kind, "encoding": self.encoding, "rows": self.rows, "new": self.new,
                "merged": self.merged, "duplicates": self.duplicates, "invalid": self.invalid,
                "committed": self.committed, "valid_only": self.valid_only, "registered": self.registered,
                "invalid_rows": [p.as_dict() for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        problems = [Problem(**p) for p in data.get("invalid_rows", [])]
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "problems"}
        return cls(**known, problems=problems)


class ImportRefused(InvalidInput):
    """The list has invalid rows and only a whole list was to be imported; nothing was written."""

    def __init__(self, report: Report):
        super().__init__("invalid_rows", f"file: {report.invalid} rows are invalid; nothing was imported "
                         "(fix them, or import only the valid rows)", field="file")
        self.report = report


def questions_of(session: Session, edition_id: int) -> list[RegistrationQuestion]:
    return list(session.scalars(select(RegistrationQuestion).where(RegistrationQuestion.edition_id == edition_id)
                                .order_by(RegistrationQuestion.position, RegistrationQuestion.id)))


def suggested_mapping(session: Session, *, edition_id: int, kind: str, header: list[str],
                      overrides: dict[str, str] | None = None) -> dict[str, str]:
    """{column: field} as the header suggests, with the user's choices over it (an empty field skips a column)."""
    _edition(session, edition_id)
    mapping = suggest_mapping(header, kind=kind, questions=questions_of(session, edition_id) if kind == "visitors"
                              else ())
    for column, field_name in (overrides or {}).items():
        if column not in header:
            raise InvalidInput("unknown_column", f"mapping: the file has no column {column!r}", field="mapping")
        mapping = {c: f for c, f in mapping.items() if c != column and (not field_name or f != field_name)}
        if field_name:
            mapping[column] = field_name
    return {column: mapping[column] for column in header if column in mapping}


def _edition(session: Session, edition_id: int) -> Edition:
    edition = session.get(Edition, edition_id)
    if edition is None:
        raise NotFound("edition", edition_id)
    return edition


def _check(table: Table, mapping: dict[str, str], check: Callable, report: Report, progress: Progress | None):
    """The valid rows checked by `check`; each invalid one is counted and its first problem kept."""
    columns = [(table.header.index(column), name) for column, name in mapping.items()]
    header_of = {name: column for column, name in mapping.items()}
    valid = []
    for count, (line, cells) in enumerate(table.rows, start=1):
        values = {name: cells[index] for index, name in columns}
        try:
            refuse_control(values)
            valid.append(check(line, values))
        except RowError as exc:
            report.invalid += 1
            if len(report.problems) < MAX_PROBLEMS:
                report.problems.append(Problem(line, header_of.get(exc.field, exc.field), exc.code, exc.reason,
                                               printable(values.get(exc.field, "")[:200])))
        if progress is not None and count % 5000 == 0:
            progress(count // 2)  # checking is about half the work
    return valid


def _badge_type_id(session: Session, edition: Edition, code: str | None) -> int:
    code = code or edition.visitor_badge_type or DEFAULT_BADGE_TYPE
    found = session.scalars(select(BadgeType.id).where(BadgeType.edition_id == edition.id,
                                                       BadgeType.code == code)).first()
    if found is None:
        raise InvalidInput("unknown_badge_type", f"badge_type: the edition has no badge type {code!r}",
                           field="badge_type")
    return found


@dataclass
class Plan:
    """A checked list, ready to be written: its people (visitors) or companies (exhibitors), in list order."""
    kind: str
    edition_id: int
    source: str
    items: list
    badge_type_id: int | None = None  # visitors whose rows name none get this badge type
    questions: list = field(default_factory=list)


def check(session: Session, *, edition_id: int, kind: str, table: Table, mapping: dict[str, str], source: str = "",
          commit: bool = False, valid_only: bool = False, badge_type: str | None = None,
          progress: Progress | None = None) -> tuple[Report, Plan]:
    """Check a list against the edition: what it holds, and what a commit would write. Only reads; refuses
    (ImportRefused) a list with invalid rows that is to be committed whole."""
    edition = _edition(session, edition_id)
    if commit and not source.strip():
        raise InvalidInput("required", "source: name the source of this list", field="source")
    questions = questions_of(session, edition_id) if kind == "visitors" else []
    mapping = check_mapping(mapping, header=table.header, kind=kind, questions=questions)
    report = Report(kind, table.encoding, rows=len(table.rows), valid_only=valid_only)
    plan = Plan(kind, edition_id, source.strip(), [], questions=questions)
    fn = _check_visitors if kind == "visitors" else _check_exhibitors
    fn(session, edition=edition, table=table, mapping=mapping, report=report, plan=plan, badge_type=badge_type,
       progress=progress)
    _refuse_invalid(report, commit=commit, valid_only=valid_only)
    return report, plan


def write(session: Session, plan: Plan, items: list, *, now: datetime, journal: Journal | None = None,
          index: bool = True) -> int:
    """Write items of a checked list (all, or a chunk); returns how many visitors it registered. With `journal`,
    what it wrote is added to it; with index=False new contacts are left for the caller to index for the desk
    (SQLite, see lists.create_contacts)."""
    if plan.kind != "visitors":
        for row in items:
            exhibitors.write_exhibitor(session, row, edition_id=plan.edition_id, now=now)
        session.flush()
        return 0
    written = lists.Written() if journal is not None else None
    lists.upsert_people(session, items, source=plan.source, now=now, written=written, index=index)
    registered = visitors.register_all(session, items, edition_id=plan.edition_id, badge_type_id=plan.badge_type_id,
                                       questions=plan.questions, now=now)
    session.flush()
    if journal is not None:
        journal.add_created("registration", registered, key="contact_id", where=(("edition_id", plan.edition_id),))
        journal.add_created("contact_source", written.sourced, key="contact_id", where=(("source", plan.source),))
        journal.add_created("contact", written.contacts)
        journal.add_created("company", written.companies)
        journal.add_changed("contact", written.changed)
    return len(registered)


def finish(session: Session, report: Report, plan: Plan, *, actor: audit.Actor) -> None:
    """Mark a report committed, with the audit entry that says so (in the transaction of the list's last write)."""
    report.committed = True
    audit.log(session, "event_phases.pre_show.import.committed", actor=actor, obj=_edition(session, plan.edition_id),
              data={"kind": plan.kind, "source": plan.source,
                    **{k: v for k, v in report.as_dict().items() if isinstance(v, int)}})


def run(session: Session, *, edition_id: int, kind: str, table: Table, mapping: dict[str, str], source: str = "",
        commit: bool = False, valid_only: bool = False, badge_type: str | None = None,
        actor: audit.Actor = audit.SYSTEM, now: datetime | None = None, progress: Progress | None = None) -> Report:
    """Check a list against the edition, and with commit=True write it in this session's transaction; a dry run
    writes nothing. (committing.commit writes a big list in chunks.)"""
    report, plan = check(session, edition_id=edition_id, kind=kind, table=table, mapping=mapping, source=source,
                         commit=commit, valid_only=valid_only, badge_type=badge_type, progress=progress)
    if commit:
        report.registered = write(session, plan, plan.items, now=now or utcnow())
        finish(session, report, plan, actor=actor)
    if progress is not None:
        progress(report.rows)
    return report


def _refuse_invalid(report: Report, *, commit: bool, valid_only: bool) -> None:
    if commit and report.invalid and not valid_only:
        raise ImportRefused(report)


def _check_visitors(session: Session, *, edition: Edition, table: Table, mapping: dict, report: Report, plan: Plan,
                    badge_type: str | None, progress: Progress | None) -> None:
    plan.badge_type_id = _badge_type_id(session, edition, badge_type)
    types = list(session.scalars(select(BadgeType).where(BadgeType.edition_id == edition.id)))
    rules = VisitorRules(badge_types=types, questions=plan.questions)
    found = plan.items = lists.people(session, _check(table, mapping, rules.check, report, progress))
    merged = [p for p in found if p.contact_id is not None]
    report.new, report.merged = len(found) - len(merged), len(merged)
    report.duplicates = sum(len(p.lines) - 1 for p in found)


def _check_exhibitors(session: Session, *, edition: Edition, table: Table, mapping: dict, report: Report,
                      plan: Plan, progress: Progress | None, **_unused) -> None:
    rules = exhibitors.ExhibitorRules(session, edition_id=edition.id)
    found = plan.items = exhibitors.merge_rows(_check(table, mapping, rules.check, report, progress))
    known = exhibitors.known_exhibitors(session, edition_id=edition.id, keys=[row.key for row in found])
    report.merged = sum(1 for row in found if row.key in known)
    report.new = len(found) - report.merged
    report.duplicates = sum(len(row.lines) - 1 for row in found)


class _Problems(tables.Table):
    """The invalid rows of a report, one a row."""

    def __init__(self, report: Report):
        self.report = report

    def columns(self) -> list[tables.Column]:
        return [tables.Column(title) for title in ("line", "column", "code", "reason", "value")]

    def rows(self):
        return ([p.line, p.column, p.code, p.reason, p.value] for p in self.report.problems)


def error_csv(report: Report) -> bytes:
    """The invalid rows as CSV in UTF-8 with BOM, so Excel opens the Chinese text; no cell starts a formula."""
    return _Problems(report).csv()
