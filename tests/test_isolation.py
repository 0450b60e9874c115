"""A bad delivery costs only its own series (issue 12, isolation).

Two warehouses on the same sample landing folder, each built with every unpartitioned
asset and check of the code location (ingest, dbt, GX checks, serving copy, chase lists):

- *clean*: the sample as it is (the session's clean graph build, ``make run``'s nightly
  job, ``tests.test_graph.clean_graph``);
- *bad*: a fresh warehouse materialised in-process (``materialize_all``), the sample
  plus four rejected re-sends of 2016/17 Q3 — a police ASB extract for December (a date
  that is not a date), the council's MAASBT quarter (the same), the DA service's IDVA
  quarter (an engagement value outside the allowed set) and Probation's partner return
  with quarter ``Q5`` (its period cannot be read, so it covers the quarter that had
  ended when it arrived).

The bad run succeeds with a WARN ``rejected_files`` check per feed, publishes marts and
the serving copy, and renders the report; only the series-quarters the bad files would
have fed are ``rejected`` (with the file name, no value); every other figure equals the
clean run's.  Then the agencies' corrected files clear it on the next run, and the marts
equal the clean run's again.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.publish import serving_path
from tests.test_graph import (
    REPORT_YEAR,
    clean_graph,
    evaluations,
    graph_env,
    materialize_all,
    materialized,
)

pytestmark = pytest.mark.slow

ARRIVED = datetime(2017, 1, 16, 9, 0).timestamp()  # after the good Q3 files, before due
CORRECTED = datetime(2017, 1, 18, 9, 0).timestamp()
POLICE = "police_asb_incidents/asb_incidents_2016-12_resend.csv"
COUNCIL = "maasbt_service_requests/MAASBT_service_requests_2016-17_Q3_v2.csv"
PARTNER = "partner_returns/probation_return_2016-17_Q3_v2.csv"
IDVA = "idva_referrals/idva_referrals_2016-17_Q3_v2.csv"
BAD = {
    POLICE: (
        "police_asb_incidents/asb_incidents_2016-12.csv",
        b"01/12/2016 00:11",
        b"32/12/2016 00:11",
    ),
    COUNCIL: (
        "maasbt_service_requests/MAASBT_service_requests_2016-17_Q3.csv",
        b"SR-2016-30001,01/10/2016",
        b"SR-2016-30001,99/10/2016",
    ),
    PARTNER: ("partner_returns/probation_return_2016-17_Q3.csv", b",Q3,", b",Q5,"),
    IDVA: (
        "idva_referrals/idva_referrals_2016-17_Q3.csv",
        b"worked_with,engaged,",
        b"worked_with,maybe,",
    ),
}
REJECTED_FEEDS = (
    ("police_asb_incidents", POLICE),
    ("maasbt_service_requests", COUNCIL),
    ("partner_returns", PARTNER),
    ("idva_referrals", IDVA),
)
HOME = "E06000004"


def CLEAN(root: Path) -> Path:  # noqa: N802 - a path, not a function to the reader
    return root / "clean_data" / "warehouse.duckdb"


def BAD_WH(root: Path) -> Path:  # noqa: N802
    return root / "bad_data" / "warehouse.duckdb"


FACT_COLUMNS = "area_code, measure_id, series, fiscal_year, quarter, value, data_status"


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def deliver_bytes(path: Path, data: bytes, mtime: float) -> None:
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("isolation")
    with graph_env(root):
        bad_landing = root / "bad"
        BAD_WH(root).parent.mkdir()
        # the clean run: the session's clean graph build (make run's nightly job: the
        # same assets and checks as materialize_all, the same key, as-of date and area)
        clean = clean_graph(tmp_path_factory, CLEAN(root).parent)
        shutil.copytree(CLEAN(root).parent / "landing", bad_landing)
        for name, (good, old, new) in BAD.items():
            data = (bad_landing / good).read_bytes()
            assert old in data
            deliver_bytes(bad_landing / name, data.replace(old, new, 1), ARRIVED)
        bad = materialize_all(bad_landing, BAD_WH(root))
        yield root, clean, bad


def facts(warehouse: Path) -> dict[tuple, tuple]:
    rows = query(warehouse, f"select {FACT_COLUMNS} from marts.fct_measure_quarter")
    return {row[:5]: row[5:] for row in rows}


def affected(warehouse: Path) -> dict[tuple, str]:
    return {
        row[:5]: row[5]
        for row in query(
            warehouse,
            "select area_code, measure_id, series, fiscal_year, quarter, rejected_file"
            " from intermediate.int_measure_quarter where data_status = 'rejected'",
        )
    }


def test_a_bad_delivery_costs_only_its_own_series(runs) -> None:
    root, clean, bad = runs
    assert clean.success and bad.success
    checks = evaluations(bad)
    # the rejected files warn, never block: the contract checks pass, marts are published
    for feed, name in REJECTED_FEEDS:
        assert checks[(f"raw/{feed}", "contract")].passed
        warn = checks[(f"raw/{feed}", "rejected_files")]
        assert not warn.passed and warn.severity == dg.AssetCheckSeverity.WARN
        assert name in warn.metadata["outstanding_rejected_files"].value
    assert "row 2" in checks[("raw/police_asb_incidents", "rejected_files")].description
    # a value outside the allowed set: the file, row and column are named
    idva = checks[("raw/idva_referrals", "rejected_files")].metadata
    assert "row 3" in idva["outstanding_rejected_files"].value
    assert "column 'engagement'" in idva["outstanding_rejected_files"].value
    assert checks[("raw/marac_cases", "rejected_files")].passed
    assert {"marts/fct_measure_quarter", "marts/fct_missing_returns", "serving"} <= materialized(
        bad
    )
    assert serving_path(BAD_WH(root)).is_file()

    rejected = affected(BAD_WH(root))
    home = HOME
    q3 = (REPORT_YEAR, 3)
    # police ASB December: the police ASB series of Q3 (and the combined 1.1)
    assert rejected[(home, "1.3", "total", *q3)] == POLICE
    assert POLICE in rejected[(home, "1.1", "combined", *q3)]
    # the council's quarter: its series
    assert rejected[(home, "1.4", "total", *q3)] == COUNCIL
    # Probation's return (period unreadable -> the quarter ended when it arrived): its series
    # only, not the other agencies' partner returns
    assert rejected[(home, "3.1", "completions", *q3)] == PARTNER
    # the IDVA quarter: the three IDVA series, not MARAC's (the same agency, another feed)
    assert {key[1:3] for key, name in rejected.items() if name == IDVA} == {
        ("6.4", "referrals"),
        ("6.4", "engaged_pct"),
        ("6.4", "worked_with_after_assessment_pct"),
    }
    assert (home, "6.2", "victims_engaging", *q3) not in rejected
    assert (home, "6.1", "total", *q3) not in rejected
    assert not any(key[3:] != q3 for key in rejected)

    before, after = facts(CLEAN(root)), facts(BAD_WH(root))
    assert before.keys() == after.keys()
    for key, (value, status) in after.items():
        if key in rejected:
            assert value is None and status == "rejected", key
        else:
            assert (value, status) == before[key], key
    assert before[(home, "1.3", "total", *q3)][0] is not None  # a figure was hidden

    listed = query(
        BAD_WH(root),
        "select measure_id, series, rejected_file, note, measure_key, quarter_key, agency_key"
        " from marts.fct_missing_returns where status = 'rejected' and measure_id = '1.4'",
    )
    assert listed == [
        (
            "1.4",
            "total",
            COUNCIL,
            listed[0][3],
            f"{home}|1.4|total",
            20163,
            "council_maasbt",
        )
    ]
    assert listed[0][3].startswith("rejected: ") and "row 2" in listed[0][3]


def test_the_report_is_published_and_says_return_rejected(runs) -> None:
    from catalogue import statuses
    from report import build_report, write_report

    root, _, _ = runs
    assert statuses.label("rejected") == "Return rejected — awaiting a corrected file"
    assert "rejected" in statuses.return_gaps() and "rejected" in statuses.without_figure()
    data = build_report(serving_path(BAD_WH(root)), REPORT_YEAR, 3, HOME)
    files = write_report(data, BAD_WH(root).parent)
    page = files.html.read_text(encoding="utf-8")
    assert statuses.label("rejected") in page and files.xlsx.is_file()


def test_corrected_files_clear_it_on_the_next_run(runs) -> None:
    root, clean, bad = runs
    landing = root / "bad"
    for name, (good, _, _) in BAD.items():
        corrected = landing / name.replace(".csv", "_corrected.csv")
        deliver_bytes(corrected, (landing / good).read_bytes(), CORRECTED)
    again = materialize_all(landing, BAD_WH(root))
    assert again.success
    checks = evaluations(again)
    for feed, _ in REJECTED_FEEDS:
        check = checks[(f"raw/{feed}", "rejected_files")]
        assert check.passed, check.description
        assert check.metadata["rejected_files_resolved"].value == 1
    assert affected(BAD_WH(root)) == {}
    assert facts(BAD_WH(root)) == facts(CLEAN(root))
