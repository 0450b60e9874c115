"""The dbt marts on the sample data reproduce the published 2016/17 report.

Once per session the sample landing folder is generated into a temporary folder,
ingested, and built with ``dbt build`` (a subprocess of the venv's dbt, with
CSP_WAREHOUSE, the target path and the log path all in the temporary folder, so
the user's data/ and dbt_project/target are never touched).  The expectations are
read at test time from the design's own ``published_figures.csv`` and
``measures.csv`` (``../shared/design``), so they cannot drift:

- every quarter figure (value, last_year_value, numerator, denominator) is
  reproduced by ``fct_measure_quarter`` (counts exactly, percentages to 0.1 point);
- every year-end target status the report states is ``fct_target_status`` at Q4;
- ``fct_missing_returns`` for 2016/17 holds exactly the report's return statuses,
  each with its status and owner, and nothing where the report gives a figure;
- ``fct_published_reconciliation`` lists exactly the figures that disagree with
  the report's own arithmetic (recomputed independently in Python) or with the
  marts, with both numbers (tests/test_dbt_reconciliation.py).

The dbt project as Dagster assets is tested in tests/test_dbt_assets.py.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.loader import ingest_landing
from ingest.sample_data import generate
from tests.conftest import DESIGN, SEEDS, session_cache

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
AS_OF = date(2017, 5, 31)
AREA = ("E06000004", "Stockton-on-Tees")
REPORT_YEAR = "2016/17"
QUARTER_FIGURES = ("value", "last_year_value", "numerator", "denominator")
COUNT_FIGURES = ("change", "ytd_change", "ytd_value", "ytd_last_year", "numerator", "denominator")
PERCENT_TOLERANCE = 0.1 + 1e-9


def _read(name: str) -> list[dict[str, str]]:
    with (DESIGN / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PUBLISHED = _read("published_figures.csv")
MEASURES = {(m["measure_id"], m["series"]): m for m in _read("measures.csv")}


def _id(*parts: object) -> str:
    return " ".join(str(p) for p in parts)


# --------------------------------------------------------------------------------------
# The build, once per session (tests/test_dbt_unit.py shares it)


@dataclass(frozen=True)
class SampleBuild:
    warehouse: Path
    target: Path
    seconds: float

    def query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    def run_results(self) -> list[dict]:
        return json.loads((self.target / "run_results.json").read_text())["results"]


def dbt_env(warehouse: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CSP_WAREHOUSE": str(warehouse),
        "CSP_AS_OF": AS_OF.isoformat(),
        "CSP_AREA": AREA[0],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


_BUILDS: dict[int, SampleBuild] = {}


def sample_build(factory: pytest.TempPathFactory) -> SampleBuild:
    """Generate, ingest and ``dbt build`` the sample data once per test session (shared by
    the xdist workers, ``tests.conftest.session_cache``); each worker reads its own copy."""
    if id(factory) not in _BUILDS:
        cache = session_cache(factory, "dbt_sample", _build)
        root = factory.mktemp("dbt_sample")
        shutil.copytree(cache, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("logs"))
        target = root / "target"
        seconds = json.loads((target / "run_results.json").read_text())["elapsed_time"]
        _BUILDS[id(factory)] = SampleBuild(root / "warehouse.duckdb", target, seconds)
    return _BUILDS[id(factory)]


def _build(root: Path) -> None:
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate(landing)
    ingest_landing(Settings(landing=landing, warehouse=warehouse, as_of=AS_OF, area_code=AREA[0]))
    target = root / "target"
    command = [DBT, "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(target), "--log-path", str(root / "logs")]
    result = subprocess.run(
        command, cwd=REPO, env=dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}{result.stderr}"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


# --------------------------------------------------------------------------------------
# Seeds are copies of the design files


@pytest.mark.parametrize("name", ["measures.csv", "published_figures.csv"])
def test_seed_is_the_design_file(name: str) -> None:
    if DESIGN == SEEDS:
        pytest.skip("the design folder ../shared/design is not beside this checkout")
    assert (SEEDS / name).read_bytes() == (DESIGN / name).read_bytes(), (
        f"dbt_project/seeds/{name} differs from ../shared/design/{name}: copy it again"
    )


# --------------------------------------------------------------------------------------
# fct_measure_quarter reproduces every quarter figure


def _quarter_figures() -> list:
    return [
        pytest.param(
            r["measure_id"],
            r["series"],
            r["fiscal_year"],
            int(r["period"][1]),
            r["figure"],
            float(r["value"]),
            id=_id(r["measure_id"], r["series"], r["fiscal_year"], r["period"], r["figure"]),
        )
        for r in PUBLISHED
        if r["period"].startswith("Q") and r["figure"] in QUARTER_FIGURES
    ]


@pytest.mark.parametrize(
    ("measure", "series", "fiscal_year", "quarter", "figure", "published"), _quarter_figures()
)
def test_quarter_figure_is_reproduced(
    build: SampleBuild,
    measure: str,
    series: str,
    fiscal_year: str,
    quarter: int,
    figure: str,
    published: float,
) -> None:
    rows = build.query(
        f"select {figure}, unit, data_status from marts.fct_measure_quarter"
        " where measure_id = ? and series = ? and fiscal_year = ? and quarter = ?",
        [measure, series, fiscal_year, quarter],
    )
    assert len(rows) == 1, f"{measure} {series} {fiscal_year} Q{quarter}: {len(rows)} rows"
    computed, unit, status = rows[0]
    assert computed is not None, f"published {published:g}, computed nothing ({status})"
    percent = unit == "percent" and figure in ("value", "last_year_value")
    tolerance = PERCENT_TOLERANCE if percent else 1e-9
    assert abs(computed - published) <= tolerance, f"published {published:g}, computed {computed}"


def test_fact_grain_and_area(build: SampleBuild) -> None:
    rows, keys = build.query(
        "select count(*), count(distinct (measure_id, series, fiscal_year, quarter))"
        " from marts.fct_measure_quarter"
    )[0]
    assert rows == keys == len(MEASURES) * 16  # 29 series x 2013/14 Q1 .. 2016/17 Q4
    areas = build.query("select distinct area_code, area_name from marts.fct_measure_quarter")
    assert areas == [AREA]


def test_police_uk_months_are_not_counted_twice(build: SampleBuild) -> None:
    """The sample holds police.uk files and the force extracts for 2016/17 alike: the
    force extracts are used, police.uk is not added on top."""
    rows = build.query(
        "select measure_id, quarter, source, is_approximation from marts.fct_measure_quarter"
        " where measure_id in ('1.3', '2.1', '2.2', '2.3', '4.1') and fiscal_year = ?",
        [REPORT_YEAR],
    )
    assert len(rows) == 20
    for measure, quarter, source, approximate in rows:
        assert source in ("police_asb_incidents", "police_recorded_crime"), (measure, quarter)
        assert not approximate, (measure, quarter)


def test_every_model_and_column_is_documented(build: SampleBuild) -> None:
    """Each model's YAML describes the model and exactly the columns it builds."""
    manifest = json.loads((build.target / "manifest.json").read_text())
    problems = []
    for node in manifest["nodes"].values():
        if node["resource_type"] not in ("model", "seed"):
            continue
        built = [
            name
            for (name,) in build.query(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ? order by ordinal_position",
                [node["schema"], node["alias"]],
            )
        ]
        documented = {name: c.get("description") for name, c in node["columns"].items()}
        if not node.get("description"):
            problems.append(f"{node['name']}: no description")
        if set(built) != set(documented):
            problems.append(f"{node['name']}: built {built}, documented {sorted(documented)}")
        problems += [f"{node['name']}.{n}: no description" for n, d in documented.items() if not d]
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------------------
# fct_target_status at Q4 gives every year-end status the report states


