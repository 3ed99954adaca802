"""The pages where staff choose the edition they work for: the desk, the gates and the exhibitor list, each for
its own roles, each tile opening that area's page for the edition."""

from __future__ import annotations

import re

import pytest

from tests import factories

PAGES = [("/desk", "/desk/{id}", ("desk", "admin")), ("/gates", "/gates/{id}/dashboard", ("admin", "desk")),
         ("/exhibitors", "/exhibitors/{id}", ("admin", "marketing"))]


@pytest.mark.parametrize(("path", "target", "roles"), PAGES)
def test_each_area_lists_editions_newest_first_linking_to_its_own_page(client, session, path, target, roles):
    older = factories.edition(session, name="Fair 2025", year=2025)
    newer = factories.edition(session, name="Fair 2026", year=2026)
    factories.staff_user(session, username="chooser", role=roles[-1])
    session.commit()
    factories.login(client, account="chooser")
    page = client.get(path).text
    links = re.findall(r'href="http://testserver(/[^"]*)" data-edition-id="(\d+)"', page)
    assert links == [(target.format(id=newer.id), str(newer.id)), (target.format(id=older.id), str(older.id))]
    assert "Shanghai International Furniture Fair · NECC Shanghai" in page
    client.cookies.set("lang", "zh-CN")
    assert "上海国际家具展 · NECC Shanghai" in client.get(path).text


@pytest.mark.parametrize(("path", "target", "roles"), PAGES)
def test_other_roles_are_refused_and_an_empty_list_says_so(client, session, path, target, roles):
    others = {"admin", "desk", "marketing"} - set(roles)
    factories.staff_user(session, username="other", role=others.pop())
    factories.staff_user(session, username="allowed", role=roles[0])
    session.commit()
    factories.login(client, account="other")
    assert client.get(path).status_code == 403
    factories.login(client, account="allowed")
    assert "There are no editions yet." in client.get(path).text
