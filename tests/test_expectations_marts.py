"""Great Expectations: the generic suite runner and the mart checks (expectations/marts.py),
as Dagster asset checks.

Split from tests/test_expectations.py (its helpers and environment are shared).
(No ``from __future__ import annotations``: this module defines Dagster assets.)
"""

from datetime import date

import dagster as dg
import duckdb

from expectations.runner import expect
from orchestration.resources import WarehouseSettings
from tests.test_expectations import _environment  # noqa: F401  (autouse here too)

# -- the generic runner and the mart hook ----------------------------------------------------


def test_runner_keeps_the_latest_results_per_suite(tmp_path):
    import pandas as pd

    from expectations.runner import SuiteRun, make_context, prune_results, run_suites

    warehouse = tmp_path / "warehouse.duckdb"
    run = SuiteRun(
        "mart.example",
        "marts.example",
        pd.DataFrame({"x": [1, None]}),
        [expect("ExpectColumnValuesToNotBeNull", column="x", description="x is present")],
        index_columns=("x",),
    )
    for _ in range(3):
        [outcome] = run_suites([run], warehouse, "test")
    assert not outcome.success and outcome.failures[0].description == "x is present"
    assert outcome.docs_url and outcome.docs_url.startswith("file://")
    prune_results(make_context(warehouse), keep=2)
    assert len(list((tmp_path / "gx" / "validations").rglob("*.json"))) == 2


def test_a_mart_suite_is_a_few_lines(settings):
    from expectations.marts import MartSuite
    from orchestration.checks import build_mart_check

    @dg.asset(key=["marts", "example"])
    def example_mart(warehouse: WarehouseSettings):
        con = duckdb.connect(str(warehouse.settings().warehouse))
        try:
            con.execute("create schema if not exists marts")
            con.execute(
                "create or replace table marts.example as"
                " select * from (values ('1.1', 'Q1', 10), ('1.1', 'Q2', null)) t(measure, q, v)"
            )
        finally:
            con.close()

    spec = MartSuite(
        table="marts.example",
        asset_key=("marts", "example"),
        expectations=(expect("ExpectColumnValuesToNotBeNull", column="v"),),
        index_columns=("measure", "q"),
    )
    resource = WarehouseSettings(landing=str(settings.landing), warehouse=str(settings.warehouse))
    result = dg.materialize(
        [example_mart, build_mart_check(spec)], resources={"warehouse": resource}
    )
    [check] = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "| expect_column_values_to_not_be_null | 1.1 | Q2 |" in (
        check.metadata["offending_rows"].value
    )


# -- the mart checks (expectations/marts.py) ----------------------------------------------
# Grain, completeness, allowed values and year to date are the marts' dbt tests
# (tests/test_mart_checks.py seeds a fault for each); GX lists the missing returns and the
# reconciliation differences.


def test_mart_checks_are_wired_by_asset_and_check_name():
    from expectations.marts import MART_SUITES, mart_check_groups
    from orchestration.checks import mart_checks

    specs = {(s.asset_key.to_user_string(), s.name): s for c in mart_checks for s in c.check_specs}
    assert set(specs) == {
        ("marts/fct_missing_returns", "missing_returns"),
        ("marts/fct_published_reconciliation", "expectations"),
    }  # the marts' integrity is their dbt tests' (dagster-dbt checks), not repeated here
    assert not any(spec.blocking for spec in specs.values())
    groups = mart_check_groups()
    assert sum(len(g) for g in groups.values()) == len(MART_SUITES)
    assert len({s.suite for s in MART_SUITES}) == len(MART_SUITES)


