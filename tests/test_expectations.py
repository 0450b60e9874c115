"""Great Expectations suites as Dagster asset checks (expectations/, orchestration/checks.py).

(No ``from __future__ import annotations``: this module defines a Dagster asset.)
"""

import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations.feed_suites import contract_expectations, validate_feed, volume_tolerance
from expectations.runner import expect
from ingest.feeds import FEEDS
from orchestration.checks import CONTRACT, VOLUME, feed_checks
from orchestration.ingest_assets import feed_assets, ingest_assets
from orchestration.resources import WarehouseSettings
from tests.conftest import FIXTURES, IDVA_HEADER, IDVA_ROWS, csv_text

IDVA = FEEDS["idva_referrals"]
IDVA_KEY = dg.AssetKey(["raw", "idva_referrals"])
T0 = time.time() - 86_400  # deliveries "yesterday", one minute apart


@pytest.fixture(autouse=True)
def _environment(monkeypatch):
    # the same key as the ``settings`` fixture, so Dagster runs and direct ingests agree
    monkeypatch.setenv("CSP_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("CSP_VOLUME_TOLERANCE", raising=False)


def idva_row(ref: str, day: str, engagement: str = "engaged") -> str:
    return f"{ref},{day},CL-{ref},high,worked_with,{engagement},Y"


@dg.asset(key=["marts", "idva_stub"], deps=[IDVA_KEY])
def idva_mart_stub(warehouse: WarehouseSettings):
    """Stands in for a mart built from IDVA referrals: writes the current row count."""
    settings = warehouse.settings()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute(
            "select count(*) from raw.idva_referrals where _load_id in"
            " (select load_id from raw.load_log where status = 'loaded')"
        ).fetchone()[0]
    finally:
        con.close()
    (Path(settings.warehouse).parent / "idva_mart.txt").write_text(str(rows))
    return dg.MaterializeResult(metadata={"rows": rows})


def materialize(settings, feeds=("idva_referrals",), extra=()):
    assets = [a for a in feed_assets if a.key.path[-1] in feeds]
    checks = [c for c in feed_checks if any(k.asset_key.path[-1] in feeds for k in c.check_keys)]
    resource = WarehouseSettings(
        landing=str(settings.landing), warehouse=str(settings.warehouse), as_of="2017-05-31"
    )
    return dg.materialize(
        [*assets, *checks, *extra], resources={"warehouse": resource}, raise_on_error=False
    )


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.path[-1], e.check_name): e for e in result.get_asset_check_evaluations()}


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


# -- suites from the contracts ----------------------------------------------------------------


def test_one_suite_per_feed_built_from_its_contract():
    idva = {(e.type, e.kwargs.get("column")): e.kwargs for e in contract_expectations(IDVA)}
    assert idva[("ExpectColumnValuesToBeInSet", "engagement")]["value_set"] == list(
        IDVA.column("engagement").allowed
    )
    assert ("ExpectColumnValuesToNotBeNull", "referral_date") in idva
    assert ("ExpectColumnValuesToBeUnique", "_natural_key") in idva
    assert ("ExpectColumnValuesToBeInSet", "client_ref_hash_shape") in idva
    ndtms = {e.type for e in contract_expectations(FEEDS["ndtms_treatment_completions"])}
    assert "ExpectColumnPairValuesAToBeGreaterThanB" in ndtms  # numerator <= denominator
    police_uk = {e.kwargs.get("column") for e in contract_expectations(FEEDS["policeuk_street"])}
    assert "_natural_key" not in police_uk  # police.uk rows have no natural key
    assert {k.asset_key.path[-1] for c in feed_checks for k in c.check_keys} == set(FEEDS)


def test_checks_are_wired_as_blocking_contract_and_warning_volume():
    defs = dg.Definitions(
        assets=ingest_assets,
        asset_checks=feed_checks,
        resources={"warehouse": WarehouseSettings()},
    )
    dg.Definitions.validate_loadable(defs)
    specs = {(s.asset_key.path[-1], s.name): s for c in feed_checks for s in c.check_specs}
    assert specs[("idva_referrals", CONTRACT)].blocking
    assert not specs[("idva_referrals", VOLUME)].blocking


