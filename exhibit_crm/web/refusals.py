"""What a page shows when a service refuses a form: which errors count as refusals, and the one catalogue of their
messages (error code -> message), marked for Babel here and translated when shown."""

from __future__ import annotations

from ..errors import Conflict, DomainError, InvalidInput
from ..i18n import N_
from ..i18n import gettext as _

# The errors a form handler catches and shows next to the form; anything else goes to the error handler.
REFUSALS = (InvalidInput, Conflict)

# Each error code's message, worded alike on every page that explains it. "%(detail)s" is the refusal's own detail.
MESSAGES = {
    "required": N_("This field is required."),
    "too_long": N_("This is too long."),
    "invalid_choice": N_("Choose one of the options shown."),
    "invalid_role": N_("Choose one of the options shown."),
    "invalid_email": N_("This is not a valid e-mail address."),
    "invalid_phone": N_("This is not a valid phone number."),
    "invalid_website": N_("Enter a web address such as https://www.example.cn."),
    "unreachable": N_("Enter a phone number or an e-mail address."),
    "unknown_question": N_("This edition does not ask this question."),
    "duplicate": N_("Another entry already uses this value."),
    "in_use": N_("This is still in use and cannot be deleted."),
    # set-up: staff users
    "last_admin": N_("At least one active administrator must remain."),
    "self": N_("You cannot deactivate your own account."),
    "username_taken": N_("This username is taken."),
    "password_too_short": N_("The password needs at least 8 characters."),
    "password_mismatch": N_("The two passwords differ."),
    # pre-show: exhibitors and their portal
    "booth_taken": N_("This booth is already assigned: %(detail)s"),
    "unknown_category": N_("Not a product category of this edition: %(detail)s"),
    "exhibitor_exists": N_("This company exhibits in this edition already."),
    "invalid_transition": N_("This status change is not allowed."),
    "exhibitor_cancelled": N_("The exhibitor is cancelled."),
    "allowance_below_staff": N_("The exhibitor has more active staff badges than that."),
    "invalid_allowance": N_("Enter a number from 0 to 1000."),
    "invalid_sqm": N_("Enter the booth size in square metres."),
    "email_taken": N_("This e-mail address has an exhibitor account already (one address can hold one "
                      "exhibitor account, across all editions)."),
    "already_active": N_("This user has set a password already."),
    "allowance_reached": N_("Your staff allowance is used up. Remove a staff member or ask the organiser for "
                            "more badges."),
    "already_staff": N_("This person is on your staff already."),
    "already_registered": N_("This person is registered for the show already; ask the organiser to change "
                             "their badge."),
    "no_staff_badge_type": N_("The organiser has not set up staff badges yet."),
    # pre-show: the public registration form
    "registration_closed": N_("Registration for this show is closed."),
    "no_visitor_badge_type": N_("Registration is not set up yet. Please try again later."),
    # on-site: the booth
    "options_required": N_("A choice list needs at least one option, one per line."),
    "visitor_shares": N_("This visitor shares their details: contact them directly."),
    "already_requested": N_("The visitor has been asked already."),
    "no_email": N_("The organiser has no e-mail address for this visitor."),
    # pre-show: imports
    "too_large": N_("The file is larger than %(size)s MiB."),
    "unreadable": N_("This file cannot be read: save it as CSV (UTF-8) or Excel (.xlsx)."),
    "empty_file": N_("The file has no header row."),
    "too_many_rows": N_("The file has more than %(count)s rows: split the list."),
    "too_many_columns": N_("The file has more than %(count)s columns."),
    "unpacks_too_large": N_("The workbook unpacks to more than %(size)s MiB: save it as CSV."),
    "unknown_encoding": N_("This is not an encoding we know."),
    "field_missing": N_("Map a column to the name (visitors) or the company (exhibitors)."),
    "field_twice": N_("Each field can be mapped from one column only."),
    "invalid_rows": N_("Some rows are invalid: import only the valid rows, or fix the file."),
    "unknown_badge_type": N_("The edition has no such badge type; set its visitor badge type."),
}

