"""Checks named for people (issue 17): every Dagster asset check, the dbt tests among
them, has a short name that says its rule and a description.

dagster-dbt names a check after its dbt test (the check key is the test's ``name``,
read again when a result arrives), so the readable name is the test's ``name:`` in the
model YAML; a generic test without one would show dbt's generated name
(``<macro>_<model>_<arguments…>``, truncated with a hash past 63 characters).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import dagster as dg

from orchestration.dbt_assets import csp_dbt_project
from orchestration.definitions import defs

HASH_TAIL = re.compile(r"_[0-9a-f]{6,}$")
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME = 60


def _check_specs() -> list[dg.AssetCheckSpec]:
    graph = defs.resolve_asset_graph()
    return [graph.get_check_spec(key) for key in graph.asset_check_keys]


def _dbt_tests() -> list[dict]:
    manifest = json.loads(csp_dbt_project.manifest_path.read_text())
    return [node for node in manifest["nodes"].values() if node["resource_type"] == "test"]


def test_every_check_has_a_short_readable_name_and_a_description():
    specs = _check_specs()
    assert len(specs) > 150  # the dbt tests are among them
    bad = [
        s.key.to_user_string()
        for s in specs
        if len(s.name) > MAX_NAME or HASH_TAIL.search(s.name) or not SNAKE_CASE.match(s.name)
    ]
    assert bad == []
    undescribed = [s.key.to_user_string() for s in specs if not (s.description or "").strip()]
    assert undescribed == []


def test_every_generic_dbt_test_is_named_and_described_in_its_yaml():
    """Not dbt's generated ``<macro>_<model>_…`` name, and a description of its own (not
    the translator's fallback), written where the test is."""
    generic = [t for t in _dbt_tests() if t.get("test_metadata")]
    assert len(generic) > 200
    default_named = [
        t["name"]
        for t in generic
        if t["name"].startswith(f"{t['test_metadata']['name']}_")
        or t["name"].startswith(f"source_{t['test_metadata']['name']}_")
    ]
    assert default_named == []
    assert [t["name"] for t in _dbt_tests() if not t.get("description")] == []
    repeated = [name for name, n in Counter(t["name"] for t in _dbt_tests()).items() if n > 1]
    assert repeated == []


def test_mart_checks_read_as_their_rule():
    specs = {(s.asset_key.to_user_string(), s.name): s for s in _check_specs()}
    grain = specs[("marts/fct_measure_quarter", "one_figure_per_area_series_and_quarter")]
    assert grain.description == (
        "No two rows share the same area_code, measure_id, series, fiscal_year, quarter."
    )
    late = specs[("marts/fct_missing_returns", "status_agrees_with_what_arrived")]
    assert late.description.startswith("A late figure was received")
    assert ("marts/fct_target_status", "green_exactly_when_the_target_is_met") in specs
