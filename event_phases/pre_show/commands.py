"""`exhibit-crm import FILE --edition ID --kind visitors|exhibitors --source NAME`: a visitor or exhibitor list
from a CSV or XLSX file, with a dry run, and refused whole when a row is invalid (unless --valid-only)."""

from __future__ import annotations

import argparse
import sys
from contextlib import nullcontext
from pathlib import Path

from exhibit_crm import audit
from exhibit_crm.commands import engine
from exhibit_crm.console import emit, json_flag, progress
from exhibit_crm.db import read_in_session
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import IMPORT_KINDS

from .imports import committing, importing
from .imports.files import read_table

SHOWN_PROBLEMS = 20  # invalid rows printed as text; --json and the error CSV give them all


def _mapping(value: str) -> tuple[str, str]:
    column, sep, field = value.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(f"{value!r}: write COLUMN=FIELD (FIELD empty to skip the column)")
    return column.strip(), field.strip()


def _text(report: importing.Report, mapping: dict[str, str]) -> str:
    verb = "imported" if report.committed else "dry run" if not report.invalid or report.valid_only else "refused"
    lines = [f"{verb}: {report.rows} rows ({report.encoding}): {report.new} new, {report.merged} merged, "
             f"{report.duplicates} duplicates in the file, {report.invalid} invalid"
             + (f"; {report.registered} registered" if report.committed and report.kind == "visitors" else ""),
             "columns: " + ", ".join(f"{c} -> {f}" for c, f in mapping.items())]
    lines += [f"  line {p.line}, {p.column}: {p.reason}" for p in report.problems[:SHOWN_PROBLEMS]]
    if report.invalid > SHOWN_PROBLEMS:
        lines.append(f"  … and {report.invalid - SHOWN_PROBLEMS} more (--json lists them all)")
    return "\n".join(lines)


def _read(path: Path, encoding: str | None):
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput("unreadable", f"file: {path}: {exc.strerror}", field="file") from None
    return read_table(data, encoding=encoding)


def import_list(args) -> int:
    table = _read(Path(args.file), args.encoding)
    overrides = dict(args.map or [])
    mapping = read_in_session(engine(), importing.suggested_mapping, edition_id=args.edition, kind=args.kind,
                             header=table.header, overrides=overrides)
    quiet = args.json or not table.rows
    with nullcontext(lambda _n: None) if quiet else progress("importing", len(table.rows)) as advance:
        done = [0]

        def report_progress(rows_done: int) -> None:
            advance(rows_done - done[0])
            done[0] = rows_done

        options = {"edition_id": args.edition, "kind": args.kind, "table": table, "mapping": mapping,
                   "source": args.source, "valid_only": args.valid_only, "badge_type": args.badge_type,
                   "progress": report_progress}
        try:
            if args.dry_run:
                report = read_in_session(engine(), importing.run, **options)
            else:
                report = committing.commit(engine(), **options, actor=audit.CLI)
        except importing.ImportRefused as refused:
            report = refused.report
    emit(args, {**report.as_dict(), "mapping": mapping}, _text(report, mapping))
    if not report.committed and not args.dry_run:
        print(f"exhibit-crm: {report.invalid} invalid rows; nothing was imported (--valid-only imports the rest)",
              file=sys.stderr)
        return 1
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("import", help="import a visitor or exhibitor list (CSV or XLSX)",
                                   description="Import a list from CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or "
                                   "XLSX. Columns are mapped from the header (English or Chinese); --map overrides. "
                                   "A list with invalid rows is refused whole unless --valid-only is given.")
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--edition", type=int, required=True, metavar="ID", help="the edition's id")
    parser.add_argument("--kind", choices=IMPORT_KINDS, required=True)
    parser.add_argument("--source", required=True, metavar="NAME",
                        help="where the list came from; every contact it touches remembers it")
    parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    parser.add_argument("--valid-only", action="store_true", help="import the valid rows even if some are invalid")
    parser.add_argument("--map", type=_mapping, action="append", metavar="COLUMN=FIELD",
                        help="map a column to a field (repeatable); an empty FIELD skips the column")
    parser.add_argument("--encoding", help="the CSV file's encoding (detected when not given)")
    parser.add_argument("--badge-type", metavar="CODE",
                        help="badge type for visitors whose row names none (default: the edition's visitor badge "
                        "type, else trade_visitor)")
    json_flag(parser)
    parser.set_defaults(handler=import_list)