def test_importing_the_checks_does_not_import_great_expectations():
    code = (
        "import sys, orchestration.definitions, orchestration.checks;"
        " assert 'great_expectations' not in sys.modules, 'GX imported at load time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])


def test_volume_tolerance_is_configured_from_the_environment():
    assert volume_tolerance({}) == 0.5
    assert volume_tolerance({"CSP_VOLUME_TOLERANCE": "0.25"}) == 0.25
    assert volume_tolerance({"CSP_VOLUME_TOLERANCE": "80%"}) == 0.8
    with pytest.raises(ValueError, match="CSP_VOLUME_TOLERANCE"):
        volume_tolerance({"CSP_VOLUME_TOLERANCE": "lots"})


# -- Dagster: pass, block, recover ------------------------------------------------------------


def test_good_delivery_passes_every_feed_check_and_renders_data_docs(settings, deliver):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    deliver(
        "marac_cases/q3.csv",
        csv_text(
            "case_ref,marac_date,victim_ref,repeat_case,engaged_with_service",
            ["M1,06/10/2016,V1,Y,Y", "M2,13/10/2016,V2,N,unknown"],
        ),
        mtime=T0,
    )
    deliver(
        "ndtms_treatment_completions/2016-12.csv",
        csv_text(
            "period_end,drug_group,cohort,in_treatment,successful_completions",
            ["31/12/2016,opiate,all,400,30", "31/12/2016,non_opiate,all,200,70"],
        ),
        mtime=T0,
    )
    deliver(
        "partner_returns/probation_q3.csv",
        csv_text(
            "agency,measure_id,series,fiscal_year,quarter,value,numerator,denominator,status,note",
            [
                "Probation,5.1,commencements,2016/17,Q3,12,,,reported,",
                "Probation,5.2,total,2016/17,Q3,,,,not_available,system change",
            ],
        ),
        mtime=T0,
    )
    for path in sorted((FIXTURES / "policeuk").glob("*.csv")):
        deliver(f"policeuk_street/{path.name}", path.read_bytes(), mtime=T0)
    result = materialize(settings, feeds=tuple(FEEDS))
    assert result.success
    checks = evaluations(result)
    assert set(checks) == {(feed, name) for feed in FEEDS for name in (CONTRACT, VOLUME)}
    failed = {key: c.description for key, c in checks.items() if not c.passed}
    assert not failed
    idva = checks[("idva_referrals", CONTRACT)].metadata
    assert idva["rows_checked"].value == 3 and idva["expectations_failed"].value == 0
    index = Path(settings.warehouse).parent / "gx_data_docs" / "index.html"
    assert index.is_file() and Path(idva["data_docs"].value) == index
    assert "feed.idva_referrals" in index.read_text(encoding="utf-8")


def test_rejected_file_does_not_block_downstream(settings, deliver):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    first = materialize(settings, extra=[idva_mart_stub])
    assert first.success and "marts/idva_stub" in materialized(first)
    mart = Path(settings.warehouse).parent / "idva_mart.txt"
    assert mart.read_text() == "3"

    # an IDVA extract with engagement "maybe": ingest rejects it; the contract over the
    # loaded rows still holds, and what is downstream is rebuilt (a bad delivery costs only
    # its own series: the rejected_files check warns, tests/test_isolation.py)
    q4 = [idva_row("R010", "09/01/2017"), idva_row("R011", "10/01/2017", "maybe")]
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, q4), mtime=T0 + 60)
    bad = materialize(settings, extra=[idva_mart_stub])
    assert bad.success
    assert evaluations(bad)[("idva_referrals", CONTRACT)].passed
    assert "marts/idva_stub" in materialized(bad)
    assert mart.read_text() == "3"

    # the agency's corrected delivery (the bad file is left where it was) loads
    q4[1] = idva_row("R011", "10/01/2017", "declined")
    deliver("idva_referrals/q4_corrected.csv", csv_text(IDVA_HEADER, q4), mtime=T0 + 120)
    good = materialize(settings, extra=[idva_mart_stub])
    assert good.success and evaluations(good)[("idva_referrals", CONTRACT)].passed
    assert mart.read_text() == "5"


def test_volume_drop_beyond_tolerance_warns_without_blocking(settings, deliver):
    last_year = [idva_row(f"A{i:02}", f"{i + 1:02}/10/2015") for i in range(10)]
    deliver("idva_referrals/2015q3.csv", csv_text(IDVA_HEADER, last_year), mtime=T0)
    this_year = [idva_row(f"B{i:02}", f"{i + 1:02}/10/2016") for i in range(3)]
    deliver("idva_referrals/2016q3.csv", csv_text(IDVA_HEADER, this_year), mtime=T0 + 60)
    result = materialize(settings, extra=[idva_mart_stub])
    assert result.success  # a warning does not block
    checks = evaluations(result)
    assert checks[("idva_referrals", CONTRACT)].passed
    volume = checks[("idva_referrals", VOLUME)]
    assert not volume.passed and volume.severity == dg.AssetCheckSeverity.WARN
    outside = volume.metadata["quarters_outside_tolerance"].value
    assert "2016/17 Q3" in outside and "-70.0" in outside
    assert "marts/idva_stub" in materialized(result)
    # within a wider tolerance the same drop passes
    assert validate_feed(settings, IDVA, tolerance=0.8).volume_passed


