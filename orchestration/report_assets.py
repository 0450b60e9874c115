"""The quarterly performance report as a Dagster asset partitioned by fiscal quarter.

``quarterly_report`` (group ``report``) writes ``<data>/reports/<yyyy-yy>-Q<n>/`` (the
data folder is the warehouse's folder): ``csp-performance-<yyyy-yy>-Q<n>.html`` and
``.xlsx``, published as one (``reports/<quarter>`` is a link swapped to a complete
build: ``report/publish.py``); then the figures it showed are frozen in the warehouse's
ledger ``revisions.published_figures``, under the writer lock
(``orchestration/revisions.freeze_after_report``).  It reads the marts from the serving copy
(``serving.duckdb``, published by the ``serving`` asset), never the warehouse, so it
never waits for or blocks the nightly writer and always reports the last good build.

Partitions are fiscal quarters keyed by their label (``2016-17-Q4``, ``catalogue.fiscal``),
from 2013/14 Q1 to the latest quarter whose returns were due before the as-of date: a
quarter that cannot be reported yet is not a partition, so the UI shows nothing
"missing" that cannot exist.  The keys are Dagster dynamic partitions (``fiscal_quarters``)
because the set grows with the as-of date, which moves every day in production while a
code location stays loaded: ``report_quarters_sensor`` (hourly) adds each quarter once
its returns are due, and the schedule and ``make run`` add it before they build it.  A
quarter launched although its returns are not due by the run's as-of date (keys added
under a later as-of) is refused with a warning and nothing is materialised; the asset is
not marked failed.

``quarterly_report_schedule`` builds each quarter on the day after its returns are due
(quarter end + 20 days: 21 January, April, July and October at 06:00 UK time).
``run_latest_report`` is what ``make run`` uses after the nightly job: the report of the
latest quarter whose returns were due before the as-of date (2016/17 Q4 on the sample).

(No ``from __future__ import annotations`` here: Dagster inspects the context annotation.)
"""

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from ingest.config import Settings
from orchestration.dbt_assets import markdown_text
from orchestration.publish import SERVING_KEY, serving_path
from orchestration.resources import WarehouseSettings
from orchestration.revisions import RevisionLedgerError, freeze_after_report
from report import (
    FiscalQuarter,
    ReportDataError,
    build_report,
    report_areas,
    write_report,
)
from report import latest_complete_quarter as _latest_quarter

GROUP = "report"
TIMEZONE = "Europe/London"
FIRST_QUARTER = FiscalQuarter(2013, 1)  # 2013/14 Q1, the first quarter of the sample data
REPORT_CRON = "0 6 21 1,4,7,10 *"  # the day after the returns are due (quarter end + 20 days)
REPORT_JOB = "csp_quarterly_report"

QUARTERS = "fiscal_quarters"

quarter_partitions = dg.DynamicPartitionsDefinition(name=QUARTERS)


def latest_complete_quarter(as_of: date) -> str:
    """Partition key of the latest quarter whose returns were due before ``as_of``
    (``2016-17-Q4`` on 31 May 2017)."""
    return _latest_quarter(as_of).partition_key


def report_quarter_keys(as_of: date) -> list[str]:
    """The report's partition keys as of ``as_of``: 2013-14-Q1 .. the latest quarter due."""
    last, quarter, keys = _latest_quarter(as_of), FIRST_QUARTER, []
    while quarter <= last:
        keys.append(quarter.partition_key)
        quarter = quarter.next()
    return keys


def missing_quarter_keys(instance: dg.DagsterInstance, as_of: date) -> list[str]:
    """The quarters due by ``as_of`` that are not yet partitions of ``instance``."""
    have = set(instance.get_dynamic_partitions(QUARTERS))
    return [key for key in report_quarter_keys(as_of) if key not in have]


def add_report_quarters(instance: dg.DagsterInstance, as_of: date) -> list[str]:
    """Add the quarters due by ``as_of`` to the report's partitions; returns those added."""
    missing = missing_quarter_keys(instance, as_of)
    if missing:
        instance.add_dynamic_partitions(QUARTERS, missing)
    return missing


def _report_metadata(files, data) -> dict[str, dg.MetadataValue]:
    views = files.views.series
    counts = files.views.rag_counts
    return {
        "html": dg.MetadataValue.path(str(files.html)),
        "xlsx": dg.MetadataValue.path(str(files.xlsx)),
        "quarter": dg.MetadataValue.text(data.quarter.label),
        "area": dg.MetadataValue.text(f"{data.area_name} ({data.area_code})"),
        "series": dg.MetadataValue.int(len(views)),
        "rag": dg.MetadataValue.text(", ".join(f"{k} {v}" for k, v in counts.items())),
        "missing_or_late_returns": dg.MetadataValue.int(len(data.missing)),
        "reconciliation_differences": dg.MetadataValue.int(len(data.reconciliation)),
    }


