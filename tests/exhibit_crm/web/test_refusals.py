"""The one catalogue of refusal messages: each code worded once, a page's own wording where it has one, every
message translated, and a code the catalogue does not know quoted."""

from __future__ import annotations

import pytest

from exhibit_crm import i18n
from exhibit_crm.errors import Conflict, InvalidInput
from exhibit_crm.web.refusals import MESSAGES, WORDING, refusal_message


@pytest.fixture
def chinese():
    token = i18n.current_language.set("zh-CN")
    yield
    i18n.current_language.reset(token)


def test_a_code_is_worded_alike_on_the_pages_that_explain_it():
    exc = InvalidInput("invalid_email", "email: not an e-mail address", field="email")
    assert {refusal_message(exc, page=page) for page in ("desk", "exhibitors", "registration")} == {
        "This is not a valid e-mail address."}


@pytest.mark.parametrize(("page", "field", "expected"), [
    ("booth", "label", "Enter the question."),
    ("desk", "full_name", "Enter the name."),
    ("desk", "answers.size", "Please answer this question."),
    ("registration", "answers.size", "Please answer this question."),
    ("registration", "email", "This field is required."),
    ("exhibitors", "name", "This field is required."),
    ("users", "username", "Enter a username."),
])
def test_a_page_words_a_code_its_own_way_down_to_the_field(page, field, expected):
    assert refusal_message(InvalidInput("required", f"{field}: required", field=field), page=page) == expected


def test_placeholders_take_the_refusals_detail_and_the_pages_values():
    taken = Conflict("booth_taken", "booth: H1-A01")
    assert refusal_message(taken, page="exhibitors") == "This booth is already assigned: H1-A01"
    short = InvalidInput("password_too_short", "password: too short", field="password")
    assert refusal_message(short, page="users", count=12) == "Use at least 12 characters."
    assert refusal_message(short, page="portal") == "The password needs at least 8 characters."


def test_an_unknown_code_is_quoted():
    with_field = InvalidInput("odd", "name: something odd", field="name")
    without = InvalidInput("odd", "name: something odd")
    assert refusal_message(with_field, page="desk") == "Please check this: something odd"
    assert refusal_message(without, page="desk") == "Please check this: something odd"
    assert refusal_message(with_field, page="setup") == "Please check this value: something odd"
    assert refusal_message(without, page="users") == "Please check this value: name: something odd"


def test_messages_are_translated_when_shown(chinese):
    for text in [*MESSAGES.values(), *WORDING.values()]:
        assert i18n.gettext(text) != text, text
    assert refusal_message(Conflict("duplicate", "code: taken", field="code"), page="setup") == i18n.gettext(
        MESSAGES["duplicate"])


def test_a_page_quotes_a_code_it_does_not_explain():
    cancelled = InvalidInput("exhibitor_cancelled", "exhibitor: a cancelled exhibitor does not move in")
    assert refusal_message(cancelled, page="exhibitors") == "The exhibitor is cancelled."
    assert refusal_message(cancelled, page="desk") == "Please check this: a cancelled exhibitor does not move in"
    too_long = InvalidInput("too_long", "name: at most 80 characters", field="name")
    assert refusal_message(too_long, page="setup") == "Please check this value: at most 80 characters"
