"""Fiscal quarters of the sample: 2013/14 Q1 to 2016/17 Q4 (April to March)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from catalogue.fiscal import FiscalQuarter, add_months

FIRST_FISCAL_YEAR = 2013
FISCAL_YEARS = 4

# --------------------------------------------------------------------------------------
# Calendar (catalogue.fiscal's, under the sample's short names)


@dataclass(frozen=True)
class Quarter:
    """A fiscal quarter: ``fy`` is the first calendar year (2016 for 2016/17)."""

    fy: int
    q: int

    @property
    def fiscal(self) -> FiscalQuarter:
        return FiscalQuarter(self.fy, self.q)

    @property
    def index(self) -> int:
        return (self.fy - FIRST_FISCAL_YEAR) * 4 + self.q - 1

    @property
    def start(self) -> date:
        return self.fiscal.period_start

    @property
    def end(self) -> date:
        return self.fiscal.period_end

    @property
    def months(self) -> list[date]:
        return self.fiscal.month_starts

    @property
    def fiscal_year(self) -> str:
        return self.fiscal.fiscal_year

    @property
    def label(self) -> str:
        """File-name label, e.g. ``2016-17_Q1``."""
        return self.fiscal.slug.replace("-Q", "_Q")


def month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


QUARTERS = tuple(
    Quarter(fy, q)
    for fy in range(FIRST_FISCAL_YEAR, FIRST_FISCAL_YEAR + FISCAL_YEARS)
    for q in range(1, 5)
)
LAST_YEAR = QUARTERS[-4:]  # 2016/17, the year of the published report


def quarter_of(day: date) -> Quarter:
    """The sample's quarter holding ``day`` (a StopIteration outside the sample's years)."""
    fiscal = FiscalQuarter.containing(day)
    return next(q for q in QUARTERS if q.fiscal == fiscal)
