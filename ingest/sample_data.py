"""Deterministic sample agency extracts for Stockton-on-Tees, 2013/14 to 2016/17.

``python -m ingest.sample_data [--out data/landing] [--seed 2017]`` (or ``generate()``)
writes one subfolder per feed of ``ingest.feeds.FEEDS``, with files shaped the way the
agencies deliver them: monthly police exports, quarterly CSVs in Windows-1252 or
UTF-8 with a BOM, one Excel workbook with a title row, a duplicate delivery, a
corrected re-delivery, a late file, extra columns, police.uk street files holding the
neighbouring authorities too.  Each file's modification time is its delivery time.

The records are calibrated: counted by the rules of ``docs/sample_data.md`` they give
every quarter figure of the published 2016/17 report and the earlier years' outturns,
and they are absent exactly where the report says a return was missing or not
available.  Everything is synthetic (no network, one seeded ``random.Random`` stream
per feed); personal references are made-up codes such as ``CR-004512``.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import logging
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from random import Random
from typing import NamedTuple

from openpyxl import Workbook

from ingest.config import DEFAULT_LANDING, DEMO_PSEUDONYM_KEY, SAMPLE_MARKER
from ingest.feeds import FEEDS, POLICEUK_HEADER

log = logging.getLogger("csp.sample_data")

GENERATOR = "ingest.sample_data"
VERSION = "1.0"
DEFAULT_SEED = 2017
FIRST_FISCAL_YEAR = 2013
FISCAL_YEARS = 4
AREA = ("E06000004", "Stockton-on-Tees")
FORCE = "Cleveland Police"
NOT_AVAILABLE = "not_available"

# --------------------------------------------------------------------------------------
# Calendar


@dataclass(frozen=True)
class Quarter:
    """A fiscal quarter: ``fy`` is the first calendar year (2016 for 2016/17)."""

    fy: int
    q: int

    @property
    def index(self) -> int:
        return (self.fy - FIRST_FISCAL_YEAR) * 4 + self.q - 1

    @property
    def start(self) -> date:
        return date(self.fy + (self.q == 4), (3 * self.q) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return _add_months(self.start, 3) - timedelta(days=1)

    @property
    def months(self) -> list[date]:
        return [_add_months(self.start, i) for i in range(3)]

    @property
    def fiscal_year(self) -> str:
        return f"{self.fy}/{(self.fy + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """File-name label, e.g. ``2016-17_Q1``."""
        return f"{self.fy}-{(self.fy + 1) % 100:02d}_Q{self.q}"


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _month_end(first: date) -> date:
    return _add_months(first, 1) - timedelta(days=1)


QUARTERS = tuple(
    Quarter(fy, q)
    for fy in range(FIRST_FISCAL_YEAR, FIRST_FISCAL_YEAR + FISCAL_YEARS)
    for q in range(1, 5)
)
LAST_YEAR = QUARTERS[-4:]  # 2016/17, the year of the published report

# --------------------------------------------------------------------------------------
# Calibration: one value per quarter, 2013/14 Q1 ... 2016/17 Q4.  Figures the seed
# prints are used as printed; a quarter it leaves out is the YTD difference (e.g.
# violence with injury 2016/17 Q3 = 1232 - 397 - 464); the rest are plausible
# choices that add up to the year outturns the seed states.

ASB_INCIDENTS = (  # 1.3; 2014/15 = 12469, 2015/16 = 12043
    (3511, 3702, 3208, 2788)
    + (3262, 3455, 3087, 2665)
    + (3109, 3387, 2954, 2593)
    + (3189, 3560, 3283, 2801)
)
MAASBT_REQUESTS = (  # 1.4; 2015/16 = 4311, 2016/17 = 4626
    (1302, 1411, 1012, 801)
    + (1188, 1297, 998, 765)
    + (1203, 1319, 1035, 754)
    + (1233, 1564, 1035, 794)
)
SBC_REPEAT_CALLERS = (31, 35, 26, 19, 29, 34, 24, 15, 28, 33, 27, 12, 8, 9, 9, 4)  # 1.1 sbc
# 1.1 police; None: 2016/17 Q3 could not be collated (the exports carry no caller_ref)
POLICE_REPEAT_CALLERS = (44, 41, 30, 22, 41, 37, 28, 14, 39, 9, 18, 10, 13, 6, None, 3)
CALIBRATED_OFFENCES = {
    "Violence with injury": (  # 2.1; years 1108, 1146, 1440
        (268, 301, 287, 252) + (281, 305, 296, 264) + (326, 347, 355, 412) + (397, 464, 371, 395)
    ),
    "Violence without injury": (  # 2.2; years 722, 1068, 1628
        (172, 189, 187, 174) + (243, 268, 281, 276) + (336, 364, 439, 489) + (514, 545, 607, 649)
    ),
    "Robbery of personal property": (  # 2.3; years 60, 67, 101
        (13, 15, 17, 15) + (14, 18, 19, 16) + (17, 22, 32, 30) + (14, 26, 28, 33)
    ),
    "Criminal damage": (  # 4.1; 2014/15 = 2111, 2015/16 = 2203
        (598, 611, 572, 509) + (545, 562, 528, 476) + (531, 530, 625, 517) + (528, 588, 758, 647)
    ),
}
# 4.2: victims with 3+ criminal damage offences to dwellings in the 4 quarters to the end
REPEAT_DAMAGE_VICTIMS = (9, 17, 24, 28, 27, 30, 26, 25, 42, 38, 19, 18, 33, 35, 30, 32)
OTHER_OFFENCES = {  # offence group: offences a month in 2016/17 (no measure counts them)
    "Robbery of business property": 3,
    "Arson": 12,
    "Burglary": 140,
    "Theft": 150,
    "Vehicle offences": 78,
    "Sexual offences": 22,
    "Public order": 34,
    "Shoplifting": 160,
}
RECORDING_TREND = (0.8, 0.86, 0.93, 1.0)  # other offences by fiscal year, vs 2016/17

SATISFACTION = {12: (85, 40)}  # 1.2: quarter index -> (published %, about this many replies)
NO_SATISFACTION_REPORTS = (13, 14, 15)  # 2016/17 Q2-Q4: declared not available

# 6.2: quarter -> ((% of cases engaging, about n cases), (% of repeat cases, about n))
MARAC_PUBLISHED = {12: ((76, 75), (50, 22)), 14: ((77, 80), (44, 25)), 15: ((70, 88), (61, 30))}
MARAC_MISSING = (13,)
REPEAT_ENGAGING_BASELINE = (44, 100)  # 6.2 baseline 44%: engaged of repeat cases each year


class IdvaMix(NamedTuple):
    referrals: int
    worked_with: int
    engaged: int
    unable_to_contact: int
    declined: int


# 6.4 (2016/17 Q3's context counts 17 + 10 cannot both hold next to 72 of 91 engaged:
# the 19 others are split 12 / 7)
IDVA_PUBLISHED = {14: IdvaMix(91, 84, 72, 12, 7), 15: IdvaMix(86, 78, 70, 9, 5)}
IDVA_MISSING = (12, 13)

NDTMS_SERIES = (("opiate", "all"), ("non_opiate", "all"), ("opiate", "criminal_justice"))
NDTMS_SERIES += (("non_opiate", "criminal_justice"),)
NDTMS_RATES = {  # 3.3: quarter -> % opiate, non-opiate, opiate CJ, non-opiate CJ
    3: (5.1, 29.9, 2.0, 40.0),  # 2013/14 Q4: the seed's baseline for 2014/15
    7: (4.5, 43.0, 2.3, 37.5),  # 2014/15 Q4: delivered late, in June 2016
    11: (4.6, 41.9, 2.3, 69.3),  # 2015/16 Q4: the catalogue's baseline for 2016/17
    13: (5.1, 45.8, 3.1, 56.4),
    14: (5.7, 37.5, 3.1, 45.8),
    15: (5.8, 37.3, 2.7, 37.5),
}
NDTMS_USUAL = ((820, 4.2, 6.2), (230, 30.0, 46.0), (165, 1.8, 3.4), (40, 35.0, 70.0))
NDTMS_MISSING = (12,)
NDTMS_LATE = {7: datetime(2016, 6, 14, 10, 12, tzinfo=UTC)}

# -- partner returns -------------------------------------------------------------------


class PartnerSeries(NamedTuple):
    slug: str  # file name stem of the agency's return
    agency: str
    measure_id: str
    series: str
    usual: tuple[int, int]  # plausible quarterly range before 2016/17


PROBATION = "Probation (CRC and NPS)"
PARTNER_SERIES = (
    PartnerSeries("probation", PROBATION, "3.1", "commencements", (5, 14)),
    PartnerSeries("probation", PROBATION, "3.1", "completions", (2, 7)),
    PartnerSeries("iom_hub", "Probation (CRC) and IOM hub", "3.2", "total", (8, 30)),
    PartnerSeries("probation", PROBATION, "5.1", "commencements", (5, 12)),
    PartnerSeries("probation", PROBATION, "5.1", "completions", (3, 9)),
    PartnerSeries("probation", PROBATION, "5.1", "breaches", (0, 4)),
    PartnerSeries("probation", PROBATION, "5.2", "total", (1, 8)),
    PartnerSeries("da_perpetrators", "Police and DA service (Harbour)", "6.1", "total", (6, 20)),
    PartnerSeries("problem_solving", "Police (problem-solving meeting)", "6.3", "total", (2, 9)),
)
AGENCIES = {s.slug: s.agency for s in PARTNER_SERIES}
AGENCIES |= {"police": "Police", "maasbt": "Borough council MAASBT"}


class Return(NamedTuple):
    """One 2016/17 partner-return row: which file (agency, quarter) carries it."""

    slug: str
    in_quarter: int
    measure_id: str
    series: str
    quarter: int
    status: str
    value: int | None = None
    note: str = ""


def _declared(slug: str, quarter: int, measure_id: str, series: str, note: str) -> Return:
    return Return(slug, quarter, measure_id, series, quarter, NOT_AVAILABLE, note=note)


_Q1 = "year end and Q1 data not yet available"
_ATR = (("5.1", "commencements"), ("5.1", "completions"), ("5.1", "breaches"), ("5.2", "total"))
_DRR_ATR_Q1 = (("3.1", "commencements"), ("3.1", "completions"), *_ATR[:3])
_MEETINGS = "meetings suspended; cannot be monitored"
_FORMAT = "not available in the requested format"
_LATER = "not available at the time of writing"
_POLICE = "police data could not be collated after a change in recording practices"
# Exactly the report's return statuses: a series-quarter missing there has no row here.
RETURNS_2016_17 = (
    *(_declared("probation", 1, m, s, _Q1) for m, s in _DRR_ATR_Q1),
    _declared("probation", 1, "5.2", "total", "to be reported after 01/10/2016"),
    Return("probation", 2, "3.1", "completions", 1, "reported", 0, "reported late, with Q2"),
    Return("probation", 2, "3.1", "completions", 2, "reported", 0),
    Return("probation", 3, "3.1", "completions", 3, "reported", 0),
    *(_declared("probation", 3, m, s, "not available") for m, s in _ATR),
    Return("probation", 4, "3.1", "completions", 4, "nil_return", 0, "no change reported for Q4"),
    *(_declared("probation", 4, m, s, _LATER) for m, s in _ATR),
    *(
        _declared("iom_hub", q, "3.2", "total", "indicator cannot be reported as planned")
        for q in (1, 2, 3, 4)
    ),
    _declared(
        "da_perpetrators", 1, "6.1", "total", "data sharing of prior incidents under discussion"
    ),
    *(_declared("da_perpetrators", q, "6.1", "total", _FORMAT) for q in (3, 4)),
    *(_declared("problem_solving", q, "6.3", "total", _MEETINGS) for q in (3, 4)),
    _declared("police", 3, "1.1", "police", _POLICE),
    *(
        _declared("maasbt", q, "1.2", "total", "no satisfaction reports produced (staffing)")
        for q in (2, 3, 4)
    ),
)
CORRECTED_RETURN = ("probation", 10)  # 2015/16 Q3 probation return, delivered twice
EXCEL_QUARTER = 15  # MAASBT 2016/17 Q4 comes from the CRM's new Excel export

# --------------------------------------------------------------------------------------
# Places

# Stockton-on-Tees LSOAs as police.uk names them (code E01xxxxxx: name suffix)
_STOCKTON_LSOAS = """
012187:011A 012188:011B 012189:011C 012190:015A 012191:015B 012192:007A 012193:007B
012194:010A 012195:010B 012196:003A 012197:002A 012198:003B 012199:021A 012200:021B
012201:021C 012202:021D 012203:021E 012204:013A 012205:011D 012206:013B 012207:013C
012208:013D 012209:016A 012210:006A 012211:006B 012212:006C 012213:006D 012214:003C
012215:003D 012216:003E 012217:016B 012218:016C 012219:012A 012223:016D 012224:015C
012225:015D 012226:015E 012227:023A 012228:022A 012230:022B 012231:023C 012232:023D
012233:022C 012234:023E 012235:024A 012236:022D 012237:022E 012238:018A 012239:018B
012240:018C 012241:018D 012242:001A 012243:001B 012244:001C 012245:003F 012246:001D
012247:008A 012248:009D 012249:008B 012250:009E 012251:012B 012252:012C 012253:012D
012254:012E 012255:005A 012256:002B 012257:002C 012258:010C 012259:010D 012260:007C
012261:007D 012262:014A 012264:014C 012266:014E 012267:014F 012268:010E 012269:005B
012270:021F 012271:008C 012272:008D 012273:008E 012274:008F 012275:002D 012276:002E
012277:002F 012278:004A 012279:004B 012280:004C 012281:004D 012282:020A 012283:020B
012284:020C 012285:020D 012286:017A 012287:017B 012288:017C 012289:017D 012290:019A
012291:019B 012292:019C 012294:005D 012295:005E 012296:001E 012297:001F 012298:024B
012299:024C 012300:024D 012301:024E 012302:024F 012303:024G 032542:009F 032543:009G
032544:009H 033474:023F 033475:023G 033476:005F 033477:014G 033478:023H 033479:023I
033480:005G
"""
_TOWN_CENTRES = ("014E", "014G", "014A", "002E", "020C")
# neighbours in the same police.uk force file: name, first code, LSOAs, lon/lat box
_NEIGHBOURS = (
    ("Hartlepool", 11952, 58, (-1.27, -1.17, 54.65, 54.72)),
    ("Middlesbrough", 12010, 88, (-1.29, -1.17, 54.51, 54.58)),
    ("Redcar and Cleveland", 12098, 88, (-1.17, -0.80, 54.52, 54.62)),
)
_STOCKTON_BOX = (-1.42, -1.25, 54.49, 54.64)

WARDS = (
    "Billingham Central", "Billingham East", "Billingham North", "Billingham South",
    "Billingham West", "Bishopsgarth and Elm Tree", "Eaglescliffe", "Fairfield",
    "Grangefield", "Hardwick", "Hartburn", "Ingleby Barwick East", "Ingleby Barwick West",
    "Mandale and Victoria", "Newtown", "Northern Parishes", "Norton North", "Norton South",
    "Norton West", "Parkfield and Oxbridge", "Roseworth", "Stainsby Hill",
    "Stockton Town Centre", "Village", "Western Parishes", "Yarm",
)  # fmt: skip
STREETS = (
    "Supermarket", "Parking Area", "High Street", "Shopping Area", "Petrol Station",
    "Sports/Recreation Area", "Yarm Road", "Bridge Road", "Dovecot Street", "Church Road",
    "Station Road", "Durham Road", "Norton Road", "Bishopton Road", "Thornaby Road",
    "Finkle Street", "Lawson Street", "Dean Street", "Mandale Road", "Lanehouse Road",
    "Hardwick Road", "Marsh House Avenue", "Park Road", "Oxbridge Lane", "Green Lane",
)  # fmt: skip


@dataclass(frozen=True)
class Lsoa:
    code: str
    name: str
    lon: float
    lat: float


def _in_box(rng: Random, box: tuple[float, float, float, float]) -> tuple[float, float]:
    return rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3])


def stockton_lsoas(rng: Random) -> list[Lsoa]:
    lsoas = []
    for token in _STOCKTON_LSOAS.split():
        code, suffix = token.split(":")
        lon, lat = _in_box(rng, _STOCKTON_BOX)
        lsoas.append(Lsoa(f"E01{code}", f"{AREA[1]} {suffix}", lon, lat))
    return lsoas


def neighbour_lsoas(rng: Random) -> list[Lsoa]:
    lsoas = []
    for name, first, n, box in _NEIGHBOURS:
        for i in range(n):
            lon, lat = _in_box(rng, box)
            suffix = f"{i // 4 + 1:03d}{'ABCD'[i % 4]}"
            lsoas.append(Lsoa(f"E01{first + i:06d}", f"{name} {suffix}", lon, lat))
    return lsoas


def lsoa_weights(rng: Random, lsoas: Sequence[Lsoa]) -> list[float]:
    """Skewed: a few town-centre LSOAs see many times the borough's typical volume."""
    return [
        rng.paretovariate(2.5) * (8 if lsoa.name[-4:] in _TOWN_CENTRES else 1) for lsoa in lsoas
    ]


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
    incidents = []
    for quarter in QUARTERS:
        n = ASB_INCIDENTS[quarter.index]
        refs = assign_callers(
            rng, n, POLICE_REPEAT_CALLERS[quarter.index] or 0, callers, anonymous=0.03
        )
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
    ``REPEAT_DAMAGE_VICTIMS[e]`` victims have 3 in the four quarters ending with ``e``.
    A victim first hit in e-3 and last in e counts at e only (the first years' windows
    start with the data, so victims of 2013/14 Q1-Q3 count until Q4)."""
    patterns: list[tuple[int, int, int]] = []
    for end, target in enumerate(REPEAT_DAMAGE_VICTIMS):
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
    for group, counts in CALIBRATED_OFFENCES.items():
        planned = sum(v.group == group for v in scripted)
        if planned > counts[quarter.index]:
            raise ValueError(f"{group} {quarter.label}: {planned} planned offences do not fit")
        victims += [_victim(rng, group, refs) for _ in range(counts[quarter.index] - planned)]
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


# --------------------------------------------------------------------------------------
# Council MAASBT requests and satisfaction survey


@dataclass(frozen=True)
class Request:
    ref: str
    day: date
    kind: str
    caller: str | None  # never None: the CRM requires a caller
    ward: str
    channel: str
    status: str


_REQUEST_TYPES = (
    ("Noise – domestic", 24), ("Neighbour dispute", 16), ("Youth-related nuisance", 14),
    ("Verbal abuse / harassment", 9), ("Noise – commercial", 4), ("Drug-related nuisance", 6),
    ("Alcohol-related nuisance", 5), ("Nuisance vehicles", 6), ("Fly-tipping", 5),
    ("Dog-related nuisance", 5), ("Graffiti", 3), ("Noise – licensed premises (café/bar)", 3),
)  # fmt: skip
_CLOSED = ("Closed – resolved", "Closed – resolved", "Closed – no further action", "Referred")
_CHANNELS = (
    ("Telephone", 55), ("Online form", 18), ("Email", 12), ("Police referral", 8),
    ("Housing provider referral", 5), ("Walk-in", 2),
)  # fmt: skip


def maasbt_requests(rng: Random) -> list[Request]:
    callers = RefBook(rng, "CN-{:06d}", 20000)
    kinds, kind_weights = zip(*_REQUEST_TYPES, strict=True)
    channels, channel_weights = zip(*_CHANNELS, strict=True)
    requests = []
    for quarter in QUARTERS:
        n = MAASBT_REQUESTS[quarter.index]
        refs = assign_callers(rng, n, SBC_REPEAT_CALLERS[quarter.index], callers)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in range(n))
        open_share = 0.27 if quarter == QUARTERS[-1] else 0.02
        for n_, (day, caller) in enumerate(zip(days, refs, strict=True)):
            status = "Open" if rng.random() < open_share else rng.choice(_CLOSED)
            requests.append(
                Request(
                    f"SR-{quarter.fy}-{quarter.q}{n_ + 1:04d}",
                    day,
                    rng.choices(kinds, kind_weights)[0],
                    caller,
                    rng.choice(WARDS),
                    rng.choices(channels, channel_weights)[0],
                    status,
                )
            )
    return requests


MAASBT_HEADER = (
    "Request ID", "Received Date", "Request Type", "Caller Ref", "Ward Name", "Channel", "Status",
)  # fmt: skip


def satisfaction_responses(rng: Random) -> dict[int, list[list[str]]]:
    cases = RefBook(rng, "ASB-C{:05d}")
    by_quarter = {}
    for quarter in QUARTERS:
        if quarter.index in NO_SATISFACTION_REPORTS:
            continue
        if quarter.index in SATISFACTION:
            satisfied, n = fraction(*SATISFACTION[quarter.index])
        else:
            n = rng.randint(35, 60)
            satisfied = round(n * rng.uniform(0.86, 0.96))
        answers = ["Y"] * satisfied + ["N"] * (n - satisfied)
        rng.shuffle(answers)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in range(n))
        by_quarter[quarter.index] = [
            [
                f"SAT-{quarter.fy}-{quarter.q}{i + 1:03d}",
                uk_date(day),
                "" if rng.random() < 0.1 else cases.new(),
                answer,
            ]
            for i, (day, answer) in enumerate(zip(days, answers, strict=True))
        ]
    return by_quarter


# --------------------------------------------------------------------------------------
# Domestic abuse: MARAC cases and IDVA referrals


class MaracCounts(NamedTuple):
    cases: int
    engaged: int
    repeat_cases: int
    repeat_engaged: int


def marac_counts(rng: Random) -> dict[int, MaracCounts]:
    """Per quarter; each earlier year's repeat cases engage at the 44% baseline."""
    counts = {}
    for fy in range(FISCAL_YEARS - 1):
        quarters = range(4 * fy, 4 * fy + 4)
        year_engaged, year_cases = REPEAT_ENGAGING_BASELINE
        repeat_cases = split(year_cases, [rng.uniform(0.8, 1.2) for _ in quarters])
        repeat_engaged = split(year_engaged, repeat_cases)
        for q, rc, re_ in zip(quarters, repeat_cases, repeat_engaged, strict=True):
            n = rng.randint(62, 88)
            engaged = re_ + round((n - rc) * rng.uniform(0.72, 0.86))
            counts[q] = MaracCounts(n, engaged, rc, re_)
    for quarter in LAST_YEAR:
        if quarter.index in MARAC_MISSING:
            continue
        everyone, repeats = MARAC_PUBLISHED[quarter.index]
        (engaged, cases), (repeat_engaged, repeat_cases) = fraction(*everyone), fraction(*repeats)
        counts[quarter.index] = MaracCounts(cases, engaged, repeat_cases, repeat_engaged)
    for q, c in counts.items():
        if not (c.repeat_engaged <= c.engaged <= c.repeat_engaged + c.cases - c.repeat_cases):
            raise ValueError(f"MARAC quarter {q}: inconsistent counts {c}")
    return counts


