"""The staff users page: admins create users, change roles, deactivate and set passwords; others are kept out."""

from __future__ import annotations

import re

from sqlalchemy import select
from starlette.testclient import TestClient

from exhibit_crm.models import AuditLog, StaffUser
from exhibit_crm.security import verify_password
from tests import factories


def staff(db, username: str) -> StaffUser | None:
    return db(lambda s: s.scalars(select(StaffUser).where(StaffUser.username == username)).first())


def post(client, action: str, data: dict, *, csrf: bool = True):
    """Submit a form the way a browser does, with the CSRF token from the page that shows it."""
    token = {"csrf_token": factories.csrf_from(client.get("/admin/users").text)} if csrf else {}
    return client.post(action, data={**data, **token}, follow_redirects=False)


def form_html(html: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*id="form-{form_id}".*?</form>', html, re.S)
    assert match, f"no form {form_id}"
    return match.group(0)


def signs_in(app, username: str, password: str = factories.PASSWORD) -> bool:
    with TestClient(app) as other:
        return factories.login(other, account=username, password=password).status_code == 303


NEW_BOB = {"username": "bob", "display_name": "Bob Li", "email": "bob@example.cn", "role": "desk",
           "password": "bob's long password"}


def test_only_admins_open_the_page(client, session):
    assert client.get("/admin/users", follow_redirects=False).status_code == 303
    factories.staff_user(session, username="dora", role="desk")
    factories.login(client, account="dora")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users", data=NEW_BOB).status_code == 403


def test_the_page_lists_users_and_the_nav_links_it(admin):
    page = admin.get("/admin/users")
    assert page.status_code == 200
    assert 'data-user-id' in page.text and "alice" in page.text and '/admin/users">Users</a>' in page.text


def test_an_admin_creates_a_user_who_can_then_sign_in(admin, app, db):
    made = post(admin, "/admin/users", NEW_BOB)
    assert made.status_code == 303 and made.headers["location"] == "/admin/users?saved=1"
    bob = staff(db, "bob")
    assert (bob.display_name, bob.email, bob.role, bob.is_active) == ("Bob Li", "bob@example.cn", "desk", True)
    assert "Bob Li" in admin.get(made.headers["location"]).text
    assert signs_in(app, "bob", NEW_BOB["password"])
    created = db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action == "exhibit_crm.user.created")
                                     .order_by(AuditLog.id.desc())).first())
    assert created.object_id == bob.id and created.actor_type == "staff"


def test_a_refused_user_is_shown_again_with_the_input_kept(admin, db):
    refused = post(admin, "/admin/users", {**NEW_BOB, "password": "short"})
    assert refused.status_code == 422 and staff(db, "bob") is None
    form = form_html(refused.text, "user-new")
    assert 'value="Bob Li"' in form and "short" not in form
    assert re.search(r'name="password"[^>]*aria-invalid="true"', form) and "at least 8 characters" in form

    assert post(admin, "/admin/users", NEW_BOB).status_code == 303
    taken = post(admin, "/admin/users", NEW_BOB)
    assert taken.status_code == 409
    assert re.search(r'name="username" type="text" value="bob" aria-invalid="true"', form_html(taken.text, "user-new"))


def test_deactivating_stops_logins_and_open_sessions(admin, app, db):
    post(admin, "/admin/users", NEW_BOB)
    bob_id = staff(db, "bob").id
    with TestClient(app) as bob:
        assert factories.login(bob, account="bob", password=NEW_BOB["password"]).status_code == 303
        assert bob.get("/", follow_redirects=False).status_code == 200

        assert post(admin, f"/admin/users/{bob_id}/active", {"active": "0"}).status_code == 303
        assert not staff(db, "bob").is_active
        assert bob.get("/", follow_redirects=False).status_code == 303  # back to the login page
    assert not signs_in(app, "bob", NEW_BOB["password"])

    assert post(admin, f"/admin/users/{bob_id}/active", {"active": "1"}).status_code == 303
    assert signs_in(app, "bob", NEW_BOB["password"])


def test_role_and_password_changes(admin, app, db):
    post(admin, "/admin/users", NEW_BOB)
    bob_id = staff(db, "bob").id
    assert post(admin, f"/admin/users/{bob_id}/role", {"role": "marketing"}).status_code == 303
    assert staff(db, "bob").role == "marketing"

    short = post(admin, f"/admin/users/{bob_id}/password", {"password": "short"})
    assert short.status_code == 422 and "aria-invalid" in form_html(short.text, f"user-{bob_id}-password")
    assert post(admin, f"/admin/users/{bob_id}/password", {"password": "another long one"}).status_code == 303
    assert signs_in(app, "bob", "another long one") and not signs_in(app, "bob", NEW_BOB["password"])


def test_the_last_admin_and_oneself_are_protected_on_the_page(admin, db):
    alice_id = staff(db, "alice").id
    demoted = post(admin, f"/admin/users/{alice_id}/role", {"role": "desk"})
    assert demoted.status_code == 409
    assert "At least one active administrator must remain." in form_html(demoted.text, f"user-{alice_id}-role")
    deactivated = post(admin, f"/admin/users/{alice_id}/active", {"active": "0"})
    assert deactivated.status_code == 409
    assert "You cannot deactivate your own account." in form_html(deactivated.text, f"user-{alice_id}-active")
    alice = staff(db, "alice")
    assert alice.role == "admin" and alice.is_active


def test_without_the_csrf_token_nothing_changes(admin, db):
    post(admin, "/admin/users", NEW_BOB)
    bob_id = staff(db, "bob").id
    for action, data in [("/admin/users", {**NEW_BOB, "username": "eve"}),
                         (f"/admin/users/{bob_id}/role", {"role": "admin"}),
                         (f"/admin/users/{bob_id}/active", {"active": "0"}),
                         (f"/admin/users/{bob_id}/password", {"password": "a takeover password"})]:
        assert post(admin, action, data, csrf=False).status_code == 403
    bob = staff(db, "bob")
    assert staff(db, "eve") is None and (bob.role, bob.is_active) == ("desk", True)
    assert verify_password(bob.password_hash, NEW_BOB["password"])


def test_the_page_is_in_chinese(admin):
    admin.cookies.set("lang", "zh-CN")
    page = admin.get("/admin/users").text
    assert "员工账号" in page and "新建员工账号" in page and "管理员" in page
