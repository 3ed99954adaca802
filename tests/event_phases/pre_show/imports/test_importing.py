"""Imports of visitor and exhibitor lists: reading, mapping, the dry run, and the all-or-nothing commit."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import select

from event_phases.on_site import search
from event_phases.pre_show.imports import committing
from event_phases.pre_show.imports import importing as imports
from event_phases.pre_show.imports.files import read_table, suggest_mapping
from exhibit_crm import audit
from exhibit_crm.models import (
    Company,
    Contact,
    ContactSource,
    Exhibitor,
    ExhibitorStatusChange,
    ProductCategory,
    Registration,
    RegistrationInterest,
    RegistrationQuestion,
)
from tests import factories

NOW = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
CHINESE_HEADER = "姓名,公司名称,手机号码,电子邮件,职务,省份,城市,国家/地区,感兴趣的产品\n"


@pytest.fixture
def edition(session):
    ed = factories.edition(session)
    for code, name, name_zh in (("sofas", "Sofas", "沙发"), ("beds", "Beds", "床")):
        session.add(ProductCategory(edition_id=ed.id, code=code, name=name, name_zh=name_zh))
    session.add(RegistrationQuestion(
        edition_id=ed.id, key="interests", label="Products of interest", label_zh="感兴趣的产品", kind="multiple",
        options=[{"value": "sofa", "label": "Sofas", "label_zh": "沙发", "category": "sofas"},
                 {"value": "bed", "label": "Beds", "label_zh": "床", "category": "beds"}]))
    session.commit()
    return ed


def _run(session, edition, data: bytes, *, commit=True, valid_only=False, mapping=None, kind="visitors",
         source="2026 buyers list", chunks: int | None = None):
    """Import in the session's transaction, or with `chunks` through the commit in chunks of that many rows."""
    table = read_table(data)
    questions = imports.questions_of(session, edition.id)
    mapping = mapping if mapping is not None else suggest_mapping(table.header, kind=kind, questions=questions)
    if chunks is not None:
        session.commit()  # the commit's transactions are its own
        return committing.commit(session.get_bind(), edition_id=edition.id, kind=kind, table=table, mapping=mapping,
                                 source=source, valid_only=valid_only, actor=audit.SYSTEM, now=NOW, chunk_rows=chunks)
    report = imports.run(session, edition_id=edition.id, kind=kind, table=table, mapping=mapping, source=source,
                         commit=commit, valid_only=valid_only, actor=audit.SYSTEM, now=NOW)
    session.commit()
    return report


# the commit in one transaction, and in chunks of one row: each test of both gives the same outcome
BOTH = pytest.mark.parametrize("chunks", [None, 1], ids=["one_transaction", "chunks"])


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


@BOTH
def test_a_gb18030_file_with_chinese_headers_is_read_mapped_and_imported(session, edition, chunks):
    text = CHINESE_HEADER + ("王伟,上海家居有限公司,138 0013 8000,Wang.Wei@QQ.com,采购经理,上海,上海,中国,沙发、床\n"
                             "欧阳䶮,广州华美家居,+86 139-0013-9000,,总经理,广东,广州,China,\n")
    data = text.encode("gb18030")
    table = read_table(data)
    assert table.encoding == "gb18030"
    assert suggest_mapping(table.header, kind="visitors", questions=imports.questions_of(session, edition.id)) == {
        "姓名": "full_name", "公司名称": "company", "手机号码": "phone", "电子邮件": "email", "职务": "title",
        "省份": "province", "城市": "city", "国家/地区": "country", "感兴趣的产品": "answers.interests"}

    dry = _run(session, edition, data, commit=False)
    assert (dry.rows, dry.new, dry.merged, dry.invalid, dry.committed) == (2, 2, 0, 0, False)
    assert _count(session, Contact) == 0

    report = _run(session, edition, data, chunks=chunks)
    assert (report.new, report.registered, report.committed) == (2, 2, True)
    wang = session.scalars(select(Contact).where(Contact.email == "wang.wei@qq.com")).one()
    assert (wang.full_name, wang.phone, wang.title, wang.country, wang.city) == (
        "王伟", "+8613800138000", "采购经理", "CN", "上海")
    assert session.get(Company, wang.company_id).name == "上海家居有限公司"
    rare = session.scalars(select(Contact).where(Contact.full_name == "欧阳䶮")).one()
    assert (rare.phone, rare.email, rare.country) == ("+8613900139000", None, "CN")
    registration = session.scalars(select(Registration).where(Registration.contact_id == wang.id)).one()
    assert (registration.source, registration.answers) == ("import", {"interests": ["sofa", "bed"]})
    assert registration.badge_type_id == factories_badge(session, edition, "trade_visitor")
    assert set(session.scalars(select(RegistrationInterest.category)
                               .where(RegistrationInterest.registration_id == registration.id))) == {"sofas", "beds"}
    assert set(session.scalars(select(ContactSource.source))) == {"2026 buyers list"}
    # the desk finds imported people
    hits = search.search(session, edition_id=edition.id, query="0013 9000")
    assert [h.full_name for h in hits] == ["欧阳䶮"]
    assert [h.full_name for h in search.search(session, edition_id=edition.id, query="wang.wei")] == ["王伟"]


