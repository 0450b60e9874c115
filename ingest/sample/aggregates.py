"""Aggregate feeds: treatment completions (NDTMS) and partner returns."""

from __future__ import annotations

from random import Random

from ingest.sample.calibration import (
    AGENCIES,
    NDTMS_MISSING,
    NDTMS_RATES,
    NDTMS_SERIES,
    NDTMS_USUAL,
    PARTNER_SERIES,
    RETURNS_2016_17,
    PartnerSeries,
    Return,
)
from ingest.sample.helpers import fraction, uk_date
from ingest.sample.periods import LAST_YEAR, QUARTERS, Quarter

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
