"""police.uk street-level files (2016/17): Stockton's rows plus its neighbours'."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date
from random import Random

from ingest.sample.places import STREETS, Lsoa
from ingest.sample.police import AsbIncident, Crime

FORCE = "Cleveland Police"

# --------------------------------------------------------------------------------------
# police.uk street-level files (2016/17)

POLICEUK_TYPES = {
    "Violence with injury": "Violence and sexual offences",
    "Violence without injury": "Violence and sexual offences",
    "Sexual offences": "Violence and sexual offences",
    "Robbery of personal property": "Robbery",
    "Robbery of business property": "Robbery",
    "Criminal damage": "Criminal damage and arson",
    "Arson": "Criminal damage and arson",
    "Burglary": "Burglary",
    "Theft": "Other theft",
    "Vehicle offences": "Vehicle crime",
    "Shoplifting": "Shoplifting",
    "Public order": "Public order",
}
_POLICEUK_MIX = (  # crime type: share of a month's crimes in Cleveland
    ("Violence and sexual offences", 30), ("Criminal damage and arson", 17), ("Shoplifting", 13),
    ("Burglary", 11), ("Other theft", 10), ("Vehicle crime", 6), ("Public order", 3),
    ("Drugs", 3), ("Other crime", 2), ("Robbery", 2), ("Bicycle theft", 2),
    ("Possession of weapons", 1),
)  # fmt: skip
_OUTCOMES = (
    ("Investigation complete; no suspect identified", 36), ("Unable to prosecute suspect", 35),
    ("Court result unavailable", 9), ("Under investigation", 6), ("Offender sent to prison", 4),
    ("Status update unavailable", 3), ("Offender given community sentence", 2),
    ("Local resolution", 2), ("Offender given a caution", 2),
)  # fmt: skip
ASB = "Anti-social behaviour"


def _policeuk_row(
    rng: Random, month: str, crime_type: str, lsoa: Lsoa | None, key: str
) -> list[str]:
    if lsoa is None:  # police.uk rows the force could not place: no location, no LSOA
        where = ["", "", "No Location", "", ""]
    else:
        lon, lat = lsoa.lon + rng.gauss(0, 0.003), lsoa.lat + rng.gauss(0, 0.002)
        street = f"On or near {rng.choice(STREETS)}"
        where = [f"{lon:.6f}", f"{lat:.6f}", street, lsoa.code, lsoa.name]
    if crime_type == ASB:
        crime_id = outcome = ""
    else:
        crime_id = hashlib.sha256(key.encode()).hexdigest()
        outcome = rng.choices(*zip(*_OUTCOMES, strict=True))[0]
    return [crime_id, month, FORCE, FORCE, *where, crime_type, outcome, ""]


def policeuk_month(
    rng: Random,
    first: date,
    incidents: Sequence[AsbIncident],
    crimes: Sequence[Crime],
    neighbours: Sequence[Lsoa],
) -> list[list[str]]:
    """One month of Cleveland's street-level file: Stockton's rows agree with the force
    extracts of the month; Hartlepool, Middlesbrough and Redcar rows come along."""
    month = f"{first:%Y-%m}"
    rows = [_policeuk_row(rng, month, ASB, i.lsoa, i.ref) for i in incidents]
    rows += [
        _policeuk_row(rng, month, POLICEUK_TYPES[c.group], c.lsoa, f"{month}/{c.ref}")
        for c in crimes
    ]
    others = round(len(rows) * rng.uniform(0.9, 1.1))
    types, shares = zip(*_POLICEUK_MIX, strict=True)
    for n in range(others):
        crime_type = ASB if rng.random() < 0.42 else rng.choices(types, shares)[0]
        rows.append(_policeuk_row(rng, month, crime_type, rng.choice(neighbours), f"{month}/n{n}"))
    for n in range(rng.randint(3, 8)):
        rows.append(_policeuk_row(rng, month, rng.choices(types, shares)[0], None, f"{month}/x{n}"))
    rows.sort(key=lambda r: (r[8] or "~", r[9] != ASB, r[9]))
    return rows
