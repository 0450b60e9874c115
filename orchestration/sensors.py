"""Landing-folder sensor: start a run when files arrive that the ledger does not hold.

The sensor fingerprints the landing folder (path, size, modification time of every
file) and keeps the last fingerprint it looked at as its cursor.  When the fingerprint
changes, or when there is no cursor yet (a fresh ``DAGSTER_HOME``, ``make dev`` right
after ``make run``), it asks the ledger which files are pending
(``orchestration.changes.pending_files``: not in ``raw.load_log`` under the same name, size and
modification time) and requests a run only when some are.  So a delivery starts one
run, and files a ``make run`` has already loaded start none.

The warehouse is only ever opened read-only; while a run holds DuckDB's writer lock the
sensor skips without moving its cursor and looks again on the next tick.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb

from ingest.config import Settings
from ingest.landing import discover, display_name, split_settled
from orchestration.changes import pending_files


def _landing_files(landing: Path) -> list[Path]:
    """The files a run would consider: ``ingest.landing.discover``'s rule (hidden files
    and symbolic links left out), so the sensor and the ingest never disagree."""
    if not landing.exists():
        return []
    owned, unowned = discover(landing)
    return sorted([p for paths in owned.values() for p in paths] + unowned)


def landing_fingerprint(landing: Path) -> tuple[str, int]:
    """Hash of (relative path, size, mtime) of every file a run would consider, and the count."""
    digest = hashlib.sha256()
    files = _landing_files(landing)
    for path in files:
        stat = path.stat()
        rel = path.relative_to(landing).as_posix()
        digest.update(json.dumps([rel, stat.st_size, stat.st_mtime_ns]).encode())
    return digest.hexdigest(), len(files)


@dataclass(frozen=True)
class Decision:
    """What one tick does: request a run, or skip; and the cursor to keep."""

    cursor: str | None
    request: dg.RunRequest | None = None
    skip: str | None = None


def evaluate_landing(settings: Settings, cursor: str | None) -> Decision:
    """Compare the landing folder with the cursor and, when it changed, with the ledger."""
    landing = Path(settings.landing)
    fingerprint, count = landing_fingerprint(landing)
    if count == 0:
        return Decision(cursor, skip=f"no files in {landing}")
    if fingerprint == cursor:
        return Decision(cursor, skip=f"no new or changed files in {landing} ({count} files)")
    try:
        pending = pending_files(settings)
    except duckdb.Error as error:  # a run holds the writer lock: look again next tick
        return Decision(cursor, skip=f"warehouse {settings.warehouse} is busy ({error})")
    # a file still being written is left for a later tick, not for a run that would hold
    # it back: the cursor does not move while any file is settling
    _, settling = split_settled(settings, _landing_files(landing))
    waiting = {display_name(landing, p, settings.effective_key) for p in settling}
    ready = [name for name in pending if name not in waiting]
    next_cursor = cursor if waiting else fingerprint
    if not ready:
        why = (
            f"{len(waiting)} file(s) in {landing} still settling (CSP_SETTLE_SECONDS)"
            if waiting
            else f"the ledger already holds all {count} files in {landing}"
        )
        return Decision(next_cursor, skip=why)
    run_key = hashlib.sha256(json.dumps([fingerprint, sorted(ready)]).encode()).hexdigest()
    request = dg.RunRequest(
        run_key=run_key,
        tags={"csp/trigger": "landing_sensor", "csp/files": str(len(ready))},
    )
    return Decision(next_cursor, request=request)


def build_landing_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_folder_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts the pipeline when files arrive in (or change in) the landing"
        " folder that the ledger (raw.load_log) does not already hold: the feeds with new"
        " files and what is downstream of them, as `make run` would.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        from orchestration.changes import plan_run
        from orchestration.selection import nightly_request

        settings = Settings.from_env()
        decision = evaluate_landing(settings, context.cursor)
        if decision.cursor != context.cursor:
            context.update_cursor(decision.cursor)
        if decision.request is None:
            return dg.SkipReason(decision.skip)
        # what `make run` would run: the feeds with new files and what is downstream
        request = decision.request
        return nightly_request(
            context, plan_run(settings), run_key=request.run_key, tags=dict(request.tags)
        )

    return _sensor


@dg.sensor(
    name="housekeeping_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every minute: marks failed the runs whose process died (kill -9, out of"
    " memory, power loss) and frees their warehouse slot, so the queue never stalls; prunes"
    " run history and dbt target folders (docs/operations.md). Launches nothing.",
)
def housekeeping_sensor(context: dg.SensorEvaluationContext):
    from orchestration.recovery import housekeeping

    return dg.SkipReason(housekeeping(context.instance))
