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
  the report's own arithmetic (recomputed here, independently, in Python) or
  with the marts, with both numbers.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.config import Settings
from ingest.feeds import FEEDS
from ingest.loader import ingest_landing
from ingest.sample_data import generate
from tests.conftest import DESIGN, SEEDS

REPO = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
AS_OF = date(2017, 5, 31)
AREA = ("E06000004", "Stockton-on-Tees")
REPORT_YEAR = "2016/17"
QUARTER_FIGURES = ("value", "last_year_value", "numerator", "denominator")
COUNT_FIGURES = ("change", "ytd_change", "ytd_value", "ytd_last_year", "numerator", "denominator")
PERCENT_TOLERANCE = 0.1 + 1e-9
ROLLING = ("3.3", "4.2")  # rolling 12-month figures: Q4 is the year's outturn (DESIGN.md)


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
    """Generate, ingest and ``dbt build`` the sample data, once per test session."""
    if id(factory) not in _BUILDS:
        _BUILDS[id(factory)] = _build(factory)
    return _BUILDS[id(factory)]


def _build(factory: pytest.TempPathFactory) -> SampleBuild:
    root = factory.mktemp("dbt_sample")
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
    seconds = json.loads((target / "run_results.json").read_text())["elapsed_time"]
    return SampleBuild(warehouse, target, seconds)


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
        "select status, assessed_value, baseline from marts.fct_target_status"
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


# --------------------------------------------------------------------------------------
# fct_published_reconciliation: the report's own arithmetic, recomputed here


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _pct(change: float | None, base: float | None) -> float | None:
    if change is None or not base:
        return None
    return 100 * change / base


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _first(*values: float | None) -> float | None:
    return next((v for v in values if v is not None), None)


