"""The police.uk batch path (``BatchLoader.load_many``): parallel loaders, row numbers,
broken files inside a part, corrections inside a batch, and the superseding repair."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bench.generate import generate
from ingest import policeuk_batch
from ingest.file_load import FileLoader
from ingest.loader import ingest_landing

FORCES = ["Cleveland Police", "Durham Constabulary", "Northumbria Police"]


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(out, years=2 / 12, rows_per_year=600_000, forces=FORCES)
    return out


@pytest.fixture
def area_all(settings):
    return dataclasses.replace(settings, area_code="all", as_of=date(2014, 8, 31))


def _land(national: Path, settings, months=("2014-04", "2014-05")) -> list[Path]:
    landing = Path(settings.landing) / "policeuk_street"
    out = []
    for month in months:
        for path in sorted((national / month).glob("*.csv")):
            target = landing / month / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            out.append(target)
    return out


def _query(settings, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_row_number_is_the_line_a_person_sees(national, area_all):
    files = _land(national, area_all)
    results = ingest_landing(area_all, feeds=["policeuk_street"])
    assert [r.status for r in results] == ["loaded"] * len(files)
    landing = Path(area_all.landing)
    for path in files:
        display = path.relative_to(landing).as_posix()
        lines = path.read_text().splitlines()
        rows = _query(
            area_all,
            "select _source_row, crime_id, lsoa_name, crime_type from raw.policeuk_street"
            " where _file_name = ?",
            [display],
        )
        with_lsoa = sum(1 for r in csv.DictReader(io.StringIO(path.read_text())) if r["LSOA name"])
        assert len(rows) == with_lsoa > 100
        for source_row, crime_id, lsoa, crime_type in rows:
            line = next(csv.reader([lines[source_row - 1]]))
            assert (line[0] or None, line[8], line[9]) == (crime_id, lsoa, crime_type)


def test_the_loaders_run_in_parallel_parts(national, area_all, monkeypatch):
    _land(national, area_all)
    parts: list[int] = []
    real = policeuk_batch.PartLoad._load

    def spy(self, part):
        parts.append(len(part))
        return real(self, part)

    monkeypatch.setattr(policeuk_batch.PartLoad, "_load", spy)
    monkeypatch.setattr(policeuk_batch.BatchLoader, "_threads", lambda self: 2)
    ingest_landing(area_all, feeds=["policeuk_street"])
    assert len(parts) == 2 and sum(parts) == 6


def test_two_broken_files_in_one_part_are_rejected_and_the_rest_loads(national, area_all):
    files = _land(national, area_all)
    for path, bad in ((files[1], ",April,"), (files[4], ",,")):
        lines = path.read_text().splitlines()
        if bad == ",,":  # no "Reported by" on the eighth data row
            lines[8] = (
                lines[8]
                .replace(",Durham Constabulary,", ",,", 1)
                .replace(",Northumbria Police,", ",,", 1)
                .replace(",Cleveland Police,", ",,", 1)
            )
        else:
            lines[20] = lines[20].replace(",2014-04,", bad, 1)
        path.write_text("\n".join(lines) + "\n")
    results = {r.file_name: r for r in ingest_landing(area_all, feeds=["policeuk_street"])}
    landing = Path(area_all.landing)
    broken = {files[1].relative_to(landing).as_posix(), files[4].relative_to(landing).as_posix()}
    assert {n for n, r in results.items() if r.status == "rejected"} == broken
    assert "row 21" in results[files[1].relative_to(landing).as_posix()].error
    assert "row 9" in results[files[4].relative_to(landing).as_posix()].error
    loaded = [r for r in results.values() if r.status == "loaded"]
    assert len(loaded) == 4 and all(r.rows_loaded > 100 for r in loaded)
    total = _query(area_all, "select count(*) from raw.policeuk_street")[0][0]
    assert total == sum(r.rows_loaded for r in loaded)


def test_a_correction_in_the_same_batch_supersedes_the_first_delivery(national, area_all):
    files = _land(national, area_all, months=("2014-04",))
    first = files[0]
    lines = first.read_text().splitlines()
    corrected = first.parent / ("corrected-" + first.name)
    corrected.write_text("\n".join(lines[:-10]) + "\n")  # ten rows withdrawn
    results = {r.file_name: r for r in ingest_landing(area_all, feeds=["policeuk_street"])}
    landing = Path(area_all.landing)
    old, new = (p.relative_to(landing).as_posix() for p in (first, corrected))
    ledger = dict(
        _query(
            area_all, "select file_name, status from raw.load_log where feed = 'policeuk_street'"
        )
    )
    assert ledger[old] == "superseded" and ledger[new] == "loaded"
    assert results[new].notes.endswith(f"; supersedes {old}")
    assert results[new].rows_loaded + results[new].rows_outside_area == len(lines) - 11


def test_a_run_stopped_before_superseding_is_repaired_by_the_next(national, area_all):
    files = _land(national, area_all, months=("2014-04",))
    ingest_landing(area_all, feeds=["policeuk_street"])
    corrected = files[0].parent / ("v2-" + files[0].name)
    corrected.write_text(files[0].read_text().replace("On or near", "Near"))
    ingest_landing(area_all, feeds=["policeuk_street"])
    # undo the superseding, as if the run had stopped after its loads committed
    con = duckdb.connect(str(area_all.warehouse))
    con.execute(
        "update raw.load_log set status = 'loaded', superseded_by = null"
        " where status = 'superseded'"
    )
    con.close()
    results = ingest_landing(area_all, feeds=["policeuk_street"])
    assert {r.status for r in results} == {"unchanged"}
    statuses = _query(
        area_all,
        "select status, count(*) from raw.load_log where feed = 'policeuk_street' group by 1",
    )
    assert dict(statuses) == {"loaded": 3, "superseded": 1}


def test_many_batches_load_in_delivery_order(national, area_all, monkeypatch):
    """Each batch is counted while the one before it loads; load ids still follow the
    delivery order and every row arrives once."""
    files = _land(national, area_all)
    for age, path in enumerate(reversed(files)):  # the last file delivered first
        stamp = 1_700_000_000 - age * 60
        os.utime(path, (stamp, stamp))
    monkeypatch.setattr(policeuk_batch, "BATCH_FILES", 2)
    results = ingest_landing(area_all, feeds=["policeuk_street"])
    landing = Path(area_all.landing)
    delivered = [p.relative_to(landing).as_posix() for p in sorted(files, key=os.path.getmtime)]
    ledger = _query(area_all, "select file_name, rows_loaded from raw.load_log order by load_id")
    assert [name for name, _ in ledger] == delivered
    assert [r.file_name for r in results] == delivered
    rows = _query(area_all, "select _file_name, count(*) from raw.policeuk_street group by 1")
    assert dict(rows) == dict(ledger)


def test_rows_the_line_count_gets_wrong_are_caught_and_loaded_exactly(
    national, area_all, monkeypatch
):
    """A batch counts rows by line ends; a blank line (DuckDB skips it) and a quoted
    value spanning lines make that count wrong. The loaders notice, in the middle of a
    part and at its end, and such files load through the one-file path with DuckDB's
    own count."""
    files = _land(national, area_all)
    blank, spanning = files[2], files[-1]
    lines = blank.read_text().splitlines()
    blank.write_text("\n".join(lines[:50] + [""] + lines[50:]) + "\n")
    lines = spanning.read_text().splitlines()
    fields = next(csv.reader([lines[7]]))
    fields[6] = "On or near\nHigh Street"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    lines[7] = out.getvalue().rstrip("\n")
    spanning.write_text("\n".join(lines) + "\n")
    for order, path in enumerate(files):  # delivered in list order: the blank one mid-part
        os.utime(path, (1_700_000_000 + order, 1_700_000_000 + order))
    monkeypatch.setattr(policeuk_batch.BatchLoader, "_threads", lambda self: 1)  # one part
    real = FileLoader.load
    one_by_one: list[str] = []

    def spy(self, feed, path, sha=None, load_id=None):
        one_by_one.append(path.name)
        return real(self, feed, path, sha, load_id)

    monkeypatch.setattr(FileLoader, "load", spy)
    results = {r.file_name: r for r in ingest_landing(area_all, feeds=["policeuk_street"])}
    assert sorted(one_by_one) == sorted([blank.name, spanning.name])
    assert {r.status for r in results.values()} == {"loaded"}
    con = duckdb.connect()
    landing = Path(area_all.landing)
    for path in files:
        rows = con.execute(
            "select count(*) from read_csv(?, all_varchar = true)", [str(path)]
        ).fetchone()[0]
        result = results[path.relative_to(landing).as_posix()]
        assert result.rows_loaded + result.rows_outside_area == rows
    total = _query(area_all, "select count(*) from raw.policeuk_street")[0][0]
    assert total == sum(r.rows_loaded for r in results.values())
    # the files after the blank one keep their own row numbers
    after = files[3]
    display = after.relative_to(landing).as_posix()
    lines = after.read_text().splitlines()
    for source_row, crime_type in _query(
        area_all,
        "select _source_row, crime_type from raw.policeuk_street where _file_name = ?",
        [display],
    ):
        assert next(csv.reader([lines[source_row - 1]]))[9] == crime_type