# Where a page words a code its own way: (page, code), or (page, code, field) for one field of its forms.
WORDING = {
    ("booth", "required"): N_("Enter the question."),
    ("imports", "required"): N_("This is needed."),
    ("imports", "required", "source"): N_("Name the source of this list."),
    ("imports", "required", "file"): N_("Choose a file."),
    ("desk", "required"): N_("Please answer this question."),
    ("desk", "required", "full_name"): N_("Enter the name."),
    ("desk", "required", "badge_type_id"): N_("Choose a badge type."),
    ("desk", "required", "reason"): N_("Say why the badge is reprinted."),
    ("desk", "too_long"): N_("This answer is too long."),
    ("desk", "registration_cancelled"): N_("This registration is cancelled; it gets no badge."),
    ("desk", "contact_conflict"): N_("This e-mail or phone number belongs to another person; search for them first."),
    ("portal", "contact_conflict"): N_("This e-mail or phone number belongs to another person."),
    ("portal", "exhibitor_cancelled"): N_("Your booking is cancelled."),
    ("portal", "registration_cancelled"): N_("This badge is cancelled."),
    ("registration", "required", "answers"): N_("Please answer this question."),
    ("registration", "too_long"): N_("This answer is too long."),
    ("registration", "registration_cancelled"): N_("Your registration for this show was cancelled. Please contact "
                                                   "the organiser."),
    ("registration", "contact_conflict"): N_("This e-mail address or mobile number is already used by someone "
                                             "else."),
    ("setup", "edition_exists"): N_("The series has an edition in this year already."),
    ("setup", "overlapping_days"): N_("The new days would overlap this edition's days; choose a later first day."),
    ("setup", "invalid", "year"): N_("Enter a year between 2000 and 2100."),
    ("users", "required"): N_("Enter a username."),
    ("users", "password_too_short"): N_("Use at least %(count)d characters."),
}

# The codes each page explains with the common wording above (beyond its own wording); any other refusal is quoted.
_EXHIBITORS = ("booth_taken unknown_category exhibitor_exists invalid_transition exhibitor_cancelled "
               "allowance_below_staff invalid_allowance invalid_sqm email_taken invalid_email already_active required "
               "too_long")
PAGE_CODES = {page: frozenset(codes.split()) for page, codes in {
    "setup": "duplicate in_use",
    "users": "last_admin self username_taken invalid_role",
    "exhibitors": _EXHIBITORS,
    "portal": _EXHIBITORS + " allowance_reached already_staff already_registered unreachable invalid_phone "
                            "invalid_website no_staff_badge_type password_too_short password_mismatch",
    "registration": "required invalid_email invalid_phone invalid_choice unknown_question registration_closed "
                    "no_visitor_badge_type",
    "desk": "unreachable invalid_email invalid_phone invalid_choice unknown_question",
    "booth": "too_long invalid_choice options_required visitor_shares already_requested no_email",
    "imports": "too_large unreadable empty_file too_many_rows too_many_columns unpacks_too_large unknown_encoding "
               "field_missing field_twice invalid_rows unknown_badge_type",
}.items()}
# A refusal a page does not explain: the set-up pages (staff users, the edition's set-up) quote the whole message
# unless it names a field; the others quote what follows the field name.
SETUP_PAGES = {"setup", "users"}


def _fallback(exc: DomainError, page: str) -> str:
    if page in SETUP_PAGES:
        detail = exc.message.split(": ", 1)[-1] if exc.field else exc.message
        return _("Please check this value: %(detail)s") % {"detail": detail}
    return _("Please check this: %(detail)s") % {"detail": exc.message.split(": ", 1)[-1]}


def refusal_message(exc: DomainError, *, page: str, **values: object) -> str:
    """A refusal in the request's language as `page` words it; `values` fill placeholders such as "%(count)d"."""
    field = (exc.field or "").split(".")[0]
    common = MESSAGES.get(exc.code) if exc.code in PAGE_CODES.get(page, ()) else None
    text = WORDING.get((page, exc.code, field)) or WORDING.get((page, exc.code)) or common
    if text is None:
        return _fallback(exc, page)
    text = _(text)
    return text % {"detail": exc.message.split(": ", 1)[-1], **values} if "%(" in text else text
