"""The `exhibit-crm` command: subcommands gathered from the core's and every module's command modules."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from . import commands
from .errors import DomainError
from .settings import SettingsError

# Each module named here has register(subparsers); leaves add theirs the same way.
COMMAND_MODULES = (
    "exhibit_crm.commands.server",
    "exhibit_crm.commands.database",
    "exhibit_crm.commands.accounts",
    "exhibit_crm.commands.mail",
    "exhibit_crm.commands.demo",
    "badge_scanner.commands",
    "event_phases.pre_show.commands",
    "event_phases.on_site.commands",
    "event_phases.post_show.commands",
    "exporters.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exhibit-crm", description="The CRM a trade-exhibition organiser runs "
                                     "its show on. Settings come from the environment (see README).")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except SettingsError as exc:
        print(f"exhibit-crm: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        if getattr(args, "json", False):
            print(json.dumps(exc.as_dict(), ensure_ascii=False))
        print(f"exhibit-crm: {exc.message}", file=sys.stderr)
        return 1
    finally:
        commands.close()


if __name__ == "__main__":
    sys.exit(main())
