"""The admin pages: an admin sets up a show through the forms; refusals re-show the form; others are kept out."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from sqlalchemy import func, select

from exhibit_crm.models import (
    AuditLog,
    BadgeType,
    Edition,
    EditionDay,
    Gate,
    ProductCategory,
    RegistrationQuestion,
    Series,
    Zone,
)
from exhibit_crm.web.forms import options_text, parse_options
from tests import factories


def all_of(db, model, *where):
    return db(lambda s: list(s.scalars(select(model).where(*where).order_by(model.id))))


def count(db, model) -> int:
    return db(lambda s: s.scalar(select(func.count()).select_from(model)))


def post(client, page: str, action: str, data: dict, *, csrf: str | None = "from-page"):
    """Submit a form the way a browser does: take the CSRF token from the page that shows the form."""
    if csrf == "from-page":
        csrf = factories.csrf_from(client.get(page).text)
    body = {**data, **({"csrf_token": csrf} if csrf is not None else {})}
    return client.post(action, data=body, follow_redirects=False)


def form_html(html: str, form_id: str) -> str:
    match = re.search(rf'<form[^>]*id="form-{form_id}".*?</form>', html, re.S)
    assert match, f"no form {form_id}"
    return match.group(0)


def make_edition(client) -> int:
    made = post(client, "/admin/series", "/admin/series", {"name": "Furniture Fair", "name_zh": "家具展"})
    series_page = made.headers["location"].split("?")[0]
    made = post(client, series_page, f"{series_page}/editions", {
        "name": "Furniture Fair 2026", "year": "2026", "venue": "NECC", "timezone": "Asia/Shanghai",
        "badge_layout": "4x3in"})
    assert made.status_code == 303
    return int(re.search(r"/admin/editions/(\d+)", made.headers["location"]).group(1))


def test_admin_sets_up_a_show_through_the_forms(admin, db):
    made = post(admin, "/admin/series", "/admin/series", {"name": "Furniture Fair", "name_zh": "家具展"})
    assert made.status_code == 303
    series = all_of(db, Series)[0]
    assert (series.name, series.name_zh) == ("Furniture Fair", "家具展")
    assert made.headers["location"].startswith(f"/admin/series/{series.id}")

    made = post(admin, f"/admin/series/{series.id}", f"/admin/series/{series.id}/editions", {
        "name": "Furniture Fair 2026", "year": "2026", "venue": "NECC", "timezone": "Asia/Shanghai",
        "badge_layout": "4x3in"})
    edition = all_of(db, Edition)[0]
    assert (edition.series_id, edition.year, edition.badge_layout) == (series.id, 2026, "4x3in")
    assert made.headers["location"].startswith(f"/admin/editions/{edition.id}")

    page = f"/admin/editions/{edition.id}"
    for name, rule in (("Hall 1", "free"), ("VIP Lounge", "strict")):
        made = post(admin, page, f"{page}/zone", {"name": name, "name_zh": "", "reentry": rule,
                                                  "margin_minutes": "15"})
        assert made.status_code == 303 and made.headers["location"].endswith("?saved=1#zones")
    hall = all_of(db, Zone, Zone.name == "Hall 1")[0]
    assert post(admin, page, f"{page}/gate", {"zone_id": str(hall.id), "name": "North entrance"}).status_code == 303
    assert post(admin, page, f"{page}/day", {"day": "2026-03-10", "opens_at": "09:00",
                                             "closes_at": "17:30"}).status_code == 303
    assert post(admin, page, f"{page}/badge_type", {"code": "trade_visitor", "name": "Trade visitor",
                                                    "name_zh": "专业观众", "color": "#1a7f37",
                                                    "audience": "trade_visitor"}).status_code == 303
    assert post(admin, page, f"{page}/question", {
        "key": "interests", "label": "Interests", "label_zh": "感兴趣的产品", "kind": "multiple", "required": "1",
        "position": "10", "options": "office|Office furniture|办公家具\r\nhome|Home\r\n\r\n"}).status_code == 303
    assert post(admin, page, f"{page}/product_category", {"code": "office", "name": "Office",
                                                          "name_zh": "办公"}).status_code == 303

    assert [(z.name, z.reentry, z.margin_minutes) for z in all_of(db, Zone)] == [
        ("Hall 1", "free", 15), ("VIP Lounge", "strict", 15)]
    assert [(g.zone_id, g.name) for g in all_of(db, Gate)] == [(hall.id, "North entrance")]
    day = all_of(db, EditionDay)[0]
    assert (day.day, day.opens_at, day.closes_at) == (date(2026, 3, 10), time(9), time(17, 30))
    assert [(b.name_zh, b.audience) for b in all_of(db, BadgeType)] == [("专业观众", "trade_visitor")]
    question = all_of(db, RegistrationQuestion)[0]
    assert (question.kind, question.required, question.position) == ("multiple", True, 10)
    assert question.options == [{"value": "office", "label": "Office furniture", "label_zh": "办公家具"},
                                {"value": "home", "label": "Home", "label_zh": ""}]
    assert all_of(db, ProductCategory)[0].code == "office"
    assert [log.actor_name for log in all_of(db, AuditLog, AuditLog.action == "exhibit_crm.gate.created")] == ["alice"]

    shown = admin.get(page)
    assert shown.status_code == 200
    assert "North entrance" in shown.text and "office|Office furniture|办公家具" in shown.text
    listing = admin.get("/admin/series").text
    row = re.search(rf'<tr data-edition-id="{edition.id}">.*?</tr>', listing, re.S).group(0)
    assert "Furniture Fair 2026" in row
    assert re.search(r'class="num zones">2<', row) and re.search(r'class="num gates">1<', row)


def test_a_success_redirects_back_with_a_flash(admin, db):
    edition_id = make_edition(admin)
    page = f"/admin/editions/{edition_id}"
    made = post(admin, page, page, {"name": "Furniture Fair 2026 (spring)", "year": "2026", "venue": "NECC",
                                    "timezone": "Europe/Berlin", "badge_layout": "A6"})
    assert made.headers["location"] == f"{page}?saved=1"
    assert 'class="flash"' in admin.get(made.headers["location"]).text
    assert db(lambda s: s.get(Edition, edition_id)).timezone == "Europe/Berlin"


def test_a_duplicate_zone_is_shown_next_to_its_field_and_nothing_is_stored(admin, db):
    page = f"/admin/editions/{make_edition(admin)}"
    post(admin, page, f"{page}/zone", {"name": "Hall 1", "reentry": "free", "margin_minutes": "30"})
    again = post(admin, page, f"{page}/zone", {"name": "Hall 1", "name_zh": "一号馆", "reentry": "strict",
                                               "margin_minutes": "45"})
    assert again.status_code == 409
    form = form_html(again.text, "zone-new")
    assert re.search(r'name="name" type="text" value="Hall 1" [^>]*aria-invalid="true"', form)
    assert re.search(r'aria-invalid="true"[^>]*>\s*<span class="field-error"', form)
    assert 'value="一号馆"' in form and 'value="45"' in form and '<option value="strict" selected>' in form
    assert form.count('class="field-error"') == 1
    assert count(db, Zone) == 1


def test_invalid_input_keeps_what_the_user_typed(admin, db):
    page = post(admin, "/admin/series", "/admin/series", {"name": "Fair"}).headers["location"].split("?")[0]
    bad = post(admin, page, f"{page}/editions", {"name": "Fair 2026", "year": "twenty", "venue": "Hall",
                                                 "timezone": "Asia/Shanghai", "badge_layout": "A6"})
    assert bad.status_code == 422
    form = form_html(bad.text, "edition-new")
    assert re.search(r'name="year" type="number" value="twenty"[^>]*aria-invalid', form)
    assert 'value="Fair 2026"' in form
    bad = post(admin, page, f"{page}/editions", {"name": "Fair 2026", "year": "2026", "timezone": "Mars/Base"})
    assert 'name="timezone" type="text" value="Mars/Base"' in form_html(bad.text, "edition-new")
    assert "aria-invalid" in form_html(bad.text, "edition-new").split('name="timezone"')[1].split(">")[0]
    assert count(db, Edition) == 0


def test_a_choice_question_without_options_is_refused_at_the_options_field(admin, db):
    page = f"/admin/editions/{make_edition(admin)}"
    bad = post(admin, page, f"{page}/question", {"key": "role", "label": "Role", "kind": "single",
                                                 "position": "1", "options": ""})
    assert bad.status_code == 422
    assert re.search(r'<textarea name="options"[^>]*aria-invalid', form_html(bad.text, "question-new"))
    assert count(db, RegistrationQuestion) == 0


@pytest.mark.parametrize("token", [None, "forged-token"])
def test_forms_without_the_right_csrf_token_are_refused(admin, db, token):
    made = post(admin, "/admin/series", "/admin/series", {"name": "Fair"}, csrf=token)
    assert made.status_code == 403
    assert 'data-code="csrf_failed"' in made.text
    page = f"/admin/editions/{make_edition(admin)}"
    assert post(admin, page, f"{page}/zone", {"name": "Hall 1", "reentry": "free", "margin_minutes": "30"},
                csrf=token).status_code == 403
    assert count(db, Series) == 1 and count(db, Zone) == 0


def test_parts_can_be_changed_and_deleted(admin, db):
    edition_id = make_edition(admin)
    page = f"/admin/editions/{edition_id}"
    post(admin, page, f"{page}/zone", {"name": "Hall 1", "reentry": "free", "margin_minutes": "30"})
    zone = all_of(db, Zone)[0]
    post(admin, page, f"{page}/gate", {"zone_id": str(zone.id), "name": "Gate A"})
    gate = all_of(db, Gate)[0]

    assert post(admin, page, f"{page}/gate/{gate.id}", {"name": "Gate B"}).headers["location"] \
        == f"{page}?saved=1#zones"
    assert post(admin, page, f"{page}/zone/{zone.id}", {"name": "Hall 1", "name_zh": "一号馆", "reentry": "strict",
                                                        "margin_minutes": "10"}).status_code == 303
    assert db(lambda s: s.get(Gate, gate.id)).name == "Gate B"
    changed = db(lambda s: s.get(Zone, zone.id))
    assert (changed.name_zh, changed.reentry) == ("一号馆", "strict")

    gone = post(admin, page, f"{page}/zone/{zone.id}/delete", {})
    assert gone.headers["location"] == f"{page}?deleted=1#zones"
    assert count(db, Zone) == 0 and count(db, Gate) == 0


def test_a_badge_type_says_whom_it_is_for_and_an_unknown_audience_is_refused(admin, db):
    page = f"/admin/editions/{make_edition(admin)}"
    new_form = form_html(admin.get(page).text, "badge_type-new")
    assert re.search(r'<select name="audience" required>\s*<option value="" selected>', new_form)
    assert post(admin, page, f"{page}/badge_type", {"code": "vip_buyer", "name": "VIP buyer", "color": "#bf8700",
                                                    "audience": "trade_visitor"}).status_code == 303
    badge = all_of(db, BadgeType)[0]
    assert badge.audience == "trade_visitor"
    shown = form_html(admin.get(page).text, f"badge_type-{badge.id}")
    assert '<option value="trade_visitor" selected>Trade visitors</option>' in shown
    changed = post(admin, page, f"{page}/badge_type/{badge.id}", {"code": "vip_buyer", "name": "VIP buyer",
                                                                  "color": "#bf8700", "audience": "press"})
    assert changed.status_code == 303
    assert db(lambda s: s.get(BadgeType, badge.id)).audience == "press"

    for audience in ("", "visitor"):
        refused = post(admin, page, f"{page}/badge_type", {"code": "guest", "name": "Guest", "color": "#000000",
                                                           "audience": audience})
        assert refused.status_code == 422
        form = form_html(refused.text, "badge_type-new")
        assert re.search(r'<select name="audience" aria-invalid="true"', form) and "one of trade_visitor" in form
        assert 'value="Guest"' in form
    assert count(db, BadgeType) == 1


def test_the_audiences_are_labelled_in_chinese(admin, session):
    edition = factories.edition(session)
    admin.cookies.set("lang", "zh-CN")
    section = re.search(r'<section class="card" id="badge-types">.*?</section>', admin.get(
        f"/admin/editions/{edition.id}").text, re.S).group(0)
    for label in ("专业观众", "普通观众", "展商工作人员", "媒体", "主办方人员", "搭建商和服务人员",
                  "VIP买家属于专业观众"):
        assert label in section
    assert "Trade visitors" not in section


def test_deleting_a_series_that_has_editions_is_refused(admin, db):
    edition_id = make_edition(admin)
    series_id = db(lambda s: s.get(Edition, edition_id)).series_id
    refused = post(admin, f"/admin/series/{series_id}", f"/admin/series/{series_id}/delete", {})
    assert refused.status_code == 409 and 'role="alert"' in refused.text
    assert post(admin, f"/admin/editions/{edition_id}", f"/admin/editions/{edition_id}/delete", {}) \
        .headers["location"] == f"/admin/series/{series_id}?deleted=1"
    assert post(admin, f"/admin/series/{series_id}", f"/admin/series/{series_id}/delete", {}).status_code == 303
    assert count(db, Series) == 0


def test_a_part_is_only_reached_through_its_own_edition(admin, session, db):
    other = factories.edition(session, name="Other Fair", year=2025)
    foreign_zone = all_of(db, Zone, Zone.edition_id == other.id)[0]
    page = f"/admin/editions/{make_edition(admin)}"
    assert post(admin, page, f"{page}/zone/{foreign_zone.id}/delete", {}).status_code == 404
    assert post(admin, page, f"{page}/gate", {"zone_id": str(foreign_zone.id), "name": "Sneaky"}).status_code == 404
    assert post(admin, page, f"{page}/nonsense", {}).status_code == 404
    assert db(lambda s: s.get(Zone, foreign_zone.id)) is not None
    assert count(db, Gate) == 2


def test_a_desk_user_may_not_open_the_admin_pages(client, session):
    factories.staff_user(session, username="dora", role="desk")
    factories.login(client, account="dora")
    assert client.get("/admin/series").status_code == 403


def test_strangers_are_sent_to_the_login_page(client):
    answer = client.get("/admin/series", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].endswith("/login?next=%2Fadmin%2Fseries")


def test_options_are_entered_one_per_line():
    options = parse_options("office|Office|办公\n\n  home | Home \nkids")
    assert options == [{"value": "office", "label": "Office", "label_zh": "办公"},
                       {"value": "home", "label": "Home", "label_zh": ""},
                       {"value": "kids", "label": "kids", "label_zh": ""}]
    assert parse_options(options_text(options)) == options


def test_an_option_may_name_its_product_category_and_badge_type():
    text = ("sofa_buyer|Sofas|沙发|category=sofas\n"
            "public|Just looking|随便看看|badge_type=public_visitor\n"
            "buyer|Buyer|category=beds")
    options = parse_options(text)
    assert options == [{"value": "sofa_buyer", "label": "Sofas", "label_zh": "沙发", "category": "sofas"},
                       {"value": "public", "label": "Just looking", "label_zh": "随便看看",
                        "badge_type": "public_visitor"},
                       {"value": "buyer", "label": "Buyer", "label_zh": "", "category": "beds"}]
    assert parse_options(options_text(options)) == options
    assert options_text(options).splitlines()[0] == "sofa_buyer|Sofas|沙发|category=sofas"


def test_the_next_edition_is_copied_from_the_edition_page(admin, db):
    edition_id = make_edition(admin)
    page = f"/admin/editions/{edition_id}"
    post(admin, page, f"{page}/day", {"day": "2026-03-10", "opens_at": "09:00", "closes_at": "17:00"})
    post(admin, page, f"{page}/zone", {"name": "Hall 1", "reentry": "free", "margin_minutes": "30"})
    overlapping = post(admin, page, f"{page}/copy", {"year": "2027", "start": "2026-03-10"})
    assert overlapping.status_code == 422
    form = form_html(overlapping.text, "copy")
    assert re.search(r'name="start" type="date" value="2026-03-10"[^>]*aria-invalid', form)
    assert "overlap" in form and count(db, Edition) == 1
    bad_date = post(admin, page, f"{page}/copy", {"year": "2027", "start": "next spring"})
    assert re.search(r'name="start"[^>]*value="next spring"[^>]*aria-invalid', form_html(bad_date.text, "copy"))
    made = post(admin, page, f"{page}/copy", {"year": "2027", "start": "", "name": ""})
    assert made.status_code == 303
    new_id = int(re.search(r"/admin/editions/(\d+)\?copied=1", made.headers["location"]).group(1))
    shown = admin.get(made.headers["location"]).text
    assert "Furniture Fair 2027" in shown and 'value="2027-03-09"' in shown and "Hall 1" in shown
    assert [z.name for z in all_of(db, Zone, Zone.edition_id == new_id)] == ["Hall 1"]
    again = post(admin, page, f"{page}/copy", {"year": "2027"})
    assert again.status_code == 409 and "already" in form_html(again.text, "copy")
