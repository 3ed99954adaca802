"""`exhibit-crm serve`: upgrade the schema, make sure an admin exists, run the web server."""

from __future__ import annotations

import uvicorn

from .. import auth, migrate
from ..console import stderr
from ..db import run_in_session
from . import engine


def prepare() -> tuple[str, str] | None:
    """Bring the schema to head and create the first admin on an empty database."""
    migrate.upgrade(engine())
    # hashed before the write transaction: nothing slow runs while SQLite's write lock is held
    return run_in_session(engine(), auth.ensure_first_admin, password=auth.first_admin_password())


def serve(args) -> None:
    if not args.no_upgrade:
        first_admin = prepare()
        if first_admin:
            stderr.print(f"first run: created admin user [bold]{first_admin[0]}[/] with password "
                         f"[bold]{first_admin[1]}[/] (shown once)")
    stderr.print(f"exhibit-crm on http://{args.host}:{args.port}/")
    uvicorn.run("exhibit_crm.app:serve_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=args.access_log)


def register(subparsers) -> None:
    parser = subparsers.add_parser("serve", help="run the web app and the APIs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes: one per core for gate and booth scanning (docs/gates.md)")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--access-log", action="store_true", help="log every request")
    parser.add_argument("--no-upgrade", action="store_true", help="do not upgrade the schema on start")
    parser.set_defaults(handler=serve)
