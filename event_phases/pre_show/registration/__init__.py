"""Public visitor registration: the form of an edition (form), registering (registering), the confirmation mail
with the e-badge, the e-badge page and cancelling (confirmation), and the organiser's settings (settings). The names
the routes use are imported here, so the routes' module needs one import.

People and registrations go through the core's contact services (exhibit_crm.contacts), which normalise e-mail and
phone, find the same person by e-mail then phone, and return the registration a person already has; their unique
constraints make two racing submissions end in one contact and one registration.

Rules the organiser can rely on:
- Badge type: the first answered option (questions in position order, options in their listed order) that names a
  `"badge_type"` the edition has; else the edition's `visitor_badge_type`; else its `trade_visitor` badge type. An
  edition with none of these refuses registrations (`no_visitor_badge_type`) rather than guess.
- Consents: the form asks both each time, unticked by default; what the person ticks on their latest form is their
  choice, recorded with its time, the text version (CONSENT_TEXT_VERSION) and the source "online".
- The same person again (same e-mail or phone): their contact is updated, their registration stays as it was, and
  the confirmation mail goes again to the address on file (at most once per RESEND_AFTER), rather than the badge
  being shown to whoever typed their e-mail.
- A cancelled registration is reinstated by registering again: a new badge version (badges printed before stay
  refused at the gates) and the confirmation mail with the new e-badge; the desk can reinstate one too.
"""

from .confirmation import (
    CANCELLED,
    CONFIRMED,
    EBADGE_PATH,
    EBadge,
    Links,
    cancel_registration,
    ebadge,
    send_confirmation,
)
from .form import (
    CONSENT_TEXT_VERSION,
    CONTACT_FIELDS,
    SOURCE,
    VISITOR,
    RegistrationForm,
    RegistrationIn,
    RegistrationRefused,
    checked,
    countries,
    registration_form,
)
from .registering import Registered, badge_type_for, register_visitor, register_visitors
from .settings import Settings, editions, registration_settings, update_settings

__all__ = [
    "CANCELLED", "CONFIRMED", "CONSENT_TEXT_VERSION", "CONTACT_FIELDS", "EBADGE_PATH", "SOURCE", "VISITOR", "EBadge",
    "Links", "Registered", "RegistrationForm", "RegistrationIn", "RegistrationRefused", "Settings", "badge_type_for",
    "cancel_registration", "checked", "countries", "ebadge", "editions", "register_visitor", "register_visitors",
    "registration_form", "registration_settings", "send_confirmation", "update_settings",
]
