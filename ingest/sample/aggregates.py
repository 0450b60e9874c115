"""Aggregate feeds: treatment completions (NDTMS) and partner returns."""

from __future__ import annotations

from random import Random
from typing import NamedTuple

from ingest.sample.calibration import (
    AGENCIES,
    DECLARING_AGENCIES,
    NDTMS,
    NIL_RETURNS,
    NOT_AVAILABLE,
    PARTNER_SERIES,
    PartnerSeries,
)
from ingest.sample.figures import published
from ingest.sample.helpers import fraction, uk_date
from ingest.sample.periods import LAST_YEAR, QUARTERS, Quarter

# --------------------------------------------------------------------------------------
# Aggregate feeds: treatment completions and partner returns


def ndtms_rows(rng: Random) -> dict[int, list[list[str]]]:
    """3.3 as printed where the seed gives it (a rolling figure: a year's outturn is its
    Q4), plausible elsewhere; no file where the report says the return is missing."""
    pub = published()
    by_quarter = {}
    for quarter in QUARTERS:
        if any(pub.unreported(("3.3", s.series), quarter) for s in NDTMS):
            continue
        rows = []
        for s in NDTMS:
            approx = round(s.in_treatment * rng.uniform(0.92, 1.08))
            rate = pub.known(("3.3", s.series), quarter)
            if rate is not None:
                num, den = fraction(rate, approx)
            else:
                num, den = round(approx * rng.uniform(*s.usual) / 100), approx
            rows.append([uk_date(quarter.end), s.drug_group, s.cohort, str(den), str(num)])
        by_quarter[quarter.index] = rows
    return by_quarter


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


def returns_2016_17() -> list[Return]:
    """Exactly the report's 2016/17 return statuses and partner values: a declaration
    (``not_available``, the report's words) for each series-quarter declared not
    available; a late value comes with the next quarter's return, its own return
    having declared it with the agency's other declarations; a missing one has no row."""
    pub = published()
    slug_of = {(s.measure_id, s.series): s.slug for s in PARTNER_SERIES} | DECLARING_AGENCIES
    declared = [
        Return(slug, n, *key, n, NOT_AVAILABLE, note=pub.note(key, quarter, "return_status"))
        for key, slug in slug_of.items()
        for n, quarter in enumerate(LAST_YEAR, 1)
        if pub.status(key, quarter) == "declared_not_available"
    ]
    rows = list(declared)
    for s in PARTNER_SERIES:
        for n, quarter in enumerate(LAST_YEAR, 1):
            rows += _reported(s, n, quarter, declared)
    series_order = list(slug_of)
    agency_order = list(AGENCIES)
    return sorted(
        rows,
        key=lambda r: (
            r.in_quarter,
            agency_order.index(r.slug),
            series_order.index((r.measure_id, r.series)),
            r.quarter,
        ),
    )


def _reported(s: PartnerSeries, n: int, quarter: Quarter, declared: list[Return]) -> list[Return]:
    """The value row of a partner series-quarter the seed prints (none if it does not)."""
    pub, key = published(), (s.measure_id, s.series)
    value, status = pub.printed(key, quarter), pub.status(key, quarter)
    if value is None:
        if status is None:
            raise ValueError(f"{s.measure_id} {s.series} {quarter.label}: the seed says nothing")
        return []
    nil = NIL_RETURNS.get((key, quarter))
    row = Return(s.slug, n, *key, n, "nil_return" if nil else "reported", int(value))
    row = row._replace(note=nil or pub.note(key, quarter, "value"))
    if status != "late":
        return [row]
    first = next(r.note for r in declared if (r.slug, r.in_quarter) == (s.slug, n))
    return [
        row._replace(status=NOT_AVAILABLE, value=None, note=first),
        row._replace(in_quarter=n + 1),
    ]


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
    for r in returns_2016_17():
        row = _partner_row(r, LAST_YEAR[r.quarter - 1], r.value, r.status, r.note)
        files.setdefault((r.slug, LAST_YEAR[r.in_quarter - 1].index), []).append(row)
    return files
