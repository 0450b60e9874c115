"""The sample data reproduces the published 2016/17 report, counted by independent SQL.

The sample landing folder is generated once, ingested with ``ingest_landing``, and each
figure of ``published_figures.csv`` (read here, at test time) is recomputed by plain
SQL over the raw tables: only rows of loads whose status is 'loaded' count, and a
partner-return fact is its latest delivery.  Also checked: the earlier years' outturns
and baselines the seed states, the report's missing / not available / late returns,
determinism, and the landing-folder marker.
"""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.config import SAMPLE_MARKER, Settings
from ingest.loader import ingest_landing
from ingest.sample_data import LandingNotSampleError, generate, main
from tests.conftest import DESIGN

AS_OF = date(2017, 5, 31)
DUE_DAYS = 20
REPORT_YEAR = "2016/17"
FISCAL_YEARS = ("2013/14", "2014/15", "2015/16", "2016/17")
QUARTER_FIGURES = ("value", "last_year_value", "numerator", "denominator")
ROLLING = ("3.3", "4.2")  # the Q4 value of a rolling 12-month figure is the year's outturn
OUTTURN_BASELINES = ("below_previous_year", "above_baseline")
# Outturns the seed states that contradict its own quarter figures: the quarters win and
# the difference must stay visible to the reconciliation.
SEED_CONTRADICTIONS = {
    ("4.2", "total", "2015/16"): "the 2015/16 outturn 22 is not its Q4 rolling value 18",
    ("3.3", "opiate_all", "2014/15"): "catalogue baseline 4.6 vs the 2014/15 Q4 value 4.5",
    ("3.3", "non_opiate_all", "2014/15"): "catalogue baseline 41.9 vs the 2014/15 Q4 value 43",
    ("3.3", "non_opiate_cj", "2014/15"): "catalogue baseline 69.3 vs the 2014/15 Q4 value 37.5",
}

LOADED = "_load_id in (select load_id from raw.load_log where status = 'loaded')"
OFFENCE_GROUPS = {
    "2.1": "Violence with injury",
    "2.2": "Violence without injury",
    "2.3": "Robbery of personal property",
    "4.1": "Criminal damage",  # not Arson
}
# measure series -> (table, id, date column, filter)
COUNTS = {
    ("1.3", "total"): ("police_asb_incidents", "incident_ref", "reported_at", "true"),
    ("1.4", "total"): ("maasbt_service_requests", "request_id", "received_date", "true"),
    ("6.4", "referrals"): ("idva_referrals", "referral_id", "referral_date", "true"),
    **{
        (measure, "total"): (
            "police_recorded_crime",
            "crime_ref",
            "recorded_date",
            f"offence_group = '{group}'",
        )
        for measure, group in OFFENCE_GROUPS.items()
    },
}
# 1.1: callers with 3+ contacts in the quarter -> (table, id, date column)
REPEAT_CALLERS = {
    "sbc": ("maasbt_service_requests", "request_id", "received_date"),
    "police": ("police_asb_incidents", "incident_ref", "reported_at"),
}
MARAC = ("marac_cases", "marac_date", "engaged_with_service = 'Y'")
IDVA = ("idva_referrals", "referral_date")
# measure series -> (table, date column, numerator condition, population condition)
RATES = {
    ("1.2", "total"): ("asb_satisfaction_survey", "survey_date", "satisfied", "true"),
    ("6.2", "victims_engaging"): (*MARAC, "true"),
    ("6.2", "repeat_victims_engaging"): (*MARAC, "repeat_case"),
    ("6.4", "worked_with_after_assessment_pct"): (
        *IDVA,
        "assessment_outcome = 'worked_with'",
        "true",
    ),
    ("6.4", "engaged_pct"): (*IDVA, "engagement = 'engaged'", "true"),
}
TREATMENT = {
    "opiate_all": ("opiate", "all"),
    "non_opiate_all": ("non_opiate", "all"),
    "opiate_cj": ("opiate", "criminal_justice"),
    "non_opiate_cj": ("non_opiate", "criminal_justice"),
}
RECORD_DATES = {  # record feed -> its date column, for "no records in that quarter"
    "police_asb_incidents": "reported_at",
    "maasbt_service_requests": "received_date",
    "police_recorded_crime": "recorded_date",
    "asb_satisfaction_survey": "survey_date",
    "marac_cases": "marac_date",
    "idva_referrals": "referral_date",
    "ndtms_treatment_completions": "period_end",
}


# --------------------------------------------------------------------------------------
# The seed, read at test time


