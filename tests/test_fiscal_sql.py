"""The SQL that ingest and the GX suites run over raw (catalogue.fiscal ``sql_*``) agrees
with the fiscal_calendar seed, on every day of every quarter's edges (issue 11)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from catalogue import seed_rows
from catalogue.fiscal import (
    FISCAL_YEAR_PATTERN,
    sql_fiscal_year_label,
    sql_quarter_end,
    sql_quarter_label,
    sql_quarter_of,
    sql_quarter_start,
    sql_start_year_of,
)
from ingest.feeds import Column
from ingest.validate import typed_value


@pytest.fixture(scope="module")
def calendar() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "create table cal (fiscal_year varchar, start_year integer, quarter integer,"
        " period_start date, period_end date)"
    )
    con.executemany(
        "insert into cal values (?, ?, ?, ?, ?)",
        [
            [r["fiscal_year"], int(r["fiscal_year_start"]), int(r["quarter"])]
            + [date.fromisoformat(r["period_start"]), date.fromisoformat(r["period_end"])]
            for r in seed_rows("fiscal_calendar")
        ],
    )
    return con


def test_quarter_bounds_from_fiscal_year_and_quarter_are_the_seeds(calendar) -> None:
    wrong = calendar.execute(
        f"""select fiscal_year, quarter from cal
        where {sql_quarter_start("fiscal_year", "quarter")} is distinct from period_start
           or {sql_quarter_end("fiscal_year", "quarter")} is distinct from period_end"""
    ).fetchall()
    assert calendar.execute("select count(*) from cal").fetchone()[0] >= 80
    assert wrong == []


def test_every_edge_day_falls_in_the_seeds_quarter(calendar) -> None:
    """The first and last day of each quarter, and the days either side, get the seed's
    fiscal year, quarter and label."""
    days = []
    for start, end in calendar.execute("select period_start, period_end from cal").fetchall():
        days += [start, end, start + timedelta(days=1), end - timedelta(days=1)]
    calendar.execute("create or replace temp table days (d date)")
    calendar.executemany("insert into days values (?)", [[d] for d in days])
    wrong = calendar.execute(
        f"""select d from days join cal on d between cal.period_start and cal.period_end
        where {sql_fiscal_year_label(sql_start_year_of("d"))} <> cal.fiscal_year
           or {sql_start_year_of("d")} <> cal.start_year
           or {sql_quarter_of("d")} <> cal.quarter
           or {sql_quarter_label("d")} <> cal.fiscal_year || ' Q' || cal.quarter"""
    ).fetchall()
    assert calendar.execute("select count(*) from days").fetchone()[0] == len(days)
    assert wrong == []


def test_ingest_normalises_a_fiscal_year_to_the_seeds_label(calendar) -> None:
    """ingest/validate.py's fiscal_year typing writes the seed's label, and the label
    matches the GX suites' pattern; a year whose halves do not follow is NULL."""
    column = Column("fiscal_year", "fiscal_year")
    expr = typed_value(column, "v")
    for label, start in calendar.execute(
        "select distinct fiscal_year, start_year from cal"
    ).fetchall():
        for written in (label, f"{start}-{(start + 1) % 100:02d}", f"{start} / {start + 1}"):
            assert (
                calendar.execute(f"select {expr} from (select ? as v)", [written]).fetchone()[0]
                == label
            ), written
        assert calendar.execute(
            "select regexp_full_match(?, ?)", [label, FISCAL_YEAR_PATTERN.strip("^$")]
        ).fetchone()[0]
    assert calendar.execute(f"select {expr} from (select '2016/18' as v)").fetchone()[0] is None
