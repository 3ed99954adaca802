"""The exhibitor portal: what a signed-in exhibitor user sees and does for its own exhibitor only.

Every service here takes the exhibitor id from the signed-in principal, never from the request, and checks that
any registration it is handed belongs to that exhibitor; another exhibitor's ids are simply not found.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlmodel import Session, SQLModel

from badge_scanner import issued_badges as badges
from badge_scanner.codes import Signer
from exhibit_crm import audit, auth, contacts
from exhibit_crm.db import found
from exhibit_crm.errors import Conflict, InvalidInput, validate_input
from exhibit_crm.exhibitors import booth_label, count_interested
from exhibit_crm.models import Company, Edition, ExhibitorUser, ProductCategory, Registration, utcnow
from exhibit_crm.security import MIN_PASSWORD_LENGTH, PasswordHash, new_password_hash

from . import exhibitors, invitations, matchmaking

# the contact source of people an exhibitor registers as its staff
CONTACT_SOURCE = "exhibitor_portal"
# registered on the person's behalf by their employer, not by themselves (online) or at the desk (walk_in)
REGISTRATION_SOURCE = "third_party"
MAX_DESCRIPTION = 4000
VISITORS_PAGE = 50


@dataclass(frozen=True)
class PortalView:
    """The portal's home page: the exhibitor, its booth, allowance and staff."""

    exhibitor_id: int
    company: str
    website: str
    edition: Edition
    status: str
    booth: str
    booth_sqm: float | None
    description: str
    description_zh: str
    categories: list[ProductCategory]
    chosen: tuple[str, ...]
    staff_allowance: int
    active_staff: int
    staff: list[exhibitors.StaffMember]
    matched_visitors: int

    @property
    def places_left(self) -> int:
        return max(self.staff_allowance - self.active_staff, 0)


# StaffIn: a staff member as the exhibitor types them; contacts.ContactIn normalises e-mail and phone.
class StaffIn(SQLModel):
    full_name: str = ""
    email: str = ""
    phone: str = ""
    title: str = ""


# ProfileIn: what an exhibitor may change of its own profile.
class ProfileIn(SQLModel):
    description: str = ""
    description_zh: str = ""
    website: str = ""
    categories: list[str] = []


def portal_view(session: Session, *, exhibitor_id: int) -> PortalView:
    """The portal home of the signed-in user's exhibitor."""
    exhibitor = exhibitors.exhibitor_in(session, edition_id=None, exhibitor_id=exhibitor_id)
    company = session.get(Company, exhibitor.company_id)
    return PortalView(
        exhibitor_id=exhibitor.id, company=company.name, website=company.website,
        edition=session.get(Edition, exhibitor.edition_id), status=exhibitor.status,
        booth=booth_label(exhibitor), booth_sqm=exhibitor.booth_sqm, description=exhibitor.description,
        description_zh=exhibitor.description_zh,
        categories=exhibitors.categories(session, edition_id=exhibitor.edition_id),
        chosen=tuple(exhibitor.product_categories or ()), staff_allowance=exhibitor.staff_allowance,
        active_staff=exhibitors.active_staff(session, exhibitor_id=exhibitor.id),
        staff=exhibitors.staff_of(session, exhibitor_id=exhibitor.id),
        matched_visitors=count_interested(session, exhibitor_id=exhibitor.id))


# Setting the password from an invitation.

