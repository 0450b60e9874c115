"""Load the landing folder into the warehouse's ``raw`` schema: the entry points.

Every file seen gets one row in ``raw.load_log``.  A file loads in its own
transaction: either all of its rows and its ledger row land, or none of its rows
do and the ledger says why (``rejected``, with file, row and column).  Other
files and feeds carry on; nothing loaded before is touched, except that a
corrected file for the same feed, period and scope marks the earlier load
``superseded`` (its rows stay in the raw table as history).

The parts, one job each:

- ``ingest/ledger.py``: ``raw.load_log`` rows, unchanged files, duplicates,
  superseding, the ledger's last load id;
- ``ingest/file_load.py``: one file in one transaction;
- ``ingest/policeuk_batch.py``: the police.uk feeds, many files per statement;
- ``ingest/areas.py``: the local authorities kept (``CSP_AREA``);
- this module: connecting, and loading a feed, the unowned files or the whole folder.

Whether a nightly run has anything to do is orchestration's question
(``orchestration/changes.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from ingest.areas import resolve_area
from ingest.config import SAMPLE_MARKER, Settings, warn_if_demo_key_on_real_data
from ingest.feeds import FEEDS
from ingest.file_load import FileLoader
from ingest.landing import (
    discover,
    held_back,
    link_message,
    scan,
    settled_only,
    unsettled_files,
)
from ingest.ledger import FileResult, supersede
from ingest.policeuk_batch import BatchLoader
from ingest.pseudonymise import check_key
from ingest.pseudonymise import register as register_pseudonymiser
from ingest.schema import ensure_schema

log = logging.getLogger("csp.ingest")


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """The warehouse for writing, with the memory cap; waits (bounded) for DuckDB's file
    lock and explains a damaged file or a full disk (ingest/warehouse_file.py)."""
    from ingest.warehouse_file import disk_full, open_warehouse

    Path(settings.warehouse).parent.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(settings.warehouse)
    with disk_full(settings.warehouse):
        ensure_schema(con)
    register_pseudonymiser(con, settings.effective_key)
    return con


def ingest_feed(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    feed_name: str,
    files: Iterable[Path] | None = None,
) -> list[FileResult]:
    """Load every new file of one feed's landing folder."""
    feed = FEEDS[feed_name]
    check_key(con, settings)
    if files is None:
        files = discover(Path(settings.landing))[0][feed_name]
    files = settled_only(settings, list(files))
    loader = FileLoader(con, settings)
    supersede(con, feed.name, None)  # repairs a run stopped between a commit and its superseding
    results = []
    started = time.monotonic()
    if feed.area_filtered:  # police.uk: national volumes, many files a month
        batched = BatchLoader(loader).load_many(feed, files)
    for index, path in enumerate(files, start=1):
        result = batched[index - 1] if feed.area_filtered else loader.load(feed, path)
        results.append(result)
        if result.status != "unchanged":
            log.info(
                "[%s] %d/%d %s: %s%s",
                feed_name,
                index,
                len(files),
                result.file_name,
                result.status,
                f" {result.rows_loaded:,} rows" if result.status == "loaded" else "",
            )
    if files:
        log.info("[%s] %d files in %.1fs", feed_name, len(files), time.monotonic() - started)
    return results


def record_unowned(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[FileResult]:
    """Ledger rows for settled files no feed owns; each symbolic link is logged (WARNING)."""
    check_key(con, settings)
    found = scan(Path(settings.landing))
    for link in found.links:
        log.warning("skipped: %s", link_message(settings, link))
    loader = FileLoader(con, settings)
    return [loader.record_unowned(p) for p in settled_only(settings, found.unowned)]


def ingest_landing(settings: Settings, feeds: Iterable[str] | None = None) -> list[FileResult]:
    """Load every new file of the landing folder (all feeds unless ``feeds`` is given)."""
    warn_if_demo_key_on_real_data(settings)
    landing = Path(settings.landing)
    owned, _ = discover(landing)
    con = connect(settings)
    try:
        results = []
        for name in feeds or FEEDS:
            results += ingest_feed(con, settings, name, owned[name])
        if feeds is None:
            results += record_unowned(con, settings)
        return results
    finally:
        con.close()


__all__ = [
    "SAMPLE_MARKER",
    "FileResult",
    "connect",
    "discover",
    "held_back",
    "ingest_feed",
    "ingest_landing",
    "record_unowned",
    "resolve_area",
    "unsettled_files",
]
