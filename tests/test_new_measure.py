"""A count measure added by editing seeds only reaches the marts and the report.

The dbt project is copied to a temporary folder and four seeds get one row each
(``measures``, ``measure_computation``, ``record_count_sources``, ``measure_wording``)
for a new measure, "6.5 MARAC cases heard", counting the MARAC feed the sample
landing folder already delivers.  No SQL and no Python is edited.  ``dbt build`` of
the copy on a copy of the session's sample warehouse must give the series a row for
every quarter of the marts, each usable quarter holding the number of MARAC cases
heard in it (counted here, in Python, from the staging rows), and the report must
list it under its theme, in catalogue order, spoken of with its noun.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from report import build_report, render_html
from report.presentation import series_views
from tests.test_dbt_marts import DBT, REPO, SampleBuild, dbt_env, sample_build

NEW = ("6.5", "total")
SEED_ROWS = {
    "measures": {
        "measure_id": "6.5",
        "series": "total",
        "theme": "Domestic abuse",
        "title": "MARAC cases heard",
        "source": "marac_cases",
        "unit": "count",
        "direction": "monitor",
        "target_rule": "none",
        "owner": "DA service (Harbour)",
    },
    "measure_computation": {
        "measure_id": "6.5",
        "series": "total",
        "method": "record_count",
        "ytd_method": "sum",
        "description": "MARAC cases heard in the quarter",
    },
    "record_count_sources": {
        "measure_id": "6.5",
        "series": "total",
        "feed_name": "marac_cases",
        "description": "MARAC cases heard (home area)",
    },
    "measure_wording": {
        "measure_id": "6.5",
        "series": "total",
        "sort_order": "1000",
        "noun_one": "MARAC case",
        "noun_many": "MARAC cases",
    },
}


def _add_row(seed: Path, values: dict[str, str]) -> None:
    with seed.open(newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    with seed.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerow([values.get(c, "") for c in header])


def _project_with_new_measure(root: Path) -> Path:
    project = root / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, project / name)
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages")
    shutil.copytree(REPO / "dbt_project", project / "dbt_project", ignore=ignore)
    shutil.copytree(REPO / "ingest" / "reference", project / "ingest" / "reference")
    for seed, values in SEED_ROWS.items():
        _add_row(project / "dbt_project" / "seeds" / f"{seed}.csv", values)
    return project


@pytest.fixture(scope="module")
def extended(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    sample = sample_build(tmp_path_factory)
    root = tmp_path_factory.mktemp("new_measure")
    project = _project_with_new_measure(root)
    warehouse = root / "warehouse.duckdb"
    shutil.copy(sample.warehouse, warehouse)
    target = root / "target"
    command = [DBT, "build", "--project-dir", str(project), "--profiles-dir", str(project)]
    command += ["--target-path", str(target), "--log-path", str(root / "logs")]
    command += ["--select", " ".join(f"{seed}+" for seed in SEED_ROWS)]
    result = subprocess.run(
        command, cwd=project, env=dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}{result.stderr}"
    return SampleBuild(warehouse, target, 0.0)


def _fiscal_quarter(day) -> tuple[str, int]:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}/{(start + 1) % 100:02d}", (day.month - 4) % 12 // 3 + 1


def test_the_new_measure_is_counted_in_the_marts(extended: SampleBuild) -> None:
    heard = Counter(
        _fiscal_quarter(day)
        for (day,) in extended.query("select heard_on from staging.stg_marac__cases")
    )
    assert sum(heard.values()) > 0
    rows = extended.query(
        "select f.fiscal_year, f.quarter, f.value, f.data_status, s.is_usable"
        " from marts.fct_measure_quarter f join reference.data_status s on s.code = f.data_status"
        " where f.measure_id = ? and f.series = ? order by f.fiscal_year, f.quarter",
        NEW,
    )
    quarters = extended.query(
        "select count(*) from marts.fct_measure_quarter where measure_id = '1.3'"
        " and area_code = (select area_code from marts.dim_measure where measure_id = ?)",
        NEW[:1],
    )
    assert len(rows) == quarters[0][0] > 0, "one row per quarter, as 1.3 has"
    usable = {(fy, q): value for fy, q, value, _, is_usable in rows if is_usable}
    assert usable, "the sample's MARAC deliveries give usable quarters"
    assert usable == {key: float(heard.get(key, 0)) for key in usable}
    catalogue = extended.query(
        "select title, unit, noun_one, noun_many, source from marts.dim_measure"
        " where measure_id = ? and series = ?",
        NEW,
    )
    assert catalogue == [("MARAC cases heard", "count", "MARAC case", "MARAC cases", "marac_cases")]


def test_the_new_measure_is_in_the_report(extended: SampleBuild) -> None:
    data = build_report(extended.warehouse, "2016/17", 4)
    views = series_views(data)
    keys = [(v.measure_id, v.series) for v in views]
    assert keys[-1] == NEW, "listed after every other series (sort_order 1000)"
    view = views[-1]
    assert view.theme == "Domestic abuse" and view.title == "MARAC cases heard"
    q4 = data.quarter
    value = extended.query(
        "select value from marts.fct_measure_quarter where measure_id = ? and series = ?"
        " and fiscal_year = ? and quarter = ?",
        (*NEW, q4.fiscal_year, q4.quarter),
    )[0][0]
    assert view.cells["value"].number == value
    assert "MARAC cases" in view.commentary, view.commentary
    html = render_html(data)
    assert 'data-series="6.5 total"' in html and "MARAC cases heard" in html
