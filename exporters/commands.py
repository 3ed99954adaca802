"""`exhibit-crm badge render` and `badges print`: one badge as PNG or PDF, and print sheets of many."""

from __future__ import annotations

from pathlib import Path

from badge_scanner import issued_badges as badge_service
from badge_scanner.codes import load_signer
from badge_scanner.commands import badge_commands
from exhibit_crm import audit
from exhibit_crm.commands import engine, settings
from exhibit_crm.console import emit, json_flag, progress
from exhibit_crm.db import read_in_session, run_in_session
from exhibit_crm.errors import InvalidInput

from .badges import badge_pdf, badge_png
from .print_sheet import page_count, print_sheet


def badge_render(args) -> None:
    badge = read_in_session(engine(), badge_service.badge_data, registration_id=args.registration_id,
                            signer=load_signer(settings().data_dir))
    data = badge_png(badge, dpi=args.dpi) if args.format == "png" else badge_pdf(badge)
    _write(args.out, data)
    _logged("exporters.badge.rendered", {"registration_id": badge.registration_id, "format": args.format,
                                         "badge_version": badge.badge_version, "file": args.out.name})
    emit(args, {"registration_id": badge.registration_id, "badge_version": badge.badge_version,
                "format": args.format, "layout": badge.layout, "path": str(args.out), "bytes": len(data)},
         f"{args.out}: badge of {badge.full_name} (registration {badge.registration_id}, version "
         f"{badge.badge_version}, {badge.layout} {args.format.upper()})")


def badges_print(args) -> None:
    found = read_in_session(engine(), badge_service.badges_for, edition_id=args.edition,
                            signer=load_signer(settings().data_dir), badge_type_id=args.badge_type,
                            registration_ids=args.registration)
    with progress("badges", len(found)) as advance:
        data = print_sheet(found, progress=advance)
    _write(args.out, data)
    _logged("exporters.badges.printed", {"edition_id": args.edition, "badges": len(found), "file": args.out.name,
                                         "registration_ids": [badge.registration_id for badge in found]})
    pages = page_count(badge.layout for badge in found)
    emit(args, {"edition_id": args.edition, "badges": len(found), "pages": pages, "path": str(args.out),
                "bytes": len(data), "registration_ids": [badge.registration_id for badge in found]},
         f"{args.out}: {len(found)} badges on {pages} A4 pages")


def _logged(action: str, data: dict) -> None:
    """Every file of personal data that leaves the system is in the audit log: who (the command line), what, when."""
    run_in_session(engine(), audit.log, action=action, actor=audit.CLI, data=data)


def _write(path: Path, data: bytes) -> None:
    # written beside and renamed into place, so a printer never picks up half a file
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise InvalidInput("unwritable", f"cannot write {path}: {exc.strerror}", field="out") from None


def register(subparsers) -> None:
    render = badge_commands(subparsers).add_parser(
        "render", help="write a registration's badge as PNG or PDF, at the edition's badge size (A6 or 4x3in)")
    render.add_argument("registration_id", type=int, metavar="REGISTRATION_ID")
    render.add_argument("--format", choices=("png", "pdf"), required=True)
    render.add_argument("--out", type=Path, required=True, metavar="FILE", help="the file to write")
    render.add_argument("--dpi", type=int, default=300, help="PNG resolution (default 300, as most badge printers)")
    json_flag(render)
    render.set_defaults(handler=badge_render)

    many = subparsers.add_parser("badges", help="badges in bulk")
    actions = many.add_subparsers(dest="badges_command", required=True, metavar="ACTION")
    sheet = actions.add_parser("print", help="a PDF of A4 pages tiling an edition's badges with cut marks, by "
                               "company, then name (active registrations only)")
    sheet.add_argument("--edition", type=int, required=True, metavar="ID", help="the edition whose badges to print")
    sheet.add_argument("--badge-type", type=int, metavar="ID", help="only this badge type")
    sheet.add_argument("--registration", type=int, nargs="+", action="extend", metavar="ID",
                       help="only these registrations (e.g. a search result)")
    sheet.add_argument("--out", type=Path, required=True, metavar="FILE", help="the PDF to write")
    json_flag(sheet)
    sheet.set_defaults(handler=badges_print)
