"""The dbt project (staging, intermediate, marts, seeds) as Dagster assets.

The manifest is built by a command, never when this module is imported:

    .venv/bin/dbt parse --project-dir . --profiles-dir . --target-path dbt_project/target

(``make manifest``).  ``prepare_if_dev()`` is deliberately not called: under
``dagster dev`` it would run ``dbt parse`` on every code-location load.

dbt sources carry ``meta.dagster.asset_key`` equal to the ingest assets' keys
(``raw/<feed>``, ``raw/load_log``), so lineage runs unbroken from each landing
feed to each mart; dbt tests become asset checks.  Every dbt run writes the same
DuckDB file as the ingest, so the dbt assets share the ingest's one-writer pool,
and dbt itself runs with ``threads: 1`` (profiles.yml).

(No ``from __future__ import annotations`` here: Dagster inspects the annotations.)
"""

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from ingest.config import Settings
from ingest.loader import build_fingerprint, build_state_path
from orchestration.resources import WAREHOUSE_POOL, WarehouseSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TARGET_PATH = Path("dbt_project") / "target"
MODEL_FOLDERS = ("staging", "intermediate", "marts")
SEED_GROUP = "seeds"

csp_dbt_project = DbtProject(
    project_dir=PROJECT_ROOT,
    profiles_dir=PROJECT_ROOT,
    target_path=TARGET_PATH,
)

if not csp_dbt_project.manifest_path.exists():
    raise FileNotFoundError(
        f"dbt manifest not found at {csp_dbt_project.manifest_path}: build it with "
        "`make manifest` (dbt parse --project-dir . --profiles-dir . "
        f"--target-path {TARGET_PATH.as_posix()})"
    )


def dbt_group_name(dbt_resource_props: Mapping[str, Any]) -> str | None:
    """The dbt folder a node lives in: staging | intermediate | marts | seeds."""
    if dbt_resource_props.get("resource_type") == "seed":
        return SEED_GROUP
    fqn = dbt_resource_props.get("fqn") or []
    folder = fqn[1] if len(fqn) > 2 else None
    return folder if folder in MODEL_FOLDERS else None


class CspDbtTranslator(DagsterDbtTranslator):
    """dbt folder -> asset group; everything else (keys from the source meta and the
    models' schemas, tests as asset checks) as dagster-dbt does by default."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_group_name(dbt_resource_props) or super().get_group_name(dbt_resource_props)


def dbt_vars(settings: Settings) -> dict[str, str]:
    """dbt vars of one run: the ingest's effective as-of date and area."""
    return {"as_of": settings.effective_as_of.isoformat(), "area": settings.area_code}


def dbt_build_args(settings: Settings) -> list[str]:
    return ["build", "--vars", json.dumps(dbt_vars(settings), sort_keys=True)]


@contextlib.contextmanager
def warehouse_env(settings: Settings) -> Iterator[None]:
    """CSP_WAREHOUSE for the dbt subprocess (profiles.yml reads it) while it starts."""
    previous = os.environ.get("CSP_WAREHOUSE")
    os.environ["CSP_WAREHOUSE"] = str(Path(settings.warehouse).resolve())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("CSP_WAREHOUSE", None)
        else:
            os.environ["CSP_WAREHOUSE"] = previous


@dbt_assets(
    manifest=csp_dbt_project.manifest_path,
    project=csp_dbt_project,
    # dbt data tests on models and seeds become asset checks (explicitly, not by default)
    dagster_dbt_translator=CspDbtTranslator(DagsterDbtTranslatorSettings(enable_asset_checks=True)),
    pool=WAREHOUSE_POOL,
)
def csp_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseSettings
):
    """`dbt build` of the selected models and seeds, with their tests."""
    settings = warehouse.settings()
    last_load_id = _last_load_id(settings)
    with warehouse_env(settings):
        invocation = dbt.cli(dbt_build_args(settings), context=context)
    yield from invocation.stream()
    if invocation.is_successful():
        # what this build was made from: the nightly schedule skips when nothing changed
        build_state_path(settings).write_text(
            json.dumps(build_fingerprint(settings, last_load_id), sort_keys=True)
        )


def _last_load_id(settings: Settings) -> int:
    import duckdb

    if not Path(settings.warehouse).exists():
        return 0
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:
        return 0
    try:
        return con.execute("select coalesce(max(load_id), 0) from raw.load_log").fetchone()[0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv need not be on PATH)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


dbt_resource = DbtCliResource(project_dir=csp_dbt_project, dbt_executable=dbt_executable())

__all__ = ["CspDbtTranslator", "csp_dbt_assets", "csp_dbt_project", "dbt_resource"]
