"""`exhibit-crm user add`, `token create`, `device add`: accounts and credentials from the command line."""

from __future__ import annotations

import getpass
import os

from .. import auth
from ..console import emit, json_flag
from ..db import run_in_session
from ..errors import InvalidInput
from ..models import STAFF_ROLES
from ..security import new_password_hash
from . import engine


def user_add(args) -> None:
    password = os.environ.get("EXHIBIT_CRM_PASSWORD") if args.password_env else None
    if password is None:
        if args.password_env:
            raise InvalidInput("required", "EXHIBIT_CRM_PASSWORD is not set", field="EXHIBIT_CRM_PASSWORD")
        password = getpass.getpass("password: ")
    user = run_in_session(engine(), auth.create_staff_user, username=args.username,
                          password=new_password_hash(password), role=args.role, display_name=args.name or "",
                          email=args.email or "")
    emit(args, {"id": user.id, "username": user.username, "role": user.role},
         f"staff user {user.username} ({user.role}) created")


def token_create(args) -> None:
    plain, token = run_in_session(engine(), auth.create_api_token, username=args.user,
                                  exhibitor_user_email=args.exhibitor_user, name=args.name or "")
    owner = {"user": args.user} if args.user else {"exhibitor_user": args.exhibitor_user}
    emit(args, {"id": token.id, "token": plain, **owner}, plain)


def device_add(args) -> None:
    plain, device = run_in_session(engine(), auth.create_device, gate_id=args.gate, name=args.name)
    emit(args, {"id": device.id, "gate_id": device.gate_id, "name": device.name, "token": plain}, plain)


def register(subparsers) -> None:
    user = subparsers.add_parser("user", help="staff users")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="create a staff user (asks for the password)")
    add.add_argument("username")
    add.add_argument("--role", choices=STAFF_ROLES, required=True)
    add.add_argument("--name", help="display name")
    add.add_argument("--email")
    add.add_argument("--password-env", action="store_true",
                     help="read the password from EXHIBIT_CRM_PASSWORD instead of asking (for scripts)")
    json_flag(add)
    add.set_defaults(handler=user_add)

    token = subparsers.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="make a bearer token for the /api/v1 JSON API")
    owner = create.add_mutually_exclusive_group(required=True)
    owner.add_argument("--user", help="staff username")
    owner.add_argument("--exhibitor-user", metavar="EMAIL", help="exhibitor user's e-mail")
    create.add_argument("--name", help="what the token is for")
    json_flag(create)
    create.set_defaults(handler=token_create)

    device = subparsers.add_parser("device", help="gate devices")
    device_commands = device.add_subparsers(dest="device_command", required=True, metavar="ACTION")
    dev_add = device_commands.add_parser("add", help="register a gate device and print its bearer token")
    dev_add.add_argument("--gate", type=int, required=True, help="gate id")
    dev_add.add_argument("--name", default="scanner", help="device name")
    json_flag(dev_add)
    dev_add.set_defaults(handler=device_add)
