"""Post-show commands: `exhibit-crm report` (the edition report as JSON, XLSX or PDF), `exhibit-crm leads report`
(the lead report mail to every exhibitor that collected leads) and `exhibit-crm targets show|set` (an edition's
targets for the statistics)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from exhibit_crm import audit
from exhibit_crm.commands import engine, settings
from exhibit_crm.console import emit, json_flag, progress
from exhibit_crm.db import read_in_session, run_in_session
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import TARGET_KEYS
from exhibit_crm.settings import LANGUAGES
from exporters.report import render_report

from . import targets
from .lead_report import exhibitors_to_report, send_lead_reports
from .statistics.report import edition_report

REPORT_FORMATS = ("json", "xlsx", "pdf")


def leads_report(args) -> None:
    total = len(read_in_session(engine(), exhibitors_to_report, edition_id=args.edition))
    with progress("lead reports", total) as advance:
        # one transaction: the mails and their audit entries are queued together or not at all
        run = run_in_session(engine(), send_lead_reports, edition_id=args.edition,
                             base_url=settings().base_url, advance=advance)
    report = run.as_dict()
    emit(args, report, f"edition {args.edition}: lead reports queued for {report['exhibitors_mailed']} exhibitors "
         f"({report['mails']} mails), {len(run.skipped)} skipped (sent before or no active user)")


def edition_report_command(args) -> None:
    if args.format != "json" and not args.out:
        raise InvalidInput("invalid", f"--out: where to write the {args.format} file", field="out")
    data = read_in_session(engine(), edition_report, edition_id=args.edition_id, now=datetime.now(UTC))
    if args.format == "json":
        args.json = True  # the JSON format is the --json output
        emit(args, data)
        return
    out = Path(args.out)
    out.write_bytes(render_report(data, args.format, language=args.language))
    emit(args, {"edition_id": args.edition_id, "format": args.format, "out": str(out), "bytes": out.stat().st_size},
         f"edition {args.edition_id}: the report written to {out}")


def _emit_targets(args, values: dict) -> None:
    lines = [f"{key}: {'not set' if values[key] is None else values[key]}" for key in TARGET_KEYS]
    emit(args, {"edition_id": args.edition_id, "targets": values},
         f"edition {args.edition_id} targets\n" + "\n".join(lines))


def targets_show(args) -> None:
    _emit_targets(args, read_in_session(engine(), targets.targets, edition_id=args.edition_id))


def targets_set(args) -> None:
    data = {key: getattr(args, key) for key in TARGET_KEYS if getattr(args, key) is not None}
    data.update({key: None for key in args.clear or ()})
    _emit_targets(args, run_in_session(engine(), targets.set_targets, edition_id=args.edition_id, data=data,
                                       actor=audit.CLI))


# the options of `targets set`: target key, type, metavar, help
TARGET_OPTIONS = (
    ("visitors", int, "N", "unique visitors (trade and public)"),
    ("trade_visitors", int, "N", "unique trade visitors"),
    ("exhibitors", int, "N", "exhibitors"),
    ("net_sqm", float, "X", "net square metres of booth space sold"),
    ("rebooking_rate", float, "R", "share of the previous edition's exhibitors that book this one, 0 to 1 (0.65)"),
)


def register_targets(subparsers) -> None:
    group = subparsers.add_parser("targets", help="an edition's targets for the post-show statistics")
    actions = group.add_subparsers(dest="targets_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the edition's targets (a target not set is null)")
    change = actions.add_parser("set", help="set the targets given; the others stay as they are")
    for parser in (show, change):
        parser.add_argument("edition_id", type=int, metavar="EDITION_ID", help="the edition")
        json_flag(parser)
    for key, kind, metavar, text in TARGET_OPTIONS:
        change.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, metavar=metavar, help=text)
    change.add_argument("--clear", action="append", choices=TARGET_KEYS, metavar="TARGET",
                        help="unset a target (repeatable): " + ", ".join(TARGET_KEYS))
    show.set_defaults(handler=targets_show)
    change.set_defaults(handler=targets_set)


def register(subparsers) -> None:
    statistics = subparsers.add_parser("report", help="the edition report: every figure, the comparison with the "
                                       "previous edition and its churn list, targets")
    statistics.add_argument("edition_id", type=int, metavar="EDITION_ID")
    statistics.add_argument("--format", choices=REPORT_FORMATS, default="json",
                            help="json on stdout (the default), or a file: xlsx (one sheet a table) or pdf (A4)")
    statistics.add_argument("--out", metavar="FILE", help="where to write the xlsx or pdf file")
    statistics.add_argument("--language", choices=LANGUAGES, default="zh-CN", help="the file's language")
    json_flag(statistics)
    statistics.set_defaults(handler=edition_report_command)

    leads = subparsers.add_parser("leads", help="exhibitors' leads after the show")
    actions = leads.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    report = actions.add_parser("report", help="queue the lead report mail (figures and the download link) to each "
                                "exhibitor with leads; exhibitors that had it are skipped")
    report.add_argument("--edition", type=int, required=True, metavar="ID", help="the edition whose exhibitors to mail")
    json_flag(report)
    report.set_defaults(handler=leads_report)
    register_targets(subparsers)
