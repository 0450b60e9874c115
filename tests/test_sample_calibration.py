"""The sample data reproduces the published 2016/17 report, counted by independent SQL.

The sample landing folder is generated once and ingested with ``ingest_landing`` (the
session's sample build, ``tests.test_dbt_marts.sample_build``, whose raw tables dbt
does not touch), and each figure of ``published_figures.csv`` (read here, at test time)
is recomputed by plain SQL over the raw tables (tests/calibration_sql.py): only rows of
loads whose status is 'loaded' count, and a partner-return fact is its latest delivery.
Also checked: the earlier years' outturns and baselines the seed states, the report's
missing / not available / late returns, determinism, and the landing-folder marker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.config import SAMPLE_MARKER
from ingest.sample_data import LandingNotSampleError, generate, main
from tests.calibration_sql import (
    LOADED,
    MEASURES,
    PUBLISHED,
    Raw,
    previous_year,
    quarter_bounds,
)
from tests.test_dbt_marts import sample_build

AS_OF = date(2017, 5, 31)
DUE_DAYS = 20
REPORT_YEAR = "2016/17"
FISCAL_YEARS = ("2013/14", "2014/15", "2015/16", "2016/17")
QUARTER_FIGURES = ("value", "last_year_value", "numerator", "denominator")
OUTTURN_BASELINES = ("below_previous_year", "above_baseline")
# Outturns the seed states that contradict its own quarter figures: the quarters win and
# the difference must stay visible to the reconciliation.
SEED_CONTRADICTIONS = {
    ("4.2", "total", "2015/16"): "the 2015/16 outturn 22 is not its Q4 rolling value 18",
    ("3.3", "opiate_all", "2014/15"): "catalogue baseline 4.6 vs the 2014/15 Q4 value 4.5",
    ("3.3", "non_opiate_all", "2014/15"): "catalogue baseline 41.9 vs the 2014/15 Q4 value 43",
    ("3.3", "non_opiate_cj", "2014/15"): "catalogue baseline 69.3 vs the 2014/15 Q4 value 37.5",
}


# --------------------------------------------------------------------------------------
# The seed, read at test time


def _label(*parts: object) -> str:
    return " ".join(str(p) for p in parts)


def quarter_cases() -> list:
    """Each quarter figure of the report: (measure, series, fiscal year, quarter, figure, value)."""
    return [
        pytest.param(
            r["measure_id"],
            r["series"],
            r["fiscal_year"],
            int(r["period"][1]),
            r["figure"],
            float(r["value"]),
            id=_label(r["measure_id"], r["series"], r["fiscal_year"], r["period"], r["figure"]),
        )
        for r in PUBLISHED
        if r["period"].startswith("Q") and r["figure"] in QUARTER_FIGURES
    ]


def outturn_claims() -> list[tuple[str, str, str, float, str]]:
    """(measure, series, fiscal year, outturn, where the seed says so) for earlier years."""
    claims = []
    for r in PUBLISHED:
        key = (r["measure_id"], r["series"])
        source = f"published {r['fiscal_year']} {r['period']} {r['figure']}"
        if r["figure"] == "value" and r["period"] == "FY" and r["fiscal_year"] < REPORT_YEAR:
            claims.append((*key, r["fiscal_year"], float(r["value"]), source))
        rule = MEASURES.get(key, {}).get("target_rule")
        if r["figure"] == "baseline" and rule in OUTTURN_BASELINES:
            claims.append((*key, previous_year(r["fiscal_year"]), float(r["value"]), source))
    for key, m in MEASURES.items():
        if m["target_rule"] not in OUTTURN_BASELINES:
            continue
        for fy in FISCAL_YEARS[1:]:
            column = f"baseline_{fy.replace('/', '_')}"
            if m[column]:
                claims.append((*key, previous_year(fy), float(m[column]), f"measures.csv {column}"))
    return sorted(set(claims))


def _claim_params(contradictions: bool) -> list:
    return [
        pytest.param(*claim, id=_label(*claim[:3], claim[4]))
        for claim in outturn_claims()
        if (claim[:3] in SEED_CONTRADICTIONS) is contradictions
    ]


def return_statuses() -> list:
    return [
        pytest.param(
            r["measure_id"],
            r["series"],
            int(r["period"][1]),
            r["value"],
            r["note"],
            id=_label(r["measure_id"], r["series"], r["period"], r["value"]),
        )
        for r in PUBLISHED
        if r["figure"] == "return_status" and r["fiscal_year"] == REPORT_YEAR
    ]


# --------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's sample warehouse (``tests.test_dbt_marts.sample_build``: generated and
    ingested with ``ingest_landing`` as of 31 May 2017 for E06000004, then ``dbt build``,
    which writes other schemas and never ``raw``). Read only here."""
    return sample_build(tmp_path_factory).warehouse


