"""`exhibit-crm badge render` and `badges print` against a real database."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from PIL import Image
from sqlmodel import Session, select

from badge_scanner.codes import load_signer
from exhibit_crm import commands
from exhibit_crm.cli import main
from exhibit_crm.db import make_engine
from exhibit_crm.models import AuditLog, BadgeType, Company, Contact, Edition, Registration
from tests import factories
from tests.exporters import pdf_info, rasterise, read_qr_codes

# name, company, badge type, status; badges print orders them by company, then name
PEOPLE = [
    ("王伟", "上海家具进出口有限公司", "trade_visitor", "registered"),
    ("Anna Schmidt", "Deutsche Möbel GmbH", "trade_visitor", "registered"),
    ("李娜", "上海家具进出口有限公司", "public_visitor", "registered"),
    ("王䶮", "", "trade_visitor", "registered"),
    ("张敏", "Deutsche Möbel GmbH", "trade_visitor", "cancelled"),
]


@dataclass
class Show:
    database_url: str
    edition_id: int
    registration_ids: list[int]
    badge_types: dict[str, int]


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "data"


@pytest.fixture
def show(monkeypatch, database_url, data_dir) -> Show:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    commands.close()
    engine = make_engine(database_url)
    with Session(engine) as session:
        ed = factories.edition(session)
        badge_types = {t.code: t.id for t in session.exec(select(BadgeType).where(BadgeType.edition_id == ed.id))}
        companies: dict[str, int] = {}
        ids = []
        for i, (name, company, badge_type, status) in enumerate(PEOPLE):
            if company and company not in companies:
                firm = Company(name=company, name_key=company.lower().replace(" ", ""))
                session.add(firm)
                session.flush()
                companies[company] = firm.id
            contact = Contact(full_name=name, phone=f"+86138001380{i:02d}", company_id=companies.get(company))
            session.add(contact)
            session.flush()
            registration = Registration(contact_id=contact.id, edition_id=ed.id, badge_type_id=badge_types[badge_type],
                                        status=status)
            session.add(registration)
            session.flush()
            ids.append(registration.id)
        session.commit()
        edition_id = ed.id
    engine.dispose()
    yield Show(database_url, edition_id, ids, badge_types)
    commands.close()
    load_signer.cache_clear()


def _run(capsys, *argv) -> tuple[int, dict]:
    status = main([str(arg) for arg in argv])
    return status, json.loads(capsys.readouterr().out)


def _audit(show: Show, action: str) -> list[AuditLog]:
    engine = make_engine(show.database_url)
    with Session(engine) as session:
        entries = list(session.exec(select(AuditLog).where(AuditLog.action == action)))
    engine.dispose()
    return entries


def _code(data_dir, registration_id: int) -> str:
    return load_signer(data_dir).sign(registration_id, 1)


def test_badge_render_writes_a_png_whose_qr_is_the_current_code(show, data_dir, tmp_path, capsys):
    out = tmp_path / "badge.png"
    status, report = _run(capsys, "badge", "render", show.registration_ids[0], "--format", "png", "--out", out,
                          "--json")
    assert status == 0
    assert report == {"registration_id": show.registration_ids[0], "badge_version": 1, "format": "png",
                      "layout": "A6", "path": str(out), "bytes": out.stat().st_size}
    assert [code.text for code in read_qr_codes(Image.open(out))] == [_code(data_dir, show.registration_ids[0])]
    assert [entry.data["registration_id"] for entry in _audit(show, "exporters.badge.rendered")] == \
        [show.registration_ids[0]]


def test_badge_render_writes_a_pdf_of_the_editions_layout(show, data_dir, tmp_path, capsys):
    engine = make_engine(show.database_url)
    with Session(engine) as session:
        session.get(Edition, show.edition_id).badge_layout = "4x3in"
        session.commit()
    engine.dispose()
    out = tmp_path / "badge.pdf"
    status, report = _run(capsys, "badge", "render", show.registration_ids[3], "--format", "pdf", "--out", out,
                          "--json")
    assert status == 0 and report["layout"] == "4x3in"
    assert pdf_info(out)["Page size"] == "288 x 216 pts"
    assert [code.text for code in read_qr_codes(rasterise(out, dpi=200))] == [_code(data_dir,
                                                                                    show.registration_ids[3])]


def test_badge_render_refuses_a_cancelled_registration(show, tmp_path, capsys):
    out = tmp_path / "badge.png"
    status, error = _run(capsys, "badge", "render", show.registration_ids[4], "--format", "png", "--out", out,
                         "--json")
    assert (status, error["error"]) == (1, "registration_cancelled")
    assert not out.exists()


def test_badges_print_tiles_the_active_badges_by_company_then_name(show, data_dir, tmp_path, capsys):
    out = tmp_path / "sheet.pdf"
    status, report = _run(capsys, "badges", "print", "--edition", show.edition_id, "--out", out, "--json")
    assert status == 0
    first, anna, li_na, yan, _cancelled = show.registration_ids
    # no company first, then "Deutsche…" before "上海…", and within a company by name
    assert report["registration_ids"] == [yan, anna, li_na, first]
    assert (report["badges"], report["pages"]) == (4, 1)
    assert pdf_info(out)["Pages"] == "1"
    found = read_qr_codes(rasterise(out))
    assert [code.text for code in found] == [_code(data_dir, ident) for ident in report["registration_ids"]]
    [entry] = _audit(show, "exporters.badges.printed")
    assert (entry.actor_type, entry.data["badges"], entry.data["registration_ids"]) == \
        ("cli", 4, report["registration_ids"])


def test_badges_print_by_badge_type_or_registrations(show, tmp_path, capsys):
    out = tmp_path / "sheet.pdf"
    status, report = _run(capsys, "badges", "print", "--edition", show.edition_id, "--badge-type",
                          show.badge_types["public_visitor"], "--out", out, "--json")
    assert (status, report["registration_ids"]) == (0, [show.registration_ids[2]])
    chosen = show.registration_ids[:2]
    status, report = _run(capsys, "badges", "print", "--edition", show.edition_id, "--registration", *chosen,
                          "--out", out, "--json")
    assert (status, sorted(report["registration_ids"])) == (0, sorted(chosen))


def test_badges_print_with_nothing_to_print_fails(show, tmp_path, capsys):
    out = tmp_path / "sheet.pdf"
    status, error = _run(capsys, "badges", "print", "--edition", show.edition_id + 1000, "--out", out, "--json")
    assert (status, error["error"]) == (1, "no_badges")
    assert not out.exists()


def test_an_unwritable_output_is_an_error_naming_it(show, tmp_path, capsys):
    out = tmp_path / "no such directory" / "badge.png"
    status, error = _run(capsys, "badge", "render", show.registration_ids[0], "--format", "png", "--out", out,
                         "--json")
    assert (status, error["error"], error["field"]) == (1, "unwritable", "out")
