"""The landing sensor starts from what the ledger holds (issue 12: `make dev` after
`make run` launches nothing), against the session's sample warehouse
(``tests.test_dbt_marts.sample_build``): no run after a full run without a cursor, a run
once a new file is dropped, and a skip (cursor kept) while a writer holds the warehouse.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

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
