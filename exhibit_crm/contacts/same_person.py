"""The same-person rule, once, for one contact and for many: who a person is, and what a later sighting may change.

- A person is found by e-mail, else by phone (both normalised).
- Matched by e-mail while the phone belongs to someone else (a shared office line): the phone stays with its owner.
- Who the person is and how to reach them (IDENTITY) is only filled where blank: anyone can type a known e-mail or
  phone into a form, and that must not rename the person or redirect their mail. The other fields take what the
  latest sighting gives; blanks never erase.

upsert_contact (one person) and the bulk functions (a group of registrations, an import; also for rows of one
person within a list) all decide through the two functions here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

IDENTITY = ("full_name", "email", "phone")
DETAILS = ("title", "country", "province", "city", "language")
T = TypeVar("T")


def match(by_email: T | None, by_phone: T | None) -> tuple[T | None, bool]:
    """The person an e-mail and a phone name (the e-mail's owner, else the phone's), and whether the phone is
    another's and must be left out. Either owner may be None (unknown, or not given)."""
    found = by_email if by_email is not None else by_phone
    return found, by_email is not None and by_phone is not None and by_phone is not by_email and by_phone != by_email


def changes(current: Mapping, given: Mapping) -> dict:
    """What a sighting `given` changes on a person as they are (`current`): identity only where blank, the other
    fields where given and different."""
    return {name: value for name, value in given.items()
            if value and value != current.get(name) and not (name in IDENTITY and current.get(name))}
