"""Is there anything to do?  The nightly schedule asks before it starts a run, the landing
sensor asks every tick, and ``make run`` and the benchmark ask too.

- :func:`pending_files`: landing files the ledger does not hold under the same name,
  size and modification time (the ledger's own rule, ``ingest.ledger.known_files``);
- :func:`build_fingerprint`: what a build was made from (the ledger's last load id, the
  as-of date, the area), recorded beside the warehouse by the ``serving`` asset after
  the publication succeeded (``orchestration/publish.py``);
- :func:`nothing_to_do`: no pending file and the recorded fingerprint still holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from ingest.config import Settings
from ingest.landing import discover, display_name
from ingest.ledger import known_files, last_load_id, size_and_time


def build_state_path(settings: Settings) -> Path:
    """Where the last build that was published records what it was built from (written
    atomically by the ``serving`` asset after the publication succeeded)."""
    return Path(settings.warehouse).with_suffix(".last_build.json")


def read_build_state(settings: Settings) -> dict | None:
    """The recorded build fingerprint; None when absent, empty or corrupt (a corrupt
    state file only means "rebuild", never an error)."""
    try:
        recorded = json.loads(build_state_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return recorded if isinstance(recorded, dict) else None


def build_fingerprint(settings: Settings, last_load_id: int) -> dict[str, str | int]:
    return {
        "last_load_id": last_load_id,
        "as_of": settings.effective_as_of.isoformat(),
        "area": settings.area_code,
    }


def pending_files(settings: Settings) -> list[str]:
    """Landing files not in the ledger under the same name, size and modification time.

    Opens the warehouse read-only and hashes nothing: a scan of the landing folder and
    one query, so a nightly with nothing new costs well under a second.
    """
    owned, unowned = discover(Path(settings.landing))
    files = [p for paths in owned.values() for p in paths] + unowned
    if not files:
        return []
    landing = Path(settings.landing)
    names = [display_name(landing, p, settings.effective_key) for p in files]
    if not Path(settings.warehouse).exists():
        return names
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        known = known_files(con)
    except duckdb.Error:
        return names
    finally:
        con.close()
    pending = []
    for path, name in zip(files, names, strict=True):
        if (name, *size_and_time(path)) not in known:
            pending.append(name)
    return pending


def nothing_to_do(settings: Settings) -> str | None:
    """Why a nightly run can be skipped, or None when it must run.

    Skipped only when no landing file is new or changed *and* the last successful
    build was made from the same ledger, as-of date and area (an as-of date that moves
    every day, the default, therefore rebuilds the marts every night).
    """
    if pending_files(settings):
        return None
    recorded = read_build_state(settings)
    if recorded is None:
        return None
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:  # a run is writing it: let the run queue decide
        return None
    try:
        last = last_load_id(con)
    except duckdb.Error:
        return None
    finally:
        con.close()
    if recorded != build_fingerprint(settings, last):
        return None
    return (
        f"no new or changed files in {settings.landing} and the marts were built from"
        f" this ledger for as-of {recorded['as_of']}"
    )
