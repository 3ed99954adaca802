"""In a real browser against a real server: the gate page opened from a device's link takes badge codes typed as a
keyboard-wedge scanner types them (the characters, then Enter) and shows the server's verdict full screen; with the
network down it judges by itself (the signature checked with the snapshot's key) and uploads the queue when the
network is back."""

from __future__ import annotations

import base64
import io
from datetime import datetime, time
from zoneinfo import ZoneInfo

import httpx
import pytest
import qrcode
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlmodel import Session

from badge_scanner.codes import load_signer
from exhibit_crm import audit, auth, contacts, migrate
from exhibit_crm.db import make_engine
from exhibit_crm.models import BadgeType, Edition, EditionDay, Gate, Scan, Series, Zone, ZoneAccess
from tests import servers

pytestmark = pytest.mark.browser

TIMEZONE = "Asia/Shanghai"
B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
DESK_USER, PASSWORD = "desk1", "gate browser test password"


def _seed(database_url: str) -> dict:
    """An edition open all of today (local date of the venue; the clock is read only to build this), one hall with
    a gate and a device, and a trade visitor who may enter it."""
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            series = Series(name="Shanghai International Furniture Fair", name_zh="上海国际家具展")
            session.add(series)
            session.flush()
            today = datetime.now(ZoneInfo(TIMEZONE)).date()
            edition = Edition(series_id=series.id, name="Furniture Fair", year=today.year, timezone=TIMEZONE)
            session.add(edition)
            session.flush()
            session.add(EditionDay(edition_id=edition.id, day=today, opens_at=time(0, 0), closes_at=time(23, 59)))
            zone = Zone(edition_id=edition.id, name="Hall 1", name_zh="1号馆", reentry="free")
            trade = BadgeType(edition_id=edition.id, code="trade_visitor", name="Trade visitor",
                              audience="trade_visitor")
            session.add_all([zone, trade])
            session.flush()
            gate = Gate(zone_id=zone.id, name="North Gate")
            session.add_all([gate, ZoneAccess(zone_id=zone.id, badge_type_id=trade.id)])
            session.flush()
            token, _device = auth.create_device(session, gate_id=gate.id, name="North handheld")
            registrations = []
            for name, email in (("王伟", "wang.wei@huamei.cn"), ("李娜", "li.na@nbjj.cn"), ("张敏", "zhang.min@hz.cn")):
                person = contacts.ContactIn(full_name=name, company="上海华美家具", email=email)
                contact, _ = contacts.upsert_contact(session, data=person, source="online", actor=audit.SYSTEM)
                registration, _ = contacts.register(session, contact_id=contact.id, edition_id=edition.id,
                                                    badge_type_id=trade.id, source="online", actor=audit.SYSTEM)
                registrations.append(registration.id)
            auth.create_staff_user(session, username=DESK_USER, password=PASSWORD, role="desk")
            session.commit()
            return {"token": token, "registrations": registrations, "edition_id": edition.id}
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def gate_server(tmp_path_factory):
    """A real server on a SQLite file; yields its URL, the device token, a badge code for each of two people (one per
    test, so that neither sees the other's entry) and the database URL."""
    folder = tmp_path_factory.mktemp("gate-server")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    seeded = _seed(database_url)
    signer = load_signer(folder / "data")
    wang, li, zhang = (signer.sign(registration_id, 1) for registration_id in seeded["registrations"])
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "en"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield {"url": url, "token": seeded["token"], "code": wang, "other_code": li, "third_code": zhang,
           "edition_id": seeded["edition_id"], "database_url": database_url}


def forged(code: str) -> str:
    """The same badge with one character of its signature changed."""
    at = 100
    return code[:at] + B32[(B32.index(code[at]) + 1) % 32] + code[at + 1:]


