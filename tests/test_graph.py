"""The whole Dagster graph on the sample data: landing -> raw -> staging -> marts, checks included.

Once per session the sample landing folder is generated into a temporary folder and run
through ``make run``'s entry point (``python -m orchestration.run``, a subprocess with its
own warehouse and ``DAGSTER_HOME``): the nightly job materialises every (unpartitioned)
asset of ``orchestration.definitions.defs`` with every asset check (the feed contract and
volume checks, the dbt tests and the mart suites), then the quarterly report. The run's
events are read back from the Dagster instance and its console is kept
(tests/test_run.py checks that it is quiet). Then:

- every blocking check passes; the missing-returns check warns and lists exactly the
  return statuses of the published 2016/17 report (``published_figures.csv``);
- the asset graph is one connected graph from the ingest assets to the marts;
- (a bad delivery costing only its own series, and the corrected file clearing it, is
  tests/test_isolation.py, on the same clean build).
"""

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._serdes import deserialize_value, serialize_value

from tests.conftest import (
    DESIGN,
    parse_manifest_if_stale,
    session_cache,
)

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2017-05-31"
AREA = "E06000004"
REPORT_YEAR = "2016/17"
FACT = dg.AssetKey(["marts", "fct_measure_quarter"])
MISSING_RETURNS = dg.AssetKey(["marts", "fct_missing_returns"])
IDVA = dg.AssetKey(["raw", "idva_referrals"])


