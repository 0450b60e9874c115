"""Revision history (orchestration/revisions.py, marts.fct_figure_revisions).

On the sample data: the 2015/16 Q3 report is published with the warehouse as of
6 January 2016 (after the probation return of 5 January, before its corrected v2 of
12 January and before the other Q3 returns), then the Q4 report with the warehouse
as of 30 April 2016.  Every figure of Q3 that changed between the two is listed with
both values, when and why: the corrected probation file and the late returns.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.config import Settings
from ingest.loader import ingest_landing
from ingest.sample_data import generate
from orchestration.revisions import FIGURES, RevisionLedgerError, freeze_published_figures
from tests.test_dbt_marts import DBT, REPO, dbt_env

AREA = "E06000004"
Q3_AS_OF, Q4_AS_OF = date(2016, 1, 6), date(2016, 4, 30)
Q3_PUBLISHED, Q4_PUBLISHED = datetime(2016, 1, 6, 12), datetime(2016, 4, 30, 12)


def _dbt(warehouse: Path, root: Path, as_of: date, select: str, verb: str = "run") -> None:
    env = {**dbt_env(warehouse), "CSP_AS_OF": as_of.isoformat()}
    command = [DBT, verb, "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    command += ["--select", select]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:]


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.slow
def test_revised_figures_are_listed_with_both_values_and_why(tmp_path: Path) -> None:
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    generate(landing)
    ingest_landing(Settings(landing=landing, warehouse=warehouse, as_of=Q4_AS_OF, area_code=AREA))

    with pytest.raises(RevisionLedgerError, match="run dbt first"):
        freeze_published_figures(warehouse, area_code=AREA, fiscal_year="2015/16", quarter=3)

    _dbt(warehouse, tmp_path, Q3_AS_OF, "resource_type:seed", verb="seed")
    _dbt(warehouse, tmp_path, Q3_AS_OF, "+fct_figure_revisions")
    shown = _query(
        warehouse,
        "select measure_id, series, quarter, value from marts.fct_measure_quarter"
        " where area_code = ? and fiscal_year = '2015/16' and quarter <= 3",
        [AREA],
    )
    frozen = freeze_published_figures(
        warehouse,
        area_code=AREA,
        fiscal_year="2015/16",
        quarter=3,
        published_at=Q3_PUBLISHED,
        as_of=Q3_AS_OF,
    )
    assert frozen == len(shown) * len(FIGURES)
    assert sorted(shown) == sorted(
        _query(
            warehouse,
            "select measure_id, series, quarter, value from revisions.published_figures"
            " where figure = 'value'",
        )
    )
    # the same figures again (a re-run of the report): nothing appended, nothing doubled
    again = freeze_published_figures(
        warehouse, area_code=AREA, fiscal_year="2015/16", quarter=3, published_at=Q3_PUBLISHED
    )
    assert again == 0
    (rows,) = _query(warehouse, "select count(*) from revisions.published_figures")
    assert rows == (frozen,)

    _dbt(warehouse, tmp_path, Q4_AS_OF, "+fct_figure_revisions")
    freeze_published_figures(
        warehouse,
        area_code=AREA,
        fiscal_year="2015/16",
        quarter=4,
        published_at=Q4_PUBLISHED,
        as_of=Q4_AS_OF,
    )
    _dbt(warehouse, tmp_path, Q4_AS_OF, "fct_figure_revisions")

    revisions = _query(
        warehouse,
        "select measure_id, series, quarter, figure, first_published_value, previous_value,"
        " revised_value, revised_at, revised_in, reason from marts.fct_figure_revisions"
        " where fiscal_year = '2015/16'",
    )
    for row in revisions:
        print(row)
    assert revisions, "no Q3 figure changed between the two reports"
    q3_before = {
        (m, s, q): v
        for m, s, q, v in _query(
            warehouse,
            "select measure_id, series, quarter, value from revisions.published_figures"
            " where report_quarter = 3 and figure = 'value'",
        )
    }
    q3_after = {
        (m, s, q): v
        for m, s, q, v in _query(
            warehouse,
            "select measure_id, series, quarter, value from revisions.published_figures"
            " where report_quarter = 4 and quarter <= 3 and figure = 'value'",
        )
    }
    changed = {k for k in q3_before if q3_before[k] != q3_after[k]}
    listed = {(m, s, q) for m, s, q, f, *_ in revisions if f == "value" and _[4] == "2015/16 Q4"}
    assert listed == changed
    for _m, _s, _q, _f, first, previous, revised, revised_at, revised_in, _r in revisions:
        assert revised != previous
        if revised_in == "2015/16 Q4":
            assert revised_at == Q4_PUBLISHED and first == previous
    reasons = " | ".join(r[-1] for r in revisions)
    corrected = "partner_returns: probation_return_2015-16_Q3_v2.csv"
    assert f"a corrected file superseded an earlier one ({corrected}" in reasons
    assert "a late return arrived (" in reasons
