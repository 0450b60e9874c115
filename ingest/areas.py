"""Which local authorities the warehouse keeps (``CSP_AREA``), and how a police.uk row is
matched to one by its LSOA name.  The list is ``ingest/reference/local_authorities.csv``
(England and Wales, April 2022 boundaries)."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from ingest.readers import sql_literal

REFERENCE = Path(__file__).parent / "reference"
ALL_AREAS = "all"


@functools.cache
def _authorities() -> dict[str, tuple[str, str]]:
    """Local authority code -> (name, how its police.uk LSOA names start)."""
    with (REFERENCE / "local_authorities.csv").open(encoding="utf-8") as fh:
        return {r["area_code"]: (r["area_name"], r["lsoa_prefix"]) for r in csv.DictReader(fh)}


def local_authorities() -> dict[str, str]:
    """Local authority code -> name."""
    return {code: name for code, (name, _) in _authorities().items()}


def resolve_area(area: str) -> tuple[str, str] | None:
    """``CSP_AREA`` (a code or a name) -> (code, name); None means every area."""
    if area.strip().lower() == ALL_AREAS:
        return None
    areas = local_authorities()
    if area in areas:
        return area, areas[area]
    for code, name in areas.items():
        if name.lower() == area.strip().lower():
            return code, name
    raise ValueError(
        f"CSP_AREA={area!r} is not a local authority code or name known to"
        f" ingest/reference/local_authorities.csv (or 'all')"
    )


def areas_sql(area: tuple[str, str] | None) -> str:
    """The areas this warehouse keeps (``area`` from :func:`resolve_area`), as an inline
    table ``_areas(area_code, area_name, lsoa_prefix)``."""
    areas = _authorities()
    if area is not None:
        areas = {area[0]: areas[area[0]]}
    values = ", ".join(
        f"({sql_literal(code)}, {sql_literal(name)}, {sql_literal(prefix)})"
        for code, (name, prefix) in areas.items()
    )
    return f"(values {values}) as _areas(area_code, area_name, lsoa_prefix)"


def area_match(lsoa: str) -> str:
    """Join condition on ``_areas``: a police.uk LSOA name is its authority's name, a
    space and a 4-character code (``Stockton-on-Tees 011D``).  A suffix cut that must
    equal a known authority's name, not a regular expression: this runs on every
    national row."""
    return f"left({lsoa}, length({lsoa}) - 5) = _areas.lsoa_prefix"