@pytest.fixture(scope="module")
def landing(ingested: Path) -> Path:
    """The landing folder that warehouse was ingested from."""
    return ingested.parent / "landing"


@pytest.fixture(scope="module")
def raw(ingested: Path):
    con = duckdb.connect(str(ingested), read_only=True)
    yield Raw(con)
    con.close()


def _assert_close(what: str, published: float, computed: float | None, unit: str) -> None:
    assert computed is not None, f"{what}: published {published}, computed nothing"
    tolerance = 0.1 + 1e-9 if unit == "percent" else 0
    assert abs(computed - published) <= tolerance, (
        f"{what}: published {published:g}, computed {computed:.4g}"
    )


# --------------------------------------------------------------------------------------
# Calibration


@pytest.mark.parametrize(
    ("measure", "series", "fiscal_year", "quarter", "figure", "published"), quarter_cases()
)
def test_quarter_figure(
    raw: Raw,
    measure: str,
    series: str,
    fiscal_year: str,
    quarter: int,
    figure: str,
    published: float,
) -> None:
    year = previous_year(fiscal_year) if figure == "last_year_value" else fiscal_year
    computed = raw.figure(measure, series, year, quarter)
    number = {"numerator": computed.numerator, "denominator": computed.denominator}
    unit = MEASURES[(measure, series)]["unit"] if figure.endswith("value") else "count"
    what = _label(measure, series, fiscal_year, f"Q{quarter}", figure)
    _assert_close(what, published, number.get(figure, computed.value), unit)


@pytest.mark.parametrize(
    ("measure", "series", "fiscal_year", "stated", "source"), _claim_params(contradictions=False)
)
def test_earlier_year_outturn(
    raw: Raw, measure: str, series: str, fiscal_year: str, stated: float, source: str
) -> None:
    computed = raw.outturn(measure, series, fiscal_year)
    unit = MEASURES[(measure, series)]["unit"]
    _assert_close(
        _label(measure, series, fiscal_year, "outturn", f"({source})"), stated, computed, unit
    )


@pytest.mark.parametrize(
    ("measure", "series", "fiscal_year", "stated", "source"), _claim_params(contradictions=True)
)
def test_seed_contradiction_stays_visible(
    raw: Raw, measure: str, series: str, fiscal_year: str, stated: float, source: str
) -> None:
    computed = raw.outturn(measure, series, fiscal_year)
    assert computed is not None
    assert abs(computed - stated) > 0.1, (
        f"{measure} {series} {fiscal_year} ({source}): expected the seed's contradiction"
        f" ({SEED_CONTRADICTIONS[(measure, series, fiscal_year)]}) to show, both are {stated}"
    )


def test_year_end_repeat_victims(raw: Raw) -> None:
    """The brief's 4.2 year ends: 28 at 2013/14 Q4, 25 at 2014/15 Q4."""
    assert raw.figure("4.2", "total", "2013/14", 4).value == 28
    assert raw.figure("4.2", "total", "2014/15", 4).value == 25


# --------------------------------------------------------------------------------------
# Missing, not available and late returns


@pytest.mark.parametrize(("measure", "series", "quarter", "status", "note"), return_statuses())
def test_return_status(
    raw: Raw, measure: str, series: str, quarter: int, status: str, note: str
) -> None:
    source = MEASURES[(measure, series)]["source"]
    rows = raw.partner_rows(measure, series, REPORT_YEAR, quarter)
    what = _label(measure, series, REPORT_YEAR, f"Q{quarter}", status)
    if status == "missing":
        assert not rows, f"{what}: a partner return row exists"
        if source != "partner_returns":
            assert raw.records_in(source, REPORT_YEAR, quarter) == 0, f"{what}: records exist"
    elif status == "declared_not_available":
        assert rows, f"{what}: no declaration in the partner returns"
        assert (rows[0].status, rows[0].note) == ("not_available", note), what
        assert raw.figure(measure, series, REPORT_YEAR, quarter).value is None, what
    else:
        assert status == "late", what
        _, due = quarter_bounds(REPORT_YEAR, quarter)
        latest, earliest = rows[0], rows[-1]
        assert latest.status in ("reported", "nil_return") and latest.value is not None, what
        assert latest.received_at.date() > due + timedelta(days=DUE_DAYS), what
        assert earliest.status == "not_available", f"{what}: not declared in its own return"


