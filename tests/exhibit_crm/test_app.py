import importlib

import pytest
from starlette.routing import BaseRoute

from exhibit_crm import app as app_module
from exhibit_crm.app import MODULES, create_app
from exhibit_crm.assembly import AssemblyError
from exhibit_crm.web.templating import NavItem


@pytest.mark.parametrize("name", MODULES)
def test_every_listed_module_exists_and_exposes_its_routes_and_nav(name):
    module = importlib.import_module(name)
    assert module.routes and all(isinstance(route, BaseRoute) for route in module.routes)
    assert all(isinstance(item, NavItem) for item in getattr(module, "nav", ()))


def test_route_names_are_unique_across_the_modules():
    names = [route.name for name in MODULES for route in importlib.import_module(name).routes
             if getattr(route, "name", None)]
    assert len(names) == len(set(names))


def test_a_listed_module_that_is_missing_stops_start_up(settings, monkeypatch):
    monkeypatch.setattr(app_module, "MODULES", (*MODULES, "event_phases.post_show.web"))
    with pytest.raises(AssemblyError, match="exhibit_crm.app.MODULES names the module event_phases.post_show.web"):
        create_app(settings)
