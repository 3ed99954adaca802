"""The desk's pages through the app: who may use them, search, walk-ins, the badge actions and move-in check-in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from badge_scanner import issued_badges
from badge_scanner.codes import load_signer
from exhibit_crm import audit, contacts
from exhibit_crm.errors import DomainError
from exhibit_crm.models import AuditLog, BadgeType, Company, Contact, Exhibitor, Registration, RegistrationQuestion
from tests import factories

from .test_desk import with_questions

ACTOR = audit.Actor("staff", None, "setup")


@pytest.fixture
def show(session):
    """An edition with required questions, one visitor registered online, and two exhibitors."""
    ed = with_questions(session, factories.edition(session))
    trade = session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id,
                                                    BadgeType.code == "trade_visitor")).one()
    person = contacts.ContactIn(full_name="王伟", company="上海华美家具", email="wang.wei@huamei.cn")
    contact, _ = contacts.upsert_contact(session, data=person, source="online", actor=ACTOR)
    registration, _ = contacts.register(session, contact_id=contact.id, edition_id=ed.id, badge_type_id=trade.id,
                                        source="online", answers={"role": "buyer"}, actor=ACTOR)
    for name, booth in (("宁波家居", "N1-A01"), ("Acme Chairs", "E2-12")):
        company = Company(name=name, name_key=contacts.company_key(name))
        session.add(company)
        session.flush()
        session.add(Exhibitor(edition_id=ed.id, company_id=company.id, status="paid", booth_number=booth))
    session.commit()
    return {"edition": ed.id, "registration": registration.id, "trade": trade.id}


def sign_in(client, session, role: str):
    factories.staff_user(session, username=f"{role}1", role=role)
    assert factories.login(client, account=f"{role}1").status_code == 303
    return client


@pytest.fixture
def desk(client, session, show):
    return sign_in(client, session, "desk")


def urls(show) -> dict[str, str]:
    person = f"/desk/{show['edition']}/registrations/{show['registration']}"
    return {"desk": f"/desk/{show['edition']}", "person": person, "walk_in": f"/desk/{show['edition']}/walk-in",
            "exhibitors": f"/desk/{show['edition']}/exhibitors"}


def post(client, page: str, action: str, data: dict | None = None, **kwargs):
    """Submit a form as a browser does, with the CSRF token of the page that shows it."""
    token = factories.csrf_from(client.get(page).text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False, **kwargs)


def walk_in_data(show, **values) -> dict:
    return {"full_name": "李娜", "company": "宁波家居", "phone": "139 1234 5678", "email": "",
            "badge_type_id": str(show["trade"]), "answers.interests": ["sofa", "office"], "answers.role": "buyer",
            **values}


def count(db, model) -> int:
    return db(lambda s: s.scalar(select(func.count()).select_from(model)))


def test_only_desk_and_admin_staff_open_the_desk(client, session, show):
    anonymous = client.get("/desk", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("http://testserver/login")
    sign_in(client, session, "marketing")
    for page in ("/desk", *urls(show).values()):
        assert client.get(page).status_code == 403, page
    token = factories.csrf_from(client.get("/").text)
    answer = client.post(f"{urls(show)['person']}/collect", data={"csrf_token": token})
    assert answer.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, session, "admin")
    assert client.get(urls(show)["desk"]).status_code == 200


def test_the_desk_lists_editions_and_finds_a_person(desk, show):
    assert f'href="http://testserver/desk/{show["edition"]}"' in desk.get("/desk").text
    page = desk.get(urls(show)["desk"])
    assert page.status_code == 200 and 'id="q"' in page.text and "desk.js" in page.text
    fragment = desk.get(f"{urls(show)['desk']}/search", params={"q": "王伟"})
    assert fragment.headers["x-desk-fragment"] == "hits" and fragment.headers["cache-control"] == "no-store"
    assert "<html" not in fragment.text
    assert re.search(rf'data-href="[^"]*/registrations/{show["registration"]}"', fragment.text)
    assert "上海华美家具" in fragment.text and 'data-status="registered"' in fragment.text
    # without JavaScript the form's GET shows the same rows in the full page
    full = desk.get(urls(show)["desk"], params={"q": "王伟"}).text
    assert "<html" in full and f"/registrations/{show['registration']}" in full
    nobody = desk.get(f"{urls(show)['desk']}/search", params={"q": "赵六"}).text
    assert "Nobody found" in nobody and "walk-in?q=%E8%B5%B5%E5%85%AD" in nobody


def test_a_scanned_badge_code_finds_its_person(desk, show, db, settings):
    code = db(lambda s: issued_badges.badge_data(s, registration_id=show["registration"],
                                          signer=load_signer(settings.data_dir)).code)
    fragment = desk.get(f"{urls(show)['desk']}/search", params={"q": code}).text
    assert fragment.count("data-hit ") == 1 and f"/registrations/{show['registration']}" in fragment


def test_a_known_person_without_a_registration_starts_a_walk_in(desk, show, session):
    person = contacts.ContactIn(full_name="张强", email="zhang.qiang@mumu.cn", phone="13700137000")
    contacts.upsert_contact(session, data=person, source="import:2025", actor=ACTOR)
    session.commit()
    fragment = desk.get(f"{urls(show)['desk']}/search", params={"q": "张强"}).text
    assert "Not registered for this edition" in fragment
    href = re.search(r'data-href="([^"]+)"', fragment).group(1).replace("&amp;", "&")
    assert "/walk-in?" in href
    form = desk.get(href).text
    for field, value in (("full_name", "张强"), ("email", "zhang.qiang@mumu.cn"), ("phone", "+8613700137000")):
        assert re.search(rf'name="{field}" type="\w+" value="{re.escape(value)}"', form), field


def test_a_walk_in_is_registered_and_ready_to_print(desk, show, db):
    form = desk.get(urls(show)["walk_in"], params={"q": "李娜"}).text
    assert 'name="full_name" type="text" value="李娜" autocomplete="off"' in form
    assert "Interests" in form and 'name="answers.interests" value="sofa"' in form and "Note" not in form
    answer = post(desk, urls(show)["walk_in"], urls(show)["walk_in"], walk_in_data(show))
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=walk_in")
    registration = db(lambda s: s.scalars(select(Registration).where(Registration.source == "walk_in")).one())
    assert registration.answers == {"interests": ["sofa", "office"], "role": "buyer"}
    person = desk.get(answer.headers["location"]).text
    assert "Registered. The badge is ready to print." in person and "李娜" in person
    link = re.search(r'id="print-badge" href="([^"]+)" target="_blank" rel="noopener" autofocus', person)
    assert link and link.group(1).endswith(f"/registrations/{registration.id}/badge.pdf?v=1")
    pdf = desk.get(link.group(1).replace("&amp;", "&"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == f'inline; filename="badge-{registration.id}-v1.pdf"'
    assert pdf.content.startswith(b"%PDF")
    assert db(lambda s: s.scalar(select(func.count()).where(AuditLog.action == "event_phases.on_site.badge.printed")))


def test_a_walk_in_of_a_known_person_opens_their_registration(desk, show, db):
    answer = post(desk, urls(show)["walk_in"], urls(show)["walk_in"],
                  walk_in_data(show, full_name="王伟", phone="", email="WANG.WEI@huamei.cn"))
    assert answer.headers["location"] == f"{urls(show)['person']}?done=known"
    assert (count(db, Contact), count(db, Registration)) == (1, 1)
    assert "Already registered" in desk.get(answer.headers["location"]).text


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_walk_in_errors_stand_next_to_their_fields_and_nothing_is_stored(desk, show, db, language):
    desk.cookies.set("lang", language)
    data = walk_in_data(show, phone="12345", **{"answers.interests": []})
    del data["answers.interests"]
    answer = post(desk, urls(show)["walk_in"], urls(show)["walk_in"], data)
    assert answer.status_code == 422
    page = answer.text
    expected = {"en": ("This is not a valid phone number.", "Please answer this question."),
                "zh-CN": ("电话号码无效。", "请回答此问题。")}[language]
    phone_label = re.search(r'<input name="phone".*?</label>', page, re.S).group(0)
    assert expected[0] in phone_label and 'value="12345"' in phone_label and 'autofocus' in phone_label
    interests = re.search(r"<fieldset aria-invalid=\"true\">.*?</fieldset>", page, re.S).group(0)
    assert expected[1] in interests
    assert 'value="李娜"' in page and 'value="buyer" selected' in page
    assert (count(db, Contact), count(db, Registration), count(db, Company)) == (1, 1, 3)


def test_a_reprint_needs_a_reason_and_makes_the_old_badge_outdated(desk, show, db, settings):
    signer = load_signer(settings.data_dir)
    old_code = db(lambda s: issued_badges.badge_data(s, registration_id=show["registration"], signer=signer).code)
    person, action = urls(show)["person"], f"{urls(show)['person']}/reprint"
    refused = post(desk, person, action, {"reason": "  "})
    assert refused.status_code == 422 and "Say why the badge is reprinted." in refused.text
    done = post(desk, person, action, {"reason": "Badge lost"})
    assert done.status_code == 303 and done.headers["location"] == f"{person}?done=reprinted"
    page = desk.get(done.headers["location"]).text
    assert "version 2" in page and '<dd id="badge-version">2</dd>' in page and "Badge lost" in page

    def resolve_old(s):
        with pytest.raises(DomainError) as outdated:
            issued_badges.resolve(s, code=old_code, verifier=signer.verifier)
        return outdated.value.code

    assert db(resolve_old) == "outdated_badge"
    entry = db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action == "badge_scanner.badge.reprinted")).one())
    assert (entry.actor_name, entry.data["reason"], entry.data["new_version"]) == ("desk1", "Badge lost", 2)


def test_a_reprint_from_the_script_answers_with_the_new_badge(desk, show):
    answer = post(desk, urls(show)["person"], f"{urls(show)['person']}/reprint", {"reason": "Printer fault"},
                  headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.json() == {"status": "registered", "badge_version": 2,
                             "badge_url": f"{urls(show)['person']}/badge.pdf?v=2",
                             "page_url": f"{urls(show)['person']}?done=reprinted"}
    refused = post(desk, urls(show)["person"], f"{urls(show)['person']}/reprint", {"reason": ""},
                   headers={"Accept": "application/json"})
    assert refused.status_code == 422 and refused.json()["field"] == "reason"


def test_collect_then_cancel(desk, show, db):
    person = urls(show)["person"]
    assert post(desk, person, f"{person}/collect").headers["location"] == f"{person}?done=collected"
    assert 'data-status="collected"' in desk.get(person).text
    assert post(desk, person, f"{person}/cancel", {"reason": "duplicate"}).status_code == 303
    page = desk.get(f"{person}?done=cancelled").text
    assert 'data-status="cancelled"' in page and 'id="print-badge"' not in page and "data-confirm=" not in page
    assert desk.get(f"{person}/badge.pdf").status_code == 409
    assert db(lambda s: s.get(Registration, show["registration"]).status) == "cancelled"
    assert db(lambda s: list(s.scalars(select(AuditLog.action).where(AuditLog.object_type == "registration",
                                                                        AuditLog.action.like("badge_scanner.%"))
                                       .order_by(AuditLog.id)))) == [
        "badge_scanner.badge.collected", "badge_scanner.registration.cancelled"]


def test_every_desk_form_needs_its_csrf_token(desk, show, db):
    exhibitor = db(lambda s: s.scalars(select(Exhibitor.id)).first())
    person = urls(show)["person"]
    for action, data in ((urls(show)["walk_in"], walk_in_data(show)), (f"{person}/reprint", {"reason": "lost"}),
                         (f"{person}/cancel", {}), (f"{person}/collect", {}), (f"{person}/reinstate", {}),
                         (f"{urls(show)['exhibitors']}/{exhibitor}/arrived", {})):
        answer = desk.post(action, data={**data, "csrf_token": "forged"}, follow_redirects=False)
        assert answer.status_code == 403 and 'data-code="csrf_failed"' in answer.text, action
    registration = db(lambda s: s.get(Registration, show["registration"]))
    assert (registration.badge_version, registration.status, registration.collected_at) == (1, "registered", None)
    assert count(db, Registration) == 1
    assert db(lambda s: s.scalars(select(Exhibitor.arrived_at).where(Exhibitor.id == exhibitor)).one()) is None


def test_exhibitors_check_in_and_the_missing_ones_are_counted(desk, show, db):
    board = desk.get(urls(show)["exhibitors"]).text
    assert '<span class="count" id="missing-count">2</span>' in board and "宁波家居" in board
    exhibitor = db(lambda s: s.scalars(select(Exhibitor.id).where(Exhibitor.booth_number == "N1-A01")).one())
    action = f"{urls(show)['exhibitors']}/{exhibitor}/arrived"
    for _ in range(2):
        answer = post(desk, urls(show)["exhibitors"], action, {"missing": "1"})
        assert answer.status_code == 303 and answer.headers["location"].endswith(f"?missing=1&arrived={exhibitor}")
    missing = desk.get(answer.headers["location"]).text
    assert "Checked in." in missing and '<span class="count" id="missing-count">1</span>' in missing
    assert "Acme Chairs" in missing and "宁波家居" not in missing
    assert db(lambda s: s.scalar(select(func.count()).where(
        AuditLog.action == "event_phases.on_site.exhibitor.arrived"))) == 1


def test_a_registration_of_another_edition_is_not_at_this_desk(desk, session, show):
    other = factories.edition(session, name="Other fair", year=2027)
    assert desk.get(f"/desk/{other.id}/registrations/{show['registration']}").status_code == 404
    assert desk.get(f"/desk/{other.id}/registrations/{show['registration']}/badge.pdf").status_code == 404
    assert desk.get(f"/desk/{other.id + 1}").status_code == 404


def test_the_desk_speaks_chinese(desk, show, session):
    desk.cookies.set("lang", "zh-CN")
    question = session.scalars(select(RegistrationQuestion).where(RegistrationQuestion.key == "interests")).one()
    session.commit()
    assert "查找人员" in desk.get(urls(show)["desk"]).text
    form = desk.get(urls(show)["walk_in"]).text
    assert "现场登记" in form and question.label_zh in form and "沙发" in form
    person = desk.get(urls(show)["person"]).text
    assert "打印证件" in person and "补打原因" in person and "采购" in person
    assert "尚未报到" in desk.get(urls(show)["exhibitors"]).text


@pytest.mark.parametrize(("role", "shown", "hidden"), [("desk", "/desk", "/admin/series"),
                                                        ("marketing", None, "/desk")])
def test_the_start_page_and_navigation_offer_what_the_role_may_open(client, session, show, role, shown, hidden):
    sign_in(client, session, role)
    home = client.get("/").text
    if shown:
        assert f'href="http://testserver{shown}"' in home
    assert f'href="http://testserver{hidden}"' not in home


def test_search_hits_name_the_badge_type_in_the_pages_language(desk, show, db):
    db(lambda session: setattr(session.get(BadgeType, show["trade"]), "name_zh", "专业观众"))
    hits = f"{urls(show)['desk']}/search"
    assert "Trade visitor" in desk.get(hits, params={"q": "王伟"}).text
    desk.cookies.set("lang", "zh-CN")
    chinese = desk.get(hits, params={"q": "王伟"}).text
    assert "专业观众" in chinese and "Trade visitor" not in chinese


def test_a_cancelled_registration_is_reinstated_with_a_new_badge(desk, show, db):
    person = urls(show)["person"]
    assert post(desk, person, f"{person}/reinstate").headers["location"] == f"{person}?done=reinstated"
    assert db(lambda s: s.get(Registration, show["registration"]).badge_version) == 1  # not cancelled: no change
    post(desk, person, f"{person}/cancel", {"reason": "duplicate"})
    cancelled = desk.get(person).text
    assert 'id="form-reinstate"' in cancelled and 'id="print-badge"' not in cancelled
    assert post(desk, person, f"{person}/reinstate", {"reason": "came after all"}).status_code == 303
    page = desk.get(f"{person}?done=reinstated").text
    assert 'data-status="registered"' in page and 'id="print-badge"' in page and "version 3" in page
    assert 'id="form-reinstate"' not in page and 'data-action="badge_scanner.registration.reinstated"' in page
    assert desk.get(f"{person}/badge.pdf?v=3").status_code == 200
    registration = db(lambda s: s.get(Registration, show["registration"]))
    assert (registration.status, registration.badge_version) == ("registered", 3)