class Report:
    """The published report: each figure looked up as a number, and what the report's
    other figures say it should be (its own arithmetic, independent of the marts)."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.rows = rows
        self.numbers = {
            (r["measure_id"], r["series"], r["fiscal_year"], r["period"], r["figure"]): _number(
                r["value"]
            )
            for r in rows
        }

    def get(self, key: tuple[str, str], fy: str, period: str, figure: str) -> float | None:
        return self.numbers.get((*key, fy, period, figure))

    def ytd(self, key, fy: str, q: int, figure: str, ytd_figure: str) -> float | None:
        """Sum of the published quarters so far, else last quarter's year to date + this."""
        quarters = [self.get(key, fy, f"Q{i}", figure) for i in range(1, q + 1)]
        if None not in quarters:
            return sum(quarters)  # type: ignore[arg-type]
        if q > 1:
            previous = self.get(key, fy, f"Q{q - 1}", ytd_figure)
            this = quarters[-1]
            return None if previous is None or this is None else previous + this
        return None

    def ytd_base(self, key, fy: str, q: int, figure: str, ytd_figure: str) -> float | None:
        return _first(
            self.get(key, fy, f"Q{q}", ytd_figure), self.ytd(key, fy, q, figure, ytd_figure)
        )

    def outturn(self, key, fy: str) -> tuple[float | None, float | None]:
        """The year's value from its quarters, and as next year's report gives it."""
        method = "latest" if key[0] in ROLLING else "sum"
        next_fy = f"{int(fy[:4]) + 1}/{(int(fy[:4]) + 2) % 100:02d}"
        if method == "latest":
            from_quarters = self.get(key, fy, "Q4", "value")
            from_next = _first(
                self.get(key, next_fy, "FY", "last_year_value"),
                self.get(key, next_fy, "Q4", "last_year_value"),
            )
        else:
            from_quarters = self.ytd(key, fy, 4, "value", "ytd_value")
            from_next = _first(
                self.get(key, next_fy, "FY", "last_year_value"),
                self.ytd_base(key, next_fy, 4, "last_year_value", "ytd_last_year"),
            )
        return from_quarters, from_next

    def last_year_outturn(self, key, fy: str) -> float | None:
        method = "latest" if key[0] in ROLLING else "sum"
        previous = f"{int(fy[:4]) - 1}/{int(fy[:4]) % 100:02d}"
        if method == "latest":
            from_quarters = self.get(key, fy, "Q4", "last_year_value")
        else:
            from_quarters = self.ytd(key, fy, 4, "last_year_value", "ytd_last_year")
        return _first(from_quarters, self.get(key, previous, "FY", "value"))

    def expected(self, row: dict[str, str]) -> float | str | None:
        """What the report's other figures say this one should be (None: nothing to say)."""
        key, fy, period, figure = (
            (row["measure_id"], row["series"]),
            row["fiscal_year"],
            row["period"],
            row["figure"],
        )
        if key not in MEASURES:
            return self._breakdown(row)
        if period.startswith("Q"):
            return self._quarter(key, fy, int(period[1]), figure)
        return self._year(key, fy, figure)

    def _quarter(self, key, fy: str, q: int, figure: str) -> float | None:
        value = self.get(key, fy, f"Q{q}", "value")
        last_year = self.get(key, fy, f"Q{q}", "last_year_value")
        change = self.get(key, fy, f"Q{q}", "change")
        if figure == "change":
            return _minus(value, last_year)
        if figure == "pct_change":
            return _pct(
                _first(_minus(value, last_year), change), _first(last_year, _minus(value, change))
            )
        if MEASURES[key]["unit"] != "count" or key[0] in ROLLING:
            return None
        ytd_value = self.ytd_base(key, fy, q, "value", "ytd_value")
        ytd_last_year = self.ytd_base(key, fy, q, "last_year_value", "ytd_last_year")
        if figure == "ytd_value":
            return self.ytd(key, fy, q, "value", "ytd_value")
        if figure == "ytd_last_year":
            return self.ytd(key, fy, q, "last_year_value", "ytd_last_year")
        if figure == "ytd_change":
            return _minus(ytd_value, ytd_last_year)
        if figure == "ytd_pct_change":
            base = _first(
                ytd_last_year, _minus(ytd_value, self.get(key, fy, f"Q{q}", "ytd_change"))
            )
            return _pct(
                _first(_minus(ytd_value, base), self.get(key, fy, f"Q{q}", "ytd_change")), base
            )
        return None

    def _year(self, key, fy: str, figure: str) -> float | str | None:
        from_quarters, from_next = self.outturn(key, fy)
        value = _first(self.get(key, fy, "FY", "value"), from_quarters, from_next)
        last_year = _first(
            self.get(key, fy, "FY", "last_year_value"), self.last_year_outturn(key, fy)
        )
        rule = MEASURES[key]["target_rule"]
        if figure == "value":
            return _first(from_quarters, from_next)
        if figure == "last_year_value":
            return self.last_year_outturn(key, fy)
        if figure == "change":
            return _minus(value, last_year)
        if figure == "pct_change":
            return _pct(_minus(value, last_year), last_year)
        previous = f"{int(fy[:4]) - 1}/{int(fy[:4]) % 100:02d}"
        if figure == "baseline" and rule in ("below_previous_year", "above_baseline"):
            prev_quarters, prev_next = self.outturn(key, previous)
            return _first(self.get(key, previous, "FY", "value"), prev_quarters, prev_next)
        if figure == "target_status":
            column = f"baseline_{fy.replace('/', '_')}"
            baseline = _first(
                self.get(key, fy, "FY", "baseline"), _number(MEASURES[key].get(column) or "")
            )
            if value is None or baseline is None:
                return None
            met = {
                "below_fixed_baseline": value < baseline,
                "below_previous_year": value < baseline,
                "at_least_target": value >= baseline,
                "above_baseline": value > baseline,
            }.get(rule)
            return None if met is None else ("ACHIEVED" if met else "NOT ACHIEVED")
        return None

    def _breakdown(self, row: dict[str, str]) -> float | None:
        """IDVA engagement counts quoted beside the engaged numerator cannot exceed the
        referrals: the most each can be beside the others."""
        categories = ("unable_to_contact", "declined", "other", "pending")
        if row["measure_id"] != "6.4" or row["series"] not in categories:
            return None
        fy, period = row["fiscal_year"], row["period"]
        parts = [self.numbers.get(("6.4", c, fy, period, "context_count")) or 0 for c in categories]
        engaged = self.numbers.get(("6.4", "engaged_pct", fy, period, "numerator"))
        referrals = _first(
            self.numbers.get(("6.4", "referrals", fy, period, "value")),
            self.numbers.get(("6.4", "engaged_pct", fy, period, "denominator")),
        )
        if engaged is None or referrals is None or engaged + sum(parts) <= referrals:
            return None
        return referrals - engaged - (sum(parts) - float(row["value"]))


def _disagrees(row: dict[str, str], expected: float | str | None) -> bool:
    if expected is None:
        return False
    if isinstance(expected, str):
        return expected != row["value"]
    percent = "pct" in row["figure"] or row["unit"] == "percent"
    shown = round(expected, _decimals(row["value"])) if percent else expected
    return abs(shown - float(row["value"])) > 1e-9


