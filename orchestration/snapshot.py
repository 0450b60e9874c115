"""``make snapshot``: a consistent copy of the warehouse to query (or back up) at leisure.

Takes the warehouse's writer lock (so it waits, bounded, for a run that is writing and
no run starts while it copies), copies the file to a temporary name beside it and renames
it to ``warehouse.snapshot.duckdb``.  Open the snapshot with any tool for as long as you
like: the nightly never waits for it.  docs/operations.md.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from ingest.config import Settings
from ingest.warehouse_file import disk_full
from orchestration.writer_lock import writer_lock


def snapshot_path(warehouse: Path | str) -> Path:
    warehouse = Path(warehouse).resolve()
    return warehouse.with_name(f"{warehouse.stem}.snapshot{warehouse.suffix}")


def take_snapshot(warehouse: Path | str, target: Path | None = None) -> Path:
    warehouse = Path(warehouse).resolve()
    target = target or snapshot_path(warehouse)
    temporary = target.with_name(f".{target.name}.tmp")
    with writer_lock(warehouse, "make snapshot"), disk_full(target):
        try:
            shutil.copyfile(warehouse, temporary)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
    return target


def main() -> int:
    warehouse = Settings.from_env().warehouse
    if not Path(warehouse).exists():
        print(f"no warehouse at {warehouse}", file=sys.stderr)
        return 1
    print(f"snapshot of {warehouse}: {take_snapshot(warehouse)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
