"""Per-area marts with ``CSP_AREA=all`` (docs/marts.md, "Areas").

Once per module: the sample landing folder (whose police.uk files hold every Cleveland
authority) plus six months of generated police.uk files of Durham Constabulary
(bench.generate: County Durham and Darlington) and the whole of 2016/17 of Northumbria
Police (six authorities, so the home area has peers with a complete profile year) are
ingested with ``CSP_AREA=all`` and built with ``dbt build`` (CSP_HOME_AREA=E06000004),
everything in a temporary folder.
Then a corrected Durham file supersedes one month and the build runs again, so the
incremental police.uk aggregate is checked against a supersession.

- the marts hold every area of the police data, each with its own rows;
- police.uk series (1.3, 2.3, 4.1) of every area other than the home area equal direct
  counts over ``raw.policeuk_street`` per area and quarter (current loads only);
- the home area still reproduces the published 2016/17 figures;
- another area has only the police.uk series (no council or partner series, no
  missing returns for them, no reconciliation rows);
- the grain is unique per area.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from bench.generate import ROWS_PER_YEAR
from bench.generate import generate as generate_policeuk
from ingest.config import Settings
from ingest.loader import ingest_landing
from ingest.sample_data import generate as generate_sample
from tests.conftest import DESIGN
from tests.dbt_checks import compiled_tests, copy_warehouse, failing_tests, failing_with_fault

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
AS_OF = date(2017, 5, 31)
HOME = ("E06000004", "Stockton-on-Tees")
CLEVELAND = {"E06000001", "E06000002", "E06000003"}  # Hartlepool, Middlesbrough, Redcar
DURHAM = {"E06000005", "E06000047"}  # Darlington, County Durham
NORTHUMBRIA = {"E06000057", "E08000021", "E08000022", "E08000023", "E08000024", "E08000037"}
POLICEUK_SERIES = {("1.3", "total"), ("2.3", "total"), ("4.1", "total")}
CRIME_TYPES = {
    "1.3": "Anti-social behaviour",
    "2.3": "Robbery",
    "4.1": "Criminal damage and arson",
}
CORRECTED_MONTH = "2016-05"
SENTINEL = "incremental sentinel"  # a crime type no measure counts
# published 2016/17 quarter values the home area must reproduce (police and council)
PUBLISHED_SERIES = {("1.3", "total"), ("2.3", "total"), ("4.1", "total"), ("1.4", "total")}
DELIVERED = datetime(2016, 10, 20, 9, 0, tzinfo=UTC)
CORRECTED = datetime(2016, 11, 2, 9, 0, tzinfo=UTC)

# fiscal year and quarter of a 'YYYY-MM' month
FISCAL = """
    (year(m) - (month(m) < 4)::integer)::varchar || '/'
    || lpad(((year(m) - (month(m) < 4)::integer + 1) % 100)::varchar, 2, '0')