def invitation_password(password: str, confirm: str) -> PasswordHash:
    """Check an invitee's new password and its confirmation and hash it (slow: before the write transaction)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("password_too_short", f"password: at least {MIN_PASSWORD_LENGTH} characters",
                           field="password")
    if password != confirm:
        raise InvalidInput("password_mismatch", "confirm: the two passwords differ", field="confirm")
    return new_password_hash(password)


def accept_invitation(session: Session, *, token: str, secret: str, password: str | PasswordHash, confirm: str = "",
                      now: datetime | None = None) -> ExhibitorUser:
    """Set the invited user's password (given as invitation_password's hash, or checked and hashed here); the link
    works once, so a second use is refused, and any session of the user ends."""
    password_hash = password if isinstance(password, PasswordHash) else invitation_password(password, confirm)
    # locked and checked again under the lock, so that two uses of one link at once cannot both succeed
    user = invitations.invited_user(session, token=token, secret=secret, now=now, lock=True)
    user.password_hash = password_hash
    user.last_login_at = now or utcnow()
    session.add(user)
    auth.end_sessions(session, kind="exhibitor_user", user_id=user.id)
    audit.log(session, "event_phases.pre_show.exhibitor_user.password_set", actor=audit.Actor(
        "exhibitor_user", user.id, user.email), obj=user, data={"exhibitor_id": user.exhibitor_id})
    session.flush()
    return user


# The profile.

def _website(value: str) -> str:
    value = unicodedata.normalize("NFKC", value or "").strip()
    if not value:
        return ""
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or "." not in (parts.hostname or "") or len(value) > 300:
        raise InvalidInput("invalid_website", "website: an address such as https://www.example.cn", field="website")
    return value


def update_profile(session: Session, *, exhibitor_id: int, profile: ProfileIn, actor: audit.Actor):
    """Save the exhibitor's descriptions, its company's website and its product categories."""
    for name in ("description", "description_zh"):
        if len(getattr(profile, name)) > MAX_DESCRIPTION:
            raise InvalidInput("too_long", f"{name}: at most {MAX_DESCRIPTION} characters", field=name)
    website = _website(profile.website)
    exhibitor = exhibitors.exhibitor_in(session, edition_id=None, exhibitor_id=exhibitor_id, lock=True)
    chosen = exhibitors.checked_categories(session, edition_id=exhibitor.edition_id, codes=profile.categories)
    company = session.get(Company, exhibitor.company_id)
    exhibitor.description, exhibitor.description_zh = profile.description.strip(), profile.description_zh.strip()
    exhibitor.product_categories = chosen
    company.website = website
    session.add_all([exhibitor, company])
    audit.log(session, "event_phases.pre_show.exhibitor.profile_updated", actor=actor, obj=exhibitor,
              data={"categories": chosen, "website": website})
    session.flush()
    return exhibitor


# Staff badges.

def register_staff(session: Session, *, exhibitor_id: int, staff: StaffIn, actor: audit.Actor) -> Registration:
    """Register a person as the exhibitor's staff, with an exhibitor-staff badge, within its allowance."""
    person = validate_input(contacts.ContactIn, {
        "full_name": staff.full_name, "email": staff.email, "phone": staff.phone, "title": staff.title})
    # the exhibitor row is locked first, so that two registrations at the last free place are counted one by one
    exhibitor = exhibitors.exhibitor_in(session, edition_id=None, exhibitor_id=exhibitor_id, lock=True)
    if exhibitor.status == "cancelled":
        raise Conflict("exhibitor_cancelled", "this exhibitor's booking is cancelled")
    active = exhibitors.active_staff(session, exhibitor_id=exhibitor.id)
    if active >= exhibitor.staff_allowance:
        raise Conflict("allowance_reached", f"full_name: your allowance of {exhibitor.staff_allowance} staff "
                       "badges is used up", field="full_name")
    badge_type = exhibitors.staff_badge_type(session, edition_id=exhibitor.edition_id)
    company = session.get(Company, exhibitor.company_id)
    person = person.model_copy(update={"company": company.name})
    contact, _created = contacts.upsert_contact(session, data=person, source=CONTACT_SOURCE, actor=actor)
    registration, created = contacts.register(session, contact_id=contact.id, edition_id=exhibitor.edition_id,
                                              badge_type_id=badge_type.id, source=REGISTRATION_SOURCE,
                                              actor=actor)
    reinstated = not created and registration.exhibitor_id == exhibitor.id and registration.status == "cancelled"
    if reinstated:  # one of its staff badges that was removed, added again: a new version, the old stays refused
        badges.reinstate(session, registration_id=registration.id, actor=actor,
                         reason="added again in exhibitor portal")
    elif not created:
        raise _already(registration, exhibitor.id)
    registration.exhibitor_id = exhibitor.id
    session.add(registration)
    audit.log(session, "event_phases.pre_show.exhibitor.staff_registered", actor=actor, obj=registration,
              data={"exhibitor_id": exhibitor.id, "contact_id": contact.id, "reinstated": reinstated})
    session.flush()
    return registration


def _already(registration: Registration, exhibitor_id: int) -> Conflict:
    if registration.exhibitor_id == exhibitor_id and registration.status == "registered":
        return Conflict("already_staff", "email: this person is on your staff already", field="email")
    # a visitor registration or another exhibitor's badge: changing it is the organiser's call
    return Conflict("already_registered", "email: this person is registered for the edition already; "
                    "ask the organiser to change their badge", field="email")


def _own_staff(session: Session, *, exhibitor_id: int, registration_id: int) -> Registration:
    return found(session, Registration, registration_id, what="staff registration", exhibitor_id=exhibitor_id)


def remove_staff(session: Session, *, exhibitor_id: int, registration_id: int, actor: audit.Actor) -> Registration:
    """Cancel one of the exhibitor's staff badges; the place in the allowance is free again."""
    _own_staff(session, exhibitor_id=exhibitor_id, registration_id=registration_id)
    return badges.cancel(session, registration_id=registration_id, actor=actor, reason="removed in exhibitor portal")


def staff_badge(session: Session, *, exhibitor_id: int, registration_id: int, signer: Signer) -> badges.BadgeData:
    """The current badge of one of the exhibitor's active staff registrations."""
    registration = _own_staff(session, exhibitor_id=exhibitor_id, registration_id=registration_id)
    if registration.status == "cancelled":
        raise Conflict("registration_cancelled", "a cancelled registration gets no badge")
    return badges.badge_data(session, registration_id=registration.id, signer=signer)


# Matchmaking.

def matched_visitors(session: Session, *, exhibitor_id: int, page: int = 1) -> dict:
    """One page of pre-registered visitors interested in what the exhibitor sells, best match first."""
    page = max(page, 1)
    exhibitor = exhibitors.exhibitor_in(session, edition_id=None, exhibitor_id=exhibitor_id)
    total = count_interested(session, exhibitor_id=exhibitor.id)
    visitors = matchmaking.visitors_for(session, exhibitor_id=exhibitor.id, limit=VISITORS_PAGE,
                                        offset=(page - 1) * VISITORS_PAGE)
    return {"visitors": visitors, "total": total, "page": page, "has_next": page * VISITORS_PAGE < total,
            "chosen": tuple(exhibitor.product_categories or ())}
