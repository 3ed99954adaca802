"""The exhibitor portal through the app: the invitation link, staff badges within the allowance, the profile, the
visitors interested in the exhibitor's categories (names only with consent), and one exhibitor never reaching
another's data."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from event_phases.pre_show import exhibitors, invitations, matchmaking, portal
from exhibit_crm import audit
from exhibit_crm.models import (
    Company,
    Contact,
    Edition,
    Exhibitor,
    ExhibitorUser,
    OutboxMessage,
    Registration,
    RegistrationQuestion,
)
from exhibit_crm.security import PasswordHash, hash_password, session_secret, verify_password
from tests import factories

from .test_exhibitors import with_categories

ACTOR = audit.Actor("staff", None, "organiser")


def exhibitor_with_user(session, edition_id: int, company: str, email: str, *, allowance: int = 2) -> dict:
    exhibitor = exhibitors.create_exhibitor(session, edition_id=edition_id, company_name=company, actor=ACTOR)
    exhibitors.change_status(session, edition_id=edition_id, exhibitor_id=exhibitor.id, status="paid", actor=ACTOR)
    exhibitors.set_allowance(session, edition_id=edition_id, exhibitor_id=exhibitor.id, allowance=allowance,
                             actor=ACTOR)
    session.add(ExhibitorUser(exhibitor_id=exhibitor.id, email=email, name="陈静",
                              password_hash=hash_password(factories.PASSWORD)))
    session.commit()
    return {"exhibitor": exhibitor.id, "email": email}


@pytest.fixture
def show(session):
    ed = factories.edition(session)
    with_categories(session, ed.id)
    acme = exhibitor_with_user(session, ed.id, "Acme Chairs", "sales@acme.example.cn")
    oak = exhibitor_with_user(session, ed.id, "Oak & Co", "hello@oak.example.cn")
    return {"edition": ed.id, "acme": acme, "oak": oak}


def sign_in(client, who: dict):
    response = factories.login(client, account=who["email"], path="/exhibitor/login")
    assert response.status_code == 303
    return client


@pytest.fixture
def acme(client, show):
    return sign_in(client, show["acme"])


def post(client, page: str, action: str, data: dict | None = None):
    token = factories.csrf_from(client.get(page).text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False)


def add_staff(client, name: str, email: str):
    return post(client, "/portal", "/portal/staff", {"full_name": name, "email": email, "title": "销售经理"})


def staff_ids(db, exhibitor_id: int, status: str = "registered") -> list[int]:
    return db(lambda s: list(s.scalars(select(Registration.id).where(
        Registration.exhibitor_id == exhibitor_id, Registration.status == status).order_by(Registration.id))))


# Who may enter.

def test_strangers_and_staff_users_go_to_the_exhibitor_login(client, session, show):
    response = client.get("/portal", follow_redirects=False)
    assert response.status_code == 303 and "/exhibitor/login" in response.headers["location"]
    factories.staff_user(session)
    factories.login(client)
    assert "/exhibitor/login" in client.get("/portal", follow_redirects=False).headers["location"]


def test_exhibitor_users_do_not_reach_the_organisers_pages(acme, show):
    response = acme.get(f"/exhibitors/{show['edition']}", follow_redirects=False)
    assert response.status_code == 303 and "/login" in response.headers["location"]
    home = acme.get("/portal")
    assert home.status_code == 200 and "Acme Chairs" in home.text and "Oak &amp; Co" not in home.text


# The invitation.

def test_the_invitation_link_sets_the_password_once_and_then_the_user_signs_in(app, admin, session, show):
    page = f"/exhibitors/{show['edition']}/{show['acme']['exhibitor']}"
    assert post(admin, page, f"{page}/users", {"email": "li.na@acme.example.cn", "name": "李娜",
                                               "language": "zh-CN"}).status_code == 303
    body = session.scalars(select(OutboxMessage.text_body)).one()
    session.rollback()
    link = re.search(r"http://testserver(/exhibitor/invitation/\S+)", body).group(1)
    with TestClient(app) as invitee:
        form = invitee.get(link)
        assert form.status_code == 200 and "li.na@acme.example.cn" in form.text
        mismatch = post(invitee, link, link, {"password": "a new password", "confirm": "another one!"})
        assert mismatch.status_code == 422
        done = post(invitee, link, link, {"password": "a new password", "confirm": "a new password"})
        assert done.status_code == 303 and done.headers["location"].startswith("/portal")
        assert "Acme Chairs" in invitee.get("/portal").text
        invitee.cookies.clear()
        assert invitee.get(link).status_code == 404
        token = factories.csrf_from(invitee.get("/exhibitor/login").text)
        again = invitee.post(link, data={"password": "taken over!", "confirm": "taken over!", "csrf_token": token},
                             follow_redirects=False)
        assert again.status_code == 404
    with TestClient(app) as fresh:
        login = factories.login(fresh, account="li.na@acme.example.cn", password="a new password",
                                path="/exhibitor/login")
        assert login.status_code == 303 and fresh.get("/portal").status_code == 200
        assert factories.login(fresh, account="li.na@acme.example.cn", password="taken over!",
                               path="/exhibitor/login").status_code == 401


def test_the_invitation_page_hashes_the_password_before_the_write(app, client, session, show, monkeypatch):
    user = ExhibitorUser(exhibitor_id=show["acme"]["exhibitor"], email="li.na@acme.example.cn", name="李娜")
    session.add(user)
    session.commit()
    settings = app.state.settings
    link = "/exhibitor/invitation/" + invitations.invitation_token(
        user, secret=session_secret(settings.data_dir, settings.secret_key))
    given = []

    def accept(session, **kwargs):
        given.append(kwargs["password"])
        return accept_invitation(session, **kwargs)

    accept_invitation = portal.accept_invitation
    monkeypatch.setattr(portal, "accept_invitation", accept)
    assert post(client, link, link, {"password": "a new password", "confirm": "a new password"}).status_code == 303
    assert len(given) == 1 and isinstance(given[0], PasswordHash) and verify_password(given[0], "a new password")


def test_a_forged_invitation_link_is_not_found(client, show):
    assert client.get("/exhibitor/invitation/not-a-token").status_code == 404


# Staff badges.

def test_staff_are_registered_up_to_the_allowance(acme, db, show):
    assert add_staff(acme, "张伟", "zhang.wei@acme.example.cn").status_code == 303
    assert add_staff(acme, "Anna Schmidt", "anna@acme.example.cn").status_code == 303
    page = acme.get("/portal").text
    assert "张伟" in page and "Anna Schmidt" in page and "2 / 2" in page
    refused = add_staff(acme, "王芳", "wang.fang@acme.example.cn")
    assert refused.status_code == 409 and "allowance is used up" in refused.text
    assert len(staff_ids(db, show["acme"]["exhibitor"])) == 2
    assert db(lambda s: s.scalar(select(func.count()).select_from(Contact).where(
        Contact.email == "wang.fang@acme.example.cn"))) == 0
    first = staff_ids(db, show["acme"]["exhibitor"])[0]
    assert post(acme, "/portal", f"/portal/staff/{first}/remove").status_code == 303
    assert add_staff(acme, "王芳", "wang.fang@acme.example.cn").status_code == 303
    assert staff_ids(db, show["acme"]["exhibitor"], "cancelled") == [first]


def test_a_removed_staff_badge_is_added_again_with_a_new_badge_within_the_allowance(acme, db, show):
    add_staff(acme, "张伟", "zhang.wei@acme.example.cn")
    add_staff(acme, "Anna Schmidt", "anna@acme.example.cn")
    first = staff_ids(db, show["acme"]["exhibitor"])[0]
    post(acme, "/portal", f"/portal/staff/{first}/remove")
    add_staff(acme, "王芳", "wang.fang@acme.example.cn")
    refused = add_staff(acme, "张伟", "zhang.wei@acme.example.cn")  # the allowance (2) is used up again
    assert refused.status_code == 409 and "allowance is used up" in refused.text
    third = [i for i in staff_ids(db, show["acme"]["exhibitor"]) if i != first]
    post(acme, "/portal", f"/portal/staff/{third[-1]}/remove")
    assert add_staff(acme, "张伟", "zhang.wei@acme.example.cn").status_code == 303
    back = db(lambda s: s.get(Registration, first))
    assert (back.status, back.badge_version, back.exhibitor_id) == ("registered", 3, show["acme"]["exhibitor"])
    assert acme.get(f"/portal/staff/{first}/badge.pdf").status_code == 200


def test_staff_get_exhibitor_staff_badges_with_the_company(acme, db, show):
    add_staff(acme, "张伟", "zhang.wei@acme.example.cn")
    (registration_id,) = staff_ids(db, show["acme"]["exhibitor"])
    badge_code, company = db(lambda s: s.execute(
        select(Registration.source, Company.name).join(Contact, Contact.id == Registration.contact_id)
        .join(Company, Company.id == Contact.company_id).where(Registration.id == registration_id)).one())
    assert (badge_code, company) == ("third_party", "Acme Chairs")
    pdf = acme.get(f"/portal/staff/{registration_id}/badge.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_staff_input_errors_are_shown_and_nothing_is_stored(acme, db, show):
    refused = post(acme, "/portal", "/portal/staff", {"full_name": "张伟", "phone": "12345"})
    assert refused.status_code == 422 and "not a valid phone number" in refused.text
    assert 'value="张伟"' in refused.text
    assert staff_ids(db, show["acme"]["exhibitor"]) == []


# The profile.

def test_the_profile_is_edited_with_categories_from_the_edition_list(acme, db, show):
    token = factories.csrf_from(acme.get("/portal/profile").text)
    data = {"csrf_token": token, "description": "Solid oak chairs.", "description_zh": "实木椅子。",
            "website": "www.acme.example.cn", "categories": ["sofas", "lamps"]}
    assert acme.post("/portal/profile", data=data, follow_redirects=False).status_code == 303
    unknown = acme.post("/portal/profile", data={**data, "description": "changed", "categories": ["boats"]})
    assert unknown.status_code == 422 and "boats" in unknown.text
    bad_site = acme.post("/portal/profile", data={**data, "description": "changed", "website": "ftp://x"})
    assert bad_site.status_code == 422
    exhibitor, website = db(lambda s: s.execute(select(Exhibitor, Company.website).join(
        Company, Company.id == Exhibitor.company_id).where(Exhibitor.id == show["acme"]["exhibitor"])).one())
    assert exhibitor.description == "Solid oak chairs." and exhibitor.description_zh == "实木椅子。"
    assert exhibitor.product_categories == ["lamps", "sofas"] and website == "https://www.acme.example.cn"


# Matched visitors.

def test_matched_visitors_show_names_only_with_consent(acme, session, show):
    ed_id = show["edition"]
    session.add(RegistrationQuestion(edition_id=ed_id, key="looking_for", label="Looking for", kind="multiple",
                                     options=[{"value": "sofa", "label": "Sofas", "category": "sofas"},
                                              {"value": "lamp", "label": "Lamps", "category": "lamps"}]))
    session.commit()
    edition = session.get(Edition, ed_id)
    people = [("刘洋", "家居买手公司", {"looking_for": ["sofa", "lamp"]}, True, "trade_visitor"),
              ("赵敏", "上海贸易公司", {"looking_for": ["sofa"]}, False, "public_visitor"),
              ("孙丽", "无关公司", {}, True, "trade_visitor"),
              ("陈静", "同行家具公司", {"looking_for": ["sofa"]}, True, "exhibitor_staff")]  # not a visitor
    for name, company, answers, share, badge in people:
        registration = factories.registration(session, edition, full_name=name, company=company, answers=answers,
                                              badge_type=badge)
        matchmaking.record_interests(session, registration=registration)
        session.get(Contact, registration.contact_id).consent_share = share
    session.commit()
    token = factories.csrf_from(acme.get("/portal/profile").text)
    acme.post("/portal/profile", data={"csrf_token": token, "categories": ["sofas", "lamps"]})
    page = acme.get("/portal/visitors").text
    listing = page.split('id="visitor-list"')[1]
    assert "刘洋" in listing and "家居买手公司" in listing
    assert "赵敏" not in page and "Name withheld" in listing and "上海贸易公司" in listing
    assert "孙丽" not in page and "陈静" not in page and "同行家具公司" not in page and "trade_visitor" in listing
    assert listing.index("刘洋") < listing.index("上海贸易公司")  # two matching categories rank first
    assert '<strong id="matched">2</strong>' in acme.get("/portal").text


# One exhibitor never reaches another's data.

def test_another_exhibitors_ids_are_not_found_and_change_nothing(client, app, db, show):
    with TestClient(app) as oak:
        sign_in(oak, show["oak"])
        add_staff(oak, "周杰", "zhou@oak.example.cn")
    (oak_staff,) = staff_ids(db, show["oak"]["exhibitor"])
    acme = sign_in(client, show["acme"])
    assert acme.get(f"/portal/staff/{oak_staff}/badge.pdf").status_code == 404
    assert post(acme, "/portal", f"/portal/staff/{oak_staff}/remove").status_code == 404
    assert staff_ids(db, show["oak"]["exhibitor"]) == [oak_staff]
    assert "周杰" not in acme.get("/portal").text


def test_the_portal_speaks_chinese(acme):
    acme.cookies.set("lang", "zh-CN")
    page = acme.get("/portal").text
    assert "工作人员证件" in page and "登记工作人员" in page and "portal.css" in page
    assert "感兴趣的观众" in acme.get("/portal/visitors").text
