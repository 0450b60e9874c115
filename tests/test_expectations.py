"""Great Expectations suites as Dagster asset checks (expectations/, orchestration/checks.py).

The suites built from the feed contracts, pass/block/recover in Dagster, the contract suite
over current rows. The ledger suite and incremental checking are in
tests/test_expectations_incremental.py, the runner and mart checks in
tests/test_expectations_marts.py (both import this module's helpers).

(No ``from __future__ import annotations``: this module defines a Dagster asset.)
"""

import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from expectations.feed_suites import contract_expectations, validate_feed, volume_tolerance
from ingest.feeds import FEEDS
from orchestration.checks import CONTRACT, VOLUME, feed_checks
from orchestration.data_docs import docs_url
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
    assert index.is_file() and idva["data_docs"].value == docs_url(index)  # served over http
    assert idva["data_docs"].value.startswith("http://127.0.0.1:")
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
