"""Shared fixtures: a throw-away landing folder and warehouse per test."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.loader import FileResult, ingest_landing

# Test files are written a moment before they are loaded: no settling wait, unless a test
# sets Settings.settle_seconds itself (tests/test_ingest_settle.py). Set before any
# Settings is built, so subprocesses and Dagster resources inherit it too.
os.environ["CSP_SETTLE_SECONDS"] = "0"

# a real PostgreSQL server per session for the publish tests (tests/postgres_server.py)
pytest_plugins = ("tests.postgres_server",)

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"


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
