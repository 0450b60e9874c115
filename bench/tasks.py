"""The single steps the harness times, each run as its own process.

python -m bench.tasks bare <db> <glob>       bare DuckDB: read_csv into a table
python -m bench.tasks ingest                 the project's police.uk ingest (CSP_* env)
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path


def bare(db: str, pattern: str) -> dict:
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db)
    started = time.monotonic()
    con.execute(f"create table street as select * from read_csv({pattern}, header = true)")
    rows = con.execute("select count(*) from street").fetchone()[0]
    con.close()
    return {"rows": rows, "seconds": time.monotonic() - started}


def ingest() -> dict:
    from ingest.config import Settings
    from ingest.loader import ingest_landing

    settings = Settings.from_env()
    started = time.monotonic()
    results = ingest_landing(settings, feeds=["policeuk_street"])
    return {
        "files": len(results),
        "loaded": sum(r.status == "loaded" for r in results),
        "rejected": [r.error for r in results if r.status == "rejected"][:5],
        "rows_loaded": sum(r.rows_loaded for r in results),
        "rows_outside_area": sum(r.rows_outside_area for r in results),
        "seconds": time.monotonic() - started,
    }


def nightly() -> int:
    """What the nightly schedule does: skip when there is nothing to do, else run the job."""
    from ingest.config import Settings
    from orchestration.changes import nothing_to_do

    started = time.monotonic()
    reason = nothing_to_do(Settings.from_env())
    if reason:
        print(f"skipped: {reason}")
        print("RESULT " + json.dumps({"skipped": True, "seconds": time.monotonic() - started}))
        return 0
    from orchestration.run import main as run

    return run([])


def main(argv: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    if argv[0] == "nightly":
        sys.exit(nightly())
    if argv[0] == "bare":
        result = bare(argv[1], argv[2])
    elif argv[0] == "ingest":
        result = ingest()
    else:
        raise SystemExit(__doc__)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
