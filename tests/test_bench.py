"""The national benchmark's generator and harness pieces, and the police.uk ingest at
``CSP_AREA=all`` on a small generated national sample (three forces, three months)."""

from __future__ import annotations

import csv
import dataclasses
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bench import procmon, small
from bench.forces import FORCES, authorities, slug
from bench.generate import HEADER, generate
from bench.harness import GB, render, targets, write_doc
from ingest import policeuk_batch
from ingest.loader import ingest_landing

SAMPLE_FORCES = ["Cleveland Police", "Durham Constabulary", "Northumbria Police"]


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("national")
    generate(out, years=3 / 12, rows_per_year=2_000_000, forces=SAMPLE_FORCES)
    return out


def test_every_force_has_authorities_and_a_file_name():
    forces = {row["force"] for row in authorities()}
    assert forces == set(FORCES) and len(FORCES) == 43
    assert slug("Devon & Cornwall Police") == "devon-and-cornwall"
    assert len({slug(f) for f in FORCES}) == 43


def test_generator_writes_police_uk_files(national):
    files = sorted(national.rglob("*.csv"))
    assert [f.name for f in files if f.parent.name == "2014-04"] == [
        "2014-04-cleveland-street.csv",
        "2014-04-durham-street.csv",
        "2014-04-northumbria-street.csv",
    ]
    assert len(files) == 9
    first = files[0].read_text().splitlines()
    assert first[0] == HEADER
    con = duckdb.connect()
    types = dict(
        con.execute(
            'select "Crime type", count(*) from read_csv(?, all_varchar = true) group by 1',
            [[str(f) for f in files]],
        ).fetchall()
    )
    total = sum(types.values())
    assert 0.12 < types["Anti-social behaviour"] / total < 0.22
    assert types["Violence and sexual offences"] / total > 0.2
    again = generate(
        national.parent / "again", years=1 / 12, rows_per_year=2_000_000, forces=SAMPLE_FORCES
    )
    assert again.files == 3
    same = national.parent / "again" / "2014-04" / "2014-04-durham-street.csv"
    assert sorted(same.read_text().splitlines()) == sorted(
        (national / "2014-04" / "2014-04-durham-street.csv").read_text().splitlines()
    )


def _expected_areas(files: list[Path]) -> dict[str, int]:
    prefixes = {row["lsoa_prefix"]: row["area_code"] for row in authorities()}
    counts: dict[str, int] = {}
    for path in files:
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                name = row["LSOA name"]
                if name:
                    code = prefixes[name.rsplit(" ", 1)[0]]
                    counts[code] = counts.get(code, 0) + 1
    return counts


@pytest.mark.parametrize("batched", [True, False])
def test_area_all_keeps_every_known_row_with_its_area(national, settings, batched, monkeypatch):
    landing = Path(settings.landing) / "policeuk_street"
    files = sorted(national.rglob("*.csv"))
    for path in files:
        target = landing / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    if not batched:
        monkeypatch.setattr(policeuk_batch, "BATCH_FILES", 1)
    settings = dataclasses.replace(settings, area_code="all", as_of=date(2014, 8, 31))
    results = ingest_landing(settings, feeds=["policeuk_street"])
    assert {r.status for r in results} == {"loaded"}
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    got = dict(
        con.execute("select area_code, count(*) from raw.policeuk_street group by 1").fetchall()
    )
    assert got == _expected_areas(files)
    assert len(got) >= 9  # Cleveland 4, Durham 2, Northumbria 6 authorities
    # source rows are the rows a person sees (header = row 1), per file
    sample = con.execute(
        "select _file_name, _source_row, crime_id, lsoa_name from raw.policeuk_street"
        " where crime_id is not null order by _load_id, _source_row limit 1 offset 500"
    ).fetchone()
    lines = (landing.parent / sample[0]).read_text().splitlines()
    assert lines[sample[1] - 1].startswith(sample[2]) and sample[3] in lines[sample[1] - 1]
    ledger = con.execute(
        "select count(*), sum(rows_read), sum(rows_loaded + rows_outside_area),"
        " count(distinct scope), min(period_start)::varchar, max(period_end)::varchar"
        " from raw.load_log where status = 'loaded'"
    ).fetchone()
    assert ledger[0] == 9 and ledger[1] == ledger[2] and ledger[3] == 3
    assert ledger[4:] == ("2014-04-01", "2014-06-30")
    con.close()
    # nothing new: every file unchanged, nothing re-read
    assert {r.status for r in ingest_landing(settings, feeds=["policeuk_street"])} == {"unchanged"}


