"""`make trace`: a figure traced from its files to the mart, on the sample build."""

from __future__ import annotations

import re

import pytest

from ingest.config import Settings
from orchestration.trace import Quarter, TraceError, main, trace
from tests.test_dbt_marts import AREA, sample_build


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(warehouse=sample_build(tmp_path_factory).warehouse, area_code=AREA[0])


def test_asb_incidents_2016_17_q4_come_from_three_monthly_police_files(settings):
    lines = trace(settings, "1.3", Quarter.parse("2016-17-Q4"))
    files = [line for line in lines if line.startswith("file ")]
    assert [re.search(r"asb_incidents_(\d{4}-\d{2})\.csv", f)[1] for f in files] == [
        "2017-01",
        "2017-02",
        "2017-03",
    ]
    raw_rows = sum(int(re.search(r": ([\d,]+) rows in raw", f)[1].replace(",", "")) for f in files)
    assert raw_rows == 2801
    assert "staging   staging.stg_police__asb_incidents: 2,801 rows" in lines
    assert lines[-1] == "mart      marts.fct_measure_quarter: 2,801 (reported)"
    assert lines.index(files[0]) < lines.index(lines[-1])  # file first, mart last


def test_trace_says_why_it_cannot(settings, monkeypatch, capsys):
    with pytest.raises(TraceError, match="2016-17-Q4"):
        Quarter.parse("2017-01-01")
    with pytest.raises(TraceError, match="several series"):
        trace(settings, "1.1", Quarter.parse("2016-17-Q4"))
    monkeypatch.setenv("CSP_WAREHOUSE", str(settings.warehouse))
    assert main(["9.9", "2016-17-Q4"]) == 2
    assert "no figure 9.9" in capsys.readouterr().err
