"""The dbt project as Dagster assets: run arguments from the ingest settings, folder groups,
lineage from the ingest assets, tests as asset checks, and a real materialisation of a
selection.

Split from tests/test_dbt_marts.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingest.config import Settings
from ingest.feeds import FEEDS
from tests.conftest import parse_manifest_if_stale
from tests.test_dbt_marts import (
    AREA,
    REPO,
)

# --------------------------------------------------------------------------------------
# Dagster: lineage from the ingest assets, folder groups, tests as checks, a real run


@pytest.fixture(scope="module")
def dbt_manifest() -> Path:
    """``dbt parse`` into the project's target path, as ``make manifest`` does (unless the
    manifest there is newer than the project): the Dagster module reads the manifest
    there and never builds it on import."""
    parse_manifest_if_stale()
    return REPO / "dbt_project" / "target" / "manifest.json"


@pytest.mark.usefixtures("dbt_manifest")
def test_dbt_run_arguments_follow_the_ingest_settings(tmp_path: Path, monkeypatch) -> None:
    """dbt gets the ingest's effective as-of date and area, whatever dbt_project.yml says;
    the nightly build leaves the unit tests (fixed rows, not the night's data) to make test."""
    from ingest import config
    from ingest.config import SAMPLE_MARKER

    monkeypatch.setattr(config, "DEFAULT_LANDING", tmp_path)  # the marker counts only there
    from orchestration.dbt_assets import dbt_build_args

    explicit = Settings(landing=tmp_path, as_of=date(2016, 12, 31), area_code="Hartlepool")
    assert dbt_build_args(explicit) == [
        "build",
        "--vars",
        '{"area": "Hartlepool", "as_of": "2016-12-31"}',
        "--exclude-resource-type",
        "unit_test",
    ]
    (tmp_path / SAMPLE_MARKER).write_text("sample")
    sample = json.loads(dbt_build_args(Settings(landing=tmp_path))[2])
    assert sample == {"area": AREA[0], "as_of": "2017-05-31"}


@pytest.mark.usefixtures("dbt_manifest")
def test_asset_groups_are_the_dbt_folders() -> None:
    from orchestration.dbt_assets import dbt_group_name

    assert dbt_group_name({"resource_type": "seed", "fqn": ["csp_warehouse", "measures"]}) == (
        "seeds"
    )
    for folder in ("staging", "intermediate", "marts"):
        node = {"resource_type": "model", "fqn": ["csp_warehouse", folder, "m"]}
        assert dbt_group_name(node) == folder
    assert dbt_group_name({"resource_type": "model", "fqn": ["csp_warehouse", "m"]}) is None


@pytest.mark.usefixtures("dbt_manifest")
def test_dbt_assets_lineage_groups_and_checks() -> None:
    from orchestration.dbt_assets import csp_dbt_assets

    specs = list(csp_dbt_assets.specs)
    groups = {spec.group_name for spec in specs}
    assert groups == {"staging", "intermediate", "marts", "seeds"}
    upstream = {dep.asset_key for spec in specs for dep in spec.deps}
    raw = {dg.AssetKey(["raw", name]) for name in FEEDS} | {dg.AssetKey(["raw", "load_log"])}
    assert raw <= upstream
    keys = {spec.key.to_user_string() for spec in specs}
    assert {"marts/fct_measure_quarter", "marts/fct_published_reconciliation"} <= keys
    checks = {check.asset_key.to_user_string() for check in csp_dbt_assets.check_specs}
    assert "marts/fct_missing_returns" in checks


@pytest.mark.usefixtures("dbt_manifest")
def test_dagster_materialises_a_dbt_selection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A subset through Dagster: seeds, the area and a dimension, with their checks.
    The resource starts no ``dbt --version`` child before the build (CspDbtCliResource)."""
    import dagster_dbt.core.resource

    from orchestration.dbt_assets import (
        CspDbtCliResource,
        csp_dbt_assets,
        csp_dbt_project,
        dbt_executable,
    )
    from orchestration.resources import WarehouseSettings

    def no_child(command, *args, **kwargs):
        raise AssertionError(f"dbt started before the build: {command}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_child)
    warehouse = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    resources = {
        # a new resource: nothing cached from an earlier test in this process
        "dbt": CspDbtCliResource(project_dir=csp_dbt_project, dbt_executable=dbt_executable()),
        "warehouse": WarehouseSettings(
            warehouse=str(warehouse),
            landing=str(tmp_path),
            as_of="2017-05-31",
            area="Stockton-on-Tees",
        ),
    }
    selection = [
        "reference/fiscal_calendar",
        "reference/local_authorities",
        "intermediate/int_partnership_area",
        "marts/dim_fiscal_quarter",
    ]
    result = dg.materialize([csp_dbt_assets], selection=selection, resources=resources)
    assert result.success
    materialised = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialised == set(selection)
    assert all(check.passed for check in result.get_asset_check_evaluations())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select area_code, area_name, count(*) filter (where is_ended)"
            " from marts.dim_fiscal_quarter group by all"
        ).fetchone()
    finally:
        con.close()
    assert row == (*AREA, 4 * 6 + 4)  # 2010/11 .. 2016/17 ended by 31 May 2017

    # the build's parse state is kept for the next one (keep_partial_parse): the same
    # selection again, same vars and warehouse, and dbt parses only what changed (nothing)
    kept = tmp_path / "target" / "partial_parse.msgpack"
    assert kept.is_file()
    again = dg.materialize([csp_dbt_assets], selection=selection, resources=resources)
    assert again.success
    logs = sorted((tmp_path / "target").glob("*/dbt.log"), key=lambda p: p.stat().st_mtime)
    first, second = (p.read_text(encoding="utf-8") for p in logs[-2:])
    assert "Unable to do partial parsing" in first  # nothing saved before the first
    assert "Unable to do partial parsing" not in second