def _design(name: str) -> list[dict[str, str]]:
    with (DESIGN / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Graph:
    root: Path
    landing: Path
    warehouse: Path
    first: dg.ExecuteInProcessResult

    def query(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def fact_rows(self) -> list[tuple]:
        return self.query("select * from marts.fct_measure_quarter order by all")


def _defs():
    from orchestration.definitions import defs

    return defs


def materialize_all(landing: Path, warehouse: Path, selection: dg.AssetSelection | None = None):
    """Every unpartitioned asset of the code location and every check on them (or those of
    ``selection``)."""
    from orchestration.dbt_assets import dbt_resource
    from orchestration.resources import WarehouseSettings

    defs = _defs()
    assets = [a for a in defs.assets or [] if getattr(a, "partitions_def", None) is None]
    keys = {key for a in assets for key in a.keys}
    checks = [c for c in defs.asset_checks or [] if all(k.asset_key in keys for k in c.check_keys)]
    resources = {
        **(defs.resources or {}),
        "dbt": dbt_resource,
        "warehouse": WarehouseSettings(
            landing=str(landing), warehouse=str(warehouse), as_of=AS_OF, area=AREA
        ),
    }
    return dg.materialize(
        [*assets, *checks], resources=resources, selection=selection, raise_on_error=False
    )


def sample_env(mp: pytest.MonkeyPatch, root: Path) -> None:
    """The environment of a graph run in ``root``: no user settings, dbt output in root."""
    for name in ("CSP_VOLUME_TOLERANCE", "CSP_PSEUDONYM_KEY", "CSP_AREA", "CSP_AS_OF"):
        mp.delenv(name, raising=False)
    mp.setenv("DBT_TARGET_PATH", str(root / "target"))
    mp.setenv("DBT_LOG_PATH", str(root / "logs"))


def _build_clean_graph(folder: Path) -> None:
    """``make run`` on the sample: the console, and the nightly run with its events."""
    from ingest.config import SAMPLE_MARKER
    from ingest.sample_data import generate

    parse_manifest_if_stale()
    landing, home = folder / "landing", folder / "dagster_home"
    generate(landing)
    (landing / SAMPLE_MARKER).unlink()  # outside the default folder it would be stray
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DAGSTER_HOME": str(home),
        "CSP_LANDING": str(landing),
        "CSP_WAREHOUSE": str(folder / "warehouse.duckdb"),
        "CSP_AS_OF": AS_OF,
        "CSP_AREA": AREA,
        "CSP_SETTLE_SECONDS": "0",
        "DBT_TARGET_PATH": str(folder / "target"),
        "DBT_LOG_PATH": str(folder / "logs"),
    }
    for name in ("CSP_VOLUME_TOLERANCE", "CSP_PSEUDONYM_KEY", "CSP_LOG_LEVEL"):
        env.pop(name, None)  # no user settings: the demo key, as the isolation runs use
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.run"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    (folder / CONSOLE).write_text(done.stdout + done.stderr, encoding="utf-8")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    instance = dg.DagsterInstance.from_config(str(home))
    [run] = instance.get_runs(filters=dg.RunsFilter(job_name="csp_nightly"))
    events = [entry.dagster_event for entry in instance.all_logs(run.run_id)]
    # the run and its events, as Dagster serialises them to its event log
    (folder / "run.json").write_text(serialize_value([run, [e for e in events if e]]))


CONSOLE = "console.txt"


def clean_graph_cache(factory: pytest.TempPathFactory) -> Path:
    """The session's clean graph build (``_build_clean_graph``); never written to."""
    return session_cache(factory, "graph_sample", _build_clean_graph)


def clean_graph(factory: pytest.TempPathFactory, root: Path) -> dg.ExecuteInProcessResult:
    """The whole graph materialised on the clean sample (the nightly job of ``make run``,
    as of 2017-05-31 for E06000004), once per session (``tests.conftest.session_cache``):
    copied into ``root`` (landing/, warehouse.duckdb and what the run wrote beside it).
    Returns that run's result, rebuilt from its recorded run and events."""
    skip = shutil.ignore_patterns(
        "run.json", CONSOLE, "dagster_home", "target", "logs", ".built", "*.last_build.json"
    )
    shutil.copytree(clean_graph_cache(factory), root, dirs_exist_ok=True, ignore=skip)
    return clean_graph_run(factory)


def clean_graph_run(factory: pytest.TempPathFactory) -> dg.ExecuteInProcessResult:
    """The clean graph build's nightly run, rebuilt from its recorded run and events."""
    run, events = deserialize_value((clean_graph_cache(factory) / "run.json").read_text())
    return dg.ExecuteInProcessResult(events, run, None, job_def=None)  # type: ignore[arg-type]


@contextmanager
def graph_env(root: Path) -> Iterator[None]:
    """A module's graph runs in ``root`` (``sample_env``), with a current dbt manifest."""
    with pytest.MonkeyPatch.context() as mp:
        sample_env(mp, root)
        parse_manifest_if_stale()
        yield


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("graph")
    with graph_env(root):
        first = clean_graph(tmp_path_factory, root)
        yield Graph(root, root / "landing", root / "warehouse.duckdb", first)


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def blocking_checks() -> set[tuple[str, str]]:
    return {
        (spec.asset_key.to_user_string(), spec.name)
        for checks in _defs().asset_checks or []
        for spec in checks.check_specs
        if spec.blocking
    }


# -- one run of the whole graph ------------------------------------------------------------


def test_whole_graph_materialises_with_every_check(graph: Graph) -> None:
    result = graph.first
    assert result.success
    asset_graph = _defs().resolve_asset_graph()
    unpartitioned = {
        key.to_user_string()
        for key in asset_graph.materializable_asset_keys
        if asset_graph.get(key).partitions_def is None
    }
    assert materialized(result) == unpartitioned
    checks = evaluations(result)
    expected = {
        (spec.asset_key.to_user_string(), spec.name)
        for checks_def in _defs().asset_checks or []
        for spec in checks_def.check_specs
        if spec.asset_key.to_user_string() in unpartitioned
    }
    assert expected <= set(checks)  # feed and mart checks (dbt tests come on top)
    blocking = blocking_checks() & set(checks)
    assert ("raw/idva_referrals", "contract") in blocking
    # the marts' integrity is their dbt tests' (dagster-dbt checks), e.g. completeness
    assert checks[("marts/fct_measure_quarter", "a_figure_row_for_every_spine_quarter")]
    failed = {key: checks[key].description for key in blocking if not checks[key].passed}
    assert not failed
    # among the non-blocking checks (volumes, dbt tests, marts) only these may warn
    warned = {k for k, c in checks.items() if not c.passed}
    allowed = {("marts/fct_missing_returns", "missing_returns")}
    # the sample's outstanding 2016/17 returns (tests/test_freshness.py checks the names)
    allowed |= {("marts/fct_missing_returns", "partner_health")}
    behind = ("idva_referrals", "marac_cases", "ndtms_treatment_completions", "partner_returns")
    allowed |= {(f"raw/{feed}", "freshness") for feed in behind}
    assert {k for k in warned if k[1] != "volume"} <= allowed


def _markdown_rows(table: str) -> list[dict[str, str]]:
    lines = [line for line in table.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (c.strip() for c in line.strip("|").split(" | ")), strict=True))
        for line in lines[2:]
    ]