"""


def _quarter(month: str) -> tuple[str, int]:
    year, mon = int(month[:4]), int(month[5:7])
    start = year - (mon < 4)
    return f"{start}/{(start + 1) % 100:02d}", (mon + 8) % 12 // 3 + 1


class Warehouse:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.landing = root / "landing"
        self.path = root / "warehouse.duckdb"
        self.settings = Settings(
            landing=self.landing, warehouse=self.path, as_of=AS_OF, area_code="all"
        )
        self.seconds: list[float] = []

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def ingest(self) -> None:
        results = ingest_landing(self.settings)
        rejected = [r for r in results if r.status == "rejected"]
        assert not rejected, [(r.file_name, r.error) for r in rejected]

    def dbt_build(self) -> dict:
        env = {
            **os.environ,
            "CSP_WAREHOUSE": str(self.path),
            "CSP_AS_OF": AS_OF.isoformat(),
            "CSP_AREA": "all",
            "CSP_HOME_AREA": HOME[0],
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        target = self.root / "target"
        command = [DBT, "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
        command += ["--target-path", str(target), "--log-path", str(self.root / "logs")]
        command += ["--threads", "4"]
        started = time.monotonic()
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        self.seconds.append(time.monotonic() - started)
        assert result.returncode == 0, f"dbt build failed:\n{result.stdout[-6000:]}"
        return json.loads((target / "run_results.json").read_text())

    # the marts --------------------------------------------------------------------

    def police_values(self) -> dict[tuple[str, str, str, int], float]:
        rows = self.query(
            "select area_code, measure_id, fiscal_year, quarter, value"
            " from marts.fct_measure_quarter"
            " where series = 'total' and measure_id in ('1.3', '2.3', '4.1')"
            " and months_received = 3"
        )
        return {(a, m, fy, q): v for a, m, fy, q, v in rows}

    def direct_counts(self) -> dict[tuple[str, str, str, int], float]:
        """Counts over raw.policeuk_street of the loads that are current (not
        superseded), per area, measure and quarter: what the marts must show."""
        crime_types = ", ".join(f"('{m}', '{t}')" for m, t in CRIME_TYPES.items())
        rows = self.query(
            f"""
            with rows as (
                select s.area_code, c.measure_id, s.month as m
                from raw.policeuk_street as s
                inner join raw.load_log as l on s._load_id = l.load_id
                inner join (values {crime_types}) as c (measure_id, crime_type)
                    on s.crime_type = c.crime_type
                where l.status = 'loaded'
            )
            select area_code, measure_id, {FISCAL} as fiscal_year,
                (month(m) + 8) % 12 // 3 + 1 as quarter, count(*)
            from rows
            group by all
            """
        )
        return {(a, m, fy, q): float(n) for a, m, fy, q, n in rows}


def _write_generated(
    landing: Path, scratch: Path, force: str, years: float, rows_per_year: int
) -> None:
    """``years`` of generated files of ``force`` from April 2016 (``rows_per_year``
    over England and Wales, of which the force gets its share), delivered on DELIVERED."""
    generate_policeuk(
        scratch,
        years=years,
        rows_per_year=rows_per_year,
        first=date(2016, 4, 1),
        forces=[force],
    )
    folder = landing / "policeuk_street"
    for path in sorted(scratch.rglob("*.csv")):
        target = folder / path.name
        target.write_bytes(path.read_bytes())
        os.utime(target, (DELIVERED.timestamp(), DELIVERED.timestamp()))


def _correct_durham_month(landing: Path) -> Path:
    """A corrected Durham file for CORRECTED_MONTH: every tenth row withdrawn."""
    original = landing / "policeuk_street" / f"{CORRECTED_MONTH}-durham-street.csv"
    lines = original.read_text().splitlines()
    kept = [lines[0]] + [line for i, line in enumerate(lines[1:]) if i % 10]
    corrected = original.with_name(f"{CORRECTED_MONTH}-durham-street-corrected.csv")
    corrected.write_text("\n".join(kept) + "\n")
    os.utime(corrected, (CORRECTED.timestamp(), CORRECTED.timestamp()))
    return corrected


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("multi_area")
    built = Warehouse(root)
    generate_sample(built.landing)
    _write_generated(built.landing, root / "durham", "Durham Constabulary", 0.5, 2_000_000)
    # the national volume, so the peers' rates are of the size of the home area's
    _write_generated(built.landing, root / "northumbria", "Northumbria Police", 1, ROWS_PER_YEAR)
    built.ingest()
    built.first_results = built.dbt_build()  # type: ignore[attr-defined]
    built.first_values = built.police_values()  # type: ignore[attr-defined]
    built.first_aggregate = built.query(  # type: ignore[attr-defined]
        "select count(*), count(distinct load_id) from staging.base_policeuk__load_counts"
    )[0]
    return built


@pytest.fixture(scope="module")
def corrected(warehouse: Warehouse) -> Warehouse:
    """The same warehouse after a corrected Durham file and a second (incremental) build.

    A sentinel row for an old load is planted in the aggregate first: an incremental
    run leaves the loads it already counted alone, a full rebuild would drop it."""
    _correct_durham_month(warehouse.landing)
    warehouse.ingest()
    con = duckdb.connect(str(warehouse.path))
    try:
        con.execute(
            "insert into staging.base_policeuk__load_counts"
            " select load_id, falls_within, record_month, area_code, area_name, ?, 1"
            " from staging.base_policeuk__load_counts order by load_id limit 1",
            [SENTINEL],
        )
    finally:
        con.close()
    warehouse.dbt_build()
    return warehouse


# --------------------------------------------------------------------------------------


def test_the_marts_hold_every_area_of_the_police_data(warehouse: Warehouse) -> None:
    expected = {HOME[0]} | CLEVELAND | DURHAM | NORTHUMBRIA
    for mart in (
        "fct_measure_quarter",
        "fct_target_status",
        "fct_missing_returns",
        "dim_measure",
        "dim_fiscal_quarter",
    ):
        areas = {a for (a,) in warehouse.query(f"select distinct area_code from marts.{mart}")}
        assert areas == expected, mart
    names = dict(
        warehouse.query("select area_code, area_name from intermediate.int_partnership_area")
    )
    assert names[HOME[0]] == HOME[1] and names["E06000047"] == "County Durham"
    homes = warehouse.query(
        "select area_code from intermediate.int_partnership_area where is_home_area"
    )
    assert homes == [(HOME[0],)]


def test_grain_is_unique_per_area(warehouse: Warehouse) -> None:
    grains = {
        "fct_measure_quarter": "area_code, measure_id, series, fiscal_year, quarter",
        "fct_target_status": "area_code, measure_id, series, fiscal_year, quarter",
        "fct_missing_returns": "area_code, measure_id, series, fiscal_year, quarter",
        "dim_measure": "area_code, measure_id, series",
        "dim_fiscal_quarter": "area_code, fiscal_year, quarter",
    }
    for mart, grain in grains.items():
        rows, keys = warehouse.query(
            f"select count(*), count(distinct ({grain})) from marts.{mart}"
        )[0]
        assert rows == keys, mart
    per_area = dict(
        warehouse.query(
            "select area_code, count(*) from marts.fct_measure_quarter group by area_code"
        )
    )
    series = warehouse.query("select count(*) from reference.measures")[0][0]
    assert per_area.pop(HOME[0]) == series * 16  # 2013/14 Q1 .. 2016/17 Q4
    assert set(per_area.values()) == {len(POLICEUK_SERIES) * 16}


MANY_AREA_FAULTS = {
    # the old GX completeness grid had no area_code: these are what it could not see
    "another-area-misses-a-quarter": (
        "delete from marts.fct_measure_quarter where area_code = 'E06000001'"
        " and measure_id = '2.3' and fiscal_year = '2016/17' and quarter = 2",
        "a_figure_row_for_every_spine_quarter",
    ),
    "another-area-gets-a-home-only-series": (
        "insert into marts.fct_measure_quarter select * replace ('E06000047' as area_code)"
        " from marts.fct_measure_quarter where area_code = 'E06000004' and measure_id = '1.4'",
        "a_figure_row_for_every_spine_quarter",
    ),
    "duplicate-in-another-area": (
        "insert into marts.fct_measure_quarter select * from marts.fct_measure_quarter"
        " where area_code = 'E06000005' and measure_id = '1.3' and quarter = 1",
        "one_figure_per_area_series_and_quarter",
    ),
    "ytd-slip-in-another-area": (
        "update marts.fct_measure_quarter set ytd_value = ytd_value + 1"
        " where area_code = 'E06000002' and measure_id = '4.1' and fiscal_year = '2016/17'"
        " and quarter = 3",
        "year_to_date_sums_the_usable_quarters",
    ),
}


def test_mart_checks_hold_for_every_area_and_fail_on_a_seeded_fault(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """The marts' dbt tests and the GX mart checks on the many-area build (issue 11)."""
    from catalogue.plan_year import plan_year
    from expectations.marts import MART_SUITES, validate_marts

    tests = compiled_tests(warehouse.root / "target")
    copy = copy_warehouse(warehouse.path, tmp_path / "copy")
    con = duckdb.connect(str(copy), read_only=True)
    try:
        assert failing_tests(con, tests) == {}
        year = plan_year(con, AS_OF)
        open_returns = con.execute(
            "select area_code, count(*) from marts.fct_missing_returns"
            " where fiscal_year = ? group by all",
            [year],
        ).fetchall()
    finally:
        con.close()
    for name, (sql, test_name) in MANY_AREA_FAULTS.items():
        failed = failing_with_fault(copy, tests, sql)
        assert any(t.startswith(test_name) for t in failed), (name, failed)

    # GX: the missing-returns listing names the area of each open plan-year return
    con = duckdb.connect(str(copy))
    try:
        con.execute(
            "insert into marts.fct_missing_returns select * replace ('E06000047' as area_code,"
            " 'County Durham' as area_name) from marts.fct_missing_returns"
            " where area_code = 'E06000004' and fiscal_year = ? limit 1",
            [year],
        )
    finally:
        con.close()
    settings = Settings(landing=warehouse.landing, warehouse=copy, as_of=AS_OF, area_code="all")
    results = {r.spec.suite: r for r in validate_marts(settings, MART_SUITES)}
    listed = results["mart.fct_missing_returns"].frame
    expected = dict(open_returns)
    expected["E06000047"] = expected.get("E06000047", 0) + 1  # the one seeded
    assert listed.groupby("area_code").size().to_dict() == expected
    assert not results["mart.fct_missing_returns"].outcome.success
    assert results["mart.fct_published_reconciliation"].outcome.success


