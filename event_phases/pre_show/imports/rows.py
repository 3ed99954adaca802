"""One row of an import, checked: what the row says in the fields it maps to, or the reason it is refused."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from babel import Locale
from pydantic import ValidationError

from exhibit_crm.contacts import ContactIn, quick_contact, quick_email, quick_phone
from exhibit_crm.errors import InvalidInput
from exhibit_crm.models import BadgeType, RegistrationQuestion

from .files import ANSWER

CONTACT_FIELDS = ("full_name", "email", "phone", "company", "title", "country", "province", "city", "language")
# several values in one cell: "sofas, beds", "沙发、床垫"
SEPARATORS = re.compile(r"\s*[,，;；、|/]\s*")
# control characters a cell may not hold (NUL and the like); tab, line feed and carriage return stay text
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LANGUAGES = {"zh-cn": "zh-CN", "zh": "zh-CN", "中文": "zh-CN", "chinese": "zh-CN", "en": "en", "english": "en",
             "英文": "en", "英语": "en"}


@dataclass(frozen=True)
class Problem:
    """Why one row is refused: its line in the file (header = line 1), the column, a code and a reason."""
    line: int
    column: str
    code: str
    reason: str
    value: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "code": self.code, "reason": self.reason,
                "value": self.value}


class RowError(Exception):
    def __init__(self, field: str, code: str, reason: str):
        super().__init__(reason)
        self.field, self.code, self.reason = field, code, reason


def refuse_control(values: dict[str, str]) -> None:
    """RowError for the first cell holding a control character: no database or report should take a NUL."""
    for name, value in values.items():
        if CONTROL.search(value):
            raise RowError(name, "control_character", f"{name}: the cell holds a control character (such as NUL)")


def printable(text: str) -> str:
    """The text with each control character shown as U+FFFD, for reports."""
    return CONTROL.sub("\ufffd", text)


def fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


@cache
def countries() -> dict[str, str]:
    """Country names in English and Chinese, and ISO codes, folded -> ISO code."""
    found: dict[str, str] = {}
    for locale in ("en", "zh_Hans_CN"):
        for code, name in Locale.parse(locale).territories.items():
            if len(code) == 2 and code.isalpha():
                found.setdefault(fold(name), code)
                found.setdefault(fold(code), code)
    found.update({fold(n): "CN" for n in ("中国大陆", "中华人民共和国", "PRC", "P.R.China", "Mainland China", "大陆")})
    return found


def country_code(value: str) -> str:
    if not value:
        return ""
    code = countries().get(fold(value))
    if code is None:
        raise RowError("country", "unknown_country", f"country: {value!r} is not a country we know")
    return code


def language_code(value: str) -> str:
    if not value:
        return ""
    code = LANGUAGES.get(fold(value))
    if code is None:
        raise RowError("language", "unknown_language", f"language: {value!r} is not zh-CN or en")
    return code


def split_values(value: str) -> list[str]:
    return [part for part in SEPARATORS.split(value.strip()) if part]


@dataclass(frozen=True)
class VisitorRow:
    """A valid visitor row: the contact fields it gave (blank ones left out), badge type and answers."""
    line: int
    contact: dict
    badge_type_id: int | None
    answers: dict


class VisitorRules:
    """Checks visitor rows against the edition: its badge types and its registration questions."""

    def __init__(self, *, badge_types: list[BadgeType], questions: list[RegistrationQuestion]):
        self.badge_types = {fold(s): t.id for t in badge_types for s in (t.code, t.name, t.name_zh) if s}
        self.questions = {q.key: q for q in questions}
        self.options = {q.key: {fold(str(s)): str(o["value"]) for o in q.options
                                for s in (o.get("value"), o.get("label"), o.get("label_zh")) if s}
                        for q in questions}

    def check(self, line: int, values: dict[str, str]) -> VisitorRow:
        """The row as the import uses it; RowError naming the field otherwise."""
        contact = self._contact(values)
        badge = values.get("badge_type", "")
        badge_type_id = None
        if badge:
            badge_type_id = self.badge_types.get(fold(badge))
            if badge_type_id is None:
                raise RowError("badge_type", "unknown_badge_type", f"badge_type: {badge!r} is not a badge type of "
                               "this edition")
        answers = {name.removeprefix(ANSWER): self._answer(name.removeprefix(ANSWER), value)
                   for name, value in values.items() if name.startswith(ANSWER) and value}
        return VisitorRow(line, contact, badge_type_id, answers)

    def _contact(self, values: dict[str, str]) -> dict:
        given = {name: values[name] for name in CONTACT_FIELDS if name in values}
        given["country"] = country_code(given.get("country", ""))
        given["language"] = language_code(given.get("language", "")) or "zh-CN"
        quick = {name: fn(given[name]) for name, fn in (("email", quick_email), ("phone", quick_phone))
                 if given.get(name)}
        quick = {name: value for name, value in quick.items() if value}
        contact = quick_contact(given, quick)
        if contact is not None:
            return {name: contact[name] for name in CONTACT_FIELDS if name in values and contact[name]}
        try:
            contact = ContactIn.model_validate({**given, **dict.fromkeys(quick)})
            for name, value in quick.items():
                setattr(contact, name, value)
        except InvalidInput as exc:  # the e-mail and phone validators name their field
            raise RowError(exc.field or "email", exc.code, exc.message) from None
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "full_name"
            code = "required" if error["type"] == "string_too_short" else "too_long" \
                if error["type"] == "string_too_long" else "invalid"
            raise RowError(field, code, f"{field}: {error['msg']}") from None
        if not contact.email and not contact.phone:
            raise RowError("email" if "email" in values else "phone", "unreachable",
                           "email: an e-mail address or a phone number is needed")
        return {name: getattr(contact, name) for name in CONTACT_FIELDS
                if name in values and getattr(contact, name)}

    def _answer(self, key: str, value: str) -> str | list[str]:
        question = self.questions[key]
        if question.kind == "text":
            if len(value) > 1000:
                raise RowError(ANSWER + key, "too_long", f"{key}: the answer is longer than 1000 characters")
            return value
        picked = split_values(value) if question.kind == "multiple" else [value]
        options = self.options[key]
        unknown = [p for p in picked if fold(p) not in options]
        if unknown:
            raise RowError(ANSWER + key, "invalid_choice", f"{key}: {unknown[0]!r} is not one of the options")
        chosen = [options[fold(p)] for p in picked]
        return chosen if question.kind == "multiple" else chosen[0]