@dg.asset(
    partitions_def=quarter_partitions,
    # a quarter refused (not due by the as-of date) materialises nothing, and is no failure
    output_required=False,
    # a backfill of a range of quarters runs as one run, one report per quarter
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[SERVING_KEY],
    group_name=GROUP,
    kinds={"html", "excel"},
    description=markdown_text(
        "Quarterly performance report (HTML, prints on A4 landscape, and XLSX) from"
        " the marts' serving copy: reports/<yyyy-yy>-Q<n>/ under the data folder."
    ),
)
def quarterly_report(context: dg.AssetExecutionContext, warehouse: WarehouseSettings):
    settings = warehouse.settings()
    keys = context.partition_keys
    last = _latest_quarter(settings.effective_as_of)
    early = [key for key in keys if FiscalQuarter.parse(key) > last]
    if early:
        context.log.warning(
            "refused: the returns of %s are not due by the as-of date %s (latest quarter"
            " due: %s); nothing is built",
            ", ".join(early),
            settings.effective_as_of.isoformat(),
            last.label,
        )
        return
    source = serving_path(settings.warehouse)
    if not source.exists():
        raise dg.Failure(
            description=f"no serving copy at {source}: run the nightly job (csp_nightly) first"
        )
    metadata: dict[str, dg.MetadataValue] = {}
    for key in keys:
        quarter = FiscalQuarter.parse(key)
        quarter_prefix = f"{quarter.slug}_" if len(keys) > 1 else ""
        try:
            areas = report_areas(source, settings.area_code)
            several = len(areas) > 1
            for code, _name in areas:
                data = build_report(source, quarter.fiscal_year, quarter.quarter, code)
                files = write_report(
                    data, Path(settings.warehouse).resolve().parent, with_area_suffix=several
                )
                context.log.info("%s report for %s: %s", quarter.label, code, files.html)
                # the figures it showed, for "changed since last published" (docs/analysis.md)
                frozen = freeze_after_report(
                    settings.warehouse,
                    source,
                    area_code=code,
                    fiscal_year=quarter.fiscal_year,
                    quarter=quarter.quarter,
                    as_of=data.as_of,
                )
                files_metadata = _report_metadata(files, data)
                files_metadata["frozen_figures"] = dg.MetadataValue.int(frozen)
                prefix = quarter_prefix + (f"{code}_" if several else "")
                metadata |= {prefix + k: v for k, v in files_metadata.items()}
        except (ReportDataError, RevisionLedgerError) as error:
            raise dg.Failure(description=f"{quarter.label}: {error}") from error
    yield dg.MaterializeResult(metadata=metadata)


quarterly_report_job = dg.define_asset_job(
    name=REPORT_JOB,
    selection=dg.AssetSelection.assets(quarterly_report),
    executor_def=dg.in_process_executor,
    description="The quarterly performance report of one fiscal quarter (a partition).",
)


@dg.schedule(
    name="quarterly_report_schedule",
    job=quarterly_report_job,
    cron_schedule=REPORT_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="On 21 January, April, July and October at 06:00 UK time (the day after"
    " the quarter's returns were due), the report of the quarter just ended.",
)
def quarterly_report_schedule(context: dg.ScheduleEvaluationContext):
    # a replay (CSP_AS_OF in the past) reports its own latest quarter, once (run key)
    as_of = min(context.scheduled_execution_time.date(), Settings.from_env().effective_as_of)
    add_report_quarters(context.instance, as_of)
    key = latest_complete_quarter(as_of)
    return dg.RunRequest(run_key=f"quarterly_report:{key}", partition_key=key)


@dg.sensor(
    name="report_quarters_sensor",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds each fiscal quarter to the quarterly report's partitions once its"
    " returns are due by the as-of date (CSP_AS_OF, else today); nothing later is a"
    " partition.",
)
def report_quarters_sensor(context: dg.SensorEvaluationContext):
    as_of = Settings.from_env().effective_as_of
    missing = missing_quarter_keys(context.instance, as_of)
    if not missing:
        return dg.SkipReason(f"every quarter due by {as_of.isoformat()} is a partition")
    return dg.SensorResult(
        dynamic_partitions_requests=[quarter_partitions.build_add_request(missing)]
    )


@dataclass(frozen=True)
class LatestReport:
    success: bool
    partition_key: str
    quarter: str
    html: str | None
    xlsx: str | None

    def summary(self) -> str:
        if not self.success:
            return f"Quarterly report {self.quarter} FAILED (see the log above)"
        return f"Quarterly report {self.quarter}: {self.html}\n{' ' * 18}workbook: {self.xlsx}"


def run_latest_report(
    defs: dg.Definitions, as_of: date, instance: dg.DagsterInstance | None = None
) -> LatestReport:
    """Materialise the report of the latest complete quarter in this process (``make run``
    calls it after a successful nightly run)."""
    instance = instance or dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, as_of)
    key = latest_complete_quarter(as_of)
    job = defs.resolve_job_def(REPORT_JOB)
    result = job.execute_in_process(
        partition_key=key,
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    paths: dict[str, str] = {}
    if result.success:
        for event in result.get_asset_materialization_events():
            for name in ("html", "xlsx"):
                value = event.materialization.metadata.get(name)
                if value is not None and name not in paths:
                    paths[name] = str(value.value)
    return LatestReport(
        result.success, key, FiscalQuarter.parse(key).label, paths.get("html"), paths.get("xlsx")
    )


report_assets = [quarterly_report]
report_jobs = [quarterly_report_job]
report_schedules = [quarterly_report_schedule]
report_sensors = [report_quarters_sensor]

__all__ = [
    "QUARTERS",
    "LatestReport",
    "add_report_quarters",
    "latest_complete_quarter",
    "missing_quarter_keys",
    "quarter_partitions",
    "quarterly_report",
    "quarterly_report_job",
    "quarterly_report_schedule",
    "report_assets",
    "report_jobs",
    "report_quarter_keys",
    "report_quarters_sensor",
    "report_schedules",
    "report_sensors",
    "run_latest_report",
]
