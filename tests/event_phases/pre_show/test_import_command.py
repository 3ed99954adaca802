"""`exhibit-crm import`: the JSON report, the exit code of a refused list, dry runs and column overrides."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from exhibit_crm.cli import main
from exhibit_crm.db import make_engine
from exhibit_crm.models import Contact, ContactSource, Exhibitor, ProductCategory
from tests import factories

GOOD = "姓名,手机号码,邮箱,单位名称\n王伟,13800138000,wang@qq.com,上海家居\n李娜,13900139000,,\n"
BAD = GOOD + ",13700137000,,\n周杰,12345,,\n"


@pytest.fixture
def edition_id(cli_env) -> int:
    engine = make_engine(cli_env)
    with Session(engine) as session:
        ed = factories.edition(session)
        session.add(ProductCategory(edition_id=ed.id, code="sofas", name="Sofas", name_zh="沙发"))
        session.commit()
        ident = ed.id
    engine.dispose()
    return ident


def _count(database_url, model) -> int:
    engine = make_engine(database_url)
    with Session(engine) as session:
        found = session.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return found


def _file(tmp_path, text: str, encoding: str = "gb18030"):
    path = tmp_path / "list.csv"
    path.write_bytes(text.encode(encoding))
    return str(path)


def _run(capsys, *argv) -> tuple[int, dict]:
    status = main(list(argv))
    return status, json.loads(capsys.readouterr().out)


def test_a_list_is_imported_with_a_json_report(cli_env, edition_id, tmp_path, capsys):
    status, report = _run(capsys, "import", _file(tmp_path, GOOD), "--edition", str(edition_id), "--kind", "visitors",
                          "--source", "buyers 2026", "--json")
    assert status == 0
    assert {k: report[k] for k in ("rows", "new", "merged", "invalid", "committed", "registered", "encoding")} == {
        "rows": 2, "new": 2, "merged": 0, "invalid": 0, "committed": True, "registered": 2, "encoding": "gb18030"}
    assert report["mapping"] == {"姓名": "full_name", "手机号码": "phone", "邮箱": "email", "单位名称": "company"}
    assert _count(cli_env, ContactSource) == 2
    # the same list again: everyone merged, nobody new
    status, again = _run(capsys, "import", _file(tmp_path, GOOD), "--edition", str(edition_id), "--kind",
                         "visitors", "--source", "buyers 2026", "--json")
    assert (status, again["new"], again["merged"], again["registered"]) == (0, 0, 2, 0)
    assert _count(cli_env, Contact) == 2


def test_a_list_with_invalid_rows_is_refused_with_each_row_named(cli_env, edition_id, tmp_path, capsys):
    status, report = _run(capsys, "import", _file(tmp_path, BAD), "--edition", str(edition_id), "--kind", "visitors",
                          "--source", "buyers", "--json")
    assert status == 1
    assert (report["committed"], report["invalid"], report["new"]) == (False, 2, 2)
    assert [(r["line"], r["column"], r["code"]) for r in report["invalid_rows"]] == [
        (4, "姓名", "required"), (5, "手机号码", "invalid_phone")]
    assert _count(cli_env, Contact) == 0


def test_valid_only_and_dry_run(cli_env, edition_id, tmp_path, capsys):
    args = ("import", _file(tmp_path, BAD), "--edition", str(edition_id), "--kind", "visitors", "--source", "b")
    status, report = _run(capsys, *args, "--dry-run", "--json")
    assert (status, report["committed"], report["invalid"]) == (0, False, 2)
    assert _count(cli_env, Contact) == 0
    status, report = _run(capsys, *args, "--valid-only", "--json")
    assert (status, report["committed"], report["new"]) == (0, True, 2)
    assert _count(cli_env, Contact) == 2


def test_map_overrides_the_suggested_columns_and_text_output(cli_env, edition_id, tmp_path, capsys):
    text = "Who,Reach me,Notes\nAnna Schmidt,anna@example.de,call after 3\n"
    status = main(["import", _file(tmp_path, text, "utf-8"), "--edition", str(edition_id), "--kind", "visitors",
                   "--source", "fair", "--map", "Who=full_name", "--map", "Reach me=email"])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("imported: 1 rows (utf-8): 1 new")
    assert "Who -> full_name, Reach me -> email" in out


def test_exhibitors_from_the_command_line(cli_env, edition_id, tmp_path, capsys):
    text = "Company,Hall,Booth,Sqm,Categories,Status\nMöbel AG,E1,E1-01,54,Sofas,contracted\n"
    status, report = _run(capsys, "import", _file(tmp_path, text, "utf-8"), "--edition", str(edition_id), "--kind",
                          "exhibitors", "--source", "sales", "--json")
    assert (status, report["new"]) == (0, 1)
    assert _count(cli_env, Exhibitor) == 1


def test_an_unknown_column_in_map_is_an_error(cli_env, edition_id, tmp_path, capsys):
    status = main(["import", _file(tmp_path, GOOD), "--edition", str(edition_id), "--kind", "visitors",
                   "--source", "b", "--map", "Nope=email", "--json"])
    assert status == 1
    assert json.loads(capsys.readouterr().out)["error"] == "unknown_column"


def test_a_nul_in_a_cell_is_an_invalid_row_not_a_crash(cli_env, edition_id, tmp_path, capsys):
    text = GOOD + "张\x00伟,13700137000,,\n赵敏,13600136000,,上海\t家居\n"
    status, report = _run(capsys, "import", _file(tmp_path, text), "--edition", str(edition_id), "--kind",
                          "visitors", "--source", "buyers", "--valid-only", "--json")
    assert status == 0
    assert [(r["line"], r["column"], r["code"]) for r in report["invalid_rows"]] == [(4, "姓名", "control_character")]
    assert "\x00" not in report["invalid_rows"][0]["value"]
    assert (report["committed"], report["new"], report["invalid"]) == (True, 3, 1)
    assert _count(cli_env, Contact) == 3
