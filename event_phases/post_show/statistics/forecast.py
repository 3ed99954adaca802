"""Registration curves and the attendance forecast of an edition still before its opening.

The method: at d days before opening, each earlier edition of the series had registered some visitors and later
saw some of all its registrants attend; the ratio attended / registered-at-d of the earlier editions, averaged,
times this edition's registrations at d is the forecast. Its error is measured on the earlier editions themselves
(each forecast from the others' ratios, leave-one-out) and given as the mean absolute percentage error; with a single
earlier edition there is nothing to measure it on and the error is None."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

from .data import EditionData

CURVE_DAYS = 180  # how far before opening the curves reach


def opening(data: EditionData) -> pd.Timestamp | None:
    """The first show day's opening time, local."""
    if not data.days:
        return None
    return pd.Timestamp.combine(data.days[0].day, data.days[0].opens_at)


def registered_at(data: EditionData, moment: pd.Timestamp) -> int:
    """Visitors registered before a local moment and not cancelled by then."""
    people = data.visitors
    held = (people.registered_at < moment) & ~(people.cancelled_at < moment)
    return int(held.sum())


def curve(data: EditionData) -> list[dict]:
    """Visitors registered (and not cancelled by then) at each whole number of days before opening, up to
    CURVE_DAYS; empty for an edition without show days."""
    start = opening(data)
    if start is None:
        return []
    moments = [start - pd.Timedelta(days=d) for d in range(CURVE_DAYS, -1, -1)]
    # registered before a moment, less cancelled before it (a registration is cancelled after it was made)
    made = np.sort(data.visitors.registered_at.dropna().to_numpy())
    cancelled = np.sort(data.visitors.cancelled_at.dropna().to_numpy())
    held = (np.searchsorted(made, np.array(moments, dtype=made.dtype))
            - np.searchsorted(cancelled, np.array(moments, dtype=made.dtype)))
    return [{"days_before": CURVE_DAYS - i, "registered": int(n)} for i, n in enumerate(held)]


def forecast(data: EditionData, earlier: list[EditionData], *, now: datetime) -> dict | None:
    """The attendance forecast of an edition before its opening (None once it has opened, or without show days or
    an earlier edition with registrations at the same point)."""
    start = opening(data)
    if start is None or data.local(now) >= start:
        return None
    days_before = math.ceil((start - data.local(now)) / pd.Timedelta(days=1))
    bases = [_basis(other, days_before) for other in earlier if opening(other) is not None]
    bases = [basis for basis in bases if basis["registered_then"]]
    if not bases:
        return None
    ratio = sum(basis["ratio"] for basis in bases) / len(bases)
    so_far = registered_at(data, data.local(now))
    return {"days_before": days_before, "registered_so_far": so_far, "forecast_attended": round(so_far * ratio),
            "ratio": round(ratio, 4), "method": "ratio", "based_on": bases, "error": _error(bases)}


def _basis(other: EditionData, days_before: int) -> dict:
    then = registered_at(other, opening(other) - pd.Timedelta(days=days_before))
    came = len(other.attendee_ids)
    return {"edition_id": other.edition.id, "year": other.edition.year, "registered_then": then, "attended": came,
            "ratio": round(came / then, 4) if then else None}


def _error(bases: list[dict]) -> float | None:
    """Mean absolute percentage error of leave-one-out forecasts of the earlier editions."""
    misses = []
    for basis in bases:
        others = [other["ratio"] for other in bases if other is not basis]
        if others and basis["attended"]:
            guess = basis["registered_then"] * sum(others) / len(others)
            misses.append(abs(guess - basis["attended"]) / basis["attended"])
    return round(sum(misses) / len(misses), 4) if misses else None