def test_missing_returns_check_warns_with_the_published_return_statuses(graph: Graph) -> None:
    check = evaluations(graph.first)[("marts/fct_missing_returns", "missing_returns")]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    listed = _markdown_rows(check.metadata["missing_returns"].value)
    assert check.metadata["missing_returns_count"].value == len(listed)
    published = {
        (r["measure_id"], r["series"], r["period"], r["value"])
        for r in _design("published_figures.csv")
        if r["fiscal_year"] == REPORT_YEAR and r["figure"] == "return_status"
    }
    assert len(published) == 49
    in_report_year = {
        (r["measure"], r["series"], r["quarter"], r["status"])
        for r in listed
        if r["year"] == REPORT_YEAR
    }
    assert in_report_year == published
    owners = {(m["measure_id"], m["series"]): m["owner"] for m in _design("measures.csv")}
    for row in listed:
        assert row["owning agency"] == owners[(row["measure"], row["series"])]
        assert int(row["days overdue"]) > 0 or row["status"] == "declared_not_available"
    # only the plan year's open returns are listed (issue 12 item 7); history stays in the
    # mart: before the report year only figures that did arrive, late
    assert {r["year"] for r in listed} == {REPORT_YEAR}
    assert check.description.startswith(f"{len(listed)} returns due by the as-of date not")
    assert (
        len(listed)
        == graph.query(
            f"select count(*) from marts.fct_missing_returns where fiscal_year = '{REPORT_YEAR}'"
        )[0][0]
    )
    earlier = graph.query(
        f"select distinct status from marts.fct_missing_returns where fiscal_year < '{REPORT_YEAR}'"
    )
    assert earlier == [("late",)]
    assert "| Probation (CRC and NPS) |" in check.metadata["missing_returns_by_owner"].value


def test_mart_checks_pass_and_report_what_they_checked(graph: Graph) -> None:
    checks = evaluations(graph.first)
    # grain, completeness, allowed values and year to date: the marts' dbt tests
    for name in (
        "a_figure_row_for_every_spine_quarter",
        "year_to_date_sums_the_usable_quarters",
        "percentages_lie_within_0_and_100",
        "figure_status_is_a_data_status_code",
    ):
        assert checks[("marts/fct_measure_quarter", name)].passed, name
    assert ("marts/fct_measure_quarter", "expectations") not in checks  # no GX copy
    recon = checks[("marts/fct_published_reconciliation", "expectations")]
    assert recon.passed and recon.severity == dg.AssetCheckSeverity.WARN
    differences = graph.query("select count(*) from marts.fct_published_reconciliation")[0][0]
    assert differences > 0
    assert recon.metadata["differences_count"].value == differences
    assert "12820" in recon.metadata["differences"].value  # the 1.3 year total slip


# -- lineage ---------------------------------------------------------------------------------


def test_one_connected_graph_from_landing_feeds_to_marts() -> None:
    from ingest.feeds import FEEDS

    dg.Definitions.validate_loadable(_defs())  # what `dagster dev` loads
    asset_graph = _defs().resolve_asset_graph()
    keys = set(asset_graph.get_all_asset_keys())
    # no dangling source: every dbt source resolves to an ingest asset
    external = {k.to_user_string() for k in keys if not asset_graph.get(k).is_materializable}
    assert not external
    raw = {dg.AssetKey(["raw", name]) for name in FEEDS} | {dg.AssetKey(["raw", "load_log"])}
    assert raw <= keys
    for key in raw:
        children = asset_graph.get(key).child_keys
        assert any(child.path[0] == "staging" for child in children), key
    for key in keys:
        if key.path[0] == "staging":
            assert asset_graph.get(key).parent_keys & (raw | _staging(keys)), key

    def reachable(start: dg.AssetKey, upstream_only: bool) -> set[dg.AssetKey]:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                node = asset_graph.get(current)
                todo.extend(
                    node.parent_keys if upstream_only else node.parent_keys | node.child_keys
                )
        return seen

    # one graph: every asset is connected to every other (ignoring direction)
    assert reachable(dg.AssetKey(["raw", "idva_referrals"]), upstream_only=False) == keys
    # every fact mart is built from landed feeds; the dimensions from the seeds
    marts = {k for k in keys if k.path[0] == "marts"}
    assert len(marts) >= 6
    for key in marts:
        upstream = reachable(key, upstream_only=True)
        if key.path[-1].startswith("fct_"):
            assert upstream & raw, key
        else:
            assert any(k.path[0] == "reference" for k in upstream), key
    checked = {c.asset_key for c in asset_graph.asset_check_keys}
    assert {FACT, MISSING_RETURNS, IDVA} <= checked


def _staging(keys: set[dg.AssetKey]) -> set[dg.AssetKey]:
    return {k for k in keys if k.path[0] == "staging"}
