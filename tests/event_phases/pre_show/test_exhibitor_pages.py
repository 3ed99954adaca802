"""The organiser's exhibitor pages through the app: who may use them, booking, status, booth, categories,
allowance and invitations, with refusals shown on the page and nothing stored."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from exhibit_crm.models import Company, Exhibitor, ExhibitorStatusChange, ExhibitorUser, OutboxMessage
from tests import factories

from .test_exhibitors import with_categories


@pytest.fixture
def ed(session):
    edition = factories.edition(session)
    with_categories(session, edition.id)
    return edition


def post(client, page: str, action: str, data: dict | None = None, **kwargs):
    """Submit a form as a browser does, with the CSRF token of the page that shows it."""
    token = factories.csrf_from(client.get(page).text)
    return client.post(action, data={**(data or {}), "csrf_token": token}, follow_redirects=False, **kwargs)


def create(client, ed, name: str) -> int:
    new = f"/exhibitors/{ed if isinstance(ed, int) else ed.id}/new"
    response = post(client, new, new, {"company_name": name})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("/")[-1].split("?")[0])


def test_only_admin_and_marketing_reach_the_pages(client, session, ed):
    assert client.get(f"/exhibitors/{ed.id}", follow_redirects=False).status_code == 303
    factories.staff_user(session, username="desk1", role="desk")
    factories.login(client, account="desk1")
    assert client.get(f"/exhibitors/{ed.id}").status_code == 403
    factories.staff_user(session, username="mkt", role="marketing")
    factories.login(client, account="mkt")
    assert client.get(f"/exhibitors/{ed.id}").status_code == 200
    assert f'/exhibitors/{ed.id}" data-edition-id="{ed.id}"' in client.get("/exhibitors").text


def test_create_list_and_filter(admin, session, ed):
    first = create(admin, ed, "Acme Chairs")
    create(admin, ed, "宁波家居")
    page = admin.get(f"/exhibitors/{ed.id}/{first}")
    assert page.status_code == 200 and "Acme Chairs" in page.text
    listing = admin.get(f"/exhibitors/{ed.id}")
    assert "Acme Chairs" in listing.text and "宁波家居" in listing.text
    exhibitor_page = f"/exhibitors/{ed.id}/{first}"
    assert post(admin, exhibitor_page, f"{exhibitor_page}/status", {"status": "paid"}).status_code == 303
    paid = admin.get(f"/exhibitors/{ed.id}?status=paid").text
    assert "Acme Chairs" in paid and "宁波家居" not in paid


def test_an_existing_company_is_picked_by_id(admin, session, ed):
    company = Company(name="Oak & Co", name_key="oak&co")
    session.add(company)
    session.commit()
    search = admin.get(f"/exhibitors/{ed.id}/new?q=oak")
    assert "Oak &amp; Co" in search.text and f'name="company_id" value="{company.id}"' in search.text
    new = f"/exhibitors/{ed.id}/new"
    assert post(admin, new, new, {"company_id": str(company.id)}).status_code == 303
    again = post(admin, new, new, {"company_id": str(company.id)})
    assert again.status_code == 409 and "exhibits in this edition already" in again.text
    assert session.scalar(select(func.count()).select_from(Exhibitor)) == 1


def test_status_history_shows_each_change(admin, session, ed):
    exhibitor_id = create(admin, ed, "Acme Chairs")
    page = f"/exhibitors/{ed.id}/{exhibitor_id}"
    post(admin, page, f"{page}/status", {"status": "contracted"})
    post(admin, page, f"{page}/status", {"status": "paid"})
    back = post(admin, page, f"{page}/status", {"status": "prospect"})
    assert back.status_code == 409 and "not allowed" in back.text
    statuses = session.scalars(select(ExhibitorStatusChange.status).order_by(ExhibitorStatusChange.id)).all()
    assert statuses == ["prospect", "contracted", "paid"]
    history = admin.get(page).text.split('id="history"')[1].split("</table>")[0]
    assert history.count("<tr>") == 4  # heading and three changes


def test_a_taken_booth_is_refused_on_the_page(admin, session, ed):
    first = create(admin, ed, "Acme Chairs")
    second = create(admin, ed, "宁波家居")
    page1, page2 = f"/exhibitors/{ed.id}/{first}", f"/exhibitors/{ed.id}/{second}"
    booth = {"booth_hall": "N1", "booth_number": "A01", "booth_sqm": "36"}
    assert post(admin, page1, f"{page1}/booth", booth).status_code == 303
    refused = post(admin, page2, f"{page2}/booth", booth)
    assert refused.status_code == 409 and "Acme Chairs" in refused.text and "N1 A01" in refused.text
    assert session.get(Exhibitor, second).booth_number is None
    bad_size = post(admin, page2, f"{page2}/booth", {**booth, "booth_number": "A02", "booth_sqm": "big"})
    assert bad_size.status_code == 422
    session.expire_all()
    assert session.get(Exhibitor, second).booth_number is None


def test_categories_and_allowance(admin, session, ed):
    exhibitor_id = create(admin, ed, "Acme Chairs")
    page = f"/exhibitors/{ed.id}/{exhibitor_id}"
    token = factories.csrf_from(admin.get(page).text)
    saved = admin.post(f"{page}/categories", data={"csrf_token": token, "categories": ["sofas", "beds"]},
                       follow_redirects=False)
    assert saved.status_code == 303
    unknown = admin.post(f"{page}/categories", data={"csrf_token": token, "categories": ["sofas", "boats"]})
    assert unknown.status_code == 422 and "boats" in unknown.text
    assert post(admin, page, f"{page}/allowance", {"staff_allowance": "8"}).status_code == 303
    assert post(admin, page, f"{page}/allowance", {"staff_allowance": "-2"}).status_code == 422
    session.expire_all()
    exhibitor = session.get(Exhibitor, exhibitor_id)
    assert exhibitor.product_categories == ["beds", "sofas"] and exhibitor.staff_allowance == 8


def test_invite_and_resend(admin, session, ed):
    edition_id = ed.id
    exhibitor_id = create(admin, edition_id, "Acme Chairs")
    page = f"/exhibitors/{edition_id}/{exhibitor_id}"
    response = post(admin, page, f"{page}/users", {"email": "li.na@acme.example.cn", "name": "李娜",
                                                   "language": "en"})
    assert response.status_code == 303
    user_id = session.scalars(select(ExhibitorUser.id)).one()
    session.rollback()  # the test's own read must not hold SQLite's write lock while the app writes
    assert "Invitation pending" in admin.get(page).text
    assert post(admin, page, f"{page}/users/{user_id}/resend").status_code == 303
    mails = session.scalars(select(OutboxMessage)).all()
    assert len(mails) == 2 and all("http://testserver/exhibitor/invitation/" in m.text_body for m in mails)
    session.rollback()
    other = create(admin, edition_id, "宁波家居")
    other_page = f"/exhibitors/{edition_id}/{other}"
    taken = post(admin, other_page, f"{other_page}/users", {"email": "LI.NA@acme.example.cn"})
    assert taken.status_code == 409 and "one exhibitor account" in taken.text
    # a user of one exhibitor cannot be reached through another's page
    assert post(admin, other_page, f"{other_page}/users/{user_id}/resend").status_code == 404
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_an_exhibitor_of_another_edition_is_not_found(admin, session, ed):
    exhibitor_id = create(admin, ed, "Acme Chairs")
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    assert admin.get(f"/exhibitors/{other.id}/{exhibitor_id}").status_code == 404
    page = f"/exhibitors/{ed.id}/{exhibitor_id}"
    assert post(admin, page, f"/exhibitors/{other.id}/{exhibitor_id}/status", {"status": "paid"}).status_code == 404


def test_the_page_speaks_chinese(admin, ed):
    exhibitor_id = create(admin, ed, "Acme Chairs")
    admin.cookies.set("lang", "zh-CN")
    text = admin.get(f"/exhibitors/{ed.id}/{exhibitor_id}").text
    assert "工作人员名额" in text and "展商账户" in text and "意向" in text
