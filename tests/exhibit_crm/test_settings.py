import re
from pathlib import Path

import pytest

from exhibit_crm.settings import SETTINGS, SettingsError, load_settings

README = Path(__file__).parents[2] / "README.md"


def test_defaults_use_a_sqlite_file_in_the_working_directory():
    settings = load_settings({})
    assert settings.database_url == "sqlite:///exhibit_crm.db"
    assert settings.default_language == "en"


def test_postgresql_urls_use_psycopg3():
    settings = load_settings({"DATABASE_URL": "postgresql://crm:pw@db.internal:5432/crm"})
    assert settings.database_url == "postgresql+psycopg://crm:pw@db.internal:5432/crm"


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("DATABASE_URL", "mysql://x/y", "sqlite:///"),
    ("DATABASE_URL", "not a url", "a URL"),
    ("SMTP_URL", "http://mail", "smtp://"),
    ("SMTP_URL", "smtp://mail:99999", "port"),
    ("BASE_URL", "crm.example.com", "http"),
    ("DEFAULT_LANGUAGE", "fr", "zh-CN"),
    ("LOGIN_MAX_FAILURES", "0", "at least 1"),
    ("MAIL_FROM", "nobody", "noreply@"),
])
def test_a_bad_value_names_the_setting_and_what_was_expected(name, value, expected):
    with pytest.raises(SettingsError) as error:
        load_settings({name: value})
    assert str(error.value).startswith(f"{name}=")
    assert expected in str(error.value)


def test_every_setting_is_documented_in_the_readme():
    readme = README.read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert re.search(rf"`{setting.name}`", readme), f"{setting.name} is not in README.md"
        assert setting.help