def _target_statuses() -> list:
    return [
        pytest.param(
            r["measure_id"],
            r["series"],
            r["fiscal_year"],
            r["value"],
            id=_id(r["measure_id"], r["series"], r["fiscal_year"], r["value"]),
        )
        for r in PUBLISHED
        if r["figure"] == "target_status"
    ]


@pytest.mark.parametrize(("measure", "series", "fiscal_year", "published"), _target_statuses())
def test_year_end_target_status(
    build: SampleBuild, measure: str, series: str, fiscal_year: str, published: str
) -> None:
    rows = build.query(
        "select status_label, assessed_value, baseline from marts.fct_target_status"
        " where measure_id = ? and series = ? and fiscal_year = ? and quarter = 4",
        [measure, series, fiscal_year],
    )
    assert len(rows) == 1
    status, assessed, baseline = rows[0]
    assert status == published, f"{status}: assessed {assessed} against baseline {baseline}"


# --------------------------------------------------------------------------------------
# fct_missing_returns holds exactly the report's return statuses for 2016/17


def _published_returns() -> dict[tuple[str, str, int], str]:
    return {
        (r["measure_id"], r["series"], int(r["period"][1])): r["value"]
        for r in PUBLISHED
        if r["figure"] == "return_status" and r["fiscal_year"] == REPORT_YEAR
    }


def _listed_returns(build: SampleBuild) -> dict[tuple[str, str, int], tuple]:
    rows = build.query(
        "select measure_id, series, quarter, status, owner, due_date, days_overdue, note"
        " from marts.fct_missing_returns where fiscal_year = ?",
        [REPORT_YEAR],
    )
    return {row[:3]: row[3:] for row in rows}


@pytest.mark.parametrize(
    ("measure", "series", "quarter", "published"),
    [
        pytest.param(*key, status, id=_id(*key[:2], f"Q{key[2]}", status))
        for key, status in _published_returns().items()
    ],
)
def test_published_return_status_is_listed(
    build: SampleBuild, measure: str, series: str, quarter: int, published: str
) -> None:
    listed = _listed_returns(build).get((measure, series, quarter))
    assert listed is not None, "not in fct_missing_returns"
    status, owner, due_date, days_overdue, note = listed
    assert status == published
    assert owner == MEASURES[(measure, series)]["owner"]
    # a declaration stops the count at the day it arrived (0 when made by the due date)
    assert (days_overdue > 0 or status == "declared_not_available") and due_date and note


def test_missing_returns_hold_nothing_else(build: SampleBuild) -> None:
    published = _published_returns()
    listed = _listed_returns(build)
    extra = sorted(set(listed) - set(published))
    assert not extra, f"listed but not in the report's return statuses: {extra}"
    with_figures = {
        (r["measure_id"], r["series"], int(r["period"][1]))
        for r in PUBLISHED
        if r["fiscal_year"] == REPORT_YEAR
        and r["period"].startswith("Q")
        and r["figure"] in QUARTER_FIGURES
    }
    flagged = {key for key in with_figures & set(listed) if published.get(key) != "late"}
    assert not flagged, f"listed although the report publishes a figure: {sorted(flagged)}"