# -- the contract suite over current rows ----------------------------------------------------


def test_duplicate_natural_key_across_current_loads_fails(settings, deliver, ingest):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    # R002 again, for a referral in another period: latest-load-wins would drop October's
    deliver(
        "idva_referrals/q4.csv",
        csv_text(IDVA_HEADER, [idva_row("R002", "12/01/2017"), idva_row("R004", "13/01/2017")]),
        mtime=T0 + 60,
    )
    assert {r.status for r in ingest()} == {"loaded"}
    report = validate_feed(settings, IDVA)
    assert not report.contract_passed
    [failure] = report.contract[0].failures
    assert failure.expectation == "expect_column_values_to_be_unique"
    assert failure.columns == ("_natural_key",)
    rows = report.offending_rows_md()
    assert "| idva_referrals/q3.csv | 3 |" in rows and "| idva_referrals/q4.csv | 2 |" in rows


def test_redelivered_period_is_not_a_duplicate(settings, deliver, ingest):
    # October sent monthly, then the whole quarter re-sent: latest load wins, no conflict
    deliver("idva_referrals/oct.csv", csv_text(IDVA_HEADER, IDVA_ROWS[:2]), mtime=T0)
    quarter = [*IDVA_ROWS, idva_row("R004", "15/11/2016")]
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, quarter), mtime=T0 + 60)
    assert {r.status for r in ingest()} == {"loaded"}
    report = validate_feed(settings, IDVA)
    assert report.contract_passed, report.failed_expectations_md()
    assert report.current_loads == 2


def test_date_outside_the_delivered_period_fails(settings, deliver, ingest):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    ingest()
    con = duckdb.connect(str(settings.warehouse))
    try:  # the ledger says October; a row dated November is outside what was delivered
        con.execute(
            "update raw.idva_referrals set referral_date = date '2016-11-15'"
            " where referral_id = 'R002'"
        )
    finally:
        con.close()
    report = validate_feed(settings, IDVA)
    assert not report.contract_passed
    [failure] = report.contract[0].failures
    assert "after the end of its file's delivered period" in failure.description
    assert "| idva_referrals/q3.csv | 3 |" in report.offending_rows_md()


def test_raw_personal_reference_fails_without_being_quoted(settings, deliver, ingest):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    ingest()
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            "update raw.idva_referrals set client_ref_hash = 'CL-0001' where _source_row = 2"
        )
    finally:
        con.close()
    report = validate_feed(settings, IDVA)
    assert not report.contract_passed
    assert "client_ref_hash holds keyed hashes" in report.failed_expectations_md()
    assert "CL-0001" not in report.offending_rows_md()
    assert "| idva_referrals/q3.csv | 2 |" in report.offending_rows_md()


# -- the ledger suite: outstanding rejected files ------------------------------------------
# Which rejections are outstanding is the dbt view int_ingest__rejected_deliveries: its
# unit test (the model's YAML) holds the cases; tests/test_isolation.py runs it end to end.


# -- incremental: only what is new since the last passing check -----------------------------


def test_second_check_validates_only_the_new_load(settings, deliver):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    first = evaluations(materialize(settings))[("idva_referrals", CONTRACT)].metadata
    assert first["rows_checked"].value == 3 and first["loads_checked"].value == 1
    assert first["checked_after_load_id"].value == 0 and first["watermark_advanced"].value
    q4 = [idva_row("R010", "09/01/2017"), idva_row("R011", "10/01/2017")]
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, q4), mtime=T0 + 60)
    second = materialize(settings)
    contract = evaluations(second)[("idva_referrals", CONTRACT)]
    assert contract.passed
    meta = contract.metadata
    assert meta["rows_checked"].value == 2 and meta["loads_checked"].value == 1
    assert meta["checked_after_load_id"].value == first["checked_through_load_id"].value
    assert meta["current_loads"].value == 2 and meta["validation_mode"].value == "rows"
    # nothing new: nothing to validate, but the volume suite still runs
    again = evaluations(materialize(settings))[("idva_referrals", CONTRACT)].metadata
    assert again["rows_checked"].value == 0 and again["loads_checked"].value == 0