@pytest.mark.parametrize(
    ("measure", "series"),
    [pytest.param(*key, id=_label(*key)) for key in MEASURES if key != ("1.1", "combined")],
)
def test_nothing_else_is_missing(raw: Raw, measure: str, series: str) -> None:
    flagged = {
        (r["fiscal_year"], int(r["period"][1]))
        for r in PUBLISHED
        if r["figure"] == "return_status"
        and (r["measure_id"], r["series"]) == (measure, series)
        and r["value"] != "late"
    }
    gaps = [
        f"{fy} Q{q}"
        for fy in FISCAL_YEARS
        for q in (1, 2, 3, 4)
        if (fy, q) not in flagged and raw.figure(measure, series, fy, q).value is None
    ]
    assert not gaps, f"{measure} {series}: no value for {', '.join(gaps)}"


# --------------------------------------------------------------------------------------
# The warts arrive as intended


def test_every_file_loads_with_one_duplicate_and_one_correction(raw: Raw) -> None:
    statuses = dict(
        raw.con.execute("select status, count(*) from raw.load_log group by all").fetchall()
    )
    assert set(statuses) == {"loaded", "duplicate", "superseded"}, statuses
    assert statuses["duplicate"] == statuses["superseded"] == 1
    duplicate = raw.one("select file_name from raw.load_log where status = 'duplicate'")[0]
    assert duplicate == "police_asb_incidents/asb_incidents_2016-05 (1).csv"
    workbook = raw.one("select rows_loaded from raw.load_log where file_name like '%.xlsx'")
    assert workbook == (794,)


def test_policeuk_agrees_with_the_force_extracts(raw: Raw) -> None:
    """Stockton's police.uk rows of each month = that month's ASB incidents and crimes;
    the neighbouring authorities' rows are filtered out at ingest."""
    mismatches = raw.con.execute(
        f"""
        with street as (
            select month, crime_type, count(*) as n from raw.policeuk_street
            where {LOADED} and area_code = 'E06000004' group by all),
        force as (
            select date_trunc('month', reported_at)::date as month,
                   'Anti-social behaviour' as crime_type, count(*) as n
            from raw.police_asb_incidents where {LOADED} group by all
            union all
            select date_trunc('month', recorded_date)::date, 'Criminal damage and arson', count(*)
            from raw.police_recorded_crime
            where {LOADED} and offence_group in ('Criminal damage', 'Arson') group by all)
        select street.month, street.crime_type, street.n, force.n
        from street join force using (month, crime_type) where street.n <> force.n
        """
    ).fetchall()
    assert not mismatches
    months, outside = raw.one(
        "select count(*), min(rows_outside_area) from raw.load_log where feed = 'policeuk_street'"
    )
    assert months == 12 and outside > 1000


def test_late_treatment_file(raw: Raw) -> None:
    received = raw.one(
        "select l.received_at from raw.load_log l join raw.ndtms_treatment_completions n"
        " on n._load_id = l.load_id where n.period_end = date '2015-03-31' limit 1"
    )[0]
    assert received.date() > date(2016, 6, 1)


# --------------------------------------------------------------------------------------
# Determinism and the landing-folder marker


def _fingerprint(folder: Path) -> dict[str, tuple[str, int | None]]:
    """Content hash of every file, and the delivery time (mtime) of every extract."""
    return {
        p.relative_to(folder).as_posix(): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            None if p.name == SAMPLE_MARKER else int(p.stat().st_mtime),
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_deterministic_and_regenerates_cleanly(landing: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    shutil.copytree(landing, again)
    stale = again / "police_asb_incidents" / "left_over.csv"
    stale.write_text("incident_ref\n")
    generate(again)
    assert not stale.exists()
    assert _fingerprint(again) == _fingerprint(landing)
    size = sum(p.stat().st_size for p in landing.rglob("*") if p.is_file())
    assert size < 40 * 2**20


def test_marker_names_generator_seed_and_demo_key(landing: Path) -> None:
    text = (landing / SAMPLE_MARKER).read_text(encoding="utf-8")
    assert "ingest.sample_data" in text and "seed: 2017" in text and "demo" in text


def test_refuses_a_folder_it_did_not_write(tmp_path: Path, capsys) -> None:
    real = tmp_path / "real"
    (real / "idva_referrals").mkdir(parents=True)
    extract = real / "idva_referrals" / "q3.csv"
    extract.write_text("referral_id\n")
    with pytest.raises(LandingNotSampleError, match="no .csp-sample marker"):
        generate(real)
    assert main(["--out", str(real)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert extract.read_text() == "referral_id\n"
    assert sorted(os.listdir(real)) == ["idva_referrals"]