def _arithmetic_slips() -> dict[tuple, float | str]:
    report = Report(PUBLISHED)
    slips = {}
    for row in PUBLISHED:
        if row["figure"] == "return_status":
            continue
        expected = report.expected(row)
        if _disagrees(row, expected):
            key = (
                row["measure_id"],
                row["series"],
                row["fiscal_year"],
                row["period"],
                row["figure"],
            )
            slips[key] = expected
    return slips


def _reconciliation(build: SampleBuild, kind: str) -> dict[tuple, tuple]:
    rows = build.query(
        "select measure_id, series, fiscal_year, period, figure, published_text, published_value,"
        " expected_text, expected_value, difference, explanation"
        " from marts.fct_published_reconciliation where check_kind = ?",
        [kind],
    )
    return {row[:5]: row[5:] for row in rows}


def test_the_report_has_arithmetic_slips() -> None:
    """The checker below finds what a reader of the report finds (a sanity check of it)."""
    slips = _arithmetic_slips()
    assert ("1.3", "total", "2016/17", "Q3", "ytd_value") in slips  # 10,023 vs 10,032
    assert ("4.1", "total", "2016/17", "Q4", "change") in slips  # 132 vs 647 - 517
    assert ("2.3", "total", "2016/17", "Q1", "pct_change") in slips  # -5.9 vs -3 / 17
    assert ("1.3", "total", "2016/17", "Q1", "pct_change") not in slips  # 80 / 3109 = 2.6


@pytest.mark.parametrize(
    "key",
    [pytest.param(key, id=_id(*key)) for key in _arithmetic_slips()],
)
def test_arithmetic_slip_is_listed(build: SampleBuild, key: tuple) -> None:
    listed = _reconciliation(build, "internal_arithmetic").get(key)
    assert listed is not None, "missing from fct_published_reconciliation"
    published_text, published_value, expected_text, expected_value, difference, why = listed
    expected = _arithmetic_slips()[key]
    if isinstance(expected, str):
        assert expected_text == expected
    else:
        row = next(
            r
            for r in PUBLISHED
            if tuple(r[c] for c in ("measure_id", "series", "fiscal_year", "period", "figure"))
            == key
        )
        percent = "pct" in key[4] or row["unit"] == "percent"
        assert (
            abs(
                expected_value - (round(expected, _decimals(row["value"])) if percent else expected)
            )
            < 1e-9
        )
        assert published_value == float(row["value"])
        assert abs(difference - (published_value - expected_value)) < 1e-9
    assert published_text in why and expected_text in why


def test_only_slips_are_listed(build: SampleBuild) -> None:
    listed = set(_reconciliation(build, "internal_arithmetic"))
    extra = sorted(listed - set(_arithmetic_slips()))
    assert not extra, f"listed as arithmetic slips but consistent: {extra}"


def _fact_figure(build: SampleBuild, row: dict[str, str]) -> float | str | None:
    """The marts' figure for a published one (the year's figures: Q4's year to date)."""
    key = (row["measure_id"], row["series"], row["fiscal_year"])
    figure, period = row["figure"], row["period"]
    quarter = 4 if period == "FY" else int(period[1])
    if figure in ("baseline", "target_status"):
        column = "baseline" if figure == "baseline" else "status"
        table = "marts.fct_target_status"
    else:
        year_columns = {
            "value": "ytd_value",
            "last_year_value": "ytd_last_year_value",
            "change": "ytd_change",
            "pct_change": "ytd_pct_change",
        }
        quarter_columns = {
            "ytd_last_year": "ytd_last_year_value",
            "return_status": "data_status",
        }
        column = year_columns.get(figure) if period == "FY" else quarter_columns.get(figure, figure)
        table = "marts.fct_measure_quarter"
    if column is None:
        return None
    rows = build.query(
        f"select {column} from {table} where measure_id = ? and series = ? and fiscal_year = ?"
        " and quarter = ?",
        [*key, quarter],
    )
    return rows[0][0] if rows else None


def test_recomputed_differences_are_exactly_those_of_the_marts(build: SampleBuild) -> None:
    """A published catalogue figure is listed as 'recomputed' exactly when the marts differ."""
    expected = set()
    for row in PUBLISHED:
        if (row["measure_id"], row["series"]) not in MEASURES:
            continue
        if _disagrees(row, _fact_figure(build, row)):
            expected.add(
                (row["measure_id"], row["series"], row["fiscal_year"], row["period"], row["figure"])
            )
    listed = {key for key in _reconciliation(build, "recomputed") if (key[0], key[1]) in MEASURES}
    assert listed == expected, (
        f"listed only: {sorted(listed - expected)}; missing: {sorted(expected - listed)}"
    )