def test_a_broken_file_in_a_batch_is_rejected_alone(national, settings):
    landing = Path(settings.landing) / "policeuk_street"
    files = sorted((national / "2014-04").glob("*.csv"))
    for path in files:
        (landing / path.name).parent.mkdir(parents=True, exist_ok=True)
        (landing / path.name).write_bytes(path.read_bytes())
    broken = landing / files[1].name
    lines = broken.read_text().splitlines()
    lines[5] = lines[5].replace(",2014-04,", ",April,", 1)
    broken.write_text("\n".join(lines) + "\n")
    settings = dataclasses.replace(settings, area_code="all")
    results = {r.file_name: r for r in ingest_landing(settings, feeds=["policeuk_street"])}
    assert sorted(r.status for r in results.values()) == ["loaded", "loaded", "rejected"]
    assert "row 6" in results[f"policeuk_street/{files[1].name}"].error


def test_procmon_measures_the_process_tree(tmp_path):
    child = "x = bytearray(200_000_000); import time; time.sleep(0.5)"
    script = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    measured = procmon.run(["python3", "-c", script], log=tmp_path / "log")
    assert measured.returncode == 0
    assert measured.peak_rss > 150_000_000


def test_render_and_doc_markers(tmp_path):
    step = {"rows": 1000, "bytes": 10_000_000, "ok": True, "detail": {"files": 2}}
    results = {
        "command": "python -m bench --years 1",
        "when": "now",
        "years": 1,
        "rows_per_year": 1000,
        "total_seconds": 60,
        "machine": {k: "x" for k in ("cpu", "ram", "disk", "os", "python", "versions")},
        "steps": [
            {**step, "name": "bare_duckdb_1y", "seconds": 1.0, "peak_rss": 1},
            {**step, "name": "ingest_1y", "seconds": 1.25, "peak_rss": 1},
            {**step, "name": "full_build_1y", "seconds": 3.0, "peak_rss": 2**30, "rows": None},
            {**step, "name": "nightly_nothing_new", "seconds": 20.0, "peak_rss": 1, "rows": None},
        ],
    }
    met = {name: ok for name, _, _, ok in targets(results)}
    assert met["ingest throughput vs bare DuckDB"] is True  # 0.8x
    assert met["full build 1y vs bare DuckDB load"] is False  # 3x
    assert met["nightly skip, nothing new"] is False  # 20 s > 1 s
    doc = tmp_path / "performance.md"
    doc.write_text("# title\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\n## Notes\nkept\n")
    write_doc(doc, render(results))
    text = doc.read_text()
    assert "old" not in text and "kept" in text and "| ingest_1y | 2 | 1,000 |" in text
    assert "| full_build_1y | 2 |  | 0.01 GB | 3.0 s | 3.00x |" in text


def test_small_bench_table_has_every_target_against_bare(tmp_path):
    def step(name, seconds, pipeline=None):
        detail = {"pipeline_seconds": pipeline} if pipeline else {}
        return {"name": name, "seconds": seconds, "peak_rss": GB, "ok": True, "detail": detail}

    results = {
        "command": "python -m bench.small",
        "when": "now",
        "total_seconds": 60,
        "machine": {k: "x" for k in ("cpu", "ram", "disk", "os", "python", "versions")},
        "steps": [
            step("bare_duckdb_sample", 0.5),
            step("first_run", 30.0, pipeline=18.0),
            step("nothing_new", 1.5),
            step("nightly_skip", 1.2),
            step("one_new_month", 12.0, pipeline=8.0),
            step("as_of_moved", 10.0, pipeline=7.0),
        ],
    }
    table = small.render(results)
    assert "| first_run (pipeline) | 18.0 s | 36.00x | <= 20 s | yes |" in table
    assert "| nothing_new (wall) | 1.5 s | 3.00x | <= 5 s | yes |" in table
    assert "| nightly_skip (wall) | 1.2 s | 2.40x | <= 1 s | **no** |" in table
    assert "| one_new_month | 12.0 s | 8.0 s | 24.00x |" in table
    doc = tmp_path / "performance.md"
    doc.write_text("# title\n\n<!-- bench:begin -->\nnational\n<!-- bench:end -->\n")
    small.write_doc(doc, table)
    small.write_doc(doc, table.replace("first_run", "first"))  # rewritten in place
    text = doc.read_text()
    assert "national" in text and text.count(small.BEGIN) == 1 and "| first (pipeline)" in text
