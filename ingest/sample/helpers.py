"""Small helpers shared by the feeds: exact fractions, splits, dates, references, callers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import count
from random import Random

# --------------------------------------------------------------------------------------
# Small helpers


def fraction(rate: float, approx_den: int) -> tuple[int, int]:
    """(numerator, denominator), denominator >= approx_den, giving ``rate`` % to 0.05."""
    for den in count(max(approx_den, 1)):
        num = round(rate * den / 100)
        if abs(100 * num / den - rate) < 0.05:
            return num, den
    raise AssertionError("unreachable")


def split(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    shares = [total * w / sum(weights) for w in weights]
    parts = [int(s) for s in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: parts[i] - shares[i])
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def day_in(rng: Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def delivered(rng: Random, period_end: date, days: tuple[int, int] = (5, 15)) -> datetime:
    """A weekday office-hours delivery time ``days`` after the period end."""
    day = period_end + timedelta(days=rng.randint(*days))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(
        day.year, day.month, day.day, rng.randint(8, 16), rng.randint(0, 59), tzinfo=UTC
    )


def uk_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


class RefBook:
    """Unique, increasing, realistic-looking references: ``RefBook(rng, 'CR-{:06d}')``."""

    def __init__(self, rng: Random, template: str, start: int = 1000) -> None:
        self.rng = rng
        self.template = template
        self.last = start

    def new(self) -> str:
        self.last += self.rng.randint(1, 3)
        return self.template.format(self.last)


def assign_callers(
    rng: Random, contacts: int, repeaters: int, refs: RefBook, anonymous: float = 0.0
) -> list[str | None]:
    """A caller reference for each contact of a quarter: exactly ``repeaters`` references
    have 3 or more contacts, every other caller one or two, ``anonymous`` share none."""
    callers: list[str | None] = []
    for _ in range(repeaters):
        callers += [refs.new()] * rng.choice((3, 3, 3, 4, 4, 5, 6, 8))
    callers += [None] * round(contacts * anonymous)
    if len(callers) > contacts:
        raise ValueError(f"{repeaters} repeat callers do not fit in {contacts} contacts")
    while len(callers) < contacts:
        ref = refs.new()
        callers += [ref] * (2 if rng.random() < 0.06 and contacts - len(callers) >= 2 else 1)
    rng.shuffle(callers)
    return callers