def scan_like_a_wedge(page: Page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def recorded(database_url: str) -> list[tuple]:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            return [tuple(row) for row in session.execute(
                select(Scan.verdict, Scan.reason, Scan.offline, Scan.device_verdict, Scan.device_reason)
                .order_by(Scan.id)).all()]
    finally:
        engine.dispose()


def open_gate(browser, server) -> Page:
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    page.goto(f"{server['url']}/gate#token={server['token']}")
    expect(page.locator("#gate-name")).to_have_text("North Gate")   # the snapshot came with the token
    expect(page.locator("#net")).to_have_attribute("data-online", "yes")
    assert "token" not in page.url   # the token left the address bar for this browser's storage
    expect(page.locator("#scan")).to_be_focused()
    return page


def test_the_gate_page_shows_green_for_a_badge_and_red_for_a_forged_one(gate_server, browser, tmp_path):
    page = open_gate(browser, gate_server)
    answer = page.locator("#answer")

    scan_like_a_wedge(page, gate_server["code"])
    expect(answer).to_have_attribute("data-verdict", "accepted")
    expect(page.locator("#answer-name")).to_contain_text("王伟")
    expect(page.locator("#answer-title")).to_have_text("Welcome")
    expect(page.locator("#scan")).to_have_value("")
    page.screenshot(path=tmp_path / "gate-accepted.png")

    scan_like_a_wedge(page, forged(gate_server["code"]))
    expect(answer).to_have_attribute("data-verdict", "rejected")
    expect(answer).to_have_attribute("data-reason", "invalid_code")
    expect(page.locator("#answer-reason")).to_have_text("Not a valid badge")
    expect(page.locator("#answer-name")).to_have_text("")
    expect(page.locator("#scan")).to_be_focused()
    page.screenshot(path=tmp_path / "gate-rejected.png")
    page.close()

    assert recorded(gate_server["database_url"])[-2:] == [("accepted", None, False, None, None),
                                                          ("rejected", "invalid_code", False, None, None)]


def test_offline_the_page_judges_by_itself_and_uploads_when_the_network_is_back(gate_server, browser):
    before = len(recorded(gate_server["database_url"]))
    page = open_gate(browser, gate_server)
    page.locator("[data-direction=out]").click()
    expect(page.locator("#scan")).to_be_focused()
    page.locator("[data-direction=in]").click()
    page.context.set_offline(True)

    scan_like_a_wedge(page, forged(gate_server["other_code"]))
    expect(page.locator("#answer")).to_have_attribute("data-reason", "invalid_code")  # the signature was checked here
    scan_like_a_wedge(page, gate_server["other_code"])
    expect(page.locator("#answer")).to_have_attribute("data-verdict", "accepted")
    expect(page.locator("#answer-note")).to_contain_text("offline")
    expect(page.locator("#net")).to_have_text("Offline · 2 scans waiting to upload")

    page.context.set_offline(False)
    expect(page.locator("#net")).to_have_text("Online", timeout=15_000)
    page.close()
    uploaded = recorded(gate_server["database_url"])[before:]
    assert uploaded == [("rejected", "invalid_code", True, "rejected", "invalid_code"),
                        ("accepted", None, True, "accepted", None)]


def test_the_dashboard_updates_itself_after_a_scan(gate_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{gate_server['url']}/login?next=/gates/{gate_server['edition_id']}/dashboard")
    page.fill("input[name=account]", DESK_USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.clock.install()   # the dashboard asks again every few seconds: the test moves that clock itself
    page.reload()
    total = page.locator("#visitors [data-figure=total]")
    before = int(total.inner_text())
    expect(page.locator("#chart")).to_have_attribute("data-chart", "drawn")
    entries_before = entries_drawn(page)

    answer = httpx.post(f"{gate_server['url']}/api/v1/scans", timeout=10,
                        headers={"Authorization": f"Bearer {gate_server['token']}"},
                        json={"code": gate_server["third_code"], "direction": "in", "scan_id": "dashboard-1"})
    assert answer.json()["verdict"] == "accepted"
    page.clock.run_for(6000)
    expect(total).to_have_text(str(before + 1))
    # redrawn by the page's script: the visitors inside and every badge inside
    expect(page.locator("#zones tr[data-zone-id] td[data-visitors]")).not_to_have_text("0")
    expect(page.locator("#zones tr[data-zone-id] td[data-inside]")).not_to_have_text("0")
    # the chart drew the new rows: vega's SVG with a bar for the gate's entries
    # the browser re-checks the drawn bars whenever the page changes, until they show one entry more
    page.wait_for_function(f"() => ({DRAWN_JS})() === {entries_before + 1}", timeout=5000)
    expect(page.locator("#devices tbody tr").first).to_contain_text("North handheld")
    page.screenshot(path=tmp_path / "gate-dashboard.png", full_page=True)
    page.close()


def bars_drawn(page: Page) -> int:
    """How many bars of the entries chart vega drew with a height: a quarter hour with entries at a gate."""
    return page.locator("#chart svg .mark-rect path").evaluate_all(
        "paths => paths.filter((path) => path.getBBox().height > 0).length")


# the entries the chart's bars show, summed from the labels vega gives them ("…; Entries: 3; …")
DRAWN_JS = """() => [...document.querySelectorAll('#chart svg .mark-rect path')]
    .map((path) => Number((/Entries: (\\d+)/.exec(path.getAttribute('aria-label') || '') || [0, 0])[1]))
    .reduce((a, b) => a + b, 0)"""


def entries_drawn(page: Page) -> int:
    return page.evaluate(DRAWN_JS)


def watch_for_errors(page: Page) -> list[str]:
    """Console errors, uncaught exceptions and content-security-policy violations of a page, as they happen (but
    the icon Chromium asks for by itself: the app has none)."""
    errors: list[str] = []

    def console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script("document.addEventListener('securitypolicyviolation', (event) => console.error("
                         "'CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI));")
    return errors


def test_the_dashboard_draws_its_chart_in_chinese_within_the_sites_policy(gate_server, browser, tmp_path):
    for direction in ("out", "in"):   # out first: an entry just after the last one would count as a double scan
        answer = httpx.post(f"{gate_server['url']}/api/v1/scans", timeout=10,
                            headers={"Authorization": f"Bearer {gate_server['token']}"},
                            json={"code": gate_server["code"], "direction": direction, "scan_id": f"zh-{direction}"})
        assert answer.json()["verdict"] == "accepted"
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.add_cookies([{"name": "lang", "value": "zh-CN", "url": gate_server["url"]}])
    page = context.new_page()
    errors = watch_for_errors(page)
    page.goto(f"{gate_server['url']}/login?next=/gates/{gate_server['edition_id']}/dashboard")
    page.fill("input[name=account]", DESK_USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")

    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-chart", "drawn")
    expect(chart).to_have_attribute("aria-label", "各入口每 15 分钟入场次数")
    assert bars_drawn(page) > 0
    # the gate named with its zone in Chinese, in the legend vega drew
    expect(chart.locator("svg .role-legend")).to_contain_text("1号馆 · North Gate")
    expect(page.locator("#no-entries")).to_be_hidden()
    page.screenshot(path=tmp_path / "gate-dashboard-zh.png", full_page=True)
    assert errors == []
    context.close()


def test_a_wrong_device_link_is_refused_and_a_page_without_one_says_how_to_get_one(gate_server, browser):
    page = browser.new_page()
    page.goto(f"{gate_server['url']}/gate")
    expect(page.locator("body")).to_have_attribute("data-state", "no-token")
    expect(page.locator("#answer-note")).to_contain_text("needs the link of a gate device")
    page.goto(f"{gate_server['url']}/gate#token=ecd_not-a-device")
    expect(page.locator("body")).to_have_attribute("data-state", "refused")
    expect(page.locator("#answer-title")).to_have_text("Device not allowed")
    page.close()


def test_the_bundled_qr_decoder_reads_a_badge_qr(gate_server, browser):
    """Phones without BarcodeDetector read the camera with the jsQR copy the app serves: it reads our badge QR."""
    image = io.BytesIO()
    qrcode.make(gate_server["code"], border=4, box_size=6).save(image, format="PNG")
    page = browser.new_page()
    page.goto(f"{gate_server['url']}/gate")
    page.add_script_tag(url="/static/vendor/jsqr/jsQR.js")
    read = page.evaluate("""async (source) => {
        const picture = new Image();
        picture.src = source;
        await picture.decode();
        const canvas = document.createElement("canvas");
        canvas.width = picture.width;
        canvas.height = picture.height;
        const context = canvas.getContext("2d");
        context.drawImage(picture, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        const found = jsQR(pixels.data, pixels.width, pixels.height);
        return found && found.data;
    }""", "data:image/png;base64," + base64.b64encode(image.getvalue()).decode("ascii"))
    assert read == gate_server["code"]
    page.close()
