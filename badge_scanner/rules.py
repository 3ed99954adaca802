"""Gate rules: whether a badge may pass a gate, judged from plain values (no database here).

The order of the checks decides which reason a scan gets when several apply; it is documented in docs/gates.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ACCEPTED, REJECTED = "accepted", "rejected"
REASONS = ("invalid_code", "revoked", "outdated_badge", "zone_denied", "closed", "already_inside", "not_inside",
           "duplicate")
# A second read of the same badge into the same zone this soon after its accepted entry is the same passage read
# twice (a wedge scanner's double read, a badge waved twice), not a second visit: it is neither counted nor refused
# as already_inside.
DUPLICATE_WINDOW = timedelta(seconds=5)


@dataclass(frozen=True)
class ZoneRules:
    """What a gate needs to judge a scan: its zone's re-entry rule, the show days and who may enter when."""

    edition_id: int
    zone_id: int
    reentry: str  # "free" | "strict"
    margin: timedelta
    timezone: ZoneInfo
    days: tuple[tuple[date, time, time], ...]
    # (badge_type_id, day or None for every day)
    access: frozenset[tuple[int, date | None]]

    def show_day(self, at: datetime) -> date | None:
        """The show day whose opening hours (widened by the zone's margin) hold `at`, or None when closed."""
        for day, start, end in self._open_spans:
            if start <= at <= end:
                return day
        return None

    @functools.cached_property
    def _open_spans(self) -> tuple[tuple[date, datetime, datetime], ...]:
        """(day, opening - margin, closing + margin) as aware times, worked out once per rules."""
        return tuple((day, datetime.combine(day, opens, self.timezone) - self.margin,
                      datetime.combine(day, closes, self.timezone) + self.margin) for day, opens, closes in self.days)

    def admits_type(self, badge_type_id: int) -> bool:
        return any(type_id == badge_type_id for type_id, _day in self.access)

    def admits(self, badge_type_id: int, day: date) -> bool:
        return (badge_type_id, None) in self.access or (badge_type_id, day) in self.access


@dataclass(frozen=True, slots=True)
class Badge:
    """The registration a verified code names, as the rules see it."""

    registration_id: int
    edition_id: int
    status: str
    badge_version: int
    badge_type_id: int


@dataclass(frozen=True, slots=True)
class Where:
    """Where a person is now: a zone (or None) since when, and the entry that put them there."""

    zone_id: int | None
    entered_at: datetime | None = None
    entry: object = None  # a scan id, or a reference to an entry judged in the same transaction


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str | None = None
    # "enter" puts the person into the zone, "leave" takes them out of it, None changes nothing
    move: str | None = None

    @property
    def accepted(self) -> bool:
        return self.verdict == ACCEPTED


# Verdicts are plain values: one of each, made once (thousands of scans a second are judged)
_REJECTED = {reason: Verdict(REJECTED, reason) for reason in REASONS}
ENTER, LEAVE, PASS = Verdict(ACCEPTED, move="enter"), Verdict(ACCEPTED, move="leave"), Verdict(ACCEPTED)


def rejected(reason: str) -> Verdict:
    return _REJECTED.get(reason) or Verdict(REJECTED, reason)


def judge_badge(rules: ZoneRules, badge: Badge | None, *, version: int, direction: str,
                at: datetime) -> Verdict | None:
    """The refusal that does not depend on where the person is, or None when the badge may pass so far."""
    if badge is None or badge.edition_id != rules.edition_id:
        return rejected("invalid_code")
    if direction == "out":
        # letting someone out is never refused for their badge: a cancelled or reprinted badge still leaves
        return None
    if badge.status == "cancelled":
        return rejected("revoked")
    if version != badge.badge_version:
        return rejected("outdated_badge")
    if not rules.admits_type(badge.badge_type_id):
        return rejected("zone_denied")
    day = rules.show_day(at)
    if day is None:
        return rejected("closed")
    if not rules.admits(badge.badge_type_id, day):
        return rejected("zone_denied")
    return None


def judge_presence(rules: ZoneRules, where: Where | None, *, direction: str, at: datetime) -> Verdict:
    """The verdict for a badge that passed judge_badge, given where its person is."""
    inside = where is not None and where.zone_id == rules.zone_id
    if direction == "out":
        if inside:
            return LEAVE
        return rejected("not_inside") if rules.reentry == "strict" else PASS
    if inside and where.entered_at is not None and timedelta(0) <= at - where.entered_at <= DUPLICATE_WINDOW:
        return rejected("duplicate")
    if inside and rules.reentry == "strict":
        return rejected("already_inside")
    return ENTER
