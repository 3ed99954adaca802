"""Admin pages for accounts: staff users (create them, change their role, let them in or keep them out, set passwords),
API tokens (revoke them) and exhibitor users (let them in or keep them out)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from .. import accounts, auth
from ..errors import DomainError
from ..i18n import N_
from ..i18n import gettext as _
from ..models import STAFF_ROLES
from ..security import MIN_PASSWORD_LENGTH, PasswordHash, new_password_hash, password_work
from .forms import Failure
from .guard import form_action, page, principal, read_form, read_service, run_service
from .refusals import REFUSALS, refusal_message
from .templating import NavItem, render

ROLE_LABELS = {"admin": N_("Administrator"), "marketing": N_("Marketing"), "desk": N_("Desk staff")}
NEW_USER_FIELDS = ("username", "display_name", "email", "role", "password")
_message = partial(refusal_message, page="users", count=MIN_PASSWORD_LENGTH)  # refusals as this page words them


def _failure(form_id: str, form: FormData, exc: DomainError) -> Failure:
    # a refused password is never sent back to the browser
    values = {key: value for key, value in form.items() if key not in ("csrf_token", "password")}
    field = exc.field if exc.field in NEW_USER_FIELDS else None
    return Failure(form=form_id, message=_message(exc), status=exc.status, field=field, values=values)


async def _page(request: Request, failed: Failure | None = None) -> Response:
    staff = await read_service(request, accounts.list_staff)
    roles = [(role, _(ROLE_LABELS[role])) for role in STAFF_ROLES]
    messages = [_("Saved.")] if request.query_params.get("saved") and not failed else []
    context = {"staff_users": staff, "roles": roles, "role_labels": ROLE_LABELS,
               "min_password_length": MIN_PASSWORD_LENGTH, "failed": failed, "messages": messages}
    return render(request, "admin/users.html", context, status_code=failed.status if failed else 200)


async def _post(request: Request, form_id: str, action: Callable[[FormData, auth.Principal], Awaitable[object]]):
    """Read the form (CSRF checked), run the action; on a refusal show the page again with the user's input."""
    form = await read_form(request)
    try:
        await action(form, await principal(request))
    except REFUSALS as exc:
        return await _page(request, _failure(form_id, form, exc))
    return RedirectResponse(f"{request.url_for('admin_users').path}?saved=1", status_code=303)


async def _hashed(form: FormData) -> PasswordHash:
    # hashed before the write transaction opens: argon2 must not hold SQLite's write lock
    return await password_work(new_password_hash, str(form.get("password", "")))


@page("admin")
async def users(request: Request) -> Response:
    if request.method == "GET":
        return await _page(request)

    async def create(form: FormData, who: auth.Principal) -> object:
        fields = {name: str(form.get(name, "")).strip() for name in NEW_USER_FIELDS if name != "password"}
        return await run_service(request, auth.create_staff_user, **fields, password=await _hashed(form),
                                 actor=who.actor)

    return await _post(request, "user-new", create)


def _user_change(name: str, fn: Callable[..., object], values: Callable[[FormData], Awaitable[dict]]):
    """A form that changes one staff user: `values` turns the form into the service's keyword arguments."""

    @page("admin")
    async def change(request: Request) -> Response:
        user_id = request.path_params["user_id"]

        async def save(form: FormData, who: auth.Principal) -> object:
            return await run_service(request, fn, user_id=user_id, **await values(form), actor=who.actor)

        return await _post(request, f"user-{user_id}-{name}", save)

    change.__name__ = f"user_{name}"
    return change


async def _role(form: FormData) -> dict:
    return {"role": str(form.get("role", ""))}


async def _active(form: FormData) -> dict:
    return {"active": form.get("active") == "1"}


async def _password(form: FormData) -> dict:
    return {"password": await _hashed(form)}


user_role = _user_change("role", accounts.change_role, _role)
user_active = _user_change("active", accounts.set_active, _active)
user_password = _user_change("password", accounts.set_password, _password)


@page("admin")
async def access(request: Request) -> Response:
    """API tokens and exhibitor users: who may still use the API and the portal."""
    tokens = await read_service(request, accounts.list_api_tokens)
    exhibitor_users = await read_service(request, accounts.list_exhibitor_users)
    messages = [_("Saved.")] if request.query_params.get("saved") else []
    context = {"tokens": tokens, "exhibitor_users": exhibitor_users, "messages": messages,
               "token_ttl": int(auth.TOKEN_TTL_S)}
    return render(request, "admin/access.html", context)


async def _access_change(request: Request, fn: Callable[..., object], **kwargs) -> Response:
    return await form_action(request, fn, **kwargs, then=f"{request.url_for('admin_access').path}?saved=1")


@page("admin")
async def token_revoke(request: Request) -> Response:
    return await _access_change(request, accounts.revoke_api_token, token_id=request.path_params["token_id"])


@page("admin")
async def exhibitor_user_active(request: Request) -> Response:
    return await _access_change(request, accounts.set_exhibitor_user_active, user_id=request.path_params["user_id"],
                                fields=lambda form: {"active": form.get("active") == "1"})


nav = [NavItem(N_("Users"), "admin_users", roles=("admin",), tile=N_("Staff users")),
       NavItem(N_("Access"), "admin_access", roles=("admin",), tile=N_("API tokens and exhibitor accounts"))]

routes = [
    Route("/admin/users", users, methods=["GET", "POST"], name="admin_users"),
    Route("/admin/users/{user_id:id}/role", user_role, methods=["POST"], name="admin_user_role"),
    Route("/admin/users/{user_id:id}/active", user_active, methods=["POST"], name="admin_user_active"),
    Route("/admin/users/{user_id:id}/password", user_password, methods=["POST"], name="admin_user_password"),
    Route("/admin/access", access, name="admin_access"),
    Route("/admin/access/tokens/{token_id:id}/revoke", token_revoke, methods=["POST"], name="admin_token_revoke"),
    Route("/admin/access/exhibitor-users/{user_id:id}/active", exhibitor_user_active, methods=["POST"],
          name="admin_exhibitor_user_active"),
]