def missing_returns_table(warehouse: WarehouseSettings, rows: str) -> None:
    """Stands in for the dbt models: ``marts.fct_missing_returns`` holding ``rows`` and
    the fiscal quarters the plan year is read from (due 20 days after the quarter)."""
    con = duckdb.connect(str(warehouse.settings().warehouse))
    try:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.dim_fiscal_quarter as"
            " select fy || '/' || lpad(((fy + 1) % 100)::varchar, 2, '0') as fiscal_year,"
            " q as quarter,"
            " last_day(make_date(fy, 4, 1) + to_months(3 * q - 1)) + 20 as default_due_date"
            " from range(2013, 2018) y(fy) cross join range(1, 5) r(q)"
        )
        con.execute(
            f"create or replace table marts.fct_missing_returns as select * from (values {rows})"
            " t(area_code, measure_id, series, fiscal_year, quarter, owner, status,"
            " days_overdue, due_date, received_date, note)"
        )
    finally:
        con.close()


HISTORY_RETURN = (
    "('E06000004', '3.1', 'commencements', '2014/15', 3, 'Probation', 'missing', 880,"
    " date '2015-01-20', null::date, 'never sent')"
)


@dg.asset(key=["marts", "fct_missing_returns"])
def missing_returns_stub(warehouse: WarehouseSettings):
    """Two returns of the plan year the agencies did not send on time, and one of 2014/15."""
    missing_returns_table(
        warehouse,
        "('E06000004', '5.1', 'commencements', '2016/17', 2, 'Probation', 'missing', 254,"
        " date '2016-10-20', null::date, 'blank cell'),"
        " ('E06000004', '6.4', 'referrals', '2016/17', 1, 'DA service (Harbour)', 'late', 30,"
        " date '2016-07-20', date '2016-08-19', 'arrived with Q2'), " + HISTORY_RETURN,
    )


@dg.asset(key=["marts", "fct_missing_returns"])
def history_only_stub(warehouse: WarehouseSettings):
    """Only a return of an earlier year is outstanding."""
    missing_returns_table(warehouse, HISTORY_RETURN)


def test_missing_returns_warn_and_are_listed_by_series_quarter_and_agency(settings):
    from orchestration.checks import mart_checks

    [check] = [c for c in mart_checks if any(k.name == "missing_returns" for k in c.check_keys)]
    resource = WarehouseSettings(
        landing=str(settings.landing), warehouse=str(settings.warehouse), as_of="2017-05-31"
    )
    result = dg.materialize([missing_returns_stub, check], resources={"warehouse": resource})
    assert result.success  # a warning never fails the run
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    listed = evaluation.metadata["missing_returns"].value
    assert "| measure | series | year | quarter | owning agency | status | days overdue |" in (
        listed
    )
    assert "| 5.1 | commencements | 2016/17 | Q2 | Probation | missing | 254 | blank cell |" in (
        listed
    )
    assert evaluation.metadata["missing_returns_count"].value == 2
    assert evaluation.description == (
        "2 returns due by the as-of date not received complete and on time"
        " (1 Late, 1 Missing), listed in `missing_returns`"  # the data_status seed's labels
    )
    by_agency = evaluation.metadata["missing_returns_by_owner"].value
    assert "| owning agency | returns | late | missing |" in by_agency
    assert "| Probation | 1 | 0 | 1 |" in by_agency  # 2014/15 is history, not listed
    assert "2014/15" not in listed


def test_missing_returns_go_green_when_only_earlier_years_are_open(settings):
    from catalogue.plan_year import plan_year
    from orchestration.checks import mart_checks

    [check] = [c for c in mart_checks if any(k.name == "missing_returns" for k in c.check_keys)]
    resource = WarehouseSettings(
        landing=str(settings.landing), warehouse=str(settings.warehouse), as_of="2017-05-31"
    )
    result = dg.materialize([history_only_stub, check], resources={"warehouse": resource})
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed, evaluation.description
    assert evaluation.metadata["missing_returns_count"].value == 0
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        # the plan year: Q4 2016/17 (due 20 April 2017) was due by 31 May; on 10 April
        # only Q3 was, still 2016/17; on 10 July 2017 Q1 2017/18 was not yet due
        assert plan_year(con, date(2017, 5, 31)) == "2016/17"
        assert plan_year(con, date(2017, 4, 10)) == "2016/17"
        assert plan_year(con, date(2017, 7, 10)) == "2016/17"
        assert plan_year(con, date(2017, 7, 20)) == "2017/18"
    finally:
        con.close()
