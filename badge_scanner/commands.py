"""`exhibit-crm keys export-public`, `badge show`, `badge check`: the signing key and badge codes."""

from __future__ import annotations

import argparse
import base64

from exhibit_crm.commands import engine, settings
from exhibit_crm.console import emit, json_flag
from exhibit_crm.db import read_in_session

from . import issued_badges
from .codes import load_signer


def keys_export_public(args) -> None:
    verifier = load_signer(settings().data_dir).verifier
    pem = verifier.public_key_pem()
    raw = base64.b64encode(verifier.public_key_raw()).decode("ascii")
    emit(args, {"algorithm": "Ed25519", "public_key_pem": pem, "public_key_raw_b64": raw,
                "key_id": verifier.key_id, "fingerprint_sha256": verifier.fingerprint()},
         f"{pem.rstrip()}\nraw (base64): {raw}\nkey id: {verifier.key_id}")


def badge_show(args) -> None:
    badge = read_in_session(engine(), issued_badges.badge_data, registration_id=args.registration_id,
                            signer=load_signer(settings().data_dir))
    emit(args, {"registration_id": badge.registration_id, "badge_version": badge.badge_version, "code": badge.code,
                "status": badge.status, "full_name": badge.full_name},
         f"{badge.code}\n{badge.full_name} · registration {badge.registration_id} · badge version "
         f"{badge.badge_version} · {badge.status}")


def badge_check(args) -> None:
    registration = read_in_session(engine(), issued_badges.resolve, code=args.code,
                                   verifier=load_signer(settings().data_dir).verifier)
    emit(args, {"registration_id": registration.id, "badge_version": registration.badge_version, "valid": True},
         f"valid: registration {registration.id}, badge version {registration.badge_version}")


def badge_commands(subparsers) -> argparse._SubParsersAction:
    """The `badge` command's actions, made once, so that other modules can add theirs (`badge render`)."""
    parser = subparsers.choices.get("badge")
    if parser is None:
        parser = subparsers.add_parser("badge", help="badges: codes and rendering")
        parser.add_subparsers(dest="badge_command", required=True, metavar="ACTION")
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def register(subparsers) -> None:
    keys = subparsers.add_parser("keys", help="the badge signing key")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    export = key_commands.add_parser("export-public", help="print the public key that gate devices verify badges "
                                     "with (creates the key pair on first use)")
    json_flag(export)
    export.set_defaults(handler=keys_export_public)

    actions = badge_commands(subparsers)
    show = actions.add_parser("show", help="print a registration's current badge code")
    show.add_argument("registration_id", type=int, metavar="REGISTRATION_ID")
    json_flag(show)
    show.set_defaults(handler=badge_show)
    check = actions.add_parser("check", help="verify a badge code and say whether it is the current badge")
    check.add_argument("code", metavar="CODE")
    json_flag(check)
    check.set_defaults(handler=badge_check)
