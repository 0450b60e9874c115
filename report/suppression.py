"""Small-number suppression (DESIGN.md, "Personal data").

Figures for an area below the borough, and breakdowns of a borough figure into
sub-groups, are published with counts of 1-4 shown as ``"<5"`` and rates over fewer
than 5 cases withheld.  Borough totals are published as they are.  A figure derived
from a suppressed one (a change, a % change, a difference) is withheld too, so that
it cannot be worked back.

:func:`suppress` is the rule; everything the report prints below the borough total
goes through it (and :func:`derived` for the figures computed from others).
"""

from __future__ import annotations

from typing import Literal

from report.formatting import Figure, as_number

Level = Literal["borough", "below_borough"]
BOROUGH: Level = "borough"
BELOW_BOROUGH: Level = "below_borough"

SMALL = "<5"  # a count of 1-4
WITHHELD = "withheld"  # a rate over fewer than 5 cases, or a figure derived from a suppressed one
SMALLEST_SHOWN = 5  # counts below this (except 0) and rates over denominators below it

# ONS area code prefixes of a local authority (borough, district, unitary, council area):
# England E06-E09, Wales W06, Scotland S12, Northern Ireland N09.  Wards (E05), LSOAs
# (E01), MSOAs (E02) and other codes are below the borough.
LOCAL_AUTHORITY_PREFIXES = ("E06", "E07", "E08", "E09", "W06", "S12", "N09")


def geography_level(area_code: str) -> Level:
    """``borough`` for a local authority code, else ``below_borough``."""
    return BOROUGH if area_code.upper().startswith(LOCAL_AUTHORITY_PREFIXES) else BELOW_BOROUGH


def suppress(
    value: Figure,
    *,
    level: Level,
    unit: str = "count",
    denominator: Figure = None,
) -> Figure:
    """The figure to publish.

    - at borough level: ``value`` unchanged (borough totals as published);
    - below it, a count of 1-4 -> ``"<5"`` (0 and 5+ unchanged);
    - below it, a rate (``unit='percent'``) whose denominator is under 5, or unknown,
      -> ``"withheld"``;
    - nothing (None/NaN) stays nothing, a marker stays the marker.
    """
    number = as_number(value)
    if isinstance(value, str) or number is None or level == BOROUGH:
        return value
    if unit == "percent":
        base = as_number(denominator)
        return WITHHELD if base is None or base < SMALLEST_SHOWN else value
    return SMALL if 0 < number < SMALLEST_SHOWN else value


def is_suppressed(value: Figure) -> bool:
    return value in (SMALL, WITHHELD)


def derived(value: Figure, *sources: Figure) -> Figure:
    """A figure computed from ``sources`` (a change from its two counts): withheld when
    any source was suppressed, else ``value``."""
    return WITHHELD if any(is_suppressed(s) for s in sources) else value
