"""In a real browser on a phone-sized window against a real server: an exhibitor user signs in, types a visitor's
badge code as a keyboard-wedge scanner types it, rates and notes the lead, saves, and downloads the XLSX lead list."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from badge_scanner.codes import load_signer
from exhibit_crm import audit, contacts, migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Company, Edition, Exhibitor, ExhibitorUser, Series
from exhibit_crm.security import hash_password
from tests import servers

pytestmark = pytest.mark.browser

EMAIL, PASSWORD = "sales@huamei.example.cn", "booth browser test password"
PHONE = {"width": 390, "height": 844}


def _seed(database_url: str) -> tuple[int, int]:
    """An edition with an exhibitor and its user, a trade visitor who shares their details and one who does not;
    the visitors' registration ids."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具展")
            session.add(series)
            session.flush()
            edition = Edition(series_id=series.id, name="Furniture Fair 2026", year=2026, timezone="Asia/Shanghai")
            session.add(edition)
            session.flush()
            trade = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor",
                              audience="trade_visitor")
            firm = Company(name="广州华美家居有限公司", name_key="广州华美家居有限公司")
            session.add_all([trade, firm])
            session.flush()
            exhibitor = Exhibitor(edition_id=edition.id, company_id=firm.id, status="paid", booth_hall="N1",
                                  booth_number="A01")
            session.add(exhibitor)
            session.flush()
            session.add(ExhibitorUser(exhibitor_id=exhibitor.id, email=EMAIL, name="陈静",
                                      password_hash=hash_password(PASSWORD)))
            person = contacts.ContactIn(full_name="王伟", company="上海宜家家居", email="wang.wei@example.cn")
            contact, _ = contacts.upsert_contact(session, data=person, source="online", actor=audit.SYSTEM)
            contact.consent_share = True
            session.add(contact)
            registration, _ = contacts.register(session, contact_id=contact.id, edition_id=edition.id,
                                                badge_type_id=trade.id, source="online", actor=audit.SYSTEM)
            other = contacts.ContactIn(full_name="李娜", company="成都木作工坊", email="li.na@example.cn")
            contact, _ = contacts.upsert_contact(session, data=other, source="online", actor=audit.SYSTEM)
            later, _ = contacts.register(session, contact_id=contact.id, edition_id=edition.id,
                                         badge_type_id=trade.id, source="online", actor=audit.SYSTEM)
            session.commit()
            return registration.id, later.id
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def booth_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("booth-server")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    shares, keeps_private = _seed(database_url)
    signer = load_signer(folder / "data")
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "en"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield {"url": url, "code": signer.sign(shares, 1), "private_code": signer.sign(keeps_private, 1)}


def _signed_in_scan_page(browser, url: str, **options):
    context = browser.new_context(viewport=PHONE, **options)
    page = context.new_page()
    page.goto(f"{url}/exhibitor/login")
    page.fill("input[name=account]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.goto(f"{url}/portal/scan")
    expect(page.locator("#scan")).to_be_focused()
    return context, page


def test_scan_rate_note_and_download_on_a_phone(booth_server, browser, tmp_path):
    url = booth_server["url"]
    context, page = _signed_in_scan_page(browser, url, accept_downloads=True)

    page.keyboard.type(booth_server["code"])
    page.keyboard.press("Enter")
    visitor = page.locator("#visitor")
    expect(visitor).to_contain_text("王伟")
    expect(visitor).to_contain_text("wang.wei@example.cn")
    expect(page.locator("#lead-state")).to_have_text("New lead.")
    page.locator("label.rating[data-rating=hot]").click()
    page.fill("#notes", "要报价，下周回访")
    page.locator("#save").click()
    expect(page.locator("#message")).to_have_text("Saved.")
    expect(page.locator("#scan")).to_be_focused()
    page.screenshot(path=tmp_path / "booth-scan.png")

    page.goto(f"{url}/portal/leads")
    expect(page.locator("#lead-list")).to_contain_text("王伟")
    with page.expect_download() as download_info:
        page.locator("#downloads button[value=xlsx]").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "leads.xlsx"
    download.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    header, (lead,) = rows[0], rows[1:]
    assert lead[header.index("Visitor name")] == "王伟"
    assert lead[header.index("Rating")] == "hot"
    assert lead[header.index("Notes")] == "要报价，下周回访"
    assert lead[header.index("E-mail")] == "wang.wei@example.cn"
    context.close()


def test_a_badge_read_offline_waits_in_the_browser_and_uploads_when_the_network_is_back(booth_server, browser):
    url = booth_server["url"]
    context, page = _signed_in_scan_page(browser, url)
    context.set_offline(True)
    page.keyboard.type(booth_server["private_code"])
    page.keyboard.press("Enter")
    net = page.locator("#net")
    expect(net).to_have_attribute("data-online", "no")
    expect(net).to_contain_text("1")  # one scan waiting
    expect(page.locator("#lead-state")).not_to_have_text("")
    assert len(page.evaluate("JSON.parse(localStorage.getItem('exhibit_crm.booth.queue'))")) == 1

    context.set_offline(False)  # the browser's "online" event starts the upload
    expect(net).to_have_attribute("data-online", "yes")
    page.wait_for_function("JSON.parse(localStorage.getItem('exhibit_crm.booth.queue') || '[]').length === 0")
    page.goto(f"{url}/portal/leads")
    expect(page.locator("#lead-list")).to_contain_text("成都木作工坊")
    context.close()
