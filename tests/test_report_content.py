"""Issue 13's report content: what the published report had, the one-page summary, and
the workbook an analyst can pivot.

On the sample's 2016/17 Q4 report (rendered once per session by
``tests.test_report.sample_report``), with expectations from the seeds and the marts
queried directly, never from the report code:

- every series prints its year's quarters as numbers, what its baseline is, the plan
  years' outturns with their verdicts; every measure its full description;
- a changed description or baseline wording in the data reaches the page (no code);
- the summary says what changed since last quarter (verdicts whose RAG moved, with the
  figures) and which agency owes which returns, before the first theme;
- the workbook's ``Figures`` sheet is long and tidy (one row per series x quarter x
  figure, an Excel table; numbers or blanks; rates as fractions; dates as dates) and
  ``Definitions`` carries the descriptions;
- printed by Chromium the summary is page 1 and the report at most 8 pages.
"""

from __future__ import annotations

import csv
import dataclasses
import re
import shutil
import subprocess
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from report import render_html
from report.context import verdict_changes
from report.views import build_views
from tests.conftest import SEEDS
from tests.test_report import GENERATED, ReportParser, SampleReport, sample_report

FIGURES_PER_QUARTER = 14  # the Figures sheet's figures per series-quarter


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    return sample_report(tmp_path_factory)


@pytest.fixture(scope="module")
def parsed(report: SampleReport) -> ReportParser:
    parser = ReportParser()
    parser.feed(report.text)
    return parser


def _rows(report: SampleReport, sql: str) -> list[dict]:
    con = duckdb.connect(str(report.build.warehouse), read_only=True)
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    finally:
        con.close()


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _printed(value: float | None, unit: str) -> str:
    """A figure as the report prints it, formatted here independently (half up)."""
    assert value is not None
    places = 1 if unit == "percent" else 0
    number = Decimal(repr(float(value))).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    return f"{number}%" if unit == "percent" else f"{int(number):,}"


def _cells(parsed: ReportParser, key: str) -> dict[str, str]:
    return {name: text for name, (text, _) in parsed.rows["data-series"][key].items()}


# --------------------------------------------------------------------------------------
# the published report's content, per series


def test_every_series_prints_its_quarters_as_numbers(
    report: SampleReport, parsed: ReportParser
) -> None:
    facts = _rows(
        report,
        "select measure_id, series, quarter, unit, value from marts.fct_measure_quarter"
        " where fiscal_year = '2016/17' order by measure_id, series, quarter",
    )
    assert len(facts) == 29 * 4
    for fact in facts:
        key = f"{fact['measure_id']} {fact['series']}"
        quarters = _cells(parsed, key)["quarters"]
        assert quarters.startswith("2016/17: Q1 "), (key, quarters)
        if fact["value"] is not None:
            wanted = f"Q{fact['quarter']} {_printed(fact['value'], fact['unit'])}"
            assert wanted in quarters, (key, wanted, quarters)
    # the published Q1-Q3 figures of 1.3 (3,189; 3,560; 3,283) are numbers on the page
    assert _cells(parsed, "1.3 total")["quarters"].startswith("2016/17: Q1 3,189 · Q2 3,560")


