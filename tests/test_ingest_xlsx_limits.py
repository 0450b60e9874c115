"""Workbook limits: a tiny .xlsx that declares or holds a huge sheet is rejected before it
can take the machine's memory (issue 10: 52 KB took 2.7 GB and two minutes)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ingest.readers import MAX_XLSX_COLUMNS, XLSX_LIMITS

REPO = Path(__file__).resolve().parents[1]
# the hard limits for the bomb
SECONDS, MEGABYTES = 5, 500  # CPU seconds (not wall time: a busy machine must not fail it), MB

PROBE = """
import json, resource, sys, time
from pathlib import Path
import duckdb
from ingest.errors import IngestError
from ingest.feeds import FEEDS
from ingest.readers import staged_file
def peak_mb():
    # VmHWM: this process's own peak (ru_maxrss would also count the parent's memory,
    # which Linux carries over an exec from a vfork, e.g. under a large pytest)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
con = duckdb.connect()
started = time.process_time()
rows = None
try:
    with staged_file(con, Path(sys.argv[1]), FEEDS["asb_satisfaction_survey"], "bomb.xlsx"):
        error = None
        rows = con.execute("select count(*) from _in").fetchone()[0]
except IngestError as exc:
    error = str(exc)
print(json.dumps({"error": error, "rows": rows, "seconds": time.process_time() - started,
                  "max_rss_mb": peak_mb()}))
"""


def xlsx_bomb(path: Path, keep_dimension: bool = True) -> Path:
    """One cell at column XFD on each of 10,000 rows (~50 KB)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["response_id", "survey_date", "case_ref", "satisfied"])
    for row in range(2, 10_002):
        sheet.cell(row=row, column=16_384, value=1)
    book.save(path)
    if not keep_dimension:  # a sheet that does not declare its size (or lies about it)
        plain = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename.startswith("xl/worksheets/"):
                    data = re.sub(rb"<dimension [^>]*/>", b"", data)
                dst.writestr(info.filename, data)
        plain.replace(path)
    return path


def _probe(path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.faults
def test_the_xlsx_bomb_is_rejected_fast_in_little_memory(tmp_path):
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 100_000
    seen = _probe(bomb)
    print(f"declared bomb: {seen}")
    assert seen["error"] == (
        f"bomb.xlsx: a sheet declares 16,384 columns and 10,001 rows; the limit is {XLSX_LIMITS}"
        " (an empty cell far to the right or below the data? delete the unused columns and"
        " rows, or save as CSV UTF-8)"
    )
    assert seen["seconds"] < SECONDS and seen["max_rss_mb"] < MEGABYTES


@pytest.mark.faults
def test_a_sheet_that_hides_its_size_is_read_only_to_the_column_limit(tmp_path):
    bomb = xlsx_bomb(tmp_path / "bomb.xlsx", keep_dimension=False)
    seen = _probe(bomb)
    print(f"undeclared bomb: {seen}")
    # the header is found; no row holds a value within the first columns read
    assert seen["error"] is None and seen["rows"] == 0
    assert seen["max_rss_mb"] < MEGABYTES and seen["seconds"] < SECONDS


def test_a_workbook_that_unpacks_too_large_is_rejected(tmp_path, deliver, ingest):
    book = openpyxl.Workbook()
    book.active.append(["response_id", "survey_date", "case_ref", "satisfied"])
    path = tmp_path / "big.xlsx"
    book.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (101 * 1024 * 1024))
    deliver("asb_satisfaction_survey/big.xlsx", path.read_bytes())
    [result] = ingest()
    assert result.status == "rejected"
    assert "the workbook unpacks to 101 MB; the limit is 100 MB uncompressed" in result.error


def test_the_limits_leave_room_for_real_exports():
    assert MAX_XLSX_COLUMNS >= 50
