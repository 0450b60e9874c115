"""The sample's 2016/17 Q4 workbook, the report below borough level, and what
``build_report`` refuses.

Split from tests/test_report.py; the sample report is rendered once per session
(``tests.test_report.sample_report``); expectations come from the marts queried directly."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import openpyxl
import pytest

from report import (
    ReportDataError,
    build_report,
    render_html,
)
from report.suppression import (
    BELOW_BOROUGH,
)
from tests.test_report import (
    GENERATED,
    MISSING_SQL,
    RAG_FILLS,
    RECONCILIATION_SQL,
    ReportParser,
    SampleReport,
    _count,
    _half_up,
    _quarter_facts,
    catalogue,
    sample_report,
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> SampleReport:
    return sample_report(tmp_path_factory)


def test_workbook_holds_the_same_figures(report: SampleReport) -> None:
    facts = _quarter_facts(report.build)
    workbook = openpyxl.load_workbook(report.xlsx)
    assert workbook.sheetnames == [
        "Report",
        "Figures",
        "Missing returns",
        "Reconciliation",
        "Trend data",
        "Definitions",
        "Notes",
        "Context",
    ]
    sheet = workbook["Report"]
    header = [c.value for c in sheet[4]]
    col = {name: header.index(name) for name in header}
    seen = set()
    for row in sheet.iter_rows(min_row=5):
        measure, series = row[0].value, row[1].value
        if series is None:  # a theme heading
            continue
        fact = facts[(measure, series)]
        seen.add((measure, series))
        for header_name, name in (
            ("This quarter", "value"),
            ("Same quarter last year", "last_year_value"),
            ("Change", "change"),
            ("Year to date", "ytd_value"),
            ("Year to date last year", "ytd_last_year_value"),
            ("Baseline / target", "baseline"),
        ):
            cell = row[col[header_name]].value
            expected = fact[name]
            if name == "change" and None not in (fact["value"], fact["last_year_value"]):
                places = 1 if fact["unit"] == "percent" else 0  # as printed: issue 13 no. 2
                expected = float(
                    _half_up(fact["value"], places) - _half_up(fact["last_year_value"], places)
                )
            if expected is not None and fact["unit"] == "percent" and name != "change":
                expected = expected / 100  # a rate is a fraction formatted as a percentage
            if expected is None:
                assert not isinstance(cell, float | int), (measure, series, header_name, cell)
            else:
                # Excel keeps 15 significant digits
                assert cell == pytest.approx(expected, rel=1e-13), (measure, series, header_name)
        rag = row[col["RAG"]]
        assert (rag.value, rag.fill.fgColor.rgb[-6:]) == (fact["rag"], RAG_FILLS[fact["rag"]])
        provisional = " (provisional)" if fact["verdict_basis"] else ""
        assert row[col["Status"]].value == fact["status"] + provisional
    assert seen == set(catalogue())
    assert workbook["Missing returns"].max_row - 1 == _count(report.build, MISSING_SQL)
    assert workbook["Reconciliation"].max_row - 1 == _count(report.build, RECONCILIATION_SQL)
    owners = {c.value for c in workbook["Missing returns"]["F"][1:]}
    assert "Probation (CRC and NPS)" in owners


def test_the_workbook_is_usable_by_an_analyst(report: SampleReport) -> None:
    """Issue 13 finding 8: number columns hold numbers or nothing, dates are dates,
    rates are fractions formatted as percentages, the lists are Excel tables, a
    definitions sheet comes from dim_measure, and no number shows '777.0'."""
    workbook = openpyxl.load_workbook(report.xlsx)
    sheet = workbook["Report"]
    header = [c.value for c in sheet[4]]
    numbers = [header.index(c) for c in ("This quarter", "Same quarter last year", "Change")]
    numbers += [header.index(c) for c in ("% change", "Year to date", "Baseline / target")]
    for row in sheet.iter_rows(min_row=5):
        if row[1].value is None:
            continue
        for index in numbers:
            assert row[index].value is None or isinstance(row[index].value, int | float), (
                row[0].value,
                row[1].value,
                header[index],
                row[index].value,
            )
    engaged = next(r for r in sheet.iter_rows(min_row=5) if r[1].value == "engaged_pct")
    value = engaged[header.index("This quarter")]
    assert value.value == pytest.approx(70 / 86) and value.number_format == "0.0%"
    missing = workbook["Missing returns"]
    due = [c.value for c in next(missing.iter_cols(min_col=9, max_col=9, min_row=2))]
    assert due and all(isinstance(d, datetime) for d in due)
    for name, table in (
        ("Missing returns", "MissingReturns"),
        ("Reconciliation", "Reconciliation"),
        ("Trend data", "TrendData"),
        ("Definitions", "Definitions"),
    ):
        assert table in workbook[name].tables, name
    definitions = list(workbook["Definitions"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[1]) for r in definitions} == set(catalogue())
    for cell in workbook["Reconciliation"]["H"][1:]:
        assert "0.0##" not in cell.number_format
    trend = workbook["Trend data"]
    assert trend.cell(row=1, column=9).value == "RAG of the year to date at the quarter"


def test_below_borough_every_small_figure_is_suppressed(report: SampleReport) -> None:
    ward = dataclasses.replace(report.data, area_code="E05001234", level=BELOW_BOROUGH)
    parser = ReportParser()
    parser.feed(render_html(ward, GENERATED))
    police = {k: v[0] for k, v in parser.rows["data-series"]["1.1 police"].items()}
    assert police["value"] == "<5"  # 3 repeat callers
    assert police["last_year_value"] == "10"
    assert police["change"] == police["pct_change"] == "withheld"
    assert police["commentary"].startswith("<5 repeat callers to the police compared to 10")
    completions = {k: v[0] for k, v in parser.rows["data-series"]["3.1 completions"].items()}
    assert completions["value"] == "0" and completions["last_year_value"] == "<5"
    opiate = {k: v[0] for k, v in parser.rows["data-series"]["3.3 opiate_cj"].items()}
    assert opiate["value"] == "2.7%"  # 5 of 182: shown
    assert "<5" not in report.text.split('id="reconciliation"')[0]  # the borough report


def test_build_report_refuses_what_the_marts_cannot_give(report: SampleReport) -> None:
    with pytest.raises(ReportDataError, match="had not ended|not in marts"):
        build_report(report.build.warehouse, "2017/18", 1)
    with pytest.raises(ReportDataError, match="not in marts.dim_measure"):
        build_report(report.build.warehouse, "2016/17", 4, "E06000001")
    with pytest.raises(ReportDataError, match="no DuckDB file"):
        build_report(report.build.warehouse.with_name("nothing.duckdb"), "2016/17", 4)
