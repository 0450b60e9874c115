"""Feed freshness and partner health from the return calendar, as Dagster asset checks.

The return calendar (``dbt_project/seeds/return_calendar.csv``: monthly police
extracts, quarterly returns, due N days after the period) is applied once, by dbt:
``marts.fct_missing_returns`` lists every series-quarter whose return was due by the
as-of date and is missing, partial, declared not available or late.  These checks only
read it (and ``marts.fct_measure_quarter`` for what was due), read-only, after the
build, and never block:

- ``raw/<feed>`` ``freshness``: passes while every return of the current plan year
  that the feed serves has arrived; fails (a warning) naming each outstanding one,
  "Probation (CRC and NPS): 2016/17 Q3 return due 20 January 2017, 131 days overdue
  (3.1 commencements)", or for a delivery that broke its contract (status ``rejected``,
  the file from the mart's ``rejected_file``) "Probation (CRC and NPS): 2016/17 Q4 return
  rejected (file partner_returns/….csv), awaiting a corrected file (3.1 commencements)".
- ``marts/fct_missing_returns`` ``partner_health``: a table by agency (returns due,
  received, late, declared, partial, rejected, outstanding, days overdue), passing when
  nothing of the current plan year is outstanding.

The current plan year is the fiscal year of the latest quarter whose return was due by
the as-of date (``catalogue.plan_year``; the chase lists use the same rule).  Outstanding means
no usable answer yet: ``OUTSTANDING`` (declared and late returns have been answered).

(No ``from __future__ import annotations`` here: Dagster inspects the annotations.)
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb

from catalogue import seed_rows
from catalogue.plan_year import plan_year
from ingest.feeds import FEEDS
from ingest.warehouse_file import open_warehouse
from orchestration.resources import WarehouseSettings

MISSING_RETURNS = dg.AssetKey(["marts", "fct_missing_returns"])
MEASURE_QUARTER = dg.AssetKey(["marts", "fct_measure_quarter"])
# statuses of marts.fct_missing_returns (data_status seed) that still await an answer;
# 'rejected' is the status of a delivery that broke its contract (issue 12)
OUTSTANDING = ("missing", "partial", "rejected")


@dataclass(frozen=True)
class Outstanding:
    """One return (an agency's feed for one quarter) not received, with its series."""

    feed: str
    owner: str
    fiscal_year: str
    quarter: int
    due_date: date
    days_overdue: int
    series: tuple[str, ...]
    rejected_file: str | None = None  # status rejected: the file(s) awaiting correction

    def sentence(self) -> str:
        series = f"({', '.join(self.series)})"
        if self.rejected_file:
            return (
                f"{self.owner}: {self.fiscal_year} Q{self.quarter} return rejected"
                f" (file {self.rejected_file}), awaiting a corrected file {series}"
            )
        return (
            f"{self.owner}: {self.fiscal_year} Q{self.quarter} return due"
            f" {self.due_date.day} {self.due_date:%B %Y}, {self.days_overdue} days overdue"
            f" {series}"
        )


OUTSTANDING_SQL = f"""
select source, coalesce(owner, '(no owner)'), fiscal_year, quarter, due_date,
       max(days_overdue), list(measure_id || ' ' || series order by measure_id, series),
       string_agg(distinct rejected_file, ', ' order by rejected_file)
           filter (where status = 'rejected')
from marts.fct_missing_returns
where fiscal_year = ? and status in ({", ".join(f"'{s}'" for s in OUTSTANDING)})
group by source, owner, fiscal_year, quarter, due_date, status = 'rejected'
order by source, fiscal_year, quarter, 2, status = 'rejected'
"""


def outstanding_returns(con: duckdb.DuckDBPyConnection, fiscal_year: str) -> list[Outstanding]:
    return [
        Outstanding(feed, owner, fy, quarter, due, days, tuple(series), rejected_file)
        for feed, owner, fy, quarter, due, days, series, rejected_file in con.execute(
            OUTSTANDING_SQL, [fiscal_year]
        ).fetchall()
    ]


def _calendar_text(feed: str) -> str:
    rows = {row["source_feed"]: row for row in seed_rows("return_calendar")}
    row = rows.get(feed)
    if row is None:
        return "not in the return calendar"
    period = "month" if row["frequency"] == "monthly" else "quarter"
    return f"{row['frequency']}, due {row['due_days']} days after the {period}"


def freshness_specs() -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "freshness",
            asset=dg.AssetKey(["raw", name]),
            additional_deps=[MISSING_RETURNS],
            blocking=False,
            description=(
                f"Every return of the current plan year that {feed.title} serves has"
                f" arrived (return calendar: {_calendar_text(name)}); fails naming each"
                " outstanding return, its due date and days overdue."
            ),
        )
        for name, feed in FEEDS.items()
    ]


@dg.multi_asset_check(
    specs=freshness_specs(),
    can_subset=True,
    name="feed_freshness",
    description="Freshness of every feed from the return calendar (marts.fct_missing_returns).",
)
def feed_freshness(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
    settings = warehouse.settings()
    con = open_warehouse(settings.warehouse, read_only=True)
    try:
        year = plan_year(con, settings.effective_as_of)
        found = outstanding_returns(con, year) if year else []
    finally:
        con.close()
    by_feed: dict[str, list[Outstanding]] = defaultdict(list)
    for item in found:
        by_feed[item.feed].append(item)
    for key in context.selected_asset_check_keys:
        feed = key.asset_key.path[-1]
        late = by_feed.get(feed, [])
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=not late,
            severity=dg.AssetCheckSeverity.WARN,
            description=(
                "; ".join(item.sentence() for item in late)
                if late
                else f"every return of {year or 'the plan year'} due by"
                f" {settings.effective_as_of:%d %B %Y} has arrived"
            ),
            metadata={
                "plan_year": dg.MetadataValue.text(year or ""),
                "as_of": dg.MetadataValue.text(settings.effective_as_of.isoformat()),
                "outstanding_returns": dg.MetadataValue.int(len(late)),
                "most_days_overdue": dg.MetadataValue.int(
                    max((item.days_overdue for item in late), default=0)
                ),
            },
        )
