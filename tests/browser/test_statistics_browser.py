"""In a real browser: an admin opens the report of the demo's past edition in Chinese, sees its charts drawn and the
list of its exhibitors who have not booked the next edition, and downloads the report as XLSX."""

from __future__ import annotations

import openpyxl
import pytest
from playwright.sync_api import expect

from exhibit_crm import migrate
from exhibit_crm.db import make_engine, run_in_session
from exhibit_crm.demo import build_demo
from exhibit_crm.demo.data import STAFF_LOGINS
from tests import servers

pytestmark = pytest.mark.browser
ADMIN, PASSWORD, _ROLE = STAFF_LOGINS[0]


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    """A server on a small demo: the 2025 edition held, with scans and leads, and 2026 before its opening."""
    folder = tmp_path_factory.mktemp("demo")
    database_url = f"sqlite:///{folder / 'crm.sqlite'}"
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
        run_in_session(engine, build_demo, visitors=600, exhibitors=40)
    finally:
        engine.dispose()
    env = {"DATABASE_URL": database_url, "DATA_DIR": str(folder / "data"), "DEFAULT_LANGUAGE": "zh-CN"}
    with servers.serve(env, log=folder / "server.log") as url:
        yield url


def test_the_past_editions_report_with_charts_churn_list_and_xlsx(demo_server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True, locale="zh-CN")
    problems: list[str] = []
    # Chromium asks for /favicon.ico on its own; the app has none
    page.on("console", lambda message: problems.append(message.text) if message.type == "error"
            and not message.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{demo_server}/login")
    page.fill("input[name=account]", ADMIN)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    expect(page.locator("#today")).to_be_visible()  # the start page's figures of the coming edition

    page.click("nav.mainnav a[href$='/statistics']")
    page.click("#editions a:has-text('2025')")
    expect(page.locator("h1")).to_contain_text("2025")
    expect(page.locator("h1")).to_contain_text("届次报告")  # the browser asks for Chinese
    charts = page.locator(".chart[data-chart=drawn]")
    expect(charts).to_have_count(page.locator(".chart").count())
    assert charts.count() >= 4
    expect(page.locator(".chart svg").first).to_be_visible()
    assert page.locator("#chart-arrivals svg .mark-line path, #chart-arrivals svg .mark-symbol path").count() > 0

    listed = page.locator("#not-rebooked-list tbody tr[data-exhibitor-id]")
    assert listed.count() > 0
    expect(page.locator("#not-rebooked h2")).to_contain_text("2026")

    with page.expect_download() as waiting:
        page.click("#files a[href$='/report.xlsx']")
    path = tmp_path / "report.xlsx"
    waiting.value.save_as(path)
    book = openpyxl.load_workbook(path)
    assert "概览" in book.sheetnames and "尚未续订展商名单" in book.sheetnames
    not_rebooked = list(book["尚未续订展商名单"].iter_rows(min_row=2, values_only=True))
    assert len(not_rebooked) == listed.count()
    assert problems == []