def test_other_areas_have_only_police_uk_series(warehouse: Warehouse) -> None:
    for mart in ("fct_measure_quarter", "fct_target_status", "fct_missing_returns", "dim_measure"):
        found = set(
            warehouse.query(
                f"select distinct measure_id, series from marts.{mart} where area_code <> ?",
                [HOME[0]],
            )
        )
        assert found and found <= POLICEUK_SERIES, (mart, found - POLICEUK_SERIES)
    reconciled = warehouse.query(
        "select distinct area_code from marts.fct_published_reconciliation"
    )
    assert reconciled == [(HOME[0],)]
    # an area's police.uk quarter without data is missing, never a council series
    missing = warehouse.query(
        "select distinct owner from marts.fct_missing_returns where area_code <> ?", [HOME[0]]
    )
    assert {owner for (owner,) in missing} <= {"Police"}


def test_police_uk_series_equal_direct_counts_per_area_and_quarter(
    warehouse: Warehouse,
) -> None:
    direct = warehouse.direct_counts()
    values = warehouse.first_values  # type: ignore[attr-defined]
    checked = 0
    for key, value in values.items():
        area = key[0]
        if area == HOME[0]:
            continue  # the force extract, not police.uk, counts for the home area
        assert value == direct.get(key, 0.0), key
        checked += 1
    # Cleveland and Northumbria: 4 quarters of 2016/17; Durham: Q1 and Q2; three series each
    assert checked == 3 * (4 * len(CLEVELAND | NORTHUMBRIA) + 2 * len(DURHAM))
    quarters = {(a, fy, q) for (a, m, fy, q) in values if a in DURHAM and m == "1.3"}
    assert quarters == {(a, "2016/17", q) for a in DURHAM for q in (1, 2)}


