"""Real police.uk rows (Open Government Licence v3.0) load as they are."""

from __future__ import annotations

import csv
import shutil
from dataclasses import replace
from pathlib import Path

from tests.conftest import FIXTURES

REAL = sorted((FIXTURES / "policeuk").glob("*.csv"))


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_stockton_row_loads_and_no_other(settings, deliver, ingest, query):
    folder = Path(settings.landing) / "policeuk_street"
    folder.mkdir()
    for path in REAL:
        shutil.copy(path, folder / path.name)
    # a neighbouring authority's rows, as Cleveland's full file also holds them
    neighbours = _rows(REAL[0])[:25]
    for row in neighbours:
        row["LSOA name"] = row["LSOA name"].replace("Stockton-on-Tees", "Middlesbrough")
    with (folder / "2017-01-cleveland-street-middlesbrough.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(neighbours[0]))
        writer.writeheader()
        writer.writerows(neighbours)

    results = ingest()
    expected = {path.name: len(_rows(path)) for path in REAL}
    loaded = {Path(r.file_name).name: r.rows_loaded for r in results if r.status == "loaded"}
    assert {k: loaded[k] for k in expected} == expected
    middlesbrough = next(r for r in results if "middlesbrough" in r.file_name)
    assert middlesbrough.rows_loaded == 0 and middlesbrough.rows_outside_area == 25
    total = sum(expected.values())
    assert query("select count(*), count(distinct area_name) from raw.policeuk_street") == [
        (total, 1)
    ]
    asb = sum(1 for p in REAL for r in _rows(p) if r["Crime type"] == "Anti-social behaviour")
    assert query(
        "select count(*) from raw.policeuk_street where crime_type = 'Anti-social behaviour'"
        " and crime_id is null"
    ) == [(asb,)]
    assert query("select min(month)::varchar, max(month)::varchar from raw.policeuk_street") == [
        ("2017-01-01", "2017-03-01")
    ]
    # running again adds nothing
    assert {r.status for r in ingest()} == {"unchanged"}
    assert query("select count(*) from raw.policeuk_street") == [(total,)]


def test_area_all_keeps_every_known_authority(settings, deliver, ingest, query):
    from ingest.loader import ingest_landing

    folder = Path(settings.landing) / "policeuk_street"
    folder.mkdir()
    rows = _rows(REAL[0])[:10]
    for row in rows[:4]:
        row["LSOA name"] = row["LSOA name"].replace("Stockton-on-Tees", "Hartlepool")
    with (folder / "mixed.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ingest_landing(replace(settings, area_code="all"))
    assert query(
        "select area_code, area_name, count(*) from raw.policeuk_street group by all order by 1"
    ) == [("E06000001", "Hartlepool", 4), ("E06000004", "Stockton-on-Tees", 6)]
