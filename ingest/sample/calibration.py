"""What the sample is calibrated to: the seed's figures, and the choices it leaves open.

Every published figure comes from the seeds, read when the sample is generated
(``ingest.sample.figures``).  The constants here are what the seed does not say and
the sample has to choose: quarters it neither prints nor implies, how many records
stand behind a published percentage, how agencies lay out their files.  None of them
is a published figure; ``Published.quarter_counts`` refuses a choice for a quarter
the seed gives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from ingest.sample.figures import Series, published
from ingest.sample.periods import QUARTERS, Quarter

NOT_AVAILABLE = "not_available"

# --------------------------------------------------------------------------------------
# Counts per quarter, 2013/14 Q1 ... 2016/17 Q4.  The seed prints 2016/17 and, as last
# year's column, 2015/16; a quarter it leaves out is the YTD difference (violence with
# injury 2016/17 Q3 = 1232 - 397 - 464) or the year's outturn less the other quarters.
# The rest are the sample's plausible seasonal choices, by fiscal year (None: the seed
# gives that quarter).

UNPRINTED_COUNTS: dict[Series, dict[str, tuple[int | None, ...]]] = {
    ("1.3", "total"): {"2013/14": (3511, 3702, 3208, 2788), "2014/15": (3262, 3455, 3087, None)},
    ("1.4", "total"): {"2013/14": (1302, 1411, 1012, 801), "2014/15": (1188, 1297, 998, 765)},
    ("1.1", "sbc"): {"2013/14": (31, 35, 26, 19), "2014/15": (29, 34, 24, 15)},
    ("1.1", "police"): {  # Q4s: the seed prints only council + police (combined)
        "2013/14": (44, 41, 30, 22),
        "2014/15": (41, 37, 28, 14),
        "2015/16": (None, None, 18, 10),
        "2016/17": (None, None, None, 3),
    },
    ("2.1", "total"): {"2013/14": (268, 301, 287, None), "2014/15": (281, 305, 296, None)},
    ("2.2", "total"): {"2013/14": (172, 189, 187, None), "2014/15": (243, 268, 281, None)},
    ("2.3", "total"): {"2013/14": (13, 15, 17, None), "2014/15": (14, 18, 19, None)},
    ("4.1", "total"): {"2013/14": (598, 611, 572, 509), "2014/15": (545, 562, 528, None)},
    # 4.2: victims with 3+ criminal damage offences to dwellings in the 4 quarters to the
    # end; its Q4 is the year's outturn (a rolling figure)
    ("4.2", "total"): {"2013/14": (9, 17, 24, None), "2014/15": (27, 30, 26, None)},
}
ASB = ("1.3", "total")
MAASBT = ("1.4", "total")
SBC_CALLERS, POLICE_CALLERS, ALL_CALLERS = (("1.1", s) for s in ("sbc", "police", "combined"))
REPEAT_DAMAGE = ("4.2", "total")


def counts(key: Series) -> list[int]:
    """The count for each quarter of QUARTERS (seed first, then the sample's choices)."""
    return _complete(key, published().quarter_counts(key, UNPRINTED_COUNTS.get(key, {})))


def _complete(key: Series, values: list[int | None]) -> list[int]:
    gaps = [f"{q.fiscal_year} Q{q.q}" for q, v in zip(QUARTERS, values, strict=True) if v is None]
    if gaps:
        raise ValueError(f"{' '.join(key)}: neither the seed nor the sample gives {gaps}")
    return [int(v) for v in values if v is not None]


@cache
def repeat_callers() -> tuple[list[int], list[int | None]]:
    """1.1 (council, police) per quarter.  Where the seed prints only their sum, the
    police part is the sample's choice and the council's the rest.  Police is None
    where the report declares it not available: those exports carry no caller_ref."""
    pub = published()
    police = pub.quarter_counts(POLICE_CALLERS, UNPRINTED_COUNTS[POLICE_CALLERS])
    sbc = pub.quarter_counts(SBC_CALLERS, UNPRINTED_COUNTS[SBC_CALLERS])
    for quarter in QUARTERS:
        i = quarter.index
        both = pub.printed(ALL_CALLERS, quarter)
        if sbc[i] is None and both is not None and police[i] is not None:
            sbc[i] = int(both) - police[i]
        if police[i] is None and pub.status(POLICE_CALLERS, quarter) != "declared_not_available":
            raise ValueError(f"1.1 police {quarter.label}: no figure and not declared")
    return _complete(SBC_CALLERS, sbc), police


@cache
def offence_counts() -> dict[str, list[int]]:
    """Force-extract offence group -> counts per quarter, in measure order (2.1 ... 4.1),
    by the seed's offence_group_measures.csv."""
    return {group: counts((m, s)) for m, s, group in sorted(published().force_groups)}


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

# --------------------------------------------------------------------------------------
# Rates: the seed prints a percentage, the sample chooses how many records make it

SATISFACTION = ("1.2", "total")
SATISFACTION_REPLIES = 40  # about this many survey replies behind a printed %

MARAC_ALL, MARAC_REPEAT = ("6.2", "victims_engaging"), ("6.2", "repeat_victims_engaging")
# about this many (cases, repeat cases) behind the printed 2016/17 percentages
MARAC_CASES = {Quarter(2016, 1): (75, 22), Quarter(2016, 3): (80, 25), Quarter(2016, 4): (88, 30)}
REPEAT_CASES_A_YEAR = 100  # before 2016/17; they engage at the year's outturn (the baseline)


class IdvaMix(NamedTuple):
    referrals: int
    worked_with: int
    engaged: int
    unable_to_contact: int
    declined: int


IDVA = ("6.4", "referrals")
IDVA_WORKED_WITH = ("6.4", "worked_with_after_assessment_pct")
IDVA_ENGAGED = ("6.4", "engaged_pct")
# What the seed does not print for 2016/17: Q4's worked-with count, and how those who
# did not engage split (Q3's context counts 17 + 10 cannot both hold next to 72 of 91
# engaged: the 19 others are split 12 / 7).
IDVA_CHOICES = {
    Quarter(2016, 3): {"unable_to_contact": 12, "declined": 7},
    Quarter(2016, 4): {"worked_with": 78, "unable_to_contact": 9, "declined": 5},
}


def idva_published(quarter: Quarter) -> IdvaMix:
    """A 2016/17 quarter's referrals: the seed's counts, completed by IDVA_CHOICES."""
    pub, chosen = published(), IDVA_CHOICES.get(quarter, {})
    referrals = pub.printed(IDVA, quarter)
    if referrals is None:
        raise ValueError(f"6.4 {quarter.label}: the seed prints no referrals")

    def pick(name: str, key: Series) -> int:
        printed, choice = pub.printed(key, quarter, "numerator"), chosen.get(name)
        if pub.printed(key, quarter, "denominator") not in (None, referrals):
            raise ValueError(f"{' '.join(key)} {quarter.label}: denominator is not {referrals}")
        if (printed is None) == (choice is None):
            raise ValueError(f"6.4 {name} {quarter.label}: seed {printed}, sample {choice}")
        return int(printed if printed is not None else choice)

    worked, engaged = pick("worked_with", IDVA_WORKED_WITH), pick("engaged", IDVA_ENGAGED)
    rest = chosen["unable_to_contact"], chosen["declined"]
    return IdvaMix(int(referrals), worked, engaged, *rest)


class TreatmentSeries(NamedTuple):
    series: str  # of measure 3.3; staging names it from the file's two columns
    drug_group: str
    cohort: str
    in_treatment: int  # about this many clients a quarter
    usual: tuple[float, float]  # plausible % range where the seed gives no figure


NDTMS = (
    TreatmentSeries("opiate_all", "opiate", "all", 820, (4.2, 6.2)),
    TreatmentSeries("non_opiate_all", "non_opiate", "all", 230, (30.0, 46.0)),
    TreatmentSeries("opiate_cj", "opiate", "criminal_justice", 165, (1.8, 3.4)),
    TreatmentSeries("non_opiate_cj", "non_opiate", "criminal_justice", 40, (35.0, 70.0)),
)
# The seed notes the 2014/15 Q4 update came late (in the 2016/17 Q1 column); the
# delivery time is the sample's choice.
NDTMS_LATE = {Quarter(2014, 4): datetime(2016, 6, 14, 10, 12, tzinfo=UTC)}

# --------------------------------------------------------------------------------------
# Partner returns: which agency sends which series, in which file (not in the seed)


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
# Record feeds whose "declared not available" arrives as a partner-return row
DECLARING_AGENCIES = {POLICE_CALLERS: "police", SATISFACTION: "maasbt"}
# How the agency wrote a nil return: status nil_return and its own words (the value is
# the seed's; the seed's note is the report's wording)
NIL_RETURNS = {(("3.1", "completions"), Quarter(2016, 4)): "no change reported for Q4"}
CORRECTED_RETURN = ("probation", 10)  # 2015/16 Q3 probation return, delivered twice
EXCEL_QUARTER = 15  # MAASBT 2016/17 Q4 comes from the CRM's new Excel export
