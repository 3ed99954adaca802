"""`exhibit-crm leads report`: the post-show lead report mail to every exhibitor that collected leads."""

from __future__ import annotations

from exhibit_crm.commands import engine, settings
from exhibit_crm.console import emit, json_flag, progress
from exhibit_crm.db import read_in_session, run_in_session

from .lead_report import exhibitors_to_report, send_lead_reports


def leads_report(args) -> None:
    total = len(read_in_session(engine(), exhibitors_to_report, edition_id=args.edition))
    with progress("lead reports", total) as advance:
        # one transaction: the mails and their audit entries are queued together or not at all
        run = run_in_session(engine(), send_lead_reports, edition_id=args.edition,
                             base_url=settings().base_url, advance=advance)
    report = run.as_dict()
    emit(args, report, f"edition {args.edition}: lead reports queued for {report['exhibitors_mailed']} exhibitors "
         f"({report['mails']} mails), {len(run.skipped)} skipped (sent before or no active user)")


def register(subparsers) -> None:
    leads = subparsers.add_parser("leads", help="exhibitors' leads after the show")
    actions = leads.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    report = actions.add_parser("report", help="queue the lead report mail (figures and the download link) to each "
                                "exhibitor with leads; exhibitors that had it are skipped")
    report.add_argument("--edition", type=int, required=True, metavar="ID", help="the edition whose exhibitors to mail")
    json_flag(report)
    report.set_defaults(handler=leads_report)
