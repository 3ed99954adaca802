from datetime import timedelta

import pytest

from exhibit_crm import auth
from exhibit_crm.errors import Conflict, DomainError, InvalidInput
from exhibit_crm.models import StaffUser, utcnow
from tests import factories


def test_passwords_are_stored_as_argon2_hashes(session):
    user = factories.staff_user(session)
    stored = session.get(StaffUser, user.id)
    assert stored.password_hash.startswith("$argon2")
    assert factories.PASSWORD not in stored.password_hash


def test_usernames_are_unique(session):
    factories.staff_user(session, username="bob")
    with pytest.raises(Conflict) as error:
        auth.create_staff_user(session, username="bob", password="another password", role="desk")
    assert error.value.code == "username_taken"


def test_short_passwords_are_refused(session):
    with pytest.raises(InvalidInput) as error:
        auth.create_staff_user(session, username="carol", password="short", role="desk")
    assert error.value.field == "password"


def test_wrong_password_gives_no_principal(session):
    factories.staff_user(session)
    assert auth.login(session, kind="staff", account="alice", password="wrong password") is None
    assert auth.login(session, kind="staff", account="nobody", password=factories.PASSWORD) is None
    who = auth.login(session, kind="staff", account="alice", password=factories.PASSWORD)
    assert (who.kind, who.name, who.role) == ("staff", "alice", "admin")


def test_logins_are_throttled_after_repeated_failures(session):
    factories.staff_user(session)
    now = utcnow()
    for _ in range(5):
        assert auth.login(session, kind="staff", account="alice", password="guess", now=now) is None
    with pytest.raises(DomainError) as error:
        auth.login(session, kind="staff", account="alice", password=factories.PASSWORD, now=now)
    assert error.value.code == "throttled"
    later = now + auth.THROTTLE_WINDOW + timedelta(seconds=1)
    assert auth.login(session, kind="staff", account="alice", password=factories.PASSWORD, now=later) is not None


def test_first_admin_is_created_once(session):
    username, password = auth.ensure_first_admin(session)
    session.commit()
    assert auth.login(session, kind="staff", account=username, password=password).role == "admin"
    assert auth.ensure_first_admin(session) is None


def test_api_and_device_tokens_are_stored_hashed_and_resolve(session):
    factories.staff_user(session)
    ed = factories.edition(session)
    plain, token = auth.create_api_token(session, username="alice")
    assert plain not in token.token_hash
    assert auth.principal_for_token(session, plain).name == "alice"
    from sqlmodel import select

    from exhibit_crm.models import Gate, Zone

    gate = session.exec(select(Gate).join(Zone).where(Zone.edition_id == ed.id)).first()
    device_token, device = auth.create_device(session, gate_id=gate.id, name="turnstile 1")
    assert auth.principal_for_token(session, device_token).gate_id == gate.id
    assert auth.principal_for_token(session, device_token + "x") is None


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cached_token_stops_working_once_its_time_is_up(session):
    clock = FakeClock()
    cache = auth.TokenCache(ttl=5.0, clock=clock)
    device = auth.Principal("device", 7, "Hall 1 scanner", gate_id=3)
    cache.put("ecd_secret", device)
    clock.now += 4.9
    assert cache.get("ecd_secret") == device
    clock.now += 0.1
    assert cache.get("ecd_secret") is None and len(cache) == 0


def test_the_token_cache_keeps_hashes_only_and_a_bounded_number(session):
    cache = auth.TokenCache(ttl=5.0, size=3, clock=FakeClock())
    for n in range(5):
        cache.put(f"ece_token{n}", auth.Principal("exhibitor_user", n, f"user{n}@example.cn", exhibitor_id=1))
    assert len(cache) == 3
    assert cache.get("ece_token0") is None and cache.get("ece_token1") is None
    assert cache.get("ece_token4").id == 4
    assert not any("ece_token" in key for key in cache._entries)


def test_staff_tokens_and_unknown_tokens_are_not_cached(session):
    cache = auth.TokenCache(clock=FakeClock())
    cache.put("ecs_staff", auth.Principal("staff", 1, "alice", role="admin"))
    cache.put("ecd_unknown", None)
    assert len(cache) == 0


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(session):
    factories.staff_user(session)
    now = utcnow()
    for _ in range(5):
        assert auth.login(session, kind="staff", account="alice", password="guess", ip="203.0.113.9", now=now) is None
    with pytest.raises(DomainError) as error:
        auth.login(session, kind="staff", account="alice", password=factories.PASSWORD, ip="203.0.113.9", now=now)
    assert error.value.code == "throttled"
    owner = auth.login(session, kind="staff", account="alice", password=factories.PASSWORD, ip="198.51.100.7", now=now)
    assert owner is not None


def test_one_address_is_limited_across_accounts(session):
    for i in range(10):
        factories.staff_user(session, username=f"user{i}")
    now = utcnow()
    outcomes = []
    for attempt in range(40):
        try:
            outcomes.append(auth.login(session, kind="staff", account=f"user{attempt % 10}", password="guess",
                                       ip="203.0.113.9", now=now))
        except DomainError as exc:
            outcomes.append(exc.code)
    assert outcomes == [None] * 20 + ["throttled"] * 20
    # the right password from another address still works
    assert auth.login(session, kind="staff", account="user0", password=factories.PASSWORD, ip="198.51.100.7",
                      now=now) is not None


def test_a_login_reads_before_the_password_check_and_writes_after(session):
    factories.staff_user(session)
    candidate = auth.login_candidate(session, kind="staff", account=" alice ", ip="198.51.100.7")
    assert candidate.user_id is not None and candidate.password_hash.startswith("$argon2")
    assert not session.new and not session.dirty  # the lookup wrote nothing
    assert auth.check_password(candidate, factories.PASSWORD)
    who = auth.record_login(session, candidate=candidate, ok=True)
    assert who.name == "alice"


def test_a_session_of_an_older_generation_loads_nobody(session):
    user = factories.staff_user(session)
    assert auth.load_principal(session, kind="staff", user_id=user.id, generation=0) is not None
    assert auth.end_sessions(session, kind="staff", user_id=user.id) == 1
    assert auth.load_principal(session, kind="staff", user_id=user.id, generation=0) is None
    assert auth.load_principal(session, kind="staff", user_id=user.id, generation=1).generation == 1


def test_users_of_a_cancelled_exhibitor_neither_sign_in_nor_use_tokens(session):
    from exhibit_crm.models import Exhibitor

    ed = factories.edition(session)
    user = factories.exhibitor_user(session, ed)
    token, _ = auth.create_api_token(session, exhibitor_user_email=user.email)
    assert auth.principal_for_token(session, token) is not None
    session.get(Exhibitor, user.exhibitor_id).status = "cancelled"
    session.flush()
    assert auth.principal_for_token(session, token) is None
    assert auth.load_principal(session, kind="exhibitor_user", user_id=user.id) is None
    assert auth.login(session, kind="exhibitor_user", account=user.email, password=factories.PASSWORD) is None
