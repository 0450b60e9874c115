"""`make run`'s entry point on real police.uk files: loads every row, and again adds none."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import run
from tests.conftest import FIXTURES

REAL = sorted((FIXTURES / "policeuk").glob("*.csv"))


@pytest.fixture
def real_landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    landing = tmp_path / "extracts"
    (landing / "policeuk_street").mkdir(parents=True)
    for path in REAL:
        shutil.copy(path, landing / "policeuk_street" / path.name)
    monkeypatch.setenv("CSP_LANDING", str(landing))
    monkeypatch.setenv("CSP_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("CSP_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("CSP_AS_OF", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    return landing


def _count(warehouse: Path) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select count(*) from raw.policeuk_street").fetchone()[0]
    finally:
        con.close()


def test_run_twice_on_real_policeuk_files(real_landing, tmp_path, capsys):
    expected = sum(len(p.read_text(encoding="utf-8").splitlines()) - 1 for p in REAL)
    assert run.main([]) == 0
    first = capsys.readouterr().out
    assert _count(tmp_path / "warehouse.duckdb") == expected
    assert f"policeuk_street                loaded           3 {expected:>10,}" in first
    assert "Pipeline csp_nightly succeeded in" in first
    assert not (real_landing / ".csp-sample").exists()  # no sample data mixed in

    assert run.main([]) == 0
    second = capsys.readouterr().out
    assert _count(tmp_path / "warehouse.duckdb") == expected
    assert "(no new or changed files)" in second


def test_sample_is_generated_only_into_the_default_empty_folder(tmp_path, monkeypatch):
    from ingest.config import Settings

    calls = []
    monkeypatch.setattr("ingest.sample_data.generate", lambda landing: calls.append(landing))
    elsewhere = tmp_path / "empty"
    run.prepare_sample(Settings(landing=elsewhere))
    assert calls == []
    default = tmp_path / "data" / "landing"
    monkeypatch.setattr(run, "DEFAULT_LANDING", default)
    run.prepare_sample(Settings(landing=default))
    assert calls == [default]
    default.mkdir(parents=True)
    (default / "something.csv").write_text("x")
    run.prepare_sample(Settings(landing=default))
    assert calls == [default]  # a folder with files in it is never overwritten