def test_every_series_prints_the_plan_years_outturns_and_verdicts(
    report: SampleReport, parsed: ReportParser
) -> None:
    years = [
        r["plan_year"]
        for r in _rows(
            report, "select distinct plan_year from marts.fct_measure_target_year order by 1"
        )
    ]
    assert years == ["2014/15", "2015/16", "2016/17"]  # the three-year plan
    verdicts = _rows(
        report,
        "select t.measure_id, t.series, t.fiscal_year, t.status_label as status, f.unit,"
        " coalesce(t.assessed_value, f.ytd_value) as outturn"
        " from marts.fct_target_status t join marts.fct_measure_quarter f"
        " using (area_code, measure_id, series, fiscal_year, quarter)"
        " where t.quarter = 4 and t.fiscal_year in ('2014/15', '2015/16', '2016/17')",
    )
    assert len(verdicts) == 29 * 3
    for row in verdicts:
        plan = _cells(parsed, f"{row['measure_id']} {row['series']}")["plan"]
        assert f"{row['fiscal_year']}: " in plan, (row, plan)
        if row["outturn"] is not None and row["status"]:
            wanted = f"{row['fiscal_year']}: {_printed(row['outturn'], row['unit'])}"
            assert wanted + f" {row['status'].lower()}" in plan, (wanted, plan)
    # the published 1.3 line: three years, each achieved
    assert _cells(parsed, "1.3 total")["plan"].count("achieved") == 3


def test_every_baseline_says_what_it_is(report: SampleReport, parsed: ReportParser) -> None:
    notes = [r for r in _seed("measure_targets.csv") if r["fiscal_year"] == "2016/17"]
    assert notes and all(r["note"] for r in notes), "every 2016/17 baseline is described"
    for row in notes:
        cells = _cells(parsed, f"{row['measure_id']} {row['series']}")
        assert cells["baseline_description"] == f"Baseline: {row['note']}"
    assert "3 year average 2012-2014" in _cells(parsed, "1.3 total")["baseline_description"]


def test_every_measure_prints_its_full_description_once(
    report: SampleReport, parsed: ReportParser
) -> None:
    descriptions = {r["measure_id"]: r["description"] for r in _seed("measure_descriptions.csv")}
    measures = {k.split()[0] for k in parsed.rows["data-series"]}
    assert set(descriptions) == measures
    shown = {
        key.split()[0]: cells["description"][0]
        for key, cells in parsed.rows["data-series"].items()
        if "description" in cells
    }
    assert set(shown) == measures  # once per measure: on its first series
    for measure, text in descriptions.items():
        assert shown[measure] == f"{measure} {' '.join(text.split())}"


def test_descriptions_and_baseline_words_come_from_the_data(report: SampleReport) -> None:
    """A reworded description or baseline is a data change: no code change needed."""
    series = report.data.series.copy()
    mask = series["measure_id"] == "1.3"
    series.loc[mask, "description"] = "A reworded plan line for 1.3."
    series.loc[mask, "baseline_description"] = "a new baseline rule"
    html = render_html(dataclasses.replace(report.data, series=series), generated_at=GENERATED)
    assert "A reworded plan line for 1.3." in html
    assert "Baseline: a new baseline rule" in html
    assert "Reduce anti-social behaviour in the borough" not in html


# --------------------------------------------------------------------------------------
# the summary


def _summary(report: SampleReport) -> str:
    text = report.text
    return text[text.index('id="summary"') : text.index('class="theme"')]


def test_summary_says_what_changed_since_last_quarter(report: SampleReport) -> None:
    moved = _rows(
        report,
        "select q4.measure_id || ' ' || q4.series as key, q3.rag_label as was,"
        " q4.rag_label as now"
        " from marts.fct_target_status q4 join marts.fct_target_status q3"
        " using (area_code, measure_id, series, fiscal_year)"
        " where q4.fiscal_year = '2016/17' and q4.quarter = 4 and q3.quarter = 3"
        " and coalesce(q3.rag, 'grey') <> coalesce(q4.rag, 'grey')",
    )
    summary = _summary(report)
    assert "What changed since 2016/17 Q3" in summary
    listed = set(re.findall(r'data-change="([^"]+)"', summary))
    assert listed == ({r["key"] for r in moved} or {"none"})
    for row in moved:
        entry = re.search(rf'data-change="{re.escape(row["key"])}">(.*?)</tr>', summary, re.S)
        assert (
            entry
            and f"rag-{row['was']}" in entry.group(1)
            and f"rag-{row['now']}" in (entry.group(1))
        )
        assert "at 2016/17 Q3:" in entry.group(1)  # with the figures of both quarters


