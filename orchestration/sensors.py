"""Landing-folder sensor: start a run when files arrive or change.

The sensor never opens the warehouse (a run may hold DuckDB's single writer lock);
it fingerprints the landing folder (path, size, modification time of every file)
and keeps the last fingerprint it acted on as its cursor, so a delivery starts
exactly one run.  The ingest itself is idempotent: files already in the ledger
load nothing.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from ingest.config import Settings


def landing_fingerprint(landing: Path) -> tuple[str, int]:
    """Hash of (relative path, size, mtime) of every visible file, and the file count."""
    digest = hashlib.sha256()
    count = 0
    if landing.exists():
        for path in sorted(landing.rglob("*")):
            rel = path.relative_to(landing)
            if not path.is_file() or any(p.startswith((".", "~$")) for p in rel.parts):
                continue
            stat = path.stat()
            digest.update(json.dumps([rel.as_posix(), stat.st_size, stat.st_mtime_ns]).encode())
            count += 1
    return digest.hexdigest(), count


def build_landing_sensor(job) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_folder_sensor",
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Starts the pipeline when files arrive in (or change in) the landing folder.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        landing = Settings.from_env().landing
        fingerprint, count = landing_fingerprint(Path(landing))
        if count == 0:
            return dg.SkipReason(f"no files in {landing}")
        if fingerprint == context.cursor:
            return dg.SkipReason(f"no new or changed files in {landing} ({count} files)")
        context.update_cursor(fingerprint)
        return dg.RunRequest(
            run_key=fingerprint,
            tags={"csp/trigger": "landing_sensor", "csp/files": str(count)},
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
