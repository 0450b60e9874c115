"""The quarterly report's Dagster asset and schedule, over the sample warehouse.

Split from tests/test_report.py; the sample report is rendered once per session
(``tests.test_report.sample_report``)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from tests.test_report import (
    MISSING_SQL,
    SampleReport,
    _count,
    sample_report,
)

# --------------------------------------------------------------------------------------
# the Dagster asset and schedule


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    return sample_report(tmp_path_factory)


def published_copy(report: SampleReport, tmp_path: Path):
    """The session's sample warehouse copied to ``tmp_path/data``, published as of 31 May
    2017, with the resource and an instance that knows the report's quarters."""
    from orchestration.publish import publish_marts
    from orchestration.report_assets import add_report_quarters
    from orchestration.resources import WarehouseSettings

    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(report.build.warehouse, warehouse)
    publish_marts(warehouse, as_of=date(2017, 5, 31))
    resource = WarehouseSettings(warehouse=str(warehouse), as_of="2017-05-31", area="E06000004")
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, date(2017, 5, 31))
    return resource, instance


def test_report_asset_writes_the_quarter_folder(
    report: SampleReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.report_assets import quarterly_report

    resource, instance = published_copy(report, tmp_path)
    result = dg.materialize(
        [quarterly_report],
        partition_key="2016-17-Q4",
        resources={"warehouse": resource},
        instance=instance,
    )
    assert result.success
    folder = tmp_path / "data" / "reports" / "2016-17-Q4"
    assert sorted(p.name for p in folder.iterdir()) == [
        "csp-performance-2016-17-Q4.html",
        "csp-performance-2016-17-Q4.xlsx",
    ]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["series"].value == 29
    assert metadata["missing_or_late_returns"].value == _count(report.build, MISSING_SQL)
    page = (folder / "csp-performance-2016-17-Q4.html").read_text()
    assert "Figures and returns as at 31 May 2017 (the data date)" in page
    assert "Report produced" in page


def test_a_range_of_quarters_is_one_run(
    report: SampleReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.report_assets import quarterly_report

    assert quarterly_report.backfill_policy == dg.BackfillPolicy.single_run()
    resource, instance = published_copy(report, tmp_path)
    result = dg.materialize(
        [quarterly_report],
        resources={"warehouse": resource},
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "2016-17-Q2",
            "dagster/asset_partition_range_end": "2016-17-Q4",
        },
    )
    assert result.success
    reports = tmp_path / "data" / "reports"
    published = sorted(p.name for p in reports.iterdir() if not p.name.startswith("."))
    assert published == ["2016-17-Q2", "2016-17-Q3", "2016-17-Q4"]
    events = result.get_asset_materialization_events()
    assert len({e.partition for e in events}) == 3  # one run, one materialisation a quarter


def test_report_asset_fails_clearly_without_a_serving_copy(tmp_path: Path) -> None:
    from orchestration.report_assets import add_report_quarters, quarterly_report
    from orchestration.resources import WarehouseSettings

    resource = WarehouseSettings(warehouse=str(tmp_path / "warehouse.duckdb"), as_of="2017-05-31")
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, date(2017, 5, 31))
    result = dg.materialize(
        [quarterly_report],
        partition_key="2016-17-Q4",
        resources={"warehouse": resource},
        instance=instance,
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "no serving copy" in str(failure.message) + str(failure.cause)


def test_quarterly_schedule_builds_the_quarter_just_due() -> None:
    from dagster._utils.schedules import cron_string_iterator

    from orchestration.report_assets import quarterly_report_schedule

    london = ZoneInfo("Europe/London")
    ticks = cron_string_iterator(
        datetime(2017, 1, 1, tzinfo=london).timestamp(),
        quarterly_report_schedule.cron_schedule,
        quarterly_report_schedule.execution_timezone,
    )
    first = [next(ticks) for _ in range(4)]
    assert [(t.month, t.day, t.hour) for t in first] == [
        (1, 21, 6),
        (4, 21, 6),
        (7, 21, 6),
        (10, 21, 6),
    ]
    assert first[1].utcoffset().total_seconds() == 3600  # 06:00 British Summer Time
    from orchestration.report_assets import report_assets, report_jobs, report_schedules
    from orchestration.resources import WarehouseSettings

    definitions = dg.Definitions(
        assets=report_assets,
        jobs=report_jobs,
        schedules=report_schedules,
        resources={"warehouse": WarehouseSettings()},
    )
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=first[1],
            repository_def=definitions.get_repository_def(),
        )
        request = quarterly_report_schedule.evaluate_tick(context).run_requests[0]
        # 2016/17 Q4, due 20 April 2017, made a partition by the schedule itself
        assert request.partition_key == "2016-17-Q4"
        assert instance.get_dynamic_partitions("fiscal_quarters")[-1] == "2016-17-Q4"