def test_home_area_reproduces_the_published_report(warehouse: Warehouse) -> None:
    with (DESIGN / "published_figures.csv").open(encoding="utf-8") as fh:
        published = [
            r
            for r in csv.DictReader(fh)
            if r["fiscal_year"] == "2016/17"
            and r["figure"] == "value"
            and r["period"].startswith("Q")
            and (r["measure_id"], r["series"]) in PUBLISHED_SERIES
        ]
    assert {(r["measure_id"], r["series"]) for r in published} == PUBLISHED_SERIES
    for row in published:
        got = warehouse.query(
            "select value, source from marts.fct_measure_quarter where area_code = ?"
            " and measure_id = ? and series = ? and fiscal_year = ? and quarter = ?",
            [HOME[0], row["measure_id"], row["series"], row["fiscal_year"], int(row["period"][1])],
        )
        assert len(got) == 1
        assert got[0][0] == float(row["value"]), row
        assert "policeuk" not in got[0][1], row  # the force extract wins for the home area
    # police.uk of the home area's force months is not added on top
    statuses = warehouse.query(
        "select status from marts.fct_target_status where area_code = ? and measure_id = '1.3'"
        " and series = 'total' and fiscal_year = '2016/17' and quarter = 4",
        [HOME[0]],
    )
    assert statuses == [("achieved",)]


PEER_VERDICTS = {
    "significantly higher than peers",
    "significantly lower than peers",
    "within the expected range",
}


