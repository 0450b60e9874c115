"""The marts' checks are dbt tests (docs/expectations.md, "Mart checks").

Moved from the Great Expectations mart suites of ``expectations/marts.py``, which
repeated them: on the sample build every mart test passes; each seeded fault (a missing
or extra series-quarter, a duplicate, a value outside its rule, a year to date summed
over a gap) makes the dbt test that owns the rule fail.  The faults run the build's
compiled test SQL on a copy of the sample warehouse, each inside a rolled-back
transaction (``tests/dbt_checks.py``).  The many-area build is checked the same way in
``tests/test_multi_area.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dbt_checks import compiled_tests, copy_warehouse, failing_tests, failing_with_fault
from tests.test_dbt_marts import sample_build

FACT = "marts.fct_measure_quarter"
ROW_13 = "measure_id = '1.3' and series = 'total' and fiscal_year = '2016/17'"
ROW_12 = "measure_id = '1.2' and series = 'total' and fiscal_year = '2016/17'"

FAULTS = {
    "missing-row": (
        f"delete from {FACT} where {ROW_12} and quarter = 3",
        "a_figure_row_for_every_spine_quarter",
    ),
    "series-not-in-catalogue": (
        f"insert into {FACT} select * replace ('9.9' as measure_id) from {FACT}"
        f" where {ROW_13} and quarter = 1",
        "a_figure_row_for_every_spine_quarter",
    ),
    "quarter-not-ended": (
        f"insert into {FACT} select * replace ('2017/18' as fiscal_year) from {FACT}"
        f" where {ROW_13} and quarter = 1",
        "a_figure_row_for_every_spine_quarter",
    ),
    "duplicate-row": (
        f"insert into {FACT} select * from {FACT} where {ROW_13} and quarter = 1",
        "one_figure_per_area_series_and_quarter",
    ),
    "percent-above-100": (
        f"update {FACT} set value = 101 where {ROW_12} and quarter = 2",
        "percentages_lie_within_0_and_100",
    ),
    "percent-ytd-below-0": (
        f"update {FACT} set ytd_value = -1 where {ROW_12} and quarter = 2",
        "percentages_lie_within_0_and_100",
    ),
    "negative-count": (
        f"update {FACT} set value = -1 where {ROW_13} and quarter = 2",
        "counts_are_not_negative",
    ),
    "unknown-status": (
        f"update {FACT} set data_status = 'unknown' where quarter = 1",
        "figure_status_is_a_data_status_code",
    ),
    "unknown-unit": (
        f"update {FACT} set unit = 'ratio' where {ROW_12}",
        "every_figure_has_a_known_unit",
    ),
    "numerator-above": (
        f"update {FACT} set numerator = denominator + 1 where {ROW_12} and denominator > 0",
        "numerator_never_above_denominator",
    ),
    "ytd-summed-over-a-gap": (
        f"update {FACT} set data_status = 'partial' where {ROW_13} and quarter = 3",
        "year_to_date_sums_the_usable_quarters",
    ),
    "ytd-slip": (
        f"update {FACT} set ytd_value = ytd_value + 1 where {ROW_13} and quarter = 2",
        "year_to_date_sums_the_usable_quarters",
    ),
    "ytd-missing": (
        f"update {FACT} set ytd_value = null where {ROW_13} and quarter = 2",
        "year_to_date_sums_the_usable_quarters",
    ),
    "unknown-rag": (
        "update marts.fct_target_status set rag = 'purple' where measure_id = '1.3'",
        "verdict_rag_is_a_rag_code",
    ),
    "unknown-figure": (
        "update marts.fct_published_reconciliation set figure = 'mean'"
        " where rowid = (select min(rowid) from marts.fct_published_reconciliation)",
        "every_reconciled_figure_has_a_known_figure",
    ),
}


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    build = sample_build(tmp_path_factory)
    copy = copy_warehouse(build.warehouse, tmp_path_factory.mktemp("mart_checks"))
    return copy, compiled_tests(build.target)


def test_every_mart_test_passes_on_the_sample(checked) -> None:
    import duckdb

    warehouse, tests = checked
    assert "a_figure_row_for_every_spine_quarter" in tests
    assert "year_to_date_sums_the_usable_quarters" in tests
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert failing_tests(con, tests) == {}
    finally:
        con.close()


@pytest.mark.faults
@pytest.mark.parametrize(("sql", "test_name"), FAULTS.values(), ids=FAULTS.keys())
def test_a_seeded_fault_fails_its_mart_test(checked, sql: str, test_name: str) -> None:
    warehouse, tests = checked
    failed = failing_with_fault(warehouse, tests, sql)
    assert any(name.startswith(test_name) for name in failed), failed
