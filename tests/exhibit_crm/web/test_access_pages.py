"""The admin page for API tokens and exhibitor accounts: list and revoke tokens, disable exhibitor users."""

from __future__ import annotations

from sqlalchemy import select

from exhibit_crm import auth
from exhibit_crm.models import ApiToken, AuditLog, ExhibitorUser
from tests import factories


def post(client, action: str, data: dict | None = None):
    token = factories.csrf_from(client.get("/admin/access").text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def test_only_admins_open_the_page(client, session):
    assert client.get("/admin/access", follow_redirects=False).status_code == 303
    factories.staff_user(session, username="dora", role="desk")
    factories.login(client, account="dora")
    assert client.get("/admin/access").status_code == 403


def test_admins_list_and_revoke_api_tokens(client, session, db):
    factories.staff_user(session)
    ed = factories.edition(session)
    booth = factories.exhibitor_user(session, ed)
    plain, token = auth.create_api_token(session, exhibitor_user_email=booth.email, name="booth phone")
    session.commit()
    factories.login(client)
    page = client.get("/admin/access").text
    assert "booth phone" in page and booth.email in page
    assert client.get("/api/v1/leads", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    response = post(client, f"/admin/access/tokens/{token.id}/revoke")
    assert response.status_code == 303
    assert db(lambda s: s.get(ApiToken, token.id).revoked_at) is not None
    assert db(lambda s: auth.principal_for_token(s, plain)) is None
    actions = db(lambda s: s.scalars(select(AuditLog.action).where(AuditLog.object_type == "api_token")).all())
    assert actions[-1] == "exhibit_crm.api_token.revoked"


def test_admins_disable_and_enable_exhibitor_users(client, session, db, app):
    factories.staff_user(session)
    ed = factories.edition(session)
    booth = factories.exhibitor_user(session, ed)
    factories.login(client)
    assert post(client, f"/admin/access/exhibitor-users/{booth.id}/active", {"active": "0"}).status_code == 303
    assert db(lambda s: s.get(ExhibitorUser, booth.id).is_active) is False
    from starlette.testclient import TestClient

    with TestClient(app) as phone:
        assert factories.login(phone, account=booth.email, path="/exhibitor/login").status_code == 401
    assert post(client, f"/admin/access/exhibitor-users/{booth.id}/active", {"active": "1"}).status_code == 303
    assert db(lambda s: s.get(ExhibitorUser, booth.id).is_active) is True


def test_revoking_an_unknown_token_is_not_found(client, session):
    factories.staff_user(session)
    factories.login(client)
    assert post(client, "/admin/access/tokens/999/revoke").status_code == 404
