"""A partial run (only what a delivery touches, ``orchestration.changes.plan_run``) publishes
exactly what a full rebuild publishes: for a new month, a corrected file and an as-of
change, ``make run`` rebuilds a subset, then ``make run --full`` rebuilds everything from
the same ledger, and every published mart (the serving copy's rows and the Parquet
files' rows) is the same."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.sample_data import generate
from orchestration import run
from orchestration.changes import plan_run

HELD_BACK = Path("police_asb_incidents") / "asb_incidents_2017-03.csv"


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "landing"
    generate(landing)
    monkeypatch.setenv("CSP_LANDING", str(landing))
    monkeypatch.setenv("CSP_WAREHOUSE", str(tmp_path / "data" / "warehouse.duckdb"))
    monkeypatch.setenv("CSP_PSEUDONYM_KEY", "test-key")
    monkeypatch.setenv("CSP_AS_OF", "2017-05-31")
    monkeypatch.setenv("CSP_SETTLE_SECONDS", "0")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return landing


def published(data: Path) -> dict[str, list[tuple]]:
    """Every published mart's rows, sorted: from the serving copy and from its Parquet."""
    con = duckdb.connect(str(data / "serving.duckdb"), read_only=True)
    try:
        tables = [r[0] for r in con.execute("show tables from marts").fetchall()]
        rows = {
            t: con.execute(f'select * from marts."{t}" order by all').fetchall() for t in tables
        }
        for table in tables:
            parquet = str(data / "parquet" / f"{table}.parquet")
            assert (
                con.execute("select * from read_parquet(?) order by all", [parquet]).fetchall()
                == (rows[table])
            ), table
    finally:
        con.close()
    return rows


def partial_then_full(data: Path, capsys) -> dict[str, list[tuple]]:
    assert run.main([]) == 0
    out = capsys.readouterr().out
    assert "Pipeline csp_nightly succeeded" in out
    partial = published(data)
    assert run.main(["--full"]) == 0
    full = published(data)
    assert sorted(partial) == sorted(full)
    for table in full:
        assert partial[table] == full[table], f"{table} differs after a full rebuild"
    return full


def correct_a_return(landing: Path) -> Path:
    """Change one value of the latest partner return that has one, re-sent a second later."""
    for path in sorted((landing / "partner_returns").glob("*.csv"), reverse=True):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = lines[0].split(",")
        column = header.index("value")
        for number, line in enumerate(lines[1:], start=1):
            cells = line.split(",")
            if len(cells) == len(header) and cells[column].replace(".", "").isdigit():
                cells[column] = str(float(cells[column]) + 1)
                lines[number] = ",".join(cells)
                stat = path.stat()
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                # re-sent a second later (still long before the as-of date): a new size or
                # time is what makes the ledger look at a file again (ingest.ledger)
                later = stat.st_mtime_ns + 1_000_000_000
                os.utime(path, ns=(later, later))
                return path
    raise AssertionError("no partner return with a value to correct")


@pytest.mark.slow
def test_partial_runs_publish_what_a_full_build_publishes(sample, tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    aside = tmp_path / "aside.csv"
    shutil.move(sample / HELD_BACK, aside)
    assert run.main([]) == 0
    capsys.readouterr()
    assert plan_run(Settings.from_env()).skip  # nothing new: skipped before Dagster

    # a new month of one feed: only that feed (and the ledger) downstream
    shutil.move(aside, sample / HELD_BACK)
    plan = plan_run(Settings.from_env())
    assert (plan.full, plan.feeds, plan.as_of_changed) == (None, ("police_asb_incidents",), False)
    before = published(data)
    after = partial_then_full(data, capsys)
    assert after != before  # the month changed the marts

    # a corrected file: a new load of partner_returns supersedes the old one
    correct_a_return(sample)
    plan = plan_run(Settings.from_env())
    assert (plan.full, plan.feeds) == (None, ("partner_returns",))
    before = after
    after = partial_then_full(data, capsys)
    assert after != before

    # the as-of date moves: what reads it is rebuilt, no ingest
    monkeypatch.setenv("CSP_AS_OF", "2017-06-30")
    plan = plan_run(Settings.from_env())
    assert (plan.full, plan.feeds, plan.as_of_changed) == (None, (), True)
    before = after
    after = partial_then_full(data, capsys)
    assert after["fct_missing_returns"] != before["fct_missing_returns"]  # days overdue moved
