"""The report's analysis context (report/context.py, docs/analysis.md and docs/report.md):

- the significance phrase goes into the change it qualifies (the quarter's, the year
  to date's), never into a gap sentence or a "no change";
- on the sample build, 2016/17 Q4: every series the mart tests carries its verdict in
  the commentary (HTML and workbook), there is no forecast at Q4, the peer panel says
  peers need the national data and how to load it, and the ONS population year is named;
- generated for Q3, the report forecasts the year end, labelled as a forecast, with the
  mart's interval;
- with national data (peer marts filled, here a small hand-made set in a real DuckDB),
  the peer panel draws a ranked chart per police.uk series with the mart's verdict;
- revisions: a report published for 2016/17 Q3 is frozen; a corrected delivery for Q3
  arrives; after the next build the Q4 report lists the changed figure (old -> new, the
  delivery that changed it), and freezing Q4 records the revision against Q3.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from catalogue.fiscal import FiscalQuarter
from ingest.config import Settings
from ingest.loader import ingest_landing
from orchestration.revisions import freeze_after_report, freeze_published_figures
from report import build_report, build_views, render_html, write_report
from report.context import (
    AnalysisView,
    analysis_view,
    commentary_with_analysis,
    forecast_sentence,
    read_analysis,
)
from tests.test_dbt_marts import AREA, AS_OF, DBT, REPO, SampleBuild, dbt_env, sample_build

GENERATED = datetime(2017, 6, 1, 9, 0)


def _view(**kwargs) -> AnalysisView:
    base = dict(
        significance={},
        ytd_significance={},
        forecasts={},
        peers=[],
        peers_note="",
        population_note="",
        revisions=[],
    )
    return AnalysisView(**(base | kwargs))


# --------------------------------------------------------------------------------------
# Wording (pure)


def test_significance_phrase_qualifies_the_change_it_belongs_to() -> None:
    text = (
        "2,801 incidents compared to 2,593 last year; an increase of 208 (+8.0%). This gives"
        " a total of 12,833 incidents this financial year compared to 12,043 last year; an"
        " increase of 790 (+6.6%). Target achieved: 12,833 incidents against 13,425."
    )
    view = _view(
        significance={"1.3 total": "a significant increase"},
        ytd_significance={"1.3 total": "within normal variation"},
    )
    assert commentary_with_analysis("1.3 total", text, view) == (
        "2,801 incidents compared to 2,593 last year; an increase of 208 (+8.0%), a"
        " significant increase. This gives a total of 12,833 incidents this financial year"
        " compared to 12,043 last year; an increase of 790 (+6.6%), within normal"
        " variation. Target achieved: 12,833 incidents against 13,425."
    )
    # another series' verdict is not used; a rate's points change takes it too
    rate = "81.4% of referrals engaged (70 of 86) compared to 75.0% last year; up 6.4 points."
    assert commentary_with_analysis("1.3 total", rate, _view()) == rate
    assert commentary_with_analysis(
        "5.1 total", rate, _view(significance={"5.1 total": "within normal variation"})
    ).endswith("up 6.4 points, within normal variation.")


@pytest.mark.parametrize(
    "text",
    [
        "12 incidents compared to 12 last year; no change.",
        "No return received from Probation: due 20 April 2017, 41 days overdue."
        " Same quarter last year: 12.",
        "12 incidents; no usable figure for the same quarter last year. This gives a year to"
        " date total of 40 incidents compared to 30 last year; an increase of 10 (+33.3%).",
    ],
)
def test_no_phrase_where_there_is_no_tested_change(text: str) -> None:
    view = _view(significance={"k": "a significant increase"})
    assert commentary_with_analysis("k", text, view) == text


def test_forecast_sentence_is_labelled_and_gives_interval_and_chance() -> None:
    row = SimpleNamespace(
        forecast_value=12900.4,
        lower_80=12400.0,
        upper_80=13500.2,
        probability_of_meeting_target=0.713,
        target_value=13425,
        target_rule="below_fixed_baseline",
    )
    assert forecast_sentence(row) == (
        "Forecast for the year end: 12,900 (80% range 12,400 to 13,500);"
        " 71% likely to end below 13,425."
    )
    assert forecast_sentence(SimpleNamespace(**(vars(row) | {"forecast_value": None}))) == ""