def test_a_verdict_that_moved_is_listed_with_both_figures(report: SampleReport) -> None:
    """On data where 2.3 was Green at Q3 and is Red now, the summary names the move."""
    series = report.data.series.copy()
    views = build_views(report.data)
    mask = (series["measure_id"] == "1.3") & (series["series"] == "total")
    now = views.series[[v.key for v in views.series].index("1.3 total")]
    series.loc[mask, "previous_rag"] = "Red" if now.rag != "Red" else "Green"
    series.loc[mask, "previous_status"] = "OFF TRACK"
    series.loc[mask, "previous_assessed_value"] = 10032.0
    series.loc[mask, "previous_comparator_value"] = 10068.75
    data = dataclasses.replace(report.data, series=series)
    changes = {c.key: c for c in verdict_changes(data, views.series)}
    change = changes["1.3 total"]
    assert change.before == "OFF TRACK" and change.after == now.status
    assert change.figures.endswith("(at 2016/17 Q3: 10,032 against 10,069)")


def test_summary_says_which_agency_owes_what(report: SampleReport) -> None:
    owners = {
        r["owner"]
        for r in _rows(
            report,
            "select distinct owner from marts.fct_missing_returns where fiscal_year = '2016/17'",
        )
    }
    summary = _summary(report)
    listed = set(re.findall(r'data-owed="([^"]+)"', summary))
    assert owners and owners <= {o.replace("&amp;", "&") for o in listed}
    assert "Off target (Red or Amber)" in summary


# --------------------------------------------------------------------------------------
# the workbook


@pytest.fixture(scope="module")
def workbook(report: SampleReport) -> openpyxl.Workbook:
    return openpyxl.load_workbook(report.xlsx)


def test_figures_sheet_is_long_tidy_and_an_excel_table(
    report: SampleReport, workbook: openpyxl.Workbook
) -> None:
    sheet = workbook["Figures"]
    header = [c.value for c in sheet[1]]
    assert header[:10] == [
        "No", "Series", "Measure", "Theme", "Unit", "Year", "Quarter", "Period end",
        "Figure", "Number",
    ]  # fmt: skip
    table = sheet.tables["Figures"]
    assert table.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}{sheet.max_row}"
    quarters = _rows(
        report,
        "select count(*) as n from marts.fct_measure_quarter"
        " where period_end between '2014-06-30' and '2017-03-31'",
    )[0]["n"]
    assert sheet.max_row - 1 == quarters * FIGURES_PER_QUARTER  # series x quarter x figure
    col = {name: i for i, name in enumerate(header)}
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    keys = {(r[col["No"]], r[col["Series"]], r[col["Year"]], r[col["Quarter"]], r[col["Figure"]])
            for r in rows}  # fmt: skip
    assert len(keys) == len(rows)  # one row per series x quarter x figure
    for r in rows:
        assert r[col["Number"]] is None or isinstance(r[col["Number"]], int | float), r
        assert isinstance(r[col["Period end"]], datetime), r


