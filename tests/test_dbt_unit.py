"""The dbt unit tests (``unit_tests:`` in the models' YAML) ran in the sample build and
passed, and they cover the tricky rules.  They run inside the session's one
``dbt build`` (tests/test_dbt_marts.py), so dbt is not started a second time."""

from __future__ import annotations

import pytest

from tests.test_dbt_marts import SampleBuild, sample_build

# the rules the issue names, and the unit test that pins each down
RULES = {
    "YTD of a rate is sum of numerators over sum of denominators": (
        "fct_measure_quarter",
        "ytd_of_a_rate_is_sum_of_numerators_over_sum_of_denominators",
    ),
    "change and % change": ("fct_measure_quarter", "change_and_pct_change"),
    "YTD of counts and of rolling figures": (
        "fct_measure_quarter",
        "ytd_of_counts_and_rolling_figures",
    ),
    "rolling 12-month repeat victims": (
        "int_measure_quarter__repeat_victims",
        "rolling_twelve_month_repeat_victims",
    ),
    "each target rule": ("fct_target_status", "each_target_rule"),
    "repeat callers": (
        "int_measure_quarter__repeat_callers",
        "repeat_callers_per_agency_and_combined",
    ),
    "data status against the return calendar": (
        "int_measure_quarter",
        "data_status_against_the_return_calendar",
    ),
    "latest partner return wins; late figures dated": (
        "stg_partners__returns",
        "latest_delivery_wins_and_late_figures_are_dated",
    ),
    "force extract before police.uk": (
        "int_police__asb_incidents",
        "force_extract_first_policeuk_only_where_no_extract",
    ),
}


@pytest.fixture(scope="module")
def unit_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    build: SampleBuild = sample_build(tmp_path_factory)
    return {
        result["unique_id"]: result["status"]
        for result in build.run_results()
        if result["unique_id"].startswith("unit_test.")
    }


def test_every_unit_test_passed(unit_results: dict[str, str]) -> None:
    assert unit_results, "dbt build ran no unit tests"
    failed = {uid: status for uid, status in unit_results.items() if status != "pass"}
    assert not failed


@pytest.mark.parametrize(("model", "name"), list(RULES.values()), ids=list(RULES))
def test_rule_has_a_unit_test(unit_results: dict[str, str], model: str, name: str) -> None:
    unique_id = f"unit_test.csp_warehouse.{model}.{name}"
    assert unit_results.get(unique_id) == "pass", f"{unique_id}: {unit_results.get(unique_id)}"
