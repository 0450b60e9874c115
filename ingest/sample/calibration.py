"""What the sample is calibrated to: one figure per quarter, and the 2016/17 returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

NOT_AVAILABLE = "not_available"

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
