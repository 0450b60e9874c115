"""Chase lists per agency from ``marts.fct_missing_returns`` (issue 12).

- on the sample (as of 2017-05-31) the 2016/17 lists, materialised as the Dagster asset
  from the serving copy, hold exactly the mart's 2016/17 rows, grouped by agency, in CSV,
  plain text and HTML;
- text from the data is escaped in HTML and neutralised in CSV (OWASP CSV injection);
- a rewrite leaves no temporary file and removes the list of an agency with nothing due.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from orchestration.chase import (
    ChaseList,
    chase_folder,
    chase_lists,
    to_csv,
    to_html,
    to_text,
    write_chase_lists,
)
from orchestration.publish import publish_marts, serving_path
from orchestration.resources import WarehouseSettings
from tests.test_dbt_marts import AREA, AS_OF, sample_build


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    build = sample_build(tmp_path_factory)
    folder = tmp_path_factory.mktemp("chase")
    warehouse = folder / "warehouse.duckdb"
    shutil.copy2(build.warehouse, warehouse)
    publish_marts(warehouse, as_of=AS_OF, area=AREA[0])
    return warehouse


def _mart_rows(warehouse, fiscal_year):
    con = duckdb.connect(str(serving_path(warehouse)), read_only=True)
    try:
        return con.execute(
            "select owner, measure_id, series, quarter, status, due_date, days_overdue, note"
            " from marts.fct_missing_returns where fiscal_year = ?",
            [fiscal_year],
        ).fetchall()
    finally:
        con.close()


def test_sample_chase_lists_hold_every_outstanding_return_by_agency(published):
    resource = WarehouseSettings(warehouse=str(published), as_of=AS_OF.isoformat(), area=AREA[0])
    result = dg.materialize([chase_lists], resources={"warehouse": resource})
    assert result.success
    folder = chase_folder(published, AS_OF)
    expected = _mart_rows(published, "2016/17")
    assert expected, "the sample has outstanding 2016/17 returns"
    listed = []
    for path in sorted(folder.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert {r["agency"] for r in rows} == {rows[0]["agency"]}, f"{path.name}: one agency"
        text = path.with_suffix(".txt").read_text()
        page = path.with_suffix(".html").read_text()
        assert f"To: {rows[0]['agency']}" in text
        for r in rows:
            listed.append(
                (
                    r["agency"],
                    r["measure_id"],
                    r["series"],
                    int(r["quarter"]),
                    r["status"],
                    date.fromisoformat(r["due_date"]),
                    int(r["days_without_data"]),
                    r["reason"],
                )
            )
            assert f"({r['series']}), 2016/17 Q{r['quarter']}: due {r['due_date']}" in text
            assert r["reason"] in text
            assert f"<td>{r['series']}</td>" in page
    assert sorted(listed) == sorted(expected)
    assert {p.suffix for p in folder.iterdir()} == {".csv", ".txt", ".html"}
    agencies = {row[0] for row in expected}
    assert len(list(folder.glob("*.csv"))) == len(agencies)
    event = result.get_asset_materialization_events()[0].materialization
    assert event.metadata["returns_to_chase"].value == len(expected)


def _hostile() -> ChaseList:
    row = {
        "agency": '=HYPERLINK("http://x")',
        "area_code": "E06000004",
        "measure_id": "9.9",
        "title": "<script>alert(1)</script>",
        "series": "a&b",
        "fiscal_year": "2016/17",
        "quarter": 1,
        "feed": "partner_returns",
        "due_date": date(2016, 7, 20),
        "received_date": None,
        "status": "rejected",
        "days_without_data": 3,
        "reason": '-2+3 "<b>" @SUM(A1)',
    }
    return ChaseList(row["agency"], "2016/17", AS_OF, [row])


def test_html_is_escaped_and_csv_cells_cannot_run_as_formulas():
    chase = _hostile()
    page = to_html(chase)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b" in page and "&quot;&lt;b&gt;&quot;" in page
    rows = list(csv.reader(to_csv(chase).splitlines()))
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["agency"] == '\'=HYPERLINK("http://x")'
    assert cells["reason"] == '\'-2+3 "<b>" @SUM(A1)'
    assert cells["measure_id"] == "9.9" and cells["received_date"] == ""
    assert "Subject: Community Safety Partnership: 1 return to follow up" in to_text(chase)


def test_rewrite_is_atomic_and_drops_agencies_with_nothing_due(tmp_path):
    chase = _hostile()
    other = ChaseList("Police", "2016/17", AS_OF, chase.rows)
    write_chase_lists([chase, other], tmp_path)
    assert len(list(tmp_path.iterdir())) == 6
    write_chase_lists([other], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["police.csv", "police.html", "police.txt"]
