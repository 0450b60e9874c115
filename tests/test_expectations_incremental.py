"""Great Expectations feed checks over time: the ledger suite (outstanding rejected files),
incremental checking since the last passing check, national police.uk volume, and the
whole sample.

Split from tests/test_expectations.py (its helpers and environment are shared).
"""

import time

import dagster as dg
import duckdb

from expectations.feed_suites import validate_feed
from expectations.runner import expect
from ingest.feeds import FEEDS
from orchestration.checks import CONTRACT, VOLUME
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text
from tests.test_expectations import (
    IDVA,
    T0,
    _environment,  # noqa: F401  (autouse here too)
    evaluations,
    idva_row,
    materialize,
)

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


def test_full_sample_passes_every_contract_check(tmp_path_factory):
    """The session's clean nightly run of the whole sample (tests/test_graph.py)."""
    from tests.test_graph import clean_graph_run

    result = clean_graph_run(tmp_path_factory)
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
