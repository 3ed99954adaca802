"""`exhibit-crm edition copy`: a new edition with a previous one's set-up."""

from __future__ import annotations

import argparse
from datetime import date

from .. import edition_copy
from ..console import emit, json_flag
from ..db import run_in_session
from . import engine


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2027-03-09") from None


def copy(args) -> None:
    done = run_in_session(engine(), edition_copy.copy_edition, edition_id=args.edition_id, year=args.year,
                          start=args.start, name=args.name)
    result = done.as_dict()
    counts = ", ".join(f"{n} {part.replace('_', ' ')}" for part, n in result["copied"].items())
    emit(args, result, f"edition {result['id']} ({result['name']}) created with {counts}")


def register(subparsers) -> None:
    edition = subparsers.add_parser("edition", help="editions of a show")
    commands = edition.add_subparsers(dest="edition_command", required=True, metavar="ACTION")
    parser = commands.add_parser("copy", help="a new edition with a previous one's days (moved), zones, gates, "
                                 "badge types and their access, questions, categories and settings")
    parser.add_argument("edition_id", type=int, help="the edition to copy")
    parser.add_argument("--year", type=int, required=True, help="the new edition's year")
    parser.add_argument("--start", type=_day, help="its first day (default: the same weekday about a year on)")
    parser.add_argument("--name", help="its name (default: the source's with the year changed)")
    json_flag(parser)
    parser.set_defaults(handler=copy)
