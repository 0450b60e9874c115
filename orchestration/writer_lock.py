"""One writer per warehouse, however it is started: an OS file lock beside the warehouse.

Every writer (``make run``, a run the Dagster daemon launches, any Dagster instance)
takes an exclusive ``fcntl.flock`` on ``<warehouse>.lock`` before it writes, and holds
it to the end of the run.  A second writer waits, bounded by ``CSP_LOCK_WAIT_SECONDS``
(default 3600 s), logging at WARNING every 30 s which process holds the lock, then
stops with ``WriterLockTimeout`` naming it.  The kernel releases a flock when its
holder dies (kill -9, OOM, power loss), so a crash never leaves the lock taken.

Why ``fcntl.flock`` and not the ``filelock`` package: the holder writes who it is
(host, pid, run, since when) into the lock file for the waiter's message, and
``filelock`` truncates the file when it tries to lock it; the rest is ten lines of
standard library.  (POSIX only, like the services this runs as; see docs/operations.md.)

The lock is re-entrant within a process: ``make run`` takes it before it starts the
Dagster run, and the run's ``warehouse`` resource takes it again without waiting.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from ingest.warehouse_file import WAIT_LOG_EVERY_SECONDS, lock_wait_seconds

log = logging.getLogger("csp.lock")

_held: dict[Path, list] = {}  # lock path -> [file object, depth]
_guard = threading.Lock()


class WriterLockTimeout(RuntimeError):
    """The warehouse stayed locked by another writer longer than we may wait."""


def lock_path(warehouse: Path | str) -> Path:
    """``<warehouse>.lock`` beside the warehouse file (e.g. ``warehouse.duckdb.lock``)."""
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(warehouse.name + ".lock")


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux ``/proc``), which tells
    a live process from a later one that was given the same pid; None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` runs (and, given its start time, is the same process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    if started is None:
        return True
    now = process_start(pid)
    return now is None or now == started


def this_process() -> dict[str, str]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": str(pid), "pid_start": process_start(pid) or ""}


def read_holder(path: Path) -> str:
    """Who holds (or last held) the lock, as written into the lock file."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    if not info:
        return "another process"
    run = f" run {info['run']}" if info.get("run") else ""
    return (
        f"{info.get('what', 'a writer')}{run} (pid {info.get('pid')} on {info.get('host')},"
        f" since {info.get('since')})"
    )


def _write_holder(handle, what: str, run: str | None) -> None:
    info = {
        **this_process(),
        "what": what,
        "run": run or "",
        "since": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    with contextlib.suppress(OSError):  # a full disk must not stop the lock itself
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(info))
        handle.flush()


def acquire(warehouse: Path | str, what: str, run: str | None = None, wait: float | None = None):
    """Take the writer lock of ``warehouse`` (re-entrant in this process); returns the
    lock path.  Raises ``WriterLockTimeout`` after ``wait`` seconds."""
    path = lock_path(warehouse)
    with _guard:
        if path in _held:
            _held[path][1] += 1
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
    limit = lock_wait_seconds() if wait is None else wait
    started = time.monotonic()
    last_logged = None
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                holder = read_holder(path)
                if waited >= limit:
                    raise WriterLockTimeout(
                        f"the warehouse {Path(warehouse)} is being written by {holder}; gave"
                        f" up after {waited:.0f}s (CSP_LOCK_WAIT_SECONDS={limit:g}). Run again"
                        " when it has finished."
                    ) from None
                if last_logged is None or time.monotonic() - last_logged >= WAIT_LOG_EVERY_SECONDS:
                    log.warning(
                        "waiting for the warehouse %s: it is being written by %s"
                        " (waited %.0fs of at most %gs)",
                        Path(warehouse),
                        holder,
                        waited,
                        limit,
                    )
                    last_logged = time.monotonic()
                time.sleep(min(1.0, max(0.05, limit - waited)))
    except BaseException:
        handle.close()
        raise
    _write_holder(handle, what, run)
    with _guard:
        _held[path] = [handle, 1]
    return path


def release(warehouse: Path | str) -> None:
    path = lock_path(warehouse)
    with _guard:
        entry = _held.get(path)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] > 0:
            return
        del _held[path]
    handle = entry[0]
    with contextlib.suppress(OSError):
        handle.seek(0)
        handle.truncate()
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()


@contextlib.contextmanager
def writer_lock(
    warehouse: Path | str, what: str, run: str | None = None, wait: float | None = None
) -> Iterator[Path]:
    path = acquire(warehouse, what, run, wait)
    try:
        yield path
    finally:
        release(warehouse)


def held(warehouse: Path | str) -> bool:
    """Whether this process holds the writer lock of ``warehouse``."""
    with _guard:
        return lock_path(warehouse) in _held


__all__ = [
    "WriterLockTimeout",
    "acquire",
    "held",
    "lock_path",
    "process_alive",
    "process_start",
    "release",
    "this_process",
    "writer_lock",
]
