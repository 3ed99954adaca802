"""`exhibit-crm demo`: build the demo show into DATABASE_URL, print the logins, and serve it."""

from __future__ import annotations

import argparse

from .. import demo, migrate
from ..console import emit, json_flag, progress
from ..db import run_in_session
from . import engine
from .server import serve


def run(args) -> None:
    migrate.upgrade(engine())
    with progress("building the demo", total=len(demo.data.STEPS)) as advance:
        result = run_in_session(engine(), demo.build_demo, seed=args.seed, visitors=args.visitors,
                                exhibitors=args.exhibitors, progress=lambda _step: advance())
    url = f"http://{args.host}:{args.port}/"
    emit(args, {"url": url, **result.as_dict()}, _text(result, url))
    if not args.no_serve:
        serve(argparse.Namespace(host=args.host, port=args.port, workers=1, log_level="warning", access_log=False,
                                 no_upgrade=True))


def _text(result: demo.DemoResult, url: str) -> str:
    counts = result.counts
    current = max(result.editions, key=lambda edition: edition.year)
    lines = [
        f"Demo built: Shanghai International Furniture Fair 2025 ({counts['visitors_2025']:,} visitor and press "
        f"registrations, {counts['exhibitors_2025']} exhibitors, {counts['scans_2025']:,} gate scans, "
        f"{counts['leads_2025']:,} leads) "
        f"and 2026 ({counts['registrations_2026']:,} pre-registrations, {counts['returning_2026']:,} of them "
        f"returning; {counts['exhibitors_2026']} exhibitors).",
        "",
        f"Staff log in at {url.rstrip('/')}/login",
        *(f"  {login['role']:<10} user {login['username']:<10} password {login['password']}"
          for login in result.staff_logins),
        "",
        f"Exhibitor users log in at {url.rstrip('/')}/exhibitor/login",
        *(f"  {login['edition_year']}  {login['email']:<40} password {login['password']}  ({login['company']})"
          for login in result.exhibitor_logins),
        "",
        f"Visitors register for 2026 at {url}register/{current.id}",
        "Gate pages of 2026 (open one on a phone or a PC with a scanner; the show opens on 8 December):",
        *(f"  {device['gate']:<22} {url}gate#token={device['token']}" for device in result.gate_devices),
    ]
    return "\n".join(lines)


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="build a realistic demo show into DATABASE_URL and serve it",
                                   description="Builds one series with a past edition (2025, with its show) and the "
                                   "current one (2026, before the show) into the empty database in DATABASE_URL, "
                                   "prints the logins for each role, then serves the app.")
    parser.add_argument("--no-serve", action="store_true", help="build, print the logins and ids, and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=2026, help="the same seed builds the same data (default 2026)")
    parser.add_argument("--visitors", type=int, default=5000,
                        help="visitor and press registrations of the 2025 edition (default 5000)")
    parser.add_argument("--exhibitors", type=int, default=200, help="exhibitors of the 2025 edition (default 200)")
    json_flag(parser)
    parser.set_defaults(handler=run)
