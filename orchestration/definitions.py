"""The Dagster code location: ``dagster dev -m orchestration.definitions``."""

from __future__ import annotations

import dagster as dg

from orchestration.alerts import alert_sensors
from orchestration.chase import chase_lists
from orchestration.checks import feed_checks, mart_checks, rejected_files_checks
from orchestration.dbt_assets import csp_dbt_assets, dbt_resource
from orchestration.freshness import feed_freshness
from orchestration.health import partner_health
from orchestration.ingest_assets import ingest_assets
from orchestration.jobs import nightly_job, nightly_schedule
from orchestration.publish import publish_assets
from orchestration.report_assets import report_assets, report_jobs, report_schedules, report_sensors
from orchestration.resources import WarehouseSettings
from orchestration.sensors import build_landing_sensor, housekeeping_sensor

defs = dg.Definitions(
    assets=[*ingest_assets, csp_dbt_assets, *publish_assets, chase_lists, *report_assets],
    asset_checks=[
        *feed_checks,
        *rejected_files_checks,
        *mart_checks,
        feed_freshness,
        partner_health,
    ],
    jobs=[nightly_job, *report_jobs],
    schedules=[nightly_schedule, *report_schedules],
    sensors=[
        build_landing_sensor(nightly_job),
        housekeeping_sensor,
        *alert_sensors,
        *report_sensors,
    ],
    resources={"warehouse": WarehouseSettings(), "dbt": dbt_resource},
)