def marac_cases(rng: Random) -> dict[int, list[list[str]]]:
    case_refs, victims = RefBook(rng, "MC-{:06d}"), RefBook(rng, "MV-{:06d}")
    meetings = [date(2013, 4, 4) + timedelta(days=14 * i) for i in range(110)]
    seen: list[tuple[date, str]] = []  # (meeting, victim) for repeat referrals
    by_quarter = {}
    for q, c in sorted(marac_counts(rng).items()):
        quarter = QUARTERS[q]
        dates = [d for d in meetings if quarter.start <= d <= quarter.end]
        recent = [v for d, v in seen if d > quarter.start - timedelta(days=365)]
        flags = [(True, i < c.repeat_engaged) for i in range(c.repeat_cases)]
        first_time = c.cases - c.repeat_cases
        flags += [(False, i < c.engaged - c.repeat_engaged) for i in range(first_time)]
        rows = []
        for repeat, engaged in flags:  # (repeat case, engaging)
            other = "N" if rng.random() < 0.8 else "unknown"
            victim = rng.choice(recent) if repeat and recent else victims.new()
            rows.append(
                [rng.choice(dates), victim, "Y" if repeat else "N", "Y" if engaged else other]
            )
        rng.shuffle(rows)
        rows.sort(key=lambda r: r[0])
        seen += [(r[0], r[1]) for r in rows]
        by_quarter[q] = [[case_refs.new(), uk_date(d), v, rep, eng] for d, v, rep, eng in rows]
    return by_quarter


