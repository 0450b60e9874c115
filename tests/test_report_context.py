"""The report's analysis context (report/analysis.py, docs/analysis.md and docs/report.md):

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
import pytest
from openpyxl import load_workbook

from catalogue.fiscal import FiscalQuarter
from ingest.config import Settings
from ingest.loader import ingest_landing
from orchestration.revisions import freeze_after_report, freeze_published_figures
from report import build_report, build_views, render_html, write_report
from report.analysis import (
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
        peer_names=[],
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
        ytd_significance={"1.3 total": "not a significant change"},
    )
    assert commentary_with_analysis("1.3 total", text, view) == (
        "2,801 incidents compared to 2,593 last year; an increase of 208 (+8.0%), a"
        " significant increase. This gives a total of 12,833 incidents this financial year"
        " compared to 12,043 last year; an increase of 790 (+6.6%), not a significant"
        " change. Target achieved: 12,833 incidents against 13,425."
    )
    # another series' verdict is not used; a rate's points change takes it too
    rate = "81.4% of referrals engaged (70 of 86) compared to 75.0% last year; up 6.4 points."
    assert commentary_with_analysis("1.3 total", rate, _view()) == rate
    assert commentary_with_analysis(
        "5.1 total", rate, _view(significance={"5.1 total": "not a significant change"})
    ).endswith("up 6.4 points, not a significant change.")


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


# --------------------------------------------------------------------------------------
# The sample build (one area): 2016/17 Q4 and Q3


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


def _verdicts(build: SampleBuild, fiscal_year: str, quarter: int) -> dict[str, str]:
    rows = build.query(
        "select measure_id || ' ' || series, significance from marts.fct_change_significance"
        " where fiscal_year = ? and quarter = ? and comparison = 'same_quarter_last_year'",
        [fiscal_year, quarter],
    )
    return dict(rows)


def test_every_tested_series_says_whether_its_change_is_significant(
    build: SampleBuild, tmp_path: Path
) -> None:
    data = build_report(build.warehouse, "2016/17", 4)
    views = build_views(data)
    words = {
        "significant increase": ", a significant increase.",
        "significant decrease": ", a significant decrease.",
        "no significant change": ", not a significant change.",
    }
    caveats = set(
        build.query(
            "select measure_id || ' ' || series from marts.dim_report_note"
            " where kind = 'caveat' and fiscal_year = '2016/17' and quarter <= 4"
        )
    )
    assert ("1.1 combined",) in caveats  # last year's figure is not comparable
    checked = 0
    for view in views.series:
        verdict = _verdicts(build, "2016/17", 4).get(view.key)
        first = view.commentary.split(". ")[0] + "."
        if (view.key,) in caveats and verdict in words and "last year; " in first:
            # a caveat: a verdict on two figures that count different things would mislead
            assert first.endswith(", not tested for significance (see the caveat)."), first
            assert "significant increase" not in view.commentary, view.key
            assert "significant decrease" not in view.commentary, view.key
            assert "not a significant change" not in view.commentary, view.key
            checked += 1
        elif verdict in words and "last year; " in first and "no change" not in first:
            assert first.endswith(words[verdict]) or words[verdict][:-1] in first, (
                view.key,
                view.commentary,
            )
            checked += 1
        elif verdict == "not tested":
            assert "significant" not in first, view.key
    counts = [v for v in views.series if v.unit == "count" and "last year; " in v.commentary]
    assert checked >= len(counts) >= 10  # every count series with both years
    # the seed report's +8.0 % on 1.3: measured (Wheeler's z 4.0), printed in both files
    asb = next(v for v in views.series if v.key == "1.3 total")
    assert "an increase of 208 (+8.0%), a significant increase." in asb.commentary
    files = write_report(data, tmp_path, generated_at=GENERATED)
    assert "an increase of 208 (+8.0%), a significant increase." in files.html.read_text()
    sheet = load_workbook(files.xlsx)["Report"]
    texts = [c.value for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any("208 (+8.0%), a significant increase." in t for t in texts)


def test_q4_has_no_forecast_and_peers_need_national_data(build: SampleBuild) -> None:
    data = build_report(build.warehouse, "2016/17", 4)
    views = build_views(data)
    assert views.analysis is not None and not views.analysis.forecasts
    assert not any("Forecast for the year end" in v.commentary for v in views.series)
    assert views.analysis.peers == []
    note = views.analysis.peers_note
    assert "needs the national police.uk data" in note and "CSP_AREA=all" in note
    assert "(1.3, 2.3, 4.1)" in note
    assert "ONS mid-2016 population" in views.analysis.population_note
    page = render_html(data, GENERATED, views)
    assert 'data-note="peers"' in page and "CSP_AREA=all" in page
    assert "ONS mid-2016 population" in page
    assert "Changed since last published" in page and 'data-note="revisions"' in page


def test_in_year_report_forecasts_the_year_end(build: SampleBuild, tmp_path: Path) -> None:
    forecasts = build.query(
        "select measure_id || ' ' || series, forecast_value, lower_80, upper_80"
        " from marts.fct_year_end_forecast"
        " where fiscal_year = '2016/17' and quarter = 3 and forecast_value is not null"
    )
    assert forecasts, "the sample forecasts no series after 2016/17 Q3"
    data = build_report(build.warehouse, "2016/17", 3)
    views = build_views(data)
    by_key = {v.key: v.commentary for v in views.series}
    for key, value, lower, upper in forecasts:
        expected = (
            f"Forecast for the year end: {value:,.0f} (80% range {lower:,.0f} to {upper:,.0f})"
        )
        assert expected in by_key[key], (key, by_key[key])
    files = write_report(data, tmp_path, generated_at=GENERATED)
    assert "a forecast, not a result" in files.html.read_text()
    rows = list(load_workbook(files.xlsx)["Context"].iter_rows(values_only=True))
    assert sum(1 for r in rows if r[0] == "Year-end forecast") == len(forecasts)


# --------------------------------------------------------------------------------------
# Revisions: a second quarter's report records revisions against the first


def _dbt_run(warehouse: Path, root: Path, select: str) -> None:
    command = [DBT, "run", "--project-dir", str(REPO), "--profiles-dir", str(REPO)]
    command += ["--target-path", str(root / "target"), "--log-path", str(root / "logs")]
    command += ["--select", select]
    result = subprocess.run(
        command, cwd=REPO, env=dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:]


@pytest.mark.slow
def test_a_corrected_delivery_shows_as_changed_since_last_published(
    build: SampleBuild, tmp_path: Path
) -> None:
    warehouse, landing = tmp_path / "warehouse.duckdb", tmp_path / "landing"
    shutil.copy2(build.warehouse, warehouse)
    shutil.copytree(build.warehouse.parent / "landing", landing)
    # the 2016/17 Q3 report was published on 21 January 2017 (from a copy of the marts,
    # as the report asset freezes from the serving copy)
    shown = tmp_path / "serving.duckdb"
    shutil.copy2(build.warehouse, shown)
    q3_published = datetime(2017, 1, 21, 6, tzinfo=UTC)
    frozen = freeze_after_report(
        warehouse, shown, area_code=AREA[0], fiscal_year="2016/17", quarter=3,
        published_at=q3_published,
    )  # fmt: skip
    assert frozen > 0
    # the same figures again (make run re-run) append nothing
    assert freeze_after_report(
        warehouse, shown, area_code=AREA[0], fiscal_year="2016/17", quarter=3
    ) == 0  # fmt: skip
    # on 1 March 2017 the IDVA service sends a corrected Q3 file: ten referrals fewer
    first = landing / "idva_referrals" / "idva_referrals_2016-17_Q3.csv"
    lines = first.read_text(encoding="utf-8-sig").splitlines()
    corrected = first.with_name("idva_referrals_2016-17_Q3_v2.csv")
    corrected.write_text("\n".join(lines[:-10]) + "\n", encoding="utf-8")
    received = datetime(2017, 3, 1, 9, tzinfo=UTC).timestamp()
    os.utime(corrected, (received, received))
    ingest_landing(Settings(landing=landing, warehouse=warehouse, as_of=AS_OF, area_code=AREA[0]))
    _dbt_run(warehouse, tmp_path, "+fct_figure_revisions")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (old, new, label, reason), *_ = con.execute(
            "select previous_value, revised_value, revised_in, reason"
            " from marts.fct_figure_revisions where measure_id = '6.4' and series = 'referrals'"
            " and fiscal_year = '2016/17' and quarter = 3 and figure = 'value'"
        ).fetchall()
    finally:
        con.close()
    assert new == old - 10 and label.startswith("not yet published")
    assert "a corrected file superseded an earlier one" in reason
    assert "idva_referrals_2016-17_Q3_v2.csv" in reason
    # the Q4 report says so: old -> new and the delivery that changed it
    views = build_views(build_report(warehouse, "2016/17", 4))
    assert views.analysis is not None
    (row,) = [r for r in views.analysis.revisions if r.key == "6.4 referrals 2016/17 Q3"]
    assert (row.old, row.new, row.seen_in) == (f"{old:,.0f}", f"{new:,.0f}", "2016/17 Q3")
    assert "idva_referrals_2016-17_Q3_v2.csv" in row.reason
    page = render_html(build_report(warehouse, "2016/17", 4), GENERATED)
    assert 'data-revision="6.4 referrals 2016/17 Q3"' in page
    # publishing Q4 records the revision against Q3's publication
    assert freeze_published_figures(
        warehouse, area_code=AREA[0], fiscal_year="2016/17", quarter=4,
        published_at=datetime(2017, 6, 1, 9, tzinfo=UTC),
    ) > 0  # fmt: skip
    _dbt_run(warehouse, tmp_path, "int_revisions__published_figures fct_figure_revisions")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        recorded = con.execute(
            "select first_published_in, revised_in, previous_value, revised_value"
            " from marts.fct_figure_revisions where measure_id = '6.4' and series = 'referrals'"
            " and fiscal_year = '2016/17' and quarter = 3 and figure = 'value'"
        ).fetchall()
    finally:
        con.close()
    assert recorded == [("2016/17 Q3", "2016/17 Q4", old, new)]


# --------------------------------------------------------------------------------------
# The peer panel with national data (the peer marts, hand-made in a real DuckDB)


def _national_marts(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute(
        """
        create table marts.fct_peer_comparison as select * from (values
            ('A', '1.3', 'total', 'Anti-social behaviour', 'rolling_12_months', '2016/17', 4,
             30.0, 3000, 5, 20.5, 21.0, 19.0, 24.0, 18.0, 'significantly higher than peers',
             'above 99.8% limit')
        ) as t(area_code, measure_id, series, crime_type, period_type, fiscal_year, quarter,
               rate_per_1000, record_count, peers_used, peer_mean_rate, peer_weighted_rate,
               national_rate, upper_998, lower_998, peer_comparison, funnel_band)
        """
    )
    con.execute(
        """
        create table marts.dim_peer_group as
        select 'A' as area_code, rank as peer_rank, code as peer_area_code,
               'Peer ' || code as peer_area_name
        from (values (1, 'B'), (2, 'C'), (3, 'D'), (4, 'E'), (5, 'F'), (6, 'G')) as t(rank, code)
        """
    )
    con.execute(
        """
        create table marts.fct_policeuk_rate as
        select area_code, '1.3' as measure_id, 'total' as series,
               'Anti-social behaviour' as crime_type, 'rolling_12_months' as period_type,
               '2016/17' as fiscal_year, 4 as quarter, rate as rate_per_1000,
               complete as is_complete, 2016 as population_year
        from (values ('A', 30.0, true), ('B', 18.0, true), ('C', 25.0, true), ('D', 21.0, true),
                     ('E', 16.0, true), ('F', 22.0, true), ('G', 40.0, false))
             as t(area_code, rate, complete)
        """
    )
    con.close()


def test_national_data_gives_a_ranked_peer_panel(tmp_path: Path) -> None:
    from report.peer_chart import ranked_rates

    path = tmp_path / "national.duckdb"
    _national_marts(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        data = read_analysis(con, "A", FiscalQuarter.of("2016/17", 4))
    finally:
        con.close()
    view = analysis_view(data, {"1.3 total": "ASB incidents"}, area_name="Ourtown")
    (panel,) = view.peers
    assert (panel.key, panel.title, panel.verdict) == (
        "1.3 total",
        "1.3 ASB incidents",
        "significantly higher than peers",
    )
    assert panel.sentence == (
        "30.0 per 1,000 residents in the 12 months; the 5 most similar areas 21.0 per 1,000,"
        " England and Wales 19.0 per 1,000."
    )
    assert panel.chart.startswith('<svg role="img"') and "Ourtown" in panel.chart
    ranked = ranked_rates(data.peer_rates, "Ourtown", 30.0)
    assert list(ranked["name"]) == [
        "Peer G", "Ourtown", "Peer C", "Peer F", "Peer D", "Peer B", "Peer E"
    ]  # fmt: skip
    assert list(ranked["complete"]) == [False] + [True] * 6  # G is missing a month
    assert "2016" in view.population_note and "needs the national" not in view.peers_note
    assert view.peer_names == [f"Peer {c}" for c in "BCDEFG"]  # most similar first
    rows = analyis_rows_of(view)
    assert ("Most similar areas", "1.3 ASB incidents") in rows
    assert ("Most similar areas", "Peer group") in rows
    page = render_html_of(view)
    assert "Peers, most similar first: Peer B; Peer C; Peer D; Peer E; Peer F; Peer G." in page


def render_html_of(view: AnalysisView) -> str:
    """The peer panel macro of the page (report/templates/_analysis.html.j2) on ``view``."""
    from report.html import _ENV

    macros = _ENV.get_template("_analysis.html.j2").module
    return str(macros.peer_panels(view, FiscalQuarter.of("2016/17", 4)))


def analyis_rows_of(view: AnalysisView) -> set[tuple[str, str]]:
    from report.analysis import analysis_rows

    return {(r[0], r[1]) for r in analysis_rows(view, FiscalQuarter.of("2016/17", 4))}


# --------------------------------------------------------------------------------------
# The report asset freezes what it published


def test_the_report_asset_freezes_the_figures_it_showed(build: SampleBuild, tmp_path: Path):
    import dagster as dg

    from orchestration.publish import publish_marts
    from orchestration.report_assets import add_report_quarters, quarterly_report
    from orchestration.resources import WarehouseSettings

    warehouse = tmp_path / "data" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copy2(build.warehouse, warehouse)
    publish_marts(warehouse, as_of=AS_OF)
    resource = WarehouseSettings(warehouse=str(warehouse), as_of="2017-05-31", area=AREA[0])
    instance = dg.DagsterInstance.ephemeral()
    add_report_quarters(instance, AS_OF)
    frozen = []
    for _ in range(2):
        result = dg.materialize(
            [quarterly_report],
            partition_key="2016-17-Q4",
            resources={"warehouse": resource},
            instance=instance,
        )
        assert result.success
        metadata = result.get_asset_materialization_events()[0].materialization.metadata
        frozen.append(metadata["frozen_figures"].value)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        ledger = con.execute(
            "select report_fiscal_year, report_quarter, count(distinct published_at), count(*)"
            " from revisions.published_figures group by all"
        ).fetchall()
        (facts,) = con.execute(
            "select count(*) * 6 from marts.fct_measure_quarter"
            " where fiscal_year = '2016/17' and area_code = ?",
            [AREA[0]],
        ).fetchone()
    finally:
        con.close()
    # six figures per series and quarter of the year; the unchanged re-run adds nothing
    assert frozen == [facts, 0]
    assert ledger == [("2016/17", 4, 1, facts)]
