"""Feed freshness and partner health (issue 17): Dagster asset checks read from the marts.

The definitions carry a described ``freshness`` check on every feed and a description on
every check; on the sample as of 2017-05-31 the freshness results name exactly the
returns ``fct_missing_returns`` lists as outstanding for the plan year, and the partner
health table agrees with them.
"""

from __future__ import annotations

from collections import Counter

import dagster as dg
import pytest

from ingest.feeds import FEEDS
from orchestration.definitions import defs
from orchestration.freshness import OUTSTANDING, feed_freshness
from orchestration.health import partner_health
from orchestration.resources import WarehouseSettings
from tests.test_dbt_marts import AS_OF, SampleBuild, sample_build


def _all_check_specs() -> list[dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    return [graph.get_check_spec(key) for key in graph.asset_check_keys]


def test_every_feed_has_a_freshness_check_and_every_check_a_description():
    specs = _all_check_specs()
    freshness = {s.asset_key.path[-1]: s for s in specs if s.name == "freshness"}
    assert set(freshness) == set(FEEDS)
    assert all(not s.blocking for s in freshness.values())
    assert "monthly, due 20 days after the month" in freshness["policeuk_street"].description
    undescribed = [s.key.to_user_string() for s in specs if not (s.description or "").strip()]
    assert undescribed == []
    assert len(specs) > 100  # the dbt tests are among them


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    return sample_build(tmp_path_factory)


@pytest.fixture(scope="module")
def evaluations(build: SampleBuild) -> dict[dg.AssetCheckKey, dg.AssetCheckEvaluation]:
    result = dg.materialize(
        [feed_freshness, partner_health],
        selection=dg.AssetSelection.all_asset_checks(),  # the marts are built already
        resources={
            "warehouse": WarehouseSettings(warehouse=str(build.warehouse), as_of=AS_OF.isoformat())
        },
    )
    assert result.success
    return {e.asset_check_key: e for e in result.get_asset_check_evaluations()}


def test_freshness_names_exactly_the_outstanding_returns(build, evaluations):
    statuses = ", ".join(f"'{s}'" for s in OUTSTANDING)
    expected = build.query(
        "select source, owner, quarter, due_date, max(days_overdue) from marts.fct_missing_returns"
        f" where fiscal_year = '2016/17' and status in ({statuses}) group by all"
    )
    assert expected  # the sample has outstanding returns in 2016/17
    named = Counter()
    for feed in FEEDS:
        check = evaluations[dg.AssetCheckKey(dg.AssetKey(["raw", feed]), "freshness")]
        mine = [row for row in expected if row[0] == feed]
        assert check.passed == (not mine), (feed, check.description)
        assert check.metadata["outstanding_returns"].value == len(mine)
        for _, owner, quarter, due, days in mine:
            sentence = f"{owner}: 2016/17 Q{quarter} return due {due.day} {due:%B %Y}, {days} days"
            assert sentence in check.description
            named[feed] += 1
        assert check.description.count(" return due ") == len(mine)
    assert sum(named.values()) == len(expected)
    probation = evaluations[dg.AssetCheckKey(dg.AssetKey(["raw", "partner_returns"]), "freshness")]
    assert (
        "Probation (CRC and NPS): 2016/17 Q4 return due 20 April 2017, 41 days overdue"
        in probation.description
    )
    police = evaluations[
        dg.AssetCheckKey(dg.AssetKey(["raw", "police_recorded_crime"]), "freshness")
    ]
    assert police.passed  # every police extract of 2016/17 arrived


def test_partner_health_table_matches_the_freshness_results(build, evaluations):
    health = evaluations[
        dg.AssetCheckKey(dg.AssetKey(["marts", "fct_missing_returns"]), "partner_health")
    ]
    rows = {r.data["agency"]: r.data for r in health.metadata["partner_health"].value.records}
    statuses = ", ".join(f"'{s}'" for s in OUTSTANDING)
    outstanding = dict(
        build.query(
            "select owner, count(*) from marts.fct_missing_returns"
            f" where fiscal_year = '2016/17' and status in ({statuses}) group by all"
        )
    )
    assert {a: r["outstanding"] for a, r in rows.items() if r["outstanding"]} == outstanding
    assert not health.passed and health.severity == dg.AssetCheckSeverity.WARN
    for row in rows.values():  # every due return is received, declared or outstanding
        assert row["due"] == row["received"] + row["declared"] + row["outstanding"]
        assert row["late"] <= row["received"]
    assert rows["Police"]["outstanding"] == 0 and rows["Police"]["received"] > 0
    declared = dict(
        build.query(
            "select owner, count(*) from marts.fct_missing_returns where fiscal_year = '2016/17'"
            " and status = 'declared_not_available' group by all"
        )
    )
    assert {a: r["declared"] for a, r in rows.items() if r["declared"]} == declared
