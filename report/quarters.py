"""Which quarter the report is of: the latest one whose returns were due.

The calendar itself (names, periods, parsing) is :mod:`catalogue.fiscal`.
"""

from __future__ import annotations

from datetime import date, timedelta

from catalogue.dbt_vars import dbt_var
from catalogue.fiscal import FiscalQuarter

# Returns are due this many days after the quarter ends (the return calendar's default,
# written once as the dbt var default_due_days).  A quarter is reported once it has passed.
DEFAULT_DUE_DAYS = int(dbt_var("default_due_days"))


def due_date(quarter: FiscalQuarter, due_days: int = DEFAULT_DUE_DAYS) -> date:
    return quarter.period_end + timedelta(days=due_days)


def latest_complete_quarter(as_of: date, due_days: int = DEFAULT_DUE_DAYS) -> FiscalQuarter:
    """The latest quarter whose returns were due before ``as_of`` (quarter end + due days).

    On 21 April 2017 that is 2016/17 Q4 (due 20 April); on 20 April it is still Q3.
    """
    quarter = FiscalQuarter.containing(as_of).previous()
    while due_date(quarter, due_days) >= as_of:
        quarter = quarter.previous()
    return quarter


__all__ = ["DEFAULT_DUE_DAYS", "FiscalQuarter", "due_date", "latest_complete_quarter"]
