"""What an exhibitor may see of a visitor: the one place the consent rule lives.

With the visitor's consent to share their details with exhibitors they visit, an exhibitor sees the whole contact;
without it only the name, the company and the badge type, and reaches the visitor through the organiser. Every page,
API answer and export that shows a visitor to an exhibitor builds it with `visitor_card`.
"""

from __future__ import annotations

from dataclasses import dataclass


# Not frozen: a lead list makes tens of thousands of cards, and a frozen dataclass is slow to build.
@dataclass
class VisitorCard:
    """A visitor as an exhibitor may see them; the withheld fields are empty strings."""

    name: str
    company: str
    badge_type: str
    shared: bool
    first_name: str = ""
    last_name: str = ""
    title: str = ""
    email: str = ""
    phone: str = ""
    country: str = ""
    province: str = ""
    city: str = ""


# the contact fields shown only with consent, in the order exports list them
SHARED_FIELDS = ("first_name", "last_name", "title", "email", "phone", "country", "province", "city")


def visitor_card(contact, *, company: str, badge_type: str) -> VisitorCard:
    """The card of a contact (anything with Contact's attributes) for an exhibitor's eyes."""
    if not contact.consent_share:
        return VisitorCard(contact.full_name, company or "", badge_type, False)
    return VisitorCard(contact.full_name, company or "", badge_type, True,
                       **{name: getattr(contact, name) or "" for name in SHARED_FIELDS})
