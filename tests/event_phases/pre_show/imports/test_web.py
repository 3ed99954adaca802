"""The import pages: upload, mapping, dry run, commit after the response, progress and the error CSV."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlmodel import select

from event_phases.pre_show.imports import jobs as imports_jobs
from exhibit_crm.models import Contact, ContactSource, ImportJob, Registration
from tests import factories

GOOD = "姓名,手机号码,邮箱,单位名称,备注\n王伟,13800138000,wang@qq.com,上海家居,VIP\n李娜,13900139000,,,\n"
BAD = GOOD + ",13700137000,,,\n周杰,12345,,,\n"


@pytest.fixture
def edition(session):
    return factories.edition(session)


def _count(db, model) -> int:
    return db(lambda s: s.scalar(select(func.count()).select_from(model)))


def _upload(client, edition, data: bytes, *, filename="list.csv", source="buyers 2026", kind="visitors"):
    token = factories.csrf_from(client.get("/imports").text)
    return client.post("/imports/upload", data={"csrf_token": token, "edition_id": str(edition.id), "kind": kind,
                                                "source": source},
                       files={"file": (filename, data, "text/csv")}, follow_redirects=False)


def _job_id(response) -> int:
    assert response.status_code == 303, response.text
    return int(re.search(r"/imports/(\d+)$", response.headers["location"]).group(1))


def _post(client, job_id: int, action: str, data: dict | None = None):
    token = factories.csrf_from(client.get(f"/imports/{job_id}").text)
    return client.post(f"/imports/{job_id}/{action}", data={"csrf_token": token, **(data or {})},
                       follow_redirects=False)


def test_upload_map_check_and_import(admin, edition, db, settings):
    job_id = _job_id(_upload(admin, edition, GOOD.encode("gb18030")))
    job = db(lambda s: s.get(ImportJob, job_id))
    assert (job.status, job.encoding, job.rows_total, job.path.startswith("imports/")) == (
        "uploaded", "gb18030", 2, True)
    assert (settings.data_dir / job.path).read_bytes() == GOOD.encode("gb18030")
    page = admin.get(f"/imports/{job_id}").text
    assert '<option value="full_name" selected>' in page  # the suggested mapping is preselected
    assert "王伟" in page  # the first rows shown under the columns

    mapping = {"map:姓名": "full_name", "map:手机号码": "phone", "map:邮箱": "email", "map:单位名称": "",
               "map:备注": ""}
    assert _post(admin, job_id, "check", mapping).status_code == 303
    page = admin.get(f"/imports/{job_id}").text
    assert 'data-count="new"><strong>2</strong>' in page
    assert _count(db, Contact) == 0  # a dry run writes nothing

    assert _post(admin, job_id, "commit").status_code == 303  # the commit runs after the response
    job = db(lambda s: s.get(ImportJob, job_id))
    assert (job.status, job.rows_done, job.report["new"], job.mapping) == (
        "done", 2, 2, {"姓名": "full_name", "手机号码": "phone", "邮箱": "email"})
    assert admin.get(f"/imports/{job_id}/status").json() == {"status": "done", "rows_done": 2, "rows_total": 2}
    assert 'id="job-done"' in admin.get(f"/imports/{job_id}").text
    assert _count(db, Registration) == 2
    assert set(db(lambda s: list(s.scalars(select(ContactSource.source))))) == {"buyers 2026"}
    assert db(lambda s: s.scalars(select(Contact.company_id).where(Contact.email == "wang@qq.com")).one()) is None
    # started once only
    assert _post(admin, job_id, "commit").status_code == 409


def test_invalid_rows_are_listed_and_only_imported_when_chosen(admin, edition, db):
    job_id = _job_id(_upload(admin, edition, BAD.encode()))
    _post(admin, job_id, "check", {"map:姓名": "full_name", "map:手机号码": "phone", "map:邮箱": "email"})
    page = admin.get(f"/imports/{job_id}").text
    assert 'data-count="invalid"><strong>2</strong>' in page
    assert '<tr data-line="4"><td>4</td><td>姓名</td>' in page
    assert '<tr data-line="5"><td>5</td><td>手机号码</td><td>12345</td>' in page

    refused = _post(admin, job_id, "commit")  # without choosing "only the valid rows"
    assert refused.status_code == 422
    assert _count(db, Contact) == 0

    csv = admin.get(f"/imports/{job_id}/errors.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.startswith(b"\xef\xbb\xbf")
    assert csv.content.decode("utf-8-sig").splitlines()[1].startswith("4,姓名,required,")

    assert _post(admin, job_id, "commit", {"valid_only": "1"}).status_code == 303
    job = db(lambda s: s.get(ImportJob, job_id))
    assert (job.status, job.valid_only, job.report["new"], job.report["invalid"]) == ("done", True, 2, 2)
    assert _count(db, Contact) == 2


def test_an_unreadable_or_oversized_upload_stores_nothing(admin, edition, db, settings, monkeypatch):
    response = _upload(admin, edition, b"\xff\xfe\x00\x81garbage\x80\xff", filename="list.csv")
    assert response.status_code == 422
    assert 'id="upload-error"' in response.text
    monkeypatch.setattr(imports_jobs, "MAX_UPLOAD", 10)
    assert _upload(admin, edition, GOOD.encode()).status_code == 422
    assert _upload(admin, edition, GOOD.encode(), source=" ").status_code == 422
    assert _count(db, ImportJob) == 0
    assert not (settings.data_dir / "imports").exists() or not any((settings.data_dir / "imports").iterdir())


def test_an_xlsx_upload_of_exhibitors(admin, edition, db):
    import io

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["展商名称", "展馆", "展位号"])
    book.active.append(["上海家居有限公司", "N2", "A01"])
    buffer = io.BytesIO()
    book.save(buffer)
    job_id = _job_id(_upload(admin, edition, buffer.getvalue(), filename="exhibitors.xlsx", kind="exhibitors"))
    _post(admin, job_id, "check", {"map:展商名称": "company", "map:展馆": "booth_hall", "map:展位号": "booth_number"})
    assert _post(admin, job_id, "commit").status_code == 303
    job = db(lambda s: s.get(ImportJob, job_id))
    assert (job.encoding, job.status, job.report["new"]) == ("xlsx", "done", 1)


def test_only_admin_and_marketing_may_import(client, session, edition):
    factories.staff_user(session, username="desk1", role="desk")
    factories.staff_user(session, username="mk", role="marketing")
    assert client.get("/imports", follow_redirects=False).status_code == 303  # to the login page
    factories.login(client, account="desk1")
    assert client.get("/imports").status_code == 403
    client.cookies.clear()
    factories.login(client, account="mk")
    assert client.get("/imports").status_code == 200


def test_the_job_page_and_its_status_polls_do_not_parse_the_file_again(admin, edition, db, settings):
    job_id = _job_id(_upload(admin, edition, GOOD.encode("gb18030")))
    job = db(lambda s: s.get(ImportJob, job_id))
    (settings.data_dir / job.path).write_bytes(b"")  # what the pages show now comes from the upload's summary
    page = admin.get(f"/imports/{job_id}").text
    assert '<option value="full_name" selected>' in page and "王伟" in page
    assert admin.get(f"/imports/{job_id}/status").json() == {"status": "uploaded", "rows_done": 0, "rows_total": 2}


def test_a_workbook_claiming_a_huge_sheet_is_refused_at_upload(admin, edition, db, settings):
    from io import BytesIO

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Company"])
    book.active.append(["Acme"])
    book.active["XFD300000"] = "far out"
    buffer = BytesIO()
    book.save(buffer)
    response = _upload(admin, edition, buffer.getvalue(), filename="bomb.xlsx", kind="exhibitors")
    assert response.status_code == 422
    assert 'id="upload-error"' in response.text and "250000" in response.text
    assert _count(db, ImportJob) == 0


def test_the_dry_run_holds_no_write_lock_while_it_checks(admin, edition, db, engine, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock")
    import sqlite3

    from event_phases.pre_show.imports import importing

    checked = []

    def run_and_write_meanwhile(*args, **kwargs):
        other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)  # no waiting for a lock
        try:
            other.execute("BEGIN IMMEDIATE")  # "database is locked" if the check held the write lock
            other.execute("ROLLBACK")
        finally:
            other.close()
        checked.append(True)
        return real_run(*args, **kwargs)

    real_run = importing.run
    monkeypatch.setattr(importing, "run", run_and_write_meanwhile)
    job_id = _job_id(_upload(admin, edition, GOOD.encode("gb18030")))
    assert _post(admin, job_id, "check", {"map:姓名": "full_name", "map:手机号码": "phone"}).status_code == 303
    assert checked == [True]
    job = db(lambda s: s.get(ImportJob, job_id))
    assert (job.status, job.report["new"], job.mapping) == ("checked", 2, {"姓名": "full_name", "手机号码": "phone"})