# --------------------------------------------------------------------------------------
# Dagster: lineage from the ingest assets, folder groups, tests as checks, a real run


@pytest.fixture(scope="module")
def dbt_manifest() -> Path:
    """``dbt parse`` into the project's target path, as ``make manifest`` does: the
    Dagster module reads the manifest there and never builds it on import."""
    command = [DBT, "parse", "--quiet", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", "dbt_project/target"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return REPO / "dbt_project" / "target" / "manifest.json"


@pytest.mark.usefixtures("dbt_manifest")
def test_dbt_run_arguments_follow_the_ingest_settings(tmp_path: Path, monkeypatch) -> None:
    """dbt gets the ingest's effective as-of date and area, whatever dbt_project.yml says."""
    from ingest import config
    from ingest.config import SAMPLE_MARKER

    monkeypatch.setattr(config, "DEFAULT_LANDING", tmp_path)  # the marker counts only there
    from orchestration.dbt_assets import dbt_build_args

    explicit = Settings(landing=tmp_path, as_of=date(2016, 12, 31), area_code="Hartlepool")
    assert dbt_build_args(explicit) == [
        "build",
        "--vars",
        '{"area": "Hartlepool", "as_of": "2016-12-31"}',
    ]
    (tmp_path / SAMPLE_MARKER).write_text("sample")
    sample = json.loads(dbt_build_args(Settings(landing=tmp_path))[2])
    assert sample == {"area": AREA[0], "as_of": "2017-05-31"}


@pytest.mark.usefixtures("dbt_manifest")
def test_asset_groups_are_the_dbt_folders() -> None:
    from orchestration.dbt_assets import dbt_group_name

    assert dbt_group_name({"resource_type": "seed", "fqn": ["csp_warehouse", "measures"]}) == (
        "seeds"
    )
    for folder in ("staging", "intermediate", "marts"):
        node = {"resource_type": "model", "fqn": ["csp_warehouse", folder, "m"]}
        assert dbt_group_name(node) == folder
    assert dbt_group_name({"resource_type": "model", "fqn": ["csp_warehouse", "m"]}) is None


@pytest.mark.usefixtures("dbt_manifest")
def test_dbt_assets_lineage_groups_and_checks() -> None:
    from orchestration.dbt_assets import csp_dbt_assets

    specs = list(csp_dbt_assets.specs)
    groups = {spec.group_name for spec in specs}
    assert groups == {"staging", "intermediate", "marts", "seeds"}
    upstream = {dep.asset_key for spec in specs for dep in spec.deps}
    raw = {dg.AssetKey(["raw", name]) for name in FEEDS} | {dg.AssetKey(["raw", "load_log"])}
    assert raw <= upstream
    keys = {spec.key.to_user_string() for spec in specs}
    assert {"marts/fct_measure_quarter", "marts/fct_published_reconciliation"} <= keys
    checks = {check.asset_key.to_user_string() for check in csp_dbt_assets.check_specs}
    assert "marts/fct_missing_returns" in checks


@pytest.mark.usefixtures("dbt_manifest")
def test_dagster_materialises_a_dbt_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subset through Dagster: seeds, the area and a dimension, with their checks."""
    from orchestration.dbt_assets import csp_dbt_assets, dbt_resource
    from orchestration.resources import WarehouseSettings

    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    resources = {
        "dbt": dbt_resource,
        "warehouse": WarehouseSettings(
            warehouse=str(warehouse),
            landing=str(tmp_path),
            as_of="2017-05-31",
            area="Stockton-on-Tees",
        ),
    }
    selection = [
        "reference/fiscal_calendar",
        "reference/local_authorities",
        "intermediate/int_partnership_area",
        "marts/dim_fiscal_quarter",
    ]
    result = dg.materialize([csp_dbt_assets], selection=selection, resources=resources)
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialised == set(selection)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select area_code, area_name, count(*) filter (where is_ended)"
            " from marts.dim_fiscal_quarter group by all"
        ).fetchone()
    finally:
        con.close()
    assert row == (*AREA, 4 * 6 + 4)  # 2010/11 .. 2016/17 ended by 31 May 2017
