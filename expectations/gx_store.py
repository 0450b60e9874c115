"""GX's file stores, made safe against a crash or a full disk mid-write.

GX's ``TupleFilesystemStoreBackend`` opens each file for writing in place, so a process
killed (or a disk filling up) mid-write leaves an empty or cut file, and from then on
every context that reads the store fails: a zero-byte suite gives ``ExpectationSuite()
argument after ** must be a mapping, not NoneType`` on every later run.

- :class:`AtomicFilesystemStoreBackend` writes each file to a temporary file in the same
  folder and renames it over the old one (``os.replace``), so a reader sees the old file
  or the new one, never half of one.  ``expectations.runner.make_context`` uses it for the
  expectation and validation-result stores and for the Data Docs site.
- :func:`discard_corrupt` runs before each context is made: a suite or validation result
  that is not a JSON object (empty, cut, garbage) and a store id file that is not GX's
  ``store_backend_id = <uuid>`` line are removed, with a warning naming the file.  Nothing
  is lost by that: every suite is declared in code and written again by the check that
  uses it (``run_suites`` adds or updates each suite it runs), a result is one run's
  history (the older ones stay), and GX writes a new store id.  Left-over temporary files
  of an interrupted write are removed too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from pathlib import Path

from great_expectations.data_context.store.tuple_store_backend import (
    TupleFilesystemStoreBackend,
)

log = logging.getLogger("csp.expectations")

TEMP_SUFFIX = ".tmp"
STORE_ID_FILE = ".ge_store_backend_id"
_STORE_ID = re.compile(r"store_backend_id = [0-9a-fA-F-]{36}\s*")
# mkstemp creates 0600 files; a renamed file gets the mode a plain open() would have given
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


def write_atomic(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class AtomicFilesystemStoreBackend(TupleFilesystemStoreBackend):
    """GX's filesystem store backend, with every write a temporary file and a rename."""

    def _set(self, key, value, **kwargs):
        if not isinstance(key, tuple):
            key = key.to_tuple()
        filepath = os.path.join(self.full_base_directory, self._convert_key_to_filepath(key))
        write_atomic(filepath, value.encode("utf-8") if isinstance(value, str) else value)
        return filepath


def _readable(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8")
        if path.name == STORE_ID_FILE:
            return _STORE_ID.fullmatch(text) is not None
        return isinstance(json.loads(text), dict)
    except (OSError, UnicodeDecodeError, ValueError):
        return False


def discard_corrupt(store: Path | str) -> list[Path]:
    """Remove unreadable suites, results and store ids under ``store`` (``<data>/gx``)."""
    removed = []
    for path in sorted(Path(store).rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith(TEMP_SUFFIX):
            path.unlink(missing_ok=True)
            continue
        if path.suffix != ".json" and path.name != STORE_ID_FILE:
            continue
        if not _readable(path):
            log.warning(
                "removed an empty or corrupt GX store file %s (an interrupted write, a full"
                " disk?); suites are rebuilt from code on the next check",
                path,
            )
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
