"""Feed freshness and partner health (issue 17): Dagster asset checks read from the marts.

The definitions carry a described ``freshness`` check on every feed and a description on
every check; on the sample as of 2017-05-31 the freshness results name exactly the
returns ``fct_missing_returns`` lists as outstanding for the plan year, and the partner
health table agrees with them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from datetime import datetime

import dagster as dg
import pytest

from ingest.config import Settings
from ingest.feeds import FEEDS
from ingest.loader import ingest_landing
from ingest.sample.aggregates import PARTNER_HEADER
from orchestration.definitions import defs
from orchestration.freshness import OUTSTANDING, feed_freshness
from orchestration.health import partner_health
from orchestration.resources import WarehouseSettings
from tests.test_dbt_marts import AREA, AS_OF, DBT, REPO, SampleBuild, dbt_env, sample_build


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


# --------------------------------------------------------------------------------------
# A rejected return (issue 12's status) is named as such, with its file, in both checks


@pytest.fixture(scope="module")
def rejected(build: SampleBuild, tmp_path_factory: pytest.TempPathFactory) -> SampleBuild:
    """The sample, then Probation's missing 2016/17 Q4 return arrives broken (an unknown
    status in row 2): the ledger rejects it and dbt rebuilds what reads the ledger."""
    root = tmp_path_factory.mktemp("rejected_return")
    warehouse, landing = root / "warehouse.duckdb", root / "landing"
    shutil.copyfile(build.warehouse, warehouse)
    bad = landing / "partner_returns" / "probation_return_2016-17_Q4.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        ",".join(PARTNER_HEADER)
        + "\nProbation (CRC and NPS),3.1,commencements,2016/17,4,9,,,reported,"
        + "\nProbation (CRC and NPS),3.1,completions,2016/17,4,4,,,bogus,\n",
        encoding="utf-8",
    )
    arrived = datetime(2017, 5, 2, 9, 0).timestamp()
    os.utime(bad, (arrived, arrived))
    ingest_landing(Settings(landing=landing, warehouse=warehouse, as_of=AS_OF, area_code=AREA[0]))
    command = [DBT, "run", "--select", "stg_ingest__load_log+", "--project-dir", str(REPO)]
    command += ["--profiles-dir", str(REPO), "--target-path", str(root / "target")]
    command += ["--log-path", str(root / "logs")]
    done = subprocess.run(
        command, cwd=REPO, env=dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:]
    return SampleBuild(warehouse, root / "target", 0.0)


def test_a_rejected_return_is_named_with_its_file_and_counted(rejected):
    result = dg.materialize(
        [feed_freshness, partner_health],
        selection=dg.AssetSelection.all_asset_checks(),
        resources={
            "warehouse": WarehouseSettings(
                warehouse=str(rejected.warehouse), as_of=AS_OF.isoformat()
            )
        },
    )
    assert result.success
    found = {e.asset_check_key: e for e in result.get_asset_check_evaluations()}
    listed = rejected.query(
        "select owner, quarter, rejected_file, count(*) from marts.fct_missing_returns"
        " where fiscal_year = '2016/17' and status = 'rejected' group by all"
    )
    file_name = "partner_returns/probation_return_2016-17_Q4.csv"
    assert [row[:3] for row in listed] == [("Probation (CRC and NPS)", 4, file_name)]
    probation = found[dg.AssetCheckKey(dg.AssetKey(["raw", "partner_returns"]), "freshness")]
    assert not probation.passed
    assert (
        f"Probation (CRC and NPS): 2016/17 Q4 return rejected (file {file_name}),"
        " awaiting a corrected file (3.1 commencements, 3.1 completions"
    ) in probation.description
    assert "2016/17 Q4 return due" not in probation.description.split("Probation")[-1]
    health = found[
        dg.AssetCheckKey(dg.AssetKey(["marts", "fct_missing_returns"]), "partner_health")
    ]
    rows = {r.data["agency"]: r.data for r in health.metadata["partner_health"].value.records}
    assert rows["Probation (CRC and NPS)"]["rejected"] == listed[0][3]
    assert sum(r["rejected"] for r in rows.values()) == listed[0][3]
    for row in rows.values():
        assert row["due"] == row["received"] + row["declared"] + row["outstanding"]