def idva_mixes(rng: Random) -> dict[int, IdvaMix]:
    mixes = {}
    for quarter in QUARTERS:
        if quarter in LAST_YEAR:
            if quarter.index not in IDVA_MISSING:
                mixes[quarter.index] = IDVA_PUBLISHED[quarter.index]
            continue
        n = rng.randint(75, 105)
        worked = round(n * rng.uniform(0.84, 0.92))
        engaged = min(worked, round(n * rng.uniform(0.72, 0.82)))
        unable = round((n - engaged) * rng.uniform(0.4, 0.6))
        mixes[quarter.index] = IdvaMix(n, worked, engaged, unable, (n - engaged - unable) // 2)
    return mixes


_IDVA_NOTES = (
    "", "", "", "Referred by police after DASH assessment", "Self-referral",
    "Safe contact by text only", "Children's services involved", "Also referred to MARAC",
    "Referred by GP", "Client moved out of area – case transferred",
)  # fmt: skip
IDVA_HEADER = (
    "referral_id", "referral_date", "client_ref", "risk_level", "assessment_outcome",
    "engagement", "referred_to_programme", "notes",
)  # fmt: skip


def idva_referrals(rng: Random) -> dict[int, list[list[str]]]:
    clients = RefBook(rng, "HC-{:06d}")
    by_quarter = {}
    for q, mix in sorted(idva_mixes(rng).items()):
        quarter = QUARTERS[q]
        outcomes = ["worked_with"] * mix.worked_with
        outcomes += ["not_worked_with"] * (mix.referrals - mix.worked_with)
        rest = mix.referrals - mix.engaged - mix.unable_to_contact - mix.declined
        engagement = ["engaged"] * mix.engaged + ["unable_to_contact"] * mix.unable_to_contact
        engagement += ["pending" if quarter == QUARTERS[-1] else "other"] * rest
        engagement += ["declined"] * mix.declined
        pairs = list(zip(outcomes, engagement, strict=True))
        rng.shuffle(pairs)
        days = sorted(day_in(rng, quarter.start, quarter.end) for _ in pairs)
        by_quarter[q] = [
            [
                f"IDVA-{quarter.fy % 100:02d}{quarter.q}-{i + 1:03d}",
                uk_date(day),
                clients.new(),
                rng.choices(("high", "medium", "standard"), (60, 30, 10))[0],
                outcome,
                engaged,
                "Y" if outcome == "worked_with" and rng.random() < 0.97 else "N",
                rng.choice(_IDVA_NOTES),
            ]
            for i, (day, (outcome, engaged)) in enumerate(zip(days, pairs, strict=True))
        ]
    return by_quarter


# --------------------------------------------------------------------------------------
# Aggregate feeds: treatment completions and partner returns


def ndtms_rows(rng: Random) -> dict[int, list[list[str]]]:
    by_quarter = {}
    for quarter in QUARTERS:
        if quarter.index in NDTMS_MISSING:
            continue
        rates = NDTMS_RATES.get(quarter.index)
        rows = []
        for i, ((group, cohort), (den, low, high)) in enumerate(
            zip(NDTMS_SERIES, NDTMS_USUAL, strict=True)
        ):
            approx = round(den * rng.uniform(0.92, 1.08))
            if rates:
                num, den = fraction(rates[i], approx)
            else:
                num, den = round(approx * rng.uniform(low, high) / 100), approx
            rows.append([uk_date(quarter.end), group, cohort, str(den), str(num)])
        by_quarter[quarter.index] = rows
    return by_quarter


PARTNER_HEADER = (
    "agency", "measure_id", "series", "fiscal_year", "quarter", "value", "numerator",
    "denominator", "status", "note",
)  # fmt: skip


def _partner_row(
    row: Return | PartnerSeries,
    quarter: Quarter,
    value: int | None,
    status: str = "reported",
    note: str = "",
) -> list[str]:
    """A row of PARTNER_HEADER (no numerator or denominator: every series is a count)."""
    shown = "" if value is None else str(value)
    period = [quarter.fiscal_year, f"Q{quarter.q}"]
    return [AGENCIES[row.slug], row.measure_id, row.series, *period, shown, "", "", status, note]


def partner_returns(rng: Random) -> dict[tuple[str, int], list[list[str]]]:
    """Rows of each return file, by (agency slug, quarter index of the delivery)."""
    files: dict[tuple[str, int], list[list[str]]] = {}
    for quarter in QUARTERS[:-4]:
        for s in PARTNER_SERIES:
            row = _partner_row(s, quarter, rng.randint(*s.usual))
            files.setdefault((s.slug, quarter.index), []).append(row)
    for r in RETURNS_2016_17:
        row = _partner_row(r, LAST_YEAR[r.quarter - 1], r.value, r.status, r.note)
        files.setdefault((r.slug, LAST_YEAR[r.in_quarter - 1].index), []).append(row)
    return files


# --------------------------------------------------------------------------------------
# Writing files


def reproducible_xlsx(workbook: Workbook, stamp: datetime) -> bytes:
    """openpyxl stamps 'now' into the zip entries and docProps/core.xml: pin both."""
    workbook.properties.created = stamp.replace(tzinfo=None)
    raw = io.BytesIO()
    workbook.save(raw)
    out = io.BytesIO()
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + iso, data)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            dst.writestr(entry, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


@dataclass
class Landing:
    """Writes files into the landing folder, stamps their delivery time, counts rows."""

    root: Path
    summary: dict[str, dict[str, int]] = field(default_factory=dict)

    def _path(self, feed: str, name: str, rows: int) -> Path:
        if feed not in FEEDS:
            raise KeyError(f"{feed} is not a feed of ingest.feeds")
        folder = self.root / feed
        folder.mkdir(parents=True, exist_ok=True)
        tally = self.summary.setdefault(feed, {"files": 0, "rows": 0})
        tally["files"] += 1
        tally["rows"] += rows
        return folder / name

    def csv(
        self,
        feed: str,
        name: str,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        when: datetime,
        encoding: str = "utf-8",
        newline: str = "\r\n",
    ) -> Path:
        path = self._path(feed, name, len(rows))
        with path.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh, lineterminator=newline)
            writer.writerow(header)
            writer.writerows(rows)
        _stamp(path, when)
        return path

    def xlsx(
        self,
        feed: str,
        name: str,
        title: str,
        header: Sequence[str],
        rows: Sequence[Sequence[object]],
        when: datetime,
    ) -> Path:
        """A workbook as agencies send them: a title row and a blank row above the header."""
        path = self._path(feed, name, len(rows))
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Requests"
        sheet.append([title])
        sheet.append([])
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        for (cell,) in sheet.iter_rows(min_row=4, min_col=2, max_col=2):
            cell.number_format = "DD/MM/YYYY"
        path.write_bytes(reproducible_xlsx(workbook, when))
        _stamp(path, when)
        return path

    def copy(self, feed: str, source: Path, name: str, when: datetime) -> Path:
        """A second delivery of an identical file under another name (its rows count)."""
        with source.open("rb") as fh:
            rows = sum(1 for _ in fh) - 1
        path = self._path(feed, name, rows)
        shutil.copyfile(source, path)
        _stamp(path, when)
        return path


