"""In a real browser at a desk-sized window, in Chinese: the desk finds a two-character name as it is typed, opens
the person with Enter, reprints their badge with a reason, then registers a walk-in and gets the badge PDF."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from exhibit_crm import audit, auth, contacts, migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, RegistrationQuestion
from tests import factories, servers

pytestmark = pytest.mark.browser

DESK_USER, PASSWORD = "desk1", "desk browser test password"
DESK_SCREEN = {"width": 1366, "height": 768}


def _seed(database_url: str) -> int:
    """A desk user, an edition with a required question, and visitors who registered online; the edition's id."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            auth.create_staff_user(session, username=DESK_USER, password=PASSWORD, role="desk")
            edition = factories.edition(session)
            session.add(RegistrationQuestion(
                edition_id=edition.id, key="interests", label="Interests", label_zh="感兴趣的产品", kind="multiple",
                required=True, options=[{"value": "sofa", "label": "Sofas", "label_zh": "沙发"},
                                        {"value": "office", "label": "Office furniture", "label_zh": "办公家具"}]))
            trade = session.scalars(select(BadgeType).where(BadgeType.edition_id == edition.id,
                                                            BadgeType.code == "trade_visitor")).one()
            for name, company, email in (("王伟", "上海华美家具", "wang.wei@huamei.cn"),
                                         ("王伟明", "宁波家居", "wang.weiming@nbjj.cn"),
                                         ("李娜", "宁波家居", "li.na@nbjj.cn")):
                person = contacts.ContactIn(full_name=name, company=company, email=email)
                contact, _ = contacts.upsert_contact(session, data=person, source="online", actor=audit.SYSTEM)
                contacts.register(session, contact_id=contact.id, edition_id=edition.id, badge_type_id=trade.id,
                                  source="online", answers={"interests": ["sofa"]}, actor=audit.SYSTEM)
            session.commit()
            return edition.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory):
    """A real server on a SQLite file with the desk's data; yields its base URL and the edition's id."""
    folder = tmp_path_factory.mktemp("desk-server")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    edition_id = _seed(database_url)
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "en"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield url, edition_id


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login?next=/desk")
    page.fill("input[name=account]", DESK_USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("header .who")).to_have_text(DESK_USER)


def type_with_input_method(page: Page, pinyin: str, chinese: str) -> None:
    """Type as a Chinese input method does: the pinyin is composed letter by letter, then the characters committed."""
    cdp = page.context.new_cdp_session(page)
    for end in range(1, len(pinyin) + 1):
        cdp.send("Input.imeSetComposition", {"text": pinyin[:end], "selectionStart": end, "selectionEnd": end})
        page.clock.run_for(1000)  # a person's pause between letters: long enough for a search to start
    cdp.send("Input.insertText", {"text": chinese})
    page.clock.run_for(1000)
    cdp.detach()


def test_the_desk_finds_reprints_and_registers_a_walk_in(desk_server, browser, tmp_path):
    url, edition_id = desk_server
    page = browser.new_page(viewport=DESK_SCREEN)
    sign_in(page, url)
    page.click("header a[data-lang='zh-CN']")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.clock.install()  # the search box waits a moment after each keystroke: the test moves that clock itself
    page.click(f"#editions a[href$='/desk/{edition_id}']")

    # find a two-character Chinese name typed through a pinyin input method: the pinyin being composed is not
    # searched for, the committed name is; the box keeps the focus, Enter opens the first hit
    box = page.locator("#q")
    expect(box).to_be_focused()
    searches: list[str] = []
    page.on("request", lambda request: searches.append(request.url) if "/search?" in request.url else None)
    type_with_input_method(page, "wang wei", "王伟")
    hits = page.locator("#hits tr[data-hit]")
    expect(hits.first.locator("td.name")).to_have_text("王伟")
    expect(hits).to_have_count(2)
    expect(hits.first.locator("[data-status]")).to_have_text("已登记")
    expect(box).to_be_focused()
    assert searches and not any("wang" in url for url in searches), searches
    page.screenshot(path=tmp_path / "desk-search.png")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/registrations/\d+$"))
    expect(page.locator("#person-name")).to_have_text("王伟")
    expect(page.locator("#badge-version")).to_have_text("1")

    # reprint with a reason: the new badge opens in a tab of its own, the page shows version 2 and who did it why
    page.fill("#form-reprint input[name=reason]", "证件遗失")
    with page.expect_popup(), page.context.expect_event("response", lambda r: "/badge.pdf" in r.url) as new_badge:
        page.click("#form-reprint button[type=submit]")
    assert new_badge.value.url.endswith("/badge.pdf?v=2") and new_badge.value.status == 200
    assert new_badge.value.headers["content-type"] == "application/pdf"
    expect(page.locator("#badge-version")).to_have_text("2")
    expect(page.locator("p.flash")).to_contain_text("版本 2")
    reprinted = page.locator("tr[data-action='badge_scanner.badge.reprinted']")
    expect(reprinted).to_contain_text("证件遗失")
    expect(reprinted).to_contain_text(DESK_USER)
    expect(page.locator("#print-badge")).to_have_attribute("href", re.compile(r"/badge\.pdf\?v=2$"))
    page.screenshot(path=tmp_path / "desk-person.png", full_page=True)

    # a walk-in the desk does not know yet: the search text becomes their name on the walk-in form
    page.click("nav.desknav a:has-text('查找人员')")
    box.press_sequentially("赵敏")
    expect(page.locator("#hits .none")).to_contain_text("未找到")
    page.click("#hits .none a")
    form = page.locator("#form-walk-in")
    expect(form.locator("input[name=full_name]")).to_have_value("赵敏")
    expect(form.locator("input[name=company]")).to_be_focused()
    form.locator("input[name=company]").fill("杭州木艺")
    form.locator("input[name=phone]").fill("139 1234 5678")
    form.locator("input[name='answers.interests'][value=office]").check()
    page.screenshot(path=tmp_path / "desk-walk-in-form.png")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("p.flash")).to_have_text("登记成功，可以打印证件。")
    expect(page.locator("#person-name")).to_have_text("赵敏")
    print_link = page.locator("#print-badge")
    expect(print_link).to_be_focused()
    page.screenshot(path=tmp_path / "desk-walk-in.png", full_page=True)

    badge = page.request.get(print_link.get_attribute("href"))
    assert badge.status == 200 and badge.headers["content-type"] == "application/pdf"
    assert badge.headers["content-disposition"].startswith("inline;")
    assert badge.body().startswith(b"%PDF")
    page.close()
