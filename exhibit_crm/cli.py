"""The `exhibit-crm` command: subcommands gathered from the core's and every module's command modules."""

from __future__ import annotations

import argparse
import json
import sys

from . import assembly, commands
from .errors import DomainError
from .settings import SettingsError

# Each module named here has register(subparsers); leaves add theirs the same way. A listed module that is missing
# stops start-up; apart from these lists and the app's (exhibit_crm/app.py) the core never names a leaf.
COMMAND_MODULES = (
    "exhibit_crm.commands.server",
    "exhibit_crm.commands.database",
    "exhibit_crm.commands.accounts",
    "exhibit_crm.commands.mail",
    "exhibit_crm.commands.demo",
    "exhibit_crm.commands.editions",
    "badge_scanner.commands",
    "event_phases.pre_show.commands",
    "event_phases.post_show.commands",
    "exporters.commands",
)
# Each module named here registers outbox renderers when imported (outbox.register_renderer): the mail sender
# makes their attachments' files.
RENDERER_MODULES = ("exporters.badges",)


def load_renderers() -> None:
    """Import the modules that register outbox renderers."""
    assembly.load(RENDERER_MODULES, listed_in="exhibit_crm.cli.RENDERER_MODULES")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exhibit-crm", description="The CRM a trade-exhibition organiser runs "
                                     "its show on. Settings come from the environment (see README).")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in assembly.load(COMMAND_MODULES, listed_in="exhibit_crm.cli.COMMAND_MODULES", exposes="register"):
        module.register(subparsers)
    load_renderers()
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
    except assembly.AssemblyError as exc:
        print(f"exhibit-crm: {exc}", file=sys.stderr)
        return 2
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