def _read(name: str) -> list[dict[str, str]]:
    with (DESIGN / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PUBLISHED = _read("published_figures.csv")
MEASURES = {(m["measure_id"], m["series"]): m for m in _read("measures.csv")}


def month_start(day: date, months: int) -> date:
    """First day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def quarter_bounds(fiscal_year: str, quarter: int) -> tuple[date, date]:
    start = date(int(fiscal_year[:4]) + (quarter == 4), (3 * quarter) % 12 + 1, 1)
    return start, month_start(start, 3) - timedelta(days=1)


def previous_year(fiscal_year: str) -> str:
    fy = int(fiscal_year[:4]) - 1
    return f"{fy}/{(fy + 1) % 100:02d}"


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
# Independent figures from the raw tables


@dataclass(frozen=True)
class Figure:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


@dataclass(frozen=True)
class PartnerRow:
    value: float | None
    status: str
    note: str | None
    received_at: datetime


class Raw:
    """Plain SQL over the raw tables of one ingested warehouse."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def one(self, sql: str, *params: object) -> tuple:
        return self.con.execute(sql, list(params)).fetchone()

    def figure(self, measure: str, series: str, fiscal_year: str, quarter: int) -> Figure:
        start, end = quarter_bounds(fiscal_year, quarter)
        key = (measure, series)
        if key in COUNTS:  # no records at all is no figure, not zero
            table, ref, day, where = COUNTS[key]
            n, received = self.one(
                f"select count(distinct {ref}) filter (where {where}), count(*) from raw.{table}"
                f" where {LOADED} and cast({day} as date) between ? and ?",
                start,
                end,
            )
            return Figure(n if received else None)
        if measure == "1.1":
            return self._repeat_callers(series, start, end)
        if key == ("4.2", "total"):
            return Figure(self._repeat_victims(end))
        if key in RATES:
            return self._rate(*RATES[key], start, end)
        if measure == "3.3":
            return self._treatment(series, end)
        if MEASURES[key]["source"] == "partner_returns":
            row = self.partner(measure, series, fiscal_year, quarter)
            return Figure(row.value if row else None)
        raise KeyError(f"no rule to compute {measure} {series}")

    def _repeat_callers(self, series: str, start: date, end: date) -> Figure:
        if series == "combined":
            parts = [self._repeat_callers(s, start, end).value for s in REPEAT_CALLERS]
            known = [p for p in parts if p is not None]
            return Figure(sum(known) if len(known) == len(parts) else None)
        table, ref, day = REPEAT_CALLERS[series]
        known, repeaters = self.one(
            f"""
            select (select count(caller_ref_hash) from raw.{table} where {LOADED}
                      and cast({day} as date) between $1 and $2),
                   count(*)
            from (select caller_ref_hash from raw.{table}
                  where {LOADED} and caller_ref_hash is not null
                    and cast({day} as date) between $1 and $2
                  group by caller_ref_hash having count(distinct {ref}) >= 3)
            """,
            start,
            end,
        )
        return Figure(repeaters if known else None)

    def _repeat_victims(self, end: date) -> int:
        """Victims with 3+ criminal damage offences to dwellings in the 12 months to ``end``."""
        return self.one(
            f"""
            select count(*) from (
                select victim_ref_hash from raw.police_recorded_crime
                where {LOADED} and offence_group = 'Criminal damage' and victim_type = 'person'
                  and premises_type = 'dwelling' and victim_ref_hash is not null
                  and recorded_date between ? and ?
                group by victim_ref_hash having count(distinct crime_ref) >= 3)
            """,
            month_start(end, -11),
            end,
        )[0]

    def _rate(
        self, table: str, day: str, hit: str, population: str, start: date, end: date
    ) -> Figure:
        num, den = self.one(
            f"select count(*) filter (where {hit}), count(*) from raw.{table}"
            f" where {LOADED} and {population} and {day} between ? and ?",
            start,
            end,
        )
        return Figure(100 * num / den if den else None, num, den)

    def _treatment(self, series: str, period_end: date) -> Figure:
        row = self.one(
            f"""
            select successful_completions, in_treatment from raw.ndtms_treatment_completions
            where {LOADED} and period_end = ? and drug_group = ? and cohort = ?
            order by _load_id desc limit 1
            """,
            period_end,
            *TREATMENT[series],
        )
        if row is None:
            return Figure(None)
        return Figure(100 * row[0] / row[1], *row)

    def partner_rows(self, measure: str, series: str, fiscal_year: str, quarter: int) -> list:
        """Every loaded delivery of one partner-return fact, latest first."""
        rows = self.con.execute(
            """
            select p.value, p.status, p.note, l.received_at
            from raw.partner_returns p join raw.load_log l on l.load_id = p._load_id
            where l.status = 'loaded' and p.measure_id = ? and p.series = ?
              and p.fiscal_year = ? and p.quarter = ?
            order by l.received_at desc, p._load_id desc
            """,
            [measure, series, fiscal_year, quarter],
        ).fetchall()
        return [PartnerRow(*row) for row in rows]

    def partner(
        self, measure: str, series: str, fiscal_year: str, quarter: int
    ) -> PartnerRow | None:
        rows = self.partner_rows(measure, series, fiscal_year, quarter)
        return rows[0] if rows else None

    def records_in(self, feed: str, fiscal_year: str, quarter: int) -> int:
        start, end = quarter_bounds(fiscal_year, quarter)
        day = RECORD_DATES[feed]
        sql = f"select count(*) from raw.{feed} where {LOADED} and cast({day} as date)"
        return self.one(f"{sql} between ? and ?", start, end)[0]

    def outturn(self, measure: str, series: str, fiscal_year: str) -> float | None:
        """The year's figure: Q4 for rolling figures, else the sum of the quarters
        (numerators over denominators for rates)."""
        if measure in ROLLING:
            return self.figure(measure, series, fiscal_year, 4).value
        quarters = [self.figure(measure, series, fiscal_year, q) for q in (1, 2, 3, 4)]
        if any(f.value is None for f in quarters):
            return None
        if MEASURES[(measure, series)]["unit"] == "percent":
            num = sum(f.numerator or 0 for f in quarters)
            return 100 * num / sum(f.denominator or 0 for f in quarters)
        return sum(f.value or 0 for f in quarters)


# --------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "landing"
    generate(folder)
    return folder


@pytest.fixture(scope="module")
def ingested(landing: Path) -> Path:
    warehouse = landing.parent / "warehouse.duckdb"
    settings = Settings(landing=landing, warehouse=warehouse, as_of=AS_OF, area_code="E06000004")
    ingest_landing(settings)
    return warehouse


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
