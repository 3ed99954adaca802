"""Managing staff users: roles, access and passwords, with the last admin and one's own account protected."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from exhibit_crm import accounts, audit, auth
from exhibit_crm.errors import Conflict, InvalidInput, NotFound
from exhibit_crm.models import AuditLog, StaffUser
from tests import factories


@pytest.fixture
def alice(session) -> auth.Principal:
    """The admin doing the changes, as the web layer would pass her."""
    return auth.Principal.of_staff(factories.staff_user(session, username="alice", role="admin"))


def actions(session, user_id: int) -> list[str]:
    return list(session.scalars(select(AuditLog.action).where(AuditLog.object_type == "staff_user",
                                                              AuditLog.object_id == user_id).order_by(AuditLog.id)))


def test_list_staff_is_every_user_by_username(session, alice):
    factories.staff_user(session, username="carol", role="desk")
    factories.staff_user(session, username="bob", role="marketing")
    assert [u.username for u in accounts.list_staff(session)] == ["alice", "bob", "carol"]


def test_change_role_is_audited(session, alice):
    bob = factories.staff_user(session, username="bob", role="desk")
    accounts.change_role(session, user_id=bob.id, role="marketing", actor=alice.actor)
    session.commit()
    assert session.get(StaffUser, bob.id).role == "marketing"
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "exhibit_crm.user.role_changed")).one()
    assert (entry.object_id, entry.actor_id, entry.data) == (bob.id, alice.id, {"from": "desk", "to": "marketing"})


def test_unknown_role_is_refused(session, alice):
    with pytest.raises(InvalidInput) as refused:
        accounts.change_role(session, user_id=alice.id, role="root", actor=alice.actor)
    assert (refused.value.code, refused.value.field) == ("invalid_role", "role")


def test_the_last_active_admin_can_be_neither_demoted_nor_deactivated(session, alice):
    bob = factories.staff_user(session, username="bob", role="admin")
    accounts.set_active(session, user_id=bob.id, active=False, actor=alice.actor)
    session.commit()

    with pytest.raises(Conflict) as refused:
        accounts.change_role(session, user_id=alice.id, role="desk", actor=alice.actor)
    assert (refused.value.code, refused.value.field) == ("last_admin", "role")
    with pytest.raises(Conflict) as refused:
        accounts.set_active(session, user_id=alice.id, active=False, actor=audit.CLI)
    assert refused.value.code == "last_admin"
    session.rollback()
    assert session.get(StaffUser, alice.id).role == "admin" and session.get(StaffUser, alice.id).is_active

    # with a second active admin again, alice may step down
    accounts.set_active(session, user_id=bob.id, active=True, actor=audit.CLI)
    accounts.change_role(session, user_id=alice.id, role="desk", actor=alice.actor)
    session.commit()
    assert session.get(StaffUser, alice.id).role == "desk"
    assert actions(session, bob.id) == ["exhibit_crm.user.created", "exhibit_crm.user.deactivated",
                                        "exhibit_crm.user.activated"]


def test_a_user_cannot_deactivate_themselves(session, alice):
    factories.staff_user(session, username="bob", role="admin")
    with pytest.raises(Conflict) as refused:
        accounts.set_active(session, user_id=alice.id, active=False, actor=alice.actor)
    assert refused.value.code == "self"
    session.rollback()
    assert session.get(StaffUser, alice.id).is_active


def test_demoting_a_desk_user_needs_no_other_admin(session, alice):
    carol = factories.staff_user(session, username="carol", role="desk")
    accounts.set_active(session, user_id=carol.id, active=False, actor=alice.actor)
    accounts.change_role(session, user_id=carol.id, role="marketing", actor=alice.actor)
    session.commit()
    assert session.get(StaffUser, carol.id).role == "marketing"


def test_set_password_needs_a_long_enough_password(session, alice):
    bob = factories.staff_user(session, username="bob", role="desk")
    with pytest.raises(InvalidInput) as refused:
        accounts.set_password(session, user_id=bob.id, password="short", actor=alice.actor)
    assert (refused.value.code, refused.value.field) == ("password_too_short", "password")
    session.rollback()

    accounts.set_password(session, user_id=bob.id, password="a new long password", actor=alice.actor)
    session.commit()
    assert auth.login(session, kind="staff", account="bob", password="a new long password") is not None
    assert auth.login(session, kind="staff", account="bob", password=factories.PASSWORD) is None
    entry = session.scalars(select(AuditLog).where(AuditLog.action == "exhibit_crm.user.password_set")).one()
    assert entry.object_id == bob.id and "password" not in str(entry.data)


def test_a_deactivated_user_cannot_log_in_and_their_session_ends(session, alice):
    bob = factories.staff_user(session, username="bob", role="desk")
    assert auth.login(session, kind="staff", account="bob", password=factories.PASSWORD) is not None
    assert auth.load_principal(session, kind="staff", user_id=bob.id) is not None

    accounts.set_active(session, user_id=bob.id, active=False, actor=alice.actor)
    session.commit()
    assert auth.login(session, kind="staff", account="bob", password=factories.PASSWORD) is None
    assert auth.load_principal(session, kind="staff", user_id=bob.id) is None


def test_unknown_user_is_not_found(session, alice):
    with pytest.raises(NotFound):
        accounts.set_password(session, user_id=alice.id + 100, password="long enough pw", actor=alice.actor)
