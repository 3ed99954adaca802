import pytest

from exhibit_crm import assembly


def test_listed_modules_are_imported_in_order():
    modules = assembly.load(["exhibit_crm.errors", "exhibit_crm.assembly"], listed_in="a list", exposes="__doc__")
    assert [m.__name__ for m in modules] == ["exhibit_crm.errors", "exhibit_crm.assembly"]


@pytest.mark.parametrize("name", ["event_phases.post_show.web", "no_such_package.web"])
def test_a_missing_module_stops_with_an_error_naming_it(name):
    with pytest.raises(assembly.AssemblyError, match=f"a list names the module {name}, which does not exist"):
        assembly.load(["exhibit_crm.errors", name], listed_in="a list")


def test_a_module_without_what_the_list_expects_stops_too():
    with pytest.raises(assembly.AssemblyError, match="exhibit_crm.errors, which has no `routes`"):
        assembly.load(["exhibit_crm.errors"], listed_in="a list", exposes="routes")


def test_a_broken_import_inside_a_listed_module_is_not_hidden(tmp_path, monkeypatch):
    (tmp_path / "broken_leaf.py").write_text("import no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency"):
        assembly.load(["broken_leaf"], listed_in="a list")
