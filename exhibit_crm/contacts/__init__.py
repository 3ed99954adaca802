"""The CRM's memory of people: normalising how to reach them, and finding the same person again.

Every channel that learns of a person goes through the same-person rule (`same_person`): one person at a time
(online registration, walk-ins at the desk, exhibitor staff) through `upsert_contact`, many at once through the
bulk paths (a group of online registrations: `many`; an imported list: `lists`), so a person is one contact
across editions; and through `register`, so a contact has at most one registration per edition. Unique constraints
(e-mail, phone, company key, contact and edition) hold it when requests race.
"""

from .companies import companies, find_or_create_company
from .many import (
    NewContact,
    create_contacts,
    create_contacts_with_companies,
    find_or_create_companies,
    known_people,
    register_new,
)
from .normalise import (
    ContactIn,
    company_key,
    normalise_email,
    normalise_phone,
    quick_contact,
    quick_email,
    quick_phone,
    tidy,
)
from .one import find_contact, register, upsert_contact
from .same_person import DETAILS, IDENTITY

__all__ = [
    "DETAILS", "IDENTITY", "ContactIn", "NewContact", "companies", "company_key", "create_contacts",
    "create_contacts_with_companies", "find_contact", "find_or_create_companies", "find_or_create_company",
    "known_people", "normalise_email", "normalise_phone", "quick_contact", "quick_email", "quick_phone", "register",
    "register_new", "tidy", "upsert_contact",
]
