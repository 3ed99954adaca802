"""The desk search: names (two Chinese characters too), companies, e-mails, phone digits and badge codes, kept
current by the database whoever writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update

from badge_scanner.codes import Signer
from event_phases.on_site.search import search
from exhibit_crm import migrate
from exhibit_crm.db import make_engine, session_scope
from exhibit_crm.models import BadgeType, Company, Contact, Edition, Registration, Series
from exhibit_crm.models.search import DeskSearchCompanyTerm, DeskSearchTerm
from tests import factories
from tests.factories import insert_as_of

_phones = iter(range(10_000_000, 99_999_999))


@pytest.fixture
def edition(session) -> Edition:
    return factories.edition(session)


def badge_type(session, ed: Edition) -> BadgeType:
    return session.scalars(select(BadgeType).where(BadgeType.edition_id == ed.id).order_by(BadgeType.id)).first()


def company(session, name: str) -> Company:
    firm = Company(name=name, name_key="".join(name.lower().split()))
    session.add(firm)
    session.flush()
    return firm


def person(session, ed: Edition | None, full_name: str, *, email: str | None = None, phone: str | None = None,
           firm: Company | None = None) -> Contact:
    """A contact (a made-up mobile number unless given), registered in the edition unless it is None."""
    contact = Contact(full_name=full_name, email=email, phone=phone or f"+86139{next(_phones)}",
                      company_id=firm.id if firm else None)
    session.add(contact)
    session.flush()
    if ed is not None:
        session.add(Registration(contact_id=contact.id, edition_id=ed.id, badge_type_id=badge_type(session, ed).id))
    session.commit()
    return contact


def names(session, ed: Edition, query: str, **options) -> list[str]:
    return [hit.full_name for hit in search(session, edition_id=ed.id, query=query, **options)]


def test_a_two_character_chinese_name_finds_the_person_first_then_longer_names_holding_it(session, edition):
    for name in ("王伟东", "李伟", "王伟", "张王伟", "王芳", "伟王"):
        person(session, edition, name)
    assert names(session, edition, "王伟") == ["王伟", "王伟东", "张王伟"]
    assert names(session, edition, " 王伟 ") == ["王伟", "王伟东", "张王伟"]
    assert names(session, edition, "伟东") == ["王伟东"]


def test_one_character_finds_names_starting_with_it(session, edition):
    for name in ("王伟", "李王", "王芳"):
        person(session, edition, name)
    assert names(session, edition, "王") == ["王伟", "王芳"]


def test_part_of_a_latin_name_in_any_case_and_width(session, edition):
    person(session, edition, "Anna Schmidt")
    person(session, edition, "Hannah Schmidt-Weber")
    person(session, edition, "Jürgen MÜLLER")
    assert names(session, edition, "anna schmidt") == ["Anna Schmidt"]
    assert names(session, edition, "SCHM") == ["Anna Schmidt", "Hannah Schmidt-Weber"]
    # within a tier, in the order of what follows the text typed: "nnah…" before "nnas…"
    assert names(session, edition, "nna") == ["Hannah Schmidt-Weber", "Anna Schmidt"]
    # full-width, as a Chinese input method types it; a name starting with it comes before one holding it
    assert names(session, edition, "ＡＮＮＡ") == ["Anna Schmidt", "Hannah Schmidt-Weber"]
    assert names(session, edition, "müller") == ["Jürgen MÜLLER"]  # upper case beyond ASCII


def test_stored_full_width_text_is_folded_too(session, edition):
    # Core inserts skip the services that normalise names, so the index folds what it stores
    session.execute(insert(Company), [{"name": "ＡＢＣ　家具（上海）", "name_key": "abc"}])
    firm = session.scalars(select(Company)).one()
    session.execute(insert(Contact), [{"full_name": "Ｌｉｓａ　Ｗａｎｇ", "phone": "+8613900000001",
                                       "company_id": firm.id}])
    contact = session.scalars(select(Contact)).one()
    session.add(Registration(contact_id=contact.id, edition_id=edition.id, badge_type_id=badge_type(session,
                                                                                                    edition).id))
    session.commit()
    assert names(session, edition, "lisa wang") == ["Ｌｉｓａ　Ｗａｎｇ"]
    assert names(session, edition, "abc家具") == ["Ｌｉｓａ　Ｗａｎｇ"]
    assert names(session, edition, "(上海)") == ["Ｌｉｓａ　Ｗａｎｇ"]


def test_company_matches_come_after_name_matches(session, edition):
    person(session, edition, "陈静", firm=company(session, "广州华美家居有限公司"))
    person(session, edition, "李娜", firm=company(session, "华美灯饰"))
    person(session, edition, "张华美")
    hits = search(session, edition_id=edition.id, query="华美")
    assert [(hit.full_name, hit.matched) for hit in hits] == [
        ("张华美", "name"), ("李娜", "company"), ("陈静", "company")]
    assert hits[2].company == "广州华美家居有限公司"


def test_part_of_an_email(session, edition):
    person(session, edition, "王伟", email="wei.wang88@qq.com")
    person(session, edition, "Anna Schmidt", email="anna@kukahome.de")
    for query in ("wei.wang", "wang88", "WEI.WANG88@QQ.COM", "@qq.com", "qq.c"):
        assert names(session, edition, query) == ["王伟"], query
    assert names(session, edition, "kukahome") == ["Anna Schmidt"]


def test_phone_by_its_last_digits_or_the_whole_number_however_written(session, edition):
    person(session, edition, "王伟", phone="+8613812345678")
    person(session, edition, "Anna Schmidt", phone="+4915155566677")
    for query in ("5678", "2345678", "1234", "138 1234 5678", "+86 138-1234-5678", "0086 13812345678",
                  "１３８１２３４５６７８", "8613812345678"):
        assert names(session, edition, query) == ["王伟"], query
    assert names(session, edition, "678") == []  # three digits find no phone
    assert names(session, edition, "6677") == ["Anna Schmidt"]


def test_a_badge_code_finds_its_registration(session, edition, tmp_path):
    person(session, edition, "王伟")
    contact = person(session, edition, "李娜")
    registration = session.scalars(select(Registration).where(Registration.contact_id == contact.id)).one()
    signer = Signer.generate()
    code = signer.sign(registration.id, registration.badge_version)
    hits = search(session, edition_id=edition.id, query=code, verifier=signer.verifier)
    assert [(hit.registration_id, hit.matched) for hit in hits] == [(registration.id, "badge_code")]
    assert search(session, edition_id=edition.id, query=code.lower() + "\n", verifier=signer.verifier)
    # another organiser's key, or one character changed: nobody
    assert search(session, edition_id=edition.id, query=code, verifier=Signer.generate().verifier) == []
    tampered = code[:40] + ("A" if code[40] != "A" else "B") + code[41:]
    assert search(session, edition_id=edition.id, query=tampered, verifier=signer.verifier) == []
    # a registration of another edition: not this desk's
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    assert search(session, edition_id=other.id, query=code, verifier=signer.verifier) == []


def test_hits_carry_the_registration(session, edition):
    firm = company(session, "宜家家居")
    contact = person(session, edition, "王伟", email="wang.wei@example.cn", phone="+8613800138000", firm=firm)
    registration = session.scalars(select(Registration)).one()
    collected = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    registration.collected_at, registration.badge_version, registration.status = collected, 3, "cancelled"
    session.commit()
    [hit] = search(session, edition_id=edition.id, query="王伟")
    assert hit.registration_id == registration.id and hit.contact_id == contact.id
    assert (hit.full_name, hit.company, hit.email, hit.phone) == ("王伟", "宜家家居", "wang.wei@example.cn",
                                                                  "+8613800138000")
    assert (hit.badge_type_name, hit.status, hit.collected_at, hit.badge_version) == (
        badge_type(session, edition).name, "cancelled", collected, 3)


def test_only_the_editions_registrations_unless_asked_for_everyone(session, edition):
    other = factories.edition(session, name="Furniture Fair 2027", year=2027)
    person(session, edition, "王伟东")
    person(session, other, "王伟")
    person(session, None, "王伟明")
    assert names(session, edition, "王伟") == ["王伟东"]
    assert names(session, other, "王伟") == ["王伟"]
    # the edition's people first, then the others the text finds, each group best match first
    hits = search(session, edition_id=edition.id, query="王伟", include_unregistered=True)
    assert [(hit.full_name, hit.registration_id is None) for hit in hits] == [
        ("王伟东", False), ("王伟", True), ("王伟明", True)]
    assert all(hit.status is None and hit.badge_version is None for hit in hits[1:])


def test_long_and_repetitive_texts_are_indexed(session, edition):
    # the longest texts the columns hold, and queries cut to a hundred characters
    person(session, edition, "啊" * 200, email=("a." * 120) + "x@example.cn", firm=company(session, "㍿" * 300))
    assert names(session, edition, "啊" * 150) == ["啊" * 200]
    assert names(session, edition, "a.a.a.a.x@") == ["啊" * 200]
    # folded, the company's name is four times as long (1,200 characters): its terms are cut, and equal ones kept once
    assert names(session, edition, "株式会社株式") == ["啊" * 200]


def test_limit_and_queries_that_find_nothing(session, edition):
    for n in range(25):
        person(session, edition, f"王{chr(0x4E00 + n)}")
    assert len(search(session, edition_id=edition.id, query="王")) == 20
    assert len(search(session, edition_id=edition.id, query="王", limit=5)) == 5
    assert names(session, edition, "") == names(session, edition, "   ") == []
    assert names(session, edition, "鬱龘") == []
    assert names(session, edition, "x" * 500) == []


# The index follows every writer.

def test_rows_from_a_core_bulk_insert_are_found(session, edition):
    session.execute(insert(Company), [{"name": "佛山恒泰木业", "name_key": "佛山恒泰木业"}])
    firm = session.scalars(select(Company.id)).one()
    rows = [{"full_name": f"导入{n}号", "email": f"import{n}@example.cn", "phone": f"+86137{n:08d}",
             "company_id": firm} for n in range(300)]
    session.execute(insert(Contact).execution_options(render_nulls=True), rows)
    bt = badge_type(session, edition).id
    session.execute(insert(Registration), [{"contact_id": cid, "edition_id": edition.id, "badge_type_id": bt}
                                           for cid in session.scalars(select(Contact.id))])
    session.commit()
    assert names(session, edition, "导入123号") == ["导入123号"]
    assert names(session, edition, "import77@") == ["导入77号"]
    assert names(session, edition, "00000299") == ["导入299号"]
    assert len(search(session, edition_id=edition.id, query="恒泰")) == 20


def test_orm_updates_and_deletes_are_followed(session, edition):
    firm = company(session, "广州华美家居")
    contact = person(session, edition, "王伟", email="old@example.cn", phone="+8613800000001", firm=firm)
    contact.full_name, contact.email, contact.phone = "王伟东", "new@example.cn", "+8613911112222"
    firm.name = "深圳鑫源五金"
    session.commit()
    assert names(session, edition, "王伟") == ["王伟东"]
    assert names(session, edition, "伟东") == ["王伟东"]
    assert names(session, edition, "old@") == [] and names(session, edition, "new@") == ["王伟东"]
    assert names(session, edition, "0001") == [] and names(session, edition, "2222") == ["王伟东"]
    assert names(session, edition, "华美") == [] and names(session, edition, "鑫源") == ["王伟东"]
    # a Core update as well
    session.execute(update(Contact).where(Contact.id == contact.id).values(full_name="Anna Schmidt"))
    session.commit()
    assert names(session, edition, "王伟") == [] and names(session, edition, "schmidt") == ["Anna Schmidt"]
    # deleted people leave nothing behind
    session.execute(delete(Registration))
    session.delete(contact)
    session.flush()
    session.delete(firm)
    session.commit()
    assert session.scalar(select(func.count()).select_from(DeskSearchTerm)) == 0
    assert session.scalar(select(func.count()).select_from(DeskSearchCompanyTerm)) == 0


def test_upgrading_a_database_with_contacts_indexes_them(empty_database_url):
    engine = make_engine(empty_database_url)
    migrate.upgrade(engine, "0001")
    with engine.begin() as connection:
        series_id = insert_as_of(connection, Series(name="Furniture Fair"))
        edition_id = insert_as_of(connection, Edition(series_id=series_id, name="Furniture Fair 2026", year=2026))
        type_id = insert_as_of(connection, BadgeType(edition_id=edition_id, code="trade_visitor", name="Trade"))
        firm_id = insert_as_of(connection, Company(name="上海宜家家居", name_key="上海宜家家居"))
        for contact in (Contact(full_name="王伟", email="wang.wei@example.cn", phone="+8613812345678",
                                company_id=firm_id), Contact(full_name="Jürgen Müller", phone="+8613900000001")):
            contact_id = insert_as_of(connection, contact)
            insert_as_of(connection, Registration(contact_id=contact_id, edition_id=edition_id, badge_type_id=type_id))
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        assert [hit.full_name for hit in search(session, edition_id=edition_id, query="王伟")] == ["王伟"]
        assert [hit.full_name for hit in search(session, edition_id=edition_id, query="宜家")] == ["王伟"]
        assert [hit.full_name for hit in search(session, edition_id=edition_id, query="5678")] == ["王伟"]
        assert [hit.full_name for hit in search(session, edition_id=edition_id, query="MÜLLER")] == ["Jürgen Müller"]
    engine.dispose()


def test_a_deferred_index_block_indexes_its_rows_at_its_end_and_never_outlives_itself(session, edition):
    from exhibit_crm.models.search import deferred_index

    connection = session.connection()
    with deferred_index(connection, "company"), deferred_index(connection, "contact"):
        firm = company(session, "温州鹿城鞋业")
        contact = Contact(full_name="欧阳修", email="xiu@song.cn", company_id=firm.id)
        session.add(contact)
        session.flush()
        session.add(Registration(contact_id=contact.id, edition_id=edition.id, badge_type_id=badge_type(session,
                                                                                                       edition).id))
        session.flush()
    session.commit()
    assert names(session, edition, "阳修") == names(session, edition, "鹿城") == names(session, edition, "xiu@") \
        == ["欧阳修"]
    # a block that fails leaves nothing deferred: its rows go with the rollback, the next writer is indexed
    with pytest.raises(RuntimeError), deferred_index(session.connection(), "contact"):
        raise RuntimeError("the import failed")
    session.rollback()
    person(session, edition, "苏东坡")
    assert names(session, edition, "东坡") == ["苏东坡"]
