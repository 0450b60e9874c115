"""One writer per feed: turns the generated records into the agencies' files."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from ingest.feeds import POLICEUK_HEADER
from ingest.sample.aggregates import PARTNER_HEADER, ndtms_rows, partner_returns
from ingest.sample.calibration import (
    CORRECTED_RETURN,
    EXCEL_QUARTER,
    NDTMS_LATE,
    repeat_callers,
)
from ingest.sample.council import MAASBT_HEADER, Request, maasbt_requests, satisfaction_responses
from ingest.sample.domestic_abuse import IDVA_HEADER, idva_referrals, marac_cases
from ingest.sample.files import Landing, month_groups
from ingest.sample.helpers import delivered, uk_date
from ingest.sample.periods import LAST_YEAR, QUARTERS, month_end, quarter_of
from ingest.sample.places import neighbour_lsoas, stockton_lsoas
from ingest.sample.police import asb_incidents, recorded_crimes
from ingest.sample.policeuk import policeuk_month

# --------------------------------------------------------------------------------------
# One writer per feed


def write_police(landing: Landing, rng: Random) -> None:
    lsoas = stockton_lsoas(rng)
    incidents = month_groups(asb_incidents(rng, lsoas), lambda i: i.at)
    crimes = month_groups(recorded_crimes(rng, lsoas), lambda c: c.day)
    police_callers = repeat_callers()[1]
    no_caller = {m for q in QUARTERS if police_callers[q.index] is None for m in q.months}
    for first, month in incidents.items():
        header = ["incident_ref", "reported_at", "asb_category", "lsoa_code", "caller_ref"]
        rows = [
            [i.ref, i.at.strftime("%d/%m/%Y %H:%M"), i.category, i.lsoa.code, i.caller or ""]
            for i in month
        ]
        if first in no_caller:  # the change in recording practice: no caller in the export
            header, rows = header[:-1], [row[:-1] for row in rows]
        when = delivered(rng, month_end(first), (4, 12))
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
        when = delivered(rng, month_end(first), (4, 12))
        name = f"recorded_crime_{first:%Y-%m}.csv"
        landing.csv("police_recorded_crime", name, crime_header, rows, when, encoding="utf-8-sig")
    neighbours = neighbour_lsoas(rng)
    for first in (m for q in LAST_YEAR for m in q.months):
        rows = policeuk_month(rng, first, incidents[first], crimes[first], neighbours)
        when = delivered(rng, month_end(first), (30, 40))  # police.uk publishes ~5 weeks on
        name = f"{first:%Y-%m}-cleveland-street.csv"
        landing.csv("policeuk_street", name, POLICEUK_HEADER, rows, when, newline="\n")


def write_maasbt(landing: Landing, rng: Random) -> None:
    by_quarter: dict[int, list[Request]] = {}
    for request in maasbt_requests(rng):
        by_quarter.setdefault(quarter_of(request.day).index, []).append(request)
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
        when = NDTMS_LATE.get(quarter) or delivered(rng, quarter.end)
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
