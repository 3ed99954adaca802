"""zh-CN and English: every message in the templates and the code has a Chinese translation, and each request
gets its language from the cookie, else the browser's Accept-Language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from exhibit_crm.i18n import LOCALE_DIR, pick_language
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_METHODS = [("**.html", "jinja2.ext:babel_extract"), ("**.txt", "jinja2.ext:babel_extract")]
PYTHON_PACKAGES = ("exhibit_crm", "event_phases", "badge_scanner", "exporters")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extracted() -> dict[str | tuple, str]:
    """Every translatable message in templates/ and the Python packages, with where it was first seen."""
    sources = [(ROOT / "templates", TEMPLATE_METHODS)]
    sources += [(ROOT / name, [("**.py", "python")]) for name in PYTHON_PACKAGES if (ROOT / name).is_dir()]
    found: dict[str | tuple, str] = {}
    for folder, methods in sources:
        for filename, lineno, message, _comments, _context in extract_from_dir(folder, method_map=methods):
            found.setdefault(message, f"{folder.name}/{filename}:{lineno}")
    return found


def zh_catalog() -> dict[str | tuple, tuple[str, ...]]:
    """Every zh_CN catalog merged: message id -> its translations (one per plural form)."""
    merged: dict[str | tuple, tuple[str, ...]] = {}
    for path in sorted((LOCALE_DIR / "zh_CN" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
        assert catalog.locale.language == "zh" and catalog.charset.lower() == "utf-8", path.name
        for message in catalog:
            if message.id:
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                assert merged.setdefault(message.id, strings) == strings, f"{message.id!r}: two translations"
    return merged


def test_the_code_has_messages_to_translate():
    messages = extracted()
    assert "Sign in" in messages and "Zones and gates" in messages and "Wrong username or password." in messages


def test_every_message_has_a_chinese_translation():
    catalog = zh_catalog()
    missing = [f"{where}: {message!r}" for message, where in extracted().items()
               if not all(text.strip() for text in catalog.get(message, ("",)))]
    assert not missing, "untranslated for zh_CN:\n" + "\n".join(missing)


def test_translations_keep_their_placeholders():
    for message, strings in zh_catalog().items():
        wanted = sorted(PLACEHOLDER.findall(message if isinstance(message, str) else message[0]))
        for text in strings:
            assert sorted(PLACEHOLDER.findall(text)) == wanted, message


@pytest.mark.parametrize(("cookie", "accept", "expected"), [
    ("zh-CN", "en-US,en;q=0.9", "zh-CN"),
    ("en", "zh-CN,zh;q=0.9", "en"),
    (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
    (None, "zh-TW", "zh-CN"),
    (None, "de-DE,en;q=0.5", "en"),
    (None, None, "en"),
    ("klingon", "fr", "en"),
])
def test_language_comes_from_the_cookie_then_the_browser(cookie, accept, expected):
    assert pick_language(cookie=cookie, accept_language=accept, default="en") == expected


def test_the_language_cookie_picks_the_pages_language(client):
    client.cookies.set("lang", "zh-CN")
    page = client.get("/login").text
    assert '<html lang="zh-CN">' in page and "登录" in page and "用户名" in page and "Sign in" not in page
    client.cookies.set("lang", "en")
    page = client.get("/login").text
    assert "Sign in" in page and "登录" not in page


def test_accept_language_picks_chinese_without_a_cookie(client):
    assert "密码" in client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert "Password" in client.get("/login", headers={"Accept-Language": "en-GB"}).text


def test_the_language_switch_sets_the_cookie_and_goes_back(client):
    answer = client.get("/lang/zh-CN", params={"next": "/login"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert "lang=zh-CN" in answer.headers["set-cookie"]
    assert "登录" in client.get("/login").text


def test_admin_pages_and_their_messages_are_in_chinese(client, session):
    factories.staff_user(session)
    factories.login(client)
    client.cookies.set("lang", "zh-CN")
    page = client.get("/admin/series").text
    assert "展会与届次" in page and "新建展会系列" in page
    refused = client.post("/admin/series", data={"csrf_token": factories.csrf_from(page), "name": ""})
    assert refused.status_code == 422 and "请检查此项" in refused.text
    assert "表单已过期" in client.post("/admin/series", data={"name": "Fair"}).text