def _stamp(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _month_groups(records: Iterable, day_of) -> dict[date, list]:
    months: dict[date, list] = {}
    for record in records:
        day = day_of(record)
        months.setdefault(date(day.year, day.month, 1), []).append(record)
    return months


# --------------------------------------------------------------------------------------
# One writer per feed


def write_police(landing: Landing, rng: Random) -> None:
    lsoas = stockton_lsoas(rng)
    incidents = _month_groups(asb_incidents(rng, lsoas), lambda i: i.at)
    crimes = _month_groups(recorded_crimes(rng, lsoas), lambda c: c.day)
    no_caller = {m for q in QUARTERS if POLICE_REPEAT_CALLERS[q.index] is None for m in q.months}
    for first, month in incidents.items():
        header = ["incident_ref", "reported_at", "asb_category", "lsoa_code", "caller_ref"]
        rows = [
            [i.ref, i.at.strftime("%d/%m/%Y %H:%M"), i.category, i.lsoa.code, i.caller or ""]
            for i in month
        ]
        if first in no_caller:  # the change in recording practice: no caller in the export
            header, rows = header[:-1], [row[:-1] for row in rows]
        when = delivered(rng, _month_end(first), (4, 12))
        path = landing.csv(
            "police_asb_incidents", f"asb_incidents_{first:%Y-%m}.csv", header, rows, when
        )
        if first == date(2016, 5, 1):
            landing.copy(
                "police_asb_incidents", path, path.stem + " (1).csv", when + timedelta(days=1)
            )
    crime_header = ["Crime Ref", "Recorded Date", "Offence Group", "Victim Ref", "Victim Type"]
    crime_header += ["Premises Type", "LSOA Code"]
    for first, month in crimes.items():
        rows = [
            [c.ref, uk_date(c.day), c.group, c.victim or "", c.victim_type, c.premises, c.lsoa.code]
            for c in month
        ]
        when = delivered(rng, _month_end(first), (4, 12))
        name = f"recorded_crime_{first:%Y-%m}.csv"
        landing.csv("police_recorded_crime", name, crime_header, rows, when, encoding="utf-8-sig")
    neighbours = neighbour_lsoas(rng)
    for first in (m for q in LAST_YEAR for m in q.months):
        rows = policeuk_month(rng, first, incidents[first], crimes[first], neighbours)
        when = delivered(rng, _month_end(first), (30, 40))  # police.uk publishes ~5 weeks on
        name = f"{first:%Y-%m}-cleveland-street.csv"
        landing.csv("policeuk_street", name, POLICEUK_HEADER, rows, when, newline="\n")


def write_maasbt(landing: Landing, rng: Random) -> None:
    by_quarter: dict[int, list[Request]] = {}
    for request in maasbt_requests(rng):
        by_quarter.setdefault(_quarter_of(request.day).index, []).append(request)
    for q, requests in by_quarter.items():
        quarter = QUARTERS[q]
        when = delivered(rng, quarter.end)
        name = f"MAASBT_service_requests_{quarter.label}"
        cells = [[r.ref, r.day, r.kind, r.caller, r.ward, r.channel, r.status] for r in requests]
        if q == EXCEL_QUARTER:
            title = (
                f"Stockton-on-Tees Borough Council – MAASBT service requests "
                f"{uk_date(quarter.start)} to {uk_date(quarter.end)}"
            )
            landing.xlsx(
                "maasbt_service_requests", f"{name}.xlsx", title, MAASBT_HEADER, cells, when
            )
            continue
        rows = [[*row[:1], uk_date(row[1]), *row[2:]] for row in cells]
        feed = "maasbt_service_requests"
        landing.csv(feed, f"{name}.csv", MAASBT_HEADER, rows, when, encoding="cp1252")


def _quarter_of(day: date) -> Quarter:
    return next(q for q in QUARTERS if q.start <= day <= q.end)


def write_quarterly(landing: Landing, rng: Random) -> None:
    """The quarterly record and aggregate feeds of the council, Harbour and public health."""
    for q, rows in satisfaction_responses(rng).items():
        quarter = QUARTERS[q]
        header = ("response_id", "survey_date", "case_ref", "satisfied")
        name = f"asb_satisfaction_{quarter.label}.csv"
        landing.csv("asb_satisfaction_survey", name, header, rows, delivered(rng, quarter.end))
    header = ("case_ref", "marac_date", "victim_ref", "repeat_case", "engaged_with_service")
    for q, rows in marac_cases(rng).items():
        quarter = QUARTERS[q]
        name, when = f"marac_cases_{quarter.label}.csv", delivered(rng, quarter.end)
        landing.csv("marac_cases", name, header, rows, when, encoding="utf-8-sig")
    for q, rows in idva_referrals(rng).items():
        quarter = QUARTERS[q]
        name, when = f"idva_referrals_{quarter.label}.csv", delivered(rng, quarter.end)
        landing.csv("idva_referrals", name, IDVA_HEADER, rows, when, encoding="utf-8-sig")
    for q, rows in ndtms_rows(rng).items():
        quarter = QUARTERS[q]
        when = NDTMS_LATE.get(q) or delivered(rng, quarter.end)
        header = ("period_end", "drug_group", "cohort", "in_treatment", "successful_completions")
        name = f"ndtms_partnership_{quarter.label}.csv"
        landing.csv("ndtms_treatment_completions", name, header, rows, when)


def write_partner_returns(landing: Landing, rng: Random) -> None:
    for (slug, q), rows in sorted(partner_returns(rng).items(), key=lambda kv: kv[0][1]):
        quarter = QUARTERS[q]
        when = delivered(rng, quarter.end, (4, 10))
        name = f"{slug}_return_{quarter.label}.csv"
        encoding = "utf-8-sig" if slug == "probation" else "utf-8"
        landing.csv("partner_returns", name, PARTNER_HEADER, rows, when, encoding=encoding)
        if (slug, q) == CORRECTED_RETURN:  # a corrected version a week later, same period
            fixed = [list(row) for row in rows]
            fixed[0][5] = str(int(fixed[0][5]) + 1)
            fixed[0][9] = "corrected: one commencement was missed"
            name, when = f"{slug}_return_{quarter.label}_v2.csv", when + timedelta(days=7)
            landing.csv("partner_returns", name, PARTNER_HEADER, fixed, when, encoding=encoding)


# --------------------------------------------------------------------------------------
# Entry points


class LandingNotSampleError(RuntimeError):
    """The landing folder holds files that this generator did not write."""


def marker_text(seed: int) -> str:
    return (
        f"CSP sample data: {GENERATOR} {VERSION}\n"
        f"seed: {seed}\n"
        f"area: {AREA[0]} {AREA[1]}; fiscal years 2013/14 to 2016/17\n"
        "Every record in this folder is synthetic. The personal references in it\n"
        "(caller_ref, victim_ref, client_ref, case_ref) are made-up codes.\n"
        "Unless CSP_PSEUDONYM_KEY is set, the pipeline hashes them with the public demo\n"
        f"pseudonym key '{DEMO_PSEUDONYM_KEY}'. Never use the demo key on real\n"
        "data, and do not add real extracts to this folder: regenerating it deletes them.\n"
    )


def prepare_landing(landing: Path) -> None:
    """Make ``landing`` ready: refuse a folder with foreign files, clear an old sample."""
    if landing.exists() and not landing.is_dir():
        raise LandingNotSampleError(f"{landing} is a file, not a folder")
    marker = landing / SAMPLE_MARKER
    if landing.exists() and any(landing.iterdir()) and not marker.exists():
        raise LandingNotSampleError(
            f"{landing} is not empty and has no {SAMPLE_MARKER} marker: it may hold real"
            " extracts, so the sample data will not be written there. Choose an empty folder"
            " (--out) or move its files away."
        )
    for name in FEEDS:
        shutil.rmtree(landing / name, ignore_errors=True)
    landing.mkdir(parents=True, exist_ok=True)


def generate(landing: Path, seed: int = DEFAULT_SEED) -> dict[str, dict[str, int]]:
    """Write the sample landing folder; return ``{feed: {"files": n, "rows": n}}``."""
    landing = Path(landing)
    prepare_landing(landing)
    (landing / SAMPLE_MARKER).write_text(marker_text(seed), encoding="utf-8")
    out = Landing(landing)
    for step in (write_police, write_maasbt, write_quarterly, write_partner_returns):
        started = time.monotonic()
        step(out, Random(f"{seed}/{step.__name__}"))
        files = sum(t["files"] for t in out.summary.values())
        log.info(
            "%-16s written (%d files so far, %.1fs)",
            step.__name__.removeprefix("write_"),
            files,
            time.monotonic() - started,
        )
    return {name: out.summary.get(name, {"files": 0, "rows": 0}) for name in FEEDS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_LANDING, help="landing folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    started = time.monotonic()
    try:
        summary = generate(args.out, args.seed)
    except LandingNotSampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sample data (seed {args.seed}) in {args.out}:")
    for feed, tally in summary.items():
        print(f"  {feed:<30} {tally['files']:>4} files {tally['rows']:>9,} rows")
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
