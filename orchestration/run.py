"""``make run``: run the nightly job once, in this process, and say what it did.

With the default landing folder empty, the sample data is generated first (and the
as-of date defaults to 2017-05-31, the date the seed report describes).

Run safety (docs/operations.md): the run takes the warehouse's writer lock first
(waiting, bounded by CSP_LOCK_WAIT_SECONDS, for another writer and saying which),
then marks failed the runs of this Dagster instance whose process is gone and frees
their pool slots, tags its own run with host, pid and process start time, and prunes
old run history at the end.  SIGTERM and SIGINT stop it at any point, waiting included.

Only what changed is rebuilt (``orchestration.changes.plan_run``, docs/performance.md):
with nothing new and the published build's fingerprint unchanged the run says so in one
line and stops before Dagster is even imported; with new files only their feeds' assets
and everything downstream run (plus what reads the as-of date when it moved); a missing
or different build record, area or dbt project, or ``--full``, runs the whole job.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

from ingest.config import DEFAULT_LANDING, Settings, warn_if_demo_key_on_real_data
from ingest.ledger import ledger_last_load_id as last_load_id
from ingest.warehouse_file import (
    DiskFull,
    WarehouseBusy,
    WarehouseCorrupt,
    is_no_space,
    no_space_message,
    open_warehouse,
)
from orchestration.writer_lock import WriterLockTimeout, writer_lock

log = logging.getLogger("csp.run")


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def prepare_sample(settings: Settings) -> None:
    """Generate the sample data when the landing folder is the default one and empty."""
    landing = Path(settings.landing).resolve()
    if landing == DEFAULT_LANDING.resolve() and _is_empty(landing):
        from ingest.sample_data import generate

        started = time.monotonic()
        log.info("landing folder %s is empty: generating the sample data", landing)
        generate(landing)
        log.info("sample data written in %.1fs", time.monotonic() - started)


def ledger_summary(warehouse: Path, since_load_id: int) -> list[tuple]:
    con = open_warehouse(warehouse, read_only=True)
    try:
        return con.execute(
            """
            select coalesce(feed, '(no feed)') as feed, status, count(*) as files,
                   sum(rows_loaded) as rows
            from raw.load_log where load_id > ? group by all order by feed, status
            """,
            [since_load_id],
        ).fetchall()
    finally:
        con.close()


def rejected_since(warehouse: Path, since_load_id: int) -> list[str]:
    con = open_warehouse(warehouse, read_only=True)
    try:
        rows = con.execute(
            "select error from raw.load_log where load_id > ? and status = 'rejected'"
            " order by load_id",
            [since_load_id],
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in rows]


NIGHTLY = "csp_nightly"


def skip_line(reason: str) -> str:
    """The one line a run with nothing to do prints."""
    return f"(no new or changed files) Nothing rebuilt: {reason}."


def partial_job(defs, job_name: str, plan):
    """The job to run for ``plan``: the whole job, or its subset downstream of the feeds
    with new files (and of the models that read the as-of date, when it moved)."""
    from orchestration.selection import nightly_subset

    job = defs.resolve_job_def(job_name)
    if job_name != NIGHTLY:
        return job
    subset = nightly_subset(job, defs.resolve_asset_graph(), plan)
    if subset is None:
        return job
    return job.get_subset(asset_selection=subset.assets, asset_check_selection=subset.checks)


def run(job_name: str = NIGHTLY, run_config: dict | None = None, full: bool = False) -> int:
    settings = Settings.from_env()
    prepare_sample(settings)
    if settings.is_sample and not os.environ.get("CSP_AS_OF"):
        os.environ["CSP_AS_OF"] = settings.effective_as_of.isoformat()
    warn_if_demo_key_on_real_data(settings)
    warehouse = Path(settings.warehouse)
    log.info(
        "landing %s -> warehouse %s (as of %s, area %s%s)",
        settings.landing,
        warehouse,
        settings.effective_as_of,
        settings.area_code,
        ", sample data" if settings.is_sample else "",
    )
    try:
        with writer_lock(warehouse, "make run"):
            return _run_locked(job_name, settings, warehouse, run_config, full)
    except (WriterLockTimeout, WarehouseBusy, WarehouseCorrupt, DiskFull) as error:
        print(f"\nERROR: {error}", file=sys.stderr)
        return 2


def _run_locked(
    job_name: str,
    settings: Settings,
    warehouse: Path,
    run_config: dict | None = None,
    full: bool = False,
) -> int:
    from orchestration.changes import RunPlan, plan_run

    plan = RunPlan(full="asked for (--full)") if full else plan_run(settings)
    if plan.skip and job_name == NIGHTLY:
        print(skip_line(plan.skip))
        return 0
    import dagster as dg

    from orchestration.recovery import housekeeping, launch_tags, recover_dead_runs, slot_holders

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
    if instance is not None:
        recover_dead_runs(instance)
        holders = slot_holders(instance)
        if holders:  # a live run of this instance that holds no writer lock: never wait blind
            print(
                f"\nERROR: the warehouse pool of {instance.root_directory} is held by run(s)"
                f" {', '.join(holders)}, which are still running; run again when they finish",
                file=sys.stderr,
            )
            return 2
    before = last_load_id(warehouse)
    from orchestration.definitions import defs

    job = partial_job(defs, job_name, plan)
    if job_name == NIGHTLY:
        log.info("%s", plan.describe())
    started = time.monotonic()
    from orchestration.console import run_config as quiet_run_config

    try:
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            tags=launch_tags(),
            run_config=run_config or quiet_run_config(),
        )
    finally:
        if instance is not None:
            log.info("housekeeping: %s", housekeeping(instance))
    elapsed = time.monotonic() - started
    from orchestration.alerts import alert_run_result  # the daemon's alert sensors' twin

    alert_run_result(result, warehouse)
    print()
    print(f"{'feed':<30} {'status':<11} {'files':>6} {'rows':>10}")
    for feed, status, files, rows in ledger_summary(warehouse, before):
        print(f"{feed:<30} {status:<11} {files:>6} {rows or 0:>10,}")
    if last_load_id(warehouse) == before:
        print("(no new or changed files)")
    for error in rejected_since(warehouse, before):
        print(f"REJECTED: {error}")
    from ingest.landing import held_back  # still settling, or a symbolic link

    for reason in held_back(settings):
        print(f"NOT LOADED, {reason}")
    for check in result.get_asset_check_evaluations():
        if not check.passed:
            level = "WARNING" if check.severity == dg.AssetCheckSeverity.WARN else "CHECK FAILED"
            name = f"{check.asset_key.to_user_string()} {check.check_name}"
            print(f"{level}: {name}: {check.description}")
    for message in run_safety_failures(result, warehouse):
        print(f"ERROR: {message}")
    after = after_as_of_notice(warehouse, settings)
    if after:
        print(f"NOT COUNTED: {after}")
    docs = warehouse.resolve().parent / "gx_data_docs" / "index.html"
    if docs.exists():
        print(f"Great Expectations Data Docs: {docs}")
    outcome = "succeeded" if result.success else "FAILED"
    print(f"\nPipeline {job_name} {outcome} in {elapsed:.1f}s; warehouse: {warehouse}")
    if not result.success:
        return 1
    from orchestration.publish import parquet_folder, serving_path
    from orchestration.report_assets import run_latest_report

    print(f"Serving copy for BI: {serving_path(warehouse)} and {parquet_folder(warehouse)}/")
    report = run_latest_report(defs, settings.effective_as_of, instance)
    print(report.summary())
    return 0 if report.success else 1


def after_as_of_notice(warehouse: Path, settings: Settings) -> str | None:
    """Deliveries loaded but received after the as-of date (orchestration/as_of.py)."""
    from orchestration.as_of import deliveries_after_as_of, describe_after_as_of

    if not warehouse.exists():
        return None
    con = open_warehouse(warehouse, read_only=True)
    try:
        late = deliveries_after_as_of(con)
    finally:
        con.close()
    return describe_after_as_of(late, settings.effective_as_of) if late else None


SAFETY_MESSAGES = ("disk full writing", "cannot be read by DuckDB", "is still locked by")


def run_safety_failures(result, warehouse: Path) -> list[str]:
    """Step failures caused by a full disk, a damaged or a locked warehouse, in words."""
    messages = []
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error is not None:
            text = error.message.strip()
            if any(marker in text for marker in SAFETY_MESSAGES):
                text = re.sub(r"^[\w.]+: (\[Errno \d+\] )?", "", text)
                messages.append(f"{event.step_key}: {text}")
                break
            if is_no_space(Exception(text)):
                messages.append(f"{event.step_key}: {no_space_message(warehouse, text)}")
                break
            error = error.cause
    return list(dict.fromkeys(messages))


def _stop(signum, _frame):
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--job", default=NIGHTLY)
    parser.add_argument("--full", action="store_true", help="rebuild everything, whatever changed")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="every file, dbt line and Dagster warning"
    )
    args = parser.parse_args(argv)
    if args.job == NIGHTLY and not args.full:  # nothing to do: say so, before Dagster loads
        from orchestration.changes import nothing_to_do

        reason = nothing_to_do(Settings.from_env())
        if reason:
            print(skip_line(reason))
            return 0
    # quiet by default: progress per feed and dbt layer, warnings, the summary
    from orchestration.console import configure, log_level

    run_config = configure(log_level(args.verbose))
    # SIGTERM ends the run like Ctrl-C (Dagster takes both over while its steps run)
    signal.signal(signal.SIGTERM, _stop)
    return run(args.job, run_config, args.full)


if __name__ == "__main__":
    sys.exit(main())
