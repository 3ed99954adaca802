"""The domain model; importing this package registers every table on SQLModel.metadata."""

from .access import STAFF_ROLES, ApiToken, AuditLog, ExhibitorUser, GateDevice, LoginAttempt, StaffUser, StaffUserBase
from .events import (
    BADGE_AUDIENCES,
    VISITOR_AUDIENCES,
    BadgeType,
    BadgeTypeBase,
    Edition,
    EditionBase,
    EditionDay,
    EditionDayBase,
    Gate,
    GateBase,
    ProductCategory,
    RegistrationQuestion,
    RegistrationQuestionBase,
    Series,
    SeriesBase,
    Zone,
    ZoneAccess,
    ZoneBase,
    holds_visitor_badge,
)
from .exhibitors import Exhibitor, ExhibitorBase, ExhibitorStatusChange, Lead, LeadDownload, LeadQuestion, LeadScan
from .imports import IMPORT_KINDS, ImportJob
from .mail import Campaign, OutboxAttachment, OutboxMessage, Segment
from .people import (
    Company,
    CompanyBase,
    Contact,
    ContactBase,
    ContactSource,
    Registration,
    RegistrationBase,
    RegistrationInterest,
)
from .scans import BadgeChange, Presence, Scan
from .search import DeskSearchCompanyTerm, DeskSearchSeq, DeskSearchTerm  # noqa: F401  (the desk search index)
from .targets import TARGET_KEYS, EditionTarget, EditionTargetBase
from .types import UTCDateTime, utcnow

__all__ = [
    "BADGE_AUDIENCES", "VISITOR_AUDIENCES", "holds_visitor_badge",
    "TARGET_KEYS", "EditionTarget", "EditionTargetBase",
    "IMPORT_KINDS", "STAFF_ROLES", "ApiToken", "BadgeChange", "ImportJob", "Presence", "RegistrationInterest",
    "AuditLog", "BadgeType", "BadgeTypeBase", "Campaign", "Company", "CompanyBase",
    "Contact", "ContactBase", "ContactSource", "Edition", "EditionBase", "EditionDay", "EditionDayBase", "Exhibitor",
    "ExhibitorBase", "ExhibitorStatusChange", "ExhibitorUser", "Gate", "GateBase", "GateDevice", "Lead",
    "LeadDownload", "LeadQuestion", "LeadScan", "LoginAttempt", "OutboxAttachment", "OutboxMessage", "ProductCategory",
    "Registration", "RegistrationBase", "RegistrationQuestion", "RegistrationQuestionBase", "Scan", "Segment",
    "Series", "SeriesBase", "StaffUser", "StaffUserBase", "UTCDateTime", "Zone", "ZoneAccess", "ZoneBase", "utcnow",
]