def test_failed_check_does_not_advance_the_watermark(settings, deliver, ingest):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    ingest()
    assert validate_feed(settings, IDVA).contract_passed
    # R002 reused in January: the new load breaks the natural key across loads
    q4 = [idva_row("R002", "12/01/2017"), idva_row("R004", "13/01/2017")]
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, q4), mtime=T0 + 60)
    ingest()
    failed = validate_feed(settings, IDVA)
    assert not failed.contract_passed and not failed.watermark_advanced
    assert failed.rows == 2 and failed.checked_after == 1
    rows = failed.offending_rows_md()  # the older row of the pair is named too
    assert "| idva_referrals/q3.csv | 3 |" in rows and "| idva_referrals/q4.csv | 2 |" in rows
    # the next run re-checks the same load and fails again
    again = validate_feed(settings, IDVA)
    assert not again.contract_passed and again.checked_after == 1 and again.rows == 2
    con = duckdb.connect(str(settings.warehouse))
    try:  # put right by hand: the next run passes and moves the watermark on
        con.execute(
            "update raw.idva_referrals set referral_id = 'R099'"
            " where _load_id = 2 and referral_id = 'R002'"
        )
    finally:
        con.close()
    fixed = validate_feed(settings, IDVA)
    assert fixed.contract_passed and fixed.checked_after == 1 and fixed.rows == 2
    after = validate_feed(settings, IDVA)
    assert after.checked_after == 2 and after.rows == 0 and after.contract_passed


def test_changed_contract_rechecks_every_row(settings, deliver, ingest, monkeypatch):
    from expectations import feed_suites

    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    ingest()
    assert validate_feed(settings, IDVA).rows == 3
    assert validate_feed(settings, IDVA).rows == 0
    original = feed_suites.contract_expectations
    monkeypatch.setattr(
        feed_suites,
        "contract_expectations",
        lambda feed: [
            *original(feed),
            expect("ExpectColumnValuesToNotBeNull", column="risk_level", description="new"),
        ],
    )
    assert validate_feed(settings, IDVA).rows == 3


def test_summary_mode_finds_what_the_row_frame_finds(settings, deliver, ingest, monkeypatch):
    from expectations import feed_suites

    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=T0)
    q4 = [idva_row("R002", "12/01/2017"), idva_row("R004", "13/01/2017")]
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, q4), mtime=T0 + 60)
    ingest()
    con = duckdb.connect(str(settings.warehouse))
    try:  # a date outside its file's period and a raw personal reference
        con.execute(
            "update raw.idva_referrals set referral_date = date '2017-03-15',"
            " client_ref_hash = 'CL-0004' where referral_id = 'R004'"
        )
    finally:
        con.close()

    def failed(report):
        return {(f.description, f.unexpected_count) for f in report.contract[0].failures}

    by_rows = validate_feed(settings, IDVA, record=False)
    assert by_rows.mode == "rows"
    monkeypatch.setattr(feed_suites, "ROW_FRAME_LIMIT", 0)
    by_sql = validate_feed(settings, IDVA, record=False)
    assert by_sql.mode == "summary" and not by_sql.contract_passed
    assert failed(by_sql) == failed(by_rows) and len(failed(by_sql)) == 3
    assert by_sql.rows == 5 and by_sql.contract[1].suite == "feed.idva_referrals.loads"
    rows = by_sql.offending_rows_md()
    assert "| idva_referrals/q3.csv | 3 |" in rows and "| idva_referrals/q4.csv | 3 |" in rows
    assert "CL-0004" not in rows  # the shape is quoted, never the reference
    loads = by_sql.failing_loads_md()
    assert "idva_referrals/q4.csv" in loads and "period_end_vs__record_date__out_of_order=1" in (
        loads
    )


