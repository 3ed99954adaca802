"""In a real browser on a phone-sized window, in Chinese: a visitor fills the registration form, sees the
confirmation page with the badge, and the confirmation mail reaches a real SMTP server with a QR code that an
independent decoder reads back as the badge code."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import Session

from badge_scanner.codes import load_signer
from exhibit_crm import migrate, outbox_sender
from exhibit_crm.db import make_engine
from exhibit_crm.models import Registration
from tests import factories, servers
from tests.event_phases.pre_show.registration.support import add_questions
from tests.smtp import SmtpServer

pytestmark = pytest.mark.browser

PHONE_SCREEN = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def show_server(tmp_path_factory):
    """A real server on a SQLite file with an edition open for registration; yields its URL, edition, folder."""
    folder = tmp_path_factory.mktemp("registration-server")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            edition_id = add_questions(session, factories.edition(session)).id
    finally:
        engine.dispose()
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "en"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield url, edition_id, database_url, folder / "data"


def test_a_visitor_registers_in_chinese_on_a_phone_and_the_mailed_qr_is_the_badge_code(browser, show_server):
    url, edition_id, database_url, data_dir = show_server
    context = browser.new_context(viewport=PHONE_SCREEN, is_mobile=True, has_touch=True, locale="zh-CN",
                                  extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.goto(f"{url}/register/{edition_id}")
    expect(page).to_have_url(re.compile(rf"/register/{edition_id}/zh-CN$"))
    expect(page.locator("h1")).to_have_text("观众登记")
    # one column: the submit button spans the phone's width, and nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_SCREEN["width"]
    page.locator("#f-full_name").fill("王伟")
    page.locator("#f-phone").fill("138 0013 8000")
    page.locator("#f-email").fill("wang.wei@huamei.cn")
    page.locator("#f-company").fill("上海华美家具")
    page.get_by_label("专业买家").check()
    page.get_by_label("沙发").check()
    page.locator("#f-answers\\.purpose").fill("采购沙发")
    page.locator("input[name=consent_share]").check()
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.locator(".done")).to_contain_text("谢谢，您已登记成功")
    expect(page.locator(".ebadge .name")).to_have_text("王伟")
    expect(page.locator(".recommended")).to_contain_text("宁波家居")
    assert page.locator(".ebadge img.qr").evaluate("img => img.complete && img.naturalWidth > 0")
    context.close()

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            registration = session.scalars(select(Registration)).one()
            expected = load_signer(data_dir).sign(registration.id, registration.badge_version)
        with SmtpServer() as smtp:
            report = outbox_sender.send_due(engine, smtp_url=smtp.url, mail_from="show <noreply@show.example.cn>")
            assert report.sent == 1
            [message] = smtp.messages
    finally:
        engine.dispose()
    assert message["To"].addresses[0].addr_spec == "wang.wei@huamei.cn"
    assert "电子证件" in message["Subject"]
    [png] = [part for part in message.iter_attachments() if part.get_content_type() == "image/png"]
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.get_content())), text_mode=zxingcpp.TextMode.Plain)
    assert [code.text for code in found] == [expected]
