"""The production deployment (deploy/, docs/deployment.md) and the backup command:

- every unit file parses, names only known sections and executables/modules that
  exist, and (where systemd-analyze is installed) passes ``systemd-analyze verify``;
- the environment template lists every CSP_* variable the code reads;
- the daemon starts for real from the unit's ExecStart and the template's environment
  against a temporary DAGSTER_HOME, evaluates the project's sensors, writes its
  heartbeat, and stops on SIGTERM to its own process group (slow);
- a backup of the sample warehouse (EXPORT DATABASE, and a file copy), restored into a
  new path, holds every mart and the ledger row for row, and the load-id sequence goes
  on after the last load; restore never overwrites by accident; a backup while a writer
  holds the warehouse fails with a clear message.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.backup import BackupError, backup, prune, restore
from tests.test_dbt_marts import sample_build
from tests.test_sensors import writer_holding

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
INSTALL = "/opt/csp-warehouse"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
SECTIONS = {".service": {"Unit", "Service", "Install"}, ".timer": {"Unit", "Timer", "Install"}}


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(path.read_text())
    return parser


def _exec_start(path: Path) -> list[str]:
    return shlex.split(_unit(path)["Service"]["ExecStart"].replace(INSTALL, str(REPO)))


def _env_template() -> dict[str, str]:
    env = {}
    for line in (DEPLOY / "csp.env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def test_unit_files_parse_and_name_what_exists():
    assert {p.name for p in UNITS} >= {
        "csp-dagster-daemon.service",
        "csp-dagster-webserver.service",
    }
    for path in UNITS:
        unit = _unit(path)
        assert set(unit.sections()) <= SECTIONS[path.suffix], path.name
        assert unit["Unit"]["Description"], path.name
        if path.suffix == ".timer":
            assert (DEPLOY / path.with_suffix(".service").name).exists()
            continue
        service = unit["Service"]
        assert service["EnvironmentFile"] == "/etc/csp-warehouse/csp.env"
        assert service["WorkingDirectory"] == INSTALL
        command = _exec_start(path)
        assert Path(command[0]).name in {"dagster-daemon", "dagster-webserver", "python"}
        assert (REPO / ".venv" / "bin" / Path(command[0]).name).exists()
        module = command[command.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{path.name}: no module {module}"
        if "dagster" in command[0]:
            assert module == "orchestration.definitions"


def test_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:  # the parse test above still ran
        return
    for path in UNITS:
        text = path.read_text().replace(INSTALL, str(REPO))
        text = text.replace("/etc/csp-warehouse/csp.env", str(DEPLOY / "csp.env.example"))
        text = re.sub(r"^(User|Group)=csp$", r"\1=root", text, flags=re.M)
        (tmp_path / path.name).write_text(text)
    names = [str(tmp_path / p.name) for p in UNITS]
    verify = ["systemd-analyze", "verify", "--man=no", *names]
    result = subprocess.run(verify, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_env_template_lists_every_variable_the_code_reads():
    sources = [*REPO.glob("ingest/**/*.py"), *REPO.glob("orchestration/**/*.py")]
    sources += [*REPO.glob("expectations/**/*.py"), *REPO.glob("dbt_project/**/*.sql")]
    sources += [REPO / "profiles.yml", REPO / "dbt_project.yml"]
    used = {v for p in sources for v in re.findall(r"\bCSP_[A-Z_]+[A-Z]\b", p.read_text())}
    text = (DEPLOY / "csp.env.example").read_text()
    listed = set(re.findall(r"^#?(CSP_[A-Z_]+)=", text, flags=re.M))
    assert used - listed == set(), "add these to deploy/csp.env.example"
    assert "DAGSTER_HOME" in _env_template()


@pytest.mark.slow
def test_daemon_starts_from_the_unit_against_a_temporary_dagster_home(tmp_path):
    home, landing = tmp_path / "dagster_home", tmp_path / "landing"
    home.mkdir()
    landing.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **_env_template()}
    env.update(
        DAGSTER_HOME=str(home),
        CSP_LANDING=str(landing),
        CSP_WAREHOUSE=str(tmp_path / "warehouse.duckdb"),
        PYTHONPATH=str(REPO),
    )
    log = tmp_path / "daemon.log"

    def default_signals() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    command = _exec_start(DEPLOY / "csp-dagster-daemon.service")
    with open(log, "w") as out:
        daemon = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=default_signals,
        )
    try:
        deadline = time.monotonic() + 35
        seen = ""
        while time.monotonic() < deadline and daemon.poll() is None:
            seen = log.read_text()
            # the daemon ticks its sensors in no fixed order: wait for both
            if (
                "Sensor landing_folder_sensor skipped: no files in" in seen
                and "Sensor alert_on_rejected_files skipped" in seen
            ):
                break
            time.sleep(0.5)
        assert "Sensor landing_folder_sensor skipped: no files in" in seen, seen[-3000:]
        assert "Sensor alert_on_rejected_files skipped" in seen
        with dg.DagsterInstance.from_config(str(home)) as instance:
            beats = instance.get_daemon_heartbeats()
        assert "SENSOR" in beats and "SCHEDULER" in beats, beats
    finally:
        if daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=30)
    assert "shutting down daemon threads" in log.read_text()  # a clean stop, not a kill


# --------------------------------------------------------------------------------------
# backup and restore


def _tables(warehouse: Path) -> list[str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables()"
            " where schema_name in ('marts', 'raw') order by 1"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


def _same_rows(original: Path, restored: Path, table: str) -> bool:
    con = duckdb.connect(str(restored), read_only=True)
    try:
        con.execute(f"attach '{original}' as original (read_only)")
        for a, b in ((table, f"original.{table}"), (f"original.{table}", table)):
            if con.execute(f"select count(*) from (from {a} except all from {b})").fetchone()[0]:
                return False
        return True
    finally:
        con.close()


@pytest.mark.parametrize("copy", [False, True], ids=["export", "file-copy"])
def test_backup_restores_into_a_new_path_row_for_row(tmp_path_factory, tmp_path, copy):
    build = sample_build(tmp_path_factory)
    original = tmp_path / "warehouse.duckdb"
    shutil.copy2(build.warehouse, original)
    folder = backup(original, tmp_path / "backups" / "warehouse-1", copy=copy)
    moved = shutil.move(folder, tmp_path / "elsewhere")  # a backup still restores once moved
    restored = restore(moved, tmp_path / "restored" / "warehouse.duckdb")

    tables = _tables(original)
    assert "marts.fct_measure_quarter" in tables and "raw.load_log" in tables
    assert _tables(restored) == tables
    for table in tables:
        assert _same_rows(original, restored, table), table
    con = duckdb.connect(str(restored))  # read-write: nextval advances the sequence
    try:
        last = con.execute("select max(load_id) from raw.load_log").fetchone()[0]
        assert con.execute("select nextval('raw.load_id_seq')").fetchone()[0] > last
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()
        assert views[0] > 0
        assert con.execute("select count(*) from staging.stg_idva__referrals").fetchone()[0] > 0
    finally:
        con.close()
    with pytest.raises(BackupError, match="exists"):
        restore(moved, restored)
    assert sorted(p.name for p in restored.parent.iterdir()) == ["warehouse.duckdb"]


def test_backup_refuses_while_a_writer_holds_the_warehouse_and_prunes(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts; create table marts.t as select 1 as x")
    con.close()
    with writer_holding(warehouse), pytest.raises(BackupError, match="being written by a run"):
        backup(warehouse)
    made = [
        backup(warehouse, tmp_path / "backups" / f"warehouse-2026010{i}T000000Z") for i in (1, 2, 3)
    ]
    assert prune(tmp_path / "backups", keep=2) == [made[0]]
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == [m.name for m in made[1:]]