def test_figures_sheet_holds_the_marts_numbers(
    report: SampleReport, workbook: openpyxl.Workbook
) -> None:
    sheet = workbook["Figures"]
    header = [c.value for c in sheet[1]]
    col = {name: i for i, name in enumerate(header)}
    cells = {
        (r[col["No"]].value, r[col["Series"]].value, r[col["Year"]].value,
         r[col["Quarter"]].value, r[col["Figure"]].value): r
        for r in sheet.iter_rows(min_row=2)
    }  # fmt: skip
    facts = _rows(
        report,
        "select f.measure_id, f.series, f.unit, f.value, f.ytd_value, f.data_status,"
        " t.target_value_year as target_value"
        " from marts.fct_measure_quarter f join marts.fct_target_status t"
        " using (area_code, measure_id, series, fiscal_year, quarter)"
        " where f.fiscal_year = '2016/17' and f.quarter = 4",
    )
    for fact in facts:
        key = (fact["measure_id"], fact["series"], "2016/17", "Q4")
        rate = fact["unit"] == "percent"
        for figure, wanted in (
            ("Value", fact["value"]),
            ("Year to date", fact["ytd_value"]),
            ("Target for the year", fact["target_value"]),
        ):
            cell = cells[(*key, figure)][col["Number"]]
            if wanted is None:
                assert cell.value is None, (key, figure)
            else:  # a rate is a fraction with a percentage format
                assert cell.value == pytest.approx(wanted / 100 if rate else wanted), key
                assert cell.number_format == ("0.0%" if rate else "#,##0"), key
        status = cells[(*key, "Value")][col["Data status"]].value
        assert status, key  # why a number is blank is in its own column
    assert cells[("1.3", "total", "2016/17", "Q4", "Year to date")][col["Number"]].value == 12833


def test_definitions_sheet_has_descriptions_and_baselines(workbook: openpyxl.Workbook) -> None:
    sheet = workbook["Definitions"]
    header = [c.value for c in sheet[1]]
    assert "Definitions" in sheet.tables
    col = {name: i for i, name in enumerate(header)}
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 29
    descriptions = {r["measure_id"]: r["description"] for r in _seed("measure_descriptions.csv")}
    for r in rows:
        assert r[col["Description (as published)"]] == descriptions[r[col["No"]]]
        assert r[col["How it is computed"]], r
    by_key = {(r[col["No"]], r[col["Series"]]): r for r in rows}
    assert by_key[("1.3", "total")][col["What the baseline is"]] == "3 year average 2012-2014"
    assert "2014/15: 12," in by_key[("1.3", "total")][col["Plan years' outturns"]]


# --------------------------------------------------------------------------------------
# on paper


@pytest.mark.browser
def test_summary_is_page_one_and_the_report_at_most_eight_pages(
    report: SampleReport, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium or not shutil.which("pdftotext"):
        pytest.skip(
            "needs headless Chromium and pdftotext (apt-get install chromium poppler-utils)"
        )
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", report.html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")
    pages = pages[:-1] if not pages[-1].strip() else pages
    assert len(pages) <= 8, f"{len(pages)} pages"
    first = pages[0]
    for heading in ("Summary", "What changed since", "Off target", "Returns owed, by agency"):
        assert heading in first, heading
    assert "Plan years:" not in first  # the series rows start on page 2


# --------------------------------------------------------------------------------------
# the corrections


def test_each_slip_lists_the_figures_it_affects_with_their_numbers(
    report: SampleReport, parsed: ReportParser
) -> None:
    slips = parsed.rows["data-slip"]
    year = {name: text for name, (text, _) in slips["1.3 total 2016/17 FY"].items()}
    change = _rows(
        report,
        "select published_value, expected_value from marts.fct_published_reconciliation"
        " where measure_id = '1.3' and fiscal_year = '2016/17' and period = 'FY'"
        " and figure = 'change' order by check_kind desc",
    )[0]
    assert year["affects"].split(", ")[0] == "change"
    wanted = f"{int(change['published_value']):,} → {int(change['expected_value']):,}"
    assert year["affected"].startswith(f"({wanted};"), year["affected"]  # 777 → 790
    for key, cells in slips.items():
        if "affected" in cells:  # one published → correct pair per figure named
            named = cells["affects"][0].split(", ")
            assert cells["affected"][0].count("→") == len(named), key


def test_report_sheet_title_has_no_system_names(workbook: openpyxl.Workbook) -> None:
    subtitle = str(workbook["Report"]["A2"].value)
    assert subtitle.startswith("Stockton-on-Tees Community Safety Partnership.")
    for jargon in ("marts", "warehouse", "E06000004"):
        assert jargon not in subtitle, jargon
