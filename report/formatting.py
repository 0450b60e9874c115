"""Numbers as the report prints them: 3,189; +80; +2.6%; 81.4%; +6.4 pts.

Rounding is half up at presentation only (2.65 -> 2.7), never in the data.  A figure
that small-number suppression replaced by a marker (``"<5"``, ``"withheld"``) is
printed as the marker.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

Figure = float | int | str | None  # a number, a suppression marker, or nothing
NONE = "\N{EN DASH}"  # printed where there is no figure


def is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and not (isinstance(value, float) and math.isnan(value))
    )


def as_number(value: object) -> float | None:
    """A usable number, or None (NaN, None, markers)."""
    return float(value) if is_number(value) else None  # type: ignore[arg-type]


def rounded(value: float, places: int) -> Decimal:
    quantum = Decimal(1).scaleb(-places)
    result = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)
    return result if result != 0 else abs(result)  # never "-0.0"


def _marker_or_none(value: Figure) -> str | None:
    if isinstance(value, str):
        return value
    return None if is_number(value) else NONE


def count(value: Figure) -> str:
    """3189.0 -> '3,189'."""
    if (text := _marker_or_none(value)) is not None:
        return text
    return f"{rounded(value, 0):,}"  # type: ignore[arg-type]


def signed_count(value: Figure) -> str:
    """80 -> '+80', -17 -> '-17', 0 -> '0'."""
    if (text := _marker_or_none(value)) is not None:
        return text
    number = rounded(value, 0)  # type: ignore[arg-type]
    return f"{number:+,}" if number else "0"


def percent(value: Figure, places: int = 1) -> str:
    """A rate 81.3953 -> '81.4%'."""
    if (text := _marker_or_none(value)) is not None:
        return text
    return f"{rounded(value, places):,}%"  # type: ignore[arg-type]


def signed_percent(value: Figure) -> str:
    """A % change 2.573 -> '+2.6%'."""
    if (text := _marker_or_none(value)) is not None:
        return text
    number = rounded(value, 1)  # type: ignore[arg-type]
    return f"{number:+}%" if number else "0.0%"


def points(value: Figure) -> str:
    """A change of a rate, in percentage points: 6.395 -> '+6.4 pts'."""
    if (text := _marker_or_none(value)) is not None:
        return text
    number = rounded(value, 1)  # type: ignore[arg-type]
    return f"{number:+} pts" if number else "0.0 pts"


def figure(value: Figure, unit: str) -> str:
    """A value of a series in its unit: a count or a percentage."""
    return percent(value) if unit == "percent" else count(value)


def change(value: Figure, unit: str) -> str:
    return points(value) if unit == "percent" else signed_count(value)


def long_date(day: date | None) -> str:
    """'20 April 2017'."""
    return NONE if day is None else f"{day.day} {day:%B %Y}"


def days(value: Figure) -> str:
    number = as_number(value)
    if number is None:
        return NONE
    whole = int(rounded(number, 0))
    return f"{whole:,} day" if whole == 1 else f"{whole:,} days"
