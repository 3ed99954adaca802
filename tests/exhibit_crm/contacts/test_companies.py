"""One company per name key: the unique constraint, and racing first registrations from one new company."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from exhibit_crm import contacts
from exhibit_crm.models import Company


def test_the_database_refuses_a_second_company_with_the_same_key(session):
    session.add(Company(name="华美家居", name_key="华美家居"))
    session.flush()
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(Company(name="华美 家居", name_key="华美家居"))
            session.flush()


def test_one_company_for_names_that_differ_in_spaces_and_case(session):
    first = contacts.find_or_create_company(session, name="Huamei Home")
    assert contacts.find_or_create_company(session, name=" huamei  home ").id == first.id
    stored = contacts.companies(session, ["HUAMEI HOME", "新公司", "新 公司", ""])
    assert stored == {"huameihome": (first.id, "Huamei Home"), "新公司": (stored["新公司"][0], "新公司")}
    assert session.scalar(select(func.count()).select_from(Company)) == 2


@pytest.mark.parametrize("bulk", [False, True])
def test_racing_first_registrations_from_one_new_company_make_it_once(engine, bulk):
    barrier = threading.Barrier(4)
    ids, errors = [], []

    def create():
        try:
            with Session(engine) as session:
                barrier.wait()
                if bulk:
                    ids.append(contacts.companies(session, ["上海 新家居"])["上海新家居"][0])
                else:
                    ids.append(contacts.find_or_create_company(session, name="上海新家居").id)
                session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as session:
        assert session.scalars(select(Company.id)).all() == [ids[0]]
    assert set(ids) == {ids[0]}
