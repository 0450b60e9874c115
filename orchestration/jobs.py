"""Jobs and schedules."""

from __future__ import annotations

import dagster as dg

from ingest.config import Settings
from orchestration.changes import plan_run
from orchestration.resources import WRITER_TAG

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/London"

# One process, one step at a time: DuckDB allows a single writer per file.
nightly_job = dg.define_asset_job(
    name="csp_nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("report"),
    executor_def=dg.in_process_executor,
    tags=dict([WRITER_TAG]),  # one writer: run queue limit (dagster.yaml) + writer lock
    description="Ingest new landing files, then rebuild everything downstream.",
)


@dg.schedule(
    name="csp_nightly_schedule",
    job=nightly_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every night at 02:00 UK time; skipped when no landing file is new or"
    " changed and the marts were already built for this as-of date; otherwise it runs what"
    " `make run` would: the feeds with new files and what is downstream of them (and of"
    " the models that read the as-of date when it moved), or everything when in doubt.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    from orchestration.selection import nightly_request

    plan = plan_run(Settings.from_env())
    if plan.skip:
        return dg.SkipReason(plan.skip)
    return nightly_request(context, plan)