def policeuk_warehouse(settings, forces: int, months: int, rows_per_load: int) -> int:
    """A police.uk raw table made in DuckDB SQL: one loaded file per force and month."""
    from ingest.schema import ensure_schema

    con = duckdb.connect(str(settings.warehouse))
    try:
        ensure_schema(con)
        con.execute(
            f"""
            create temp table plan as
            select row_number() over (order by m, f) as load_id, 'Force ' || f as force,
                cast(date '2016-04-01' + to_months(m) as date) as month
            from range({months}) a(m), range({forces}) b(f)
            """
        )
        con.execute(
            f"""
            insert into raw.load_log (load_id, feed, file_name, sha256, received_at, loaded_at,
                rows_loaded, period_start, period_end, scope, status)
            select load_id, 'policeuk_street', 'policeuk_street/' || strftime(month, '%Y-%m')
                || '/' || replace(lower(force), ' ', '-') || '-street.csv', md5(load_id::varchar),
                timestamp '2017-01-01' + to_minutes(load_id), now()::timestamp, {rows_per_load},
                month, last_day(month), force, 'loaded'
            from plan
            """
        )
        con.execute(
            f"""
            insert into raw.policeuk_street
            select md5(load_id::varchar || '-' || i::varchar), month, force, force,
                'E01' || lpad((i % 997)::varchar, 6, '0'), 'Stockton-on-Tees 0' || (i % 99),
                ['Anti-social behaviour', 'Burglary', 'Drugs'][i % 3 + 1],
                case when i % 5 = 0 then null else 'Under investigation' end,
                'E06000004', 'Stockton-on-Tees', load_id,
                'policeuk_street/' || strftime(month, '%Y-%m') || '/'
                    || replace(lower(force), ' ', '-') || '-street.csv',
                md5(load_id::varchar), now()::timestamp, i + 2
            from plan, range({rows_per_load}) r(i)
            """
        )
        return con.execute("select max(load_id) from plan").fetchone()[0]
    finally:
        con.close()


def test_national_policeuk_volume_is_checked_without_the_table_in_pandas(settings):
    """1.5 M police.uk rows: the check reads per-load counts and a bounded sample only."""
    policeuk = FEEDS["policeuk_street"]
    started = time.monotonic()
    last = policeuk_warehouse(settings, forces=43, months=12, rows_per_load=2_900)
    report = validate_feed(settings, policeuk)
    assert report.rows == 43 * 12 * 2_900 and report.mode == "summary"
    assert report.contract_passed, report.failed_expectations_md()
    assert report.largest_frame <= 1_200, report.frame_rows
    assert report.checked_through == last and report.watermark_advanced
    # a new month with rows matched to no area: only its 43 loads are validated
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute("delete from raw.load_log; delete from raw.policeuk_street")
    finally:
        con.close()
    policeuk_warehouse(settings, forces=43, months=13, rows_per_load=2_900)
    con = duckdb.connect(str(settings.warehouse))
    try:
        con.execute(
            "update raw.policeuk_street set area_code = null"
            f" where _load_id > {last} and _source_row % 4 = 0"
        )
    finally:
        con.close()
    new = validate_feed(settings, policeuk)
    assert new.rows == 43 * 2_900 and new.loads_checked == 43 and new.checked_after == last
    assert not new.contract_passed and not new.watermark_advanced
    [row_failure] = new.contract[0].failures
    assert row_failure.unexpected_count == 43 * 725  # the true count, not the sample's
    assert new.largest_frame <= 1_200, new.frame_rows
    assert "every row is matched to the partnership's local authority" in (
        new.failed_expectations_md()
    )
    assert "| policeuk_street/2017-04/force-0-street.csv |" in new.offending_rows_md()
    assert time.monotonic() - started < 60  # ≈5 s alone; generous for a busy CI machine


# -- the whole sample -----------------------------------------------------------------------


@pytest.mark.slow
def test_full_sample_passes_every_contract_check(settings):
    pytest.importorskip("ingest.sample_data")
    from ingest.sample_data import generate

    generate(Path(settings.landing))
    result = materialize(settings, feeds=tuple(FEEDS), extra=[])
    assert result.success
    checks = evaluations(result)
    contracts = {feed: c for (feed, name), c in checks.items() if name == CONTRACT}
    assert set(contracts) == set(FEEDS)
    failed = {feed: c.description for feed, c in contracts.items() if not c.passed}
    assert not failed
    # volume anomalies in the sample (its deliberate missing returns) only warn
    for (_, name), check in checks.items():
        if name == VOLUME and not check.passed:
            assert check.severity == dg.AssetCheckSeverity.WARN


# -- the generic runner and the mart hook ----------------------------------------------------


def test_runner_keeps_the_latest_results_per_suite(tmp_path):
    import pandas as pd

    from expectations.runner import SuiteRun, expect, make_context, prune_results, run_suites

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
    from expectations.runner import expect
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
        " (1 late, 1 missing), listed in `missing_returns`"
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
