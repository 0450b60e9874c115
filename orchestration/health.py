"""Partner health: the current plan year's returns by agency, as one Dagster asset check.

``marts/fct_missing_returns`` ``partner_health``: its metadata is a table by agency
(returns due, received, late, declared not available, partial, rejected, outstanding,
most days overdue), counted in series-quarters from ``marts.fct_measure_quarter`` (its
``data_status``) and ``marts.fct_missing_returns`` (days overdue).  It passes when nothing
of the current plan year is outstanding (orchestration/freshness.py says what that
means), else warns naming the agencies; it never blocks.

(No ``from __future__ import annotations`` here: Dagster inspects the annotations.)
"""

import dagster as dg
import duckdb

from catalogue.plan_year import plan_year
from ingest.warehouse_file import open_warehouse
from orchestration.freshness import MEASURE_QUARTER, MISSING_RETURNS, OUTSTANDING
from orchestration.resources import WarehouseSettings

_OUT = ", ".join(f"'{s}'" for s in OUTSTANDING)
HEALTH_SQL = f"""
with quarters as (
    select coalesce(measure.owner, '(no owner)') as agency, quarter.data_status as status
    from marts.fct_measure_quarter as quarter
    left join marts.dim_measure as measure
        on quarter.area_code = measure.area_code
        and quarter.measure_id = measure.measure_id
        and quarter.series = measure.series
    where quarter.fiscal_year = $year and quarter.data_status <> 'not_yet_due'
        and not measure.is_derived  -- a derived series has no return of its own
),

overdue as (
    select coalesce(owner, '(no owner)') as agency, max(days_overdue) as days_overdue
    from marts.fct_missing_returns
    where fiscal_year = $year and status in ({_OUT})
    group by all
)

select
    quarters.agency,
    count(*) as due,
    count(*) filter (where status in ('reported', 'late')) as received,
    count(*) filter (where status = 'late') as late,
    count(*) filter (where status = 'declared_not_available') as declared,
    count(*) filter (where status = 'partial') as partial,
    count(*) filter (where status = 'rejected') as rejected,
    count(*) filter (where status in ({_OUT})) as outstanding,
    coalesce(any_value(overdue.days_overdue), 0) as days_overdue
from quarters
left join overdue on quarters.agency = overdue.agency
group by quarters.agency
order by outstanding desc, quarters.agency
"""
COLUMNS = (
    ("agency", "string", "the owning agency (measure catalogue)"),
    ("due", "int", "series-quarters of the plan year due by the as-of date"),
    ("received", "int", "received complete (on time or late)"),
    ("late", "int", "received after the due date"),
    ("declared", "int", "declared not available"),
    ("partial", "int", "some months missing"),
    ("rejected", "int", "delivery rejected, awaiting a corrected file"),
    ("outstanding", "int", "not received: missing, partial or rejected"),
    ("days_overdue", "int", "most days overdue of an outstanding return"),
)


def partner_health_rows(con: duckdb.DuckDBPyConnection, fiscal_year: str) -> list[dict]:
    cursor = con.execute(HEALTH_SQL, {"year": fiscal_year})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def health_table(rows: list[dict]) -> dg.MetadataValue:
    return dg.MetadataValue.table(
        records=[dg.TableRecord(row) for row in rows],
        schema=dg.TableSchema(
            columns=[dg.TableColumn(name, kind, description=text) for name, kind, text in COLUMNS]
        ),
    )


@dg.asset_check(
    asset=MISSING_RETURNS,
    name="partner_health",
    additional_deps=[MEASURE_QUARTER],
    blocking=False,
    description="Returns of the current plan year by agency (due, received, late, declared,"
    " partial, rejected, outstanding, days overdue); passes when none is outstanding.",
)
def partner_health(context: dg.AssetCheckExecutionContext, warehouse: WarehouseSettings):
    settings = warehouse.settings()
    con = open_warehouse(settings.warehouse, read_only=True)
    try:
        year = plan_year(con, settings.effective_as_of)
        rows = partner_health_rows(con, year) if year else []
    finally:
        con.close()
    behind = [f"{row['agency']} ({row['outstanding']})" for row in rows if row["outstanding"]]
    return dg.AssetCheckResult(
        passed=not behind,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"{year}: returns outstanding from {', '.join(behind)}"
            if behind
            else f"{year or 'plan year'}: nothing outstanding"
        ),
        metadata={
            "partner_health": health_table(rows),
            "plan_year": dg.MetadataValue.text(year or ""),
            "as_of": dg.MetadataValue.text(settings.effective_as_of.isoformat()),
            "outstanding": dg.MetadataValue.int(sum(row["outstanding"] for row in rows)),
        },
    )
