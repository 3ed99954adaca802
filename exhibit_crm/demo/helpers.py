"""Small helpers of the demo builder: weighted picks, show-day times, row timestamps, an edition's ids."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .data import (
    TZ,
)


class Weighted:
    """Picks values by weight with a given random generator."""

    def __init__(self, pairs):
        self.values = [value for value, _ in pairs]
        self.cum, total = [], 0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)

    def __call__(self, rng: random.Random):
        return rng.choices(self.values, cum_weights=self.cum)[0]


def split_pairs(text: str) -> list[tuple[str, str]]:
    """'王wang 李li' -> [('王', 'wang'), ('李', 'li')]."""
    pairs = []
    for token in text.split():
        cut = next(i for i, char in enumerate(token) if char.isascii())
        pairs.append((token[:cut], token[cut:]))
    return pairs


def ascii_text(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(char for char in plain if char.isalnum() or char == ".")


def show_time(day: date, minutes: float) -> datetime:
    """A moment on a show day, given in minutes after local midnight, as UTC."""
    return (datetime.combine(day, time(0), tzinfo=TZ) + timedelta(minutes=minutes)).astimezone(UTC)


def touch(row: dict, when: datetime) -> None:
    """Keep a row's created_at at its first and updated_at at its latest event."""
    if row.get("created_at") is None or when < row["created_at"]:
        row["created_at"] = when
    if "updated_at" in row and (row["updated_at"] is None or when > row["updated_at"]):
        row["updated_at"] = when


def weighted_sample(rng: random.Random, items: list, weights: list[float], k: int) -> list:
    """k distinct items, likelier by weight (Efraimidis–Spirakis), in their original order."""
    keys = sorted(range(len(items)), key=lambda i: rng.random() ** (1 / weights[i]), reverse=True)[:k]
    return [items[i] for i in sorted(keys)]



@dataclass
class Structure:
    """One saved edition's structure: the ids the plan refers to."""

    edition_id: int
    year: int
    days: list[tuple[int, date, int, int]]  # day id, date, opening and closing minute (local)
    zones: dict[str, int]
    gates: dict[str, list[int]]
    badges: dict[str, int]
    zone_rows: list[dict]
    gate_rows: list[dict]

    @property
    def starts(self) -> datetime:
        return datetime.combine(self.days[0][1], time(0), tzinfo=TZ)
