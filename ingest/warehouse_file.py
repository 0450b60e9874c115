"""Opening the warehouse file safely, and writing state files safely.

One home for what every phase (ingest, dbt, checks, publish, ``make run``) needs when it
touches DuckDB files or small state files (see docs/operations.md):

- ``duckdb_config()``: DuckDB's memory cap (``CSP_DUCKDB_MEMORY_LIMIT``, default 2GB);
  DuckDB spills to disk beyond it.  Its own default, 80 % of RAM, let a national
  police.uk batch take 5.5 GiB.
- ``open_warehouse()``: a connection that waits (bounded by ``CSP_LOCK_WAIT_SECONDS``)
  while another process holds DuckDB's file lock, logging at WARNING what it waits for,
  then raises ``WarehouseBusy`` naming the holder; a file DuckDB cannot read raises
  ``WarehouseCorrupt`` with advice instead of a raw traceback.
- ``atomic_write_text()``: temporary file + fsync + rename, so a state file is either
  the old one or the new one, never empty or half written.
- ``disk_full()``: an ENOSPC (or a file-size limit, EFBIG) while writing becomes
  ``DiskFull`` naming the path and the free space left.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

log = logging.getLogger("csp.warehouse")

DEFAULT_MEMORY_LIMIT = "2GB"
DEFAULT_LOCK_WAIT_SECONDS = 3600
WAIT_LOG_EVERY_SECONDS = 30
NO_SPACE = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
NO_SPACE_TEXT = ("no space left on device", "file too large", "disk quota exceeded")
CORRUPT_TEXT = (
    "not a valid duckdb database file",
    "could not read enough bytes",
    "corrupt",
    "checksum",
    "failed to deserialize",
    "serialization error",
)
LOCK_TEXT = ("could not set lock", "conflicting lock")


class WarehouseBusy(RuntimeError):
    """Another process kept the warehouse locked longer than we may wait."""


class WarehouseCorrupt(RuntimeError):
    """DuckDB cannot read the warehouse file."""


class DiskFull(OSError):
    """A write failed for lack of space; the message names the path."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def memory_limit() -> str:
    return os.environ.get("CSP_DUCKDB_MEMORY_LIMIT") or DEFAULT_MEMORY_LIMIT


def duckdb_config() -> dict[str, str]:
    """Connection settings of every DuckDB connection the pipeline opens."""
    return {"memory_limit": memory_limit()}


def lock_wait_seconds() -> float:
    """How long a writer waits for the warehouse (``CSP_LOCK_WAIT_SECONDS``)."""
    value = os.environ.get("CSP_LOCK_WAIT_SECONDS")
    return float(value) if value else float(DEFAULT_LOCK_WAIT_SECONDS)


def is_lock_error(error: BaseException) -> bool:
    return any(text in str(error).lower() for text in LOCK_TEXT)


def is_no_space(error: BaseException) -> bool:
    if isinstance(error, OSError) and error.errno in NO_SPACE:
        return True
    return any(text in str(error).lower() for text in NO_SPACE_TEXT)


def is_corrupt(error: BaseException) -> bool:
    if is_lock_error(error) or is_no_space(error):
        return False
    if isinstance(error, duckdb.SerializationException | duckdb.InternalException):
        return True
    return any(text in str(error).lower() for text in CORRUPT_TEXT)


def lock_holder(error: BaseException) -> str:
    """The process DuckDB names as holding its lock, e.g. '/usr/bin/python3 (PID 123)'."""
    found = re.search(r"lock is held in (.+?\(PID \d+\))", str(error))
    return found.group(1) if found else "another process"


def corrupt_advice(path: Path, error: BaseException) -> str:
    serving = path.resolve().with_name("serving.duckdb")
    return (
        f"the warehouse {path} cannot be read by DuckDB ({error}). It is damaged (a disk"
        " fault, or a copy taken while a run was writing it). Restore it from your"
        " latest backup (docs/operations.md, 'Backup and restore'); or move it aside and"
        " run again: the warehouse is rebuilt from every file in the landing folder."
        f" Until then BI tools keep the last published marts in {serving}."
    )


def no_space_message(path: Path | str, error: BaseException) -> str:
    path = Path(path)
    folder = next((p for p in [path, *path.parents] if p.exists()), Path("/"))
    try:
        free = f"{shutil.disk_usage(folder).free / 1e6:,.0f} MB free"
    except OSError:
        free = "free space unknown"
    return (
        f"disk full writing {path} ({free} on the filesystem of {folder}): {error}."
        " Free space there and run again; nothing needs cleaning up by hand (the last"
        " published serving copy is untouched, and the next run rebuilds and republishes)."
    )


@contextlib.contextmanager
def disk_full(path: Path | str) -> Iterator[None]:
    """Turn a failed write for lack of space into ``DiskFull`` naming ``path``."""
    try:
        yield
    except DiskFull:
        raise
    except (OSError, duckdb.Error) as error:
        if is_no_space(error):
            raise DiskFull(errno.ENOSPC, no_space_message(path, error)) from error
        raise


def open_warehouse(
    path: Path | str, *, read_only: bool = False, wait: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Connect to the warehouse with the memory cap, waiting for DuckDB's file lock.

    Another process holding the file (a run of another Dagster instance, a BI tool or
    a person with a read-only connection, a dbt child of a killed run) is waited for
    up to ``wait`` seconds (default ``CSP_LOCK_WAIT_SECONDS``), with a WARNING every
    30 seconds naming it; then ``WarehouseBusy``.
    """
    path = Path(path)
    limit = lock_wait_seconds() if wait is None else wait
    started = time.monotonic()
    last_logged = None
    pause = 0.2
    while True:
        try:
            with disk_full(path):
                con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
            return con
        except duckdb.Error as error:
            if is_corrupt(error):
                raise WarehouseCorrupt(corrupt_advice(path, error)) from error
            if not is_lock_error(error):
                raise
            waited = time.monotonic() - started
            holder = lock_holder(error)
            if waited >= limit:
                raise WarehouseBusy(
                    f"the warehouse {path} is still locked by {holder} after {waited:.0f}s"
                    f" (CSP_LOCK_WAIT_SECONDS={limit:g}): close that connection (BI tools"
                    " should read serving.duckdb, see docs/operations.md) or wait for it,"
                    " then run again"
                ) from None
            if last_logged is None or time.monotonic() - last_logged >= WAIT_LOG_EVERY_SECONDS:
                log.warning(
                    "the warehouse %s is locked by %s: waiting (%.0fs of at most %gs)",
                    path,
                    holder,
                    waited,
                    limit,
                )
                last_logged = time.monotonic()
            time.sleep(min(pause, max(0.0, limit - waited)))
            pause = min(pause * 2, 5.0)


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync'd and
    renamed over it: a crash or a full disk leaves the old file, never a partial one."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with disk_full(path):
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


__all__ = [
    "DiskFull",
    "WarehouseBusy",
    "WarehouseCorrupt",
    "atomic_write_text",
    "disk_full",
    "duckdb_config",
    "open_warehouse",
]