def factories_badge(session, edition, code):
    from exhibit_crm.models import BadgeType

    return session.scalars(select(BadgeType.id).where(BadgeType.edition_id == edition.id,
                                                      BadgeType.code == code)).one()


def test_a_utf8_file_with_bom_and_english_headers(session, edition):
    data = "\ufeffFull name,E-mail,Mobile,Company,Badge type\nAnna Schmidt,anna@example.de,+49 151 23456789,Möbel AG," \
           "Public visitor\n".encode()
    table = read_table(data)
    assert (table.encoding, table.header[0]) == ("utf-8-sig", "Full name")
    report = _run(session, edition, data)
    assert (report.new, report.invalid) == (1, 0)
    anna = session.scalars(select(Contact)).one()
    assert anna.phone == "+4915123456789"
    registration = session.scalars(select(Registration)).one()
    assert registration.badge_type_id == factories_badge(session, edition, "public_visitor")


def test_an_xlsx_file_with_numbers_for_phones(session, edition):
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "手机", "邮箱", "单位名称"])
    sheet.append(["李娜", 13800138001, "li.na@163.com", "成都家具城"])
    sheet.append(["张强", 13800138002, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    report = _run(session, edition, buffer.getvalue())
    assert (report.encoding, report.new, report.invalid) == ("xlsx", 2, 0)
    assert set(session.scalars(select(Contact.phone))) == {"+8613800138001", "+8613800138002"}


BAD = (CHINESE_HEADER
       + "王伟,,13800138000,wang@qq.com,,,,,\n"
       + ",,13800138001,nobody@qq.com,,,,,\n"          # line 3: no name
       + "李娜,,12345,,,,,,\n"                          # line 4: bad phone
       + "张伟,,,not-an-email,,,,,\n"                   # line 5: bad e-mail
       + "刘洋,,13800138004,,,,,火星,\n"                # line 6: unknown country
       + "陈静,,13800138005,,,,,,桌子\n")               # line 7: not an option


@BOTH
def test_a_list_with_bad_rows_is_refused_whole(session, edition, chunks):
    with pytest.raises(imports.ImportRefused) as refused:
        _run(session, edition, BAD.encode(), chunks=chunks)
    session.rollback()
    report = refused.value.report
    assert (report.rows, report.new, report.invalid) == (6, 1, 5)
    assert [(p.line, p.column, p.code) for p in report.problems] == [
        (3, "姓名", "required"), (4, "手机号码", "invalid_phone"), (5, "电子邮件", "invalid_email"),
        (6, "国家/地区", "unknown_country"), (7, "感兴趣的产品", "invalid_choice")]
    assert report.problems[1].value == "12345"
    for model in (Contact, Company, Registration, ContactSource):
        assert _count(session, model) == 0


@BOTH
def test_valid_rows_only_imports_the_rest(session, edition, chunks):
    report = _run(session, edition, BAD.encode(), valid_only=True, chunks=chunks)
    assert (report.committed, report.new, report.invalid, report.registered) == (True, 1, 5, 1)
    assert list(session.scalars(select(Contact.full_name))) == ["王伟"]


@BOTH
def test_duplicates_in_the_file_and_in_the_database_are_merged(session, edition, chunks):
    known = factories.registration(session, edition, full_name="王伟", email="wang.wei@qq.com")
    other = factories.registration(session, edition, full_name="赵敏", email="zhao@163.com", phone="13700137000")
    data = ("姓名,手机,邮箱,职位\n"
            "王卫,13800138000,WANG.WEI@qq.com,采购经理\n"    # the known contact: phone filled, name kept
            "李娜,13900139000,li.na@163.com,\n"
            "李娜,139 0013 9000,,设计师\n"                   # the same person by phone, in the file
            "李娜娜,,LI.NA@163.com,\n"                       # the same person by e-mail
            "赵敏,,,\n"                                       # invalid: no way to reach
            "Zhao Min,13700137000,,Buyer\n").encode()        # the known contact by phone
    dry = _run(session, edition, data, commit=False)
    assert (dry.rows, dry.new, dry.merged, dry.duplicates, dry.invalid) == (6, 1, 2, 2, 1)
    report = _run(session, edition, data, valid_only=True, chunks=chunks)
    assert (report.new, report.merged, report.duplicates, report.registered) == (1, 2, 2, 1)
    assert _count(session, Contact) == 3
    wang = session.get(Contact, known.contact_id)
    session.refresh(wang)
    assert (wang.full_name, wang.phone, wang.title) == ("王伟", "+8613800138000", "采购经理")
    li = session.scalars(select(Contact).where(Contact.email == "li.na@163.com")).one()
    assert (li.full_name, li.phone, li.title) == ("李娜", "+8613900139000", "设计师")
    zhao = session.get(Contact, other.contact_id)
    session.refresh(zhao)
    assert (zhao.full_name, zhao.title) == ("赵敏", "Buyer")
    # the known people keep their registration; every contact remembers this list
    assert _count(session, Registration) == 3
    assert set(session.scalars(select(ContactSource.contact_id).where(ContactSource.source == "2026 buyers list"))) \
        == {wang.id, li.id, zhao.id}
    # the desk finds the phone the import gave the known contact
    assert [h.contact_id for h in search.search(session, edition_id=edition.id, query="138 0013 8000")] == [wang.id]


@BOTH
def test_a_phone_of_another_contact_is_not_taken_over(session, edition, chunks):
    factories.registration(session, edition, full_name="王伟", email="wang@qq.com")
    factories.registration(session, edition, full_name="前台", phone="13800138000")
    _run(session, edition, "姓名,邮箱,手机\n王伟,wang@qq.com,13800138000\n".encode(), chunks=chunks)
    assert session.scalars(select(Contact.phone).where(Contact.email == "wang@qq.com")).one() is None


def test_the_error_report_csv(session, edition):
    with pytest.raises(imports.ImportRefused) as refused:
        _run(session, edition, (CHINESE_HEADER + "=HYPERLINK(1),,123,,,,,,\n王伟,,+1-1,,,,,,\n").encode())
    data = imports.error_csv(refused.value.report)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["line", "column", "code", "reason", "value"]
    assert lines[1][:3] == ["2", "手机号码", "invalid_phone"] and lines[1][4] == "123"
    assert lines[2][:3] == ["3", "手机号码", "invalid_phone"] and lines[2][4] == "'+1-1"  # the exporters' guard


def test_a_mapping_naming_no_name_column_is_refused(session, edition):
    from exhibit_crm.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        _run(session, edition, b"a,b\n1,2\n", mapping={"a": "email"}, commit=False)
    assert refused.value.code == "field_missing"


def test_exhibitors_with_booths_and_categories(session, edition):
    factories.exhibitor_user(session, edition)  # holds booth N1 / N1-A01
    data = ("展商名称,展馆,展位号,面积,展品类别,状态\n"
            "上海家居有限公司,N2,A01,36,沙发、beds,已签约\n"
            "广州床垫厂,N1,N1-A01,18,床,意向\n"               # booth taken by another exhibitor
            "杭州桌椅,N2,A01,9,,\n"                          # booth taken by a row above
            "苏州木业,N3,B02,12,桌子,\n"                     # unknown category
            "上海家居有限公司,,,,sofas,paid\n").encode()     # the same company again
    with pytest.raises(imports.ImportRefused) as refused:
        _run(session, edition, data, kind="exhibitors")
    report = refused.value.report
    assert [(p.line, p.column, p.code) for p in report.problems] == [
        (3, "展位号", "booth_taken"), (4, "展位号", "booth_taken"), (5, "展品类别", "unknown_category")]
    session.rollback()
    assert _count(session, Exhibitor) == 1
    report = _run(session, edition, data, kind="exhibitors", valid_only=True)
    assert (report.new, report.duplicates, report.invalid) == (1, 1, 3)
    exhibitor = session.scalars(select(Exhibitor).join(Company).where(Company.name == "上海家居有限公司")).one()
    assert (exhibitor.booth_hall, exhibitor.booth_number, exhibitor.booth_sqm, exhibitor.status) == (
        "N2", "A01", 36.0, "paid")
    assert exhibitor.product_categories == ["sofas", "beds"]
    assert list(session.scalars(select(ExhibitorStatusChange.status)
                                .where(ExhibitorStatusChange.exhibitor_id == exhibitor.id))) == ["paid"]


def test_imported_people_are_found_by_the_desk_and_later_writers_are_indexed_too(session, edition):
    data = ("姓名,公司名称,手机号码,电子邮件\n"
            "欧阳娜娜,宁波甬兴红木家具厂,138 0013 8001,nana.ouyang@163.com\n"
            "Jürgen Müller,Möbelwerk Süd GmbH,+49 30 901820,juergen.mueller@moebel.de\n"
            "司马光,,+86 139-1234-5678,\n").encode()
    connection = session.connection().connection.dbapi_connection
    report = _run(session, edition, data)
    assert (report.new, report.registered) == (3, 3)

    def found(query: str) -> list[str]:
        return [hit.full_name for hit in search.search(session, edition_id=edition.id, query=query)]

    assert found("娜娜") == found("欧阳") == found("OUYANG@") == found("0013 8001") == ["欧阳娜娜"]
    assert found("甬兴红木") == ["欧阳娜娜"]
    assert found("müller") == found("möbelwerk") == found("moebel.de") == found("901820") == ["Jürgen Müller"]
    assert found("马光") == found("1234") == ["司马光"]
    # the import's connection goes back to the pool; whoever writes on it next has the triggers
    session.add(Contact(full_name="上官婉儿", phone="+8613700001111"))
    session.commit()
    if session.get_bind().dialect.name == "sqlite":
        assert session.connection().connection.dbapi_connection is connection
    factories.registration(session, edition, full_name="诸葛亮", email="kongming@shu.cn")
    assert found("婉儿") == [] and found("0001111") == []  # not registered: found only as a hint
    assert [h.full_name for h in search.search(session, edition_id=edition.id, query="婉儿",
                                               include_unregistered=True)] == ["上官婉儿"]
    assert found("葛亮") == found("kongming") == ["诸葛亮"]


@BOTH
def test_an_import_indexes_exactly_the_terms_the_triggers_make(session, edition, chunks):
    """The import indexes its contacts and companies itself (on SQLite); migration 0002's statements, run again
    over the same rows, make the same terms."""
    from importlib import import_module

    from sqlalchemy import delete, text

    from exhibit_crm.models.search import DeskSearchCompanyTerm, DeskSearchTerm
    desk_search = import_module("exhibit_crm.migrations.versions.0002_desk_search")
    data = ("姓名,公司名称,手机号码,电子邮件\n"
            "王  小明,ＡＢＣ 家具,13800138000,wang.xiao-ming+fair@example.com.cn\n"
            "株式会社 ㈱,㈱ 株式会社株式会社,+81 3-1234-5678,a_b.c@x.jp\n"
            "Ελένη Παπαδοπούλου,ΕΠΙΠΛΑ Α.Ε.,,eleni@example.gr\n").encode()
    _run(session, edition, data, chunks=chunks)
    dialect = session.get_bind().dialect.name
    for table, model, owner in (("contact", DeskSearchTerm, "contact_id"),
                                ("company", DeskSearchCompanyTerm, "company_id")):
        def terms(model=model, owner=owner):
            return set(session.execute(select(model.kind, model.term, getattr(model, owner))).all())
        imported = terms()
        assert imported
        session.execute(delete(model))
        session.execute(text(desk_search._insert(table, dialect, f"{table} AS c")))
        assert terms() == imported, table
    session.rollback()


@BOTH
def test_control_characters_in_cells_are_refused_per_row_but_tabs_and_line_breaks_stay(session, edition, chunks):
    rows = [["name", "email", "title"], ["Li\x00 Wei", "li@example.com", ""], ["Wang", "wang@example.com", "a\x07b"],
            ["Zhao", "zhao@example.com", "Head\tof\r\nsales"]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    with pytest.raises(imports.ImportRefused) as refused:
        _run(session, edition, buffer.getvalue().encode(), chunks=chunks)
    session.rollback()
    report = refused.value.report
    assert [(p.line, p.column, p.code) for p in report.problems] == [
        (2, "name", "control_character"), (3, "title", "control_character")]
    assert report.problems[0].value == "Li\ufffd Wei"
    report = _run(session, edition, buffer.getvalue().encode(), valid_only=True, chunks=chunks)
    assert (report.new, report.invalid) == (1, 2)
    assert session.scalars(select(Contact.title)).one() == "Head of sales"  # accepted, its spaces folded as ever
