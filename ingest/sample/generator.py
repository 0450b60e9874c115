"""Deterministic sample agency extracts for Stockton-on-Tees, 2013/14 to 2016/17.

``python -m ingest.sample_data [--out data/landing] [--seed 2017]`` (or ``generate()``)
writes one subfolder per feed of ``ingest.feeds.FEEDS``, with files shaped the way the
agencies deliver them: monthly police exports, quarterly CSVs in Windows-1252 or
UTF-8 with a BOM, one Excel workbook with a title row, a duplicate delivery, a
corrected re-delivery, a late file, extra columns, police.uk street files holding the
neighbouring authorities too.  Each file's modification time is its delivery time.

The records are calibrated: counted by the rules of ``docs/sample_data.md`` they give
every quarter figure of the published 2016/17 report and the earlier years' outturns,
and they are absent exactly where the report says a return was missing or not
available.  Everything is synthetic (no network, one seeded ``random.Random`` stream
per feed); personal references are made-up codes such as ``CR-004512``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from random import Random

from ingest.config import DEFAULT_LANDING, DEMO_PSEUDONYM_KEY, SAMPLE_MARKER
from ingest.feeds import FEEDS
from ingest.sample.files import Landing
from ingest.sample.places import AREA
from ingest.sample.writers import write_maasbt, write_partner_returns, write_police, write_quarterly

log = logging.getLogger("csp.sample_data")

GENERATOR = "ingest.sample_data"
VERSION = "1.0"
DEFAULT_SEED = 2017

# --------------------------------------------------------------------------------------
# Entry points


class LandingNotSampleError(RuntimeError):
    """The landing folder holds files that this generator did not write."""


def marker_text(seed: int) -> str:
    return (
        f"CSP sample data: {GENERATOR} {VERSION}\n"
        f"seed: {seed}\n"
        f"area: {AREA[0]} {AREA[1]}; fiscal years 2013/14 to 2016/17\n"
        "Every record in this folder is synthetic. The personal references in it\n"
        "(caller_ref, victim_ref, client_ref, case_ref) are made-up codes.\n"
        "Unless CSP_PSEUDONYM_KEY is set, the pipeline hashes them with the public demo\n"
        f"pseudonym key '{DEMO_PSEUDONYM_KEY}'. Never use the demo key on real\n"
        "data, and do not add real extracts to this folder: regenerating it deletes them.\n"
    )


def prepare_landing(landing: Path) -> None:
    """Make ``landing`` ready: refuse a folder with foreign files, clear an old sample."""
    if landing.exists() and not landing.is_dir():
        raise LandingNotSampleError(f"{landing} is a file, not a folder")
    marker = landing / SAMPLE_MARKER
    if landing.exists() and any(landing.iterdir()) and not marker.exists():
        raise LandingNotSampleError(
            f"{landing} is not empty and has no {SAMPLE_MARKER} marker: it may hold real"
            " extracts, so the sample data will not be written there. Choose an empty folder"
            " (--out) or move its files away."
        )
    for name in FEEDS:
        shutil.rmtree(landing / name, ignore_errors=True)
    landing.mkdir(parents=True, exist_ok=True)


def generate(landing: Path, seed: int = DEFAULT_SEED) -> dict[str, dict[str, int]]:
    """Write the sample landing folder; return ``{feed: {"files": n, "rows": n}}``."""
    landing = Path(landing)
    prepare_landing(landing)
    (landing / SAMPLE_MARKER).write_text(marker_text(seed), encoding="utf-8")
    out = Landing(landing)
    for step in (write_police, write_maasbt, write_quarterly, write_partner_returns):
        started = time.monotonic()
        step(out, Random(f"{seed}/{step.__name__}"))
        files = sum(t["files"] for t in out.summary.values())
        log.info(
            "%-16s written (%d files so far, %.1fs)",
            step.__name__.removeprefix("write_"),
            files,
            time.monotonic() - started,
        )
    return {name: out.summary.get(name, {"files": 0, "rows": 0}) for name in FEEDS}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_LANDING, help="landing folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    started = time.monotonic()
    try:
        summary = generate(args.out, args.seed)
    except LandingNotSampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sample data (seed {args.seed}) in {args.out}:")
    for feed, tally in summary.items():
        print(f"  {feed:<30} {tally['files']:>4} files {tally['rows']:>9,} rows")
    print(f"done in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
