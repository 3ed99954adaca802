"""The targets page: an admin sets an edition's targets (the rebooking rate as a percentage), marketing reads them,
the desk is kept out; bad input is shown next to its field and changes nothing; forms need their CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from event_phases.post_show.targets import set_targets, targets
from exhibit_crm import audit
from exhibit_crm.models import TARGET_KEYS, AuditLog
from tests import factories

FORM = {"visitors": "80000", "trade_visitors": "60000", "exhibitors": "1200", "net_sqm": "150000.5",
        "rebooking_rate": "65"}
SAVED = {"visitors": 80000, "trade_visitors": 60000, "exhibitors": 1200, "net_sqm": 150000.5, "rebooking_rate": 0.65}


@pytest.fixture
def edition_id(session) -> int:
    return factories.edition(session).id


def _path(edition_id: int) -> str:
    return f"/admin/editions/{edition_id}/targets"


def _post(client, edition_id: int, data: dict, *, csrf: str | None = "from-page"):
    if csrf == "from-page":
        csrf = factories.csrf_from(client.get(_path(edition_id)).text)
    body = {**data, **({"csrf_token": csrf} if csrf is not None else {})}
    return client.post(_path(edition_id), data=body, follow_redirects=False)


def _sign_in(client, session, role: str):
    factories.staff_user(session, username=role, role=role)
    assert factories.login(client, account=role).status_code == 303
    return client


def test_an_admin_sets_the_targets_through_the_form(admin, db, edition_id):
    page = admin.get(_path(edition_id))
    assert page.status_code == 200
    assert all(f'name="{key}"' in page.text for key in TARGET_KEYS)
    done = _post(admin, edition_id, FORM)
    assert done.status_code == 303 and done.headers["location"] == f"{_path(edition_id)}?saved=1"
    assert db(lambda s: targets(s, edition_id=edition_id)) == SAVED
    entry = db(lambda s: s.scalars(select(AuditLog).where(AuditLog.action == "event_phases.post_show.targets.set"))
               .one())
    assert entry.actor_name == "alice"
    shown = admin.get(done.headers["location"]).text
    assert 'value="65"' in shown and 'value="150000.5"' in shown and "Targets saved." in shown


def test_an_empty_field_clears_its_target(admin, db, edition_id):
    _post(admin, edition_id, FORM)
    assert _post(admin, edition_id, {**FORM, "net_sqm": "", "rebooking_rate": " "}).status_code == 303
    assert db(lambda s: targets(s, edition_id=edition_id)) == {**SAVED, "net_sqm": None, "rebooking_rate": None}


@pytest.mark.parametrize(("field", "value", "words"), [
    ("rebooking_rate", "150", "Exhibitor rebooking rate: enter a percentage from 0 to 100"),
    ("rebooking_rate", "sixty", "Exhibitor rebooking rate: enter a percentage from 0 to 100"),
    ("visitors", "-5", "Visitors: enter a whole number"),
    ("exhibitors", "12.5", "Exhibitors: enter a whole number"),
    ("net_sqm", "lots", "Net m² sold: enter the square metres"),
])
def test_bad_input_names_the_field_and_changes_nothing(admin, db, edition_id, field, value, words):
    _post(admin, edition_id, FORM)
    refused = _post(admin, edition_id, {**FORM, "visitors": "1", field: value})
    assert refused.status_code == 422
    assert words in refused.text
    assert f'name="{field}" type="number" value="{value}" aria-invalid="true"' in refused.text
    assert db(lambda s: targets(s, edition_id=edition_id)) == SAVED


def test_the_page_speaks_chinese(admin, edition_id):
    admin.cookies.set("lang", "zh-CN")
    page = admin.get(_path(edition_id)).text
    assert "展商续订率（百分比）" in page and "保存目标" in page
    refused = _post(admin, edition_id, {**FORM, "rebooking_rate": "150"})
    assert "展商续订率：请输入 0 至 100 之间的百分比" in refused.text


@pytest.mark.parametrize("token", [None, "forged"])
def test_the_form_needs_its_csrf_token(admin, db, edition_id, token):
    refused = _post(admin, edition_id, FORM, csrf=token)
    assert refused.status_code == 403 and 'data-code="csrf_failed"' in refused.text
    assert db(lambda s: targets(s, edition_id=edition_id)) == dict.fromkeys(TARGET_KEYS)


def test_marketing_reads_the_targets_but_may_not_change_them(client, session, db, edition_id):
    db(lambda s: set_targets(s, edition_id=edition_id, data=SAVED, actor=audit.CLI))
    _sign_in(client, session, "marketing")
    page = client.get(_path(edition_id))
    assert page.status_code == 200
    assert "<form" not in page.text.split('id="targets"')[1]
    assert '<tr data-target="rebooking_rate">' in page.text and ">65<" in page.text
    assert _post(client, edition_id, {**FORM, "visitors": "1"}).status_code == 403
    assert db(lambda s: targets(s, edition_id=edition_id)) == SAVED
    assert f'{_path(edition_id)}"' in client.get("/targets").text


def test_the_desk_may_not_open_the_page(client, session, edition_id):
    _sign_in(client, session, "desk")
    assert client.get(_path(edition_id)).status_code == 403
    assert client.get("/targets").status_code == 403


def test_a_stranger_is_sent_to_the_login(client, edition_id):
    assert client.get(_path(edition_id), follow_redirects=False).status_code == 303


def test_an_unknown_edition_is_not_found(admin):
    assert admin.get(_path(999)).status_code == 404


def test_the_admin_edition_page_links_to_the_targets(admin, edition_id):
    assert f'{_path(edition_id)}"' in admin.get(f"/admin/editions/{edition_id}").text


def test_the_edition_parts_still_take_their_forms(admin, db, edition_id):
    page = f"/admin/editions/{edition_id}"
    token = factories.csrf_from(admin.get(page).text)
    made = admin.post(f"{page}/product_category", data={"code": "sofas", "name": "Sofas", "csrf_token": token},
                      follow_redirects=False)
    assert made.status_code == 303
    assert admin.post(f"{page}/nonsense", data={"csrf_token": token}).status_code == 404
