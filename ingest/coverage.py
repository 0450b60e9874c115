"""Does a quarterly file reach the end of the quarter it claims?

A quarterly feed's file covers the fiscal quarters its records fall in.  One whose
records stop before the last month of its last quarter is most likely cut short (still
being written, or a partial export): it is loaded, its ledger row says so in ``notes``,
and dbt counts only the months it reaches (``int_feed_month_coverage``), so the quarter
shows as ``partial``, not ``reported``.  Which feeds are quarterly is written once, in
the ``return_calendar`` seed.
"""

from __future__ import annotations

import csv
import functools
from datetime import date

from catalogue.fiscal import FiscalQuarter
from ingest.config import PROJECT_ROOT

RETURN_CALENDAR = PROJECT_ROOT / "dbt_project" / "seeds" / "return_calendar.csv"
PARTIAL = "partial quarter"


@functools.cache
def frequencies() -> dict[str, str]:
    """Feed -> 'monthly' | 'quarterly' (dbt_project/seeds/return_calendar.csv)."""
    with RETURN_CALENDAR.open(encoding="utf-8") as fh:
        return {row["source_feed"]: row["frequency"] for row in csv.DictReader(fh)}


def fiscal_quarter_end(day: date) -> date:
    """Last month (its first day) of the fiscal quarter (April-March) holding ``day``."""
    return FiscalQuarter.containing(day).month_starts[-1]


def partial_quarter_note(feed_name: str, period_end: date | None) -> str | None:
    """A ledger note when a quarterly feed's records stop before their quarter's last
    month, else None."""
    if period_end is None or frequencies().get(feed_name) != "quarterly":
        return None
    last_month = fiscal_quarter_end(period_end)
    if (period_end.year, period_end.month) >= (last_month.year, last_month.month):
        return None
    return (
        f"{PARTIAL}: the records stop in {period_end:%B %Y} but the quarter runs to"
        f" {last_month:%B %Y} (a file still being written, or a partial export?);"
        " only the months it reaches count"
    )
