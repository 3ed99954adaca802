"""The public registration pages through the app: one page per language, CSRF for anonymous visitors, errors next
to their fields with nothing stored, the e-badge page at a signed address with its QR, cancelling, and the
organiser's settings page."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from badge_scanner.codes import load_signer
from exhibit_crm.models import Contact, Edition, OutboxMessage, Registration
from tests import factories

from .registration.support import add_questions

FILLED = {"full_name": "王伟", "company": "上海华美家具", "title": "采购经理", "phone": "138 0013 8000",
          "email": "wang.wei@huamei.cn", "country": "CN", "province": "上海", "city": "上海",
          "answers.visitor": "buyer", "answers.interests": ["sofa", "office"], "answers.purpose": "采购沙发",
          "consent_share": "yes"}


@pytest.fixture
def show(session) -> int:
    return add_questions(session, factories.edition(session)).id


def count(db, model) -> int:
    return db(lambda s: s.scalar(select(func.count()).select_from(model)))


def submit(client, show: int, data: dict, *, language: str = "zh-CN"):
    page = f"/register/{show}/{language}"
    token = factories.csrf_from(client.get(page).text)
    return client.post(page, data={**data, "csrf_token": token}, follow_redirects=False)


@pytest.mark.parametrize(("accept", "language"), [("zh-CN,zh;q=0.9", "zh-CN"), ("en-GB,en;q=0.8", "en")])
def test_the_form_address_leads_to_the_page_in_the_browsers_language(client, show, accept, language):
    response = client.get(f"/register/{show}", headers={"Accept-Language": accept}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/register/{show}/{language}"


def test_each_language_has_its_own_page_with_every_kind_of_question(client, show):
    zh = client.get(f"/register/{show}/zh-CN", headers={"Accept-Language": "en"})
    assert zh.status_code == 200 and '<html lang="zh-CN">' in zh.text
    assert "观众登记" in zh.text and "您是" in zh.text and "沙发" in zh.text and "参观目的" in zh.text
    assert 'type="radio" name="answers.visitor"' in zh.text
    assert 'type="checkbox" name="answers.interests"' in zh.text
    assert 'name="answers.purpose"' in zh.text
    assert re.search(r'name="consent_marketing" value="yes">', zh.text)  # shown, not ticked
    en = client.get(f"/register/{show}/en", headers={"Accept-Language": "zh-CN"})
    assert "Visitor registration" in en.text and "Purpose of visit" in en.text
    assert client.get(f"/register/{show}/fr").status_code == 404
    assert client.get("/register/999/en").status_code == 404


def test_a_form_without_its_csrf_token_is_refused(client, db, show):
    client.get(f"/register/{show}/zh-CN")
    response = client.post(f"/register/{show}/zh-CN", data=FILLED, follow_redirects=False)
    assert response.status_code == 403 and count(db, Contact) == 0


def test_mistakes_are_shown_next_to_their_fields_in_the_pages_language_and_nothing_is_stored(client, db, show):
    response = submit(client, show, {**FILLED, "email": "wang.wei@", "answers.visitor": "", "phone": "12"})
    assert response.status_code == 422
    assert re.search(r'id="error-email">电子邮箱格式不正确。', response.text)
    assert re.search(r'id="error-phone">电话号码无效。', response.text)
    assert re.search(r'id="error-answers-visitor">请回答此问题。', response.text)
    assert 'value="上海华美家具"' in response.text and re.search(r'value="office" checked', response.text)
    assert (count(db, Contact), count(db, Registration), count(db, OutboxMessage)) == (0, 0, 0)
    english = submit(client, show, {**FILLED, "full_name": ""}, language="en")
    assert re.search(r'id="error-full_name">This field is required.', english.text)


def test_a_registration_leads_to_its_ebadge_page_with_the_qr_and_the_recommended_exhibitors(client, db, settings,
                                                                                           show):
    response = submit(client, show, FILLED)
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/e-badge/[\w.-]+\?new=1", location)
    registration = db(lambda s: s.scalars(select(Registration)).one())
    assert f"/{registration.id}" not in location.split("?")[0]
    page = client.get(location)
    assert page.status_code == 200 and "谢谢，您已登记成功" in page.text
    assert "王伟" in page.text and "宁波家居" in page.text and "N1-A01" in page.text
    assert page.headers["cache-control"] == "no-store"
    qr_path = re.search(r'src="(?:http://testserver)?(/e-badge/[^"]+/qr\.png)', page.text).group(1)
    png = client.get(qr_path)
    assert png.headers["content-type"] == "image/png"
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)), text_mode=zxingcpp.TextMode.Plain)
    assert [code.text for code in found] == [load_signer(settings.data_dir).sign(registration.id, 1)]
    contact = db(lambda s: s.get(Contact, registration.contact_id))
    assert contact.consent_share and not contact.consent_marketing and contact.language == "zh-CN"


def test_registering_again_shows_no_badge_and_sends_it_to_the_address_on_file(client, db, show):
    submit(client, show, FILLED)
    again = submit(client, show, {**FILLED, "email": "someone.else@example.cn"})
    assert again.status_code == 303 and again.headers["location"] == f"/register/{show}/zh-CN/known"
    assert "已经登记" in client.get(again.headers["location"]).text
    assert (count(db, Contact), count(db, Registration)) == (1, 1)


def test_only_the_signed_address_opens_an_ebadge(client, db, show):
    submit(client, show, FILLED)
    registration_id = db(lambda s: s.scalars(select(Registration.id)).one())
    assert client.get(f"/e-badge/{registration_id}").status_code == 404
    assert client.get(f"/e-badge/{registration_id}/qr.png").status_code == 404


def test_cancelling_from_the_ebadge_page_revokes_the_badge_and_registering_again_reinstates(client, db, show):
    location = submit(client, show, FILLED).headers["location"].split("?")[0]
    page = client.get(location)
    response = client.post(f"{location}/cancel", data={"csrf_token": factories.csrf_from(page.text)},
                           follow_redirects=False)
    assert response.status_code == 303
    registration = db(lambda s: s.scalars(select(Registration)).one())
    assert registration.status == "cancelled" and registration.badge_version == 2
    assert 'data-status="cancelled"' in client.get(location).text
    assert client.get(f"{location}/qr.png").status_code == 409
    assert count(db, OutboxMessage) == 2
    again = submit(client, show, FILLED)  # registering again reinstates it with a new badge
    assert again.status_code == 303
    registration = db(lambda s: s.scalars(select(Registration)).one())
    assert (registration.status, registration.badge_version) == ("registered", 3)
    assert client.get(f"{location}/qr.png").status_code == 200 and count(db, OutboxMessage) == 3


def test_a_closed_form_says_so_and_refuses_submissions(client, db, session, show):
    token = factories.csrf_from(client.get(f"/register/{show}/en").text)  # opened before the form closed
    edition = session.get(Edition, show)
    edition.registration_open = False
    session.add(edition)
    session.commit()
    assert 'data-code="registration_closed"' in client.get(f"/register/{show}/en").text
    response = client.post(f"/register/{show}/en", data={**FILLED, "csrf_token": token})
    assert response.status_code == 409 and count(db, Contact) == 0


def test_the_settings_page_is_for_admins(client, session, show):
    assert client.get(f"/admin/registration/{show}", follow_redirects=False).status_code == 303
    factories.staff_user(session, username="desk1", role="desk")
    factories.login(client, account="desk1")
    assert client.get(f"/admin/registration/{show}").status_code == 403


def test_an_admin_closes_the_form_and_sets_the_default_badge_type(admin, db, show):
    assert f"/admin/registration/{show}" in admin.get("/admin/registration").text
    page = admin.get(f"/admin/registration/{show}")
    assert f"http://testserver/register/{show}" in page.text
    response = admin.post(f"/admin/registration/{show}", data={
        "csrf_token": factories.csrf_from(page.text), "visitor_badge_type": "public_visitor"}, follow_redirects=False)
    assert response.status_code == 303
    edition = db(lambda s: s.get(Edition, show))
    assert not edition.registration_open and edition.visitor_badge_type == "public_visitor"
    bad = admin.post(f"/admin/registration/{show}", data={
        "csrf_token": factories.csrf_from(page.text), "registration_open": "yes", "visitor_badge_type": "pirate"})
    assert bad.status_code == 422 and not db(lambda s: s.get(Edition, show)).registration_open
