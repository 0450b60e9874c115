"""Fiscal quarters (April-March years): labels, periods, partition keys.

A quarter is named three ways:

- ``2016/17 Q4``   as the report and the marts print it (``fiscal_year`` + ``quarter``);
- ``2016-17-Q4``   the report folder (``reports/2016-17-Q4/``);
- ``2017-01-01``   the Dagster partition key (the first day of the quarter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Returns are due this many days after the quarter ends (the return calendar's default;
# dbt var default_due_days).  A quarter is reported once its due date has passed.
DEFAULT_DUE_DAYS = 20

_MONTHS = ("April", "July", "October", "January")
_LAST_MONTHS = ("June", "September", "December", "March")
_FISCAL_YEAR = re.compile(r"^(\d{4})[/-](\d{2})$")
_SLUG = re.compile(r"^(\d{4})[/-](\d{2})[- ]?Q([1-4])$")


@dataclass(frozen=True, order=True)
class FiscalQuarter:
    start_year: int  # calendar year the fiscal year starts in (2016 for 2016/17)
    quarter: int  # 1 (April-June) .. 4 (January-March)

    def __post_init__(self) -> None:
        if self.quarter not in (1, 2, 3, 4):
            raise ValueError(f"quarter must be 1-4, not {self.quarter}")

    # names ---------------------------------------------------------------------------
    @property
    def fiscal_year(self) -> str:
        return f"{self.start_year}/{(self.start_year + 1) % 100:02d}"

    @property
    def label(self) -> str:
        return f"{self.fiscal_year} Q{self.quarter}"

    @property
    def slug(self) -> str:
        return f"{self.start_year}-{(self.start_year + 1) % 100:02d}-Q{self.quarter}"

    @property
    def partition_key(self) -> str:
        return self.period_start.isoformat()

    @property
    def months(self) -> str:
        """E.g. 'January-March 2017'."""
        first, last = _MONTHS[self.quarter - 1], _LAST_MONTHS[self.quarter - 1]
        return f"{first}\N{EN DASH}{last} {self.period_end.year}"

    # dates ---------------------------------------------------------------------------
    @property
    def period_start(self) -> date:
        month = 3 * self.quarter + 1
        year = self.start_year
        if month > 12:
            month -= 12
            year += 1
        return date(year, month, 1)

    @property
    def period_end(self) -> date:
        return self.next().period_start - timedelta(days=1)

    def due_date(self, due_days: int = DEFAULT_DUE_DAYS) -> date:
        return self.period_end + timedelta(days=due_days)

    # arithmetic ----------------------------------------------------------------------
    def next(self) -> FiscalQuarter:
        if self.quarter == 4:
            return FiscalQuarter(self.start_year + 1, 1)
        return FiscalQuarter(self.start_year, self.quarter + 1)

    def previous(self) -> FiscalQuarter:
        if self.quarter == 1:
            return FiscalQuarter(self.start_year - 1, 4)
        return FiscalQuarter(self.start_year, self.quarter - 1)

    # parsing -------------------------------------------------------------------------
    @classmethod
    def containing(cls, day: date) -> FiscalQuarter:
        start_year = day.year if day.month >= 4 else day.year - 1
        return cls(start_year, (day.month - 4) % 12 // 3 + 1)

    @classmethod
    def of(cls, fiscal_year: str, quarter: int) -> FiscalQuarter:
        """From the marts' ``fiscal_year`` ('2016/17') and ``quarter`` (4)."""
        match = _FISCAL_YEAR.match(fiscal_year.strip())
        if not match:
            raise ValueError(f"not a fiscal year like 2016/17: {fiscal_year!r}")
        start = int(match.group(1))
        if int(match.group(2)) != (start + 1) % 100:
            raise ValueError(f"not a fiscal year like 2016/17: {fiscal_year!r}")
        return cls(start, int(quarter))

    @classmethod
    def parse(cls, text: str) -> FiscalQuarter:
        """'2016-17-Q4', '2016/17 Q4' or a partition key '2017-01-01'."""
        text = text.strip()
        if match := _SLUG.match(text):
            return cls.of(f"{match.group(1)}/{match.group(2)}", int(match.group(3)))
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not a fiscal quarter: {text!r}") from None
        quarter = cls.containing(day)
        if quarter.period_start != day:
            raise ValueError(f"{text} is not the first day of a quarter")
        return quarter


def latest_complete_quarter(as_of: date, due_days: int = DEFAULT_DUE_DAYS) -> FiscalQuarter:
    """The latest quarter whose returns were due before ``as_of`` (quarter end + due days).

    On 21 April 2017 that is 2016/17 Q4 (due 20 April); on 20 April it is still Q3.
    """
    quarter = FiscalQuarter.containing(as_of).previous()
    while quarter.due_date(due_days) >= as_of:
        quarter = quarter.previous()
    return quarter
