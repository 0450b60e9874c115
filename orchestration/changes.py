"""Is there anything to do?  The nightly schedule asks before it starts a run, the landing
sensor asks every tick, and ``make run`` and the benchmark ask too.

- :func:`pending_files`: landing files the ledger does not hold under the same name,
  size and modification time (the ledger's own rule, ``ingest.ledger.known_files``);
- :func:`build_fingerprint`: what a build was made from (the ledger's last load id, the
  as-of date, the area), recorded beside the warehouse by the ``serving`` asset after
  the publication succeeded (``orchestration/publish.py``);
- :func:`nothing_to_do`: no pending file and the recorded fingerprint still holds;
- :func:`plan_run`: what ``make run`` must rebuild (docs/performance.md, "Rebuild only
  what a delivery touches"): nothing, the feeds with new files and what is downstream of
  them, what depends on the as-of date, or everything.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
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


PROJECT_ROOT = Path(__file__).resolve().parent.parent
# what the dbt build is made of besides the data: its project file, models, macros,
# tests, snapshots and seeds (dbt_project.yml's paths)
DBT_SOURCES = ("dbt_project.yml", "dbt_project", "ingest/reference")


def project_checksum(root: Path = PROJECT_ROOT) -> str:
    """SHA-256 over the dbt project's files (names and bytes; ``target/`` excluded): a
    changed model, macro or seed makes the next run a full build."""
    digest = hashlib.sha256()
    for source in DBT_SOURCES:
        top = root / source
        files = [top] if top.is_file() else sorted(top.rglob("*"))
        for path in files:
            relative = path.relative_to(root)
            if not path.is_file() or "target" in relative.parts[:2]:
                continue
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_fingerprint(settings: Settings, last_load_id: int) -> dict[str, str | int]:
    return {
        "last_load_id": last_load_id,
        "as_of": settings.effective_as_of.isoformat(),
        "area": settings.area_code,
        # dbt reads the home area from the environment (var home_area): a changed home
        # area rebuilds everything, as a changed area does
        "home_area": os.environ.get("CSP_HOME_AREA") or settings.area_code,
        "project": project_checksum(),
    }


def pending_by_feed(settings: Settings) -> dict[str | None, list[str]]:
    """Landing files not in the ledger under the same name, size and modification time,
    by feed (``None``: folders no feed owns).

    Opens the warehouse read-only and hashes nothing: a scan of the landing folder and
    one query, so a nightly with nothing new costs well under a second.
    """
    owned, unowned = discover(Path(settings.landing))
    files = [(feed, p) for feed, paths in owned.items() for p in paths]
    files += [(None, p) for p in unowned]
    if not files:
        return {}
    landing = Path(settings.landing)
    named = [(feed, p, display_name(landing, p, settings.effective_key)) for feed, p in files]
    known: set = set()
    if Path(settings.warehouse).exists():
        con = duckdb.connect(str(settings.warehouse), read_only=True)  # busy: raises
        try:
            known = known_files(con)
        except duckdb.Error:
            known = set()
        finally:
            con.close()
    pending: dict[str | None, list[str]] = {}
    for feed, path, name in named:
        if (name, *size_and_time(path)) not in known:
            pending.setdefault(feed, []).append(name)
    return pending


def pending_files(settings: Settings) -> list[str]:
    """Landing files not in the ledger under the same name, size and modification time."""
    return [name for names in pending_by_feed(settings).values() for name in names]


@dataclass(frozen=True)
class RunPlan:
    """What a run must rebuild: ``skip`` (why nothing), else ``full`` (why everything),
    else only ``feeds`` with new or changed files (``unowned``: files in folders no feed
    owns, recorded by the ledger asset) and what is downstream of them, plus what depends
    on the as-of date when it moved (``as_of_changed``)."""

    skip: str | None = None
    full: str | None = None
    feeds: tuple[str, ...] = ()
    unowned: bool = False
    as_of_changed: bool = False
    files: int = 0

    def describe(self) -> str:
        if self.skip:
            return self.skip
        if self.full:
            return f"full build: {self.full}"
        parts = []
        if self.feeds or self.unowned:
            named = ", ".join(self.feeds) + (" (+ unowned files)" if self.unowned else "")
            parts.append(f"{self.files} new or changed file(s) in {named or 'no feed'}")
        if self.as_of_changed:
            parts.append("the as-of date moved")
        return "partial build: " + " and ".join(parts) + "; the rest is as last published"


def plan_run(settings: Settings) -> RunPlan:
    """Compare the landing folder and the ledger with the last published build."""
    try:
        pending = pending_by_feed(settings)
    except duckdb.Error:  # being written, or damaged: the run's own checks say which
        return RunPlan(full="the warehouse could not be read")
    files = sum(len(names) for names in pending.values())
    recorded = read_build_state(settings)
    if recorded is None:
        return RunPlan(full="no published build is recorded", files=files)
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:  # a run is writing it: let the writer lock decide
        return RunPlan(full="the warehouse could not be read", files=files)
    try:
        last = last_load_id(con)
    except duckdb.Error:
        return RunPlan(full="the ledger could not be read", files=files)
    finally:
        con.close()
    current = build_fingerprint(settings, last)
    if recorded == current and not pending:
        return RunPlan(
            skip=f"no new or changed files in {settings.landing} and the marts were built"
            f" from this ledger (last load {last}) for as-of {recorded['as_of']}, area"
            f" {recorded['area']} and this dbt project"
        )
    for key, why in (
        ("last_load_id", "the ledger holds loads the last published build did not use"),
        ("area", "the area changed"),
        ("home_area", "the home area (CSP_HOME_AREA) changed"),
        ("project", "the dbt project changed"),
    ):
        if recorded.get(key) != current[key]:
            return RunPlan(full=why, files=files)
    return RunPlan(
        feeds=tuple(sorted(feed for feed in pending if feed is not None)),
        unowned=None in pending,
        as_of_changed=recorded.get("as_of") != current["as_of"],
        files=files,
    )


def nothing_to_do(settings: Settings) -> str | None:
    """Why a nightly run can be skipped, or None when it must run.

    Skipped only when no landing file is new or changed *and* the last successful
    build was made from the same ledger, as-of date, area and dbt project (an as-of
    date that moves every day, the default, therefore rebuilds the marts every night).
    """
    return plan_run(settings).skip
