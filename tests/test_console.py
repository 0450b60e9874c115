"""The rules behind `make run`'s quiet console: dbt lines routed by their level, one line
per dbt layer, check descriptions in words, and the quiet filter."""

from __future__ import annotations

import logging

from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

from orchestration import console
from orchestration.dbt_assets import check_description, markdown_text
from orchestration.dbt_output import CONSOLE, _emit, layer_lines


def _event(level: str, msg: str) -> DbtCoreCliEventMessage:
    raw = {"info": {"level": level, "msg": msg, "name": "X"}, "data": {}}
    return DbtCoreCliEventMessage(raw_event=raw, event_history_metadata={})


def test_dbt_lines_keep_their_level_and_unparsed_lines_are_never_dropped(caplog):
    caplog.set_level(logging.DEBUG, logger=CONSOLE.name)
    _emit("1 of 2 OK created model\n", _event("info", "1 of 2 OK created model"))
    _emit("Database Error in model x\n", _event("error", "Database Error in model x"))
    _emit(
        "Traceback (most recent call last):\nDeprecated config\n",
        _event("warn", "Deprecated config"),
    )
    levels = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == CONSOLE.name]
    assert levels == [
        ("INFO", "1 of 2 OK created model"),
        ("ERROR", "Database Error in model x"),
        ("WARNING", "Traceback (most recent call last):"),
        ("WARNING", "Deprecated config"),
    ]


def test_one_line_per_layer_with_counts_and_outcomes():
    manifest = {
        "nodes": {
            "seed.p.cal": {"resource_type": "seed", "fqn": ["p", "cal"]},
            "model.p.stg_a": {"resource_type": "model", "fqn": ["p", "staging", "stg_a"]},
            "model.p.fct_b": {"resource_type": "model", "fqn": ["p", "marts", "fct_b"]},
            "test.p.nn_b": {"resource_type": "test", "attached_node": "model.p.fct_b"},
            "test.p.u_b": {"resource_type": "test", "attached_node": "model.p.fct_b"},
        },
        "unit_tests": {
            "unit_test.p.fct_b.t": {
                "resource_type": "unit_test",
                "depends_on": {"nodes": ["model.p.fct_b"]},
            }
        },
    }
    results = [
        ("seed.p.cal", "success", 0.5),
        ("model.p.stg_a", "success", 1.0),
        ("model.p.fct_b", "success", 2.0),
        ("test.p.nn_b", "pass", 0.25),
        ("test.p.u_b", "fail", 0.25),
        ("unit_test.p.fct_b.t", "pass", 0.5),
    ]
    run_results = {
        "elapsed_time": 9.3,
        "results": [{"unique_id": u, "status": s, "execution_time": t} for u, s, t in results],
    }
    assert layer_lines(run_results, manifest) == [
        "dbt seeds: 1 seed passed in 0.5 s",
        "dbt staging: 1 model passed in 1.0 s",
        "dbt marts: 1 model, 2 tests, 1 unit test (1 fail, 3 pass) in 3.0 s",
        "dbt: 1 seed, 2 models, 2 tests, 1 unit test (1 fail, 5 pass) in 9.3 s",
    ]


def test_checks_read_as_rules_and_descriptions_keep_angle_brackets():
    accepted = {
        "test_metadata": {
            "name": "accepted_values",
            "kwargs": {"column_name": "rag", "values": ["Green", "Red"]},
        }
    }
    assert check_description(accepted) == "`rag` is one of: Green, Red"
    assert check_description({"description": "every series has a row", **accepted}) == (
        "every series has a row"
    )
    singular = {"original_file_path": "dbt_project/tests/assert_x.sql", "name": "assert_x"}
    assert check_description(singular) == (
        "singular dbt test dbt_project/tests/assert_x.sql returns no rows"
    )
    assert markdown_text("reports/<quarter>/") == "reports/&lt;quarter&gt;/"


def test_quiet_filter_keeps_feed_progress_and_warnings_drops_file_lines(monkeypatch):
    quiet = console._Quiet()

    def record(name: str, level: int, msg: str, args: tuple = ()) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, msg, args, None)

    per_file = ("idva", 1, 2, "idva/q1.csv", "loaded", " 10 rows")
    assert not quiet.filter(record("csp.ingest", logging.INFO, console.PER_FILE_FORMAT, per_file))
    assert quiet.filter(record("csp.ingest", logging.INFO, "[%s] %d files in %.1fs", ("i", 2, 1.0)))
    assert quiet.filter(record("csp.ingest", logging.WARNING, "partial quarter"))
    assert not quiet.filter(
        record("dagster.builtin", logging.WARNING, "Logging an AssetObservation")
    )
    assert quiet.filter(record("dagster.builtin", logging.ERROR, "boom"))
    monkeypatch.setenv("CSP_LOG_LEVEL", "warning")
    assert console.log_level() == "WARNING" and console.log_level(verbose=True) == "DEBUG"
    assert console.run_config("INFO")["loggers"]["console"]["config"]["log_level"] == "ERROR"


def test_deliveries_after_the_as_of_date_travel_to_the_serving_copy():
    from datetime import date

    import duckdb

    from orchestration.as_of import (
        LateDelivery,
        describe_after_as_of,
        read_meta_table,
        write_meta_table,
    )

    late = [LateDelivery("policeuk_street", 3, date(2026, 12, 1), ("2017-01", "2017-02"))]
    con = duckdb.connect()
    assert read_meta_table(con) == []
    con.execute("create schema meta")
    write_meta_table(con, late)
    assert read_meta_table(con) == late
    assert describe_after_as_of(late, date(2017, 5, 31)) == (
        "3 deliveries received after the as-of date 2017-05-31 are not counted (run with a"
        " later CSP_AS_OF to count them): policeuk_street: 3 files (2017-01, 2017-02)"
    )
    assert describe_after_as_of([], date(2017, 5, 31)).startswith("Every delivery loaded")
