"""In a real browser: an admin signs in, switches to Chinese, sets up an edition with two zones, a gate and a badge
type for trade visitors, and finds it in the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import ADMIN, PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=account]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("header .who")).to_have_text(ADMIN)


def submit(page: Page, form: str, fields: dict[str, str], selects: dict[str, str] | None = None) -> None:
    """Fill a form found by its id, its fields by their names, send it and wait for the answer page."""
    for name, value in fields.items():
        page.fill(f"{form} [name={name}]", value)
    for name, value in (selects or {}).items():
        page.select_option(f"{form} [name={name}]", value)
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]:not([formaction])")


def test_admin_creates_an_edition_with_zones_and_a_gate_in_chinese(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    sign_in(page, server)

    page.click("header a[data-lang='zh-CN']")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click("nav.mainnav a[href$='/admin/series']")
    expect(page.locator("h1")).to_have_text("展会与届次")

    submit(page, "#form-series-new", {"name": "Shanghai Furniture Fair", "name_zh": "上海国际家具展"})
    expect(page.locator("p.flash")).to_have_text("已保存。")
    submit(page, "#form-edition-new", {"name": "Furniture Fair 2026", "year": "2026", "venue": "国家会展中心",
                                       "timezone": "Asia/Shanghai"}, {"badge_layout": "4x3in"})
    expect(page.locator("h1")).to_contain_text("Furniture Fair 2026")

    for name, name_zh, rule in (("Hall 1", "一号馆", "free"), ("VIP Lounge", "贵宾室", "strict")):
        submit(page, "#form-zone-new", {"name": name, "name_zh": name_zh, "margin_minutes": "20"}, {"reentry": rule})
        expect(page.locator(".zone h3", has_text=name)).to_be_visible()
    hall = page.locator(".zone", has=page.locator("h3", has_text="Hall 1"))
    submit(page, f"#{hall.locator('form[id^=form-gate-new]').get_attribute('id')}", {"name": "北门 North gate"})
    expect(hall.locator("form[id^='form-gate-'] input[value='北门 North gate']")).to_have_count(1)
    submit(page, "#form-badge_type-new", {"code": "vip_buyer", "name": "VIP buyer", "name_zh": "VIP买家"},
           {"audience": "trade_visitor"})
    saved = page.locator("#badge-types form:not(#form-badge_type-new) select[name=audience]")
    expect(saved).to_have_value("trade_visitor")
    expect(saved.locator("option:checked")).to_have_text("专业观众")

    page.click("nav.mainnav a[href$='/admin/series']")
    row = page.locator("tr", has=page.locator("a", has_text="Furniture Fair 2026"))
    expect(row).to_have_count(1)
    expect(row.locator("td.zones")).to_have_text("2")
    expect(row.locator("td.gates")).to_have_text("1")
    expect(page.locator("thead")).to_contain_text("区域")
    page.screenshot(path=tmp_path / "editions-desk.png", full_page=True)

    row.locator("a").click()
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#zones h2")).to_have_text("区域与入口")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the edition page scrolls sideways on a phone"
    page.screenshot(path=tmp_path / "edition-phone.png", full_page=True)
    page.close()
