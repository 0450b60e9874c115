"""The Dagster code location loads, and its ingest assets, sensor and schedule work."""

from __future__ import annotations

import contextlib
import os
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._utils.schedules import cron_string_iterator

from ingest.feeds import FEEDS
from orchestration.definitions import defs
from orchestration.ingest_assets import ingest_assets
from orchestration.resources import WarehouseSettings
from orchestration.sensors import build_landing_sensor
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {f"raw/{name}" for name in FEEDS} | {"raw/load_log"} <= keys
    assert defs.resolve_job_def("csp_nightly") is not None


def test_nightly_schedule_runs_at_two_uk_time(settings, monkeypatch):
    # an empty landing folder and no warehouse: nothing to skip for, the tick runs
    monkeypatch.setenv("CSP_LANDING", str(settings.landing))
    monkeypatch.setenv("CSP_WAREHOUSE", str(settings.warehouse))
    schedule = defs.resolve_schedule_def("csp_nightly_schedule")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/London"
    # during British Summer Time 02:00 in London is 01:00 UTC
    summer = datetime(2026, 7, 1, 0, 30, tzinfo=ZoneInfo("Europe/London"))
    ticks = cron_string_iterator(
        summer.timestamp(), schedule.cron_schedule, schedule.execution_timezone
    )
    next_tick = next(ticks)
    assert (next_tick.hour, next_tick.utcoffset().total_seconds()) == (2, 3600)
    winter = next(t for t in ticks if t.month == 12)
    assert (winter.hour, winter.utcoffset().total_seconds()) == (2, 0)
    with dg.build_schedule_context(scheduled_execution_time=summer) as context:
        run = schedule.evaluate_tick(context).run_requests[0]
    assert run.job_name in (None, "csp_nightly")


def test_landing_sensor_requests_one_run_per_delivery(settings, deliver, monkeypatch):
    monkeypatch.setenv("CSP_LANDING", str(settings.landing))
    sensor = build_landing_sensor(defs.resolve_job_def("csp_nightly"))
    with dg.build_sensor_context() as context:
        assert isinstance(sensor(context), dg.SkipReason)  # empty folder
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    deliver(".hidden/ignored.csv", "x")
    with dg.build_sensor_context() as context:
        first = sensor(context)
        assert isinstance(first, dg.RunRequest) and first.tags["csp/files"] == "1"
        cursor = context.cursor
    with dg.build_sensor_context(cursor=cursor) as context:
        assert isinstance(sensor(context), dg.SkipReason)  # nothing new: no second run
    deliver("idva_referrals/q4.csv", csv_text(IDVA_HEADER, IDVA_ROWS[:1]))
    with dg.build_sensor_context(cursor=cursor) as context:
        second = sensor(context)
        assert isinstance(second, dg.RunRequest) and second.run_key != first.run_key


def test_materialise_ingest_assets_in_process(settings, deliver, query):
    deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS))
    deliver("idva_referrals/bad.csv", csv_text(IDVA_HEADER, ["R1,03/10/2016,C,high,x,engaged,Y"]))
    deliver("stray/file.csv", "a\n1\n")
    resource = WarehouseSettings(
        landing=str(settings.landing), warehouse=str(settings.warehouse), as_of="2017-05-31"
    )
    os.environ.setdefault("CSP_PSEUDONYM_KEY", "test-key")
    result = dg.materialize(ingest_assets, resources={"warehouse": resource})
    assert result.success
    events = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    idva = events["raw/idva_referrals"]
    assert idva["files_loaded"].value == 1 and idva["files_rejected"].value == 1
    assert idva["dagster/row_count"].value == 3
    assert "bad.csv" in idva["rejected"].value
    assert events["raw/load_log"]["unowned_files_new"].value == 1
    assert query("select count(*) from raw.load_log where status = 'rejected'") == [(2,)]
    assert Path(settings.warehouse).exists()


# --------------------------------------------------------------------------------------
# the quarterly report's partitions (issue 17): fiscal-quarter labels up to the as-of


def test_report_partitions_are_fiscal_quarters_ending_before_the_as_of():
    from catalogue.fiscal import FiscalQuarter
    from orchestration.report_assets import (
        QUARTERS,
        quarterly_report,
        report_quarter_keys,
        report_quarters_sensor,
    )

    graph = defs.resolve_asset_graph()
    partitions = graph.get(dg.AssetKey("quarterly_report")).partitions_def
    assert isinstance(partitions, dg.DynamicPartitionsDefinition) and partitions.name == QUARTERS
    assert quarterly_report.partitions_def == partitions
    keys = report_quarter_keys(date(2017, 5, 31))
    assert keys[0] == "2013-14-Q1" and keys[-1] == "2016-17-Q4" and len(keys) == 16
    assert all(re.fullmatch(r"\d{4}-\d{2}-Q[1-4]", key) for key in keys)
    assert [FiscalQuarter.parse(k) for k in keys] == sorted(FiscalQuarter.parse(k) for k in keys)
    assert report_quarter_keys(date(2017, 4, 20))[-1] == "2016-17-Q3"  # Q4 due that day
    assert report_quarter_keys(date(2017, 4, 21))[-1] == "2016-17-Q4"
    # the sensor makes exactly those quarters partitions of the instance, once
    with dg.instance_for_test() as instance:
        env = {"CSP_AS_OF": "2017-05-31"}
        with _env(env), dg.build_sensor_context(instance=instance) as context:
            added = report_quarters_sensor.evaluate_tick(context).dynamic_partitions_requests
        assert [list(r.partition_keys) for r in added] == [keys]
        instance.add_dynamic_partitions(QUARTERS, keys)
        with _env(env), dg.build_sensor_context(instance=instance) as context:
            again = report_quarters_sensor.evaluate_tick(context)
        assert not again.dynamic_partitions_requests and "2017-05-31" in again.skip_message
        assert partitions.get_partition_keys(dynamic_partitions_store=instance) == keys


def test_a_quarter_not_yet_due_is_refused_without_failing_the_asset(tmp_path):
    from orchestration.report_assets import QUARTERS, quarterly_report

    resource = WarehouseSettings(warehouse=str(tmp_path / "warehouse.duckdb"), as_of="2017-05-31")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(QUARTERS, ["2016-17-Q4", "2017-18-Q1"])  # a later as-of
    result = dg.materialize(
        [quarterly_report],
        partition_key="2017-18-Q1",
        resources={"warehouse": resource},
        instance=instance,
    )
    assert result.success and result.get_asset_materialization_events() == []
    assert result.get_step_failure_events() == []
    status = instance.get_status_by_partition(
        dg.AssetKey("quarterly_report"),
        ["2016-17-Q4", "2017-18-Q1"],
        quarterly_report.partitions_def,
    )
    assert status is None or all(s != dg.AssetPartitionStatus.FAILED for s in status.values())


@contextlib.contextmanager
def _env(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
