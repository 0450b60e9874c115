"""A partial run (only what a delivery touches, ``orchestration.changes.plan_run``) publishes
exactly what a full rebuild publishes: for a new month, a corrected file and an as-of
change, one after the other, ``make run`` rebuilds a subset and publishes it; then every
model is rebuilt from scratch (``dbt run --full-refresh``, the pipeline's vars) on a copy
of the same warehouse, and every published mart (the serving copy's rows, equal to the
Parquet files' rows) equals the rebuilt one. The rebuild is dbt alone, not a second
pipeline run: a full run's ingest of the same ledger loads nothing, its checks write no
data and its publication is the same copy of the marts, so the models are what differs."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.ledger import last_load_id
from ingest.sample_data import generate
from orchestration import run
from orchestration.changes import build_fingerprint, build_state_path, plan_run, project_checksum
from tests.conftest import IDVA_HEADER, IDVA_ROWS, csv_text

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


# A mart of the publication history: each run's report freezes the figures it showed
# (orchestration/revisions.py), so the run after it compares against one more publication
# whether it is partial or full; its equality is not a property of the partial build.
PUBLICATION_HISTORY = {"fct_figure_revisions"}


REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))


def rebuilt_marts(data: Path, scratch: Path) -> dict[str, list[tuple]]:
    """Every model rebuilt from scratch on a copy of the warehouse (seeds and ledger as
    they are): each mart's rows, sorted."""
    from orchestration.dbt_assets import dbt_vars  # reads the manifest: not at import

    copy = scratch / "rebuilt.duckdb"
    scratch.mkdir(exist_ok=True)
    shutil.copy(data / "warehouse.duckdb", copy)
    vars_ = json.dumps(dbt_vars(Settings.from_env()), sort_keys=True)
    command = [DBT, "run", "--full-refresh", "--vars", vars_, "--project-dir", str(REPO)]
    command += ["--profiles-dir", str(REPO), "--target-path", str(scratch / "target")]
    command += ["--log-path", str(scratch / "logs")]
    env = {**os.environ, "CSP_WAREHOUSE": str(copy)}
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:]
    con = duckdb.connect(str(copy), read_only=True)
    try:
        tables = [r[0] for r in con.execute("show tables from marts").fetchall()]
        return {
            t: con.execute(f'select * from marts."{t}" order by all').fetchall() for t in tables
        }
    finally:
        con.close()
        copy.unlink()


def partial_then_full(data: Path, capsys) -> dict[str, list[tuple]]:
    assert run.main([]) == 0
    out = capsys.readouterr().out
    assert "Pipeline csp_nightly succeeded" in out
    partial = published(data)
    full = rebuilt_marts(data, data.parent / "scratch")
    assert sorted(partial) == sorted(full)
    for table in full:
        if table in PUBLICATION_HISTORY:
            continue
        assert partial[table] == full[table], f"{table} differs after a full rebuild"
    return partial


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


def _publish_fingerprint(settings: Settings) -> None:
    """What the ``serving`` asset records after a publication (publish.record_published_build)."""
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        last = last_load_id(con)
    finally:
        con.close()
    build_state_path(settings).write_text(json.dumps(build_fingerprint(settings, last)))


def test_the_plan_names_what_changed(settings, deliver, ingest, monkeypatch):
    """plan_run, without a pipeline: skip, partial by feed, as-of moved, full when unsure."""
    assert plan_run(settings).full == "no published build is recorded"
    first = deliver("idva_referrals/q3.csv", csv_text(IDVA_HEADER, IDVA_ROWS), mtime=1_480_000_000)
    ingest()
    _publish_fingerprint(settings)
    assert "no new or changed files" in plan_run(settings).skip

    deliver("idva_referrals/q3.csv", first.read_text() + IDVA_ROWS[0] + "\n", mtime=1_480_000_001)
    deliver("nobody/notes.csv", "a,b\n1,2\n")
    plan = plan_run(settings)
    assert (plan.skip, plan.full, plan.feeds, plan.unowned, plan.files) == (
        None,
        None,
        ("idva_referrals",),
        True,
        2,
    )
    assert "2 new or changed file(s) in idva_referrals (+ unowned files)" in plan.describe()

    moved = dataclasses.replace(settings, as_of=date(2017, 6, 30))
    plan = plan_run(moved)
    assert (plan.full, plan.as_of_changed) == (None, True)

    ingest()  # loads the ledger did not hold when the build was published: full
    assert plan_run(settings).full == "the ledger holds loads the last published build did not use"
    _publish_fingerprint(settings)
    assert plan_run(settings).skip
    other = dataclasses.replace(settings, area_code="E06000001")
    assert plan_run(other).full == "the area changed"
    # the home area reaches dbt through the environment only: changing it rebuilds too
    monkeypatch.setenv("CSP_HOME_AREA", "E06000001")
    assert plan_run(settings).full == "the home area (CSP_HOME_AREA) changed"


def test_the_project_checksum_follows_the_dbt_files(tmp_path):
    (tmp_path / "dbt_project" / "models").mkdir(parents=True)
    (tmp_path / "dbt_project" / "target").mkdir()
    (tmp_path / "dbt_project.yml").write_text("name: x\n")
    model = tmp_path / "dbt_project" / "models" / "m.sql"
    model.write_text("select 1")
    before = project_checksum(tmp_path)
    (tmp_path / "dbt_project" / "target" / "manifest.json").write_text("{}")
    assert project_checksum(tmp_path) == before  # build output is not the project
    model.write_text("select 2")
    assert project_checksum(tmp_path) != before
