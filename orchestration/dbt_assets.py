"""The dbt project (staging, intermediate, marts, seeds) as Dagster assets.

The manifest is built by a command, never when this module is imported:

    .venv/bin/dbt parse --project-dir . --profiles-dir . --target-path dbt_project/target

(``make manifest``).  ``prepare_if_dev()`` is deliberately not called: under
``dagster dev`` it would run ``dbt parse`` on every code-location load.

dbt sources carry ``meta.dagster.asset_key`` equal to the ingest assets' keys
(``raw/<feed>``, ``raw/load_log``), so lineage runs unbroken from each landing
feed to each mart; dbt tests become asset checks.  Every dbt run writes the same
DuckDB file as the ingest, so the dbt assets share the ingest's one-writer pool
(dbt's two threads are two cursors of one DuckDB connection in one process, which
DuckDB allows) and the pipeline's DuckDB memory cap (profiles.yml reads
``CSP_DUCKDB_MEMORY_LIMIT``, which ``warehouse_env`` sets).

The pipeline's build leaves out dbt's unit tests (``--exclude-resource-type
unit_test``): their inputs are fixed rows, so they test the SQL, not the night's data,
and dbt's docs advise running them in development and CI only. ``make test`` runs them
(tests/test_dbt_unit.py, in the test session's one ``dbt build``). dbt's own log file
(``dbt.log`` in the step's target folder) is written at ``info`` unless
``DBT_LOG_LEVEL_FILE`` says otherwise (``debug`` adds every SQL statement, and costs
about a tenth of a build).

What a build was made from is recorded only once it is published (the ``serving``
asset, orchestration/publish.py), so a failed publish is retried by the next nightly.
dagster-dbt writes each invocation's artefacts to ``target/<step>-<run>-<id>/``;
orchestration/recovery.py keeps the newest few.

(No ``from __future__ import annotations`` here: Dagster inspects the annotations.)
"""

import contextlib
import errno
import importlib.metadata
import json
import logging
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
    get_asset_key_for_model,
)
from packaging import version

from ingest.config import Settings
from ingest.warehouse_file import DiskFull, is_no_space, memory_limit, no_space_message
from orchestration.dbt_output import with_metadata
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
    """dbt folder -> asset group; descriptions without the raw SQL (the code reference
    points at the file) and written for Dagster's markdown; every dbt test that becomes
    a check has a description (its own, else the rule in words).  Everything else (keys
    from the source meta and the models' schemas) as dagster-dbt does by default."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_group_name(dbt_resource_props) or super().get_group_name(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return markdown_text(
            dbt_resource_props.get("description")
            or f"dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}"
        )

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project):
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        test = manifest["nodes"].get(unique_id, {})
        return spec._replace(description=markdown_text(check_description(test)))


def markdown_text(text: str) -> str:
    """Plain text for a Dagster description (rendered as markdown): angle brackets
    escaped, so ``reports/<quarter>/`` is not swallowed as an HTML tag."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def check_description(test: Mapping[str, Any]) -> str:
    """A dbt test's description, else its rule in words (generic tests) or its file."""
    if test.get("description"):
        return test["description"]
    meta = test.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name") or test.get("column_name")
    values = ", ".join(map(str, kwargs.get("values") or []))
    rules = {
        "not_null": f"`{column}` is never empty",
        "unique": f"`{column}` is unique",
        "accepted_values": f"`{column}` is one of: {values}",
        "relationships": f"every `{column}` exists in {kwargs.get('to')}.{kwargs.get('field')}",
        "expression_is_true": f"every row satisfies `{kwargs.get('expression')}`",
        "unique_combination_of_columns": "one row per "
        + ", ".join(kwargs.get("combination_of_columns") or []),
        "unique_combination": "one row per " + ", ".join(kwargs.get("columns") or []),
    }
    if meta.get("name") in rules:
        return rules[meta["name"]]
    if meta.get("name"):
        return f"dbt test {meta['name']} on `{column or test.get('name')}`"
    return f"singular dbt test {test.get('original_file_path', test.get('name'))} returns no rows"


def dbt_vars(settings: Settings) -> dict[str, str]:
    """dbt vars of one run: the ingest's effective as-of date and area."""
    return {"as_of": settings.effective_as_of.isoformat(), "area": settings.area_code}


def dbt_build_args(settings: Settings) -> list[str]:
    """``dbt build`` of the run's selection with the run's vars, without the unit tests."""
    args = ["build", "--vars", json.dumps(dbt_vars(settings), sort_keys=True)]
    return [*args, "--exclude-resource-type", "unit_test"]


