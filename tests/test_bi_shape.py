"""The marts' shape for BI tools (issue 14, docs/bi.md), on the sample build:

- every published mart carries the single-column key of each dimension it refers to
  (``measure_key`` for a series, ``quarter_key`` for a quarter, ``area_key`` for an
  area, ``agency_key`` for an owner), built by the one rule of macros/bi_keys.sql;
- a star query that joins facts to dimensions on those keys only loses no fact row and
  gives the same answer as joining on the natural keys;
- the quarter's target is on the quarterly grain (``target_value_quarter``) and the
  year's on the year grain (``target_value_year``), and no target column leaves its
  grain unnamed;
- status and RAG are lower snake_case codes of the seeds ``target_status`` and ``rag``
  with the report's labels beside them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.test_dbt_marts import SampleBuild, sample_build

SEEDS = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds"

# a mart with these natural-key columns refers to that dimension, so needs its key
REFERS_TO = {
    "measure_key": ("area_code", "measure_id", "series"),
    "quarter_key": ("fiscal_year", "quarter"),
    "area_key": ("area_code",),
    "agency_key": ("owner",),
}


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


def mart_columns(build: SampleBuild) -> dict[str, list[str]]:
    rows = build.query(
        "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
        " order by table_name, column_index"
    )
    marts: dict[str, list[str]] = {}
    for table, column in rows:
        marts.setdefault(table, []).append(column)
    return marts


def test_every_mart_has_the_keys_of_the_dimensions_it_refers_to(build: SampleBuild) -> None:
    marts = mart_columns(build)
    assert len(marts) >= 17
    missing = {
        table: sorted(
            key
            for key, natural in REFERS_TO.items()
            if set(natural) <= set(columns) and key not in columns
        )
        for table, columns in marts.items()
    }
    assert {t: keys for t, keys in missing.items() if keys} == {}
    # which marts have which keys (docs/bi.md lists the same)
    has = {t: {k for k in REFERS_TO if k in columns} for t, columns in marts.items()}
    assert {t for t, keys in has.items() if "measure_key" in keys} >= {
        "dim_measure",
        "fct_measure_quarter",
        "fct_measure_target_year",
        "fct_target_status",
        "fct_published_reconciliation",
        "fct_change_significance",
        "fct_year_end_forecast",
        "fct_figure_revisions",
        "dim_report_note",
    }
    assert "peer_area_key" in marts["dim_peer_group"]


def test_keys_follow_their_one_rule(build: SampleBuild) -> None:
    """measure_key = area|measure|series, quarter_key = year start x 10 + quarter,
    area_key = the area code, in every mart that has them."""
    for table, columns in mart_columns(build).items():
        checks = []
        if {"measure_key", "measure_id", "series", "area_code"} <= set(columns):
            checks.append(
                "measure_key is distinct from area_code || '|' || measure_id || '|' || series"
                " and measure_key is not null"
            )
        if {"quarter_key", "fiscal_year", "quarter"} <= set(columns):
            checks.append(
                "quarter_key is distinct from cast(left(fiscal_year, 4) as integer) * 10 + quarter"
            )
        if {"area_key", "area_code"} <= set(columns):
            checks.append("area_key is distinct from area_code")
        for check in checks:
            wrong = build.query(f"select count(*) from marts.{table} where {check}")[0][0]
            assert wrong == 0, (table, check)


# facts whose rows are all of the areas the marts report on: every key finds its row
STAR_FACTS = {
    "fct_measure_quarter": ("measure_key", "quarter_key", "area_key"),
    "fct_target_status": ("measure_key", "quarter_key", "area_key"),
    "fct_change_significance": ("measure_key", "quarter_key", "area_key"),
    "fct_year_end_forecast": ("measure_key", "quarter_key", "area_key"),
    "fct_figure_revisions": ("measure_key", "quarter_key", "area_key"),
    "fct_published_reconciliation": ("measure_key", "quarter_key", "area_key"),
    "fct_measure_target_year": ("measure_key", "area_key"),
    "fct_missing_returns": ("measure_key", "quarter_key", "area_key", "agency_key"),
    "dim_report_note": ("measure_key", "quarter_key", "area_key"),
    "dim_measure": ("area_key", "agency_key"),
}
DIMENSION_OF = {
    "measure_key": "dim_measure",
    "quarter_key": "dim_quarter",
    "area_key": "dim_area",
    "agency_key": "dim_agency",
}


@pytest.mark.parametrize("fact", sorted(STAR_FACTS))
def test_every_key_finds_its_dimension_row(build: SampleBuild, fact: str) -> None:
    """A null key is allowed only where the mart says so (a context count has no
    series, a year's figure no quarter: fct_published_reconciliation)."""
    for key in STAR_FACTS[fact]:
        dimension = DIMENSION_OF[key]
        orphans = build.query(
            f"select count(*) from marts.{fact} f"
            f" where f.{key} is not null"
            f" and f.{key} not in (select {key} from marts.{dimension})"
        )[0][0]
        assert orphans == 0, (fact, key)
        if fact != "fct_published_reconciliation":
            nulls = build.query(f"select count(*) from marts.{fact} where {key} is null")[0][0]
            assert nulls == 0, (fact, key)


STAR_ON_KEYS = """
select q.quarter_label, a.area_name, g.agency_code, m.title, m.ytd_method,
       t.status, t.status_label, t.rag_label, t.target_value_quarter, t.target_value_year,
       y.target_value_year as plan_target
from marts.fct_target_status t
join marts.dim_measure m on t.measure_key = m.measure_key
join marts.dim_quarter q on t.quarter_key = q.quarter_key
join marts.dim_area a on t.area_key = a.area_key
join marts.dim_agency g on m.agency_key = g.agency_key
left join marts.fct_measure_target_year y on y.measure_key = m.measure_key
    and y.plan_year = q.fiscal_year
order by q.quarter_key, m.measure_key
"""

STAR_ON_NATURAL_KEYS = """
select q.quarter_label, a.area_name, g.agency_code, m.title, m.ytd_method,
       t.status, t.status_label, t.rag_label, t.target_value_quarter, t.target_value_year,
       y.target_value_year as plan_target
from marts.fct_target_status t
join marts.dim_measure m on t.area_code = m.area_code and t.measure_id = m.measure_id
    and t.series = m.series
join marts.dim_quarter q on t.fiscal_year = q.fiscal_year and t.quarter = q.quarter
join marts.dim_area a on t.area_code = a.area_code
join marts.dim_agency g on m.agency_key = g.agency_key
left join marts.fct_measure_target_year y on y.area_code = m.area_code
    and y.measure_id = m.measure_id and y.series = m.series and y.plan_year = q.fiscal_year
order by q.quarter_key, m.measure_key
"""


def test_star_query_on_single_column_keys_equals_the_natural_join(build: SampleBuild) -> None:
    star = build.query(STAR_ON_KEYS)
    statuses = build.query("select count(*) from marts.fct_target_status")[0][0]
    assert len(star) == statuses > 0  # no fact row lost
    assert star == build.query(STAR_ON_NATURAL_KEYS)
    q4 = [r for r in star if r[0] == "2016/17 Q4"]
    assert len(q4) == 29  # one row per series
    # the year's target of the status row is the plan year's row of the year grain
    assert any(r[10] is not None for r in q4)
    assert all(r[10] is None or r[9] == r[10] for r in star)


def test_quarter_target_on_the_quarterly_grain_year_target_on_the_year_grain(
    build: SampleBuild,
) -> None:
    rows = build.query(
        "select m.ytd_method, t.target_value_quarter, t.target_value_year"
        " from marts.fct_target_status t join marts.dim_measure m using (measure_key)"
        " where t.target_value_year is not null"
    )
    methods = {method for method, _, _ in rows}
    assert methods == {"sum", "ratio", "latest"}
    for method, quarter, year in rows:
        expected = year / 4 if method == "sum" else year
        assert quarter == pytest.approx(expected), (method, quarter, year)
    # a target column on a quarterly mart says which grain it is
    for table, columns in mart_columns(build).items():
        unnamed = [c for c in columns if c.startswith("target_value")]
        unnamed = [c for c in unnamed if not c.endswith(("_quarter", "_year"))]
        assert unnamed == [], table
    year_grain = mart_columns(build)["fct_measure_target_year"]
    assert "target_value_year" in year_grain and "target_value_quarter" not in year_grain


def seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_status_and_rag_are_codes_of_the_seeds_with_their_labels(build: SampleBuild) -> None:
    statuses = {r["code"]: r["label"] for r in seed("target_status")}
    rags = {r["code"]: r["label"] for r in seed("rag")}
    for code in [*statuses, *rags]:
        assert code == code.lower() and " " not in code, code
    rows = build.query(
        "select distinct status, status_label, rag, rag_label from marts.fct_target_status"
    )
    assert {status for status, _, _, _ in rows} >= {"achieved", "not_achieved", "monitor_only"}
    for status, status_label, rag, rag_label in rows:
        assert statuses[status] == status_label
        assert rags[rag] == rag_label
    # the published report's words are the seed's labels: the reconciliation agrees
    published = {r["value"] for r in seed("published_figures") if r["figure"] == "target_status"}
    assert published <= set(statuses.values())
