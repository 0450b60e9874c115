"""The current plan year: the one definition the chase lists and the missing-returns check use.

The plan year of an as-of date is the fiscal year of the latest quarter whose return was
due by then (``marts.dim_fiscal_quarter.default_due_date`` on or before the as-of date:
quarter end + var ``default_due_days``).  On 31 May 2017 that is 2016/17, whose Q4 return
was due on 20 April 2017; on 10 April 2017 it is still 2016/17 for Q3.  History before it
stays in ``marts.fct_missing_returns``; only the plan year's open returns are chased and
make the ``missing_returns`` check warn.
"""

from __future__ import annotations

from datetime import date

import duckdb

PLAN_YEAR_SQL = "select max(fiscal_year) from marts.dim_fiscal_quarter where default_due_date <= ?"


def plan_year(con: duckdb.DuckDBPyConnection, as_of: date) -> str | None:
    """The plan year of ``as_of`` read from the marts of ``con`` (warehouse or serving copy);
    None before the first return of the calendar was due."""
    return con.execute(PLAN_YEAR_SQL, [as_of]).fetchone()[0]
