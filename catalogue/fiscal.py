"""The fiscal calendar in Python (April-March years), written once.

SQL has its own one home (the ``fiscal_calendar`` seed and ``macros/fiscal_calendar.sql``;
staging emits ``fiscal_year`` / ``quarter``); every Python module that names a fiscal
year or quarter uses this one (tests/test_report.py checks it against the seed).

A quarter is named three ways:

- ``2016/17 Q4``   as the report and the marts print it (``fiscal_year`` + ``quarter``);
- ``2016-17-Q4``   the report folder (``reports/2016-17-Q4/``) and the Dagster partition
  key of the quarterly report (``partition_key``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_MONTH = 4  # the fiscal year starts on 1 April
_MONTHS = ("April", "July", "October", "January")
_LAST_MONTHS = ("June", "September", "December", "March")
_FISCAL_YEAR = re.compile(r"^(\d{4})[/-](\d{2})$")
_SLUG = re.compile(r"^(\d{4})[/-](\d{2})[- ]?Q([1-4])$")


def fiscal_year_label(start_year: int, separator: str = "/") -> str:
    """2016 -> '2016/17' (or '2016-17' with ``separator='-'``)."""
    return f"{start_year}{separator}{(start_year + 1) % 100:02d}"


def fiscal_year_start(label: str) -> int:
    """'2016/17' (or '2016-17') -> 2016; anything else is a ValueError."""
    match = _FISCAL_YEAR.match(label.strip())
    if not match or int(match.group(2)) != (int(match.group(1)) + 1) % 100:
        raise ValueError(f"not a fiscal year like 2016/17: {label!r}")
    return int(match.group(1))


def start_year_of(day: date) -> int:
    """The calendar year the fiscal year holding ``day`` starts in."""
    return day.year if day.month >= FIRST_MONTH else day.year - 1


def fiscal_year_of(day: date) -> str:
    """31 March 2017 -> '2016/17'."""
    return fiscal_year_label(start_year_of(day))


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


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
        return fiscal_year_label(self.start_year)

    @property
    def label(self) -> str:
        return f"{self.fiscal_year} Q{self.quarter}"

    @property
    def slug(self) -> str:
        return f"{fiscal_year_label(self.start_year, '-')}-Q{self.quarter}"

    @property
    def partition_key(self) -> str:
        return self.slug

    @property
    def months(self) -> str:
        """E.g. 'January-March 2017'."""
        first, last = _MONTHS[self.quarter - 1], _LAST_MONTHS[self.quarter - 1]
        return f"{first}\N{EN DASH}{last} {self.period_end.year}"

    # dates ---------------------------------------------------------------------------
    @property
    def period_start(self) -> date:
        return add_months(date(self.start_year, FIRST_MONTH, 1), 3 * (self.quarter - 1))

    @property
    def period_end(self) -> date:
        return self.next().period_start - timedelta(days=1)

    @property
    def month_starts(self) -> list[date]:
        """The first days of the quarter's three months."""
        return [add_months(self.period_start, i) for i in range(3)]

    # arithmetic ----------------------------------------------------------------------
    def next(self) -> FiscalQuarter:
        if self.quarter == 4:
            return FiscalQuarter(self.start_year + 1, 1)
        return FiscalQuarter(self.start_year, self.quarter + 1)

    def previous(self) -> FiscalQuarter:
        if self.quarter == 1:
            return FiscalQuarter(self.start_year - 1, 4)
        return FiscalQuarter(self.start_year, self.quarter - 1)

    def year_before(self) -> FiscalQuarter:
        """The same quarter of the previous fiscal year."""
        return FiscalQuarter(self.start_year - 1, self.quarter)

    # parsing -------------------------------------------------------------------------
    @classmethod
    def containing(cls, day: date) -> FiscalQuarter:
        return cls(start_year_of(day), (day.month - FIRST_MONTH) % 12 // 3 + 1)

    @classmethod
    def of(cls, fiscal_year: str, quarter: int) -> FiscalQuarter:
        """From the marts' ``fiscal_year`` ('2016/17') and ``quarter`` (4)."""
        return cls(fiscal_year_start(fiscal_year), int(quarter))

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
