"""The analysis marts (docs/analysis.md): population seed, police.uk rates, peer
comparison, change significance, year-end forecast.

- the ONS population seed is the shared file, whole and positive;
- held-out check: on the real police.uk rows of Stockton-on-Tees (tests/fixtures,
  January-March 2017) the 2016/17 Q4 ASB rate per 1,000 residents is the number of
  ASB rows in the files over the seed's population;
- the known-answer dbt unit tests (Wheeler's z, two-proportion and Wilson, funnel
  limits, peer distance, forecast interval) ran and passed in the sample build;
- on the sample (one area): every count series and quarter has a significance
  verdict, the peer marts are empty (peers need national data), and the forecast's
  backtest coverage is printed and within a sane band.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, SEEDS
from tests.test_dbt_marts import DBT, REPO, SampleBuild, dbt_env, sample_build

SHARED_ONS = REPO.parent / "shared" / "data" / "ons" / "local_authority_population.csv"
STOCKTON = "E06000004"
UNIT_TESTS = {
    "fct_change_significance": "significance_on_worked_examples",
    "fct_peer_comparison": "funnel_limits_on_worked_examples",
    "dim_peer_group": "peer_distance_on_a_hand_computed_example",
    "fct_year_end_forecast": "forecast_interval_on_a_worked_example",
    "int_analysis__forecast_spread": "pooled_spread_on_a_worked_example",
}


def _population(area_code: str) -> int:
    with (SEEDS / "ons_population.csv").open(encoding="utf-8", newline="") as fh:
        rows = {row["area_code"]: row for row in csv.DictReader(fh)}
    return int(rows[area_code]["population"])


def test_population_seed_is_whole_and_positive() -> None:
    with (SEEDS / "ons_population.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with (REPO / "ingest" / "reference" / "local_authorities.csv").open(encoding="utf-8") as fh:
        known = {row["area_code"] for row in csv.DictReader(fh)}
    assert {row["area_code"] for row in rows} == known
    assert len(rows) == len(known)
    assert all(int(row["population"]) > 0 and row["year"] == "2016" for row in rows)
    if SHARED_ONS.exists():  # beside a full checkout: the seed is a byte copy
        assert (SEEDS / "ons_population.csv").read_bytes() == SHARED_ONS.read_bytes()


# --------------------------------------------------------------------------------------
# Held-out check on the real police.uk rows


def test_stockton_q4_asb_rate_on_real_policeuk_rows(settings, ingest, query, tmp_path) -> None:
    real = sorted((FIXTURES / "policeuk").glob("*.csv"))
    folder = Path(settings.landing) / "policeuk_street"
    folder.mkdir()
    asb_rows = 0
    for path in real:
        shutil.copy(path, folder / path.name)
        # delivered before the run's as-of date (31 May 2017), as police.uk published them
        delivered = datetime(2017, 4, 20, 9, tzinfo=UTC).timestamp()
        os.utime(folder / path.name, (delivered, delivered))
        with path.open(encoding="utf-8", newline="") as fh:
            asb_rows += sum(
                1 for r in csv.DictReader(fh) if r["Crime type"] == "Anti-social behaviour"
            )
    assert asb_rows == 2816  # the figure, counted here from the files
    ingest()
    target = tmp_path / "target"
    command = [DBT, "build", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(target), "--log-path", str(tmp_path / "logs")]
    command += ["--select", "+fct_policeuk_rate", "--indirect-selection", "cautious"]
    result = subprocess.run(
        command,
        cwd=REPO,
        env=dbt_env(Path(settings.warehouse)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    rows = query(
        "select record_count, population, rate_per_1000, is_complete from marts.fct_policeuk_rate"
        " where area_code = ? and measure_id = '1.3' and period_type = 'quarter'"
        " and fiscal_year = '2016/17' and quarter = 4",
        [STOCKTON],
    )
    population = _population(STOCKTON)
    assert rows == [(asb_rows, population, pytest.approx(asb_rows / population * 1000), True)]
    # three months of data: no rolling 12 months can be formed
    assert query(
        "select count(*) from marts.fct_policeuk_rate where period_type = 'rolling_12_months'"
    ) == [(0,)]


# --------------------------------------------------------------------------------------
# The sample build (shared with tests/test_dbt_marts.py)


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


@pytest.mark.parametrize(("model", "name"), list(UNIT_TESTS.items()))
def test_known_answer_unit_test_passed(build: SampleBuild, model: str, name: str) -> None:
    statuses = {r["unique_id"]: r["status"] for r in build.run_results()}
    unique_id = f"unit_test.csp_warehouse.{model}.{name}"
    assert statuses.get(unique_id) == "pass", f"{unique_id}: {statuses.get(unique_id)}"


def test_every_count_quarter_has_a_verdict(build: SampleBuild) -> None:
    untested = build.query(
        """
        select f.measure_id, f.series, f.fiscal_year, f.quarter
        from marts.fct_measure_quarter as f
        left join marts.fct_change_significance as s
            on s.area_code = f.area_code and s.measure_id = f.measure_id
            and s.series = f.series and s.fiscal_year = f.fiscal_year
            and s.quarter = f.quarter and s.comparison = 'same_quarter_last_year'
        where f.unit = 'count' and f.value is not null and f.last_year_value is not null
            and s.significance not in (
                'significant increase', 'significant decrease', 'no significant change')
        """
    )
    assert not untested
    # the published +8.0 % on 1.3 in 2016/17 Q4 is measured, not assumed
    (row,) = build.query(
        "select current_value, previous_value, z_statistic, significance"
        " from marts.fct_change_significance where measure_id = '1.3' and series = 'total'"
        " and fiscal_year = '2016/17' and quarter = 4 and comparison = 'same_quarter_last_year'"
    )
    current, previous, z, verdict = row
    assert z == pytest.approx(2 * (current**0.5 - previous**0.5), abs=1e-6)
    assert verdict == (
        "no significant change"
        if abs(z) < 3
        else f"significant {'increase' if z > 0 else 'decrease'}"
    )


def test_peers_need_national_data(build: SampleBuild) -> None:
    assert build.query("select count(*) from marts.dim_peer_group") == [(0,)]
    assert build.query("select count(*) from marts.fct_peer_comparison") == [(0,)]
    # the home area's own rates are there all the same
    assert build.query("select count(distinct area_code) from marts.fct_policeuk_rate") == [(1,)]


def test_forecast_backtest_coverage(build: SampleBuild) -> None:
    rows = build.query(
        "select quarter, count(*), avg(is_outturn_within_80::integer)"
        " from marts.fct_year_end_forecast where is_outturn_within_80 is not null"
        " group by rollup (quarter) order by quarter nulls last"
    )
    assert rows, "no backtest: no year with a forecast and an outturn"
    for quarter, n, coverage in rows:
        label = f"after Q{quarter}" if quarter else "overall"
        print(f"80 % forecast interval backtest, {label}: {coverage:.0%} of {n} outturns inside")
    overall = rows[-1]
    assert overall[1] >= 20  # enough forecasts to judge
    # nominal 80 % (77 % on the sample: 70 % after Q1 and Q2, 90 % after Q3); with ~10
    # independent series-years the band is wide, but no longer the 57 % of a spread
    # estimated from each series' two or three years alone
    assert 0.65 <= overall[2] <= 0.95
