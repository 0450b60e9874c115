"""The landing sensor starts from what the ledger holds (issue 12: `make dev` after
`make run` launches nothing), against the session's sample warehouse
(``tests.test_dbt_marts.sample_build``): no run after a full run without a cursor, a run
once a new file is dropped, and a skip (cursor kept) while a writer holds the warehouse.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.config import Settings
from ingest.ledger import last_load_id
from orchestration.changes import build_fingerprint, build_state_path, plan_run
from orchestration.definitions import defs
from orchestration.sensors import landing_fingerprint
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text
from tests.test_dbt_marts import sample_build


@contextmanager
def writer_holding(warehouse: Path) -> Iterator[None]:
    """Another process holds DuckDB's writer lock on ``warehouse`` meanwhile (as a run does)."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; con = duckdb.connect(sys.argv[1]); print('held', flush=True);"
            " sys.stdin.read()",
            str(warehouse),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


@pytest.fixture
def built(tmp_path_factory, tmp_path, monkeypatch) -> tuple[Path, Path]:
    """A copy (file times kept) of the sample landing folder and its built warehouse."""
    build = sample_build(tmp_path_factory)
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    shutil.copytree(build.warehouse.parent / "landing", landing)
    shutil.copy2(build.warehouse, warehouse)
    monkeypatch.setenv("CSP_LANDING", str(landing))
    monkeypatch.setenv("CSP_WAREHOUSE", str(warehouse))
    return landing, warehouse


def _tick(cursor: str | None):
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    with dg.build_sensor_context(cursor=cursor) as context:
        result = sensor(context)
        return result, context.cursor


def test_no_run_after_a_full_run_then_one_for_a_new_file(built):
    landing, _ = built
    result, cursor = _tick(None)
    assert isinstance(result, dg.SkipReason), result
    assert "ledger already holds" in result.skip_message
    assert cursor == landing_fingerprint(landing)[0]  # the next tick compares with this

    again, same = _tick(cursor)
    assert isinstance(again, dg.SkipReason) and same == cursor

    new = landing / "idva_referrals" / "late-delivery.csv"
    new.write_text(csv_text(IDVA_HEADER, IDVA_ROWS))
    request, moved = _tick(cursor)
    assert isinstance(request, dg.RunRequest), request
    assert request.tags["csp/files"] == "1"
    assert moved != cursor and moved == landing_fingerprint(landing)[0]

    # a fresh DAGSTER_HOME (no cursor) sees the same pending file
    fresh, _ = _tick(None)
    assert isinstance(fresh, dg.RunRequest)


def test_busy_warehouse_is_skipped_without_moving_the_cursor(built):
    landing, warehouse = built
    (landing / "idva_referrals" / "late-delivery.csv").write_text(csv_text(IDVA_HEADER, IDVA_ROWS))
    with writer_holding(warehouse):
        result, cursor = _tick("previous-cursor")
        assert isinstance(result, dg.SkipReason) and "busy" in result.skip_message
        assert cursor == "previous-cursor"
    request, _ = _tick("previous-cursor")
    assert isinstance(request, dg.RunRequest)


def test_a_file_still_being_written_waits_for_a_later_tick(built, monkeypatch):
    """A run would hold a settling file back; the sensor neither starts one for it nor
    moves its cursor, so the tick after the file settles starts the run."""
    landing, _ = built
    _, cursor = _tick(None)
    monkeypatch.setenv("CSP_SETTLE_SECONDS", "3600")
    (landing / "idva_referrals" / "being-written.csv").write_text(csv_text(IDVA_HEADER, IDVA_ROWS))
    waiting, kept = _tick(cursor)
    assert isinstance(waiting, dg.SkipReason) and "settling" in waiting.skip_message
    assert kept == cursor
    monkeypatch.setenv("CSP_SETTLE_SECONDS", "0")
    request, moved = _tick(kept)
    assert isinstance(request, dg.RunRequest) and request.tags["csp/files"] == "1"
    assert moved == landing_fingerprint(landing)[0]


def test_a_symbolic_link_in_the_landing_folder_is_not_followed(built):
    landing, _ = built
    _, cursor = _tick(None)
    (landing / "idva_referrals" / "passwd.csv").symlink_to("/etc/passwd")
    result, kept = _tick(cursor)
    assert isinstance(result, dg.SkipReason), result
    assert kept == cursor  # the link is not part of the fingerprint


def _publish_record(warehouse: Path) -> Settings:
    """What the ``serving`` asset records after publishing the build (as make run would)."""
    settings = Settings.from_env()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        last = last_load_id(con)
    finally:
        con.close()
    build_state_path(settings).write_text(json.dumps(build_fingerprint(settings, last)))
    return settings


def test_the_daemon_runs_what_make_run_would_a_new_files_feed_and_downstream(built, monkeypatch):
    """After a published build, a new IDVA file: the sensor and the nightly schedule ask
    for the IDVA feed, the ledger and what is downstream of them (the subset `make run`
    runs, orchestration/selection.py), not the other feeds; the subset is launchable."""
    landing, warehouse = built
    monkeypatch.setenv("CSP_AS_OF", "2017-05-31")
    settings = _publish_record(warehouse)
    assert plan_run(settings).skip
    (landing / "idva_referrals" / "late-delivery.csv").write_text(csv_text(IDVA_HEADER, IDVA_ROWS))
    plan = plan_run(settings)
    assert plan.feeds == ("idva_referrals",) and not plan.full

    repository = defs.get_repository_def()
    with dg.build_sensor_context(cursor=None, repository_def=repository) as context:
        sensed = defs.resolve_sensor_def("landing_folder_sensor")(context)
    schedule = defs.resolve_schedule_def("csp_nightly_schedule")
    with dg.build_schedule_context(repository_def=repository) as context:
        scheduled = schedule.evaluate_tick(context).run_requests[0]

    job = defs.resolve_job_def("csp_nightly")
    for request in (sensed, scheduled):
        assert isinstance(request, dg.RunRequest), request
        assets = {key.to_user_string() for key in request.asset_selection}
        assert {"raw/idva_referrals", "raw/load_log", "marts/fct_measure_quarter"} <= assets
        assert "serving" in assets and "raw/police_asb_incidents" not in assets
        checks = {(c.asset_key.to_user_string(), c.name) for c in request.asset_check_keys}
        assert ("raw/idva_referrals", "contract") in checks
        # the other feeds' freshness checks run (they read fct_missing_returns); no other
        assert {name for asset, name in checks if asset == "raw/police_asb_incidents"} == {
            "freshness"
        }
        assert "partial build" in request.tags["csp/plan"]
        subset = job.get_subset(
            asset_selection=set(request.asset_selection),
            asset_check_selection=set(request.asset_check_keys),
        )
        steps = {node.name for node in subset.graph.nodes}
        assert "raw__idva_referrals" in steps and "raw__police_asb_incidents" not in steps
