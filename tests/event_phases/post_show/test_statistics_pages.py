"""The statistics pages: the report page for admin and marketing (others refused), its JSON and its files with every
download logged, unknown editions answered 404, and the start page's figures of the current edition."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from sqlmodel import select

from event_phases.post_show.statistics.downloads import DOWNLOADED
from event_phases.post_show.statistics.today import today_figures
from exhibit_crm.models import AuditLog
from tests import factories

from . import show


@pytest.fixture
def built(session):
    return show.build(session)


def test_the_report_page_shows_figures_charts_and_the_churn_list(admin, built):
    page = admin.get(f"/statistics/{built['this']}")
    assert page.status_code == 200
    html = page.text
    assert 'id="churn-list"' in html and "老客" in html and "laoke@show.example" in html
    assert html.count('class="chart"') >= 4 and "charts" in html
    assert "Visitors attended" in html and "International (GB/T 26165)" in html


def test_the_churn_list_sorts_by_the_column_asked(admin, built):
    html = admin.get(f"/statistics/{built['this']}?churn=company").text
    churn = html[html.index('id="churn-list"'):]
    assert churn.index(">X<") < churn.index(">老客<")  # "X" sorts before "老客"
    html = admin.get(f"/statistics/{built['this']}").text
    churn = html[html.index('id="churn-list"'):]
    assert churn.index(">老客<") < churn.index(">X<")  # by m², the largest first


def test_the_report_page_in_chinese(admin, built):
    admin.cookies.set("lang", "zh-CN")
    html = admin.get(f"/statistics/{built['this']}").text
    assert "流失展商名单" in html and "到场观众" in html and "国际性展会" in html


def test_marketing_reads_the_report_desk_does_not(client, session, built):
    factories.staff_user(session, username="mia", role="marketing")
    factories.staff_user(session, username="dan", role="desk")
    factories.login(client, account="dan")
    assert client.get(f"/statistics/{built['this']}", follow_redirects=False).status_code == 403
    client.cookies.clear()
    factories.login(client, account="mia")
    assert client.get(f"/statistics/{built['this']}").status_code == 200


def test_an_unknown_edition_is_404(admin):
    assert admin.get("/statistics/424242").status_code == 404
    assert admin.get("/statistics/424242/report.json").status_code == 404


def test_the_json_is_the_report(admin, built):
    report = admin.get(f"/statistics/{built['this']}/report.json").json()
    assert report["visitors"]["attended"] == 4 and report["previous_edition"]["rebooked"] == 1


def test_every_download_is_logged(admin, db, built):
    book = admin.get(f"/statistics/{built['this']}/report.xlsx")
    assert book.status_code == 200 and "attachment" in book.headers["content-disposition"]
    assert "Summary" in openpyxl.load_workbook(__import__("io").BytesIO(book.content)).sheetnames
    churn = admin.get(f"/statistics/{built['this']}/churn.csv")
    assert churn.status_code == 200 and "老客" in churn.content.decode("utf-8-sig")
    assert admin.get(f"/statistics/{built['this']}/attendees.xlsx").status_code == 200
    assert admin.get(f"/statistics/{built['this']}/report.docx").status_code == 422
    logged = db(lambda s: [(row.data["file"], row.data["format"], row.data["rows"]) for row in s.scalars(
        select(AuditLog).where(AuditLog.action == DOWNLOADED).order_by(AuditLog.id))])
    assert logged == [("report", "xlsx", 0), ("churn", "csv", 2), ("attendees", "xlsx", 4)]


def test_today_before_the_show(session, built):
    # 1 March 2026 12:00: 2026 opens on 10 March; registered so far P1 P2 P5 P7 (P6 cancelled), none today.
    # 2025 at the same time before its opening (1 March 2025 12:00): P1 P5 P11.
    figures = today_figures(session, now=show.at(date(2026, 3, 1), "12:00"))
    assert figures["edition"]["year"] == 2026 and figures["phase"] == "pre_show" and figures["days_before"] == 9
    assert (figures["registrations"], figures["registrations_today"]) == (4, 0)
    assert figures["previous"] == {"id": built["past"], "year": 2025, "registrations": 3}
    assert (figures["exhibitors"], figures["net_sqm"]) == (2, 54.0)
    assert "entries_today" not in figures


def test_today_during_the_show(session, built):
    # day 2, 12:00: P3 registered today at 10:00; entered today P1 and P3 (visitors)
    figures = today_figures(session, now=show.at(date(2026, 3, 11), "12:00"))
    assert figures["phase"] == "on_site"
    assert (figures["registrations_today"], figures["registrations"]) == (1, 5)
    assert figures["entries_today"] == 2


def test_the_start_page_shows_todays_figures(admin, built):
    html = admin.get("/").text
    assert 'id="today"' in html and 'id="today-registered"' in html


def test_the_past_edition_page_lists_who_has_not_rebooked(admin, built):
    html = admin.get(f"/statistics/{built['past']}").text
    listed = html[html.index('id="not-rebooked-list"'):]
    assert listed.index(">老客<") < listed.index(">X<") and "laoke@show.example" in listed
    assert admin.get(f"/statistics/{built['past']}/not_rebooked.csv").content.decode("utf-8-sig").count("\n") == 3
