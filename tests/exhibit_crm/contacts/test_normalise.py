"""Normalising how to reach a person, and the quick paths an import takes, which agree with the full checks."""


import pytest

from exhibit_crm import contacts
from exhibit_crm.errors import InvalidInput


@pytest.mark.parametrize(("raw", "expected"), [
    ("13800138000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("１３８００１３８０００", "+8613800138000"),  # full-width digits
    ("＋８６ １３８００１３８０００", "+8613800138000"),
    ("+49 30 901820", "+4930901820"),
    ("", None),
])
def test_phones_are_stored_in_e164(raw, expected):
    assert contacts.normalise_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12345", "phone", "+86 123"])
def test_bad_phones_name_the_field(raw):
    with pytest.raises(InvalidInput) as error:
        contacts.normalise_phone(raw)
    assert error.value.field == "phone"


def test_emails_are_trimmed_and_lower_cased():
    assert contacts.normalise_email("  Wang.Wei@Example.CN ") == "wang.wei@example.cn"
    assert contacts.normalise_email("") is None
    with pytest.raises(InvalidInput) as error:
        contacts.normalise_email("wang.wei@")
    assert error.value.field == "email"


def test_the_quick_checks_agree_with_the_contact_rules():
    from exhibit_crm.contacts import normalise_email, normalise_phone, quick_email, quick_phone

    def full(check, value):
        try:
            return check(value)
        except InvalidInput:
            return None

    # every five-digit mobile prefix: a quick answer is the full check's answer (None: the full check decides)
    for prefix in range(13000, 20000):
        for number in (f"{prefix}000000", f"{prefix}987654", f"+86 {prefix}-12-3456"):
            quick = quick_phone(number)
            assert quick is None or quick == full(normalise_phone, number), number
    assert quick_phone("138 0013 8000") == "+8613800138000"
    for email in ("Wang.Wei@QQ.com", "a+b@x.example.com", "x@1.2.3.cn", "a..b@x.cn", "x@localhost", "-a@x.cn",
                  "a@example.invalid", "ｗａｎｇ@qq.com", "王@qq.com", "a@b.c"):
        quick = quick_email(email)
        assert quick is None or quick == full(normalise_email, email), email
    assert quick_email("Wang.Wei@QQ.com") == "wang.wei@qq.com"
