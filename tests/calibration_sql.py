"""Independent SQL over the raw tables of an ingested sample warehouse: each published
figure recomputed from the extracts (tests/test_sample_calibration.py uses it).

Only rows of loads whose status is 'loaded' count, and a partner-return fact is its
latest delivery. Split from tests/test_sample_calibration.py."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb

from tests.conftest import DESIGN

ROLLING = ("3.3", "4.2")  # the Q4 value of a rolling 12-month figure is the year's outturn


def _read(name: str) -> list[dict[str, str]]:
    with (DESIGN / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PUBLISHED = _read("published_figures.csv")
MEASURES = {(m["measure_id"], m["series"]): m for m in _read("measures.csv")}


LOADED = "_load_id in (select load_id from raw.load_log where status = 'loaded')"
OFFENCE_GROUPS = {
    "2.1": "Violence with injury",
    "2.2": "Violence without injury",
    "2.3": "Robbery of personal property",
    "4.1": "Criminal damage",  # not Arson
}
# measure series -> (table, id, date column, filter)
COUNTS = {
    ("1.3", "total"): ("police_asb_incidents", "incident_ref", "reported_at", "true"),
    ("1.4", "total"): ("maasbt_service_requests", "request_id", "received_date", "true"),
    ("6.4", "referrals"): ("idva_referrals", "referral_id", "referral_date", "true"),
    **{
        (measure, "total"): (
            "police_recorded_crime",
            "crime_ref",
            "recorded_date",
            f"offence_group = '{group}'",
        )
        for measure, group in OFFENCE_GROUPS.items()
    },
}
# 1.1: callers with 3+ contacts in the quarter -> (table, id, date column)
REPEAT_CALLERS = {
    "sbc": ("maasbt_service_requests", "request_id", "received_date"),
    "police": ("police_asb_incidents", "incident_ref", "reported_at"),
}
MARAC = ("marac_cases", "marac_date", "engaged_with_service = 'Y'")
IDVA = ("idva_referrals", "referral_date")
# measure series -> (table, date column, numerator condition, population condition)
RATES = {
    ("1.2", "total"): ("asb_satisfaction_survey", "survey_date", "satisfied", "true"),
    ("6.2", "victims_engaging"): (*MARAC, "true"),
    ("6.2", "repeat_victims_engaging"): (*MARAC, "repeat_case"),
    ("6.4", "worked_with_after_assessment_pct"): (
        *IDVA,
        "assessment_outcome = 'worked_with'",
        "true",
    ),
    ("6.4", "engaged_pct"): (*IDVA, "engagement = 'engaged'", "true"),
}
TREATMENT = {
    "opiate_all": ("opiate", "all"),
    "non_opiate_all": ("non_opiate", "all"),
    "opiate_cj": ("opiate", "criminal_justice"),
    "non_opiate_cj": ("non_opiate", "criminal_justice"),
}
RECORD_DATES = {  # record feed -> its date column, for "no records in that quarter"
    "police_asb_incidents": "reported_at",
    "maasbt_service_requests": "received_date",
    "police_recorded_crime": "recorded_date",
    "asb_satisfaction_survey": "survey_date",
    "marac_cases": "marac_date",
    "idva_referrals": "referral_date",
    "ndtms_treatment_completions": "period_end",
}


def month_start(day: date, months: int) -> date:
    """First day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_bounds(fiscal_year: str, quarter: int) -> tuple[date, date]:
    start = date(int(fiscal_year[:4]) + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return start, month_start(start, 3) - timedelta(days=1)


def previous_year(fiscal_year: str) -> str:
    fy = int(fiscal_year[:4]) - 1
    return f"{fy}/{(fy + 1) % 100:02d}"


# --------------------------------------------------------------------------------------
# Independent figures from the raw tables


@dataclass(frozen=True)
class Figure:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class PartnerRow:
    value: float | None
    status: str
    note: str | None
    received_at: datetime


class Raw:
    """Plain SQL over the raw tables of one ingested warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def one(self, sql: str, *params: object) -> tuple:
        return self.con.execute(sql, list(params)).fetchone()

    def figure(self, measure: str, series: str, fiscal_year: str, quarter: int) -> Figure:
        start, end = quarter_bounds(fiscal_year, quarter)
        key = (measure, series)
        if key in COUNTS:  # no records at all is no figure, not zero
            table, ref, day, where = COUNTS[key]
            n, received = self.one(
                f"select count(distinct {ref}) filter (where {where}), count(*) from raw.{table}"
                f" where {LOADED} and cast({day} as date) between ? and ?",
                start,
                end,
            )
            return Figure(n if received else None)
        if measure == "1.1":
            return self._repeat_callers(series, start, end)
        if key == ("4.2", "total"):
            return Figure(self._repeat_victims(end))
        if key in RATES:
            return self._rate(*RATES[key], start, end)
        if measure == "3.3":
            return self._treatment(series, end)
        if MEASURES[key]["source"] == "partner_returns":
            row = self.partner(measure, series, fiscal_year, quarter)
            return Figure(row.value if row else None)
        raise KeyError(f"no rule to compute {measure} {series}")

    def _repeat_callers(self, series: str, start: date, end: date) -> Figure:
        if series == "combined":
            parts = [self._repeat_callers(s, start, end).value for s in REPEAT_CALLERS]
            known = [p for p in parts if p is not None]
            return Figure(sum(known) if len(known) == len(parts) else None)
        table, ref, day = REPEAT_CALLERS[series]
        known, repeaters = self.one(
            f"""
            select (select count(caller_ref_hash) from raw.{table} where {LOADED}
                      and cast({day} as date) between $1 and $2),
                   count(*)
            from (select caller_ref_hash from raw.{table}
                  where {LOADED} and caller_ref_hash is not null
                    and cast({day} as date) between $1 and $2
                  group by caller_ref_hash having count(distinct {ref}) >= 3)
            """,
            start,
            end,
        )
        return Figure(repeaters if known else None)

    def _repeat_victims(self, end: date) -> int:
        """Victims with 3+ criminal damage offences to dwellings in the 12 months to ``end``."""
        return self.one(
            f"""
            select count(*) from (
                select victim_ref_hash from raw.police_recorded_crime
                where {LOADED} and offence_group = 'Criminal damage' and victim_type = 'person'
                  and premises_type = 'dwelling' and victim_ref_hash is not null
                  and recorded_date between ? and ?
                group by victim_ref_hash having count(distinct crime_ref) >= 3)
            """,
            month_start(end, -11),
            end,
        )[0]

    def _rate(
        self, table: str, day: str, hit: str, population: str, start: date, end: date
    ) -> Figure:
        num, den = self.one(
            f"select count(*) filter (where {hit}), count(*) from raw.{table}"
            f" where {LOADED} and {population} and {day} between ? and ?",
            start,
            end,
        )
        return Figure(100 * num / den if den else None, num, den)

    def _treatment(self, series: str, period_end: date) -> Figure:
        row = self.one(
            f"""
            select successful_completions, in_treatment from raw.ndtms_treatment_completions
            where {LOADED} and period_end = ? and drug_group = ? and cohort = ?
            order by _load_id desc limit 1
            """,
            period_end,
            *TREATMENT[series],
        )
        if row is None:
            return Figure(None)
        return Figure(100 * row[0] / row[1], *row)

    def partner_rows(self, measure: str, series: str, fiscal_year: str, quarter: int) -> list:
        """Every loaded delivery of one partner-return fact, latest first."""
        rows = self.con.execute(
            """
            select p.value, p.status, p.note, l.received_at
            from raw.partner_returns p join raw.load_log l on l.load_id = p._load_id
            where l.status = 'loaded' and p.measure_id = ? and p.series = ?
              and p.fiscal_year = ? and p.quarter = ?
            order by l.received_at desc, p._load_id desc
            """,
            [measure, series, fiscal_year, quarter],
        ).fetchall()
        return [PartnerRow(*row) for row in rows]

    def partner(
        self, measure: str, series: str, fiscal_year: str, quarter: int
    ) -> PartnerRow | None:
        rows = self.partner_rows(measure, series, fiscal_year, quarter)
        return rows[0] if rows else None

    def records_in(self, feed: str, fiscal_year: str, quarter: int) -> int:
        start, end = quarter_bounds(fiscal_year, quarter)
        day = RECORD_DATES[feed]
        sql = f"select count(*) from raw.{feed} where {LOADED} and cast({day} as date)"
        return self.one(f"{sql} between ? and ?", start, end)[0]

    def outturn(self, measure: str, series: str, fiscal_year: str) -> float | None:
        """The year's figure: Q4 for rolling figures, else the sum of the quarters
        (numerators over denominators for rates)."""
        if measure in ROLLING:
            return self.figure(measure, series, fiscal_year, 4).value
        quarters = [self.figure(measure, series, fiscal_year, q) for q in (1, 2, 3, 4)]
        if any(f.value is None for f in quarters):
            return None
        if MEASURES[(measure, series)]["unit"] == "percent":
            num = sum(f.numerator or 0 for f in quarters)
            return 100 * num / sum(f.denominator or 0 for f in quarters)
        return sum(f.value or 0 for f in quarters)