@contextlib.contextmanager
def warehouse_env(settings: Settings) -> Iterator[None]:
    """CSP_WAREHOUSE and CSP_DUCKDB_MEMORY_LIMIT for the dbt subprocess (profiles.yml
    reads them) while it starts, and its log file's level (info unless set)."""
    values = {
        "CSP_WAREHOUSE": str(Path(settings.warehouse).resolve()),
        "CSP_DUCKDB_MEMORY_LIMIT": memory_limit(),
        "DBT_LOG_LEVEL_FILE": os.environ.get("DBT_LOG_LEVEL_FILE") or "info",
    }
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dbt_assets(
    manifest=csp_dbt_project.manifest_path,
    project=csp_dbt_project,
    # dbt data tests on models and seeds become asset checks (explicitly, not by default)
    dagster_dbt_translator=CspDbtTranslator(
        DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=True)
    ),
    pool=WAREHOUSE_POOL,
)
def csp_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseSettings
):
    """`dbt build` of the selected models and seeds, with their tests."""
    settings = warehouse.settings()
    with warehouse_env(settings):
        invocation = dbt.cli(dbt_build_args(settings), context=context, raise_on_error=False)
    yield from with_metadata(context, invocation, settings)
    if not invocation.is_successful():
        _raise_dbt_failure(invocation, settings)
    keep_partial_parse(Path(invocation.target_path))


PARTIAL_PARSE = "partial_parse.msgpack"


def keep_partial_parse(invocation_target: Path) -> None:
    """Put this build's parse state where dagster-dbt looks for it before the next
    invocation (``<target root>/partial_parse.msgpack``, which it copies into each new
    target folder). dbt writes it into the invocation's own folder only, so without this
    every run parsed the whole project again (about 5 s of CPU); dbt itself re-parses
    whatever changed, and everything when the vars or the profile (the warehouse path,
    the memory cap) differ. Replaced atomically: concurrent runs read a whole file."""
    source = invocation_target / PARTIAL_PARSE
    if not source.is_file():
        return
    root = dbt_target_root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        temporary = root / f".{PARTIAL_PARSE}.{os.getpid()}"
        shutil.copyfile(source, temporary)
        os.replace(temporary, root / PARTIAL_PARSE)
    except OSError as error:  # a cache: a full disk or a read-only folder costs speed only
        logging.getLogger("csp.dbt").warning(
            "dbt parse state not kept (%s): the next run parses again", error
        )


def _raise_dbt_failure(invocation, settings: Settings) -> None:
    """A dbt build that failed for lack of space says so, naming the warehouse."""
    error = invocation.get_error()
    text = str(error or "")
    if is_no_space(Exception(text)):
        raise DiskFull(errno.ENOSPC, no_space_message(settings.warehouse, text))
    if error is not None:
        raise error


AS_OF_MACRO = "as_of_date"
AS_OF_VAR = re.compile(r"""var\(\s*['"]as_of['"]""")


def as_of_models(manifest: Mapping[str, Any]) -> list[str]:
    """dbt models that read the as-of date (the ``as_of_date()`` macro or ``var('as_of')``):
    when only the date moves, these and what is downstream of them are rebuilt."""
    names = []
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        macros = (node.get("depends_on") or {}).get("macros") or []
        code = node.get("raw_code") or ""
        if any(m.endswith(f".{AS_OF_MACRO}") for m in macros) or AS_OF_VAR.search(code):
            names.append(node["name"])
    return sorted(names)


def as_of_asset_keys() -> list[dg.AssetKey]:
    manifest = json.loads(csp_dbt_project.manifest_path.read_text(encoding="utf-8"))
    return [get_asset_key_for_model([csp_dbt_assets], name) for name in as_of_models(manifest)]


def dbt_target_root() -> Path:
    """Where dagster-dbt writes each invocation's target folder (``DBT_TARGET_PATH``,
    else ``target/`` in the project directory)."""
    configured = Path(os.environ.get("DBT_TARGET_PATH", "target"))
    return configured if configured.is_absolute() else PROJECT_ROOT / configured


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv need not be on PATH)."""
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class CspDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two things it does before every invocation
    that this project has no use for (1.5 s and 1.5-2 s of a sample build's fixed cost,
    py-spy, docs/performance.md):

    - ``dbt --version`` in a subprocess (a whole dbt start-up) to learn whether the dbt
      executable is dbt Core or the Fusion engine. The executable is the dbt beside this
      interpreter (``dbt_executable``), so its version is the installed ``dbt-core``
      package's; any other executable is still asked.
    - A dbt Core adapter in this process (dbt's imports, the profile, every macro), which
      dagster-dbt uses only for ``fetch_row_counts`` and ``fetch_column_metadata``. This
      project uses neither: the dbt child holds the DuckDB file while it builds, and the
      marts' row counts are read after it (orchestration/dbt_output.py)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return DbtCliResource._cli_version.func(self)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


dbt_resource = CspDbtCliResource(project_dir=csp_dbt_project, dbt_executable=dbt_executable())

__all__ = [
    "CspDbtCliResource",
    "CspDbtTranslator",
    "csp_dbt_assets",
    "csp_dbt_project",
    "dbt_resource",
]