def test_the_home_report_shows_its_peers_within_the_page_budget(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """The 2016/17 Q4 report of the home area with other areas loaded (issue 15): a
    ranked peer chart per police.uk series with its verdict, the peers named, the
    significance wording, and the board's page budget when Chromium prints it."""
    from report import build_report, report_areas, write_report
    from tests.test_report_browser import MAX_PAGES, run_chromium

    assert report_areas(warehouse.path, "all") == [HOME]  # the board report: ours alone
    data = build_report(warehouse.path, "2016/17", 4, HOME[0])
    files = write_report(data, tmp_path, generated_at=datetime(2017, 6, 1, 9, 0))
    html = files.html.read_text(encoding="utf-8")
    peers = [
        name
        for (name,) in warehouse.query(
            "select peer_area_name from marts.dim_peer_group where area_code = ?"
            " order by peer_rank",
            [HOME[0]],
        )
    ]
    # Cleveland and Northumbria have every month of 2016/17; Durham only six: no profile
    assert len(peers) == len(CLEVELAND | NORTHUMBRIA)
    assert "Darlington" not in peers and "County Durham" not in peers
    assert f"Peers, most similar first: {'; '.join(peers)}." in html
    verdicts = dict(
        warehouse.query(
            "select measure_id || ' ' || series, peer_comparison from marts.fct_peer_comparison"
            " where area_code = ? and fiscal_year = '2016/17' and quarter = 4"
            " and period_type = 'rolling_12_months'",
            [HOME[0]],
        )
    )
    assert set(verdicts) == {f"{m} {s}" for m, s in POLICEUK_SERIES}
    assert set(verdicts.values()) <= PEER_VERDICTS, verdicts  # every series assessed
    for key, verdict in verdicts.items():
        panel = html.split(f'data-peer="{key}"', 1)[1].split("</div>", 1)[0]
        assert f'<span class="verdict" data-col="verdict">{verdict}</span>' in panel, key
        assert panel.count("<path") >= len(peers) + 1, key  # a bar per area, ours included
        assert "Ranked rates: Stockton-on-Tees and its peers" in panel, key
        assert f"the {len(peers)} most similar areas" in panel, key
    assert "needs the national police.uk data" not in html
    # every count series with a tested change says whether it is significant
    asb = next(v for v in files.views.series if v.key == "1.3 total")
    assert "an increase of 208 (+8.0%), a significant increase." in asb.commentary
    # printed, the board report keeps the sample's page budget with the peer panel
    pdf = tmp_path / "report.pdf"
    run_chromium(tmp_path / "profile", f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
                 files.html.as_uri())  # fmt: skip
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))
    assert 5 <= pages <= MAX_PAGES, f"{pages} pages"


def test_a_correction_supersedes_its_month_after_an_incremental_build(
    corrected: Warehouse,
) -> None:
    first = corrected.first_values  # type: ignore[attr-defined]
    now = corrected.police_values()
    direct = corrected.direct_counts()
    for key, value in now.items():
        if key[0] != HOME[0]:
            assert value == direct.get(key, 0.0), key
    fy, quarter = _quarter(CORRECTED_MONTH)
    changed = {k for k in now if k[0] in DURHAM and now[k] != first[k]}
    assert changed and all(k[2:] == (fy, quarter) for k in changed)
    # the aggregate is incremental: the correction's load was added, none was rebuilt
    rows, loads = corrected.query(
        "select count(*), count(distinct load_id) from staging.base_policeuk__load_counts"
    )[0]
    first_rows, first_loads = corrected.first_aggregate  # type: ignore[attr-defined]
    assert loads == first_loads + 1 and rows > first_rows
    kept = corrected.query(
        "select count(*) from staging.base_policeuk__load_counts where crime_type = ?",
        [SENTINEL],
    )
    assert kept == [(1,)], "the second build rebuilt the aggregate instead of adding to it"
    superseded = corrected.query(
        "select count(*) from raw.load_log where feed = 'policeuk_street' and status = 'superseded'"
    )[0][0]
    assert superseded == 1
    assert len(corrected.seconds) == 2
    first, second = corrected.seconds
    print(f"dbt build: {first:.1f} s, after the correction {second:.1f} s")
