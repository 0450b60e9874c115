"""Fiscal quarters of the sample: 2013/14 Q1 to 2016/17 Q4 (April to March)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FIRST_FISCAL_YEAR = 2013
FISCAL_YEARS = 4

# --------------------------------------------------------------------------------------
# Calendar


@dataclass(frozen=True)
class Quarter:
    """A fiscal quarter: ``fy`` is the first calendar year (2016 for 2016/17)."""

    fy: int
    q: int

    @property
    def index(self) -> int:
        return (self.fy - FIRST_FISCAL_YEAR) * 4 + self.q - 1

    @property
    def start(self) -> date:
        return date(self.fy + (self.q == 4), (3 * self.q) % 12 + 1, 1)

    @property
    def end(self) -> date:
        return add_months(self.start, 3) - timedelta(days=1)

    @property
    def months(self) -> list[date]:
        return [add_months(self.start, i) for i in range(3)]

    @property
    def fiscal_year(self) -> str:
        return f"{self.fy}/{(self.fy + 1) % 100:02d}"

    @property
    def label(self) -> str:
        """File-name label, e.g. ``2016-17_Q1``."""
        return f"{self.fy}-{(self.fy + 1) % 100:02d}_Q{self.q}"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


QUARTERS = tuple(
    Quarter(fy, q)
    for fy in range(FIRST_FISCAL_YEAR, FIRST_FISCAL_YEAR + FISCAL_YEARS)
    for q in range(1, 5)
)
LAST_YEAR = QUARTERS[-4:]  # 2016/17, the year of the published report


def quarter_of(day: date) -> Quarter:
    return next(q for q in QUARTERS if q.start <= day <= q.end)
