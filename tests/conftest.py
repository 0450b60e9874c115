"""Shared fixtures: a throw-away landing folder and warehouse per test.

Also what lets ``make test`` run the suite on two pytest-xdist workers (``-n 2 --dist
loadfile``): each worker gets its own ``DAGSTER_HOME``, the dbt manifest in the project's
target path is parsed at most once and under a lock, and the files holding slow tests are
handed out first so the two workers finish together."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from ingest.config import Settings
from ingest.loader import FileResult, ingest_landing
from tests import durations

# Test files are written a moment before they are loaded: no settling wait, unless a test
# sets Settings.settle_seconds itself (tests/test_ingest_settle.py). Set before any
# Settings is built, so subprocesses and Dagster resources inherit it too.
os.environ["CSP_SETTLE_SECONDS"] = "0"

# a real PostgreSQL server per session for the publish tests (tests/postgres_server.py)
pytest_plugins = ("tests.postgres_server",)

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"

# Under pytest-xdist every worker is a process of its own: a shared DAGSTER_HOME (`make`
# exports data/dagster_home) would let one worker's runs hold the other's pool slot.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and os.environ.get("DAGSTER_HOME"):
    _shared = Path(os.environ["DAGSTER_HOME"])
    _home = _shared.with_name(f"{_shared.name}-{_WORKER}")
    _home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "dagster.yaml", _home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(_home)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On xdist workers, the long files come first (each file's own order kept): the
    files with a ``slow`` or ``faults`` test, then the rest, each group sorted by the
    files' seconds in a recent run (tests/durations.py), longest first. ``make test`` passes
    ``--no-loadscope-reorder``, or xdist would reorder the files by their number of tests
    and start the long files with few tests (the kill chain, the partial-run proof) last."""
    if not _WORKER:
        return
    heavy = {item.path for item in items if item.get_closest_marker("slow")}
    heavy |= {item.path for item in items if item.get_closest_marker("faults")}
    seconds = durations.load()

    def order(item: pytest.Item) -> tuple[bool, float]:
        return item.path not in heavy, -seconds.get(item.path.relative_to(REPO).as_posix(), 0)

    items.sort(key=order)  # stable: the order within a file is kept


def session_cache(
    factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """A folder built once per test session and shared by every xdist worker: the first
    caller runs ``build(folder)`` under a file lock, the others wait for it and reuse the
    folder. Callers copy what they change (``shutil.copytree``, which keeps the landing
    files' times) and never write into it. It lives beside the workers' base temporary
    folders (one session's parent folder; without xdist, the session's own one)."""
    base = factory.getbasetemp()
    root = base.parent if _WORKER else base
    folder = root / f"cache-{name}"
    done = folder / ".built"
    with FileLock(str(root / f"cache-{name}.lock")):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # a build that failed part-way
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


def parse_manifest_if_stale() -> None:
    """The code location reads dbt's manifest: build it as `make manifest` does, unless it
    is newer than every file of the dbt project. One process at a time (xdist workers):
    dbt rewrites the file in place, and a reader must not see it half written."""
    target = REPO / "dbt_project" / "target"
    target.mkdir(parents=True, exist_ok=True)
    manifest = target / "manifest.json"
    sources = [REPO / "dbt_project.yml", REPO / "profiles.yml"]
    for folder in ("models", "seeds", "macros", "tests", "snapshots"):
        sources += (REPO / "dbt_project" / folder).rglob("*")
    sources += (REPO / "ingest" / "reference").glob("*.csv")
    with (target / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        newest = max(p.stat().st_mtime for p in sources if p.is_file())
        if manifest.exists() and manifest.stat().st_mtime > newest:
            return
        command = [str(Path(sys.executable).with_name("dbt")), "parse", "--quiet"]
        command += ["--project-dir", ".", "--profiles-dir", "."]
        command += ["--target-path", "dbt_project/target"]
        parsed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert parsed.returncode == 0, parsed.stdout + parsed.stderr


def _design_dir() -> Path:
    """The design folder whose published figures the tests reproduce.

    ``CSP_DESIGN_DIR``, else ``../shared/design`` beside the checkout (as in CI), else the
    committed copies in dbt_project/seeds (a checkout on its own).
    """
    configured = os.environ.get("CSP_DESIGN_DIR")
    if configured:
        return Path(configured)
    shared = Path(__file__).resolve().parents[2] / "shared" / "design"
    return shared if (shared / "published_figures.csv").exists() else SEEDS


DESIGN = _design_dir()

IDVA_HEADER = (
    "referral_id,referral_date,client_ref,risk_level,assessment_outcome,engagement,"
    "referred_to_programme"
)
IDVA_ROWS = (
    "R001,03/10/2016,CL-0001,high,worked_with,engaged,Y",
    "R002,04/10/2016,CL-0002,medium,worked_with,declined,N",
    "R003,05/10/2016,CL-0003,standard,not_worked_with,unable_to_contact,N",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    landing = tmp_path / "landing"
    landing.mkdir()
    return Settings(
        landing=landing,
        warehouse=tmp_path / "warehouse.duckdb",
        as_of=date(2017, 5, 31),
        area_code="E06000004",
        pseudonym_key="test-key",
    )


@pytest.fixture
def deliver(settings: Settings) -> Callable[..., Path]:
    """Write a file into the landing folder: deliver('idva_referrals/q3.csv', text)."""

    def _deliver(
        relative: str, content: str | bytes, encoding: str = "utf-8", mtime: float | None = None
    ) -> Path:
        path = Path(settings.landing) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode(encoding)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path

    return _deliver


@pytest.fixture
def ingest(settings: Settings) -> Callable[[], list[FileResult]]:
    return lambda: ingest_landing(settings)


@pytest.fixture
def query(settings: Settings) -> Callable[..., list[tuple]]:
    def _query(sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return _query


def csv_text(header: str, rows: tuple[str, ...] | list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


def one(results: list[FileResult], file_name: str) -> FileResult:
    matches = [r for r in results if r.file_name == file_name]
    assert len(matches) == 1, f"{file_name} not in {[r.file_name for r in results]}"
    return matches[0]
