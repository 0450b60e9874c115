"""Police force extracts: ASB incidents and recorded crime (with the 4.2 repeat victims)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from random import Random
from typing import NamedTuple

from ingest.sample.calibration import (
    ASB,
    OTHER_OFFENCES,
    RECORDING_TREND,
    REPEAT_DAMAGE,
    counts,
    offence_counts,
    repeat_callers,
)
from ingest.sample.helpers import RefBook, assign_callers, day_in
from ingest.sample.periods import FIRST_FISCAL_YEAR, QUARTERS, Quarter
from ingest.sample.places import Lsoa, lsoa_weights

# --------------------------------------------------------------------------------------
# Police: ASB incidents and recorded crime


@dataclass(frozen=True)
class AsbIncident:
    ref: str
    at: datetime
    category: str
    lsoa: Lsoa
    caller: str | None


@dataclass(frozen=True)
class Crime:
    ref: str
    day: date
    group: str
    victim: str | None
    victim_type: str
    premises: str
    lsoa: Lsoa


_HOUR_WEIGHTS = (4, 3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 6, 6, 7, 8, 9, 10, 10, 9, 8, 7, 5)
_ASB_CATEGORIES = (("Personal", 20), ("Nuisance", 68), ("Environmental", 12))


def asb_incidents(rng: Random, lsoas: Sequence[Lsoa]) -> list[AsbIncident]:
    weights = lsoa_weights(rng, lsoas)
    callers = RefBook(rng, "CR-{:06d}")
    categories, category_weights = zip(*_ASB_CATEGORIES, strict=True)
    incidents, repeaters = [], repeat_callers()[1]
    for quarter, n in zip(QUARTERS, counts(ASB), strict=True):
        refs = assign_callers(rng, n, repeaters[quarter.index] or 0, callers, anonymous=0.03)
        times = sorted(
            datetime.combine(day_in(rng, quarter.start, quarter.end), datetime.min.time())
            + timedelta(hours=rng.choices(range(24), _HOUR_WEIGHTS)[0], minutes=rng.randrange(60))
            for _ in range(n)
        )
        places = rng.choices(lsoas, weights, k=n)
        kinds = rng.choices(categories, category_weights, k=n)
        incidents += [
            AsbIncident("", at, kind, place, caller)
            for at, kind, place, caller in zip(times, kinds, places, refs, strict=True)
        ]
    return _number_incidents(incidents)


def _number_incidents(incidents: list[AsbIncident]) -> list[AsbIncident]:
    """Command-and-control style references: ``CP-20160401-0007`` (nth log of the day)."""
    numbered: list[AsbIncident] = []
    day, n = None, 0
    for incident in incidents:
        n = n + 1 if incident.at.date() == day else 1
        day = incident.at.date()
        numbered.append(replace(incident, ref=f"CP-{day:%Y%m%d}-{n:04d}"))
    return numbered


class Victim(NamedTuple):
    group: str
    victim_type: str
    premises: str
    ref: str | None


_VICTIM_PROFILES = {  # offence group: (victim type, premises, weight)
    "Violence with injury": (("person", "dwelling", 35), ("person", "other", 65)),
    "Violence without injury": (("person", "dwelling", 35), ("person", "other", 65)),
    "Sexual offences": (("person", "dwelling", 45), ("person", "other", 55)),
    "Robbery of personal property": (("person", "other", 1),),
    "Robbery of business property": (("business", "other", 1),),
    "Criminal damage": (
        ("person", "dwelling", 45),
        ("person", "other", 30),
        ("business", "other", 25),
    ),
    "Arson": (("person", "dwelling", 30), ("person", "other", 40), ("business", "other", 30)),
    "Burglary": (("person", "dwelling", 70), ("business", "other", 30)),
    "Theft": (("person", "other", 85), ("business", "other", 15)),
    "Vehicle offences": (("person", "other", 1),),
    "Shoplifting": (("business", "other", 1),),
    "Public order": (("person", "other", 1),),  # no individual victim: no victim_ref
}


class VictimRefs:
    def __init__(self, rng: Random) -> None:
        self.person = RefBook(rng, "VR-{:07d}", 100000)
        self.business = RefBook(rng, "BV-{:05d}")

    def new(self, victim_type: str) -> str:
        return (self.person if victim_type == "person" else self.business).new()


def _victim(rng: Random, group: str, refs: VictimRefs) -> Victim:
    profiles = _VICTIM_PROFILES[group]
    victim_type, premises, _ = rng.choices(profiles, [p[2] for p in profiles])[0]
    ref = None if group == "Public order" else refs.new(victim_type)
    return Victim(group, victim_type, premises, ref)


def _counted_at(quarters: Sequence[int], end: int) -> bool:
    return sum(end - 3 <= q <= end for q in quarters) >= 3


def repeat_victim_quarters(rng: Random) -> list[tuple[int, int, int]]:
    """The quarters of each repeat victim's three offences, so that exactly
    ``counts(REPEAT_DAMAGE)[e]`` victims have 3 in the four quarters ending with ``e``.
    A victim first hit in e-3 and last in e counts at e only (the first years' windows
    start with the data, so victims of 2013/14 Q1-Q3 count until Q4)."""
    patterns: list[tuple[int, int, int]] = []
    for end, target in enumerate(counts(REPEAT_DAMAGE)):
        have = sum(_counted_at(p, end) for p in patterns)
        if have > target:
            raise ValueError(f"4.2 at quarter {end}: {have} victims carried, target {target}")
        first = max(end - 3, 0)
        patterns += [(first, rng.randint(first, end), end) for _ in range(target - have)]
    return patterns


def damage_scripts(rng: Random, refs: VictimRefs) -> dict[int, list[Victim]]:
    """Criminal damage (and arson) offences with planned victims, by quarter index:
    the 4.2 repeat victims plus near misses that must not count (two offences a year;
    a third offence to a vehicle or by arson; repeat business victims)."""
    scripts: dict[int, list[Victim]] = {q.index: [] for q in QUARTERS}
    for pattern in repeat_victim_quarters(rng):
        ref = refs.new("person")
        for q in pattern:
            scripts[q].append(Victim("Criminal damage", "person", "dwelling", ref))
    last = len(QUARTERS) - 1
    for q in scripts:
        for _ in range(3):  # twice within a year; a third time only a year after the second
            ref = refs.new("person")
            second = min(q + rng.randint(0, 2), last)
            for when in (q, second, second + 4):
                if when <= last:
                    scripts[when].append(Victim("Criminal damage", "person", "dwelling", ref))
        vehicle, arson, shop = refs.new("person"), refs.new("person"), refs.new("business")
        scripts[q] += [Victim("Criminal damage", "person", "dwelling", vehicle)] * 2
        scripts[q] += [Victim("Criminal damage", "person", "other", vehicle)]
        scripts[q] += [Victim("Criminal damage", "person", "dwelling", arson)] * 2
        scripts[q] += [Victim("Arson", "person", "dwelling", arson)]
        scripts[q] += [Victim("Criminal damage", "business", "other", shop)] * rng.randint(3, 5)
    return scripts


def _quarter_victims(
    rng: Random, quarter: Quarter, scripted: list[Victim], refs: VictimRefs
) -> list[Victim]:
    victims = list(scripted)
    for group, per_quarter in offence_counts().items():
        planned = sum(v.group == group for v in scripted)
        if planned > per_quarter[quarter.index]:
            raise ValueError(f"{group} {quarter.label}: {planned} planned offences do not fit")
        victims += [_victim(rng, group, refs) for _ in range(per_quarter[quarter.index] - planned)]
    trend = RECORDING_TREND[quarter.fy - FIRST_FISCAL_YEAR]
    for group, monthly in OTHER_OFFENCES.items():
        n = max(0, round(3 * monthly * trend * rng.gauss(1, 0.07)))
        victims += [_victim(rng, group, refs) for _ in range(n)]
    return victims


def recorded_crimes(rng: Random, lsoas: Sequence[Lsoa]) -> list[Crime]:
    weights = lsoa_weights(rng, lsoas)
    refs = VictimRefs(rng)
    scripts = damage_scripts(rng, refs)
    crimes = []
    for quarter in QUARTERS:
        victims = _quarter_victims(rng, quarter, scripts[quarter.index], refs)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in victims)
        rng.shuffle(victims)
        places = rng.choices(lsoas, weights, k=len(victims))
        for n, (day, v, place) in enumerate(zip(days, victims, places, strict=True)):
            ref = f"CRI-{quarter.fy % 100:02d}{quarter.q}-{n + 1:05d}"
            crimes.append(Crime(ref, day, v.group, v.ref, v.victim_type, v.premises, place))
    return crimes
